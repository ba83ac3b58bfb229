# Turns a text file into a C header holding it as a NUL-terminated char array.
# cmake -DIN=file.sql -DOUT=file.h -DNAME=symbol [-DAPPEND=1] -P embed.cmake
# With APPEND the array is added to OUT instead of replacing it (several files, one header).
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
if(APPEND)
  file(APPEND ${OUT} "/* generated from ${IN} */\nstatic const char ${NAME}[] = {${arr}0x00};\n")
else()
  file(WRITE ${OUT} "/* generated from ${IN} */\nstatic const char ${NAME}[] = {${arr}0x00};\n")
endif()
