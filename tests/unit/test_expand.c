/* pp_expand_vars: Kubernetes' $(VAR) expansion, case by case from
 * third_party/forked/golang/expansion/expand_test.go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/manifest.h"

static const char *lookup(void *ctx, const char *name)
{
	static const char *const vars[][2] = {
	    {"VAR_A", "A"},	     {"VAR_B", "B"},	{"VAR_C", "C"},
	    {"VAR_REF", "$(VAR_A)"}, {"VAR_EMPTY", ""}, {"BLOCK", "$$(VAR_B)"},
	};
	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(vars[i][0], name) == 0)
			return vars[i][1];
	return NULL;
}

static void expect(const char *in, const char *want)
{
	char *got = pp_expand_vars(in, lookup, NULL);
	if (strcmp(got, want) != 0)
		fail_msg("expand(\"%s\") = \"%s\", want \"%s\"", in, got, want);
	free(got);
}

static void test_expand(void **state)
{
	(void)state;
	expect("$(VAR_A)", "A");
	expect("___$(VAR_B)___", "___B___");
	expect("$(VAR_A)-$(VAR_A)", "A-A");
	expect("$(VAR_A)$(VAR_B)$(VAR_C)", "ABC");
	expect("$(VAR_REF)", "$(VAR_A)"); /* no recursion */
	expect("$(VAR_EMPTY)", "");
	expect("$(UNKNOWN)", "$(UNKNOWN)");
	expect("f00__(VAR_A)__", "f00__(VAR_A)__");
	expect("$$(VAR_B)_______$(VAR_A)", "$(VAR_B)_______A");
	expect("$$$(VAR_A)", "$A");
	expect("$$$$(VAR_A)", "$$(VAR_A)");
	expect("$$", "$");
	expect("$$$", "$$");
	expect("$", "$");
	expect("$$(", "$(");
	expect("$(VAR_A", "$(VAR_A");
	expect("$(", "$(");
	expect("$()", "$()");
	expect("$VAR_A", "$VAR_A");
	expect("$(VAR_A)$", "A$");
	expect("$(VAR_A)$$", "A$");
	expect("foo\\$(VAR_A)", "foo\\A");
	expect("$(VAR_A)$(VAR_B", "A$(VAR_B");
	expect("$(VAR_A)))", "A))");
	expect("$((VAR_A))", "$((VAR_A))");
	expect("$(BLOCK)", "$$(VAR_B)");
	expect("", "");
	expect("plain text", "plain text");
}

static void test_null_lookup(void **state)
{
	(void)state;
	char *s = pp_expand_vars("$(A) $$ x", NULL, NULL);
	assert_string_equal(s, "$(A) $ x");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_null_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
