/*
 * HTTP(S) transport on libcurl: server certificate verification (the system store, or one PEM
 * file), connect and total timeouts, a capped response, no redirects, and the check that keeps
 * credentials, and answers nothing else vouches for, off plain http:// to anything but a
 * loopback address.
 */
#ifndef SSHCERT_CLIENT_HTTP_H
#define SSHCERT_CLIENT_HTTP_H

#include <stddef.h>

/* Largest response body accepted; the largest real one (a KRL) is not fetched by the client. */
#define HTTP_MAX_RESPONSE (64u * 1024u)
/* Longest server URL accepted. */
#define HTTP_MAX_URL 2048u
/* Seconds to connect (TCP and TLS), and for a whole exchange. A login costs the server one
 * argon2id hash (about half a second at its dearest setting), far below the total. */
#define HTTP_CONNECT_TIMEOUT_S 10L
#define HTTP_TOTAL_TIMEOUT_S 30L

struct http_client {
    char *base;          /* scheme://host[:port][/prefix] without a trailing slash */
    const char *ca_cert; /* PEM file of trusted CAs or NULL for the system store; not owned */
    int https;           /* 1 for https:// */
    int loopback;        /* 1 when the host is 127.0.0.0/8, ::1 or localhost */
};

struct http_response {
    long status;      /* HTTP status */
    char *body;       /* NUL-terminated, HTTP_MAX_RESPONSE + 1 bytes malloc'd; wiped when cleared */
    size_t len;
    long retry_after; /* seconds from a Retry-After header, -1 without one */
};

/* Checks url (http or https, a host, no credentials, query or fragment, at most HTTP_MAX_URL)
 * and fills c. 0, or an exit code after printing the reason. Free with http_client_free. */
int http_client_init(struct http_client *c, const char *url, const char *ca_cert);
void http_client_free(struct http_client *c);
/* 1 when the channel itself can be trusted, with credentials going out and with answers
 * coming back: https (the server's certificate is verified), or plain http to a loopback
 * address. 0 for plain http to any other host. */
int http_channel_trusted(const struct http_client *c);

/* GET base+path, or POST a JSON body to it. 0 when any HTTP response arrived (resp filled, the
 * status may be an error), else SSHCERT_EXIT_ERROR after printing why (connect, TLS, timeout,
 * a response over HTTP_MAX_RESPONSE). Clear resp with http_response_clear. */
int http_get(const struct http_client *c, const char *path, struct http_response *resp);
int http_post_json(const struct http_client *c, const char *path, const char *body, size_t len,
    struct http_response *resp);
void http_response_clear(struct http_response *resp);

#endif
