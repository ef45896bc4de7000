# Fails when a public header under INCLUDE/passthru (detail/ and the Linux backend's linux/
# excepted) is missing from the
# umbrella header <passthru/passthru.hpp>, so the umbrella cannot fall behind the library.
file(GLOB_RECURSE headers RELATIVE ${INCLUDE} ${INCLUDE}/passthru/*.hpp)
file(READ ${INCLUDE}/passthru/passthru.hpp umbrella)
set(missing "")
foreach(h IN LISTS headers)
    if(h MATCHES "/detail/" OR h MATCHES "^passthru/linux/" OR h STREQUAL "passthru/passthru.hpp")
        continue()
    endif()
    string(FIND "${umbrella}" "#include <${h}>" at)
    if(at EQUAL -1)
        string(APPEND missing "\n  ${h}")
    endif()
endforeach()
if(missing)
    message(FATAL_ERROR "<passthru/passthru.hpp> does not include:${missing}")
endif()
