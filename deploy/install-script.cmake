# Run by `cmake --install` (install(CODE) in deploy/CMakeLists.txt), once per device script and
# systemd unit: writes a copy of SRC that names the install-time folders, and installs it as
# DEST_DIR/NAME (DESTDIR honoured). Only install time knows the prefix (--prefix).
# Inputs: KIND (script or unit), SRC, NAME, DEST_DIR and WORK (a build folder), and
#  - a script: COMMON, the installed path of the shared code, written on its `common=''` line.
#    The scripts run as root: they source exactly this path, never a file found beside them.
#  - a unit: SBIN and DOC, the installed sbin and documentation folders, which replace
#    /usr/sbin and /usr/share/doc/sshcert (ExecStart=, Documentation=).
# Paths are absolute and without DESTDIR: they are where the files are when they run.
if(KIND STREQUAL "script")
  string(REGEX REPLACE "/+" "/" COMMON "${COMMON}")
  if(COMMON MATCHES "['\n\\\\]")
    message(FATAL_ERROR "the install path ${COMMON} cannot go into a shell single-quoted string")
  endif()
  file(READ "${SRC}" text)
  string(REPLACE "\ncommon=''\n" "\ncommon='${COMMON}'\n" out "${text}")
  if(out STREQUAL text)
    message(FATAL_ERROR "${SRC} has no line common='' for the installed path of the shared code")
  endif()
  set(type PROGRAM)
elseif(KIND STREQUAL "unit")
  foreach(dir SBIN DOC)
    string(REGEX REPLACE "/+" "/" ${dir} "${${dir}}")
    string(REGEX REPLACE "(.)/$" "\\1" ${dir} "${${dir}}")
    # systemd splits ExecStart= at blanks and expands % and $ in it.
    if(NOT ${dir} MATCHES "^/[^ \t\n\"'\\\\%$;]*$")
      message(FATAL_ERROR "the install path ${${dir}} cannot go into a systemd unit as it is "
        "(not absolute, or has blanks, quotes, %, $ or ;)")
    endif()
  endforeach()
  file(READ "${SRC}" text)
  string(REPLACE "/usr/sbin/" "${SBIN}/" out "${text}")
  string(REPLACE "/usr/share/doc/sshcert/" "${DOC}/" out "${out}")
  set(type FILE)
else()
  message(FATAL_ERROR "install-script.cmake: KIND must be script or unit, not '${KIND}'")
endif()
file(WRITE "${WORK}/${NAME}" "${out}")
file(INSTALL DESTINATION "${DEST_DIR}" TYPE ${type} FILES "${WORK}/${NAME}")
