/* The strict TOML reader (util/toml.h) and registries.conf v2
 * (pull/registries_conf.h): what podman's files hold is read, what they
 * may not hold is refused with FILE:LINE:COL, and references go where
 * containers-registries.conf(5) says (longest prefix, mirrors in order,
 * digest-only and tag-only mirrors, blocked registries, drop-ins). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pull/registries_conf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/toml.h"

static struct pp_toml_value *toml_ok(const char *text)
{
	struct pp_toml_value *root = NULL;
	struct pp_error *err = NULL;
	if (pp_toml_parse(text, strlen(text), "t.toml", &root, &err) < 0)
		fail_msg("%s: %s", text, err->msg);
	return root;
}

/* The error starts with "t.toml:LINE:COL: " and holds want. */
static void toml_bad(const char *text, const char *where, const char *want)
{
	struct pp_toml_value *root = NULL;
	struct pp_error *err = NULL;
	if (pp_toml_parse(text, strlen(text), "t.toml", &root, &err) == 0)
		fail_msg("parsed but should not: %s", text);
	cleanup_free char *prefix = xasprintf("t.toml:%s: ", where);
	if (strncmp(err->msg, prefix, strlen(prefix)) != 0 || strstr(err->msg, want) == NULL)
		fail_msg("%s: got \"%s\", want \"%s...%s\"", text, err->msg, prefix, want);
	pp_error_free(&err);
}

static void test_toml_values(void **state)
{
	(void)state;
	struct pp_toml_value *r = toml_ok("# comment\n"
					  "a = \"x\\ty\\u00e9\\\"\" # after\n"
					  "b = 'C:\\path'\n"
					  "c = true\nd = false\n"
					  "e = -1_000\nf = 0\n"
					  "g = [ \"one\", # c\n 'two',\n]\n"
					  "\"quoted key\" = 1\n"
					  "h.i = 2\r\n"
					  "empty = []\n");
	assert_string_equal(pp_toml_get(r, "a")->str, "x\ty\xc3\xa9\"");
	assert_string_equal(pp_toml_get(r, "b")->str, "C:\\path");
	assert_true(pp_toml_get(r, "c")->boolean);
	assert_false(pp_toml_get(r, "d")->boolean);
	assert_int_equal(pp_toml_get(r, "e")->integer, -1000);
	assert_int_equal(pp_toml_get(r, "f")->integer, 0);
	const struct pp_toml_value *g = pp_toml_get(r, "g");
	assert_int_equal(g->type, PP_TOML_ARRAY);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->items[1]->str, "two");
	assert_int_equal(g->items[1]->line, 9);
	assert_int_equal(pp_toml_get(r, "quoted key")->integer, 1);
	assert_int_equal(pp_toml_get(pp_toml_get(r, "h"), "i")->integer, 2);
	assert_int_equal(pp_toml_get(r, "empty")->n, 0);
	pp_toml_free(r);
}

static void test_toml_tables(void **state)
{
	(void)state;
	struct pp_toml_value *r = toml_ok("[[registry]]\nprefix = \"a\"\n"
					  "[[registry.mirror]]\nlocation = \"m1\"\n"
					  "[[registry.mirror]]\nlocation = \"m2\"\n"
					  "[[registry]]\nprefix = \"b\"\n"
					  "[aliases]\n\"x\" = \"y\"\n"
					  "[a.b.c]\nk = 1\n[a]\nl = 2\n");
	const struct pp_toml_value *reg = pp_toml_get(r, "registry");
	assert_true(reg->array_of_tables);
	assert_int_equal(reg->n, 2);
	const struct pp_toml_value *m = pp_toml_get(reg->items[0], "mirror");
	assert_int_equal(m->n, 2);
	assert_string_equal(pp_toml_get(m->items[1], "location")->str, "m2");
	assert_null(pp_toml_get(reg->items[1], "mirror"));
	assert_string_equal(pp_toml_get(pp_toml_get(r, "aliases"), "x")->str, "y");
	const struct pp_toml_value *a = pp_toml_get(r, "a");
	assert_int_equal(pp_toml_get(a, "l")->integer, 2);
	assert_int_equal(pp_toml_get(pp_toml_get(pp_toml_get(a, "b"), "c"), "k")->integer, 1);
	pp_toml_free(r);
}

static void test_toml_refused(void **state)
{
	(void)state;
	toml_bad("a = 1\na = 2\n", "2:1", "\"a\" defined twice");
	toml_bad("[t]\n[t]\n", "2:1", "\"t\" defined twice");
	toml_bad("a = 1\n[[a]]\n", "2:1", "not an array of tables");
	toml_bad("a = 1.5\n", "1:5", "floats are not supported");
	toml_bad("a = 1e3\n", "1:5", "floats");
	toml_bad("a = inf\n", "1:5", "floats");
	toml_bad("a = 1979-05-27\n", "1:5", "dates");
	toml_bad("a = 0x10\n", "1:5", "hexadecimal");
	toml_bad("a = 007\n", "1:5", "leading zero");
	toml_bad("a = 99999999999999999999\n", "1:5", "out of range");
	toml_bad("a = \"\"\"x\"\"\"\n", "1:5", "multi-line strings");
	toml_bad("a = { b = 1 }\n", "1:5", "inline tables");
	toml_bad("a = \"open\n", "1:5", "not closed");
	toml_bad("a = \"\\q\"\n", "1:6", "unknown escape");
	toml_bad("a = \"\\ud800\"\n", "1:6", "invalid");
	toml_bad("a = bare\n", "1:5", "strings are quoted");
	toml_bad("a = truex\n", "1:5", "strings are quoted");
	toml_bad("a = 1 b = 2\n", "1:7", "end of the line");
	toml_bad("a\n", "1:2", "expected '='");
	toml_bad("= 1\n", "1:1", "expected a key");
	toml_bad("a =\n", "1:4", "expected a value");
	toml_bad("[a\n", "1:3", "expected ']'");
	toml_bad("[[a]\n", "1:4", "expected ']]'");
	toml_bad("a = [1 2]\n", "1:8", "expected ',' or ']'");
	toml_bad("a = [\n", "2:1", "expected a value");
	toml_bad("a = \"\x01\"\n", "1:6", "control character");
	toml_bad("a = \"\xc3\"\n", "1:6", "not UTF-8");
	toml_bad("x = 1\na = \"\xff\"\n", "2:6", "not UTF-8");
	toml_bad("a = 1\na.b = 2\n", "2:1", "not a table");
	char deep[200];
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "a = ", 4);
	deep[sizeof(deep) - 1] = '\0';
	toml_bad(deep, "1:38", "nested more than 32");
}

static int conf_parse(const char *text, struct pp_registries_conf *conf, struct pp_error **err)
{
	return pp_registries_conf_parse(text, strlen(text), "r.conf", conf, err);
}

static void conf_bad(const char *text, const char *want)
{
	struct pp_registries_conf conf = {0};
	struct pp_error *err = NULL;
	if (conf_parse(text, &conf, &err) == 0)
		fail_msg("accepted: %s", text);
	if (strncmp(err->msg, "r.conf:", 7) != 0 || strstr(err->msg, want) == NULL)
		fail_msg("%s: got \"%s\", want \"r.conf:...%s\"", text, err->msg, want);
	assert_int_equal(conf.n, 0);
	pp_error_free(&err);
}

static void test_conf_refused(void **state)
{
	(void)state;
	conf_bad("[registries.search]\nregistries = []\n", "version 1");
	conf_bad("foo = 1\n", "r.conf:1:7: unknown setting foo");
	conf_bad("[[registry]]\nprefix = \"a.io\"\nfoo = true\n",
		 "r.conf:3:7: unknown setting registry.foo");
	conf_bad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nloc = \"x\"\n",
		 "r.conf:4:7: unknown setting registry.mirror.loc");
	conf_bad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n",
		 "r.conf:3:1: [[registry.mirror]] without a location");
	conf_bad("[[registry]]\ninsecure = true\n", "without a prefix or a location");
	conf_bad("[[registry]]\nlocation = \"https://a.io\"\n", "no URL scheme");
	conf_bad("[[registry]]\nlocation = 1\n",
		 "registry.location: want a string, not an integer");
	conf_bad("[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"\n",
		 "registry.insecure: want a boolean");
	conf_bad("[[registry]]\nprefix = \"a.io/x:1\"\n", "a tag or digest");
	conf_bad("[[registry]]\nprefix = \"a.io/\"\n", "is not host");
	conf_bad("[[registry]]\nprefix = \"*.a.io\"\nlocation = \"b.io\"\n", "wildcard");
	conf_bad("[[registry]]\nprefix = \"*.\"\n", "is not *.domain");
	conf_bad("[[registry]]\nlocation = \"a.io\"\n[[registry]]\nlocation = \"a.io\"\n",
		 "r.conf:3:1: prefix \"a.io\" already in [[registry]] at r.conf:1");
	conf_bad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"m\"\n"
		 "pull-from-mirror = \"some\"\n",
		 "not all, digest-only or tag-only");
	conf_bad("[registry]\nlocation = \"a.io\"\n", "want [[registry]] tables");
	conf_bad("short-name-mode = 1\n", "short-name-mode: want a string");
}

/* The endpoints of ref under conf as "host/repo[ insecure][ mirror]" lines. */
static char *endpoints(const struct pp_registries_conf *conf, const char *ref)
{
	struct pp_image_ref r = {0};
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_ref_parse(ref, &r, &err), 0);
	struct pp_pull_endpoint *e = NULL;
	size_t n = 0;
	char *out = xstrdup("");
	if (pp_registries_conf_endpoints(conf, &r, &e, &n, &err) < 0) {
		free(out);
		out = xasprintf("error: %s", err->msg);
		pp_error_free(&err);
	}
	for (size_t i = 0; i < n; i++) {
		char *next =
		    xasprintf("%s%s/%s%s%s\n", out, e[i].host, e[i].repo,
			      e[i].insecure ? " insecure" : "", e[i].mirror ? " mirror" : "");
		free(out);
		out = next;
	}
	pp_pull_endpoints_free(e, n);
	pp_image_ref_free(&r);
	return out;
}

static void expect_endpoints(const struct pp_registries_conf *conf, const char *ref,
			     const char *want)
{
	cleanup_free char *got = endpoints(conf, ref);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\ngot:\n%s\nwant:\n%s", ref, got, want);
}

#define DIGEST "sha256:0123456789012345678901234567890123456789012345678901234567890123"

static void test_conf_endpoints(void **state)
{
	(void)state;
	struct pp_registries_conf conf = {0};
	struct pp_error *err = NULL;
	const char *text = "unqualified-search-registries = [\"docker.io\"]\n"
			   "short-name-mode = \"enforcing\"\n"
			   "[[registry]]\n"
			   "prefix = \"docker.io\"\n"
			   "location = \"docker.io\"\n"
			   "[[registry.mirror]]\n"
			   "location = \"mirror.local:5000/hub\"\n"
			   "insecure = true\n"
			   "[[registry.mirror]]\n"
			   "location = \"digests.local\"\n"
			   "pull-from-mirror = \"digest-only\"\n"
			   "[[registry.mirror]]\n"
			   "location = \"tags.local\"\n"
			   "pull-from-mirror = \"tag-only\"\n"
			   "[[registry]]\n"
			   "prefix = \"docker.io/library/busybox\"\n"
			   "location = \"local:5000/bb\"\n"
			   "insecure = true\n"
			   "[[registry]]\n"
			   "location = \"bad.io\"\n"
			   "blocked = true\n"
			   "[[registry]]\n"
			   "prefix = \"*.corp.example\"\n"
			   "insecure = true\n"
			   "[[registry]]\n"
			   "location = \"quay.io/team\"\n"
			   "mirror-by-digest-only = true\n"
			   "[[registry.mirror]]\n"
			   "location = \"quaymirror.local/q\"\n"
			   "[aliases]\n"
			   "\"busybox\" = \"docker.io/library/busybox\"\n";
	if (conf_parse(text, &conf, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(conf.n, 5);
	expect_endpoints(&conf, "redis:7",
			 "mirror.local:5000/hub/library/redis insecure mirror\n"
			 "tags.local/library/redis mirror\n"
			 "docker.io/library/redis\n");
	expect_endpoints(&conf, "redis@" DIGEST,
			 "mirror.local:5000/hub/library/redis insecure mirror\n"
			 "digests.local/library/redis mirror\n"
			 "docker.io/library/redis\n");
	/* the longest prefix wins, its mirrors (none) only */
	expect_endpoints(&conf, "busybox:1.36", "local:5000/bb insecure\n");
	/* a prefix ends at a path component */
	expect_endpoints(&conf, "docker.io/library/busyboxer:1",
			 "mirror.local:5000/hub/library/busyboxer insecure mirror\n"
			 "tags.local/library/busyboxer mirror\n"
			 "docker.io/library/busyboxer\n");
	expect_endpoints(&conf, "bad.io/x/y:1",
			 "error: registry bad.io is blocked (registries.conf, r.conf:19)");
	expect_endpoints(&conf, "bad.io.other/x:1", "bad.io.other/x\n");
	expect_endpoints(&conf, "reg.corp.example:5000/a/b:1",
			 "reg.corp.example:5000/a/b insecure\n");
	expect_endpoints(&conf, "corp.example/a:1", "corp.example/a\n");
	expect_endpoints(&conf, "quay.io/team/app:1", "quay.io/team/app\n");
	expect_endpoints(&conf, "quay.io/team/app@" DIGEST,
			 "quaymirror.local/q/app mirror\nquay.io/team/app\n");
	expect_endpoints(&conf, "quay.io/other/app:1", "quay.io/other/app\n");
	expect_endpoints(NULL, "quay.io/other/app:1", "quay.io/other/app\n");

	/* a later file (a drop-in) replaces the entry of the same prefix */
	if (conf_parse("[[registry]]\nlocation = \"bad.io\"\n", &conf, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(conf.n, 5);
	expect_endpoints(&conf, "bad.io/x/y:1", "bad.io/x/y\n");
	pp_registries_conf_clear(&conf);
}

static void write_file(const char *path, const char *text)
{
	struct pp_error *err = NULL;
	if (pp_write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
		fail_msg("%s", err->msg);
}

/* The main file, then registries.conf.d/\*.conf in lexical order; other
 * names skipped; a missing file is no settings; an error names its file. */
static void test_conf_dropins(void **state)
{
	(void)state;
	char dir[] = "/tmp/test-registries-conf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	cleanup_free char *main_file = xasprintf("%s/registries.conf", dir);
	cleanup_free char *d = xasprintf("%s/registries.conf.d", dir);
	struct pp_registries_conf conf = {0};
	struct pp_error *err = NULL;
	assert_int_equal(pp_registries_conf_load(main_file, &conf, &err), 0);
	assert_int_equal(conf.n, 0);

	write_file(main_file, "[[registry]]\nlocation = \"a.io\"\ninsecure = true\n");
	assert_int_equal(mkdir(d, 0755), 0);
	cleanup_free char *f1 = xasprintf("%s/20-b.conf", d);
	cleanup_free char *f2 = xasprintf("%s/10-a.conf", d);
	cleanup_free char *f3 = xasprintf("%s/30-c.conf.rpmsave", d);
	write_file(f1, "[[registry]]\nlocation = \"a.io\"\nblocked = true\n");
	write_file(f2, "[[registry]]\nlocation = \"a.io\"\n");
	write_file(f3, "this is not toml");
	if (pp_registries_conf_load(main_file, &conf, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(conf.n, 1);
	assert_true(conf.entries[0].blocked);
	assert_false(conf.entries[0].insecure);
	assert_non_null(strstr(conf.entries[0].where, "20-b.conf:1"));
	pp_registries_conf_clear(&conf);

	cleanup_free char *f4 = xasprintf("%s/40-bad.conf", d);
	write_file(f4, "[[registry]]\nlocation = \"a.io\"\nmirrors = []\n");
	assert_int_equal(pp_registries_conf_load(main_file, &conf, &err), -1);
	cleanup_free char *want = xasprintf("%s:3:11: unknown setting registry.mirrors", f4);
	assert_string_equal(err->msg, want);
	assert_int_equal(conf.n, 0);
	pp_error_free(&err);
	assert_int_equal(pp_rm_rf(dir, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_toml_values),	   cmocka_unit_test(test_toml_tables),
	    cmocka_unit_test(test_toml_refused),   cmocka_unit_test(test_conf_refused),
	    cmocka_unit_test(test_conf_endpoints), cmocka_unit_test(test_conf_dropins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
