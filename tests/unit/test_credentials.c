/* Credentials files (pull/credentials.h): auths keys from the most
 * specific to the registry, docker's legacy keys, Docker Hub's names,
 * credHelpers and credsStore through docker's helper protocol (a helper
 * script written here), podman's search order, and clear errors. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pull/credentials.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* base64 of "u1:p1", "u2:p2", "hub:pw", "ns:pw:with:colons" */
#define U1 "dTE6cDE="
#define U2 "dTI6cDI="
#define HUB "aHViOnB3"
#define NS "bnM6cHc6d2l0aDpjb2xvbnM="

static int parse(const char *text, const char *host, const char *repo, char **user, char **password,
		 struct pp_error **err)
{
	struct pp_credentials_query q = {.host = host, .repo = repo};
	return pp_credentials_parse(text, strlen(text), "auth.json", &q, user, password, err);
}

static void expect_pair(const char *text, const char *host, const char *repo, const char *want_user,
			const char *want_password)
{
	char *u = NULL, *p = NULL;
	struct pp_error *err = NULL;
	int r = parse(text, host, repo, &u, &p, &err);
	if (r < 0)
		fail_msg("%s: %s", host, err->msg);
	if (want_user == NULL) {
		if (r != 0)
			fail_msg("%s/%s: got %s, want none", host, repo ? repo : "", u);
		return;
	}
	assert_int_equal(r, 1);
	assert_string_equal(u, want_user);
	assert_string_equal(p, want_password);
	free(u);
	free(p);
}

static void expect_error(const char *text, const char *host, const char *want)
{
	char *u = NULL, *p = NULL;
	struct pp_error *err = NULL;
	if (parse(text, host, "a/b", &u, &p, &err) >= 0)
		fail_msg("accepted: %s", text);
	if (strstr(err->msg, want) == NULL || strncmp(err->msg, "auth.json: ", 11) != 0)
		fail_msg("%s: got \"%s\", want \"auth.json: ...%s\"", text, err->msg, want);
	assert_null(u);
	pp_error_free(&err);
}

static void test_auths(void **state)
{
	(void)state;
	const char *f = "{\"auths\": {"
			"\"reg.io\": {\"auth\": \"" U1 "\"},"
			"\"reg.io/team\": {\"auth\": \"" U2 "\"},"
			"\"reg.io/team/app\": {\"auth\": \"" NS "\"},"
			"\"https://index.docker.io/v1/\": {\"auth\": \"" HUB "\"},"
			"\"http://old.io/v1/\": {\"auth\": \"" U1 "\"},"
			"\"empty.io\": {}"
			"}, \"HttpHeaders\": {\"X\": \"y\"}}";
	expect_pair(f, "reg.io", "team/app", "ns", "pw:with:colons");
	expect_pair(f, "reg.io", "team/app/sub", "ns", "pw:with:colons");
	expect_pair(f, "reg.io", "team/other", "u2", "p2");
	expect_pair(f, "reg.io", "teams/x", "u1", "p1");
	expect_pair(f, "reg.io", NULL, "u1", "p1");
	expect_pair(f, "docker.io", "library/busybox", "hub", "pw");
	expect_pair(f, "registry-1.docker.io", NULL, "hub", "pw");
	expect_pair(f, "old.io", "x/y", "u1", "p1");
	expect_pair(f, "empty.io", "x/y", NULL, NULL);
	expect_pair(f, "other.io", "x/y", NULL, NULL);
	expect_pair("{}", "reg.io", "x", NULL, NULL);
	expect_pair("{\"auths\": {\"docker.io\": {\"auth\": \"" U2 "\"}}}", "docker.io",
		    "library/x", "u2", "p2");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("{\"auths\": ", "reg.io", "not JSON");
	expect_error("{} {}", "reg.io", "not JSON: more after the value");
	expect_error("[]", "reg.io", "not a JSON object");
	expect_error("{\"auths\": []}", "reg.io", "auths: not an object");
	expect_error("{\"auths\": {\"reg.io\": 1}}", "reg.io", "auths.\"reg.io\": not an object");
	expect_error("{\"auths\": {\"reg.io\": {\"auth\": 1}}}", "reg.io", "not a string");
	expect_error("{\"auths\": {\"reg.io\": {\"auth\": \"!!\"}}}", "reg.io",
		     "auths.\"reg.io\".auth: not base64 of user:password");
	expect_error("{\"auths\": {\"reg.io\": {\"auth\": \"bm9jb2xvbg==\"}}}", "reg.io",
		     "not base64 of user:password");
	expect_error("{\"auths\": {\"reg.io\": {\"identitytoken\": \"t\"}}}", "reg.io",
		     "identity tokens");
	expect_error("{\"credHelpers\": {\"reg.io\": \"no-such-helper-peapod\"}}", "reg.io",
		     "docker-credential-no-such-helper-peapod");
	expect_error("{\"credHelpers\": {\"reg.io\": \"../x\"}}", "reg.io", "not a name");
	expect_error("{\"credsStore\": 3}", "reg.io", "credsStore: not a string");
}

static char dir[] = "/tmp/test-credentials-XXXXXX";

static void write_file(const char *path, const char *text, mode_t mode)
{
	struct pp_error *err = NULL;
	if (pp_write_file_atomic(path, text, strlen(text), mode, &err) < 0)
		fail_msg("%s", err->msg);
}

/* A helper in PATH: answers for reg.io and Docker Hub's v1 URL, says "not
 * found" (exit 1) otherwise, as docker's helpers do. */
static void test_helpers(void **state)
{
	(void)state;
	cleanup_free char *helper = xasprintf("%s/docker-credential-peapodtest", dir);
	write_file(
	    helper,
	    "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r server\n"
	    "case $server in\n"
	    "reg.io) echo '{\"ServerURL\":\"reg.io\",\"Username\":\"hu\",\"Secret\":\"hs\"}' ;;\n"
	    "https://index.docker.io/v1/) echo '{\"Username\":\"hub\",\"Secret\":\"x\"}' ;;\n"
	    "bad.io) echo 'nonsense' ;;\n"
	    "fail.io) echo 'boom'; exit 2 ;;\n"
	    "*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
	    "esac\n",
	    0755);
	cleanup_free char *path = xasprintf("%s:%s", dir, getenv("PATH"));
	cleanup_free char *old = xstrdup(getenv("PATH"));
	setenv("PATH", path, 1);
	const char *f = "{\"credHelpers\": {\"reg.io\": \"peapodtest\", \"bad.io\": \"peapodtest\","
			"\"fail.io\": \"peapodtest\", \"none.io\": \"peapodtest\"},"
			"\"auths\": {\"none.io\": {\"auth\": \"" U1 "\"}}}";
	expect_pair(f, "reg.io", "a/b", "hu", "hs");
	expect_pair(f, "none.io", "a/b", NULL, NULL); /* the helper wins, and has none */
	expect_error(f, "bad.io", "not {\"Username\", \"Secret\"} JSON");
	expect_error(f, "fail.io", "exit status 2: boom");
	const char *store =
	    "{\"credsStore\": \"peapodtest\", \"auths\": {\"https://index.docker.io/v1/\": {}}}";
	expect_pair(store, "docker.io", "library/busybox", "hub", "x");
	expect_pair(store, "other.io", "x", NULL, NULL);
	setenv("PATH", old, 1);
}

/* --authfile alone, else REGISTRY_AUTH_FILE alone, else the places in
 * podman's order: the first that answers. */
static void test_lookup_order(void **state)
{
	(void)state;
	cleanup_free char *xdg = xasprintf("%s/xdg/containers", dir);
	cleanup_free char *home = xasprintf("%s/home/.config/containers", dir);
	cleanup_free char *docker = xasprintf("%s/home/.docker", dir);
	struct pp_error *err = NULL;
	assert_int_equal(pp_mkdir_p(xdg, 0755, &err), 0);
	assert_int_equal(pp_mkdir_p(home, 0755, &err), 0);
	assert_int_equal(pp_mkdir_p(docker, 0755, &err), 0);
	cleanup_free char *xdg_file = xasprintf("%s/auth.json", xdg);
	cleanup_free char *home_file = xasprintf("%s/auth.json", home);
	cleanup_free char *docker_file = xasprintf("%s/config.json", docker);
	write_file(xdg_file, "{\"auths\": {\"a.io\": {\"auth\": \"" U1 "\"}}}", 0600);
	write_file(home_file,
		   "{\"auths\": {\"a.io\": {\"auth\": \"" U2 "\"}, \"b.io\": {\"auth\": \"" U2
		   "\"}}}",
		   0600);
	write_file(docker_file, "{\"auths\": {\"c.io\": {\"auth\": \"" HUB "\"}}}", 0600);
	cleanup_free char *xdg_env = xasprintf("%s/xdg", dir);
	cleanup_free char *home_env = xasprintf("%s/home", dir);
	setenv("XDG_RUNTIME_DIR", xdg_env, 1);
	setenv("HOME", home_env, 1);
	unsetenv("DOCKER_CONFIG");
	unsetenv("REGISTRY_AUTH_FILE");
	struct {
		const char *host, *user;
	} cases[] = {{"a.io", "u1"}, {"b.io", "u2"}, {"c.io", "hub"}, {"d.io", NULL}};
	for (size_t i = 0; i < 4; i++) {
		char *u = NULL, *p = NULL;
		struct pp_credentials_query q = {.host = cases[i].host, .repo = "x/y"};
		int r = pp_credentials_lookup(&q, &u, &p, &err);
		assert_int_equal(r, cases[i].user ? 1 : 0);
		if (cases[i].user)
			assert_string_equal(u, cases[i].user);
		free(u);
		free(p);
	}
	/* REGISTRY_AUTH_FILE: that file only */
	setenv("REGISTRY_AUTH_FILE", docker_file, 1);
	char *u = NULL, *p = NULL;
	struct pp_credentials_query q = {.host = "a.io", .repo = "x/y"};
	assert_int_equal(pp_credentials_lookup(&q, &u, &p, &err), 0);
	/* --authfile over it; a missing one is an error */
	q.authfile = home_file;
	assert_int_equal(pp_credentials_lookup(&q, &u, &p, &err), 1);
	assert_string_equal(u, "u2");
	free(u);
	free(p);
	cleanup_free char *missing = xasprintf("%s/missing.json", dir);
	q.authfile = missing;
	assert_int_equal(pp_credentials_lookup(&q, &u, &p, &err), -1);
	assert_non_null(strstr(err->msg, "missing.json"));
	pp_error_free(&err);
	unsetenv("REGISTRY_AUTH_FILE");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	return pp_rm_rf(dir, &err);
}

/* kubelet's keyring (credentialprovider/keyring_test.go's cases): keys
 * made schemeless, path prefixes, globs in the host, ports, Docker Hub. */
static const char *keyring_users(const char *doc, bool bare, const char *image)
{
	static char out[256];
	struct pp_keyring kr = {0};
	struct pp_error *err = NULL;
	if (pp_keyring_add(&kr, doc, strlen(doc), bare, "s", &err) < 0)
		fail_msg("%s", err->msg);
	const struct pp_credential **c = NULL;
	size_t n = 0;
	pp_keyring_lookup(&kr, image, &c, &n);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "",
			 c[i]->user);
	free(c);
	pp_keyring_clear(&kr);
	return out;
}

static void test_keyring(void **state)
{
	(void)state;
	/* u1:p1 for the host, u2:p2 for a namespace: the namespace first */
	const char *doc = "{\"auths\": {\"https://reg.io/v1/\": {\"auth\": \"" U1 "\"},"
			  "\"reg.io/team\": {\"auth\": \"" U2 "\"},"
			  "\"*.corp.io:5000\": {\"username\": \"g\", \"password\": \"x\"},"
			  "\"https://index.docker.io/v1/\": {\"auth\": \"" HUB "\"}}}";
	assert_string_equal(keyring_users(doc, false, "reg.io/team/app"), "u2 u1");
	assert_string_equal(keyring_users(doc, false, "reg.io/other/app"), "u1");
	/* a string prefix of the path, as kubelet's URLsMatch */
	assert_string_equal(keyring_users(doc, false, "reg.io/teamx/app"), "u2 u1");
	assert_string_equal(keyring_users(doc, false, "a.reg.io/team/app"), "");
	assert_string_equal(keyring_users(doc, false, "r.corp.io:5000/a"), "g");
	assert_string_equal(keyring_users(doc, false, "r.corp.io/a"), "");
	assert_string_equal(keyring_users(doc, false, "a.b.corp.io:5000/a"), "");
	/* Docker Hub's v1 key: index.docker.io, for docker.io images */
	assert_string_equal(keyring_users(doc, false, "docker.io/library/busybox"), "hub");
	/* .dockercfg: the map itself; an entry with neither auth nor user skipped */
	const char *cfg = "{\"reg.io:5000\": {\"auth\": \"" U1 "\"}, \"x.io\": {\"email\": \"e\"}}";
	assert_string_equal(keyring_users(cfg, true, "reg.io:5000/a/b"), "u1");
	assert_string_equal(keyring_users(cfg, true, "reg.io/a/b"), "");
	/* errors name the document and the key, never a value */
	struct pp_keyring kr = {0};
	struct pp_error *err = NULL;
	const char *bad = "{\"auths\": {\"r.io\": {\"auth\": \"bm9jb2xvbg==\"}}}";
	assert_int_equal(pp_keyring_add(&kr, bad, strlen(bad), false, "secret \"s\"", &err), -1);
	assert_non_null(strstr(err->msg, "secret \"s\": auths.\"r.io\".auth: not base64 of"));
	pp_error_free(&err);
	assert_int_equal(pp_keyring_add(&kr, "{}", 2, false, "s", &err), -1);
	assert_string_equal(err->msg, "s: no \"auths\" object");
	pp_error_free(&err);
	pp_keyring_clear(&kr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auths),   cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_helpers), cmocka_unit_test(test_lookup_order),
	    cmocka_unit_test(test_keyring),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
