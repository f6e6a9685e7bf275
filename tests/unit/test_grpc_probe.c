/* grpc probes: the health check messages, and the HTTP/2 exchange against
 * server frames made here (HPACK by libnghttp2's deflater). */
#include <nghttp2/nghttp2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/grpc_health.h"
#include "probe/grpc_probe.h"

static void test_request_encoding(void **state)
{
	(void)state;
	size_t len;
	uint8_t *m = pp_grpc_health_request("", &len);
	static const uint8_t empty[] = {0, 0, 0, 0, 0};
	assert_int_equal(len, sizeof(empty));
	assert_memory_equal(m, empty, len);
	free(m);

	m = pp_grpc_health_request("ready", &len);
	static const uint8_t ready[] = {0, 0, 0, 0, 7, 0x0a, 5, 'r', 'e', 'a', 'd', 'y'};
	assert_int_equal(len, sizeof(ready));
	assert_memory_equal(m, ready, len);
	free(m);

	/* 200 bytes: a two-byte length varint (0xc8 0x01) */
	char long_name[201];
	memset(long_name, 'x', 200);
	long_name[200] = '\0';
	m = pp_grpc_health_request(long_name, &len);
	assert_int_equal(len, 5 + 3 + 200);
	static const uint8_t head[] = {0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01, 'x'};
	assert_memory_equal(m, head, sizeof(head));
	free(m);
}

static int decode(const uint8_t *buf, size_t len)
{
	int st = -100;
	return pp_grpc_health_response(buf, len, &st) < 0 ? -1 : st;
}

#define DECODE(...) decode((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void test_response_decoding(void **state)
{
	(void)state;
	assert_int_equal(DECODE(0, 0, 0, 0, 2, 0x08, 1), PP_GRPC_SERVING);
	assert_int_equal(DECODE(0, 0, 0, 0, 2, 0x08, 2), PP_GRPC_NOT_SERVING);
	assert_int_equal(DECODE(0, 0, 0, 0, 2, 0x08, 3), PP_GRPC_SERVICE_UNKNOWN);
	/* proto3: an absent enum is its zero value */
	assert_int_equal(DECODE(0, 0, 0, 0, 0), PP_GRPC_UNKNOWN);
	/* unknown fields of every wire type are skipped; the last status wins */
	assert_int_equal(DECODE(0, 0, 0, 0, 22, 0x08, 2, 0x12, 2, 'h', 'i', 0x1d, 1, 2, 3, 4, 0x21,
				1, 2, 3, 4, 5, 6, 7, 8, 0x08, 1),
			 PP_GRPC_SERVING);
	assert_int_equal(DECODE(0, 0, 0, 0, 3, 0x08, 0x81, 0x00), PP_GRPC_SERVING);
	/* malformed */
	assert_int_equal(DECODE(0, 0, 0, 0), -1);		   /* short prefix */
	assert_int_equal(DECODE(1, 0, 0, 0, 2, 0x08, 1), -1);	   /* compressed */
	assert_int_equal(DECODE(0, 0, 0, 0, 3, 0x08, 1), -1);	   /* length too long */
	assert_int_equal(DECODE(0, 0, 0, 0, 1, 0x08, 1), -1);	   /* two messages */
	assert_int_equal(DECODE(0, 0, 0, 0, 1, 0x08), -1);	   /* truncated varint */
	assert_int_equal(DECODE(0, 0, 0, 0, 2, 0x0b, 1), -1);	   /* group */
	assert_int_equal(DECODE(0, 0, 0, 0, 2, 0x00, 1), -1);	   /* field 0 */
	assert_int_equal(DECODE(0, 0, 0, 0, 3, 0x12, 5, 'x'), -1); /* string past the end */
	assert_int_equal(DECODE(0, 0, 0, 0, 3, 0x1d, 1, 2), -1);   /* fixed32 past the end */
	assert_int_equal(DECODE(0, 0, 0, 0, 12, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				0xff, 0xff, 0xff, 0x01),
			 -1); /* an 11-byte varint */
}

static void test_names(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(pp_grpc_serving_status_name(2, buf, sizeof(buf)), "NOT_SERVING");
	assert_string_equal(pp_grpc_serving_status_name(0, buf, sizeof(buf)), "UNKNOWN");
	assert_string_equal(pp_grpc_serving_status_name(7, buf, sizeof(buf)), "7");
	assert_string_equal(pp_grpc_code_name(5, buf, sizeof(buf)), "NotFound");
	assert_string_equal(pp_grpc_code_name(12, buf, sizeof(buf)), "Unimplemented");
	assert_string_equal(pp_grpc_code_name(16, buf, sizeof(buf)), "Unauthenticated");
	assert_string_equal(pp_grpc_code_name(99, buf, sizeof(buf)), "Code(99)");
}

/* ---- the exchange, against a server made of frames ---- */

struct wire {
	uint8_t buf[4096];
	size_t len;
};

static void frame(struct wire *w, uint8_t type, uint8_t flags, uint32_t stream,
		  const uint8_t *payload, size_t len)
{
	assert_true(w->len + 9 + len <= sizeof(w->buf));
	uint8_t *p = w->buf + w->len;
	p[0] = (uint8_t)(len >> 16);
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)len;
	p[3] = type;
	p[4] = flags;
	p[5] = (uint8_t)(stream >> 24);
	p[6] = (uint8_t)(stream >> 16);
	p[7] = (uint8_t)(stream >> 8);
	p[8] = (uint8_t)stream;
	if (len)
		memcpy(p + 9, payload, len);
	w->len += 9 + len;
}

/* A HEADERS frame on stream 1 of name/value pairs (NULL-terminated). */
static void headers(struct wire *w, nghttp2_hd_deflater *d, int end, ...)
{
	nghttp2_nv nv[8];
	size_t n = 0;
	va_list ap;
	va_start(ap, end);
	for (const char *name; (name = va_arg(ap, const char *)) != NULL; n++) {
		const char *value = va_arg(ap, const char *);
		nv[n] = (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
				     NGHTTP2_NV_FLAG_NONE};
	}
	va_end(ap);
	uint8_t block[1024];
	ssize_t len = nghttp2_hd_deflate_hd(d, block, sizeof(block), nv, n);
	assert_true(len > 0);
	frame(w, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | (end ? NGHTTP2_FLAG_END_STREAM : 0), 1,
	      block, (size_t)len);
}

struct exchange {
	struct pp_grpc_probe *g;
	nghttp2_hd_deflater *d;
	struct wire w;
};

static int setup(void **state)
{
	struct exchange *x = calloc(1, sizeof(*x));
	x->g = pp_grpc_probe_new("10.0.0.5", 9090, "ready", 1);
	assert_non_null(x->g);
	assert_int_equal(nghttp2_hd_deflate_new(&x->d, 4096), 0);
	/* the server's preface: its SETTINGS, and the ack of the client's */
	frame(&x->w, NGHTTP2_SETTINGS, 0, 0, NULL, 0);
	frame(&x->w, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, NULL, 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct exchange *x = *state;
	pp_grpc_probe_free(x->g);
	nghttp2_hd_deflate_del(x->d);
	free(x);
	return 0;
}

/* The client's bytes: the preface, then its frames; all taken as sent. */
static void take_output(struct exchange *x)
{
	const uint8_t *out;
	size_t len;
	pp_grpc_probe_output(x->g, &out, &len);
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	assert_true(len > sizeof(preface));
	assert_memory_equal(out, preface, sizeof(preface) - 1);
	/* the request message is in there */
	static const uint8_t msg[] = {0, 0, 0, 0, 7, 0x0a, 5, 'r', 'e', 'a', 'd', 'y'};
	assert_non_null(memmem(out, len, msg, sizeof(msg)));
	pp_grpc_probe_sent(x->g, len);
	pp_grpc_probe_output(x->g, &out, &len);
	assert_int_equal(len, 0);
}

static int result(struct exchange *x, char *msg, size_t size)
{
	msg[0] = '\0';
	pp_grpc_probe_input(x->g, x->w.buf, x->w.len);
	return pp_grpc_probe_result(x->g, msg, size);
}

static void answer(struct exchange *x, uint8_t status)
{
	headers(&x->w, x->d, 0, ":status", "200", "content-type", "application/grpc", NULL);
	const uint8_t msg[] = {0, 0, 0, 0, 2, 0x08, status};
	frame(&x->w, NGHTTP2_DATA, 0, 1, msg, sizeof(msg));
}

static void test_serving(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	assert_int_equal(pp_grpc_probe_result(x->g, msg, sizeof(msg)), PP_GRPC_PROBE_PENDING);
	answer(x, PP_GRPC_SERVING);
	headers(&x->w, x->d, 1, "grpc-status", "0", NULL);
	assert_int_equal(result(x, msg, sizeof(msg)), 0);
}

static void test_not_serving(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	answer(x, PP_GRPC_NOT_SERVING);
	headers(&x->w, x->d, 1, "grpc-status", "0", NULL);
	assert_int_equal(result(x, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "service unhealthy (responded with \"NOT_SERVING\")");
}

static void test_message_without_trailers_is_pending(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	answer(x, PP_GRPC_SERVING);
	assert_int_equal(result(x, msg, sizeof(msg)), PP_GRPC_PROBE_PENDING);
	/* and the server hangs up */
	pp_grpc_probe_input(x->g, NULL, 0);
	assert_int_equal(pp_grpc_probe_result(x->g, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "code = Unavailable"));
}

static void test_unknown_service(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	headers(&x->w, x->d, 1, ":status", "200", "content-type", "application/grpc", "grpc-status",
		"5", "grpc-message", "unknown service", NULL);
	assert_int_equal(result(x, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "error: health rpc probe failed: rpc error: code = NotFound desc "
				 "= unknown service");
}

static void test_unimplemented(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	headers(&x->w, x->d, 1, ":status", "200", "grpc-status", "12", "grpc-message", "nope",
		NULL);
	assert_int_equal(result(x, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "this server does not implement the grpc health protocol "
				 "(grpc.health.v1.Health): rpc error: code = Unimplemented desc = "
				 "nope");
}

static void test_http_error(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	headers(&x->w, x->d, 1, ":status", "503", NULL);
	assert_int_equal(result(x, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "unexpected HTTP status code received from server: 503"));
}

static void test_bad_message(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	headers(&x->w, x->d, 0, ":status", "200", NULL);
	const uint8_t bad[] = {0, 0, 0, 0, 9, 0x08};
	frame(&x->w, NGHTTP2_DATA, 0, 1, bad, sizeof(bad));
	headers(&x->w, x->d, 1, "grpc-status", "0", NULL);
	assert_int_equal(result(x, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "failed to unmarshal"));
}

static void test_not_http2(void **state)
{
	struct exchange *x = *state;
	char msg[512];
	take_output(x);
	static const char http1[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	pp_grpc_probe_input(x->g, (const uint8_t *)http1, sizeof(http1) - 1);
	assert_int_equal(pp_grpc_probe_result(x->g, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "code = Unavailable"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_encoding),
	    cmocka_unit_test(test_response_decoding),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_serving, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_serving, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_message_without_trailers_is_pending, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_service, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unimplemented, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_http2, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
