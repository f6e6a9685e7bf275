/* Shared between the files of the pod layer only. */
#ifndef PEAPOD_POD_INTERNAL_H
#define PEAPOD_POD_INTERNAL_H

#include "pod/pod.h"
#include "runtime/container.h"

int pp_pod_check_host_path(const struct pp_volume *v, bool *is_dir, struct pp_error **err);
/* The pod's cgroup (in its QoS class's group) and one per container, with
 * their limits; plans each container's oom_score_adj and the infra's. */
int pp_pod_cgroups_create(struct pp_pod_instance *pod, int *infra_adj, struct pp_error **err);
int pp_pod_volumes_create(struct pp_pod_instance *pod, struct pp_error **err);
int pp_pod_container_mounts(struct pp_pod_instance *pod, const struct pp_pod_container *c,
			    char **env, struct pp_mount_spec **out, size_t *n, char ***owned,
			    struct pp_error **err);

/* security.c: fills c->identity (and c->seccomp_profile) from the image
 * and the securityContext; refuses runAsNonRoot with a root user and a
 * Localhost seccomp profile that is missing or invalid. */
int pp_pod_container_identity(const struct pp_pod_instance *pod, struct pp_pod_container *c,
			      const char *store_root, struct pp_error **err);

/* ephemeral.c: lets go of what an ephemeral container's slot owns. */
void pp_pod_ephemeral_free(struct pp_pod_container *c);

#endif
