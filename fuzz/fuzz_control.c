/* libFuzzer entry for the control socket's exec and debug messages: whatever reaches
 * the supervisor's socket (any local root process may write there) or the
 * CLI's end must never crash, hang or leak, and what decodes must encode
 * and decode again to the same struct. The first byte says how many fds
 * came with a reply (they are numbers only: decoding never uses them); the
 * rest is the message, tried as an exec request, a reply and a debug
 * request. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/pod_spec.h"
#include "supervisor/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_string(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
}

/* What the decoder gives back is the encoder's input: the two agree. */
static void check_reply_round_trip(const struct pp_ctl_exec_reply *r)
{
	char *msg = NULL;
	int fds[PP_CTL_MAX_FDS];
	size_t n_fds = 0;
	struct pp_error *err = NULL;
	struct pp_ctl_exec_reply again;
	if (pp_ctl_exec_reply_encode(r, &msg, fds, &n_fds, &err) < 0) {
		/* only a message too big once re-encoded (json-c escapes more) */
		if (err->status != E2BIG)
			abort();
		pp_error_free(&err);
		return;
	}
	if (pp_ctl_exec_reply_decode(msg, strlen(msg), fds, n_fds, &again, &err) < 0)
		abort();
	const struct pp_identity *a = &r->identity, *b = &again.identity;
	same_string(a->cwd, b->cwd);
	same_string(a->user, b->user);
	same_string(a->security.seccomp_profile, b->security.seccomp_profile);
	same_string(a->security.apparmor_profile, b->security.apparmor_profile);
	same_string(a->security.selinux_label, b->security.selinux_label);
	same_string(r->seccomp_cache, again.seccomp_cache);
	size_t k = 0;
	for (; r->env[k] != NULL; k++)
		same_string(r->env[k], again.env[k]);
	if (again.env[k] != NULL || a->has_uid != b->has_uid || a->uid != b->uid ||
	    a->has_gid != b->has_gid || a->gid != b->gid || a->n_extra_gids != b->n_extra_gids ||
	    memcmp(a->extra_gids, b->extra_gids, a->n_extra_gids * sizeof(gid_t)) != 0 ||
	    a->security.privileged != b->security.privileged ||
	    pp_security_caps(&a->security) != pp_security_caps(&b->security) ||
	    a->security.no_new_privs != b->security.no_new_privs ||
	    a->security.seccomp != b->security.seccomp || r->oom_score_adj != again.oom_score_adj ||
	    r->n_cgroup_procs_fds != again.n_cgroup_procs_fds)
		abort();
	pp_ctl_exec_reply_free(&again);
	free(msg);
}

/* peapod debug's request: decoded, encoded again, decoded the same. */
static void check_debug_request(const char *msg, size_t len)
{
	struct pp_error *err = NULL;
	struct pp_ctl_debug_request req, req2;
	if (pp_ctl_debug_request_decode(msg, len, &req, &err) < 0) {
		pp_error_free(&err);
		return;
	}
	char *again = pp_ctl_debug_request_encode(&req);
	if (pp_ctl_debug_request_decode(again, strlen(again), &req2, &err) < 0)
		abort();
	same_string(req.name, req2.name);
	same_string(req.image, req2.image);
	same_string(req.target, req2.target);
	same_string(req.pull_policy, req2.pull_policy);
	if ((req.command == NULL) != (req2.command == NULL) || req.stdin_open != req2.stdin_open ||
	    req.tty != req2.tty)
		abort();
	size_t k = 0;
	for (; req.command && req.command[k]; k++)
		same_string(req.command[k], req2.command[k]);
	if (req.command && req2.command[k] != NULL)
		abort();
	pp_ctl_debug_request_free(&req2);
	pp_ctl_debug_request_free(&req);
	free(again);
}

/* The CRI's requests (control_cri.c): decoded (through the manifest
 * parser) or refused, nothing leaked. */
static void check_cri_requests(const char *msg, size_t len)
{
	struct pp_error *err = NULL;
	struct pp_ctl_cri_create c;
	if (pp_ctl_cri_create_decode(msg, len, &c, &err) == 0) {
		if (c.spec == NULL || c.spec->name == NULL)
			abort();
		pp_ctl_cri_create_free(&c);
	}
	pp_error_free(&err);
	char *name = NULL;
	struct pp_container *with = NULL;
	if (pp_ctl_cri_update_decode(msg, len, &name, &with, &err) == 0) {
		if (name == NULL || with == NULL)
			abort();
	}
	free(name);
	pp_container_free(with);
	pp_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t n_fds = data[0] % (PP_CTL_MAX_FDS + 1);
	const char *msg = (const char *)data + 1;
	size_t len = size - 1;
	struct pp_error *err = NULL;

	struct pp_ctl_exec_request req;
	if (pp_ctl_exec_request_decode(msg, len, &req, &err) == 0) {
		char *again = pp_ctl_exec_request_encode(&req);
		struct pp_ctl_exec_request req2;
		if (pp_ctl_exec_request_decode(again, strlen(again), &req2, &err) < 0 ||
		    strcmp(req.container, req2.container) != 0)
			abort();
		pp_ctl_exec_request_free(&req2);
		free(again);
		pp_ctl_exec_request_free(&req);
	}
	pp_error_free(&err);

	static const int fds[PP_CTL_MAX_FDS] = {3,  4,	5,  6,	7,  8,	9,  10,
						11, 12, 13, 14, 15, 16, 17, 18};
	struct pp_ctl_exec_reply r;
	if (pp_ctl_exec_reply_decode(msg, len, fds, n_fds, &r, &err) == 0) {
		check_reply_round_trip(&r);
		pp_ctl_exec_reply_free(&r);
	}
	pp_error_free(&err);
	check_debug_request(msg, len);
	check_cri_requests(msg, len);
	return 0;
}
