# Run by `cmake --install` (install(CODE) in deploy/CMakeLists.txt), once per device script:
# writes SRC with the installed path of the shared code on its `common=''` line, and installs
# it as DEST_DIR/NAME (DESTDIR honoured). Only install time knows the prefix (--prefix), and
# the scripts run as root: they source exactly this path, never a file found beside them.
# Inputs: SRC, NAME, DEST_DIR and COMMON (absolute, without DESTDIR), WORK (a build folder).
if(COMMON MATCHES "['\n\\\\]")
  message(FATAL_ERROR "the install path ${COMMON} cannot go into a shell single-quoted string")
endif()
file(READ "${SRC}" text)
string(REPLACE "\ncommon=''\n" "\ncommon='${COMMON}'\n" out "${text}")
if(out STREQUAL text)
  message(FATAL_ERROR "${SRC} has no line common='' for the installed path of the shared code")
endif()
file(WRITE "${WORK}/${NAME}" "${out}")
file(INSTALL DESTINATION "${DEST_DIR}" TYPE PROGRAM FILES "${WORK}/${NAME}")
