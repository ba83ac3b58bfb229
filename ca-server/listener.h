/* sshcert-server's own accept loop: connections spread evenly over libmicrohttpd's threads. */
#ifndef SSHCERT_LISTENER_H
#define SSHCERT_LISTENER_H

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

struct listener;

/* A client's address as text: IPv6 at its longest, '%' and an interface name (link-local). */
#define LISTENER_ADDR_LEN (INET6_ADDRSTRLEN + IF_NAMESIZE)

/* Binds and listens on sa (IPv6 addresses only, never also IPv4). Returns NULL with errno
 * set when the address cannot be bound. */
struct listener *listener_open(const struct sockaddr *sa, socklen_t salen);

/* Starts the thread that accepts connections and hands each to daemon (started with
 * MHD_USE_NO_LISTEN_SOCKET and MHD_USE_ITC). Returns 0, or -1 with errno set. */
int listener_start(struct listener *l, struct MHD_Daemon *daemon);

/* Stops accepting (new connections are refused), joins the thread, closes the socket and
 * frees l. Connections already handed over are not touched. NULL is fine. */
void listener_close(struct listener *l);

#endif
