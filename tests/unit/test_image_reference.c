/* pp_image_ref_parse against distribution/reference's grammar and docker's
 * normalization (the examples of its documentation and tests among them),
 * and the formatters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "util/image_reference.h"

#define H64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H128                                                                                       \
	"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2" \
	"877e"                                                                                     \
	"ec2f63b931bd47417a81a538327af927da3e"

struct valid_case {
	const char *in;
	const char *domain, *path, *tag, *digest; /* NULL: absent */
	const char *familiar;			  /* NULL: the full string */
};

static const struct valid_case valid[] = {
    /* short names: Docker Hub's official namespace, default tag */
    {"busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest"},
    {"busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "busybox:1.36"},
    {"ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", NULL, "ubuntu:22.04"},
    {"nginx:1.25-alpine", "docker.io", "library/nginx", "1.25-alpine", NULL, "nginx:1.25-alpine"},
    {"user/app", "docker.io", "user/app", "latest", NULL, "user/app:latest"},
    {"bitnami/nginx:1.25.3", "docker.io", "bitnami/nginx", "1.25.3", NULL, "bitnami/nginx:1.25.3"},
    {"library/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest"},
    {"library/a/b", "docker.io", "library/a/b", "latest", NULL, "library/a/b:latest"},
    {"a/b/c/d", "docker.io", "a/b/c/d", "latest", NULL, "a/b/c/d:latest"},
    /* Docker Hub spelled out, in each of its names */
    {"docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest"},
    {"docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36", NULL,
     "busybox:1.36"},
    {"index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL,
     "busybox:latest"},
    {"index.docker.io/user/app:v1", "docker.io", "user/app", "v1", NULL, "user/app:v1"},
    {"registry-1.docker.io/library/redis:7", "docker.io", "library/redis", "7", NULL, "redis:7"},
    /* other registries: '.', ':' or localhost make the first component a host */
    {"quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", NULL, NULL},
    {"gcr.io/distroless/static", "gcr.io", "distroless/static", "latest", NULL, NULL},
    {"registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", NULL, NULL},
    {"localhost/app", "localhost", "app", "latest", NULL, NULL},
    {"localhost:5000/foo/bar:tag", "localhost:5000", "foo/bar", "tag", NULL, NULL},
    {"localhost:5000/foo", "localhost:5000", "foo", "latest", NULL, NULL},
    {"127.0.0.1:5000/app:1", "127.0.0.1:5000", "app", "1", NULL, NULL},
    {"[::1]:5000/app", "[::1]:5000", "app", "latest", NULL, NULL},
    {"[2001:db8::1]/app", "[2001:db8::1]", "app", "latest", NULL, NULL},
    {"registry.example.com:5000/team/app@sha256:" H64, "registry.example.com:5000", "team/app",
     NULL, "sha256:" H64, NULL},
    {"my-registry.example.com/a-b/c_d/e__f/g.h/i---j:T_a.g-1", "my-registry.example.com",
     "a-b/c_d/e__f/g.h/i---j", "T_a.g-1", NULL, NULL},
    /* a Hub namespace that looks like a host keeps "docker.io/" in the short
     * form, which must name the same repository (docker drops it) */
    {"docker.io/foo.com/bar", "docker.io", "foo.com/bar", "latest", NULL, NULL},
    {"docker.io/localhost/x:1", "docker.io", "localhost/x", "1", NULL, NULL},
    {"docker.io/library/foo.com", "docker.io", "library/foo.com", "latest", NULL, "foo.com:latest"},
    /* an uppercase first component cannot be a Hub namespace: docker takes it as a host */
    {"Foo/bar", "Foo", "bar", "latest", NULL, NULL},
    /* no '/': "host:port" is a name and a tag */
    {"localhost:5000", "docker.io", "library/localhost", "5000", NULL, "localhost:5000"},
    {"localhost", "docker.io", "library/localhost", "latest", NULL, "localhost:latest"},
    {"docker.io", "docker.io", "library/docker.io", "latest", NULL, "docker.io:latest"},
    /* digests: the digest is pulled, the tag is kept */
    {"busybox@sha256:" H64, "docker.io", "library/busybox", NULL, "sha256:" H64,
     "busybox@sha256:" H64},
    {"busybox:1.36@sha256:" H64, "docker.io", "library/busybox", "1.36", "sha256:" H64,
     "busybox:1.36@sha256:" H64},
    {"quay.io/a/b@sha512:" H128, "quay.io", "a/b", NULL, "sha512:" H128, NULL},
    /* tags: letters, digits, '_' first; '.' and '-' after */
    {"a:_", "docker.io", "library/a", "_", NULL, "a:_"},
    {"a:A-.", "docker.io", "library/a", "A-.", NULL, "a:A-."},
    /* names that look like ids but are not 64 hex digits */
    {"sha256:abcd", "docker.io", "library/sha256", "abcd", NULL, "sha256:abcd"},
    {"e3b0c442", "docker.io", "library/e3b0c442", "latest", NULL, "e3b0c442:latest"},
    /* from distribution/reference's own tests */
    {"test_com", "docker.io", "library/test_com", "latest", NULL, "test_com:latest"},
    {"test.com:tag", "docker.io", "library/test.com", "tag", NULL, "test.com:tag"},
    {"test.com:5000", "docker.io", "library/test.com", "5000", NULL, "test.com:5000"},
    {"test:5000/repo@sha256:" H64, "test:5000", "repo", NULL, "sha256:" H64, NULL},
    {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
     "some-long-tag", NULL, NULL},
    {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", NULL, NULL},
    /* the image names peapod's own tests use */
    {"peapod-test/defaults:1", "docker.io", "peapod-test/defaults", "1", NULL,
     "peapod-test/defaults:1"},
    {"registry.example.com/app:1.0", "registry.example.com", "app", "1.0", NULL, NULL},
    {"nosuch/image:9.9", "docker.io", "nosuch/image", "9.9", NULL, "nosuch/image:9.9"},
};

struct invalid_case {
	const char *in;
	const char *why; /* a substring of the message */
};

static const struct invalid_case invalid[] = {
    {"", "empty"},
    {"Foo", "must be lowercase"},
    {"Busybox:1.36", "must be lowercase"},
    {"docker.io/Library/busybox", "must be lowercase"},
    {"quay.io/Coreos/etcd", "must be lowercase"},
    {"foo:", "empty tag"},
    {"foo@", "empty digest"},
    {":tag", "missing repository name"},
    {"@sha256:" H64, "missing repository name"},
    {"/busybox", "empty path component"},
    {"busybox/", "empty path component"},
    {"a//b", "empty path component"},
    {"quay.io/", "empty path component"},
    {"-busybox", "invalid path component \"-busybox\""},
    {"busybox-", "invalid path component"},
    {"a..b", "invalid path component \"a..b\""},
    {"a___b", "invalid path component"},
    {"a._b", "invalid path component"},
    {"a/b$c", "invalid path component \"b$c\""},
    {"bad name", "space at offset 3"},
    {"busybox\t", "control or non-ASCII character at offset 7"},
    {"b\xc3\xa4r", "non-ASCII"},
    {"foo:.tag", "invalid tag \".tag\""},
    {"foo:-tag", "invalid tag"},
    {"foo:a:b", "invalid tag \"a:b\""},
    {"foo:tag+1", "invalid tag"},
    {"foo@sha256:abcd", "sha256 digest must be 64 hexadecimal digits"},
    {"foo@sha256:" H64 "0", "64 hexadecimal digits"},
    {"foo@sha512:" H64, "sha512 digest must be 128 hexadecimal digits"},
    {"foo@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
     "lowercase hexadecimal"},
    {"foo@md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm \"md5\""},
    {"foo@sha384:abc", "unsupported digest algorithm \"sha384\""},
    {"foo@" H64, "digest must be ALGORITHM:HEX"},
    {"foo@:abc", "digest must be ALGORITHM:HEX"},
    {"foo@sha256:" H64 "@sha256:" H64, "more than one '@'"},
    {H64, "is an image id"},
    {"localhost:0/app", "invalid port"},
    {"localhost:65536/app", "invalid port"},
    {"localhost:/app", "invalid port"},
    {"example.com:abc/app", "invalid port"},
    {"foo:bar/baz", "invalid port"},
    {"-bad.example.com/app", "invalid registry host \"-bad.example.com\""},
    {"bad-.example.com/app", "invalid registry host"},
    {"a..example.com/app", "invalid registry host"},
    {"my_host.com/app", "invalid registry host \"my_host.com\""},
    {"[::1/app", "invalid registry host"},
    {"[]:5000/app", "invalid registry host"},
    {"a@b", "digest must be ALGORITHM:HEX"},
    {"aa/asdf$$^/aa", "invalid path component \"asdf$$^\""},
    {"test:5000/Uppercase/lowercase:tag", "must be lowercase"},
    {"[fe80::1%eth0]:5000/repo", "invalid registry host"},
    {"[2001:db8::1]", "invalid tag"},
    {"quay.io@sha256:" H64 "/x", "sha256 digest must be 64"},
};

static void expect_str(const char *what, const char *in, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fail_msg("%s: %s is \"%s\", want \"%s\"", in, what, got ? got : "(null)",
			 want ? want : "(null)");
}

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct valid_case *v = &valid[i];
		cleanup_image_ref struct pp_image_ref r;
		struct pp_error *err = NULL;
		if (pp_image_ref_parse(v->in, &r, &err) < 0)
			fail_msg("\"%s\" refused: %s", v->in, err->msg);
		expect_str("domain", v->in, r.domain, v->domain);
		expect_str("path", v->in, r.path, v->path);
		expect_str("tag", v->in, r.tag, v->tag);
		expect_str("digest", v->in, r.digest, v->digest);
		cleanup_free char *repo = xasprintf("%s/%s", v->domain, v->path);
		cleanup_free char *full =
		    xasprintf("%s%s%s%s%s", repo, v->tag ? ":" : "", v->tag ? v->tag : "",
			      v->digest ? "@" : "", v->digest ? v->digest : "");
		cleanup_free char *got_repo = pp_image_ref_repository(&r);
		cleanup_free char *got_full = pp_image_ref_string(&r);
		cleanup_free char *got_familiar = pp_image_ref_familiar(&r);
		expect_str("repository", v->in, got_repo, repo);
		expect_str("string", v->in, got_full, full);
		expect_str("familiar", v->in, got_familiar, v->familiar ? v->familiar : full);
		/* the full string parses to itself */
		cleanup_image_ref struct pp_image_ref again;
		assert_int_equal(pp_image_ref_parse(got_full, &again, NULL), 0);
		cleanup_free char *again_full = pp_image_ref_string(&again);
		expect_str("string of the string", v->in, again_full, full);
		/* and so does the short form */
		cleanup_image_ref struct pp_image_ref short_form;
		assert_int_equal(pp_image_ref_parse(got_familiar, &short_form, NULL), 0);
		cleanup_free char *short_full = pp_image_ref_string(&short_form);
		expect_str("string of the short form", v->in, short_full, full);
	}
	assert_true(sizeof(valid) / sizeof(valid[0]) >= 30);
}

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *v = &invalid[i];
		struct pp_image_ref r = {.domain = NULL};
		struct pp_error *err = NULL;
		if (pp_image_ref_parse(v->in, &r, &err) == 0) {
			cleanup_free char *s = pp_image_ref_string(&r);
			pp_image_ref_free(&r);
			fail_msg("\"%s\" parsed as \"%s\", should be refused (%s)", v->in, s,
				 v->why);
		}
		assert_non_null(err);
		if (strstr(err->msg, "invalid image reference") != err->msg ||
		    strstr(err->msg, v->why) == NULL)
			fail_msg("\"%s\": message \"%s\" does not say \"%s\"", v->in, err->msg,
				 v->why);
		assert_null(r.domain);
		assert_null(r.path);
		assert_null(r.tag);
		assert_null(r.digest);
		pp_error_free(&err);
	}
	struct pp_image_ref r;
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_ref_parse(NULL, &r, &err), -1);
	pp_error_free(&err);
	assert_int_equal(pp_image_ref_parse("Foo", &r, NULL), -1);
}

/* 255 characters of normalized name at most: "docker.io/library/" counts. */
static void test_lengths(void **state)
{
	(void)state;
	char name[PP_IMAGE_REF_INPUT_MAX + 2];
	size_t hub = strlen("docker.io/library/");
	memset(name, 'a', sizeof(name));
	name[PP_IMAGE_REF_NAME_MAX - hub] = '\0';
	cleanup_image_ref struct pp_image_ref r;
	assert_int_equal(pp_image_ref_parse(name, &r, NULL), 0);
	pp_image_ref_free(&r);
	name[PP_IMAGE_REF_NAME_MAX - hub] = 'a';
	name[PP_IMAGE_REF_NAME_MAX - hub + 1] = '\0';
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_ref_parse(name, &r, &err), -1);
	assert_non_null(strstr(err->msg, "repository name longer than 255 characters"));
	pp_error_free(&err);

	/* the input as a whole; the message quotes only its start */
	memset(name, 'a', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(pp_image_ref_parse(name, &r, &err), -1);
	assert_non_null(strstr(err->msg, "...\": longer than"));
	assert_true(strlen(err->msg) < 200);
	pp_error_free(&err);

	/* tags of 128 characters, not 129 */
	char tagged[sizeof("a:") + PP_IMAGE_REF_TAG_MAX + 1];
	strcpy(tagged, "a:");
	memset(tagged + 2, 't', PP_IMAGE_REF_TAG_MAX);
	tagged[2 + PP_IMAGE_REF_TAG_MAX] = '\0';
	assert_int_equal(pp_image_ref_parse(tagged, &r, NULL), 0);
	pp_image_ref_free(&r);
	tagged[2 + PP_IMAGE_REF_TAG_MAX] = 't';
	tagged[3 + PP_IMAGE_REF_TAG_MAX] = '\0';
	assert_int_equal(pp_image_ref_parse(tagged, &r, &err), -1);
	assert_non_null(strstr(err->msg, "tag longer than 128"));
	pp_error_free(&err);
}

static void test_api_host_and_pull(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
	    {"busybox", "registry-1.docker.io", "latest"},
	    {"index.docker.io/user/app:2", "registry-1.docker.io", "2"},
	    {"localhost:5000/foo/bar:tag", "localhost:5000", "tag"},
	    {"quay.io/a/b:1@sha256:" H64, "quay.io", "sha256:" H64},
	    {"busybox@sha256:" H64, "registry-1.docker.io", "sha256:" H64},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_image_ref struct pp_image_ref r;
		assert_int_equal(pp_image_ref_parse(cases[i][0], &r, NULL), 0);
		expect_str("api host", cases[i][0], pp_image_ref_api_host(&r), cases[i][1]);
		expect_str("pull reference", cases[i][0], pp_image_ref_pull_reference(&r),
			   cases[i][2]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_api_host_and_pull),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
