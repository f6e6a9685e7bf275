/* What Kubernetes makes of a pod's resources: its QoS class, the cgroup
 * limits of the pod and of each container (kubelet's conversions), and each
 * container's oom_score_adj. Pure functions, except where they say they read
 * the host (/proc). */
#ifndef PEAPOD_RESOURCES_H
#define PEAPOD_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "manifest/pod_spec.h"

/* kubelet's numbers (pkg/kubelet/cm, pkg/kubelet/qos). */
#define PP_OOM_ADJ_GUARANTEED (-997)
#define PP_OOM_ADJ_BESTEFFORT 1000
#define PP_OOM_ADJ_INFRA (-998)
/* kubelet's own (KubeletOOMScoreAdj): the supervisor asks it for itself */
#define PP_OOM_ADJ_SUPERVISOR (-999)
#define PP_CPU_SHARES_MIN 2
#define PP_CPU_SHARES_MAX 262144
#define PP_CPU_QUOTA_MIN_US 1000

/* GetPodQOS: init and app containers, cpu and memory only, positive values. */
enum pp_qos_class pp_pod_qos_class(const struct pp_pod *pod);

/* MilliCPUToShares: max(2, milli * 1024 / 1000), at most 262144. */
uint64_t pp_cpu_milli_to_shares(int64_t milli);
/* MilliCPUToQuota: milli * 100000 / 1000 over a 100000 us period, at least
 * 1000 us; 0 (no limit) for 0. */
int64_t pp_cpu_milli_to_quota(int64_t milli);

/* kubelet's GetContainerOOMScoreAdjust: Guaranteed -997, BestEffort 1000,
 * Burstable 1000 - 1000 * memoryRequest / memoryCapacity clamped to [3, 999]. */
int pp_oom_score_adj(enum pp_qos_class qos, int64_t memory_request, int64_t memory_capacity);

/* "hugepages-2Mi" -> "2MB" (the kernel's name of the page size); false when
 * the name is not a hugepages resource. */
bool pp_hugepage_size_name(const char *resource, char *out, size_t size);

/* A container's limits (cpu shares always, as kubelet sets 2 for none). */
void pp_container_cgroup_resources(const struct pp_container *c, struct pp_cgroup_resources *out);
/* The pod cgroup's: shares from the summed requests; quota, memory and huge
 * pages as the sums when every container has a limit for them (init
 * containers count as kubelet counts them: max(largest init, sum of apps)). */
void pp_pod_cgroup_resources(const struct pp_pod *pod, int64_t pids_max,
			     struct pp_cgroup_resources *out);

/* The setting PEAPOD_POD_PIDS_LIMIT (util/settings.h; 0: none) and, read
 * from the host: MemTotal in
 * bytes (0 when unknown); this process's own oom_score_adj, the lowest
 * value a process without CAP_SYS_RESOURCE may give its children. */
int64_t pp_pod_pids_limit(void);
int64_t pp_host_memory_total(void);
int pp_own_oom_score_adj(void);

/* The supervisor's own oom_score_adj lowered to PP_OOM_ADJ_SUPERVISOR, so
 * that an OOM kill takes its containers and infra process before it (as
 * kubelet and conmon lower theirs). 0, or -1 with errno where the host
 * refuses (no CAP_SYS_RESOURCE): it keeps its caller's value, and the
 * containers whose value would be below it get one above it
 * (pod_cgroups.c), so the order holds there too. */
int pp_lower_own_oom_score_adj(void);

#endif
