/* libcurl glue. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"
#include "out.h"
#include "secmem.h"
#include "text.h"

#define USER_AGENT "sshcert/" SSHCERT_VERSION

struct sink {
    char *p;
    size_t len;
    int too_large;
    long retry_after;
};

static int
is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char h[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    /* curl gives IPv6 hosts in brackets. */
    if (n >= 2 && n < sizeof(h) && host[0] == '[' && host[n - 1] == ']') {
        memcpy(h, host + 1, n - 2);
        h[n - 2] = '\0';
        return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int
http_client_init(struct http_client *c, const char *url, const char *ca_cert)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *part = NULL;
    size_t n;
    int r = SSHCERT_EXIT_ERROR;

    memset(c, 0, sizeof(*c));
    c->ca_cert = ca_cert;
    if (strlen(url) > HTTP_MAX_URL) {
        r = out_fail(SSHCERT_EXIT_USAGE, "server URL longer than %u bytes", HTTP_MAX_URL);
        goto out;
    }
    if ((u = curl_url()) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    /* No default scheme: "ca.example.com" must not quietly become http. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        r = out_fail(SSHCERT_EXIT_USAGE,
            "server \"%.200s\" is not a URL like https://ca.example.com", url);
        goto out;
    }
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
        r = out_fail(SSHCERT_EXIT_USAGE, "server URL must start with https:// (got %.16s://)",
            scheme);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        r = out_fail(SSHCERT_EXIT_USAGE,
            "server URL must not hold a user name, query or fragment");
        goto out;
    }
    c->https = strcmp(scheme, "https") == 0;
    c->loopback = is_loopback(host);
    if ((c->base = strdup(url)) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    r = 0;
out:
    curl_free(part);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    if (r != 0)
        http_client_free(c);
    return r;
}

void
http_client_free(struct http_client *c)
{
    free(c->base);
    c->base = NULL;
}

int
http_channel_trusted(const struct http_client *c)
{
    return c->https || c->loopback;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct sink *s = ctx;
    size_t n = size * nmemb; /* curl promises size == 1 */

    if (n > HTTP_MAX_RESPONSE - s->len) {
        s->too_large = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    static const char name[] = "retry-after:";
    struct sink *s = ctx;
    size_t n = size * nmemb, i = sizeof(name) - 1;
    long v = 0;

    if (n > i && strncasecmp(data, name, i) == 0) {
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        /* Only the delta-seconds form; an HTTP date is left as "unknown". */
        for (; i < n && isdigit((unsigned char)data[i]) && v < 100000000L; i++)
            v = v * 10 + (data[i] - '0');
        if (i < n && (data[i] == '\r' || data[i] == '\n'))
            s->retry_after = v;
    }
    return n;
}

static const char *
explain(CURLcode cc)
{
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return "TLS: the server's certificate is not trusted "
               "(use --ca-cert PEM or ca_cert in the config)";
    case CURLE_SSL_CONNECT_ERROR:
        return "TLS handshake failed";
    case CURLE_OPERATION_TIMEDOUT:
        return "timed out";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "cannot resolve the host name";
    case CURLE_COULDNT_CONNECT:
        return "cannot connect";
    default:
        return curl_easy_strerror(cc);
    }
}

static int
exchange(const struct http_client *c, const char *path, const char *body, size_t len,
    struct http_response *resp)
{
    char errbuf[CURL_ERROR_SIZE], url[HTTP_MAX_URL + 64], detail[OUT_MAX_SERVER_TEXT + 1];
    struct curl_slist *hdrs = NULL;
    struct sink s = {NULL, 0, 0, -1};
    CURL *h = NULL;
    CURLcode cc;
    int r = SSHCERT_EXIT_ERROR;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    errbuf[0] = '\0';
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    /* One buffer of the cap's size: no growth, no copies of the body left behind. */
    if ((s.p = calloc(1, HTTP_MAX_RESPONSE + 1)) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    if ((h = curl_easy_init()) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "cannot start libcurl");
        goto out;
    }
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (body != NULL)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (hdrs == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TOTAL_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_RESPONSE) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &s) != CURLE_OK) {
        r = out_fail(SSHCERT_EXIT_ERROR, "libcurl refused an option (too old?)");
        goto out;
    }
    /* Plain http goes to loopback, or (sshcert ca --fingerprint) to a host whose answer the
     * fingerprint checks: never through a proxy. */
    if (!c->https && curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK) {
        r = out_fail(SSHCERT_EXIT_ERROR, "libcurl refused an option");
        goto out;
    }
    /* --ca-cert replaces the system's trust store: Debian's libcurl also has a CA folder
     * (/etc/ssl/certs) built in, which a CA file alone leaves trusted. */
    if (c->ca_cert != NULL && (curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_cert) != CURLE_OK ||
                                  curl_easy_setopt(h, CURLOPT_CAPATH, NULL) != CURLE_OK)) {
        r = out_fail(SSHCERT_EXIT_ERROR, "libcurl refused --ca-cert");
        goto out;
    }
    if (body != NULL &&
        (curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK)) {
        r = out_fail(SSHCERT_EXIT_ERROR, "libcurl refused the request body");
        goto out;
    }
    cc = curl_easy_perform(h);
    if (s.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        r = out_fail(SSHCERT_EXIT_ERROR, "%s: response larger than %u bytes", c->base,
            HTTP_MAX_RESPONSE);
        goto out;
    }
    if (cc != CURLE_OK) {
        sshcert_text_sanitize(detail, sizeof(detail), errbuf, SSHCERT_TEXT_ASCII);
        r = out_fail(SSHCERT_EXIT_ERROR, "%s: %s%s%s%s", c->base, explain(cc),
            detail[0] != '\0' ? " (" : "", detail, detail[0] != '\0' ? ")" : "");
        goto out;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK) {
        r = out_fail(SSHCERT_EXIT_ERROR, "%s: no HTTP status", c->base);
        goto out;
    }
    resp->body = s.p;
    resp->len = s.len;
    resp->retry_after = s.retry_after;
    s.p = NULL;
    r = 0;
out:
    if (s.p != NULL)
        sshcert_secmem_free_len(s.p, HTTP_MAX_RESPONSE + 1);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return r;
}

int
http_get(const struct http_client *c, const char *path, struct http_response *resp)
{
    return exchange(c, path, NULL, 0, resp);
}

int
http_post_json(const struct http_client *c, const char *path, const char *body, size_t len,
    struct http_response *resp)
{
    return exchange(c, path, body, len, resp);
}

void
http_response_clear(struct http_response *resp)
{
    if (resp->body != NULL)
        sshcert_secmem_free_len(resp->body, HTTP_MAX_RESPONSE + 1);
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
}
