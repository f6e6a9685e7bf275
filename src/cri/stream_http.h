/* The HTTP/1.1 request that opens a CRI stream (kubelet's and crictl's
 * remotecommand and portforward clients): its request line and the headers
 * that ask for the upgrade to SPDY/3.1 and name the subprotocols. Pure:
 * bytes in, a struct out (the stream server, the unit tests and the fuzz
 * target use it alike). */
#ifndef PEAPOD_CRI_STREAM_HTTP_H
#define PEAPOD_CRI_STREAM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* A request head larger than this is refused. */
#define PP_HTTP_MAX_HEAD 8192
#define PP_HTTP_MAX_PROTOCOLS 8

struct pp_http_request {
	char method[16];
	char *path;	  /* the target, as sent ("/exec/TOKEN") */
	char *upgrade;	  /* the Upgrade header, NULL when none */
	char *connection; /* the Connection header, NULL when none */
	/* X-Stream-Protocol-Version: every value, in the client's order of
	 * preference (header lines and comma-separated values alike) */
	char *protocols[PP_HTTP_MAX_PROTOCOLS];
	size_t n_protocols;
};

/* Parses the head at the front of buf[0..len): > 0 its length (the bytes
 * after it are the peer's first frames), 0 when it is not whole yet, -1 and
 * err when it is not a request we serve (too long, a malformed line, not
 * HTTP/1.1). *req is pp_http_request_free'd by the caller either way. */
int pp_http_request_parse(const char *buf, size_t len, struct pp_http_request *req,
			  struct pp_error **err);
void pp_http_request_free(struct pp_http_request *req);

/* Whether the request asks to upgrade to SPDY/3.1 (Connection holds the
 * token "upgrade", Upgrade is "SPDY/3.1"; case-insensitive). */
bool pp_http_wants_spdy(const struct pp_http_request *req);

/* The first protocol the client offers that is in ours (NULL-terminated),
 * or NULL. */
const char *pp_http_negotiate(const struct pp_http_request *req, const char *const *ours);

#endif
