# Install rules beside each folder's own (tools, libraries, dashboards): the
# systemd units with the install prefix filled in, the default options in
# /etc/default, man pages made from --help with help2man, and
# xskit_install_targets, which builds exactly what is installed (the Debian
# package builds only that, debian/rules).
include(GNUInstallDirs)

# Relative paths follow the prefix (cmake --install --prefix); Debian 12
# passes /lib/systemd/system.
set(XSKIT_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "where the systemd units go (relative: under the prefix)")

# The tools of this tree that are installed (xsk-triage once it exists).
set(XSKIT_INSTALLED_TOOLS)
foreach(tool xsk-loader xsk-exporter xsk-bench xsk-rx xsk-triage)
  if(TARGET ${tool})
    list(APPEND XSKIT_INSTALLED_TOOLS ${tool})
  endif()
endforeach()
add_custom_target(xskit_install_targets DEPENDS ${XSKIT_INSTALLED_TOOLS}
                  xskit_exporter_libcrypto xskit_exporter_libssl xskit_xsk xskit_core)

# The units name the installed binaries (@XSKIT_BINDIR@).
set(XSKIT_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})
foreach(unit exporter/xsk-exporter.service loader/xsk-loader@.service
             loader/xsk-loader-serve@.service)
  get_filename_component(name ${unit} NAME)
  configure_file(${CMAKE_SOURCE_DIR}/${unit} ${CMAKE_BINARY_DIR}/systemd/${name} @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${name} DESTINATION ${XSKIT_SYSTEMD_UNITDIR})
endforeach()
# Their options (EnvironmentFile=), conffiles of the package.
install(FILES ${CMAKE_SOURCE_DIR}/dist/default/xsk-exporter ${CMAKE_SOURCE_DIR}/dist/default/xsk-loader
        DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/default)
install(FILES ${CMAKE_SOURCE_DIR}/exporter/web-config.example.yml DESTINATION share/xskit)

# Man pages from --help (help2man): section 8 for the loader and the
# exporter (run by root or systemd), 1 for the rest; where help2man exists.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(name_xsk-loader "attach xskit's AF_XDP steering and probes to an interface")
  set(name_xsk-exporter "Prometheus exporter of xskit's pinned counters")
  set(name_xsk-bench "AF_XDP packet benchmark on xskit's socket helper")
  set(name_xsk-rx "example AF_XDP receiver on xskit's socket helper")
  set(name_xsk-triage "verdict for a kernel rollout from Prometheus")
  set(pages)
  foreach(tool ${XSKIT_INSTALLED_TOOLS})
    set(section 1)
    if(tool STREQUAL "xsk-loader" OR tool STREQUAL "xsk-exporter")
      set(section 8)
    endif()
    set(page ${CMAKE_BINARY_DIR}/man/${tool}.${section})
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=${section}
              --version-string=${XSKIT_VERSION} "--name=${name_${tool}}"
              --include=${CMAKE_SOURCE_DIR}/dist/man/see-also.h2m
              --output=${page} $<TARGET_FILE:${tool}>
      DEPENDS ${tool} ${CMAKE_SOURCE_DIR}/dist/man/see-also.h2m
      COMMENT "man page ${tool}(${section}) from --help"
      VERBATIM)
    list(APPEND pages ${page})
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(xskit_man ALL DEPENDS ${pages})
  add_dependencies(xskit_install_targets xskit_man)
endif()
