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

/* The names of the pod's containers in status order: the app containers,
 * then the init containers (sidecars run beside them), then the ones added
 * to the running pod (a CRI sandbox's containers, peapod debug's). */
static char **container_names(const struct pp_pod_view *v)
{
	static const char *const lists[] = {"containerStatuses", "initContainerStatuses",
					    "ephemeralContainerStatuses"};
	struct json_object *st = NULL;
	char **names = xmalloc(sizeof(*names));
	size_t n = 0;
	if (!json_object_object_get_ex(v->obj, "status", &st))
		return names;
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		struct json_object *list = NULL, *nm = NULL;
		if (!json_object_object_get_ex(st, lists[k], &list))
			continue;
		for (size_t i = 0; i < json_object_array_length(list); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(list, i), "name",
						      &nm)) {
				names = xrealloc(names, (n + 2) * sizeof(*names));
				names[n++] = xstrdup(json_object_get_string(nm));
				names[n] = NULL;
			}
	}
	return names;
}

/* Asks for container (on r->ctl) and fills the rest of r. */
static int reach_one(struct pp_container_reach *r, const char *name, const char *container,
		     struct pp_error **err)
{
	free(r->container);
	r->container = xstrdup(container);
	cleanup_closep(&r->pidfd);
	if (ask_supervisor(r->ctl, r->container, &r->pidfd, err) < 0)
		return pp_error_wrap(err, "pod %s", name);
	r->pid = pidfd_pid(r->pidfd, r->container, err);
	return r->pid < 0 ? -1 : 0;
}

/* container NULL: the first of the pod's containers that runs (any
 * reaches the namespaces they share), else that one. */
static int reach(const char *ns, const char *name, const char *container, bool any_running,
		 struct pp_container_reach *r, struct pp_error **err)
{
	*r = (struct pp_container_reach){.pidfd = -1, .ctl = -1};
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, err) < 0)
		return -1;
	cleanup_strv char **names = container_names(&v);
	bool alive = v.alive && !v.finished;
	if (container == NULL && names[0] == NULL) {
		pp_pod_view_free(&v);
		return pp_error_set(err, 0, "pod %s has no container", name);
	}
	if (!alive) {
		pp_pod_view_free(&v);
		return pp_error_set(err, 0, "pod %s is not running", name);
	}
	r->ctl = pp_ctl_connect(v.uid, err);
	if (r->ctl < 0) {
		pp_pod_ctl_failed(&v, err);
		pp_pod_view_free(&v);
		pp_container_reach_free(r);
		return -1;
	}
	pp_pod_view_free(&v);
	if (!any_running && reach_one(r, name, container ? container : names[0], err) == 0)
		return 0;
	for (size_t i = 0; any_running && names[i] != NULL; i++) {
		cleanup_error struct pp_error *e = NULL;
		if (reach_one(r, name, names[i], &e) == 0)
			return 0;
		if (i == 0) /* the first container's reason, if none runs */
			*err = steal_ptr(&e);
	}
	pp_container_reach_free(r);
	return -1;
}

int pp_container_reach(const char *ns, const char *name, const char *container,
		       struct pp_container_reach *r, struct pp_error **err)
{
	return reach(ns, name, container, false, r, err);
}

int pp_pod_reach(const char *ns, const char *name, struct pp_container_reach *r,
		 struct pp_error **err)
{
	return reach(ns, name, NULL, true, r, err);
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
