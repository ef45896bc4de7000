# Install rules and the CMake package config for find_package(passthru CONFIG).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS passthru passthru_linux EXPORT passthruTargets)
install(DIRECTORY include/passthru DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT passthruTargets NAMESPACE passthru::
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/passthru)
configure_package_config_file(cmake/passthruConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/passthruConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/passthru)
# Header-only: any architecture may use it.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/passthruConfigVersion.cmake
    COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/passthruConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/passthruConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/passthru)
