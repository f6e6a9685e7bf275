/* Shared between the files of the pod layer only. */
#ifndef PEAPOD_POD_INTERNAL_H
#define PEAPOD_POD_INTERNAL_H

#include "pod/pod.h"
#include "runtime/container.h"

int pp_pod_check_host_path(const struct pp_volume *v, bool *is_dir, struct pp_error **err);
/* The pod's cgroup (in its QoS class's group) and one per container, with
 * their limits; plans each container's oom_score_adj and the infra's. */
int pp_pod_cgroups_create(struct pp_pod_instance *pod, int *infra_adj, struct pp_error **err);
/* The pod cgroup's first step (cgroup.h, pp_cgroup_create_pod_first), for
 * an infra process cloned before the rest: 1 when made (then
 * pp_pod_cgroups_create makes the rest), 0 when the pod's cgroup is made
 * in one step (a CRI pod under kubelet's parent), -1 on error. */
int pp_pod_cgroup_first(struct pp_pod_instance *pod, struct pp_error **err);
/* Their removal, with their processes (pp_pod_instance_destroy). */
int pp_pod_cgroups_destroy(struct pp_pod_instance *pod, struct pp_error **err);
/* The containers' cgroups, where empty (their processes reaped): removed,
 * so that pp_pod_cgroups_destroy finds the pod's without children to read
 * (what is left, it kills and removes). */
void pp_pod_containers_cgroups_remove(struct pp_pod_instance *pod);
/* pod_cgroup_parent.c: a CRI sandbox's pod cgroup under kubelet's parent,
 * with the parent's missing levels; its removal (the state directory says
 * where; nothing for other pods) with the levels peapod made, once empty. */
int pp_pod_cgroup_create_at_parent(struct pp_pod_instance *pod, const char *cgname,
				   struct pp_error **err);
int pp_pod_cgroup_remove_at_parent(const char *state_dir, const char *cgname,
				   struct pp_error **err);
int pp_pod_volumes_create(struct pp_pod_instance *pod, struct pp_error **err);
int pp_pod_container_mounts(struct pp_pod_instance *pod, const struct pp_pod_container *c,
			    char **env, struct pp_mount_spec **out, size_t *n, char ***owned,
			    struct pp_error **err);

/* security.c: fills c->identity (and c->seccomp_profile) from the image
 * and the securityContext; refuses runAsNonRoot with a root user and a
 * Localhost seccomp profile that is missing or invalid. */
int pp_pod_container_identity(const struct pp_pod_instance *pod, struct pp_pod_container *c,
			      const char *store_root, struct pp_error **err);

/* downward.c: the downward API's values. fieldRef paths (metadata.*,
 * spec.nodeName, spec.serviceAccountName, status.podIP(s), status.hostIP(s);
 * metadata.labels and .annotations as kubelet's key="value" lines) and
 * resourceFieldRef of a container of the pod (an unset limit is the node's
 * allocatable), divided by divisor (may be NULL) and rounded up. */
int pp_pod_field_ref_value(const struct pp_pod_instance *pod, const char *path, char **out,
			   struct pp_error **err);
int pp_pod_resource_ref_value(const struct pp_pod_instance *pod, const char *container,
			      const char *resource, const struct pp_quantity *divisor, char **out,
			      struct pp_error **err);

/* volume_dapi.c: a downwardAPI or projected volume: a detached tmpfs
 * (kubelet's are memory-backed) in pv->fd, made on the first call, holding
 * the files laid out by the atomic writer. Called again (an object or the
 * pod's metadata changed), it rewrites what differs in one switch of
 * ..data; *changed (may be NULL) says whether anything did. Must run in the
 * process that holds pv->fd (the supervisor). */
int pp_pod_projected_volume_sync(struct pp_pod_instance *pod, struct pp_pod_volume *pv,
				 bool *changed, struct pp_error **err);
/* The first sync, at the pod's creation: a missing object or key (not
 * optional) leaves the volume empty with pv->setup_error set (kubelet
 * keeps such a pod waiting for it) rather than failing. */
int pp_pod_projected_volume_create(struct pp_pod_instance *pod, struct pp_pod_volume *pv,
				   struct pp_error **err);
/* ephemeral.c: lets go of what an ephemeral container's slot owns. */
void pp_pod_ephemeral_free(struct pp_pod_container *c);

#endif
