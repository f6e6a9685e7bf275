/* WWW-Authenticate parsing: the headers registries send (Docker Hub, GHCR,
 * ECR, distribution's htpasswd), RFC 7235's corners (case, whitespace,
 * quoted commas and escapes, several challenges, token68), and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/auth_challenge.h"
#include "util/cleanup.h"

#define HUB_REALM "https://auth.docker.io/token"

static void parse_ok(const char *h, struct pp_auth_challenges *c)
{
	struct pp_error *err = NULL;
	if (pp_auth_challenges_parse(h, strlen(h), c, &err) < 0)
		fail_msg("'%s' refused: %s", h, err->msg);
}

/* Parses h and checks its Bearer challenge; scopes "|"-separated or NULL. */
static void expect_bearer(const char *h, const char *realm, const char *service, const char *scopes)
{
	struct pp_auth_challenges c;
	struct pp_auth_bearer b;
	struct pp_error *err = NULL;
	parse_ok(h, &c);
	if (pp_auth_bearer_get(&c, &b, &err) < 0)
		fail_msg("'%s': %s", h, err->msg);
	assert_string_equal(b.realm, realm);
	if (service == NULL)
		assert_null(b.service);
	else
		assert_string_equal(b.service, service);
	cleanup_free char *joined = xstrdup("");
	for (size_t i = 0; i < b.n_scopes; i++) {
		char *next = xasprintf("%s%s%s", joined, i ? "|" : "", b.scopes[i]);
		free(joined);
		joined = next;
	}
	assert_null(b.scopes[b.n_scopes]);
	if (strcmp(joined, scopes ? scopes : "") != 0)
		fail_msg("'%s': scopes '%s', want '%s'", h, joined, scopes ? scopes : "");
	pp_auth_bearer_free(&b);
	pp_auth_challenges_free(&c);
}

static void test_registries(void **state)
{
	(void)state;
	/* Docker Hub, a pull's 401 and the /v2/ ping's (no scope) */
	expect_bearer("Bearer realm=\"" HUB_REALM "\",service=\"registry.docker.io\","
		      "scope=\"repository:library/busybox:pull\"",
		      HUB_REALM, "registry.docker.io", "repository:library/busybox:pull");
	expect_bearer("Bearer realm=\"" HUB_REALM "\",service=\"registry.docker.io\"", HUB_REALM,
		      "registry.docker.io", NULL);
	/* GHCR */
	expect_bearer("Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\","
		      "scope=\"repository:user/image:pull\"",
		      "https://ghcr.io/token", "ghcr.io", "repository:user/image:pull");
	/* several scopes, a comma inside one */
	expect_bearer("Bearer realm=\"https://t/token\",service=\"s\","
		      "scope=\"repository:a/b:pull repository:c/d:pull,push\"",
		      "https://t/token", "s", "repository:a/b:pull|repository:c/d:pull,push");
	expect_bearer("Bearer realm=\"r\",scope=\"  a   b \"", "r", NULL, "a|b");
	expect_bearer("Bearer realm=\"r\",scope=\"\"", "r", NULL, NULL);

	/* distribution with htpasswd, ECR: Basic only */
	struct pp_auth_challenges c;
	parse_ok("Basic realm=\"Registry Realm\"", &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0].scheme, "Basic");
	assert_string_equal(pp_auth_challenge_param(&c.items[0], "realm"), "Registry Realm");
	struct pp_auth_bearer b;
	struct pp_error *err = NULL;
	assert_int_equal(pp_auth_bearer_get(&c, &b, &err), -1);
	assert_non_null(strstr(err->msg, "no Bearer challenge"));
	assert_null(b.realm);
	pp_error_free(&err);
	pp_auth_challenges_free(&c);
	parse_ok("Basic realm=\"https://123.dkr.ecr.us-east-1.amazonaws.com/\","
		 "service=\"ecr.amazonaws.com\"",
		 &c);
	assert_string_equal(pp_auth_challenge_param(&c.items[0], "service"), "ecr.amazonaws.com");
	pp_auth_challenges_free(&c);
}

static void test_rfc_corners(void **state)
{
	(void)state;
	/* scheme and parameter names are case-insensitive; token values */
	expect_bearer("bEaReR REALM=\"https://r/t\", Service=svc", "https://r/t", "svc", NULL);
	/* whitespace around every separator, tabs too */
	expect_bearer("  Bearer \t realm = \"r\" ,\t service=\t\"s\"  ,scope =\"x\"  ", "r", "s",
		      "x");
	/* backslash escapes in quoted values; commas inside them */
	expect_bearer("Bearer realm=\"https://a/b?c=\\\"d\\\",e\\\\f\\g\"",
		      "https://a/b?c=\"d\",e\\fg", NULL, NULL);
	/* empty list elements */
	expect_bearer(", ,Bearer realm=r,,service=s, ,", "r", "s", NULL);
	/* UTF-8 (obs-text) in a quoted value */
	expect_bearer("Bearer realm=\"https://r\xc3\xa9/t\"", "https://r\xc3\xa9/t", NULL, NULL);

	/* several challenges: Basic's params do not leak into Bearer's */
	struct pp_auth_challenges c;
	parse_ok("Basic realm=\"b\", Bearer realm=\"r\",service=\"s\", Negotiate abc+/==, "
		 "Digest, Foo a=1",
		 &c);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.items[0].scheme, "Basic");
	assert_int_equal(c.items[0].n_params, 1);
	assert_string_equal(c.items[1].scheme, "Bearer");
	assert_int_equal(c.items[1].n_params, 2);
	assert_string_equal(c.items[2].scheme, "Negotiate");
	assert_string_equal(c.items[2].token68, "abc+/==");
	assert_int_equal(c.items[2].n_params, 0);
	assert_string_equal(c.items[3].scheme, "Digest");
	assert_int_equal(c.items[3].n_params, 0);
	assert_string_equal(pp_auth_challenge_param(&c.items[4], "A"), "1");
	assert_ptr_equal(pp_auth_challenge_find(&c, "BEARER"), &c.items[1]);
	assert_null(pp_auth_challenge_find(&c, "Mutual"));
	assert_null(pp_auth_challenge_param(&c.items[1], "scope"));
	pp_auth_challenges_free(&c);
	assert_null(c.items);
	expect_bearer("Bearer realm=\"r\", Basic realm=\"b\"", "r", NULL, NULL);
	expect_bearer("Negotiate abc=, Bearer realm=r", "r", NULL, NULL);

	/* a bare scheme, and a token68 at the end */
	parse_ok("Bearer", &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.items[0].n_params, 0);
	struct pp_auth_bearer b;
	struct pp_error *err = NULL;
	assert_int_equal(pp_auth_bearer_get(&c, &b, &err), -1);
	assert_non_null(strstr(err->msg, "without a realm"));
	pp_error_free(&err);
	pp_auth_challenges_free(&c);
	parse_ok("Negotiate a1b2", &c);
	assert_string_equal(c.items[0].token68, "a1b2");
	pp_auth_challenges_free(&c);
	/* RFC 7235: "realm=" alone is a token68, and then there is no realm */
	parse_ok("Bearer realm=", &c);
	assert_string_equal(c.items[0].token68, "realm=");
	assert_int_equal(pp_auth_bearer_get(&c, &b, &err), -1);
	assert_non_null(strstr(err->msg, "without a realm"));
	pp_error_free(&err);
	pp_auth_challenges_free(&c);
}

struct bad_case {
	const char *header;
	const char *why;
};

static const struct bad_case bad[] = {
    {"", "no challenge"},
    {" , ,\t", "no challenge"},
    {"Bearer realm x", "expected '='"},
    {"Bearer realm= ,service=s", "a parameter after a token68"},
    {"Negotiate abc==, realm=r", "a parameter after a token68"},
    {"Bearer realm=\"abc", "unterminated quoted string"},
    {"Bearer realm=\"abc\\", "unterminated quoted string"},
    {"Bearer realm=\"a\x01z\"", "control character"},
    {"Bearer realm=\"a\nz\"", "control character"},
    {"Bearer realm=x service=y", "expected ','"},
    {"Bearer realm=x;", "expected ','"},
    {"Bearer realm=\"x\"y", "expected ','"},
    {"Bearer realm=x, realm=y", "\"realm\" given twice"},
    {"Bearer realm=x, REALM=y", "given twice"},
    {"Bearer realm=@x", "expected a token or a quoted string"},
    {"\"Bearer\" realm=x", "expected an authentication scheme"},
    {"=x", "expected an authentication scheme"},
    {"Bearer,realm=x", "expected a space after the authentication scheme"},
    {"Bearer @x", "expected a parameter name at offset 7"},
    {"Bearer realm=x, @", "expected an authentication scheme at offset 16"},
    {"Bearer realm=x, service =", "expected a token or a quoted string"},
    {"Bearer=", "expected a space"},
    {"Bearer\x7f", "expected a space"},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pp_auth_challenges c;
		struct pp_error *err = NULL;
		if (pp_auth_challenges_parse(bad[i].header, strlen(bad[i].header), &c, &err) == 0) {
			pp_auth_challenges_free(&c);
			fail_msg("'%s' parsed, should be refused (%s)", bad[i].header, bad[i].why);
		}
		if (strstr(err->msg, "invalid WWW-Authenticate header: ") != err->msg ||
		    strstr(err->msg, bad[i].why) == NULL)
			fail_msg("'%s': message \"%s\" does not say \"%s\"", bad[i].header,
				 err->msg, bad[i].why);
		assert_null(c.items);
		assert_int_equal(c.n, 0);
		pp_error_free(&err);
	}
	/* a NUL inside the value is a byte like any other: refused */
	struct pp_auth_challenges c;
	struct pp_error *err = NULL;
	assert_int_equal(pp_auth_challenges_parse("Bearer realm=x\0y", 16, &c, &err), -1);
	pp_error_free(&err);
	assert_int_equal(pp_auth_challenges_parse(NULL, 0, &c, &err), -1);
	pp_error_free(&err);
}

/* Appends fmt n times to a fresh string. */
static char *repeat(const char *head, const char *fmt, size_t n)
{
	char *s = xstrdup(head);
	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s", s, fmt);
		free(s);
		s = next;
	}
	return s;
}

static void test_limits(void **state)
{
	(void)state;
	struct pp_auth_challenges c;
	struct pp_error *err = NULL;

	/* the header's length */
	char *h = xmalloc(PP_AUTH_HEADER_MAX + 2);
	memset(h, ' ', PP_AUTH_HEADER_MAX + 1);
	memcpy(h, "Basic", strlen("Basic"));
	assert_int_equal(pp_auth_challenges_parse(h, PP_AUTH_HEADER_MAX, &c, NULL), 0);
	pp_auth_challenges_free(&c);
	assert_int_equal(pp_auth_challenges_parse(h, PP_AUTH_HEADER_MAX + 1, &c, &err), -1);
	assert_non_null(strstr(err->msg, "longer than"));
	pp_error_free(&err);
	free(h);

	/* challenges */
	h = repeat("", "Basic, ", PP_AUTH_CHALLENGES_MAX);
	assert_int_equal(pp_auth_challenges_parse(h, strlen(h), &c, NULL), 0);
	assert_int_equal(c.n, PP_AUTH_CHALLENGES_MAX);
	pp_auth_challenges_free(&c);
	free(h);
	h = repeat("", "Basic, ", PP_AUTH_CHALLENGES_MAX + 1);
	assert_int_equal(pp_auth_challenges_parse(h, strlen(h), &c, &err), -1);
	assert_non_null(strstr(err->msg, "too many challenges"));
	pp_error_free(&err);
	free(h);

	/* parameters: distinct names p, pp, ppp, ... */
	char *params = xstrdup("Bearer realm=r");
	for (size_t i = 1; i < PP_AUTH_PARAMS_MAX; i++) {
		char *next = xasprintf("%s, p%zu=v", params, i);
		free(params);
		params = next;
	}
	assert_int_equal(pp_auth_challenges_parse(params, strlen(params), &c, NULL), 0);
	assert_int_equal(c.items[0].n_params, PP_AUTH_PARAMS_MAX);
	pp_auth_challenges_free(&c);
	h = xasprintf("%s, one=more", params);
	assert_int_equal(pp_auth_challenges_parse(h, strlen(h), &c, &err), -1);
	assert_non_null(strstr(err->msg, "too many parameters"));
	pp_error_free(&err);
	free(h);
	free(params);

	/* scopes */
	cleanup_free char *scopes = repeat("s", " s", PP_AUTH_SCOPES_MAX - 1);
	cleanup_free char *joined = repeat("s", "|s", PP_AUTH_SCOPES_MAX - 1);
	h = xasprintf("Bearer realm=r, scope=\"%s\"", scopes);
	expect_bearer(h, "r", NULL, joined);
	free(h);
	h = xasprintf("Bearer realm=r, scope=\"%s s\"", scopes);
	parse_ok(h, &c);
	struct pp_auth_bearer b;
	assert_int_equal(pp_auth_bearer_get(&c, &b, &err), -1);
	assert_non_null(strstr(err->msg, "scopes"));
	assert_null(b.realm);
	assert_null(b.scopes);
	pp_error_free(&err);
	pp_auth_challenges_free(&c);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registries),
	    cmocka_unit_test(test_rfc_corners),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
