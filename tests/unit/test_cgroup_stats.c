/* The arithmetic of peapod stats and top: cAdvisor's working set, CPU
 * percent (podman) and millicores (kubectl top) from two samples; and the
 * stats reader on a cgroup that does not exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup/cgroup_ops.h"

#define NS_PER_SEC 1000000000ULL

static void test_working_set(void **state)
{
	(void)state;
	/* usage - inactive_file, as cAdvisor's setMemoryStats. */
	assert_int_equal(pp_memory_working_set(100 << 20, 30 << 20), 70 << 20);
	assert_int_equal(pp_memory_working_set(4096, 0), 4096);
	/* inactive_file can exceed usage in the kernel's racy counters: 0. */
	assert_int_equal(pp_memory_working_set(4096, 8192), 0);
	assert_int_equal(pp_memory_working_set(4096, 4096), 0);
	assert_int_equal(pp_memory_working_set(0, 0), 0);
}

static void test_cpu_percent(void **state)
{
	(void)state;
	/* One CPU busy for the whole window is 100 %, two are 200 %. */
	assert_true(pp_cpu_percent(0, NS_PER_SEC, NS_PER_SEC) == 100.0);
	assert_true(pp_cpu_percent(5 * NS_PER_SEC, 7 * NS_PER_SEC, NS_PER_SEC) == 200.0);
	assert_true(pp_cpu_percent(1000, 1000 + NS_PER_SEC / 4, NS_PER_SEC) == 25.0);
	/* No time passed, or the counter went back (a new cgroup): 0. */
	assert_true(pp_cpu_percent(0, NS_PER_SEC, 0) == 0.0);
	assert_true(pp_cpu_percent(NS_PER_SEC, 10, NS_PER_SEC) == 0.0);
}

static void test_millicores(void **state)
{
	(void)state;
	assert_int_equal(pp_cpu_millicores(0, NS_PER_SEC, NS_PER_SEC), 1000);
	assert_int_equal(pp_cpu_millicores(0, NS_PER_SEC / 2, NS_PER_SEC), 500);
	assert_int_equal(pp_cpu_millicores(0, 3 * NS_PER_SEC, 2 * NS_PER_SEC), 1500);
	/* A fraction of a millicore rounds up, as Quantity.MilliValue does. */
	assert_int_equal(pp_cpu_millicores(0, 1, NS_PER_SEC), 1);
	assert_int_equal(pp_cpu_millicores(0, 0, NS_PER_SEC), 0);
	assert_int_equal(pp_cpu_millicores(0, NS_PER_SEC, 0), 0);
	assert_int_equal(pp_cpu_millicores(NS_PER_SEC, 0, NS_PER_SEC), 0);
	/* Large counters (days of CPU time) do not overflow. */
	uint64_t day = 86400ULL * NS_PER_SEC;
	assert_int_equal(pp_cpu_millicores(100 * day, 100 * day + 2 * NS_PER_SEC, NS_PER_SEC),
			 2000);
}

static void test_read_missing(void **state)
{
	(void)state;
	struct pp_cgroup_stats st;
	struct pp_error *err = NULL;
	assert_int_equal(pp_cgroup_stats_read("/peapod-unit-test-no-such-cgroup/pod-x", &st, &err),
			 -1);
	assert_non_null(err);
	assert_false(st.has_cpu || st.has_memory || st.has_pids);
	pp_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_working_set),
	    cmocka_unit_test(test_cpu_percent),
	    cmocka_unit_test(test_millicores),
	    cmocka_unit_test(test_read_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
