/* kubectl's JSONPath templates over a pod list as `get -o json` prints it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/jsonpath.h"

static const char *const DOC =
    "{\"kind\":\"List\",\"items\":["
    "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\",\"a.b/c\":\"x\"}},"
    "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"main\","
    "\"ready\":true,\"restartCount\":2},{\"name\":\"side\",\"ready\":false,"
    "\"restartCount\":0}]}},"
    "{\"metadata\":{\"name\":\"job\"},\"status\":{\"phase\":\"Succeeded\","
    "\"containerStatuses\":[{\"name\":\"main\",\"ready\":false,\"restartCount\":0}]}}]}";

static char *run(const char *tmpl, bool allow_missing, int *ret)
{
	struct json_object *doc = json_tokener_parse(DOC);
	assert_non_null(doc);
	struct pp_jsonpath *jp = NULL;
	struct pp_error *err = NULL;
	if (pp_jsonpath_parse(tmpl, &jp, &err) < 0)
		fail_msg("%s: %s", tmpl, err->msg);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	*ret = pp_jsonpath_print(jp, doc, allow_missing, f, &err);
	fclose(f);
	if (*ret < 0) {
		free(buf);
		buf = strdup(err->msg);
	}
	pp_error_free(&err);
	pp_jsonpath_free(jp);
	json_object_put(doc);
	return buf;
}

static void expect(const char *tmpl, const char *want)
{
	int r;
	char *got = run(tmpl, false, &r);
	if (r < 0 || strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", tmpl, got, want);
	free(got);
}

static void test_paths(void **state)
{
	(void)state;
	expect("{.items[*].metadata.name}", "web job");
	expect("{.items[0].metadata.name}", "web");
	expect("{.items[-1].metadata.name}", "job");
	expect("{.items[0:1].metadata.name}", "web");
	expect("{$.kind}", "List");
	expect("kind={.kind}!", "kind=List!");
	expect("{.items[0].metadata.labels}", "{\"app\":\"web\",\"a.b/c\":\"x\"}");
	expect("{.items[0].metadata.labels['a.b/c']}", "x");
	expect("{.items[0].status.containerStatuses[*].ready}", "true false");
	expect("{..restartCount}", "2 0 0");
	expect("{.items[*].status.containerStatuses[?(@.name==\"side\")].ready}", "false");
	expect("{.items[?(@.status.phase==\"Succeeded\")].metadata.name}", "job");
	expect("{.items[?(@.status.phase!='Succeeded')].metadata.name}", "web");
	expect("{.items[0].status.containerStatuses[?(@.restartCount>1)].name}", "main");
	expect("{.items[?(@.metadata.labels)].metadata.name}", "web");
}

static void test_range(void **state)
{
	(void)state;
	expect("{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}",
	       "web\tRunning\njob\tSucceeded\n");
	expect("{range .items[*]}[{range .status.containerStatuses[*]}{.name},{end}]{end}",
	       "[main,side,][main,]");
	expect("{range .items[*]}{@.metadata.name} {end}", "web job ");
}

static void test_missing_and_errors(void **state)
{
	(void)state;
	int r;
	char *got = run("{.items[0].spec.nodeName}", false, &r);
	assert_int_equal(r, -1);
	assert_string_equal(got, "spec is not found");
	free(got);
	got = run("{.items[0].spec.nodeName}", true, &r);
	assert_int_equal(r, 0);
	assert_string_equal(got, "");
	free(got);
	const char *bad[] = {"{.items[*]",     "{range .items[*]}x", "{end}",  "{.items[}",
			     "{.a[?(@.x==)]}", "{.a[?(x==1)]}",	     "{.a b}", "{}",
			     "{.a[x]}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct pp_jsonpath *jp = NULL;
		struct pp_error *err = NULL;
		if (pp_jsonpath_parse(bad[i], &jp, &err) == 0)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_non_null(strstr(err->msg, bad[i]));
		pp_error_free(&err);
	}
}

static void test_relaxed(void **state)
{
	(void)state;
	struct json_object *doc = json_tokener_parse(DOC);
	const char *forms[] = {".kind", "kind", "{.kind}"};
	for (size_t i = 0; i < 3; i++) {
		struct pp_jsonpath *jp = NULL;
		assert_int_equal(pp_jsonpath_parse_relaxed(forms[i], &jp, NULL), 0);
		assert_string_equal(json_object_get_string(pp_jsonpath_first(jp, doc)), "List");
		pp_jsonpath_free(jp);
	}
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_missing_and_errors),
	    cmocka_unit_test(test_relaxed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
