/* Capability sets and names, and the seccomp profiles: the default one
 * compiled (and its cost measured), OCI JSON profiles parsed and refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "security/caps.h"
#include "security/seccomp.h"
#include "util/clock.h"

#define DEFAULT_CAPS 0xa80425fbULL

static void test_cap_names(void **state)
{
	(void)state;
	assert_int_equal(pp_cap_from_name("SYS_ADMIN"), 21);
	assert_int_equal(pp_cap_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(pp_cap_from_name("net_raw"), 13);
	assert_int_equal(pp_cap_from_name("CHECKPOINT_RESTORE"), 40);
	assert_int_equal(pp_cap_from_name("ALL"), -1);
	assert_int_equal(pp_cap_from_name("CAP_"), -1);
	assert_int_equal(pp_cap_from_name(""), -1);
	assert_int_equal(pp_cap_from_name("SYS_ADMINX"), -1);
	assert_string_equal(pp_cap_name(0), "CHOWN");
	assert_null(pp_cap_name(64));
}

static void test_caps_compute(void **state)
{
	(void)state;
	char *none[] = {NULL};
	char *all[] = {"ALL", NULL};
	char *chown_kill[] = {"CHOWN", "CAP_KILL", NULL};
	char *net_admin[] = {"NET_ADMIN", NULL};
	assert_int_equal(pp_caps_default(), DEFAULT_CAPS);
	assert_int_equal(pp_caps_compute(none, none), DEFAULT_CAPS);
	assert_int_equal(pp_caps_compute(NULL, NULL), DEFAULT_CAPS);
	assert_int_equal(pp_caps_compute(NULL, all), 0);
	assert_int_equal(pp_caps_compute(net_admin, all), PP_CAP_BIT(12));
	assert_int_equal(pp_caps_compute(net_admin, chown_kill),
			 (DEFAULT_CAPS | PP_CAP_BIT(12)) & ~(PP_CAP_BIT(0) | PP_CAP_BIT(5)));
	/* add ALL then drop some: all but those (containerd's order) */
	assert_int_equal(pp_caps_compute(all, chown_kill),
			 pp_caps_all() & ~(PP_CAP_BIT(0) | PP_CAP_BIT(5)));
}

static void test_default_profile_compiles(void **state)
{
	(void)state;
	struct pp_seccomp_filter f;
	struct pp_error *err = NULL;
	assert_int_equal(pp_seccomp_compile(pp_seccomp_default_profile(), DEFAULT_CAPS, &f, &err),
			 0);
	assert_true(f.len > 100);
	/* The ENOSYS stub comes first: load arch. */
	assert_int_equal(f.insns[0].code, BPF_LD | BPF_W | BPF_ABS);
	pp_seccomp_filter_free(&f);
	/* With SYS_ADMIN more syscalls are allowed: a different program. */
	struct pp_seccomp_filter g;
	assert_int_equal(pp_seccomp_compile_default(DEFAULT_CAPS | PP_CAP_BIT(21), &g, &err), 0);
	assert_true(g.len > 0);
	pp_seccomp_filter_free(&g);
}

static double ms_since(int64_t t0_ns)
{
	return (double)(pp_monotonic_ns() - t0_ns) / PP_NSEC_PER_MSEC;
}

/* What a container start pays for the filter: compiled once per caps set,
 * then copied. Printed, not asserted (no test asserts a duration). */
static void test_default_profile_cost(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	struct pp_seccomp_filter f;
	int64_t t0 = pp_monotonic_ns();
	assert_int_equal(pp_seccomp_compile(pp_seccomp_default_profile(), DEFAULT_CAPS, &f, &err),
			 0);
	double compile = ms_since(t0);
	pp_seccomp_filter_free(&f);
	assert_int_equal(pp_seccomp_compile_default(DEFAULT_CAPS, &f, &err), 0);
	pp_seccomp_filter_free(&f);
	t0 = pp_monotonic_ns();
	for (int i = 0; i < 100; i++) {
		assert_int_equal(pp_seccomp_compile_default(DEFAULT_CAPS, &f, &err), 0);
		pp_seccomp_filter_free(&f);
	}
	printf("default seccomp profile: compile %.2f ms, cached copy %.4f ms\n", compile,
	       ms_since(t0) / 100);
}

static void parse_ok(const char *json, size_t n_rules)
{
	struct pp_seccomp_profile p;
	struct pp_error *err = NULL;
	if (pp_seccomp_profile_parse(json, strlen(json), &p, &err) < 0)
		fail_msg("%s: %s", json, err->msg);
	assert_int_equal(p.n_rules, n_rules);
	struct pp_seccomp_filter f;
	assert_int_equal(pp_seccomp_compile(&p, DEFAULT_CAPS, &f, &err), 0);
	pp_seccomp_filter_free(&f);
	pp_seccomp_profile_free(&p);
}

static void parse_bad(const char *json, const char *msg)
{
	struct pp_seccomp_profile p;
	struct pp_error *err = NULL;
	assert_int_equal(pp_seccomp_profile_parse(json, strlen(json), &p, &err), -1);
	if (strstr(err->msg, msg) == NULL)
		fail_msg("%s: \"%s\" has no \"%s\"", json, err->msg, msg);
	pp_error_free(&err);
}

static void test_oci_profiles(void **state)
{
	(void)state;
	parse_ok("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", 0);
	parse_ok(
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
	    " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
	    " \"syscalls\": [{\"names\": [\"read\", \"write\", \"no_such_syscall\"],"
	    " \"action\": \"SCMP_ACT_ALLOW\"},"
	    " {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
	    "  \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\"}]},"
	    " {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
	    "  \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0,"
	    "  \"op\": \"SCMP_CMP_MASKED_EQ\"}], \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
	    " {\"names\": [\"s390_runtime_instr\"], \"action\": \"SCMP_ACT_ALLOW\","
	    "  \"includes\": {\"arches\": [\"s390x\"]}},"
	    " {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}]}",
	    5);
	parse_bad("", "not valid JSON");
	parse_bad("[]", "not a JSON object");
	parse_bad("{}", "defaultAction: missing");
	parse_bad("{\"defaultAction\": \"SCMP_ACT_NOPE\"}", "unknown action SCMP_ACT_NOPE");
	parse_bad("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 70000}",
		  "out of range");
	parse_bad("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_ARM\"]}",
		  "none of them is x86");
	parse_bad("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [],"
		  " \"action\": \"SCMP_ACT_ALLOW\"}]}",
		  "syscalls[0]: no syscall names");
	parse_bad("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
		  " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"op\": "
		  "\"SCMP_CMP_EQ\"}]}]}",
		  "argument index 6 out of range");
	parse_bad(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
	    " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"op\": \"LIKE\"}]}]}",
	    "unknown operator LIKE");
	parse_bad("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
		  " \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": [\"CAP_NOPE\"]}}]}",
		  "unknown capability");
	/* Nesting beyond the tokener's depth is refused, not recursed into. */
	char deep[300];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	parse_bad(deep, "not valid JSON");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_names),
	    cmocka_unit_test(test_caps_compute),
	    cmocka_unit_test(test_default_profile_compiles),
	    cmocka_unit_test(test_default_profile_cost),
	    cmocka_unit_test(test_oci_profiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
