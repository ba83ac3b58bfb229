/* lib/line's inside, shared by line.c and line_tty.c (and its unit test): not part of the
 * library's interface, which is line.h. */
#ifndef SSHCERT_LINE_INT_H
#define SSHCERT_LINE_INT_H

#include <stddef.h>

/*
 * sshcert_line_read (fd, max, *out, the codes and the wiping as there), with wait_input(fd)
 * called before each one-byte read(): 0 to read the byte, or -1 with errno set to stop before
 * it (SSHCERT_ERR_SYSTEM, errno kept). With wait_input NULL it is sshcert_line_read. The
 * terminal prompt waits there for a key in ppoll(), so that no signal can come between its
 * last look at what it caught and a read() that blocks until the next key.
 */
int sshcert_line_read_waiting(int fd, size_t max, char **out, int (*wait_input)(int fd));

#endif
