# Keeps a generated block of a Markdown doc equal to what generates it (cmake -P):
#   -DDOC=<doc.md> -DKEY=<key> -DMODE=check|update, and one of
#   -DPROGRAM=<exe> -DARGS=<args>   the block is the program's standard output
#   -DSOURCE_FILE=<file>            the block is the file, verbatim, in a ```cpp fence
# The block is everything between the lines "<!-- begin: KEY -->" and
# "<!-- end: KEY -->", so the doc itself says which command or file it comes from.
# MODE=check fails when they differ (and writes the expected block to EXPECTED_OUT, a file
# in the build tree, for diffing); MODE=update rewrites the block.
if(DEFINED PROGRAM)
    separate_arguments(args UNIX_COMMAND "${ARGS}")
    execute_process(COMMAND ${PROGRAM} ${args} OUTPUT_VARIABLE expected RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${PROGRAM} ${ARGS} exited with ${rc}")
    endif()
else()
    file(READ ${SOURCE_FILE} content)
    set(expected "```cpp\n${content}```\n")
endif()

file(READ ${DOC} doc)
set(begin_marker "<!-- begin: ${KEY} -->\n")
set(end_marker "<!-- end: ${KEY} -->")
string(FIND "${doc}" "${begin_marker}" begin_at)
string(FIND "${doc}" "${end_marker}" end_at)
if(begin_at EQUAL -1 OR end_at EQUAL -1)
    message(FATAL_ERROR "${DOC}: no block \"${begin_marker}\" ... \"${end_marker}\"")
endif()
string(LENGTH "${begin_marker}" begin_len)
math(EXPR start "${begin_at} + ${begin_len}")
math(EXPR len "${end_at} - ${start}")
string(SUBSTRING "${doc}" ${start} ${len} actual)

if(MODE STREQUAL "update")
    if(NOT actual STREQUAL expected)
        string(SUBSTRING "${doc}" 0 ${start} head)
        string(SUBSTRING "${doc}" ${end_at} -1 tail)
        file(WRITE ${DOC} "${head}${expected}${tail}")
        message(STATUS "updated ${DOC} (${KEY})")
    endif()
elseif(NOT actual STREQUAL expected)
    file(WRITE ${EXPECTED_OUT} "${expected}")
    message(FATAL_ERROR "${DOC}: the block \"${KEY}\" is out of date (expected text in "
                        "${EXPECTED_OUT}); refresh it with: cmake --build <build> --target docs_update")
endif()
