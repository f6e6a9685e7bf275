/* A running container's pidfd, from its pod's supervisor (control socket). */
#include "ops/reach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ops/ops.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/proc.h"

/* The first app container, as kubectl picks it without -c. */
static const char *first_container(const struct pp_pod_view *v)
{
	struct json_object *st = NULL, *list = NULL, *n = NULL;
	if (json_object_object_get_ex(v->obj, "status", &st) &&
	    json_object_object_get_ex(st, "containerStatuses", &list) &&
	    json_object_array_length(list) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(list, 0), "name", &n))
		return json_object_get_string(n);
	return NULL;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static int ask_supervisor(int ctl, const char *container, int *pidfd, struct pp_error **err)
{
	const struct pp_ctl_exec_request req = {.container = container};
	cleanup_free char *msg = pp_ctl_exec_request_encode(&req);
	cleanup_free char *text = NULL;
	int fds[PP_CTL_MAX_FDS];
	size_t n_fds = 0;
	struct pp_ctl_exec_reply reply = {0};
	if (pp_ctl_call(ctl, msg, &text, fds, &n_fds, err) < 0)
		return -1;
	if (pp_ctl_exec_reply_decode(text, strlen(text), fds, n_fds, &reply, err) < 0) {
		close_fds(fds, n_fds);
		return -1;
	}
	*pidfd = fcntl(reply.container_pidfd, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	pp_ctl_exec_reply_free(&reply);
	close_fds(fds, n_fds);
	if (*pidfd < 0)
		return pp_error_set(err, e, "container %s: dup its pidfd", container);
	return 0;
}

/* The pidfd's process in our PID namespace (/proc/self/fdinfo's "Pid:"). */
static int pidfd_pid(int pidfd, const char *container, struct pp_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (f == NULL)
		return pp_error_set(err, errno, "container %s: its pidfd", container);
	cleanup_free char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		int pid;
		if (sscanf(line, "Pid: %d", &pid) == 1 && pid > 0)
			return pid;
	}
	return pp_error_set(err, ESRCH, "container %s is not running", container);
}

int pp_container_reach(const char *ns, const char *name, const char *container,
		       struct pp_container_reach *r, struct pp_error **err)
{
	*r = (struct pp_container_reach){.pidfd = -1, .ctl = -1};
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, err) < 0)
		return -1;
	const char *first = first_container(&v);
	if (container == NULL && first == NULL) {
		pp_pod_view_free(&v);
		return pp_error_set(err, 0, "pod %s has no container", name);
	}
	r->container = xstrdup(container ? container : first);
	bool alive = v.alive && !v.finished;
	cleanup_free char *uid = xstrdup(v.uid);
	pp_pod_view_free(&v);
	if (!alive) {
		pp_container_reach_free(r);
		return pp_error_set(err, 0, "pod %s is not running", name);
	}
	r->ctl = pp_ctl_connect(uid, err);
	if (r->ctl < 0 || ask_supervisor(r->ctl, r->container, &r->pidfd, err) < 0) {
		pp_error_wrap(err, "pod %s", name);
		pp_container_reach_free(r);
		return -1;
	}
	r->pid = pidfd_pid(r->pidfd, r->container, err);
	if (r->pid < 0) {
		pp_container_reach_free(r);
		return -1;
	}
	return 0;
}

int pp_container_reach_open(const struct pp_container_reach *r, const char *what, int flags,
			    struct pp_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", r->pid, what);
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno == ENOENT ? ESRCH : errno, "container %s: %s",
				    r->container, what);
	if (pp_pidfd_send_signal(r->pidfd, 0) < 0) {
		int e = errno;
		close(fd);
		return pp_error_set(err, e, "container %s is not running", r->container);
	}
	return fd;
}

void pp_container_reach_free(struct pp_container_reach *r)
{
	free(r->container);
	r->container = NULL;
	cleanup_closep(&r->pidfd);
	cleanup_closep(&r->ctl);
}
