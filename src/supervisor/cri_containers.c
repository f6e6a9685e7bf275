/* A CRI sandbox's containers (src/cri: CreateContainer, StartContainer,
 * StopContainer, RemoveContainer, UpdateContainerResources,
 * ReopenContainerLog), as the control socket asks for them. kubelet owns
 * restarts, probes, hooks and the order of starts: the supervisor runs
 * what it is told, once, and reports how it ended (status.c). */
#include <string.h>

#include "cgroup/cgroup.h"
#include "pod/resources.h"
#include "supervisor/supervisor_internal.h"
#include "util/clock.h"

/* The CRI container called name, or -1 (err says so). */
static ssize_t find_cri(struct sup *s, const char *name, struct pp_error **err)
{
	for (size_t i = s->pod->n_containers; i < pp_pod_n_all(s->pod); i++) {
		const struct pp_pod_container *c = &s->pod->containers[i];
		if (c->cri && !c->removed && strcmp(c->spec->name, name) == 0)
			return (ssize_t)i;
	}
	pp_error_set(err, ENOENT, "container \"%s\" not found in pod %s", name, s->pod->spec->name);
	return -1;
}

static int refuse_stopping(struct sup *s, struct pp_error **err)
{
	if (!s->pod->spec->cri)
		return pp_error_set(err, EINVAL, "pod %s is not a CRI sandbox", s->pod->spec->name);
	if (s->stopping != STOP_NONE || s->finished)
		return pp_error_set(err, 0, "pod %s is not ready: it is being stopped",
				    s->pod->spec->name);
	if (s->frozen)
		return pp_error_set(err, 0, "pod %s is paused", s->pod->spec->name);
	return 0;
}

int sup_cri_create(struct sup *s, struct pp_container *spec, const char *log_path,
		   struct pp_error **err)
{
	if (refuse_stopping(s, err) < 0) {
		pp_container_free(spec);
		return -1;
	}
	size_t i = 0;
	if (pp_pod_instance_add_cri_container(s->pod, spec, log_path, &i, err) < 0)
		return -1;
	struct pp_pod_container *c = &s->pod->containers[i];
	struct pp_cgroup_resources res;
	pp_container_cgroup_resources(c->spec, &res);
	if (pp_cgroup_set_resources(c->cgroup, &res, err) < 0) {
		pp_error_wrap(err, "container %s: resources", c->spec->name);
		pp_pod_instance_remove_cri_container(s->pod, i, NULL);
		return -1;
	}
	sup_new_run(s, i);
	s->dirty = true;
	sup_event(s, PP_EVENT_INFO, c->spec->name, "Created", "Created container %s",
		  c->spec->name);
	return 0;
}

int sup_cri_start(struct sup *s, const char *name, struct pp_error **err)
{
	if (refuse_stopping(s, err) < 0)
		return -1;
	ssize_t i = find_cri(s, name, err);
	if (i < 0)
		return -1;
	struct ctr_run *r = &s->run[i];
	if (r->cri_start || r->ever_started)
		return pp_error_set(err, 0, "container %s is not in created state: it was started",
				    name);
	r->cri_start = true;
	s->dirty = true;
	sup_advance(s);
	const struct pp_pod_container *c = &s->pod->containers[i];
	if (c->state == PP_CTR_TERMINATED && c->reason != NULL &&
	    strcmp(c->reason, "StartError") == 0)
		return pp_error_set(err, 0, "container %s could not be started%s%s", name,
				    c->message ? ": " : "", c->message ? c->message : "");
	return 0;
}

int sup_cri_stop(struct sup *s, const char *name, int64_t timeout_s, struct pp_error **err)
{
	ssize_t i = find_cri(s, name, err);
	if (i < 0)
		return -1;
	const struct pp_pod_container *c = &s->pod->containers[i];
	if (c->state != PP_CTR_RUNNING)
		return 0; /* idempotent: created or exited already */
	sup_thaw(s, NULL);
	sup_stop_container(s, (size_t)i, timeout_s <= 0);
	if (timeout_s > 0)
		s->run[i].kill_at = pp_monotonic_ns() + timeout_s * PP_NSEC_PER_SEC;
	s->dirty = true;
	return 0;
}

int sup_cri_remove(struct sup *s, const char *name, struct pp_error **err)
{
	cleanup_error struct pp_error *e = NULL;
	ssize_t i = find_cri(s, name, &e);
	if (i < 0)
		return 0; /* idempotent */
	const struct pp_pod_container *c = &s->pod->containers[i];
	if (c->state == PP_CTR_RUNNING || c->spawning)
		return pp_error_set(err, EBUSY, "container %s is running: stop it first", name);
	if (s->callbacks->container_removed != NULL)
		s->callbacks->container_removed(s->callbacks->ctx, c);
	if (pp_pod_instance_remove_cri_container(s->pod, (size_t)i, err) < 0)
		return -1;
	sup_free_run(s, (size_t)i);
	s->dirty = true;
	return 0;
}

int sup_cri_reopen_log(struct sup *s, const char *name, struct pp_error **err)
{
	ssize_t i = find_cri(s, name, err);
	if (i < 0)
		return -1;
	const struct pp_pod_container *c = &s->pod->containers[i];
	if (c->state != PP_CTR_RUNNING)
		return pp_error_set(err, 0, "container %s is not running", name);
	if (s->callbacks->reopen_log == NULL)
		return 0;
	return s->callbacks->reopen_log(s->callbacks->ctx, c, err);
}

int sup_cri_update_resources(struct sup *s, const char *name, struct pp_container *with,
			     struct pp_error **err)
{
	ssize_t i = find_cri(s, name, err);
	if (i < 0) {
		pp_container_free(with);
		return -1;
	}
	struct pp_pod_container *c = &s->pod->containers[i];
	/* The supervisor owns its containers' specs: the new limits are kept
	 * (the old ones go with `with`). */
	struct pp_container *spec = c->owned_spec;
	struct pp_resources swap = spec->resources;
	spec->resources = with->resources;
	with->resources = swap;
	struct pp_cgroup_resources cg;
	pp_container_cgroup_resources(spec, &cg);
	int r = pp_cgroup_set_resources(c->cgroup, &cg, err);
	if (r < 0) {
		with->resources = spec->resources;
		spec->resources = swap;
		pp_error_wrap(err, "container %s: resources", name);
	}
	pp_container_free(with);
	s->dirty = true;
	return r;
}
