/* The CRI server's gRPC layer (src/cri/grpc_conn.c) against a real HTTP/2
 * client: nghttp2's client session, in memory, no socket. What a gRPC client
 * relies on: the response's headers, the 5-byte message framing, grpc-status
 * and a percent-encoded grpc-message in the trailers (or trailers-only for
 * an error), UNIMPLEMENTED for a method nobody serves, 405 and 415 for what
 * is not a gRPC request, and the refusals of a malformed request. */
#include <nghttp2/nghttp2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cri/grpc.h"

/* What the client saw of its one stream. */
struct result {
	char status[8]; /* :status */
	char content_type[64];
	char grpc_status[8]; /* from the headers or the trailers */
	char grpc_message[256];
	uint8_t body[256];
	size_t body_len;
	bool closed;
};

/* The request the client sends. */
struct request {
	const uint8_t *data;
	size_t len, off;
};

static void copy_value(char *dst, size_t size, const uint8_t *v, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct result *r = user;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		copy_value(r->status, sizeof(r->status), value, valuelen);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		copy_value(r->content_type, sizeof(r->content_type), value, valuelen);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		copy_value(r->grpc_status, sizeof(r->grpc_status), value, valuelen);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		copy_value(r->grpc_message, sizeof(r->grpc_message), value, valuelen);
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	struct result *r = user;
	assert_true(r->body_len + len <= sizeof(r->body));
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t error, void *user)
{
	((struct result *)user)->closed = true;
	return 0;
}

static ssize_t read_request(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct request *rq = src->ptr;
	size_t n = rq->len - rq->off;
	if (n > length)
		n = length;
	memcpy(buf, rq->data + rq->off, n);
	rq->off += n;
	if (rq->off == rq->len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Echoes the message; "fail" gets an error whose text needs encoding. */
static void echo(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	if (len == 4 && memcmp(msg, "fail", 4) == 0) {
		pp_grpc_reply_error(reply, PP_GRPC_NOT_FOUND, "100%% gone\né");
		return;
	}
	reply->body = malloc(len ? len : 1);
	memcpy(reply->body, msg, len);
	reply->len = len;
}

/* Answers later: the call is kept here until the test finishes it. */
static struct pp_grpc_call *deferred;

static void later(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	deferred = pp_grpc_reply_defer(reply);
	assert_non_null(deferred);
}

static const struct pp_grpc_method table[] = {
    {"/test.Svc/Echo", echo},
    {"/test.Svc/Defer", later},
    {"/test.Svc/Later", NULL},
    {NULL, NULL},
};

#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE         \
	}

/* One request (method, path, content type, body) through a fresh server
 * session; the client's view in *r. */
static void call(const char *method, const char *path, const char *type, const uint8_t *body,
		 size_t len, struct result *r)
{
	memset(r, 0, sizeof(*r));
	nghttp2_session_callbacks *cb;
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session *client;
	assert_int_equal(nghttp2_session_client_new(&client, cb, r), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	nghttp2_nv hdrs[] = {NV(":method", method),    NV(":scheme", "http"),
			     NV(":path", path),	       NV(":authority", "/run/peapod/cri.sock"),
			     NV("content-type", type), NV("te", "trailers")};
	struct request rq = {.data = body, .len = len};
	nghttp2_data_provider prov = {.source.ptr = &rq, .read_callback = read_request};
	assert_true(nghttp2_submit_request(client, NULL, hdrs, 6, &prov, NULL) > 0);

	struct pp_grpc_conn *server = pp_grpc_conn_new(table, NULL);
	assert_non_null(server);
	for (int round = 0; round < 2000 && !r->closed; round++) {
		if (round == 10 && deferred) {
			/* the deferred answer, while the stream waits */
			assert_false(r->closed);
			struct pp_grpc_reply rep = {.code = PP_GRPC_OK};
			rep.body = malloc(2);
			memcpy(rep.body, "ok", 2);
			rep.len = 2;
			pp_grpc_call_finish(deferred, &rep);
			deferred = NULL;
		}
		const uint8_t *out;
		ssize_t n;
		while ((n = nghttp2_session_mem_send(client, &out)) > 0)
			assert_int_equal(pp_grpc_conn_recv(server, out, (size_t)n), 0);
		size_t m;
		while ((m = pp_grpc_conn_output(server, &out)) > 0) {
			assert_true(nghttp2_session_mem_recv(client, out, m) == (ssize_t)m);
			pp_grpc_conn_consumed(server, m);
		}
	}
	assert_true(r->closed);
	pp_grpc_conn_free(server);
	nghttp2_session_del(client);
}

static const uint8_t hello[] = {0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};

static void test_unary_call(void **state)
{
	struct result r;
	call("POST", "/test.Svc/Echo", "application/grpc", hello, sizeof(hello), &r);
	assert_string_equal(r.status, "200");
	assert_string_equal(r.content_type, "application/grpc");
	assert_string_equal(r.grpc_status, "0");
	assert_int_equal(r.body_len, sizeof(hello));
	assert_memory_equal(r.body, hello, sizeof(hello));
	/* +proto is a gRPC content type too; an empty message is one */
	static const uint8_t empty[] = {0, 0, 0, 0, 0};
	call("POST", "/test.Svc/Echo", "application/grpc+proto", empty, sizeof(empty), &r);
	assert_string_equal(r.grpc_status, "0");
	assert_int_equal(r.body_len, sizeof(empty));
}

static void test_error_trailers_only(void **state)
{
	struct result r;
	static const uint8_t fail[] = {0, 0, 0, 0, 4, 'f', 'a', 'i', 'l'};
	call("POST", "/test.Svc/Echo", "application/grpc", fail, sizeof(fail), &r);
	assert_string_equal(r.status, "200");
	assert_string_equal(r.grpc_status, "5");
	assert_string_equal(r.grpc_message, "100%25 gone%0A%C3%A9");
	assert_int_equal(r.body_len, 0);
}

static void test_unimplemented(void **state)
{
	struct result r;
	call("POST", "/test.Svc/Nope", "application/grpc", hello, sizeof(hello), &r);
	assert_string_equal(r.grpc_status, "12");
	assert_string_equal(r.grpc_message, "unknown method /test.Svc/Nope");
	call("POST", "/test.Svc/Later", "application/grpc", hello, sizeof(hello), &r);
	assert_string_equal(r.grpc_status, "12");
	assert_string_equal(r.grpc_message, "/test.Svc/Later is not implemented by peapod yet");
}

static void test_not_grpc(void **state)
{
	struct result r;
	call("GET", "/test.Svc/Echo", "application/grpc", hello, sizeof(hello), &r);
	assert_string_equal(r.status, "405");
	call("POST", "/test.Svc/Echo", "application/json", hello, sizeof(hello), &r);
	assert_string_equal(r.status, "415");
	call("POST", "/test.Svc/Echo", "application/grpcx", hello, sizeof(hello), &r);
	assert_string_equal(r.status, "415");
}

static void test_bad_framing(void **state)
{
	struct result r;
	static const uint8_t compressed[] = {1, 0, 0, 0, 1, 'x'};
	call("POST", "/test.Svc/Echo", "application/grpc", compressed, sizeof(compressed), &r);
	assert_string_equal(r.grpc_status, "12");
	assert_non_null(strstr(r.grpc_message, "compressed"));
	static const uint8_t short_msg[] = {0, 0, 0, 0, 9, 'x'};
	call("POST", "/test.Svc/Echo", "application/grpc", short_msg, sizeof(short_msg), &r);
	assert_string_equal(r.grpc_status, "3");
	assert_string_equal(
	    r.grpc_message,
	    "/test.Svc/Echo: a unary request must be one message: its prefix says 9 "
	    "bytes, 1 came");
	call("POST", "/test.Svc/Echo", "application/grpc", hello, 3, &r);
	assert_string_equal(r.grpc_status, "3");
	assert_non_null(strstr(r.grpc_message, "holds no message"));
}

static void test_too_big(void **state)
{
	size_t len = PP_GRPC_MAX_MESSAGE + 6;
	uint8_t *big = calloc(1, len);
	assert_non_null(big);
	uint32_t n = (uint32_t)(len - 5);
	big[1] = (uint8_t)(n >> 24);
	big[2] = (uint8_t)(n >> 16);
	big[3] = (uint8_t)(n >> 8);
	big[4] = (uint8_t)n;
	struct result r;
	call("POST", "/test.Svc/Echo", "application/grpc", big, len, &r);
	assert_string_equal(r.grpc_status, "8");
	free(big);
}

static void test_deferred(void **state)
{
	struct result r;
	call("POST", "/test.Svc/Defer", "application/grpc", hello, sizeof(hello), &r);
	assert_null(deferred);
	assert_string_equal(r.grpc_status, "0");
	static const uint8_t ok[] = {0, 0, 0, 0, 2, 'o', 'k'};
	assert_int_equal(r.body_len, sizeof(ok));
	assert_memory_equal(r.body, ok, sizeof(ok));

	/* the connection gone before the answer: it is dropped */
	struct pp_grpc_conn *c = pp_grpc_conn_new(table, NULL);
	nghttp2_session_callbacks *cb;
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session *client;
	assert_int_equal(nghttp2_session_client_new(&client, cb, &r), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	nghttp2_nv hdrs[] = {NV(":method", "POST"), NV(":scheme", "http"),
			     NV(":path", "/test.Svc/Defer"), NV(":authority", "x"),
			     NV("content-type", "application/grpc")};
	struct request rq = {.data = hello, .len = sizeof(hello)};
	nghttp2_data_provider prov = {.source.ptr = &rq, .read_callback = read_request};
	assert_true(nghttp2_submit_request(client, NULL, hdrs, 5, &prov, NULL) > 0);
	const uint8_t *out;
	ssize_t n;
	while ((n = nghttp2_session_mem_send(client, &out)) > 0)
		assert_int_equal(pp_grpc_conn_recv(c, out, (size_t)n), 0);
	assert_non_null(deferred);
	pp_grpc_conn_free(c);
	nghttp2_session_del(client);
	struct pp_grpc_reply rep = {.code = PP_GRPC_OK, .body = malloc(1), .len = 1};
	pp_grpc_call_finish(deferred, &rep);
	deferred = NULL;
}

static void test_garbage_ends_session(void **state)
{
	struct pp_grpc_conn *c = pp_grpc_conn_new(table, NULL);
	assert_non_null(c);
	static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(pp_grpc_conn_recv(c, junk, sizeof(junk) - 1), -1);
	const uint8_t *out;
	size_t n;
	while ((n = pp_grpc_conn_output(c, &out)) > 0)
		pp_grpc_conn_consumed(c, n);
	assert_true(pp_grpc_conn_done(c));
	pp_grpc_conn_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unary_call),		 cmocka_unit_test(test_error_trailers_only),
	    cmocka_unit_test(test_unimplemented),	 cmocka_unit_test(test_not_grpc),
	    cmocka_unit_test(test_bad_framing),		 cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_garbage_ends_session), cmocka_unit_test(test_deferred),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
