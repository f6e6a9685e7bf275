/* One gRPC connection: an nghttp2 server session fed from memory (grpc.h). */
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cri/grpc.h"
#include "util/cleanup.h"

/* The 5-byte prefix of a message: compressed flag, big-endian length. */
#define GRPC_PREFIX 5
/* Output gathered from nghttp2 before it is handed to the writer. */
#define OUTPUT_CHUNK (64u << 10)

static void *zalloc(size_t n)
{
	void *p = xmalloc(n);
	memset(p, 0, n);
	return p;
}

struct stream {
	/* every open stream of the connection: nghttp2_session_del does not
	 * call on_close, so pp_grpc_conn_free frees what is left */
	struct stream *prev, *next;
	char *path;
	bool post;
	bool grpc_type; /* content-type application/grpc or application/grpc+... */
	bool too_big;
	bool answered;
	uint8_t *body; /* the request as received, prefix included */
	size_t len, cap;
	struct pp_grpc_reply reply;    /* what goes back; body prefixed at send */
	struct pp_grpc_call *deferred; /* the handler answers later */
	uint8_t *resp;
	size_t resp_len, resp_off;
};

/* A deferred call: its stream, until the stream or the connection goes. */
struct pp_grpc_call {
	struct pp_grpc_conn *conn;
	struct stream *st;
	int32_t id;
};

struct pp_grpc_conn {
	nghttp2_session *session;
	struct stream *streams;
	bool failed; /* the peer broke the protocol: nothing more is read */
	const struct pp_grpc_method *table;
	void *ctx;
	uint8_t *out;
	size_t out_len, out_cap;
};

int pp_grpc_reply_error(struct pp_grpc_reply *reply, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(reply->message);
	if (vasprintf(&reply->message, fmt, ap) < 0)
		reply->message = NULL;
	va_end(ap);
	reply->code = code;
	return code;
}

static void stream_free(struct pp_grpc_conn *c, struct stream *st)
{
	if (st == NULL)
		return;
	if (st->prev)
		st->prev->next = st->next;
	else
		c->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	if (st->deferred)
		st->deferred->st = NULL; /* its answer will be dropped */
	free(st->path);
	free(st->body);
	free(st->reply.message);
	free(st->reply.body);
	free(st->resp);
	free(st);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct pp_grpc_conn *c = user;
	struct stream *st = zalloc(sizeof(*st));
	st->next = c->streams;
	if (c->streams)
		c->streams->prev = st;
	c->streams = st;
	if (nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st) != 0) {
		stream_free(c, st);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static bool header_is(const uint8_t *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* trailers of a request carry nothing we use */
	struct stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st == NULL)
		return 0;
	if (header_is(name, namelen, ":path")) {
		free(st->path);
		st->path = xmalloc(valuelen + 1);
		memcpy(st->path, value, valuelen);
		st->path[valuelen] = '\0';
	} else if (header_is(name, namelen, ":method")) {
		st->post = header_is(value, valuelen, "POST");
	} else if (header_is(name, namelen, "content-type")) {
		/* "application/grpc", "application/grpc+proto", "application/grpc;..." */
		static const char type[] = "application/grpc";
		size_t n = sizeof(type) - 1;
		st->grpc_type = valuelen >= n && memcmp(value, type, n) == 0 &&
				(valuelen == n || value[n] == '+' || value[n] == ';');
	}
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st == NULL || st->too_big)
		return 0;
	if (len > PP_GRPC_MAX_MESSAGE + GRPC_PREFIX - st->len) {
		st->too_big = true;
		return 0;
	}
	if (st->len + len > st->cap) {
		st->cap = (st->len + len) * 2;
		st->body = xrealloc(st->body, st->cap);
	}
	memcpy(st->body + st->len, data, len);
	st->len += len;
	return 0;
}

/* grpc-message: percent-encoded outside printable ASCII and '%' (gRPC over
 * HTTP/2, "Responses"). */
static char *percent_encode(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(n * 3 + 1), *p = out;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '%')
			p += sprintf(p, "%%%02X", *c);
		else
			*p++ = (char)*c;
	*p = '\0';
	return out;
}

#define NV(n, v, vlen)                                                                             \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vlen), NGHTTP2_NV_FLAG_NONE        \
	}

/* A bare HTTP status (not a gRPC request at all). */
static int respond_http(nghttp2_session *s, int32_t id, const char *status)
{
	nghttp2_nv hdrs[] = {NV(":status", status, 3)};
	return nghttp2_submit_response(s, id, hdrs, 1, NULL);
}

/* Trailers-only: the status in the one HEADERS frame, which ends the stream. */
static int respond_error(nghttp2_session *s, int32_t id, int code, const char *message)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", code);
	cleanup_free char *text = percent_encode(message ? message : "");
	nghttp2_nv hdrs[] = {NV(":status", "200", 3), NV("content-type", "application/grpc", 16),
			     NV("grpc-status", num, strlen(num)),
			     NV("grpc-message", text, strlen(text))};
	return nghttp2_submit_response(s, id, hdrs, 4, NULL);
}

static ssize_t read_response(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			     uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct stream *st = src->ptr;
	size_t n = st->resp_len - st->resp_off;
	if (n > length)
		n = length;
	memcpy(buf, st->resp + st->resp_off, n);
	st->resp_off += n;
	if (st->resp_off == st->resp_len) {
		nghttp2_nv trailer[] = {NV("grpc-status", "0", 1)};
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(s, id, trailer, 1) != 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

static const struct pp_grpc_method *find_method(const struct pp_grpc_conn *c, const char *path)
{
	for (const struct pp_grpc_method *m = c->table; path && m->path; m++)
		if (strcmp(m->path, path) == 0)
			return m;
	return NULL;
}

/* Checks the request's framing and runs its handler into st->reply. */
static void call(struct pp_grpc_conn *c, struct stream *st)
{
	struct pp_grpc_reply *r = &st->reply;
	const struct pp_grpc_method *m = find_method(c, st->path);
	if (m == NULL) {
		pp_grpc_reply_error(r, PP_GRPC_UNIMPLEMENTED, "unknown method %s",
				    st->path ? st->path : "(no :path)");
		return;
	}
	if (m->fn == NULL) {
		pp_grpc_reply_error(r, PP_GRPC_UNIMPLEMENTED, "%s is not implemented by peapod yet",
				    m->path);
		return;
	}
	if (st->too_big) {
		pp_grpc_reply_error(r, PP_GRPC_RESOURCE_EXHAUSTED,
				    "request larger than the limit of %u bytes",
				    PP_GRPC_MAX_MESSAGE);
		return;
	}
	if (st->len < GRPC_PREFIX) {
		pp_grpc_reply_error(r, PP_GRPC_INVALID_ARGUMENT,
				    "%s: the request holds no message (%zu bytes)", m->path,
				    st->len);
		return;
	}
	uint32_t n = (uint32_t)st->body[1] << 24 | (uint32_t)st->body[2] << 16 |
		     (uint32_t)st->body[3] << 8 | st->body[4];
	if (st->body[0] != 0) {
		pp_grpc_reply_error(r, PP_GRPC_UNIMPLEMENTED,
				    "%s: compressed messages are not supported (identity only)",
				    m->path);
		return;
	}
	if ((size_t)n != st->len - GRPC_PREFIX) {
		pp_grpc_reply_error(r, PP_GRPC_INVALID_ARGUMENT,
				    "%s: a unary request must be one message: its prefix says %u "
				    "bytes, %zu came",
				    m->path, n, st->len - GRPC_PREFIX);
		return;
	}
	r->code = PP_GRPC_OK;
	m->fn(c->ctx, st->body + GRPC_PREFIX, n, r);
}

struct pp_grpc_call *pp_grpc_reply_defer(struct pp_grpc_reply *reply)
{
	reply->code = PP_GRPC_DEFERRED;
	return reply->call;
}

/* Queues st->reply on the stream id. */
static int send_reply(nghttp2_session *s, int32_t id, struct stream *st)
{
	if (st->reply.code != PP_GRPC_OK)
		return respond_error(s, id, st->reply.code, st->reply.message);
	size_t n = st->reply.len;
	st->resp = xmalloc(GRPC_PREFIX + n);
	st->resp[0] = 0;
	st->resp[1] = (uint8_t)(n >> 24);
	st->resp[2] = (uint8_t)(n >> 16);
	st->resp[3] = (uint8_t)(n >> 8);
	st->resp[4] = (uint8_t)n;
	if (n)
		memcpy(st->resp + GRPC_PREFIX, st->reply.body, n);
	st->resp_len = GRPC_PREFIX + n;
	nghttp2_nv hdrs[] = {NV(":status", "200", 3), NV("content-type", "application/grpc", 16)};
	nghttp2_data_provider body = {.source.ptr = st, .read_callback = read_response};
	return nghttp2_submit_response(s, id, hdrs, 2, &body);
}

static int respond(nghttp2_session *s, struct pp_grpc_conn *c, int32_t id, struct stream *st)
{
	if (st->answered)
		return 0;
	st->answered = true;
	if (!st->post)
		return respond_http(s, id, "405");
	if (!st->grpc_type)
		return respond_http(s, id, "415");
	struct pp_grpc_call *dc = zalloc(sizeof(*dc));
	*dc = (struct pp_grpc_call){.conn = c, .st = st, .id = id};
	st->reply.call = dc;
	call(c, st);
	st->reply.call = NULL;
	if (st->reply.code == PP_GRPC_DEFERRED) {
		st->deferred = dc;
		return 0;
	}
	free(dc);
	return send_reply(s, id, st);
}

void pp_grpc_call_finish(struct pp_grpc_call *dc, struct pp_grpc_reply *reply)
{
	struct stream *st = dc->st;
	if (st == NULL) {
		free(reply->message);
		free(reply->body);
	} else {
		st->deferred = NULL;
		free(st->reply.message);
		free(st->reply.body);
		st->reply = *reply;
		st->reply.call = NULL;
		if (send_reply(dc->conn->session, dc->id, st) != 0)
			nghttp2_submit_rst_stream(dc->conn->session, NGHTTP2_FLAG_NONE, dc->id,
						  NGHTTP2_INTERNAL_ERROR);
	}
	memset(reply, 0, sizeof(*reply));
	free(dc);
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	struct stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st == NULL)
		return 0;
	/* An answer nghttp2 cannot queue (the stream already gone): the
	 * stream is reset, the session goes on. */
	if (respond(s, user, f->hd.stream_id, st) != 0)
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
					  NGHTTP2_INTERNAL_ERROR);
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t error, void *user)
{
	stream_free(user, nghttp2_session_get_stream_user_data(s, id));
	nghttp2_session_set_stream_user_data(s, id, NULL);
	return 0;
}

struct pp_grpc_conn *pp_grpc_conn_new(const struct pp_grpc_method *table, void *ctx)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	struct pp_grpc_conn *c = zalloc(sizeof(*c));
	c->session = NULL;
	c->table = table;
	c->ctx = ctx;
	/* No HTTP messaging checks: grpc-go sends a unix socket's path as
	 * :authority ("/run/peapod/cri.sock"), which they refuse with a
	 * PROTOCOL_ERROR; :method and content-type are checked here. */
	nghttp2_option *opt = NULL;
	int r = nghttp2_option_new(&opt);
	if (r == 0) {
		nghttp2_option_set_no_http_messaging(opt, 1);
		r = nghttp2_session_server_new2(&c->session, cb, c, opt);
		nghttp2_option_del(opt);
	}
	nghttp2_session_callbacks_del(cb);
	nghttp2_settings_entry settings[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, PP_GRPC_MAX_STREAMS},
	};
	if (r != 0 || nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 1) != 0) {
		pp_grpc_conn_free(c);
		return NULL;
	}
	return c;
}

void pp_grpc_conn_free(struct pp_grpc_conn *c)
{
	if (c == NULL)
		return;
	nghttp2_session_del(c->session);
	while (c->streams)
		stream_free(c, c->streams);
	free(c->out);
	free(c);
}

int pp_grpc_conn_recv(struct pp_grpc_conn *c, const uint8_t *data, size_t len)
{
	if (c->failed)
		return -1;
	ssize_t n = nghttp2_session_mem_recv(c->session, data, len);
	if (n >= 0)
		return 0;
	/* Not HTTP/2, or a fatal protocol error: a GOAWAY (when nghttp2 has
	 * not queued one) and nothing more read. */
	c->failed = true;
	nghttp2_session_terminate_session(c->session, NGHTTP2_PROTOCOL_ERROR);
	return -1;
}

size_t pp_grpc_conn_output(struct pp_grpc_conn *c, const uint8_t **data)
{
	while (c->out_len < OUTPUT_CHUNK) {
		const uint8_t *chunk;
		ssize_t n = nghttp2_session_mem_send(c->session, &chunk);
		if (n <= 0)
			break; /* nothing more, or a fatal error: done() tells */
		if (c->out_len + (size_t)n > c->out_cap) {
			c->out_cap = (c->out_len + (size_t)n) * 2;
			c->out = xrealloc(c->out, c->out_cap);
		}
		memcpy(c->out + c->out_len, chunk, (size_t)n);
		c->out_len += (size_t)n;
	}
	*data = c->out;
	return c->out_len;
}

void pp_grpc_conn_consumed(struct pp_grpc_conn *c, size_t n)
{
	if (n > c->out_len)
		n = c->out_len;
	memmove(c->out, c->out + n, c->out_len - n);
	c->out_len -= n;
}

bool pp_grpc_conn_done(struct pp_grpc_conn *c)
{
	return c->out_len == 0 && !nghttp2_session_want_write(c->session) &&
	       (c->failed || !nghttp2_session_want_read(c->session));
}
