/* The debug request of the control socket (peapod debug's ephemeral
 * container): what the CLI encodes the supervisor decodes to the same
 * struct, and a message that is not what the CLI would send is refused
 * with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/control.h"
#include "util/cleanup.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_round_trip(void **state)
{
	(void)state;
	char *cmd[] = {"sh", "-c", "echo \"$HOSTNAME\" / ünï", NULL};
	const struct pp_ctl_debug_request reqs[] = {
	    {.name = "debugger-x2b4z", .image = "busybox:1.36"},
	    {.name = "dbg",
	     .image = "registry.example:5000/tools/busybox@sha256:"
		      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     .target = "app",
	     .command = cmd,
	     .pull_policy = "Never",
	     .stdin_open = true,
	     .tty = true},
	};
	for (size_t k = 0; k < N_ELEMS(reqs); k++) {
		const struct pp_ctl_debug_request *r = &reqs[k];
		cleanup_free char *msg = pp_ctl_debug_request_encode(r);
		assert_true(pp_ctl_is_debug_request(msg, strlen(msg)));
		assert_false(pp_ctl_is_exec_request(msg, strlen(msg)));
		struct pp_ctl_debug_request got;
		cleanup_error struct pp_error *err = NULL;
		assert_int_equal(pp_ctl_debug_request_decode(msg, strlen(msg), &got, &err), 0);
		assert_string_equal(got.name, r->name);
		assert_string_equal(got.image, r->image);
		if (r->target == NULL)
			assert_null(got.target);
		else
			assert_string_equal(got.target, r->target);
		if (r->pull_policy == NULL)
			assert_null(got.pull_policy);
		else
			assert_string_equal(got.pull_policy, r->pull_policy);
		size_t n = 0;
		for (; r->command && r->command[n]; n++)
			assert_string_equal(got.command[n], r->command[n]);
		assert_true(r->command == NULL ? got.command == NULL : got.command[n] == NULL);
		assert_int_equal(got.stdin_open, r->stdin_open);
		assert_int_equal(got.tty, r->tty);
		pp_ctl_debug_request_free(&got);
		assert_null(got.doc);
		assert_null(got.command);
		pp_ctl_debug_request_free(&got); /* idempotent */
	}
}

static void test_bad(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *error;
	} cases[] = {
	    {"exec {}", "not a debug request"},
	    {"debug ", "debug request: not a JSON object"},
	    {"debug []", "debug request: not a JSON object"},
	    {"debug {\"name\":\"a\",\"image\":\"b\"} {}", "debug request: not a JSON object"},
	    {"debug {}", "debug request: name: missing"},
	    {"debug {\"name\":\"a\"}", "debug request: image: missing"},
	    {"debug {\"name\":7,\"image\":\"b\"}", "debug request: name: not a string"},
	    {"debug {\"name\":\"a\",\"image\":\"b\",\"stdin\":1}",
	     "debug request: stdin: not a boolean"},
	    {"debug {\"name\":\"a\",\"image\":\"b\",\"command\":\"sh\"}",
	     "debug request: command: not an array"},
	    {"debug {\"name\":\"a\",\"image\":\"b\",\"command\":[]}",
	     "debug request: command: empty"},
	    {"debug {\"name\":\"a\",\"image\":\"b\",\"command\":[\"sh\",3]}",
	     "debug request: command[]: not a string"},
	    {"debug {\"name\":\"a\\u0000b\",\"image\":\"b\"}",
	     "debug request: name: a NUL in the string"},
	    {"debug {\"name\":\"a\",\"image\":\"b\",\"imagePullPolicy\":\"Sometimes\"}",
	     "debug request: imagePullPolicy: not Always, IfNotPresent or Never"},
	    {"debug {\"name\":\"a\",\"image\":\"b\",\"ports\":[]}",
	     "debug request: ports: unknown field"},
	};
	for (size_t k = 0; k < N_ELEMS(cases); k++) {
		struct pp_ctl_debug_request req;
		cleanup_error struct pp_error *err = NULL;
		assert_int_equal(
		    pp_ctl_debug_request_decode(cases[k].msg, strlen(cases[k].msg), &req, &err),
		    -1);
		assert_string_equal(err->msg, cases[k].error);
		assert_int_equal(err->status, EPROTO);
		assert_null(req.doc);
		assert_null(req.command);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
