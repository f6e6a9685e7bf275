/* `peapod wait`: the pod's status looked at again each time its state
 * directory changes (inotify) or a slow poll says so. */
#include "ops/wait.h"

#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/clock.h"

#define WAIT_POLL_MS 100
#define INOTIFY_BUF 4096

/* A jsonpath of the simple form kubectl wait takes: .a.b[0].c */
static struct json_object *jsonpath(struct json_object *o, const char *path)
{
	cleanup_free char *p = xstrdup(path);
	for (char *k = p; o != NULL && *k;) {
		if (*k == '.') {
			k++;
			size_t n = strcspn(k, ".[");
			char saved = k[n];
			k[n] = '\0';
			if (!json_object_object_get_ex(o, k, &o))
				o = NULL;
			k[n] = saved;
			k += n;
		} else if (*k == '[') {
			char *end = NULL;
			long i = strtol(k + 1, &end, 10);
			if (*end != ']' || !json_object_is_type(o, json_type_array))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
			k = end + 1;
		} else {
			return NULL;
		}
	}
	return o;
}

static bool condition_met(struct json_object *pod, const struct pp_wait_for *w)
{
	struct json_object *conds = jsonpath(pod, ".status.conditions");
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		struct json_object *c = json_object_array_get_idx(conds, i), *t = NULL, *s = NULL;
		if (json_object_object_get_ex(c, "type", &t) &&
		    strcasecmp(json_object_get_string(t), w->what) == 0 &&
		    json_object_object_get_ex(c, "status", &s))
			return strcasecmp(json_object_get_string(s), w->value) == 0;
	}
	return false;
}

/* 1 when met, 0 not yet, -1 never (the pod is gone while waiting for it). */
static int check(const char *ns, const char *name, const struct pp_wait_for *w)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, NULL) < 0)
		return w->kind == PP_WAIT_DELETE ? 1 : -1;
	int met = 0;
	if (w->kind == PP_WAIT_CONDITION) {
		met = condition_met(v.obj, w);
	} else if (w->kind == PP_WAIT_JSONPATH) {
		struct json_object *o = jsonpath(v.obj, w->what);
		met = o != NULL && strcmp(json_object_get_string(o), w->value) == 0;
	}
	pp_pod_view_free(&v);
	return met;
}

/* Woken by each new status.json (it is renamed into place) or the end of
 * the state directory; a slow poll covers whatever inotify misses. */
static void watch_state_dir(int ino, const char *ns, const char *name)
{
	cleanup_free char *uid = NULL;
	if (pp_name_lookup(ns, name, &uid, NULL) < 0)
		return;
	cleanup_free char *dir = pp_state_dir(uid);
	inotify_add_watch(ino, dir, IN_MOVED_TO | IN_DELETE_SELF | IN_CLOSE_WRITE);
}

int pp_pod_wait(const char *ns, const char *name, const struct pp_wait_for *wf, int64_t timeout_ms,
		struct pp_error **err)
{
	const struct pp_wait_for w = *wf;
	int64_t deadline = pp_monotonic_ms() + timeout_ms;
	cleanup_close int ino = -1;
	for (;;) {
		int r = check(ns, name, &w);
		if (r > 0)
			return 0;
		if (r < 0)
			return pp_error_set(err, ENOENT, "pods \"%s\" not found", name);
		if (pp_monotonic_ms() >= deadline)
			return pp_error_set(err, 0,
					    "timed out waiting for the condition on pods/%s", name);
		/* Made only once we have to wait: the close of an inotify
		 * with a watch waits for an SRCU grace period (~15 ms here),
		 * the whole cost of a wait that finds the pod ready. */
		if (ino < 0 && (ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) >= 0) {
			watch_state_dir(ino, ns, name);
			continue; /* what changed before the watch */
		}
		struct pollfd p = {.fd = ino, .events = POLLIN};
		int left = pp_ms_left(deadline);
		poll(&p, 1, left < WAIT_POLL_MS ? left : WAIT_POLL_MS);
		char events[INOTIFY_BUF];
		while (ino >= 0 && read(ino, events, sizeof(events)) > 0)
			;
	}
}
