/* SPDY/3.1 framing (src/cri/spdy.c) and the upgrade request's parser
 * (src/cri/stream_http.c): pure code, bytes in and out. The frames of a
 * peer that is not ours (compressed by Python's zlib with the SPDY/3
 * dictionary as Go's spdy package has it) parse; our frames parse back; a
 * header block's compression context carries from one frame to the next;
 * malformed input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cri/spdy.h"
#include "cri/stream_http.h"
#include "util/error.h"

/* Two SYN_STREAMs (ids 1 and 3: streamtype error then data, port 8080,
 * requestid 0) as a portforward client sends them, compressed in one zlib
 * stream with the dictionary: the second refers back to the first. */
static const uint8_t foreign[] =
    "\x80\x03\x00\x01\x00\x00\x00\x3d\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x78\xbb\xe3\xc6"
    "\xa7\xc2\x02\x25\x3a\x70\x3a\x2b\x29\x4a\x4d\xcc\x85\x16\x25\xac\xa9\xa0\x80\x86\x14\xcb"
    "\x45\xe0\x1c\x60\x61\x60\x61\x00\xa4\x39\x8b\x20\xd1\x98\x09\x4a\xde\x8c\x06\x00\x00\x00"
    "\x00\xff\xff"
    "\x80\x03\x00\x01\x00\x00\x00\x18\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\xc2\xaa\x19\x54"
    "\x0e\x25\x12\xd6\x0b\x00\x00\x00\xff\xff";

static void test_foreign_frames(void **state)
{
	(void)state;
	struct pp_spdy *s = pp_spdy_new();
	assert_non_null(s);
	struct pp_spdy_frame f;
	size_t used = 0, off = 0, len = sizeof(foreign) - 1;
	struct pp_error *err = NULL;
	/* a frame cut short: more is needed */
	assert_int_equal(pp_spdy_parse(s, foreign, 30, &f, &used, &err), 0);
	assert_int_equal(pp_spdy_parse(s, foreign, len, &f, &used, &err), 1);
	assert_int_equal(used, 69);
	assert_int_equal(f.type, PP_SPDY_SYN_STREAM);
	assert_int_equal(f.stream_id, 1);
	assert_int_equal(f.n_headers, 3);
	assert_string_equal(pp_spdy_header_get(&f, "streamtype"), "error");
	assert_string_equal(pp_spdy_header_get(&f, "Port"), "8080");
	assert_string_equal(pp_spdy_header_get(&f, "requestid"), "0");
	assert_null(pp_spdy_header_get(&f, "nope"));
	off += used;
	assert_int_equal(pp_spdy_parse(s, foreign + off, len - off, &f, &used, &err), 1);
	assert_int_equal(f.stream_id, 3);
	assert_string_equal(pp_spdy_header_get(&f, "streamtype"), "data");
	assert_string_equal(pp_spdy_header_get(&f, "port"), "8080");
	assert_null(err);
	pp_spdy_free(s);
}

/* What we write, a client of ours reads back (the tests' and the fuzz
 * corpus's frames). */
static void test_round_trip(void **state)
{
	(void)state;
	struct pp_spdy *client = pp_spdy_new(), *server = pp_spdy_new();
	struct pp_spdy_buf out = {0};
	const struct pp_spdy_header h[] = {{"streamtype", "stdout"}, {"x", "y"}};
	pp_spdy_put_syn_stream(client, &out, 5, h, 2, PP_SPDY_FLAG_FIN);
	pp_spdy_put_syn_stream(client, &out, 7, h, 1, 0);
	pp_spdy_put_syn_reply(server, &out, 5, NULL, 0, false);
	pp_spdy_put_data(&out, 5, "hello", 5, true);
	pp_spdy_put_ping(&out, 0x01020304);
	pp_spdy_put_rst(&out, 7, PP_SPDY_CANCEL);
	pp_spdy_put_goaway(&out, 9, 0);
	struct pp_spdy_frame f;
	size_t used, off = 0;
	struct pp_error *err = NULL;
	/* the client's frames through the server's inflater */
	assert_int_equal(pp_spdy_parse(server, out.data + off, out.len - off, &f, &used, &err), 1);
	assert_int_equal(f.type, PP_SPDY_SYN_STREAM);
	assert_int_equal(f.stream_id, 5);
	assert_int_equal(f.flags, PP_SPDY_FLAG_FIN);
	assert_string_equal(pp_spdy_header_get(&f, "x"), "y");
	off += used;
	assert_int_equal(pp_spdy_parse(server, out.data + off, out.len - off, &f, &used, &err), 1);
	assert_int_equal(f.stream_id, 7);
	assert_int_equal(f.n_headers, 1);
	assert_string_equal(pp_spdy_header_get(&f, "streamtype"), "stdout");
	off += used;
	/* the server's reply through the client's */
	assert_int_equal(pp_spdy_parse(client, out.data + off, out.len - off, &f, &used, &err), 1);
	assert_int_equal(f.type, PP_SPDY_SYN_REPLY);
	assert_int_equal(f.stream_id, 5);
	assert_int_equal(f.n_headers, 0);
	off += used;
	assert_int_equal(pp_spdy_parse(client, out.data + off, out.len - off, &f, &used, &err), 1);
	assert_int_equal(f.type, PP_SPDY_DATA);
	assert_int_equal(f.stream_id, 5);
	assert_int_equal(f.flags, PP_SPDY_FLAG_FIN);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.data, "hello", 5);
	off += used;
	assert_int_equal(pp_spdy_parse(client, out.data + off, out.len - off, &f, &used, &err), 1);
	assert_int_equal(f.type, PP_SPDY_PING);
	assert_int_equal(f.value, 0x01020304);
	off += used;
	assert_int_equal(pp_spdy_parse(client, out.data + off, out.len - off, &f, &used, &err), 1);
	assert_int_equal(f.type, PP_SPDY_RST_STREAM);
	assert_int_equal(f.stream_id, 7);
	assert_int_equal(f.value, PP_SPDY_CANCEL);
	off += used;
	assert_int_equal(pp_spdy_parse(client, out.data + off, out.len - off, &f, &used, &err), 1);
	assert_int_equal(f.type, PP_SPDY_GOAWAY);
	assert_int_equal(f.stream_id, 9);
	off += used;
	assert_int_equal(off, out.len);
	assert_int_equal(pp_spdy_parse(client, out.data + off, 0, &f, &used, &err), 0);
	pp_spdy_buf_free(&out);
	pp_spdy_free(client);
	pp_spdy_free(server);
}

static void expect_refused(const uint8_t *in, size_t len, const char *words)
{
	struct pp_spdy *s = pp_spdy_new();
	struct pp_spdy_frame f;
	size_t used;
	struct pp_error *err = NULL;
	assert_int_equal(pp_spdy_parse(s, in, len, &f, &used, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, words));
	pp_error_free(&err);
	pp_spdy_free(s);
}

static void test_malformed(void **state)
{
	(void)state;
	/* version 2 */
	expect_refused((const uint8_t *)"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12,
		       "version 2");
	/* a length over the limit */
	expect_refused((const uint8_t *)"\x00\x00\x00\x01\x00\xff\xff\xff", 8, "bytes");
	/* a SYN_STREAM too short for its fields */
	expect_refused((const uint8_t *)"\x80\x03\x00\x01\x00\x00\x00\x02\x00\x01", 10,
		       "control frame");
	/* a header block that is not zlib */
	expect_refused((const uint8_t *)"\x80\x03\x00\x02\x00\x00\x00\x08\x00\x00\x00\x01"
					"\x12\x34\x56\x78",
		       16, "inflate");
	/* SETTINGS and unknown types are skipped */
	struct pp_spdy *s = pp_spdy_new();
	struct pp_spdy_frame f;
	size_t used;
	struct pp_error *err = NULL;
	assert_int_equal(
	    pp_spdy_parse(s, (const uint8_t *)"\x80\x03\x00\x04\x00\x00\x00\x04\x00\x00\x00\x00",
			  12, &f, &used, &err),
	    1);
	assert_int_equal(f.type, PP_SPDY_SETTINGS);
	assert_int_equal(pp_spdy_parse(s, (const uint8_t *)"\x80\x03\x00\x63\x00\x00\x00\x00", 8,
				       &f, &used, &err),
			 1);
	pp_spdy_free(s);
}

static const char request[] = "POST /exec/abc?x=1 HTTP/1.1\r\n"
			      "Host: 127.0.0.1:1234\r\n"
			      "Connection: Upgrade\r\n"
			      "Upgrade: SPDY/3.1\r\n"
			      "X-Stream-Protocol-Version: v5.channel.k8s.io\r\n"
			      "x-stream-protocol-version: v4.channel.k8s.io, v3.channel.k8s.io\r\n"
			      "Content-Length: 0\r\n"
			      "\r\n"
			      "\x80\x03";

static void test_http_request(void **state)
{
	(void)state;
	struct pp_http_request req;
	struct pp_error *err = NULL;
	size_t len = sizeof(request) - 1;
	/* cut anywhere before its end: not whole yet */
	for (size_t cut = 0; cut < len - 2; cut++) {
		assert_int_equal(pp_http_request_parse(request, cut, &req, &err), 0);
		pp_http_request_free(&req);
	}
	assert_int_equal(pp_http_request_parse(request, len, &req, &err), (int)len - 2);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.path, "/exec/abc?x=1");
	assert_true(pp_http_wants_spdy(&req));
	assert_int_equal(req.n_protocols, 3);
	static const char *const ours[] = {"v4.channel.k8s.io", "v3.channel.k8s.io", NULL};
	assert_string_equal(pp_http_negotiate(&req, ours), "v4.channel.k8s.io");
	static const char *const pf[] = {"portforward.k8s.io", NULL};
	assert_null(pp_http_negotiate(&req, pf));
	pp_http_request_free(&req);

	const char *plain = "GET / HTTP/1.0\r\nConnection: keep-alive, Upgrade\r\n\r\n";
	assert_true(pp_http_request_parse(plain, strlen(plain), &req, &err) > 0);
	assert_false(pp_http_wants_spdy(&req)); /* no Upgrade */
	pp_http_request_free(&req);
}

static void http_refused(const char *text, const char *words)
{
	struct pp_http_request req;
	struct pp_error *err = NULL;
	assert_int_equal(pp_http_request_parse(text, strlen(text), &req, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, words));
	pp_error_free(&err);
	pp_http_request_free(&req);
}

static void test_http_malformed(void **state)
{
	(void)state;
	http_refused("GET /\r\n\r\n", "request line");
	http_refused("GET / SPDY/3\r\n\r\n", "HTTP/1.x");
	http_refused("GET x HTTP/1.1\r\n\r\n", "not a path");
	http_refused("GET / HTTP/1.1\r\nno colon\r\n\r\n", "header line");
	http_refused("GET / HTTP/1.1\r\n folded: x\r\n\r\n", "header line");
	char *big = malloc(PP_HTTP_MAX_HEAD + 1);
	memset(big, 'a', PP_HTTP_MAX_HEAD);
	big[PP_HTTP_MAX_HEAD] = '\0';
	http_refused(big, "over");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_foreign_frames), cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_malformed),	   cmocka_unit_test(test_http_request),
	    cmocka_unit_test(test_http_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
