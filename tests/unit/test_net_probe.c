/* HTTP probes: the request, the status line and what counts as success. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/net_probe.h"

static int code(const char *s)
{
	return pp_http_status_code(s, strlen(s));
}

static void test_status_line(void **state)
{
	(void)state;
	assert_int_equal(code("HTTP/1.1 200 OK\r\n"), 200);
	assert_int_equal(code("HTTP/1.0 404 Not Found\r\n"), 404);
	assert_int_equal(code("HTTP/1.1 302\r\n"), 302);
	assert_int_equal(code("HTTP/1.1 500"), 500);
	assert_int_equal(code("HTTP/2 200 OK\r\n"), -1);
	assert_int_equal(code("HTTP/1.1 20 OK\r\n"), -1);
	assert_int_equal(code("HTTP/1.1 2000 OK\r\n"), -1);
	assert_int_equal(code("HTTP/1.1 abc OK\r\n"), -1);
	assert_int_equal(code("SSH-2.0-OpenSSH\r\n"), -1);
	assert_int_equal(code(""), -1);
	assert_int_equal(code("HTTP/1.1 099 x\r\n"), -1);
}

static void test_status_ok(void **state)
{
	(void)state;
	assert_false(pp_http_status_ok(199));
	assert_true(pp_http_status_ok(200));
	assert_true(pp_http_status_ok(301));
	assert_true(pp_http_status_ok(399));
	assert_false(pp_http_status_ok(400));
	assert_false(pp_http_status_ok(503));
}

static void test_request(void **state)
{
	(void)state;
	struct pp_kv headers[] = {{.key = "X-Probe", .value = "yes"},
				  {.key = "accept", .value = "a/b"}};
	struct pp_net_probe p = {.host = "10.0.0.1", .port = 8080, .http = true, .path = "ok"};
	size_t len = 0;
	char *req = pp_http_probe_request(&p, &len);
	assert_non_null(req);
	assert_int_equal(len, strlen(req));
	assert_string_equal(req, "GET /ok HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n"
				 "User-Agent: kube-probe/1.30\r\nAccept: */*\r\n"
				 "Connection: close\r\n\r\n");
	free(req);
	p.path = NULL;
	p.headers = headers;
	p.n_headers = 2;
	req = pp_http_probe_request(&p, &len);
	assert_non_null(req);
	assert_string_equal(req, "GET / HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n"
				 "User-Agent: kube-probe/1.30\r\nX-Probe: yes\r\naccept: a/b\r\n"
				 "Connection: close\r\n\r\n");
	free(req);
}

static void test_check(void **state)
{
	(void)state;
	struct pp_net_probe p = {.host = "10.0.0.1", .port = 80, .http = true, .path = "/h"};
	char msg[256] = "";
	const char *ok = "HTTP/1.1 204 No Content\r\n";
	assert_int_equal(pp_http_probe_check(&p, ok, strlen(ok), msg, sizeof(msg)), 0);
	const char *nf = "HTTP/1.1 404 Not Found\r\n";
	assert_int_equal(pp_http_probe_check(&p, nf, strlen(nf), msg, sizeof(msg)), -1);
	assert_string_equal(msg, "HTTP probe failed with statuscode: 404");
	assert_int_equal(pp_http_probe_check(&p, "", 0, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "Get \"http://10.0.0.1:80/h\": malformed HTTP response");
	pp_tcp_probe_connect_failed(&p, ECONNREFUSED, msg, sizeof(msg));
	assert_string_equal(msg, "dial tcp 10.0.0.1:80: connect: connection refused");
	pp_http_probe_send_failed(&p, ECONNRESET, msg, sizeof(msg));
	assert_string_equal(msg, "Get \"http://10.0.0.1:80/h\": connection reset by peer");
}

/* HTTPS: the same messages, with the scheme kubelet's URL has. */
static void test_https_messages(void **state)
{
	(void)state;
	struct pp_net_probe p = {
	    .host = "10.0.0.1", .port = 8443, .http = true, .https = true, .path = "healthz"};
	char msg[256] = "";
	assert_int_equal(pp_http_probe_check(&p, "x", 1, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "Get \"https://10.0.0.1:8443/healthz\": malformed HTTP response");
	pp_http_probe_failed(&p, "tls: wrong version number", msg, sizeof(msg));
	assert_string_equal(msg,
			    "Get \"https://10.0.0.1:8443/healthz\": tls: wrong version number");
}

static int verdict(const struct pp_net_probe *p, const char *resp, int redirects,
		   struct pp_http_target *next, char *msg, size_t size)
{
	*next = (struct pp_http_target){0};
	msg[0] = '\0';
	return pp_http_probe_verdict(p, resp, strlen(resp), redirects, next, msg, size);
}

static void test_incomplete(void **state)
{
	(void)state;
	assert_true(pp_http_response_incomplete("", 0));
	assert_true(pp_http_response_incomplete("HTTP/1.1 200 OK", 15));
	assert_false(pp_http_response_incomplete("HTTP/1.1 200 OK\r\n", 17));
	assert_false(pp_http_response_incomplete("HTTP/1.1 500 x\r\n", 16));
	/* a redirect is read to its end: its Location and body matter */
	assert_true(pp_http_response_incomplete("HTTP/1.1 302 Found\r\n", 20));
}

static void test_redirects(void **state)
{
	(void)state;
	struct pp_net_probe p = {.host = "10.0.0.1", .port = 80, .http = true, .path = "/a/x"};
	struct pp_http_target t;
	char msg[512];
	assert_int_equal(verdict(&p, "HTTP/1.1 200 OK\r\n\r\n", 0, &t, msg, sizeof(msg)),
			 PP_HTTP_OK);
	/* same host: followed */
	assert_int_equal(
	    verdict(&p, "HTTP/1.1 302 Found\r\nlocation:  /ok \r\n\r\n", 0, &t, msg, sizeof(msg)),
	    PP_HTTP_REDIRECT);
	assert_string_equal(t.path, "/ok");
	assert_int_equal(t.port, 80);
	assert_false(t.https);
	free(t.path);
	assert_int_equal(
	    verdict(&p, "HTTP/1.1 301 M\r\nLocation: b?q=1\r\n\r\n", 3, &t, msg, sizeof(msg)),
	    PP_HTTP_REDIRECT);
	assert_string_equal(t.path, "/a/b?q=1"); /* relative to /a/ */
	free(t.path);
	assert_int_equal(verdict(&p, "HTTP/1.1 307 T\r\nLocation: https://10.0.0.1:8443\r\n\r\n", 0,
				 &t, msg, sizeof(msg)),
			 PP_HTTP_REDIRECT);
	assert_true(t.https);
	assert_int_equal(t.port, 8443);
	assert_string_equal(t.path, "/");
	free(t.path);
	assert_int_equal(verdict(&p, "HTTP/1.1 308 P\r\nLocation: https://10.0.0.1/s\r\n\r\n", 0,
				 &t, msg, sizeof(msg)),
			 PP_HTTP_REDIRECT);
	assert_int_equal(t.port, 443);
	free(t.path);
	/* the 11th redirect: failure, with the URL it would have gone to */
	assert_int_equal(
	    verdict(&p, "HTTP/1.1 302 F\r\nLocation: /loop\r\n\r\n", 10, &t, msg, sizeof(msg)),
	    PP_HTTP_FAILED);
	assert_string_equal(msg, "Get \"http://10.0.0.1:80/loop\": stopped after 10 redirects");
	assert_null(t.path);
	/* another host, no Location, a code Go does not follow: success, warned */
	assert_int_equal(verdict(&p,
				 "HTTP/1.1 302 F\r\nLocation: http://example.com/x\r\n\r\nmoved", 0,
				 &t, msg, sizeof(msg)),
			 PP_HTTP_WARNING);
	assert_string_equal(msg, "Probe terminated redirects, Response body: moved");
	assert_null(t.path);
	assert_int_equal(verdict(&p, "HTTP/1.1 302 F\r\n\r\n", 0, &t, msg, sizeof(msg)),
			 PP_HTTP_WARNING);
	assert_int_equal(
	    verdict(&p, "HTTP/1.1 300 M\r\nLocation: /ok\r\n\r\n", 0, &t, msg, sizeof(msg)),
	    PP_HTTP_WARNING);
	/* malformed Locations: not followed */
	static const char *const bad[] = {"http://[::1/x", "http://10.0.0.1:99999/", "http:///x",
					  "http://10.0.0.1:8x/"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char resp[256];
		snprintf(resp, sizeof(resp), "HTTP/1.1 302 F\r\nLocation: %s\r\n\r\n", bad[k]);
		assert_int_equal(verdict(&p, resp, 0, &t, msg, sizeof(msg)), PP_HTTP_WARNING);
		assert_null(t.path);
	}
	/* failures stay failures */
	assert_int_equal(verdict(&p, "HTTP/1.1 404 NF\r\n\r\n", 0, &t, msg, sizeof(msg)),
			 PP_HTTP_FAILED);
	assert_string_equal(msg, "HTTP probe failed with statuscode: 404");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_line),	   cmocka_unit_test(test_status_ok),
	    cmocka_unit_test(test_request),	   cmocka_unit_test(test_check),
	    cmocka_unit_test(test_https_messages), cmocka_unit_test(test_incomplete),
	    cmocka_unit_test(test_redirects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
