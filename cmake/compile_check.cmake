# Runs one compiler on one source and checks the outcome. Used by CTest (cmake -P):
#   -DCOMPILER=... -DSOURCE=... -DFLAGS="a;b" -DEXPECT=fail|pass
# EXPECT=fail: the compile must fail AND its diagnostics must match every line of the
# source that reads `// expect: <regex>` -- so a test cannot pass by failing for the
# wrong reason.
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
execute_process(
    COMMAND ${COMPILER} ${flags} -fsyntax-only ${SOURCE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(diag "${out}${err}")

if(EXPECT STREQUAL "pass")
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "expected ${SOURCE} to compile, but it failed:\n${diag}")
    endif()
    return()
endif()

if(rc EQUAL 0)
    message(FATAL_ERROR "expected ${SOURCE} to fail to compile, but it compiled")
endif()
file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
if(NOT expectations)
    message(FATAL_ERROR "${SOURCE} has no `// expect: <regex>` line")
endif()
# Diagnostics quote source lines; fold whitespace so a regex need not match line breaks.
string(REGEX REPLACE "[ \t\r\n]+" " " flat "${diag}")
# GCC quotes with typographic quotes; accept them as plain ones.
string(REPLACE "‘" "'" flat "${flat}")
string(REPLACE "’" "'" flat "${flat}")
foreach(line IN LISTS expectations)
    string(REGEX REPLACE "^// expect: " "" regex "${line}")
    if(NOT flat MATCHES "${regex}")
        message(FATAL_ERROR "${SOURCE} failed to compile, but not with the expected diagnostic\n"
                            "  expected (regex): ${regex}\n  got:\n${diag}")
    endif()
endforeach()
