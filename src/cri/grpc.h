/* gRPC over HTTP/2 (libnghttp2), one connection at a time, without a socket:
 * bytes in (pp_grpc_conn_recv), bytes out (pp_grpc_conn_output), so that the
 * server's event loop (cri_server.c) and the fuzz target drive it alike.
 * Unary calls only: a request is one length-prefixed message (1 byte
 * compressed flag, 4 bytes big-endian length) on a POST whose content-type
 * is application/grpc[+proto]; the answer is HEADERS, one message, then
 * trailers with grpc-status and grpc-message (percent-encoded), or
 * trailers-only for an error. A handler runs to completion on the caller's
 * thread: no threads, so the process may fork at any time.
 * Knows nothing of the CRI: the method table says who answers a :path. */
#ifndef PEAPOD_CRI_GRPC_H
#define PEAPOD_CRI_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* grpc/status.h's codes */
enum pp_grpc_code {
	PP_GRPC_OK = 0,
	PP_GRPC_CANCELLED = 1,
	PP_GRPC_UNKNOWN = 2,
	PP_GRPC_INVALID_ARGUMENT = 3,
	PP_GRPC_DEADLINE_EXCEEDED = 4,
	PP_GRPC_NOT_FOUND = 5,
	PP_GRPC_PERMISSION_DENIED = 7,
	PP_GRPC_RESOURCE_EXHAUSTED = 8,
	PP_GRPC_FAILED_PRECONDITION = 9,
	PP_GRPC_UNIMPLEMENTED = 12,
	PP_GRPC_INTERNAL = 13,
	PP_GRPC_UNAVAILABLE = 14,
	PP_GRPC_UNAUTHENTICATED = 16,
};

/* A request larger than this is refused (RESOURCE_EXHAUSTED), as grpc-go's
 * default receive limit. */
#define PP_GRPC_MAX_MESSAGE (4u << 20)
/* Streams a client may have open at once on one connection. */
#define PP_GRPC_MAX_STREAMS 64

/* What a handler answers: code PP_GRPC_OK and the serialized response
 * message (body, len; body malloc'ed or NULL for an empty message), or an
 * error code and a message (malloc'ed). */
struct pp_grpc_reply {
	int code;
	char *message;
	uint8_t *body;
	size_t len;
	struct pp_grpc_call *call; /* set by the gRPC layer (pp_grpc_reply_defer) */
};

/* A handler's code for a call it answers later (pp_grpc_reply_defer). */
#define PP_GRPC_DEFERRED (-1)

struct pp_grpc_call;

/* Sets reply's code and message (printf-like); returns code. */
int pp_grpc_reply_error(struct pp_grpc_reply *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For a handler whose work goes on after it returns (PullImage: a child
 * process pulls): the call, to answer with pp_grpc_call_finish; reply's
 * code becomes PP_GRPC_DEFERRED. The connection serves its other streams
 * meanwhile. */
struct pp_grpc_call *pp_grpc_reply_defer(struct pp_grpc_reply *reply);

/* Answers a deferred call with reply (its buffers taken) and frees the call.
 * When the client has gone meanwhile (the stream reset, the connection
 * closed), the answer is dropped. The connection's output must be written
 * afterwards (pp_grpc_conn_output). */
void pp_grpc_call_finish(struct pp_grpc_call *call, struct pp_grpc_reply *reply);

typedef void (*pp_grpc_handler)(void *ctx, const uint8_t *msg, size_t len,
				struct pp_grpc_reply *reply);

/* One entry per method the API has: fn NULL for a method known but not
 * served (UNIMPLEMENTED, saying so). A :path in no entry is UNIMPLEMENTED
 * too ("unknown method"). Ends with {NULL, NULL}. */
struct pp_grpc_method {
	const char *path; /* "/runtime.v1.RuntimeService/Version" */
	pp_grpc_handler fn;
};

struct pp_grpc_conn;

/* A server-side session; the server's SETTINGS are queued for output. NULL
 * when nghttp2 could not allocate. */
struct pp_grpc_conn *pp_grpc_conn_new(const struct pp_grpc_method *table, void *ctx);
void pp_grpc_conn_free(struct pp_grpc_conn *c);

/* Feeds bytes read from the peer; handlers of the requests they complete
 * run now. -1 when the session is over (a protocol error: the GOAWAY is
 * queued for output, then the connection should be closed). */
int pp_grpc_conn_recv(struct pp_grpc_conn *c, const uint8_t *data, size_t len);

/* The bytes to write to the peer now (*data valid until the next call on c);
 * 0 when none. After writing n of them, pp_grpc_conn_consumed(c, n). */
size_t pp_grpc_conn_output(struct pp_grpc_conn *c, const uint8_t **data);
void pp_grpc_conn_consumed(struct pp_grpc_conn *c, size_t n);

/* Whether the session has ended (both sides done, or a GOAWAY and nothing
 * left to send). */
bool pp_grpc_conn_done(struct pp_grpc_conn *c);

#endif
