/* The registry client (src/registry) against registries on 127.0.0.1:
 * tests/lib/registry-fixture.py's fake one, whose repositories misbehave on
 * purpose (429, 503, a connection dropped mid-blob, wrong bytes, a redirect
 * to another port, Bearer and Basic challenges) and log what they
 * received, and Debian's docker-registry filled by skopeo (skipped when
 * either is missing). Also the pure parsers of registry answers.
 *
 * cmocka rather than bats: what is checked is the library's API (errors'
 * text and errno, the token cache, digests), which a C test sees directly;
 * the fixture script holds the servers and cleans up when its stdin closes,
 * even if the test dies. */
#include <dlfcn.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry.h"
#include "registry/response.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/digest.h"

#define FIXTURE "tests/lib/registry-fixture.py"

/* ---- the pure parsers ---- */

static void test_token_parse(void **state)
{
	(void)state;
	char *tok;
	int64_t ttl;
	struct pp_error *err = NULL;
#define TOKEN_OK(json, want, want_ttl)                                                             \
	do {                                                                                       \
		assert_int_equal(pp_registry_token_parse(json, strlen(json), &tok, &ttl, &err),    \
				 0);                                                               \
		assert_string_equal(tok, want);                                                    \
		assert_int_equal(ttl, want_ttl);                                                   \
		free(tok);                                                                         \
	} while (0)
	TOKEN_OK("{\"token\":\"abc\",\"expires_in\":300}", "abc", 300);
	TOKEN_OK("{\"access_token\":\"xyz\"}", "xyz", 0);
	TOKEN_OK("{\"token\":\"\",\"access_token\":\"xyz\",\"issued_at\":\"2020\"}", "xyz", 0);
	TOKEN_OK("{\"token\":\"a\",\"access_token\":\"b\",\"expires_in\":-5}", "a", 0);
	const char *bad[] = {"",
			     "[]",
			     "{}",
			     "{\"token\":5}",
			     "{\"token\":\"a b\"}",
			     "{\"token\":\"a\",\"expires_in\":\"60\"}",
			     "{\"token\":\"a\"",
			     "null"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pp_registry_token_parse(bad[i], strlen(bad[i]), &tok, &ttl, &err),
				 -1);
		assert_null(tok);
		pp_error_free(&err);
	}
}

static void test_errors_text(void **state)
{
	(void)state;
	const char *one = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication "
			  "required\",\"detail\":[{\"Type\":\"repository\"}]}]}";
	char *t = pp_registry_errors_text(one, strlen(one));
	assert_string_equal(t, "unauthorized: authentication required");
	free(t);
	const char *two = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"m\\nx\"},7,"
			  "{\"message\":\"only\"}]}";
	t = pp_registry_errors_text(two, strlen(two));
	assert_string_equal(t, "manifest unknown: m?x; only");
	free(t);
	const char *none[] = {"",    "not json",	  "{\"errors\":[]}", "{\"errors\":[{}]}",
			      "[1]", "{\"errors\":\"x\"}"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_null(pp_registry_errors_text(none[i], strlen(none[i])));
	assert_null(pp_registry_errors_text(NULL, 0));
}

static void test_headers(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(pp_registry_retry_after("3", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(pp_registry_retry_after(" 120 ", &v), 0);
	assert_int_equal(v, 120);
	assert_int_equal(pp_registry_retry_after("99999999999999999999999", &v), 0);
	assert_int_equal(v, PP_REGISTRY_RETRY_AFTER_MAX);
	assert_int_equal(pp_registry_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", &v), -1);
	assert_int_equal(pp_registry_retry_after("-1", &v), -1);
	assert_int_equal(pp_registry_retry_after("", &v), -1);

	assert_int_equal(pp_registry_content_range_start("bytes 100-199/200", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(pp_registry_content_range_start("bytes 0-0/*", &v), 0);
	assert_int_equal(v, 0);
	const char *bad[] = {"bytes 5-4/10",
			     "bytes 1-9/9",
			     "bytes */10",
			     "items 1-2/3",
			     "bytes 1-2/3x",
			     "bytes -2/3",
			     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pp_registry_content_range_start(bad[i], &v), -1);
}

static void test_origin_base64(void **state)
{
	(void)state;
	char o[PP_REGISTRY_ORIGIN_MAX];
	assert_int_equal(pp_registry_url_origin("https://Quay.IO/v2/x", o), 0);
	assert_string_equal(o, "https://quay.io:443");
	assert_int_equal(pp_registry_url_origin("HTTP://127.0.0.1:5000?a", o), 0);
	assert_string_equal(o, "http://127.0.0.1:5000");
	assert_int_equal(pp_registry_url_origin("http://[::1]:81/", o), 0);
	assert_string_equal(o, "http://[::1]:81");
	assert_int_equal(pp_registry_url_origin("https://[::1]/", o), 0);
	assert_string_equal(o, "https://[::1]:443");
	const char *bad[] = {"ftp://x/",	 "http://",	  "http:///x",
			     "http://u:p@host/", "http://host:/", "http://host:8x/",
			     "http://[::1/",	 "file:///etc",	  "http://host:123456/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pp_registry_url_origin(bad[i], o), -1);

	const char *in[] = {"", "f", "fo", "foo", "user:secret"};
	const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "dXNlcjpzZWNyZXQ="};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *b = pp_registry_base64(in[i], strlen(in[i]));
		assert_string_equal(b, out[i]);
		free(b);
	}
}

/* ---- the fixture's servers ---- */

struct server {
	pid_t pid;
	int stdin_fd; /* closed: the fixture stops its servers */
	struct json_object *info;
	char *dir;
	char *log;
	char host[64];
};

static struct server fake, real, secure;

static int info_int(const struct server *s, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(s->info, key, &v) ? json_object_get_int(v) : -1;
}

static const char *info_str(const struct server *s, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(s->info, key, &v) ? json_object_get_string(v) : "";
}

/* Starts the fixture in mode with arg, waits for its JSON line. */
static int server_start(struct server *s, const char *mode, const char *arg)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execlp("python3", "python3", FIXTURE, mode, arg, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->stdin_fd = in[1];
	char line[4096];
	size_t n = 0;
	while (n + 1 < sizeof(line)) {
		ssize_t r = read(out[0], line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	close(out[0]);
	line[n] = '\0';
	s->info = json_tokener_parse(line);
	if (s->info == NULL)
		return -1;
	snprintf(s->host, sizeof(s->host), "127.0.0.1:%d", info_int(s, "port"));
	return 0;
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		close(s->stdin_fd);
		waitpid(s->pid, NULL, 0);
	}
	json_object_put(s->info);
	if (s->log)
		unlink(s->log);
	if (s->dir)
		rmdir(s->dir);
	free(s->log);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}

static int fake_setup(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/peapod-registry-fake.XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return -1;
	fake.dir = xstrdup(tmpl);
	fake.log = xasprintf("%s/requests.log", tmpl);
	return server_start(&fake, "fake", fake.log);
}

static int fake_teardown(void **state)
{
	(void)state;
	server_stop(&fake);
	return 0;
}

/* The fake's log lines (JSON) for which keep says so. */
static int count_requests(bool (*keep)(struct json_object *line, const void *arg), const void *arg)
{
	cleanup_fclose FILE *f = fopen(fake.log, "r");
	assert_non_null(f);
	char buf[4096];
	int n = 0;
	while (fgets(buf, sizeof(buf), f)) {
		struct json_object *line = json_tokener_parse(buf);
		assert_non_null(line);
		if (keep(line, arg))
			n++;
		json_object_put(line);
	}
	return n;
}

static const char *field(struct json_object *line, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(line, name, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static bool path_has(struct json_object *line, const void *arg)
{
	return strstr(field(line, "path"), arg) != NULL;
}

/* A client for s: plain HTTP, short back-off and limits. */
static struct pp_registry_client *client_for(const struct server *s,
					     const struct pp_registry_options *extra)
{
	struct pp_registry_options o = extra ? *extra : (struct pp_registry_options){0};
	const char *insecure[] = {s->host, NULL};
	if (!json_object_object_get_ex(s->info, "ca_file", NULL))
		o.insecure_hosts = insecure; /* else HTTPS */
	o.backoff_initial_ms = 100;
	o.retry_time_limit_s = o.retry_time_limit_s ?: 10;
	o.stall_timeout_s = 2;
	o.request_timeout_s = 10;
	struct pp_registry_client *c = NULL;
	struct pp_error *err = NULL;
	if (pp_registry_client_new(&o, &c, &err) < 0)
		fail_msg("client: %s", err->msg);
	return c;
}

/* A blob into a fresh temp file: 0, or -1 with err; the file's bytes in
 * *data when asked. */
static int blob_to_file(struct pp_registry_client *c, const struct server *s, const char *repo,
			const char *digest, int64_t size, struct pp_error **err)
{
	char path[] = "/tmp/peapod-registry-blob.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	int r = pp_registry_get_blob_fd(c, s->host, repo, digest, size, fd, err);
	if (r == 0) {
		/* the file holds exactly the blob */
		struct stat st;
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, size);
		cleanup_free char *data = xmalloc((size_t)size + 1);
		assert_int_equal(pread(fd, data, (size_t)size, 0), size);
		char hex[PP_DIGEST_MAX_HEX + 1];
		assert_int_equal(pp_digest_hex(PP_DIGEST_SHA256, data, (size_t)size, hex, NULL), 0);
		assert_string_equal(hex, strchr(digest, ':') + 1);
	}
	close(fd);
	return r;
}

/* err by address: an argument's value may be taken before r's call ran */
static void expect_error(int r, struct pp_error **err, const char *want)
{
	assert_int_equal(r, -1);
	assert_non_null(*err);
	if (strstr((*err)->msg, want) == NULL)
		fail_msg("error '%s' lacks '%s'", (*err)->msg, want);
}

/* ---- against the fake ---- */

static void test_curl_not_loaded_before_use(void **state)
{
	(void)state;
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, NULL);
	/* a client alone loads nothing: only a transfer does */
	assert_null(dlopen("libcurl.so.4", RTLD_NOLOAD | RTLD_NOW));
	char digest[PP_DIGEST_STRING_MAX];
	struct pp_error *err = NULL;
	assert_int_equal(pp_registry_head_manifest(c, fake.host, "plain/app", "v1", digest, &err),
			 0);
	void *h = dlopen("libcurl.so.4", RTLD_NOLOAD | RTLD_NOW);
	assert_non_null(h);
	dlclose(h);
}

static void test_fake_manifest(void **state)
{
	(void)state;
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, NULL);
	struct pp_registry_manifest m;
	struct pp_error *err = NULL;
	const char *want = info_str(&fake, "manifest");
	if (pp_registry_get_manifest(c, fake.host, "plain/app", "v1", &m, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(m.digest, want);
	assert_string_equal(m.media_type, "application/vnd.oci.image.manifest.v1+json");
	assert_non_null(strstr(m.data, "schemaVersion"));
	pp_registry_manifest_free(&m);
	/* by digest, and a digest that is not the bytes' */
	assert_int_equal(pp_registry_get_manifest(c, fake.host, "plain/app", want, &m, &err), 0);
	pp_registry_manifest_free(&m);
	const char *other =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	expect_error(pp_registry_get_manifest(c, fake.host, "plain/app", other, &m, &err), &err,
		     "is " /* "the manifest's digest is sha256:..., not sha256:000..." */);
	assert_int_equal(err->status, EBADMSG);
	pp_error_free(&err);
	/* a Docker-Content-Digest that is not the bytes' */
	expect_error(pp_registry_get_manifest(c, fake.host, "baddigest/app", "v1", &m, &err), &err,
		     "(its Docker-Content-Digest)");
	assert_non_null(strstr(err->msg, fake.host));
	assert_non_null(strstr(err->msg, "/baddigest/app: manifest v1: "));
	pp_error_free(&err);
	/* an endless answer is cut */
	expect_error(pp_registry_get_manifest(c, fake.host, "endless/app", "v1", &m, &err), &err,
		     "manifest larger than");
	pp_error_free(&err);
	/* HEAD: the digest only */
	char digest[PP_DIGEST_STRING_MAX];
	assert_int_equal(pp_registry_head_manifest(c, fake.host, "plain/app", "v1", digest, &err),
			 0);
	assert_string_equal(digest, want);
	/* what the registry says is missing */
	expect_error(pp_registry_get_manifest(c, fake.host, "plain", "v1", &m, &err), &err,
		     "name unknown: no such thing (HTTP 404)");
	assert_int_equal(err->status, ENOENT);
	pp_error_free(&err);
}

static void test_fake_retries(void **state)
{
	(void)state;
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, NULL);
	struct pp_error *err = NULL;
	const char *blob = info_str(&fake, "blob");
	int size = info_int(&fake, "size");
	/* 429 with Retry-After: 1, then the blob */
	int64_t t0 = pp_monotonic_ms();
	if (blob_to_file(c, &fake, "flaky429/app", blob, size, &err) < 0)
		fail_msg("%s", err->msg);
	assert_true(pp_monotonic_ms() - t0 >= 900);
	assert_int_equal(count_requests(path_has, "/flaky429/app/blobs/"), 2);
	/* 503, then the blob; 503, then the manifest */
	assert_int_equal(blob_to_file(c, &fake, "flaky503/app", blob, size, &err), 0);
	assert_int_equal(count_requests(path_has, "/flaky503/app/blobs/"), 2);
	struct pp_registry_manifest m;
	assert_int_equal(pp_registry_get_manifest(c, fake.host, "flaky503/app", "v1", &m, &err), 0);
	pp_registry_manifest_free(&m);
	/* always 500: retried until the time limit, the registry's words kept */
	cleanup_registry_client struct pp_registry_client *quick =
	    client_for(&fake, &(struct pp_registry_options){.retry_time_limit_s = 1});
	t0 = pp_monotonic_ms();
	expect_error(blob_to_file(quick, &fake, "down/app", blob, size, &err), &err,
		     "unknown: storage is down (HTTP 500)");
	assert_non_null(strstr(err->msg, "/down/app: blob sha256:"));
	assert_true(pp_monotonic_ms() - t0 < 3000);
	assert_true(count_requests(path_has, "/down/app/") >= 3);
	pp_error_free(&err);
}

static bool ranged(struct json_object *line, const void *arg)
{
	return path_has(line, arg) && field(line, "range") != NULL;
}

static int no_write(void *ctx, const void *data, size_t len, struct pp_error **err)
{
	return 0;
}

static void test_fake_resume(void **state)
{
	(void)state;
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, NULL);
	struct pp_error *err = NULL;
	const char *blob = info_str(&fake, "blob");
	int size = info_int(&fake, "size");
	/* dropped halfway; resumed with Range: bytes=half- and a 206 */
	if (blob_to_file(c, &fake, "drop/app", blob, size, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(count_requests(ranged, "/drop/app/"), 1);
	/* a registry that ignores Range: the file starts over */
	assert_int_equal(blob_to_file(c, &fake, "norange/app", blob, size, &err), 0);
	assert_int_equal(count_requests(ranged, "/norange/app/"), 1);
	/* ... which a sink that cannot rewind cannot follow */
	struct pp_registry_sink sink = {no_write, NULL, NULL};
	expect_error(pp_registry_get_blob(c, fake.host, "norange/app", blob, size, &sink, &err),
		     &err, "cannot resume");
	pp_error_free(&err);
	/* no byte for the stall limit: an error, soon */
	int64_t t0 = pp_monotonic_ms();
	expect_error(blob_to_file(c, &fake, "stall/app", blob, size, &err), &err,
		     "Operation too slow");
	assert_non_null(strstr(err->msg, "/stall/app: blob sha256:"));
	assert_true(pp_monotonic_ms() - t0 < 10000);
	pp_error_free(&err);
}

static void test_fake_bad_blobs(void **state)
{
	(void)state;
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, NULL);
	struct pp_error *err = NULL;
	const char *blob = info_str(&fake, "blob");
	int size = info_int(&fake, "size");
	expect_error(blob_to_file(c, &fake, "wrong/app", blob, size, &err), &err,
		     "the bytes' digest is sha256:");
	assert_int_equal(err->status, EBADMSG);
	pp_error_free(&err);
	expect_error(blob_to_file(c, &fake, "plain/app", blob, size - 1, &err), &err,
		     "blob larger than its size");
	pp_error_free(&err);
	expect_error(blob_to_file(c, &fake, "plain/app", blob, size + 1, &err), &err,
		     "got 26624 bytes of 26625");
	pp_error_free(&err);
	expect_error(blob_to_file(c, &fake, "plain/app", "sha256:abc", size, &err), &err,
		     "blob sha256:abc");
	pp_error_free(&err);
	expect_error(blob_to_file(c, &fake, "plain/app?x", blob, size, &err), &err,
		     "bad registry, repository or reference");
	pp_error_free(&err);
}

static bool storage_request(struct json_object *line, const void *arg)
{
	struct json_object *port;
	json_object_object_get_ex(line, "port", &port);
	return json_object_get_int(port) == info_int(&fake, "storage_port") &&
	       (arg == NULL || field(line, "authorization") != NULL);
}

static bool with_bearer(struct json_object *line, const void *arg)
{
	const char *a = field(line, "authorization");
	return path_has(line, arg) && a && strcmp(a, "Bearer tok-1") == 0;
}

static void test_fake_auth(void **state)
{
	(void)state;
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, NULL);
	struct pp_error *err = NULL;
	const char *blob = info_str(&fake, "blob");
	int size = info_int(&fake, "size");
	/* Bearer: one token for a manifest and a blob of the repository */
	struct pp_registry_manifest m;
	if (pp_registry_get_manifest(c, fake.host, "auth/app", "v1", &m, &err) < 0)
		fail_msg("%s", err->msg);
	pp_registry_manifest_free(&m);
	assert_int_equal(blob_to_file(c, &fake, "auth/app", blob, size, &err), 0);
	assert_int_equal(
	    count_requests(path_has, "/token?service=fake&scope=repository%3Aauth%2Fapp%3Apull"),
	    1);
	assert_int_equal(count_requests(with_bearer, "/auth/app/"), 2);

	/* redirected to another port: the token stays with the registry */
	if (blob_to_file(c, &fake, "redirect/app", blob, size, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(count_requests(with_bearer, "/redirect/app/blobs/"), 1);
	assert_int_equal(count_requests(storage_request, NULL), 1);
	assert_int_equal(count_requests(storage_request, "with authorization"), 0);

	/* the token server's token refused: the registry's words */
	expect_error(pp_registry_get_manifest(c, fake.host, "refuse/app", "v1", &m, &err), &err,
		     "/refuse/app: manifest v1: unauthorized: access to the repository denied");
	assert_int_equal(err->status, EACCES);
	pp_error_free(&err);

	/* Basic: without credentials, with wrong ones, with the right ones */
	expect_error(pp_registry_get_manifest(c, fake.host, "basic/app", "v1", &m, &err), &err,
		     "unauthorized: the registry asks for credentials");
	pp_error_free(&err);
	struct pp_registry_options wrong = {
	    .static_host = fake.host, .username = "user", .password = "guess"};
	cleanup_registry_client struct pp_registry_client *w = client_for(&fake, &wrong);
	expect_error(pp_registry_get_manifest(w, fake.host, "basic/app", "v1", &m, &err), &err,
		     "unauthorized: authentication required");
	pp_error_free(&err);
	struct pp_registry_options right = {
	    .static_host = fake.host, .username = "user", .password = "secret"};
	cleanup_registry_client struct pp_registry_client *r = client_for(&fake, &right);
	assert_int_equal(pp_registry_get_manifest(r, fake.host, "basic/app", "v1", &m, &err), 0);
	pp_registry_manifest_free(&m);
	assert_int_equal(blob_to_file(r, &fake, "basic/app", blob, size, &err), 0);
	/* credentials only for their host */
	struct pp_registry_options elsewhere = {
	    .static_host = "quay.io", .username = "user", .password = "secret"};
	cleanup_registry_client struct pp_registry_client *e = client_for(&fake, &elsewhere);
	expect_error(pp_registry_get_manifest(e, fake.host, "basic/app", "v1", &m, &err), &err,
		     "there are none for");
	pp_error_free(&err);
}

static bool token_for(struct json_object *line, const void *repo)
{
	return path_has(line, "/token?") && path_has(line, repo);
}

/* A token lives as long as the token server says (less a margin). */
static void test_fake_token_expiry(void **state)
{
	(void)state;
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, NULL);
	struct pp_error *err = NULL;
	const char *blob = info_str(&fake, "blob");
	int size = info_int(&fake, "size");
	assert_int_equal(blob_to_file(c, &fake, "short/app", blob, size, &err), 0);
	assert_int_equal(count_requests(token_for, "short%2Fapp"), 1);
	usleep(1100 * 1000);
	assert_int_equal(blob_to_file(c, &fake, "short/app", blob, size, &err), 0);
	assert_int_equal(count_requests(token_for, "short%2Fapp"), 2);
	/* tokens are per repository */
	assert_int_equal(blob_to_file(c, &fake, "auth/other", blob, size, &err), 0);
	assert_int_equal(count_requests(token_for, "auth%2Fother"), 1);
}

struct lookup {
	int calls;
	int result;
};

static int lookup_credentials(void *ctx, const char *host, char **user, char **password,
			      struct pp_error **err)
{
	struct lookup *l = ctx;
	l->calls++;
	if (l->result < 0)
		return pp_error_set(err, EIO, "the credentials store is locked");
	if (l->result == 0 || strcmp(host, fake.host) != 0)
		return 0;
	*user = xstrdup("user");
	*password = xstrdup("secret");
	return 1;
}

static void test_fake_credentials_callback(void **state)
{
	(void)state;
	struct lookup l = {0, 1};
	struct pp_registry_options o = {.credentials = lookup_credentials, .credentials_ctx = &l};
	cleanup_registry_client struct pp_registry_client *c = client_for(&fake, &o);
	struct pp_registry_manifest m;
	struct pp_error *err = NULL;
	if (pp_registry_get_manifest(c, fake.host, "basic/app", "v1", &m, &err) < 0)
		fail_msg("%s", err->msg);
	pp_registry_manifest_free(&m);
	assert_true(l.calls >= 1);
	/* none found; the lookup failing */
	l.result = 0;
	cleanup_registry_client struct pp_registry_client *none = client_for(&fake, &o);
	expect_error(pp_registry_get_manifest(none, fake.host, "basic/app", "v1", &m, &err), &err,
		     "there are none for");
	pp_error_free(&err);
	l.result = -1;
	cleanup_registry_client struct pp_registry_client *broken = client_for(&fake, &o);
	expect_error(pp_registry_get_manifest(broken, fake.host, "basic/app", "v1", &m, &err), &err,
		     "/basic/app: manifest v1: credentials: the credentials store is locked");
	assert_int_equal(err->status, EIO);
	pp_error_free(&err);
	/* a static username without a password or host is refused */
	struct pp_registry_client *bad = NULL;
	o = (struct pp_registry_options){.username = "user", .password = "secret"};
	assert_int_equal(pp_registry_client_new(&o, &bad, &err), -1);
	assert_null(bad);
	pp_error_free(&err);
}

/* ---- Debian's docker-registry, filled by skopeo ---- */

static bool have(const char *prog)
{
	cleanup_free char *cmd = xasprintf("command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Starts docker-registry in mode ("real", "secure") unless it or skopeo
 * is missing (then s->pid stays 0 and the tests skip). */
static int registry_start(struct server *s, const char *mode)
{
	if (!have("docker-registry") || !have("skopeo"))
		return 0;
	char tmpl[] = "/tmp/peapod-registry-real.XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return -1;
	/* the fixture removes the directory when it stops */
	return server_start(s, mode, tmpl);
}

static int real_setup(void **state)
{
	(void)state;
	return registry_start(&real, "real") < 0 || registry_start(&secure, "secure") < 0 ? -1 : 0;
}

static int real_teardown(void **state)
{
	(void)state;
	server_stop(&real);
	server_stop(&secure);
	return 0;
}

static void test_real_pull(void **state)
{
	(void)state;
	if (real.pid == 0)
		skip();
	cleanup_registry_client struct pp_registry_client *c = client_for(&real, NULL);
	struct pp_registry_manifest m;
	struct pp_error *err = NULL;
	const char *want = info_str(&real, "manifest");
	if (pp_registry_get_manifest(c, real.host, "team/app", "v1", &m, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(m.digest, want);
	assert_string_equal(m.media_type, "application/vnd.oci.image.manifest.v1+json");
	assert_non_null(strstr(m.data, info_str(&real, "layer")));
	pp_registry_manifest_free(&m);
	assert_int_equal(pp_registry_get_manifest(c, real.host, "team/app", want, &m, &err), 0);
	assert_string_equal(m.digest, want);
	pp_registry_manifest_free(&m);
	char digest[PP_DIGEST_STRING_MAX];
	assert_int_equal(pp_registry_head_manifest(c, real.host, "team/app", "v1", digest, &err),
			 0);
	assert_string_equal(digest, want);
	/* the layer and the config, verified */
	if (blob_to_file(c, &real, "team/app", info_str(&real, "layer"),
			 info_int(&real, "layer_size"), &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(blob_to_file(c, &real, "team/app", info_str(&real, "config"),
				      info_int(&real, "config_size"), &err),
			 0);
	/* what the registry does not have */
	const char *missing =
	    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	expect_error(blob_to_file(c, &real, "team/app", missing, 10, &err), &err, "blob unknown");
	assert_int_equal(err->status, ENOENT);
	pp_error_free(&err);
	expect_error(pp_registry_get_manifest(c, real.host, "team/app", missing, &m, &err), &err,
		     "manifest unknown");
	pp_error_free(&err);
	expect_error(pp_registry_get_manifest(c, real.host, "team/app", "v2", &m, &err), &err,
		     "manifest v2: manifest unknown");
	pp_error_free(&err);
	expect_error(pp_registry_get_manifest(c, real.host, "team/nothing", "v1", &m, &err), &err,
		     "team/nothing: manifest v1: manifest unknown");
	pp_error_free(&err);
	/* a layer asked for with the config's digest: refused by the bytes' size */
	expect_error(blob_to_file(c, &real, "team/app", info_str(&real, "config"),
				  info_int(&real, "layer_size"), &err),
		     &err, "team/app: blob sha256:");
	pp_error_free(&err);
}

/* TLS checked against the CA file, htpasswd's Basic challenge answered. */
static void test_real_tls_basic(void **state)
{
	(void)state;
	if (secure.pid == 0)
		skip();
	struct pp_registry_options o = {.ca_file = info_str(&secure, "ca_file"),
					.static_host = secure.host,
					.username = "user",
					.password = "secret"};
	cleanup_registry_client struct pp_registry_client *c = client_for(&secure, &o);
	struct pp_registry_manifest m;
	struct pp_error *err = NULL;
	if (pp_registry_get_manifest(c, secure.host, "team/app", "v1", &m, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(m.digest, info_str(&secure, "manifest"));
	pp_registry_manifest_free(&m);
	if (blob_to_file(c, &secure, "team/app", info_str(&secure, "layer"),
			 info_int(&secure, "layer_size"), &err) < 0)
		fail_msg("%s", err->msg);
	/* no credentials; wrong ones; a certificate nobody vouches for */
	o.username = o.password = o.static_host = NULL;
	cleanup_registry_client struct pp_registry_client *anon = client_for(&secure, &o);
	expect_error(pp_registry_get_manifest(anon, secure.host, "team/app", "v1", &m, &err), &err,
		     "team/app: manifest v1: unauthorized: the registry asks for credentials");
	pp_error_free(&err);
	o = (struct pp_registry_options){.ca_file = info_str(&secure, "ca_file"),
					 .static_host = secure.host,
					 .username = "user",
					 .password = "guess"};
	cleanup_registry_client struct pp_registry_client *wrong = client_for(&secure, &o);
	expect_error(pp_registry_get_manifest(wrong, secure.host, "team/app", "v1", &m, &err), &err,
		     "unauthorized: authentication required");
	assert_int_equal(err->status, EACCES);
	pp_error_free(&err);
	o.ca_file = NULL; /* the system's CAs: none of them made this one */
	cleanup_registry_client struct pp_registry_client *untrusting = client_for(&secure, &o);
	expect_error(pp_registry_get_manifest(untrusting, secure.host, "team/app", "v1", &m, &err),
		     &err, "team/app: manifest v1: SSL certificate problem");
	pp_error_free(&err);
}

int main(void)
{
	/* a dropped connection must not kill the test */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest parsers[] = {
	    cmocka_unit_test(test_token_parse),
	    cmocka_unit_test(test_errors_text),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_origin_base64),
	};
	const struct CMUnitTest with_fake[] = {
	    cmocka_unit_test(test_curl_not_loaded_before_use),
	    cmocka_unit_test(test_fake_manifest),
	    cmocka_unit_test(test_fake_retries),
	    cmocka_unit_test(test_fake_resume),
	    cmocka_unit_test(test_fake_bad_blobs),
	    cmocka_unit_test(test_fake_auth),
	    cmocka_unit_test(test_fake_token_expiry),
	    cmocka_unit_test(test_fake_credentials_callback),
	};
	const struct CMUnitTest with_real[] = {
	    cmocka_unit_test(test_real_pull),
	    cmocka_unit_test(test_real_tls_basic),
	};
	int failed = cmocka_run_group_tests_name("registry parsers", parsers, NULL, NULL);
	failed += cmocka_run_group_tests_name("registry client, fake registry", with_fake,
					      fake_setup, fake_teardown);
	failed += cmocka_run_group_tests_name("registry client, docker-registry", with_real,
					      real_setup, real_teardown);
	return failed;
}
