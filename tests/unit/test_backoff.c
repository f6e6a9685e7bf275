/* The crash-loop back-off: kubelet's durations (what users get), their
 * sequence and reset, and the test-only scale factor. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "supervisor/backoff.h"

#define S 1000000000LL

static void test_defaults(void **state)
{
	(void)state;
	struct pp_backoff b;
	pp_backoff_init(&b, 1);
	assert_int_equal(b.initial_ns, 10 * S);
	assert_int_equal(b.max_ns, 300 * S);
	assert_int_equal(b.reset_ns, 600 * S);
	/* a scale that is not a number in (0, 1] changes nothing */
	const double bad[] = {0, -0.5, 2, NAN};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		pp_backoff_init(&b, bad[k]);
		assert_int_equal(b.initial_ns, 10 * S);
		assert_int_equal(b.reset_ns, 600 * S);
	}
}

static void test_sequence(void **state)
{
	(void)state;
	struct pp_backoff b;
	pp_backoff_init(&b, 1);
	int64_t next = 0;
	/* at once, then 10 s doubling, capped at 300 s */
	static const int64_t want[] = {0, 10, 20, 40, 80, 160, 300, 300};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		assert_int_equal(pp_backoff_next(&b, &next, 1 * S), want[k] * S);
	/* 9 min 59 s of running is not enough to forget */
	assert_int_equal(pp_backoff_next(&b, &next, 599 * S), 300 * S);
	/* 10 minutes: from scratch */
	assert_int_equal(pp_backoff_next(&b, &next, 600 * S), 0);
	assert_int_equal(pp_backoff_next(&b, &next, 0), 10 * S);
}

static void test_scale(void **state)
{
	(void)state;
	struct pp_backoff b;
	pp_backoff_init(&b, 0.01);
	assert_int_equal(b.initial_ns, S / 10);
	assert_int_equal(b.max_ns, 3 * S);
	assert_int_equal(b.reset_ns, 6 * S);
	int64_t next = 0;
	assert_int_equal(pp_backoff_next(&b, &next, 0), 0);
	assert_int_equal(pp_backoff_next(&b, &next, 0), S / 10);
	assert_int_equal(pp_backoff_next(&b, &next, 6 * S), 0);
	pp_backoff_init(&b, 1);
	assert_int_equal(b.max_ns, 300 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_sequence),
	    cmocka_unit_test(test_scale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
