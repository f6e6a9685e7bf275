/* `peapod logs` and `attach` over the CRI log files (logs/crilog.h) and the
 * pod's status (which instance is current, whether it is over). */
#include "ops/logs.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ops/ops.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

/* The container's status object (init or app), NULL when there is none. */
static struct json_object *container_status(struct json_object *pod, const char *name)
{
	struct json_object *st = NULL, *list = NULL;
	if (!json_object_object_get_ex(pod, "status", &st))
		return NULL;
	const char *lists[] = {"initContainerStatuses", "containerStatuses",
			       "ephemeralContainerStatuses"};
	for (size_t l = 0; l < 3; l++) {
		if (!json_object_object_get_ex(st, lists[l], &list))
			continue;
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *c = json_object_array_get_idx(list, i), *n = NULL;
			if (json_object_object_get_ex(c, "name", &n) &&
			    strcmp(json_object_get_string(n), name) == 0)
				return c;
		}
	}
	return NULL;
}

/* Whether the pod's manifest has an app container of that name. */
static bool in_spec(struct pp_pod_view *v, const char *container)
{
	struct json_object *spec = NULL, *list = NULL, *n = NULL;
	if (!json_object_object_get_ex(v->obj, "spec", &spec))
		pp_pod_view_attach_spec(v);
	if (!json_object_object_get_ex(v->obj, "spec", &spec) ||
	    !json_object_object_get_ex(spec, "containers", &list) ||
	    !json_object_is_type(list, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(list, i), "name", &n) &&
		    strcmp(json_object_get_string(n), container) == 0)
			return true;
	return false;
}

static int restart_count(struct json_object *cs)
{
	struct json_object *r = NULL;
	return json_object_object_get_ex(cs, "restartCount", &r) ? json_object_get_int(r) : 0;
}

int pp_pod_log_target(const char *ns, const char *name, const char *container, bool previous,
		      struct pp_log_target *t, struct pp_error **err)
{
	*t = (struct pp_log_target){0};
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, err) < 0)
		return -1;
	t->ns = xstrdup(ns);
	t->name = xstrdup(name);
	t->uid = xstrdup(v.uid);
	if (container == NULL)
		container = pp_pod_view_default_container(&v, &t->defaulted);
	t->container = container ? xstrdup(container) : NULL;
	struct json_object *cs = container ? container_status(v.obj, container) : NULL;
	cleanup_free char *gone_uid = NULL;
	int ret = 0;
	if (cs == NULL && container != NULL && in_spec(&v, container)) {
		/* kubectl's words for a container that has no status yet */
		ret = pp_error_set(err, 0,
				   "container \"%s\" in pod \"%s\" is waiting to start: "
				   "ContainerCreating",
				   container, name);
	} else if (cs == NULL && container == NULL &&
		   pp_name_lookup(ns, name, &gone_uid, err) < 0) {
		ret = -1; /* deleted meanwhile (its manifest was gone already) */
	} else if (cs == NULL) {
		ret = pp_error_set(err, 0, "container %s is not valid for pod %s",
				   container ? container : "(none)", name);
	} else if (previous && restart_count(cs) == 0) {
		ret = pp_error_set(err, 0,
				   "previous terminated container \"%s\" in pod \"%s\" not found",
				   container, name);
	} else {
		t->restart = restart_count(cs) - (previous ? 1 : 0);
		cleanup_free char *dir = pp_pod_log_dir(ns, name, v.uid);
		t->dir = xasprintf("%s/%s", dir, container);
	}
	pp_pod_view_free(&v);
	return ret;
}

void pp_log_target_free(struct pp_log_target *t)
{
	free(t->ns);
	free(t->name);
	free(t->container);
	free(t->dir);
	free(t->uid);
	*t = (struct pp_log_target){0};
}

/* A container that never started has no log yet: no output. */
static int never_written_is_empty(int r, struct pp_error **err)
{
	if (r < 0 && err != NULL && *err != NULL && (*err)->status == ENOENT) {
		pp_error_free(err);
		return 0;
	}
	return r;
}

int pp_pod_logs_read(const struct pp_log_target *t, const struct pp_log_read_opts *opts,
		     pp_log_record_fn fn, void *ctx, struct pp_error **err)
{
	int r = pp_log_read(t->dir, t->restart, t->container, opts, fn, ctx, err);
	return never_written_is_empty(r, err);
}

/* Whether the instance being followed is over (or the pod is). */
static bool instance_over(const struct pp_log_target *t)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(t->ns, t->name, &v, NULL) < 0)
		return true;
	struct json_object *cs = container_status(v.obj, t->container), *state = NULL;
	bool over = !v.alive || cs == NULL || restart_count(cs) > t->restart ||
		    !json_object_object_get_ex(cs, "state", &state) ||
		    json_object_object_get_ex(state, "terminated", NULL);
	pp_pod_view_free(&v);
	return over;
}

static int follow(const struct pp_log_target *t, const struct pp_log_read_opts *opts,
		  pp_log_record_fn fn, void *ctx, const struct pp_logs_follow_io *io,
		  struct pp_error **err)
{
	struct pp_log_follow *f = NULL;
	int ret = -1;
	if (pp_log_follow_new(&f, err) < 0 ||
	    pp_log_follow_add(f, t->dir, t->restart, t->container, opts, err) < 0)
		goto out;
	for (;;) {
		if (pp_log_follow_read(f, fn, ctx, err) < 0)
			goto out;
		if (io->batch_done)
			io->batch_done(io->ctx);
		if (instance_over(t))
			break;
		struct pollfd p[2] = {{.fd = pp_log_follow_fd(f), .events = POLLIN},
				      {.fd = io->fd ? io->fd(io->ctx) : -1, .events = POLLIN}};
		poll(p, 2, PP_LOGS_FOLLOW_POLL_MS);
		if (p[1].revents && io->ready)
			io->ready(io->ctx);
	}
	ret = pp_log_follow_read(f, fn, ctx, err);
out:
	pp_log_follow_free(f);
	return ret;
}

int pp_pod_logs_follow(const struct pp_log_target *t, const struct pp_log_read_opts *opts,
		       pp_log_record_fn fn, void *ctx, const struct pp_logs_follow_io *io,
		       struct pp_error **err)
{
	static const struct pp_logs_follow_io none = {0};
	return never_written_is_empty(follow(t, opts, fn, ctx, io ? io : &none, err), err);
}

int pp_pod_attach_stdin(const char *uid, const char *container, int *fd, bool *is_pty,
			struct pp_error **err)
{
	cleanup_close int ctl = pp_ctl_connect(uid, err);
	cleanup_free char *req = xasprintf("attach %s", container);
	int fds[PP_CTL_MAX_FDS];
	size_t n = 0;
	cleanup_free char *reply = NULL;
	if (ctl < 0 || pp_ctl_call(ctl, req, &reply, fds, &n, err) < 0)
		return -1;
	if (n < 1)
		return pp_error_set(err, EPROTO, "the supervisor sent no stdin for %s", container);
	*fd = fds[0];
	*is_pty = reply != NULL && strcmp(reply, "ok tty") == 0;
	for (size_t i = 1; i < n; i++)
		close(fds[i]);
	return 0;
}
