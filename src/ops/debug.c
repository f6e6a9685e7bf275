/* What `peapod debug` does (kubectl debug with an ephemeral container): a
 * debug request to the running pod's supervisor, then, for an attach, a
 * wait until the container runs (or is over, or cannot start). */
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ops/ops.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

/* How often the status is looked at while the container gets ready. */
#define DEBUG_WAIT_POLL_NS (50 * 1000 * 1000)

/* The request to a pod that runs. */
static int send_request(const struct pp_pod_view *v, const struct pp_debug_opts *o,
			struct pp_error **err)
{
	const struct pp_ctl_debug_request req = {.name = o->container,
						 .image = o->image,
						 .target = o->target,
						 .command = o->command,
						 .pull_policy = o->pull_policy,
						 .stdin_open = o->stdin_open,
						 .tty = o->tty};
	cleanup_free char *msg = pp_ctl_debug_request_encode(&req);
	cleanup_close int fd = pp_ctl_connect(v->uid, err);
	if (fd < 0 || pp_ctl_call(fd, msg, NULL, NULL, NULL, err) < 0)
		return pp_pod_ctl_failed(v, err);
	return 0;
}

int pp_pod_debug(const char *ns, const char *name, const struct pp_debug_opts *o,
		 struct pp_error **err)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, err) < 0)
		return -1;
	int ret;
	const char *phase = pp_pod_view_str(&v, "status.phase");
	if (v.finished || !v.alive || phase == NULL || strcmp(phase, "Running") != 0)
		ret = pp_error_set(err, 0,
				   "pod %s is not running (%s): an ephemeral container can only be "
				   "added to a running pod",
				   name,
				   v.finished || !v.alive ? "it has ended"
				   : phase		  ? phase
							  : "?");
	else
		ret = send_request(&v, o, err);
	pp_pod_view_free(&v);
	return ret;
}

static struct json_object *ephemeral_status(struct json_object *pod, const char *container)
{
	struct json_object *st = NULL, *list = NULL;
	if (!json_object_object_get_ex(pod, "status", &st) ||
	    !json_object_object_get_ex(st, "ephemeralContainerStatuses", &list))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *c = json_object_array_get_idx(list, i), *n = NULL;
		if (json_object_object_get_ex(c, "name", &n) &&
		    strcmp(json_object_get_string(n), container) == 0)
			return c;
	}
	return NULL;
}

/* 1 running or over, 0 not yet, -1 it cannot start (err says why). */
static int started(const struct pp_pod_view *v, const char *name, const char *container,
		   struct pp_error **err)
{
	struct json_object *cs = ephemeral_status(v->obj, container), *state = NULL, *w = NULL;
	if (!v->alive || v->finished)
		return pp_error_set(err, 0, "pod %s ended before container %s started", name,
				    container);
	if (cs == NULL || !json_object_object_get_ex(cs, "state", &state))
		return 0;
	if (!json_object_object_get_ex(state, "waiting", &w))
		return 1;
	struct json_object *reason = NULL, *message = NULL;
	json_object_object_get_ex(w, "reason", &reason);
	json_object_object_get_ex(w, "message", &message);
	const char *r = reason ? json_object_get_string(reason) : NULL;
	/* kubelet's reasons for an image or a config that does not do: the
	 * attach would wait for nothing */
	static const char *const fatal[] = {"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull",
					    "CreateContainerConfigError"};
	for (size_t i = 0; r != NULL && i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (strcmp(r, fatal[i]) == 0)
			return pp_error_set(err, 0, "container %s: %s: %s", container, r,
					    message ? json_object_get_string(message) : "");
	return 0;
}

int pp_pod_debug_wait(const char *ns, const char *name, const char *container,
		      struct pp_error **err)
{
	const struct timespec poll = {0, DEBUG_WAIT_POLL_NS};
	for (;;) {
		struct pp_pod_view v;
		if (pp_pod_view_load(ns, name, &v, err) < 0)
			return -1;
		int r = started(&v, name, container, err);
		pp_pod_view_free(&v);
		if (r != 0)
			return r < 0 ? -1 : 0;
		nanosleep(&poll, NULL);
	}
}
