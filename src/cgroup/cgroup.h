/* Pod and container cgroups on cgroup v2, v1 and the v1/v2 hybrid layout,
 * behind one interface. The layout is probed once per process.
 *
 * This is the membership and lifetime part (create, move a process in, kill
 * every process, remove); resource limits build on it. Only cgroups under
 * peapod's own parent (default "peapod", $PEAPOD_CGROUP_PARENT) are touched. */
#ifndef PEAPOD_CGROUP_H
#define PEAPOD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

enum pp_cgroup_layout {
	PP_CGROUP_V2,	  /* cgroup2 at /sys/fs/cgroup */
	PP_CGROUP_HYBRID, /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
	PP_CGROUP_V1,	  /* v1 only */
};

struct pp_cgroup;

int pp_cgroup_layout(enum pp_cgroup_layout *out, struct pp_error **err);

/* Creates (or reuses) <parent>/<name>; parent NULL means peapod's own parent
 * cgroup. The returned handle is owned by the caller (pp_cgroup_free). */
int pp_cgroup_create(const struct pp_cgroup *parent, const char *name, struct pp_cgroup **out,
		     struct pp_error **err);

/* Opens the cgroup.procs file of each hierarchy (O_WRONLY|O_CLOEXEC) so a new
 * process can move itself in by writing "0" before it does anything else. */
int pp_cgroup_procs_fds(const struct pp_cgroup *cg, int **fds, size_t *n, struct pp_error **err);
void pp_cgroup_procs_fds_close(int *fds, size_t n);

/* SIGKILLs every process in the cgroup and its children (cgroup.kill on v2;
 * freeze, kill, thaw on v1, so that no process can fork away meanwhile). */
int pp_cgroup_kill(const struct pp_cgroup *cg, struct pp_error **err);

/* True when no process is left in the cgroup or below it. */
bool pp_cgroup_is_populated(const struct pp_cgroup *cg);

/* Kills what is left, waits (bounded) for it to go and removes the cgroup
 * and its children. Idempotent: a cgroup already gone is success. */
int pp_cgroup_destroy(const struct pp_cgroup *cg, struct pp_error **err);

/* Path of the cgroup relative to the hierarchy root, e.g. "/peapod/pod-UID". */
const char *pp_cgroup_path(const struct pp_cgroup *cg);

void pp_cgroup_free(struct pp_cgroup *cg);

#endif
