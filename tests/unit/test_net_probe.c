/* HTTP probes: the status line and what counts as success. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_line),
	    cmocka_unit_test(test_status_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
