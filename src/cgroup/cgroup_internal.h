/* What the cgroup backends share: the probed host and small file helpers. */
#ifndef PEAPOD_CGROUP_INTERNAL_H
#define PEAPOD_CGROUP_INTERNAL_H

#include "cgroup/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_MAX_HIERARCHIES 8
#define CGROUP_PARENT_MAX 1024

struct pp_cgroup {
	enum pp_cgroup_layout layout;
	char *path; /* relative to each hierarchy's root, starts with '/' */
	/* Ancestors removed with it when empty (its QoS group): 0 for a
	 * container's cgroup and a Guaranteed pod's. */
	int owned_ancestors;
};

/* The host, probed once: which hierarchies a cgroup lives in (the first one
 * is where kill and populated are asked: the unified one, or v1's freezer)
 * and where each controller's files are (NULL when it is not there). */
struct cg_host {
	enum pp_cgroup_layout layout;
	const char *member[CGROUP_MAX_HIERARCHIES];
	size_t n_member;
	const char *cpu, *memory, *pids, *hugetlb;
	bool hugetlb_v2; /* hugetlb files in a cgroup2 hierarchy (hugetlb.<size>.max) */
};
int cg_host(const struct cg_host **out, struct pp_error **err);

/* Writes value to <hierarchy><path>/<file>; -1 with errno. */
int cg_write(const char *hierarchy, const char *path, const char *file, const char *value);
/* Reads the number after "key " in <hierarchy><path>/<file>; 0 when absent. */
uint64_t cg_read_key(const char *hierarchy, const char *path, const char *file, const char *key);
bool cg_has_file(const char *hierarchy, const char *path, const char *file);

/* The backends' resource writers. */
int cg_v1_set_resources(const struct cg_host *h, const struct pp_cgroup *cg,
			const struct pp_cgroup_resources *r, struct pp_error **err);
int cg_v2_set_resources(const struct cg_host *h, const struct pp_cgroup *cg,
			const struct pp_cgroup_resources *r, struct pp_error **err);
int cg_hugetlb_set(const struct cg_host *h, const struct pp_cgroup *cg,
		   const struct pp_cgroup_resources *r, struct pp_error **err);
/* v2: enables the controllers present in path's cgroup.controllers for its children. */
void cg_v2_enable_controllers(const char *hierarchy, const char *path);

#endif
