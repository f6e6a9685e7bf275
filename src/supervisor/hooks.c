/* Container lifecycle hooks, as kubelet runs them. postStart runs right
 * after the container started; the container is not started (nor ready)
 * until it ends, and a failure kills it (it restarts per restartPolicy).
 * preStop runs before the stop signal, which is sent when it ends, whatever
 * its result; its time counts against the grace period (the SIGKILL
 * deadline does not move). Handlers: exec and httpGet run as a child
 * process watched by pidfd in the loop's epoll (exec_path.c's sup_child),
 * sleep is a deadline of the loop's timer, and tcpSocket (deprecated, not
 * supported as a lifecycle handler) does nothing. */
#include <stdio.h>
#include <string.h>

#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"

#define HOOK_MSG_MAX 1024
#define CMD_TEXT_MAX 256

static const struct pp_handler *hook_handler(const struct sup *s, size_t i, enum hook_kind k)
{
	const struct pp_lifecycle *lc = &s->pod->containers[i].spec->lifecycle;
	const struct pp_handler *h = k == HOOK_POST_START ? &lc->post_start : &lc->pre_stop;
	return h->kind == PP_HANDLER_NONE || h->kind == PP_HANDLER_GRPC ? NULL : h;
}

void sup_hooks_init(struct sup *s)
{
	for (size_t i = 0; i < s->pod->n_containers; i++)
		s->run[i].hook = HOOK_RUN_INIT;
}

bool sup_apps_have_post_start(const struct sup *s)
{
	for (size_t i = s->pod->n_init; i < s->pod->n_containers; i++)
		if (hook_handler(s, i, HOOK_POST_START) != NULL)
			return true;
	return false;
}

void sup_hook_cancel(struct sup *s, size_t i)
{
	struct hook_run *h = &s->run[i].hook;
	sup_child_cancel(s, &h->child);
	if (h->kind != HOOK_NONE)
		s->dirty = true;
	*h = HOOK_RUN_INIT;
}

/* "sh -c exit 1" (brackets: "[sh -c exit 1]", as Go prints a slice). */
static void command_text(const struct pp_handler *h, bool brackets, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "%s", brackets ? "[" : "");
	for (char *const *a = h->exec_command; a && *a && len < size; a++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					a == h->exec_command ? "" : " ", *a);
	if (brackets && len < size)
		snprintf(buf + len, size - len, "]");
}

/* kubelet's message for a hook that failed with why. */
static char *failure_message(const struct sup *s, size_t i, const struct pp_handler *h,
			     const struct pp_error *why)
{
	const char *msg = why->msg;
	const struct pp_pod *pod = s->pod->spec;
	const char *name = s->pod->containers[i].spec->name;
	if (h->kind == PP_HANDLER_EXEC) {
		char cmd[CMD_TEXT_MAX];
		command_text(h, true, cmd, sizeof(cmd));
		return xasprintf(
		    "Exec lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" "
		    "failed - error: %s",
		    cmd, name, pod->name, pod->namespace_, s->pod->uid, msg);
	}
	return xasprintf("HTTP lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" "
			 "failed - error: %s",
			 h->http_path ? h->http_path : "", name, pod->name, pod->namespace_,
			 s->pod->uid, msg);
}

static void post_start_ended(struct sup *s, size_t i, bool ok, const char *msg)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	s->dirty = true;
	if (ok) {
		sup_probes_reset(s, i);
		return;
	}
	sup_event(s, PP_EVENT_WARNING, c->spec->name, "FailedPostStartHook", "%s", msg);
	int64_t grace = s->pod->spec->termination_grace_period_seconds;
	sup_event(s, PP_EVENT_INFO, c->spec->name, "Killing", "FailedPostStartHook");
	sup_stop_container(s, i, grace == 0);
	if (grace > 0)
		s->run[i].kill_at = pp_monotonic_ns() + grace * PP_NSEC_PER_SEC;
}

static void pre_stop_ended(struct sup *s, size_t i, bool ok, const char *msg)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	if (!ok)
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "FailedPreStopHook", "%s", msg);
	if (c->state == PP_CTR_RUNNING)
		pp_pod_instance_signal_container(s->pod, i, false);
}

static void ended(struct sup *s, size_t i, enum hook_kind k, bool ok, const char *msg)
{
	if (k == HOOK_POST_START)
		post_start_ended(s, i, ok, msg);
	else
		pre_stop_ended(s, i, ok, msg);
}

/* Hook k of container i failed with why. */
static void failed(struct sup *s, size_t i, enum hook_kind k, const struct pp_error *why)
{
	cleanup_free char *m = failure_message(s, i, hook_handler(s, i, k), why);
	ended(s, i, k, false, m);
}

/* Starts hook k of container i. True while it runs; false when it ended
 * at once (the result already handled). */
static bool run_hook(struct sup *s, size_t i, enum hook_kind k)
{
	const struct pp_handler *h = hook_handler(s, i, k);
	struct hook_run *hr = &s->run[i].hook;
	cleanup_error struct pp_error *err = NULL;
	sup_hook_cancel(s, i);
	if (h->kind == PP_HANDLER_TCP_SOCKET) {
		ended(s, i, k, true, "");
		return false;
	}
	hr->kind = k;
	s->dirty = true;
	if (h->kind == PP_HANDLER_SLEEP) {
		hr->sleep_until = pp_monotonic_ns() + h->sleep_seconds * PP_NSEC_PER_SEC;
		return true;
	}
	int64_t grace = s->pod->spec->termination_grace_period_seconds;
	int timeout_s = grace > 0 && grace < INT32_MAX ? (int)grace : 1;
	int r = sup_child_start(s, i, h, timeout_s, false, &hr->child, &err);
	if (r == 0 && sup_watch(s, sup_child_fd(&hr->child), TAG(TAG_HOOK, i)) < 0) {
		r = pp_error_set(&err, errno, "epoll_ctl");
		sup_child_cancel(s, &hr->child);
	}
	if (r < 0) {
		hr->kind = HOOK_NONE;
		failed(s, i, k, err);
		return false;
	}
	return true;
}

bool sup_post_start(struct sup *s, size_t i)
{
	if (hook_handler(s, i, HOOK_POST_START) == NULL ||
	    s->pod->containers[i].state != PP_CTR_RUNNING) {
		sup_probes_reset(s, i);
		return false;
	}
	return run_hook(s, i, HOOK_POST_START);
}

void sup_stop_container(struct sup *s, size_t i, bool force)
{
	struct ctr_run *r = &s->run[i];
	if (s->pod->containers[i].state != PP_CTR_RUNNING)
		return;
	if (force) {
		sup_hook_cancel(s, i);
		r->stop_begun = true;
		pp_pod_instance_signal_container(s->pod, i, true);
		return;
	}
	if (r->stop_begun)
		return;
	r->stop_begun = true;
	/* A postStart still running is abandoned: the container stops. */
	sup_hook_cancel(s, i);
	if (hook_handler(s, i, HOOK_PRE_STOP) == NULL)
		pp_pod_instance_signal_container(s->pod, i, false);
	else
		run_hook(s, i, HOOK_PRE_STOP); /* signals when it ends */
}

int64_t sup_hooks_next(const struct sup *s)
{
	int64_t next = 0;
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		int64_t t = s->run[i].hook.sleep_until;
		if (t && (next == 0 || t < next))
			next = t;
	}
	return next;
}

void sup_hooks_timer(struct sup *s, int64_t now)
{
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		struct hook_run *hr = &s->run[i].hook;
		if (hr->sleep_until && now >= hr->sleep_until) {
			enum hook_kind k = hr->kind;
			*hr = HOOK_RUN_INIT;
			ended(s, i, k, true, "");
		}
	}
}

void sup_hook_done(struct sup *s, size_t i)
{
	if (i >= s->pod->n_containers)
		return;
	struct hook_run *hr = &s->run[i].hook;
	if (hr->child.pidfd < 0)
		return;
	enum hook_kind k = hr->kind;
	const struct pp_handler *h = hook_handler(s, i, k);
	char out[HOOK_MSG_MAX];
	int status = sup_child_finish(s, &hr->child, out, sizeof(out));
	*hr = HOOK_RUN_INIT;
	if (status == 0) {
		ended(s, i, k, true, "");
		return;
	}
	cleanup_error struct pp_error *err = NULL;
	if (h->kind == PP_HANDLER_EXEC) {
		char cmd[CMD_TEXT_MAX];
		command_text(h, false, cmd, sizeof(cmd));
		pp_error_set(&err, 0, "command '%s' exited with %d, message: \"%s\"", cmd, status,
			     out);
	} else {
		pp_error_set(&err, 0, "%s", out[0] ? out : "request failed");
	}
	failed(s, i, k, err);
}
