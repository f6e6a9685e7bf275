/* Label and field selectors against kubectl's grammar and semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/labelsel.h"

/* labels as "k=v" strings, NULL-ended */
static const char *get_label(void *ctx, const char *key)
{
	for (const char *const *l = ctx; *l; l++) {
		size_t n = strlen(key);
		if (strncmp(*l, key, n) == 0 && (*l)[n] == '=')
			return *l + n + 1;
	}
	return NULL;
}

static bool sel_match(const char *sel, const char *const *labels)
{
	struct pp_selector s;
	struct pp_error *err = NULL;
	if (pp_label_selector_parse(sel, &s, &err) < 0)
		fail_msg("\"%s\": %s", sel, err->msg);
	bool m = pp_selector_matches(&s, get_label, (void *)labels);
	pp_selector_free(&s);
	return m;
}

static void expect_bad(const char *sel, const char *msg_part)
{
	struct pp_selector s;
	struct pp_error *err = NULL;
	if (pp_label_selector_parse(sel, &s, &err) == 0)
		fail_msg("\"%s\" parsed", sel);
	if (strstr(err->msg, msg_part) == NULL)
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", sel, err->msg, msg_part);
	assert_int_equal(s.n, 0);
	pp_error_free(&err);
}

static void test_equality(void **state)
{
	(void)state;
	const char *web[] = {"app=web", "tier=front", "example.com/x=1", NULL};
	assert_true(sel_match("app=web", web));
	assert_true(sel_match("app==web", web));
	assert_true(sel_match(" app = web , tier=front ", web));
	assert_false(sel_match("app=db", web));
	assert_false(sel_match("app=web,tier=back", web));
	assert_true(sel_match("app!=db", web));
	assert_true(sel_match("missing!=x", web)); /* != holds without the label */
	assert_false(sel_match("app!=web", web));
	assert_true(sel_match("example.com/x=1", web));
	assert_true(sel_match("", web));
	assert_false(sel_match("app=", web));
	const char *empty[] = {"app=", NULL};
	assert_true(sel_match("app=", empty));
}

static void test_set_based(void **state)
{
	(void)state;
	const char *web[] = {"app=web", "tier=front", "n=5", NULL};
	assert_true(sel_match("app in (web,db)", web));
	assert_true(sel_match("app in (web)", web));
	assert_false(sel_match("app in (db, cache)", web));
	assert_true(sel_match("app notin (db)", web));
	assert_false(sel_match("app notin (db,web)", web));
	assert_true(sel_match("missing notin (x)", web));
	assert_false(sel_match("missing in (x)", web));
	assert_true(sel_match("app", web));
	assert_false(sel_match("missing", web));
	assert_true(sel_match("!missing", web));
	assert_false(sel_match("!app", web));
	assert_true(sel_match("app,tier in (front),!x,n>3,n<6", web));
	assert_false(sel_match("n>5", web));
}

static void test_errors(void **state)
{
	(void)state;
	expect_bad("app=web,", "expected: identifier after ','");
	expect_bad(",app", "found ',', expected: identifier");
	expect_bad("app in web", "expected: '('");
	expect_bad("app in (web", "expected: ')'");
	expect_bad("app = a b", "expected: ',' or 'end of string'");
	expect_bad("!app=x", "expected: ',' or 'end of string'");
	expect_bad("app ~ x", "expected: [!= < = == > in notin]");
	expect_bad("-app=x", "invalid label key \"-app\"");
	expect_bad("app=-x", "invalid label value: \"-x\"");
	expect_bad("Example.com/app=x", "prefix part");
	expect_bad("a/b/c", "qualified name");
	expect_bad("n>x", "must be an integer");
	expect_bad("app=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		   "no more than 63");
	assert_true(sel_match("app==", (const char *[]){"app=", NULL}));
	expect_bad("in in (x)", "found 'in', expected: identifier"); /* a keyword, as kubectl */
}

static void test_fields(void **state)
{
	(void)state;
	static const char *const allowed[] = {"metadata.name", "status.phase", NULL};
	const char *pod[] = {"metadata.name=web-1", "status.phase=Running", NULL};
	struct pp_selector s;
	struct pp_error *err = NULL;
	assert_int_equal(
	    pp_field_selector_parse("status.phase=Running,metadata.name!=x", allowed, &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_true(pp_selector_matches(&s, get_label, (void *)pod));
	pp_selector_free(&s);
	assert_int_equal(pp_field_selector_parse("status.phase==Pending", allowed, &s, &err), 0);
	assert_false(pp_selector_matches(&s, get_label, (void *)pod));
	pp_selector_free(&s);
	assert_int_equal(pp_field_selector_parse("spec.nodeName=x", allowed, &s, &err), -1);
	assert_string_equal(err->msg, "field label not supported: spec.nodeName");
	pp_error_free(&err);
	assert_int_equal(pp_field_selector_parse("status.phase", allowed, &s, &err), -1);
	assert_non_null(strstr(err->msg, "can't understand 'status.phase'"));
	pp_error_free(&err);
	assert_int_equal(pp_field_selector_parse("metadata.name=a\\,b", allowed, &s, &err), 0);
	assert_string_equal(s.reqs[0].values[0], "a,b");
	pp_selector_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equality),
	    cmocka_unit_test(test_set_based),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
