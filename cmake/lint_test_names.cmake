# Fails when a Catch2 TEST_CASE name under ROOT contains '[' or ';' (see
# tests/CMakeLists.txt): CTest reads ';' as a list separator and splits the name.
file(GLOB_RECURSE sources ${ROOT}/*.cpp)
set(bad "")
foreach(src IN LISTS sources)
    file(STRINGS ${src} lines REGEX "TEST_CASE\\(\"[^\"]*[[;]")
    foreach(line IN LISTS lines)
        string(APPEND bad "\n  ${src}: ${line}")
    endforeach()
endforeach()
if(bad)
    message(FATAL_ERROR "TEST_CASE names must not contain '[' (Catch2 reads a tag) or ';' "
                        "(CTest splits the name):${bad}")
endif()
