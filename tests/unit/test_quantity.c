/* pp_quantity_parse against the API server's resource.Quantity grammar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/manifest.h"

static void expect_q(const char *text, int64_t milli, int64_t value)
{
	struct pp_quantity q = {0};
	struct pp_error *err = NULL;
	assert_int_equal(pp_quantity_parse(text, &q, &err), 0);
	assert_true(q.set);
	assert_string_equal(q.text, text);
	if (q.milli != milli || q.value != value)
		fail_msg("%s: milli %lld value %lld, want %lld %lld", text, (long long)q.milli,
			 (long long)q.value, (long long)milli, (long long)value);
	free(q.text);
}

static void expect_bad(const char *text)
{
	struct pp_quantity q = {0};
	struct pp_error *err = NULL;
	if (pp_quantity_parse(text, &q, &err) == 0)
		fail_msg("\"%s\" parsed but is not a quantity", text);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, text));
	assert_false(q.set);
	pp_error_free(&err);
}

static void test_valid(void **state)
{
	(void)state;
	expect_q("500m", 500, 1);
	expect_q("1.5", 1500, 2);
	expect_q("64Mi", 64LL * 1024 * 1024 * 1000, 64LL * 1024 * 1024);
	expect_q("1e3", 1000000, 1000);
	expect_q("128974848", 128974848000LL, 128974848);
	expect_q("0.1", 100, 1);
	expect_q("1Ki", 1024000, 1024);
	expect_q(".5", 500, 1);
	expect_q("5.", 5000, 5);
	expect_q("0", 0, 0);
	expect_q("1m", 1, 1);
	expect_q("1n", 1, 1); /* rounds up */
	expect_q("2k", 2000000, 2000);
	expect_q("1E", INT64_MAX, 1000000000000000000LL);
	expect_q("1E-2", 10, 1);
	expect_q("+1.25G", 1250000000000LL, 1250000000);
	expect_q("100Ei", INT64_MAX, INT64_MAX); /* saturates */
	expect_q("1e100000", INT64_MAX, INT64_MAX);
	expect_q("0.0000000000000000000000000000000000000000001", 1, 1);
	expect_q("123456789012345678901234567890123", INT64_MAX, INT64_MAX);
	expect_q("-1.5", -1500, -1); /* towards +infinity */
}

/* kubelet's bandwidth limits: 1k .. 1P bits/s, fractions rounded up. */
static void test_bandwidth(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t bits; /* 0: refused */
	} cases[] = {{"10M", 10000000},
		     {"1k", 1000},
		     {"1P", 1000000000000000LL},
		     {"1.5Gi", 1610612736},
		     {"999.5", 1000},
		     {"999", 0},
		     {"1001T", 0},
		     {"-10M", 0},
		     {"10 M", 0},
		     {"", 0},
		     {"1Pi", 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_error *err = NULL;
		int64_t bits = -1;
		int r = pp_bandwidth_parse(cases[i].text, &bits, &err);
		if (cases[i].bits == 0) {
			assert_int_equal(r, -1);
			assert_non_null(err);
			pp_error_free(&err);
		} else {
			assert_int_equal(r, 0);
			assert_true(bits == cases[i].bits);
		}
	}
}

static void test_invalid(void **state)
{
	(void)state;
	expect_bad("1.2.3");
	expect_bad("Mi");
	expect_bad("1mi");
	expect_bad("1 Gi");
	expect_bad("-");
	expect_bad("1e");
	expect_bad("");
	expect_bad(".");
	expect_bad("1KiB");
	expect_bad("1e1.5");
	expect_bad(" 1");
	expect_bad("0x10");
	expect_bad("1i");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_bandwidth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
