/* src/cgroup: owns the pod and container cgroups under peapod's parent
 * (create, limits, devices, freezer, stats, kill, removal) and the probing of
 * the host's layout; uses only src/util. Must not know pods or manifests
 * (it takes names and numbers), touch a cgroup outside its parent, print or
 * exit.
 *
 * Pod and container cgroups on cgroup v2, v1 and the v1/v2 hybrid layout,
 * behind one interface. The layout is probed once per process; each layout
 * has its backend (cgroup_v1.c, cgroup_v2.c; hybrid = v1 controllers plus
 * the unified hierarchy for membership, kill and hugetlb).
 *
 * Tree, as kubelet's cgroupfs driver makes it (no systemd here):
 *   <parent>/pod-<uid>                Guaranteed pods
 *   <parent>/burstable/pod-<uid>      Burstable pods
 *   <parent>/besteffort/pod-<uid>     BestEffort pods
 *   .../pod-<uid>/<container>         one per container
 * The infra process is in the pod's cgroup itself, except on pure v2 where
 * the no-internal-processes rule puts it in the leaf pod-<uid>/_infra (a
 * name no container can have: container names are DNS labels).
 *
 * Only cgroups under peapod's own parent (default "peapod",
 * $PEAPOD_CGROUP_PARENT) are touched, and those of CRI sandboxes under the
 * parent kubelet gives (pp_cgroup_create_pod_at); on v2 the controllers must be enabled
 * down to that parent by whoever owns it (systemd: Delegate=yes on the unit
 * that runs peapod; cgroupfs: the host's root subtree_control). */
#ifndef PEAPOD_CGROUP_H
#define PEAPOD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

enum pp_cgroup_layout {
	PP_CGROUP_V2,	  /* cgroup2 at /sys/fs/cgroup */
	PP_CGROUP_HYBRID, /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
	PP_CGROUP_V1,	  /* v1 only */
};

struct pp_cgroup;

int pp_cgroup_layout(enum pp_cgroup_layout *out, struct pp_error **err);
/* "v2", "hybrid", "v1". */
const char *pp_cgroup_layout_name(enum pp_cgroup_layout layout);

/* Kubernetes QoS classes, and where their pods' cgroups go. */
enum pp_qos_class { PP_QOS_GUARANTEED = 0, PP_QOS_BURSTABLE, PP_QOS_BESTEFFORT };
const char *pp_qos_class_name(enum pp_qos_class qos);

/* Creates (or reuses) the pod cgroup <parent>[/burstable|/besteffort]/<name>,
 * enabling (v2) the controllers its containers need on the way. */
int pp_cgroup_create_pod(enum pp_qos_class qos, const char *name, struct pp_cgroup **out,
			 struct pp_error **err);
/* The same in two steps, for an infra process cloned in between (its
 * namespaces made on another CPU while the rest is made): first the
 * hierarchy a process can be born in (cgroup2, with v2's infra leaf;
 * nothing on a pure v1 host), then the others. *out is set by the first
 * even when it fails: pp_cgroup_destroy removes what either made. */
int pp_cgroup_create_pod_first(enum pp_qos_class qos, const char *name, struct pp_cgroup **out,
			       struct pp_error **err);
int pp_cgroup_create_pod_rest(const struct pp_cgroup *pod, enum pp_qos_class qos,
			      struct pp_error **err);

/* kubelet's cgroupfs driver gives a sandbox its parent (LinuxPodSandbox
 * Config.cgroup_parent, "/kubepods/besteffort/pod<uid>"): the pod cgroup is
 * then <parent>/<name>, outside peapod's own parent, in every hierarchy,
 * with the parent's missing levels made (kubelet may not have made them
 * yet; which levels peapod made, and when they go, is the pod layer's
 * ledger: pod_cgroup_parent.c). A parent that is not a clean absolute
 * path, has a control character, or is a systemd slice
 * ("kubepods.slice"), is refused (EINVAL). */
int pp_cgroup_check_parent(const char *parent, struct pp_error **err);
int pp_cgroup_create_pod_at(const char *parent, const char *name, struct pp_cgroup **out,
			    struct pp_error **err);
/* Removes it (its processes killed first). Idempotent. */
int pp_cgroup_remove_pod_at(const char *parent, const char *name, struct pp_error **err);
/* Whether the cgroup path is missing in every hierarchy. */
bool pp_cgroup_path_missing(const char *path);
/* rmdir of the cgroup path in every hierarchy: 1 when it is gone from all,
 * 0 when one still holds a cgroup or a process (EBUSY), -1 on an error. */
int pp_cgroup_remove_empty_path(const char *path, struct pp_error **err);

/* Removes the pod cgroup <name> wherever its QoS class put it (a pod whose
 * supervisor died: its class is not known any more). Idempotent. */
int pp_cgroup_remove_pod(const char *name, struct pp_error **err);

/* The same, but a cgroup that still holds a process is left alone. */
int pp_cgroup_remove_empty_pod(const char *name, struct pp_error **err);

/* The names of every pod cgroup under peapod's parent, whatever its QoS
 * class and hierarchy ("pod-<uid>"; NULL-terminated, strv_free): what gc
 * compares with the records. */
int pp_cgroup_pod_names(char ***names, struct pp_error **err);

/* Creates (or reuses) <parent>/<name>; parent NULL means peapod's own parent
 * cgroup. The returned handle is owned by the caller (pp_cgroup_free). */
int pp_cgroup_create(const struct pp_cgroup *parent, const char *name, struct pp_cgroup **out,
		     struct pp_error **err);

/* Opens what a new process needs to move itself into the cgroup before it
 * does anything else (pp_child_join_cgroups): the "tasks" file of each v1
 * hierarchy (O_WRONLY), and the cgroup2 directory (O_RDONLY|O_DIRECTORY),
 * which clone3 can create the process in (CLONE_INTO_CGROUP) or whose
 * cgroup.procs it writes. Neither way waits for the RCU grace period that
 * moving a whole thread group takes (cgroup_threadgroup_rwsem, ~8-15 ms
 * here): a single-threaded child that writes "0" to "tasks" moves only
 * itself, and CLONE_INTO_CGROUP moves no one. */
int pp_cgroup_procs_fds(const struct pp_cgroup *cg, int **fds, size_t *n, struct pp_error **err);
void pp_cgroup_procs_fds_close(int *fds, size_t n);
/* The cgroup2 directory among them (for clone3's CLONE_INTO_CGROUP), or -1. */
int pp_cgroup_clone_dir(const int *fds, size_t n);
/* In the new, single-threaded process: moves itself into each cgroup of fds;
 * cloned_into_dir: clone3 already made it in the cgroup2 one. */
int pp_cgroup_join_self(const int *fds, size_t n, bool cloned_into_dir, struct pp_error **err);

/* The same for the pod's infra process (see the tree above). */
int pp_cgroup_infra_procs_fds(const struct pp_cgroup *pod, int **fds, size_t *n,
			      struct pp_error **err);
/* For an infra process cloned between pp_cgroup_create_pod_first and
 * _rest: the fds of the hierarchy it is born in (none on pure v1). Once
 * the rest is made it moves itself into the others (pp_cgroup_join_self
 * with pp_cgroup_infra_procs_fds'): writing another process's pid to
 * "tasks" takes the thread-group lock, an RCU grace period. */
int pp_cgroup_infra_born_fds(const struct pp_cgroup *pod, int **fds, size_t *n,
			     struct pp_error **err);

/* Limits of one cgroup, already converted to the kernel's units (see
 * pod/resources.h for Kubernetes' conversions). 0 = leave as it is. */
#define PP_CGROUP_MAX_HUGETLB 4
#define PP_CGROUP_CPU_PERIOD_US 100000
struct pp_cgroup_hugetlb {
	char size[16]; /* the kernel's name: "2MB", "1GB" */
	int64_t limit; /* bytes */
};
struct pp_cgroup_resources {
	uint64_t cpu_shares;  /* v1 cpu.shares; v2 cpu.weight from it */
	int64_t cpu_quota_us; /* over PP_CGROUP_CPU_PERIOD_US */
	int64_t memory_limit; /* bytes; swap is then off (memsw = limit, swap.max = 0) */
	int64_t pids_max;     /* best effort: skipped where no pids controller reaches */
	struct pp_cgroup_hugetlb hugetlb[PP_CGROUP_MAX_HUGETLB];
	size_t n_hugetlb;
};

/* Writes the limits. A limit whose controller does not reach the cgroup on
 * this host fails with ENOTSUP (naming it), except pids_max. */
int pp_cgroup_set_resources(const struct pp_cgroup *cg, const struct pp_cgroup_resources *r,
			    struct pp_error **err);

/* How many processes the kernel OOM-killed in this cgroup (and below) so far:
 * v1 memory.oom_control "oom_kill", v2 memory.events "oom_kill". 0 when
 * there is no memory controller. */
uint64_t pp_cgroup_oom_kills(const struct pp_cgroup *cg);

/* cgroup v2 cpu.weight from v1 cpu.shares: the mapping of current runc
 * (1.3.2+) and crun (1.23+), a quadratic in log2(shares) through
 * (2 -> 1), (1024 -> 100), (262144 -> 10000):
 *   weight = ceil(10^((l^2 + 125 l) / 612 - 7/34)), l = log2(shares)
 * so one CPU (1024 shares) gets 100, the v2 default, as on v1. */
uint64_t pp_cgroup_shares_to_weight(uint64_t shares);

/* SIGKILLs every process in the cgroup and its children (cgroup.kill on v2;
 * freeze, kill, thaw on v1, so that no process can fork away meanwhile). */
int pp_cgroup_kill(const struct pp_cgroup *cg, struct pp_error **err);

/* True when no process is left in the cgroup or below it. */
bool pp_cgroup_is_populated(const struct pp_cgroup *cg);

/* Kills what is left, waits (bounded) for it to go and removes the cgroup
 * and its children. Idempotent: a cgroup already gone is success. */
int pp_cgroup_destroy(const struct pp_cgroup *cg, struct pp_error **err);

/* Removes the cgroup where it is empty and has no children (a container's
 * once its processes are reaped), in every hierarchy; where it is not, it
 * is left as it is (pp_cgroup_destroy of its parent kills and takes it). */
void pp_cgroup_remove_if_empty(const struct pp_cgroup *cg);

/* Path of the cgroup relative to the hierarchy root, e.g. "/peapod/pod-UID". */
const char *pp_cgroup_path(const struct pp_cgroup *cg);

void pp_cgroup_free(struct pp_cgroup *cg);

#endif
