/* HTTP probes: the request, the status line and what counts as success. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/net_probe.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_line),	   cmocka_unit_test(test_status_ok),
	    cmocka_unit_test(test_request),	   cmocka_unit_test(test_check),
	    cmocka_unit_test(test_https_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
