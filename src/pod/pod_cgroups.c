/* The pod's cgroups with their limits, and each process's oom_score_adj:
 * Kubernetes' resources applied on this host. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup_ops.h"
#include "pod/pod_internal.h"
#include "pod/resources.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/trace.h"

static void warn(struct pp_pod_instance *pod, char *msg)
{
	size_t n = 0;
	while (pod->warnings && pod->warnings[n])
		n++;
	pod->warnings = xrealloc(pod->warnings, sizeof(char *) * (n + 2));
	pod->warnings[n] = msg;
	pod->warnings[n + 1] = NULL;
}

static const char *field_of(const struct pp_pod_instance *pod, size_t i, char *buf, size_t size)
{
	bool init = i < pod->n_init;
	snprintf(buf, size, "spec.%s[%zu].resources", init ? "initContainers" : "containers",
		 init ? i : i - pod->n_init);
	return buf;
}

/* kubelet's oom_score_adj, raised where the kernel would refuse a lower one
 * than this process's own (no CAP_SYS_RESOURCE), as containerd's
 * restrict_oom_score_adj does, and then one above it: this process is the
 * supervisor, which could not lower its own (resources.h), and an OOM kill
 * must take a container before it. One warning per pod says so for its
 * containers (warned NULL: the infra process, which asks -998 on every pod,
 * silently at the supervisor's own). */
static int allowed_adj(struct pp_pod_instance *pod, int wanted, int floor, bool *warned)
{
	if (wanted >= floor || warned == NULL)
		return wanted >= floor ? wanted : floor;
	int above = floor < PP_OOM_ADJ_BESTEFFORT ? floor + 1 : floor;
	if (!*warned)
		warn(pod,
		     xasprintf("oom_score_adj %d (%s pod) is below peapod's own %d, which this "
			       "host (no CAP_SYS_RESOURCE) does not allow: using %d instead (the "
			       "supervisor's plus one: an OOM kill takes the container first)",
			       wanted, pp_qos_class_name(pod->qos), floor, above));
	*warned = true;
	return above;
}

static void plan_oom_score_adj(struct pp_pod_instance *pod, int *infra_adj)
{
	bool restricted = false;
	int floor = pp_own_oom_score_adj();
	int64_t capacity = pod->qos == PP_QOS_BURSTABLE ? pp_host_memory_total() : 0;
	*infra_adj = allowed_adj(pod, PP_OOM_ADJ_INFRA, floor, NULL);
	for (size_t i = 0; i < pod->n_containers; i++) {
		struct pp_pod_container *c = &pod->containers[i];
		const struct pp_quantity *req = &c->spec->resources.requests_memory;
		int adj = pp_oom_score_adj(pod->qos, req->set ? req->value : 0, capacity);
		c->oom_score_adj = allowed_adj(pod, adj, floor, &restricted);
	}
}

/* What no cgroup enforces: said once per container. */
static void warn_unenforced(struct pp_pod_instance *pod, size_t i)
{
	const struct pp_resources *r = &pod->containers[i].spec->resources;
	char field[64];
	if (r->limits_ephemeral_storage.set)
		warn(pod, xasprintf("%s.limits.ephemeral-storage is not enforced: kubelet evicts "
				    "by disk usage, peapod has no eviction",
				    field_of(pod, i, field, sizeof(field))));
}

static int create_pod_cgroup(struct pp_pod_instance *pod, const char *cgname, struct pp_error **err)
{
	/* begun by pp_pod_cgroup_first: the rest */
	if (pod->cgroup != NULL)
		return pp_cgroup_create_pod_rest(pod->cgroup, pod->qos, err);
	if (pod->spec->cri_cgroup_parent == NULL)
		return pp_cgroup_create_pod(pod->qos, cgname, &pod->cgroup, err);
	return pp_pod_cgroup_create_at_parent(pod, cgname, err);
}

int pp_pod_cgroup_first(struct pp_pod_instance *pod, struct pp_error **err)
{
	/* under kubelet's parent: in one step, by its ledger (pod_cgroup_parent.c) */
	if (pod->spec->cri_cgroup_parent != NULL)
		return 0;
	pod->qos = pp_pod_qos_class(pod->spec);
	pp_trace("pod cgroups begin");
	cleanup_free char *cgname = xasprintf("pod-%s", pod->uid);
	return pp_cgroup_create_pod_first(pod->qos, cgname, &pod->cgroup, err) < 0 ? -1 : 1;
}

void pp_pod_containers_cgroups_remove(struct pp_pod_instance *pod)
{
	for (size_t i = 0; i < pp_pod_n_all(pod); i++)
		if (!pod->containers[i].removed)
			pp_cgroup_remove_if_empty(pod->containers[i].cgroup);
}

int pp_pod_cgroups_destroy(struct pp_pod_instance *pod, struct pp_error **err)
{
	if (pod->spec->cri_cgroup_parent == NULL)
		return pod->cgroup ? pp_cgroup_destroy(pod->cgroup, err) : 0;
	cleanup_free char *cgname = xasprintf("pod-%s", pod->uid);
	return pp_pod_cgroup_remove_at_parent(pod->state_dir, cgname, err);
}

int pp_pod_cgroups_create(struct pp_pod_instance *pod, int *infra_adj, struct pp_error **err)
{
	struct pp_cgroup_resources res;
	char field[64];
	bool devices_warned = false;
	if (pod->cgroup == NULL) {
		pod->qos = pp_pod_qos_class(pod->spec);
		pp_trace("pod cgroups begin");
	}
	cleanup_free char *cgname = xasprintf("pod-%s", pod->uid);
	if (create_pod_cgroup(pod, cgname, err) < 0)
		return -1;
	/* The pod's limits first: a container's CFS quota may not exceed its parent's. */
	pp_pod_cgroup_resources(pod->spec, pp_pod_pids_limit(), &res);
	if (pp_cgroup_set_resources(pod->cgroup, &res, err) < 0)
		return pp_error_wrap(err, "pod resources");
	for (size_t i = 0; i < pod->n_containers; i++) {
		struct pp_pod_container *c = &pod->containers[i];
		if (pp_cgroup_create(pod->cgroup, c->spec->name, &c->cgroup, err) < 0)
			return -1;
		const struct pp_security_context *sc = &c->spec->security;
		int dev =
		    pp_cgroup_devices_apply(c->cgroup, sc->has_privileged && sc->privileged, err);
		if (dev < 0)
			return pp_error_wrap(err, "container %s", c->spec->name);
		if (dev > 0 && !devices_warned)
			warn(pod, xstrdup("no devices cgroup (v1) or cgroup2 on this host: the "
					  "containers' device access is not restricted"));
		devices_warned = devices_warned || dev > 0;
		pp_container_cgroup_resources(c->spec, &res);
		if (pp_cgroup_set_resources(c->cgroup, &res, err) < 0)
			return pp_error_wrap(err, "%s", field_of(pod, i, field, sizeof(field)));
		warn_unenforced(pod, i);
	}
	plan_oom_score_adj(pod, infra_adj);
	pp_trace("pod cgroups made");
	return 0;
}
