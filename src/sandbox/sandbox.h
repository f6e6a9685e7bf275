/* src/sandbox: owns what a pod's containers share: the infra process
 * holding the namespaces, /dev/shm, the sysctls, the /etc files, and the
 * call into src/net. Must not start containers or create the pod's cgroup
 * (src/pod passes it in), print or exit.
 *
 * The pod sandbox: what the containers of one pod share.
 * - the infra process ("peapod-infra", pause-like) holding the pod's network,
 *   IPC and UTS namespaces, and the PID namespace when it is shared (then it
 *   is PID 1 there and reaps every orphan);
 * - the pod's /dev/shm (one tmpfs, kept as a detached mount: it is never
 *   attached on the host, so it cannot leak there);
 * - the pod's network (src/net: CNI ADD once the infra holds the namespace,
 *   DEL before it goes);
 * - /etc/hosts, /etc/hostname, /etc/resolv.conf written per pod;
 * - the pod cgroup (created by the caller, passed in). */
#ifndef PEAPOD_SANDBOX_H
#define PEAPOD_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "manifest/pod_spec.h"
#include "util/error.h"

#define PP_SHM_DEFAULT_SIZE (64LL * 1024 * 1024)

struct pp_sandbox_config {
	const struct pp_pod *pod;
	const char *uid;
	const char *state_dir;	     /* the pod's state directory (exists) */
	const int *cgroup_procs_fds; /* the pod cgroup, for the infra process */
	size_t n_cgroup_procs_fds;
	const struct pp_cgroup *cgroup; /* pp_sandbox_begin: the pod cgroup (cgroup.h) */
	int64_t shm_size;		/* bytes, 0 = default */
	int infra_oom_score_adj;	/* written when set_infra_oom_score_adj */
	bool set_infra_oom_score_adj;
	/* hostUsers: false: the pod's id range on the host (id_count > 0) */
	uint32_t id_base, id_count;
};

struct pp_sandbox {
	pid_t infra_pid;
	int infra_pidfd;
	int infra_ready_fd;   /* begun: where its namespaces are reported made, -1 after */
	int infra_proceed_fd; /* begun: where it is told its cgroups are made, -1 after */
	int join_ns;	      /* CLONE_NEW* flags the containers join through infra_pidfd */
	bool own_pid_ns;      /* containers get their own PID namespace each */
	int shm_fd;	      /* detached tmpfs for /dev/shm, -1 with hostIPC */
	int userns_fd;	      /* the pod's user namespace (owns the others), -1 = the host's */
	char *hosts_path, *hostname_path, *resolv_path;
	char *pod_ip;	/* the pod's first address (/etc/hosts); 127.0.0.1 without a network */
	char **pod_ips; /* every address of the pod, IPv4 first; NULL-terminated, may be empty */
	char *host_ip;	/* the host's address, as status.hostIP */
	char *state_dir;
	bool stopped; /* pp_sandbox_stop done */
};

/* Starts the infra process and prepares the shared files. On failure nothing
 * is left (the infra process is killed and reaped) and *out is NULL. */
int pp_sandbox_create(const struct pp_sandbox_config *cfg, struct pp_sandbox **out,
		      struct pp_error **err);

/* Its infra process ahead of the rest (pp_infra_clone): cloned as soon as
 * the hierarchy it is born in has the pod's cgroup (cfg->cgroup_procs_fds
 * that one's), it makes its namespaces on another CPU while the caller
 * makes the pod's other cgroups and moves it into them; then
 * pp_sandbox_create with *out the begun sandbox does the rest. Without an
 * id range only. On failure nothing is left and *out is NULL; a begun
 * sandbox that is not created after all goes with pp_sandbox_destroy. */
int pp_sandbox_begin(const struct pp_sandbox_config *cfg, struct pp_sandbox **out,
		     struct pp_error **err);
/* A begun sandbox's infra process told that the pod's other cgroups are
 * made: it moves itself into them. Nothing for one that was not begun. */
int pp_sandbox_cgroups_made(struct pp_sandbox *sb, struct pp_error **err);

/* The first half of destroy: the pod's network left (while the infra
 * process still holds its namespace), then the infra process SIGKILLed,
 * not waited for: its exit runs beside what the caller does next.
 * Idempotent. -1 when the network could not be left: its record in
 * state_dir stays (delete and gc try again). */
int pp_sandbox_stop(struct pp_sandbox *sb, struct pp_error **err);

/* Stops the infra process (pp_sandbox_stop, if not done yet; reaped) and
 * closes what the sandbox holds. Files in state_dir are removed with it by
 * the caller. Idempotent. */
void pp_sandbox_destroy(struct pp_sandbox *sb);

/* The files, as kubelet writes them (exposed for tests). Return new strings. */
char *pp_sandbox_hosts_content(const struct pp_pod *pod, const char *pod_ip);
int pp_sandbox_resolv_content(const struct pp_pod *pod, const char *host_resolv, char **out,
			      struct pp_error **err);

#endif
