/* Changes of the ConfigMaps and Secrets the pod uses reach it, as kubelet's
 * configmap and secret managers deliver them: the supervisor watches,
 * with inotify, the object store's directories of its namespace
 * ($PEAPOD_ROOT/objects/<ns>/{configmaps,secrets}; an object is written by
 * a rename into them, removed by an unlink). An event for an object a
 * configMap, secret or projected volume uses rewrites that volume (the
 * atomic writer switches its ..data by one rename: a reader never sees half
 * an update); subPath mounts (a bind of one file, taken at the start) and
 * env (read at each start) keep what they had, as in kubelet. A container
 * waiting in CreateContainerConfigError for an object retries at once.
 * Nothing polls: an idle pod costs one fd, and a command that dies half-way
 * leaves the store as rename left it (the old file, or the new). */
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "objects/objects.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/trace.h"

/* What in a watched directory says an object changed: a rename into it
 * (apply), an unlink or a rename out (delete), a write in place. */
#define OBJWATCH_MASK (IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE)
#define OBJWATCH_BUF (64 * (sizeof(struct inotify_event) + NAME_MAX + 1))

static bool env_uses_objects(const struct pp_container *c)
{
	if (c->n_env_from > 0)
		return true;
	for (size_t k = 0; k < c->n_env; k++)
		if (c->env[k].source == PP_ENV_CONFIGMAP_KEY ||
		    c->env[k].source == PP_ENV_SECRET_KEY)
			return true;
	return false;
}

/* Whether the pod reads any ConfigMap or Secret (a volume, an env). */
static bool pod_uses_objects(const struct pp_pod_instance *pod)
{
	for (size_t i = 0; i < pod->n_volumes; i++) {
		const struct pp_volume *v = pod->volumes[i].spec;
		for (size_t k = 0; pp_volume_is_projected(v) && k < v->n_sources; k++)
			if (v->sources[k].kind != PP_PROJECTION_DOWNWARD_API)
				return true;
	}
	for (size_t i = 0; i < pod->n_containers; i++)
		if (env_uses_objects(pod->containers[i].spec))
			return true;
	return false;
}

bool sup_objwatch_object_name(const char *file, char *name, size_t size)
{
	size_t len = strlen(file);
	if (len <= 5 || file[0] == '.' || strcmp(file + len - 5, ".json") != 0 || len - 5 >= size)
		return false;
	memcpy(name, file, len - 5);
	name[len - 5] = '\0';
	return true;
}

static int watch_dirs(struct sup *s, struct pp_error **err)
{
	s->objwatch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->objwatch.fd < 0)
		return pp_error_set(err, errno, "inotify_init1");
	for (int k = 0; k < 2; k++) {
		enum pp_object_kind kind = k ? PP_OBJ_SECRET : PP_OBJ_CONFIGMAP;
		/* Made now if no object of that kind was ever stored in the
		 * namespace: one applied later lands in it. */
		cleanup_free char *dir = pp_object_kind_dir(kind, s->pod->spec->namespace_, err);
		if (dir == NULL)
			return -1;
		s->objwatch.wd[k] = inotify_add_watch(s->objwatch.fd, dir, OBJWATCH_MASK);
		if (s->objwatch.wd[k] < 0)
			return pp_error_set(err, errno, "inotify_add_watch %s", dir);
	}
	return sup_watch(s, s->objwatch.fd, TAG(TAG_OBJWATCH, 0)) < 0
		   ? pp_error_set(err, errno, "epoll_ctl")
		   : 0;
}

void sup_objwatch_init(struct sup *s)
{
	s->objwatch.fd = s->objwatch.wd[0] = s->objwatch.wd[1] = -1;
	if (!pod_uses_objects(s->pod))
		return;
	/* kubelet's event for a volume whose object is missing: the
	 * containers wait (ContainerCreating) until it is applied */
	for (size_t i = 0; i < s->pod->n_volumes; i++) {
		const struct pp_pod_volume *pv = &s->pod->volumes[i];
		if (pv->setup_error != NULL)
			sup_event(s, PP_EVENT_WARNING, NULL, "FailedMount",
				  "MountVolume.SetUp failed for volume \"%s\" : %s", pv->spec->name,
				  pv->setup_error);
	}
	cleanup_error struct pp_error *err = NULL;
	if (watch_dirs(s, &err) < 0) {
		/* The pod runs all the same (as it did before it was watched):
		 * e.g. past fs.inotify.max_user_instances, said once. */
		sup_event(s, PP_EVENT_WARNING, NULL, "ObjectWatchFailed",
			  "ConfigMap and Secret changes will not reach this pod: %s", err->msg);
		cleanup_closep(&s->objwatch.fd);
	}
}

void sup_objwatch_close(struct sup *s)
{
	cleanup_closep(&s->objwatch.fd);
}

/* The volumes that use the object: rewritten from the store. */
static void resync_volumes(struct sup *s, bool secret, const char *name)
{
	struct pp_pod_instance *pod = s->pod;
	for (size_t i = 0; i < pod->n_volumes; i++) {
		const struct pp_volume *v = pod->volumes[i].spec;
		if (!pp_volume_uses_object(v, secret, name))
			continue;
		cleanup_error struct pp_error *err = NULL;
		bool changed = false;
		if (pp_pod_instance_resync_volume(pod, i, &changed, &err) < 0)
			/* kubelet's: the volume keeps its last content */
			sup_event(s, PP_EVENT_WARNING, NULL, "FailedMount",
				  "MountVolume.SetUp failed for volume \"%s\" : %s", v->name,
				  err->msg);
		else if (changed)
			pp_trace("volume %s updated from %s %s", v->name,
				 secret ? "secret" : "configmap", name);
		s->dirty = true;
	}
}

/* Containers waiting for a ConfigMap or Secret their env needs try again
 * now rather than after their back-off. */
static void wake_config_waiters(struct sup *s)
{
	int64_t now = pp_monotonic_ns();
	bool any = false;
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		struct image_wait *w = &s->run[i].img;
		if (w->waiting && w->reason != NULL &&
		    strcmp(w->reason, "CreateContainerConfigError") == 0 && w->retry_at) {
			w->retry_at = now;
			any = true;
		}
		/* a restart waiting for one (supervisor.c: restart_config_error) */
		if (s->run[i].config_restart && s->run[i].start_at) {
			s->run[i].start_at = now;
			any = true;
		}
	}
	if (any)
		sup_pulls_kick(s);
}

void sup_objwatch_event(struct sup *s)
{
	char buf[OBJWATCH_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	for (;;) {
		ssize_t n = read(s->objwatch.fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			char name[NAME_MAX + 1];
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events lost: every object's volumes again */
				for (size_t i = 0; i < s->pod->n_volumes; i++) {
					cleanup_error struct pp_error *err = NULL;
					pp_pod_instance_resync_volume(s->pod, i, NULL, &err);
				}
				any = true;
				continue;
			}
			if (ev->len == 0 || !sup_objwatch_object_name(ev->name, name, sizeof(name)))
				continue;
			resync_volumes(s, ev->wd == s->objwatch.wd[1], name);
			any = true;
		}
	}
	if (any && s->stopping == STOP_NONE && !s->finished)
		wake_config_waiters(s);
}
