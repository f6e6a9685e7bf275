/* The exec request and reply of the control socket: what one end encodes
 * the other decodes to the same struct, and a message that is not what the
 * other end would send is refused with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/control.h"
#include "util/cleanup.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_request_round_trip(void **state)
{
	(void)state;
	static const char *const names[] = {"web", "", "a \"quoted\" / name", "ünïcode"};
	for (size_t k = 0; k < N_ELEMS(names); k++) {
		const struct pp_ctl_exec_request req = {.container = names[k]};
		cleanup_free char *msg = pp_ctl_exec_request_encode(&req);
		assert_true(pp_ctl_is_exec_request(msg, strlen(msg)));
		struct pp_ctl_exec_request got;
		cleanup_error struct pp_error *err = NULL;
		assert_int_equal(pp_ctl_exec_request_decode(msg, strlen(msg), &got, &err), 0);
		assert_string_equal(got.container, names[k]);
		pp_ctl_exec_request_free(&got);
		assert_null(got.doc);
	}
}

static void test_request_bad(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *error;
	} cases[] = {
	    {"stop 3", "exec request: no \"exec \" verb"},
	    {"exec", "exec request: no \"exec \" verb"},
	    {"exec ", "exec request: not a JSON object"},
	    {"exec web", "exec request: not a JSON object"},
	    {"exec [\"web\"]", "exec request: not a JSON object"},
	    {"exec {\"container\":\"web\"} {}", "exec request: not a JSON object"},
	    {"exec {}", "exec request: container: missing"},
	    {"exec {\"container\":7}", "exec request: container: not a string"},
	    {"exec {\"container\":null}", "exec request: container: not a string"},
	    {"exec {\"container\":\"web\",\"tty\":true}", "exec request: tty: unknown field"},
	    {"exec {\"container\":\"a\\nb\"}",
	     "exec request: container: a control character in the name"},
	    {"exec {\"container\":\"a\\u0000b\"}", "exec request: container: a NUL in the name"},
	};
	for (size_t k = 0; k < N_ELEMS(cases); k++) {
		struct pp_ctl_exec_request req;
		cleanup_error struct pp_error *err = NULL;
		assert_int_equal(
		    pp_ctl_exec_request_decode(cases[k].msg, strlen(cases[k].msg), &req, &err), -1);
		assert_string_equal(err->msg, cases[k].error);
		assert_int_equal(err->status, EPROTO);
		assert_null(req.doc);
		assert_null(req.container);
	}
	/* longer than any Kubernetes name (253) */
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const struct pp_ctl_exec_request req = {.container = long_name};
	cleanup_free char *msg = pp_ctl_exec_request_encode(&req);
	struct pp_ctl_exec_request got;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_ctl_exec_request_decode(msg, strlen(msg), &got, &err), -1);
	assert_string_equal(err->msg, "exec request: container: longer than a Kubernetes name");
	/* the message must be whole: a NUL inside it is not JSON's */
	static const char with_nul[] = "exec {\"container\":\"web\"}\0";
	pp_error_free(&err);
	assert_int_equal(pp_ctl_exec_request_decode(with_nul, sizeof(with_nul) - 1, &got, &err),
			 -1);
	assert_string_equal(err->msg, "exec request: not a JSON text");
}

/* Encodes r, decodes what came out with the fds it gave. */
static void round_trip(const struct pp_ctl_exec_reply *r, struct pp_ctl_exec_reply *got, int *fds)
{
	cleanup_free char *msg = NULL;
	size_t n_fds = 0;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_ctl_exec_reply_encode(r, &msg, fds, &n_fds, &err), 0);
	assert_int_equal(n_fds, 1 + r->n_cgroup_procs_fds);
	assert_int_equal(pp_ctl_exec_reply_decode(msg, strlen(msg), fds, n_fds, got, &err), 0);
}

static void test_reply_round_trip(void **state)
{
	(void)state;
	char *env[] = {"PATH=/bin", "EMPTY=", "QUOTE=\"x\"", NULL};
	static const int cg[] = {11, 12, 13};
	struct pp_ctl_exec_reply r = {
	    .env = env,
	    .identity =
		{
		    .cwd = "/work dir",
		    .user = "app:audio",
		    .has_uid = true,
		    .uid = 1000,
		    .has_gid = true,
		    .gid = 0,
		    .extra_gids = {3000, 4294967294u},
		    .n_extra_gids = 2,
		    .security =
			{
			    .has_caps = true,
			    .caps = PP_CAP_BIT(0) | PP_CAP_BIT(PP_CAP_SYS_ADMIN) |
				    PP_CAP_BIT(PP_CAP_LAST_KNOWN),
			    .no_new_privs = true,
			    .seccomp = PP_SECCOMP_LOCALHOST,
			    .seccomp_profile = "/var/lib/peapod/seccomp/p.json",
			    .apparmor_profile = "peapod-test",
			    .selinux_label = "system_u:system_r:container_t:s0",
			},
		},
	    .oom_score_adj = -997,
	    .seccomp_cache = "/var/lib/peapod/seccomp-cache",
	    .container_pidfd = 10,
	    .cgroup_procs_fds = cg,
	    .n_cgroup_procs_fds = 3,
	};
	int fds[PP_CTL_MAX_FDS];
	struct pp_ctl_exec_reply got;
	round_trip(&r, &got, fds);
	assert_string_equal(got.env[0], "PATH=/bin");
	assert_string_equal(got.env[1], "EMPTY=");
	assert_string_equal(got.env[2], "QUOTE=\"x\"");
	assert_null(got.env[3]);
	const struct pp_identity *id = &got.identity;
	assert_string_equal(id->cwd, "/work dir");
	assert_string_equal(id->user, "app:audio");
	assert_true(id->has_uid && id->has_gid);
	assert_int_equal(id->uid, 1000);
	assert_int_equal(id->gid, 0);
	assert_int_equal(id->n_extra_gids, 2);
	assert_int_equal(id->extra_gids[0], 3000);
	assert_int_equal(id->extra_gids[1], 4294967294u);
	assert_false(id->security.privileged);
	assert_true(id->security.has_caps);
	assert_int_equal(id->security.caps, r.identity.security.caps);
	assert_true(id->security.no_new_privs);
	assert_int_equal(id->security.seccomp, PP_SECCOMP_LOCALHOST);
	assert_string_equal(id->security.seccomp_profile, "/var/lib/peapod/seccomp/p.json");
	assert_string_equal(id->security.apparmor_profile, "peapod-test");
	assert_string_equal(id->security.selinux_label, "system_u:system_r:container_t:s0");
	assert_int_equal(got.oom_score_adj, -997);
	assert_string_equal(got.seccomp_cache, "/var/lib/peapod/seccomp-cache");
	assert_int_equal(got.container_pidfd, 10);
	assert_int_equal(got.n_cgroup_procs_fds, 3);
	assert_memory_equal(got.cgroup_procs_fds, cg, sizeof(cg));
	pp_ctl_exec_reply_free(&got);
	assert_null(got.env);
	assert_null(got.doc);
	pp_ctl_exec_reply_free(&got); /* idempotent */

	/* The zero identity: root in "/", the default set of capabilities
	 * (sent as the set it is), no seccomp profile, no LSM label. */
	r = (struct pp_ctl_exec_reply){.container_pidfd = 4};
	round_trip(&r, &got, fds);
	assert_null(got.env[0]);
	assert_null(got.identity.cwd);
	assert_null(got.identity.user);
	assert_false(got.identity.has_uid || got.identity.has_gid);
	assert_int_equal(got.identity.n_extra_gids, 0);
	assert_int_equal(got.identity.security.caps, pp_caps_default());
	assert_int_equal(got.identity.security.seccomp, PP_SECCOMP_RUNTIME_DEFAULT);
	assert_null(got.identity.security.seccomp_profile);
	assert_null(got.identity.security.apparmor_profile);
	assert_null(got.seccomp_cache);
	assert_int_equal(got.n_cgroup_procs_fds, 0);
	pp_ctl_exec_reply_free(&got);

	/* privileged: every capability; Unconfined by name */
	r.identity.security =
	    (struct pp_security){.privileged = true, .seccomp = PP_SECCOMP_UNCONFINED};
	round_trip(&r, &got, fds);
	assert_true(got.identity.security.privileged);
	assert_int_equal(got.identity.security.caps, pp_caps_all());
	assert_int_equal(got.identity.security.seccomp, PP_SECCOMP_UNCONFINED);
	pp_ctl_exec_reply_free(&got);
}

static void test_reply_encode_limits(void **state)
{
	(void)state;
	int cg[PP_CTL_MAX_FDS] = {0};
	struct pp_ctl_exec_reply r = {.cgroup_procs_fds = cg, .n_cgroup_procs_fds = PP_CTL_MAX_FDS};
	cleanup_free char *msg = NULL;
	int fds[PP_CTL_MAX_FDS];
	size_t n_fds;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_ctl_exec_reply_encode(&r, &msg, fds, &n_fds, &err), -1);
	assert_string_equal(err->msg, "exec reply: 16 cgroups, at most 15 fit");
	/* an environment too big for one message */
	cleanup_free char *big = xmalloc(PP_CTL_MAX_MSG + 8);
	memset(big, 'x', PP_CTL_MAX_MSG + 7);
	memcpy(big, "BIG=", 4);
	big[PP_CTL_MAX_MSG + 7] = '\0';
	char *env[] = {big, NULL};
	r = (struct pp_ctl_exec_reply){.env = env};
	pp_error_free(&err);
	assert_int_equal(pp_ctl_exec_reply_encode(&r, &msg, fds, &n_fds, &err), -1);
	assert_int_equal(err->status, E2BIG);
}

/* A valid reply with top-level fields and security fields added: a key
 * given twice keeps its last value (json-c), so these also replace. */
#define REPLY(top, sec)                                                                            \
	"{\"env\":[\"A=1\"],\"groups\":[],\"oomScoreAdj\":0,\"cgroups\":0,"                        \
	"\"security\":{\"privileged\":false,\"capabilities\":[\"CHOWN\"],\"noNewPrivs\":false,"    \
	"\"seccomp\":\"RuntimeDefault\"" sec "}" top "}"

static void test_reply_bad(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *error;
	} cases[] = {
	    {"", "exec reply: not a JSON object"},
	    {"[]", "exec reply: not a JSON object"},
	    {"{\"env\":[]", "exec reply: not a JSON object"},
	    {REPLY(",\"tty\":true", ""), "exec reply: tty: unknown field"},
	    {REPLY("", ",\"unmasked\":true"), "exec reply: security.unmasked: unknown field"},
	    {"{\"env\":[],\"groups\":[],\"oomScoreAdj\":0,\"cgroups\":0}",
	     "exec reply: security: missing"},
	    {"{\"env\":[],\"groups\":[],\"oomScoreAdj\":0,\"security\":{\"privileged\":false,"
	     "\"capabilities\":[],\"seccomp\":\"Unconfined\"},\"cgroups\":0}",
	     "exec reply: security.noNewPrivs: missing"},
	    {REPLY(",\"env\":\"A=1\"", ""), "exec reply: env: not an array"},
	    {REPLY(",\"env\":[\"NOEQUALS\"]", ""),
	     "exec reply: env: an entry that is not NAME=value"},
	    {REPLY(",\"env\":[\"=x\"]", ""), "exec reply: env: an entry that is not NAME=value"},
	    {REPLY(",\"env\":[1]", ""), "exec reply: env: not a string"},
	    {REPLY(",\"cwd\":\"/a\\u0000b\"", ""), "exec reply: cwd: a NUL in the string"},
	    {REPLY(",\"user\":0", ""), "exec reply: user: not a string"},
	    {REPLY(",\"uid\":-1", ""), "exec reply: uid: out of range"},
	    {REPLY(",\"uid\":4294967295", ""), "exec reply: uid: out of range"},
	    {REPLY(",\"uid\":99999999999999999999999", ""), "exec reply: uid: out of range"},
	    {REPLY(",\"uid\":\"0\"", ""), "exec reply: uid: not an integer"},
	    {REPLY(",\"gid\":1.5", ""), "exec reply: gid: not an integer"},
	    {REPLY(",\"groups\":[1,-2]", ""), "exec reply: groups: out of range"},
	    {REPLY(",\"groups\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
		   "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]",
		   ""),
	     "exec reply: groups: too many elements"},
	    {REPLY(",\"oomScoreAdj\":1001", ""), "exec reply: oomScoreAdj: out of range"},
	    {REPLY(",\"oomScoreAdj\":true", ""), "exec reply: oomScoreAdj: not an integer"},
	    {REPLY(",\"cgroups\":16", ""), "exec reply: cgroups: out of range"},
	    {REPLY(",\"cgroups\":2", ""),
	     "exec reply: cgroups: 2 announced, but 1 fds came (the pidfd and one per cgroup)"},
	    {REPLY(",\"security\":[]", ""), "exec reply: security: not an object"},
	    {REPLY("", ",\"privileged\":1"), "exec reply: security.privileged: not a boolean"},
	    {REPLY("", ",\"noNewPrivs\":\"true\""),
	     "exec reply: security.noNewPrivs: not a boolean"},
	    {REPLY("", ",\"capabilities\":[\"CHOWN\",\"FLY\"]"),
	     "exec reply: security.capabilities: an unknown capability"},
	    {REPLY("", ",\"capabilities\":[\"64\"]"),
	     "exec reply: security.capabilities: an unknown capability"},
	    {REPLY("", ",\"capabilities\":[21]"),
	     "exec reply: security.capabilities: not a string"},
	    {REPLY("", ",\"seccomp\":1"), "exec reply: security.seccomp: not a string"},
	    {REPLY("", ",\"seccomp\":\"runtime/default\""),
	     "exec reply: security.seccomp: not RuntimeDefault, Unconfined or Localhost"},
	    {REPLY("", ",\"seccomp\":\"Localhost\""),
	     "exec reply: security.seccompProfile: given if and only if seccomp is Localhost"},
	    {REPLY("", ",\"seccompProfile\":\"/p.json\""),
	     "exec reply: security.seccompProfile: given if and only if seccomp is Localhost"},
	    {REPLY("", ",\"selinux\":false"), "exec reply: security.selinux: not a string"},
	};
	const int fds[] = {3};
	for (size_t k = 0; k < N_ELEMS(cases); k++) {
		struct pp_ctl_exec_reply r;
		cleanup_error struct pp_error *err = NULL;
		int rc =
		    pp_ctl_exec_reply_decode(cases[k].msg, strlen(cases[k].msg), fds, 1, &r, &err);
		if (rc == 0)
			fail_msg("case %zu decoded: %s", k, cases[k].msg);
		assert_string_equal(err->msg, cases[k].error);
		assert_int_equal(err->status, EPROTO);
		assert_null(r.doc);
		assert_null(r.env);
		assert_int_equal(r.container_pidfd, -1);
	}
	/* and the base of them is fine, with its one fd */
	struct pp_ctl_exec_reply r;
	cleanup_error struct pp_error *err = NULL;
	static const char ok[] = REPLY("", "");
	assert_int_equal(pp_ctl_exec_reply_decode(ok, strlen(ok), fds, 1, &r, &err), 0);
	assert_int_equal(r.container_pidfd, 3);
	assert_int_equal(r.identity.security.caps, PP_CAP_BIT(0));
	pp_ctl_exec_reply_free(&r);
	/* with no fd at all */
	assert_int_equal(pp_ctl_exec_reply_decode(ok, strlen(ok), fds, 0, &r, &err), -1);
	assert_string_equal(
	    err->msg, "exec reply: cgroups: 0 announced, but 0 fds came (the pidfd and one per "
		      "cgroup)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_round_trip), cmocka_unit_test(test_request_bad),
	    cmocka_unit_test(test_reply_round_trip),   cmocka_unit_test(test_reply_encode_limits),
	    cmocka_unit_test(test_reply_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
