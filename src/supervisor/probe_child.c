/* The probes that run as a child process, watched through one fd in the
 * loop's epoll (exec_path.c's struct sup_child): exec, through the
 * container's launcher (or, without one, exec'd into the container on its
 * own), and tcpSocket and httpGet to a name, whose helper child resolves
 * it in the pod's network namespace. */
#include <stdio.h>
#include <string.h>

#include "supervisor/supervisor_internal.h"

#define PROBE_MSG_MAX 1024

static int start(struct sup *s, size_t i, enum probe_kind k, bool via_launcher,
		 struct pp_error **err)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	struct sup_child *c = &s->run[i].probes[k].u.child;
	if (sup_child_start(s, i, &spec->handler, spec->timeout_seconds, via_launcher, c, err) < 0)
		return -1;
	if (sup_watch(s, sup_child_fd(c), sup_probe_tag(s, i, k)) < 0)
		return pp_error_set(err, errno, "%s", strerror(errno));
	return 0;
}

static int exec_start(struct sup *s, size_t i, enum probe_kind k, struct pp_error **err)
{
	return start(s, i, k, true, err);
}

static int helper_start(struct sup *s, size_t i, enum probe_kind k, struct pp_error **err)
{
	/* grpc only ever runs in the supervisor, which declined it */
	if (sup_probe_spec(s, i, k)->handler.kind == PP_HANDLER_GRPC)
		return pp_error_set(err, 0, "the pod has no address to connect to");
	return start(s, i, k, false, err);
}

/* The child ended: its exit status, and what it printed in msg. */
static int finish(struct sup *s, size_t i, enum probe_kind k, char *msg, size_t size)
{
	int status = sup_child_finish(s, &s->run[i].probes[k].u.child, msg, size);
	if (status < 0 && msg[0] == '\0')
		snprintf(msg, size, "the probe's process was lost");
	return status;
}

static void exec_ended(struct sup *s, size_t i, enum probe_kind k)
{
	char msg[PROBE_MSG_MAX];
	int status = finish(s, i, k, msg, sizeof(msg));
	if (status > 0 && msg[0] == '\0')
		snprintf(msg, sizeof(msg), "command exited with code %d", status);
	sup_probe_finish(s, i, k, status == 0, msg);
}

static void helper_ended(struct sup *s, size_t i, enum probe_kind k)
{
	char msg[PROBE_MSG_MAX];
	int status = finish(s, i, k, msg, sizeof(msg));
	if (status == 0 && msg[0] && sup_probe_spec(s, i, k)->handler.kind == PP_HANDLER_HTTP_GET)
		sup_probe_warning(s, i, k, msg); /* the helper followed no redirect */
	sup_probe_finish(s, i, k, status == 0, msg);
}

static void cancel(struct sup *s, struct probe_run *p)
{
	sup_child_cancel(s, &p->u.child);
}

const struct probe_transport sup_probe_exec = {
    .start = exec_start,
    .on_event = exec_ended,
    .cancel = cancel,
};

const struct probe_transport sup_probe_helper = {
    .start = helper_start,
    .on_event = helper_ended,
    .cancel = cancel,
};
