/* The infra process: pause-like. It creates and holds the pod's namespaces,
 * reaps every child it inherits (it is PID 1 of the pod's PID namespace when
 * that is shared) and exits only when told to (SIGTERM/SIGINT) or killed.
 * Once set up it execs peapod-infra (src/progs), the same loop in a few
 * pages, where that program is installed. */
#ifndef PEAPOD_INFRA_H
#define PEAPOD_INFRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "manifest/pod_spec.h"
#include "util/error.h"

#define PP_INFRA_NAME "peapod-infra"

struct pp_infra_config {
	int clone_flags;      /* CLONE_NEWNET|CLONE_NEWIPC|CLONE_NEWUTS|CLONE_NEWPID subset */
	const char *hostname; /* set when CLONE_NEWUTS */
	const int *cgroup_procs_fds;
	size_t n_cgroup_procs_fds;
	/* pp_infra_clone: the pod's cgroup, whose other hierarchies the child
	 * joins itself once pp_infra_cgroups_made says they are made (NULL:
	 * none to join) */
	const struct pp_cgroup *cgroup;
	int oom_score_adj; /* written when set_oom_score_adj */
	bool set_oom_score_adj;
	/* namespaced sysctls (checked by the parser): the IPC ones are written
	 * in the new namespaces, net.* ones left to the supervisor (sysctl.h) */
	const struct pp_kv *sysctls;
	size_t n_sysctls;
	/* id_count > 0: the infra process is born in a new user namespace
	 * owning every namespace above (and a mount namespace of its own),
	 * mapping ids 0..id_count-1 to id_base.. on the host. */
	uint32_t id_base, id_count;
};

/* Returns once the infra process holds its namespaces and they are set up
 * (hostname, loopback, IPC sysctls): by the caller, which enters them
 * through the new pidfd and comes back (it must be single-threaded), not
 * waiting for the child to run; with id_count by the child in its user
 * namespace, which reports. With id_count, *userns_fd is its user
 * namespace (else -1). */
int pp_infra_start(const struct pp_infra_config *cfg, pid_t *pid, int *pidfd, int *userns_fd,
		   struct pp_error **err);

/* The same in steps: pp_infra_clone returns once the process exists, born
 * in the cgroup of cfg->cgroup_procs_fds (the cgroup2 one); it makes the
 * net, IPC and UTS namespaces itself (unshare: a network namespace is
 * ~0.4 ms here) and sets them up (hostname, loopback, IPC sysctls) on its
 * own CPU while the caller makes the pod's other cgroups and says so
 * (pp_infra_cgroups_made, *proceed_fd closed): then the child moves itself
 * into them (cfg->cgroup). pp_infra_setup waits for its namespaces
 * (*ready_fd, closed) and writes its oom_score_adj. Without an id range
 * only (EINVAL). On failure of any the caller kills the process
 * (pp_infra_stop). */
int pp_infra_clone(const struct pp_infra_config *cfg, pid_t *pid, int *pidfd, int *ready_fd,
		   int *proceed_fd, struct pp_error **err);
int pp_infra_cgroups_made(int *proceed_fd, struct pp_error **err);
int pp_infra_setup(const struct pp_infra_config *cfg, pid_t pid, int pidfd, int *ready_fd,
		   struct pp_error **err);

/* Writes uid_map and gid_map of process pid: "0 base count" (as root, the
 * parent of the namespace: no newuidmap, setgroups stays allowed). */
int pp_userns_write_maps(pid_t pid, uint32_t base, uint32_t count, struct pp_error **err);

/* SIGKILLs and reaps it. */
void pp_infra_stop(int pidfd);

#endif
