/* TLS client connections for HTTPS probes and hooks, as kubelet makes them:
 * the server's certificate is not verified. OpenSSL (libssl3) is loaded
 * when the first HTTPS connection is made and only then, so no CLI command
 * and no supervisor without an HTTPS probe maps it. Works on blocking and
 * non-blocking sockets alike: on a non-blocking one a call may answer
 * PP_TLS_WANT_READ or PP_TLS_WANT_WRITE, to be called again once the
 * socket is readable or writable. */
#ifndef PEAPOD_TLS_H
#define PEAPOD_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct pp_tls;

enum { PP_TLS_ERROR = -1, PP_TLS_WANT_READ = -2, PP_TLS_WANT_WRITE = -3 };

/* A client on connected socket fd (not owned); server_name for SNI when
 * it is a name, not an address. */
int pp_tls_new(int fd, const char *server_name, struct pp_tls **out, struct pp_error **err);
void pp_tls_free(struct pp_tls *t);

/* 0 once the handshake is done; or PP_TLS_*. */
int pp_tls_handshake(struct pp_tls *t);
/* Bytes written (> 0) or read (>= 0, 0 the end); or PP_TLS_*. */
ssize_t pp_tls_write(struct pp_tls *t, const void *buf, size_t len);
ssize_t pp_tls_read(struct pp_tls *t, void *buf, size_t len);
/* After PP_TLS_ERROR: what went wrong, in one line. */
const char *pp_tls_error(const struct pp_tls *t);

#endif
