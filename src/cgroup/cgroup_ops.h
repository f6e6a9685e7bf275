/* Operations on a pod's or container's cgroup beyond membership: the device
 * allow-list (devices.c), freezing (freezer.c) and usage statistics
 * (stats.c). They work on the cgroups of cgroup.h and find their files
 * through the helpers here (dirs.c), for every layout. */
#ifndef PEAPOD_CGROUP_OPS_H
#define PEAPOD_CGROUP_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"

/* dirs.c */

/* The cgroup's directory in the unified (cgroup2) hierarchy, or NULL on a
 * pure v1 host. Caller frees. */
char *pp_cgroup_unified_dir(const struct pp_cgroup *cg);

/* The cgroup's directory in the v1 hierarchy of controller (e.g. "memory"),
 * or NULL on pure v2. Caller frees. The directory may not exist. */
char *pp_cgroup_v1_dir(const struct pp_cgroup *cg, const char *controller);

/* The same from a cgroup's path (pp_cgroup_path: relative to each
 * hierarchy's root, starting with '/'), for callers without a handle. */
char *pp_cgroup_unified_dir_of(const char *path);
char *pp_cgroup_v1_dir_of(const char *path, const char *controller);

/* devices.c */

enum pp_devices_backend {
	PP_DEVICES_V1,	 /* the v1 devices controller: devices.deny "a", then devices.allow */
	PP_DEVICES_BPF,	 /* a BPF_PROG_TYPE_CGROUP_DEVICE program on the unified cgroup */
	PP_DEVICES_NONE, /* pure v1 without a devices hierarchy: nothing can restrict */
};

/* The backend for this host: the eBPF program on pure v2, the v1 devices
 * controller on v1 and hybrid hosts where a devices hierarchy is mounted.
 * $PEAPOD_CGROUP_DEVICES=bpf selects the eBPF program on a hybrid host too
 * (its processes are in the unified hierarchy as well, and the kernel runs
 * both checks), and so does a hybrid host without a v1 devices hierarchy. */
enum pp_devices_backend pp_devices_backend(void);

/* Restricts the container cgroup cg to the default device allow-list (as
 * runc gives every container: mknod of any node, read/write of null, zero,
 * full, random, urandom, tty, console, ptmx and the pts), or leaves every
 * device allowed when privileged. Call before any process joins cg. Returns
 * 1 (not an error: the caller warns) when this host has no way to restrict
 * devices (PP_DEVICES_NONE). */
int pp_cgroup_devices_apply(const struct pp_cgroup *cg, bool privileged, struct pp_error **err);

/* One more device the container may use (the CRI's devices): type 'c' or
 * 'b', its numbers, access letters of "rwm" (at most PP_DEVICE_ACCESS_MAX). */
#define PP_DEVICE_ACCESS_MAX 3
struct pp_cgroup_device {
	char type;
	unsigned major, minor;
	char access[PP_DEVICE_ACCESS_MAX + 1];
};

/* The default allow-list and the n extra devices. */
int pp_cgroup_devices_apply_extra(const struct pp_cgroup *cg, bool privileged,
				  const struct pp_cgroup_device *extra, size_t n,
				  struct pp_error **err);

/* freezer.c */

/* How long a freeze may take before it is given up (and undone). */
#define PP_CGROUP_FREEZE_TIMEOUT_MS 5000

/* Freezes (or thaws) every process of cg and below, and returns once the
 * kernel reports the cgroup frozen (thawed): cgroup.freeze and the "frozen"
 * key of cgroup.events where there is a unified hierarchy (on the hybrid
 * layout it has them without any controller), the v1 freezer's
 * freezer.state otherwise. A freeze that does not complete in time is
 * undone and reported. Idempotent. */
int pp_cgroup_freeze(const struct pp_cgroup *cg, bool frozen, struct pp_error **err);

/* stats.c: usage as kubelet (cAdvisor) and podman read it. */

struct pp_cgroup_stats {
	bool has_cpu, has_memory, has_pids;
	uint64_t cpu_usage_ns;	     /* CPU time used since the cgroup was made */
	uint64_t memory_usage;	     /* bytes charged, page cache included */
	uint64_t memory_working_set; /* usage minus inactive file pages */
	uint64_t pids;		     /* tasks (threads) in the cgroup and below */
	/* with has_memory (the CRI's MemoryUsage, as cAdvisor reads them) */
	uint64_t memory_rss;	    /* anonymous memory: v2 anon, v1 total_rss */
	uint64_t memory_pgfault;    /* page faults, cumulative */
	uint64_t memory_pgmajfault; /* major page faults, cumulative */
	uint64_t memory_limit;	    /* memory.max / limit_in_bytes; 0: no limit */
	bool has_swap;		    /* the hierarchy accounts swap */
	uint64_t swap_usage;	    /* v2 memory.swap.current, v1 memsw - usage */
	uint64_t swap_limit;	    /* 0: no limit */
};

/* Reads the usage of the cgroup at path (as pp_cgroup_path gives it) from
 * whichever hierarchy has it: cpu.stat usage_usec (unified) or
 * cpuacct.usage (v1); memory.current and memory.stat inactive_file (v2) or
 * memory.usage_in_bytes and total_inactive_file (v1), with the anon (rss),
 * pgfault and pgmajfault of memory.stat, the limit and swap; pids.current, else the
 * threads listed in cgroup.threads (unified, no controller needed). What no
 * hierarchy offers is left out (has_* false). -1 with ENOENT when the cgroup
 * is gone. */
int pp_cgroup_stats_read(const char *path, struct pp_cgroup_stats *out, struct pp_error **err);

/* cAdvisor's working set: usage - inactive_file, 0 when that is larger. */
uint64_t pp_memory_working_set(uint64_t usage, uint64_t inactive_file);

/* CPU use between two samples of cpu_usage_ns taken wall_ns apart:
 * percent of one CPU (podman stats: 100 = one CPU busy) and millicores
 * (kubectl top: 1000m = one CPU). 0 when the samples say nothing (no time
 * passed, or the counter went back: a restarted cgroup). */
double pp_cpu_percent(uint64_t cpu0_ns, uint64_t cpu1_ns, uint64_t wall_ns);
uint64_t pp_cpu_millicores(uint64_t cpu0_ns, uint64_t cpu1_ns, uint64_t wall_ns);

#endif
