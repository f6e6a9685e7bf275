/* cgroup v2 resource files: one hierarchy, controllers enabled top-down. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgroup/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define SHARES_MIN 2
#define SHARES_MAX 262144
#define WEIGHT_MAX 10000

uint64_t pp_cgroup_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares <= SHARES_MIN)
		return 1;
	if (shares >= SHARES_MAX)
		return WEIGHT_MAX;
	double l = log2((double)shares);
	double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
	return (uint64_t)ceil(pow(10, exponent));
}

void cg_v2_enable_controllers(const char *hierarchy, const char *path)
{
	static const char *const wanted[] = {"cpu", "memory", "pids", "hugetlb"};
	cleanup_free char *file = xasprintf("%s%s/cgroup.controllers", hierarchy, path);
	cleanup_free char *have = NULL;
	if (pp_read_file(file, 4096, &have, NULL, NULL) < 0)
		return;
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		size_t len = strlen(wanted[i]);
		const char *p = strstr(have, wanted[i]);
		if (p == NULL || (p != have && p[-1] != ' ') ||
		    (p[len] != '\0' && p[len] != ' ' && p[len] != '\n'))
			continue;
		cleanup_free char *op = xasprintf("+%s", wanted[i]);
		/* One at a time: one the kernel refuses must not block the rest.
		 * A failure shows later as the limit's file missing. */
		cg_write(hierarchy, path, "cgroup.subtree_control", op);
	}
}

static int set(const struct pp_cgroup *cg, const char *file, const char *value,
	       struct pp_error **err)
{
	if (cg_write(CGROUP_ROOT, cg->path, file, value) == 0)
		return 0;
	if (errno == ENOENT)
		return pp_error_set(err, ENOTSUP,
				    "%s: its controller is not enabled for peapod's cgroups "
				    "(delegate it to the parent cgroup)",
				    file);
	return pp_error_set(err, errno, "write %s to %s%s/%s", value, CGROUP_ROOT, cg->path, file);
}

int cg_v2_set_resources(const struct cg_host *h, const struct pp_cgroup *cg,
			const struct pp_cgroup_resources *r, struct pp_error **err)
{
	char buf[64];
	/* A weight is relative, kubelet sets one on every cgroup: best effort
	 * like pids, skipped where no cpu controller reaches. */
	if (r->cpu_shares && cg_has_file(CGROUP_ROOT, cg->path, "cpu.weight")) {
		snprintf(buf, sizeof(buf), "%" PRIu64, pp_cgroup_shares_to_weight(r->cpu_shares));
		if (set(cg, "cpu.weight", buf, err) < 0)
			return -1;
	}
	if (r->cpu_quota_us) {
		snprintf(buf, sizeof(buf), "%" PRId64 " %d", r->cpu_quota_us,
			 PP_CGROUP_CPU_PERIOD_US);
		if (set(cg, "cpu.max", buf, err) < 0)
			return -1;
	}
	if (r->memory_limit) {
		snprintf(buf, sizeof(buf), "%" PRId64, r->memory_limit);
		if (set(cg, "memory.max", buf, err) < 0)
			return -1;
		/* No swap, as kubelet wants it (absent without swap accounting). */
		if (cg_has_file(CGROUP_ROOT, cg->path, "memory.swap.max") &&
		    set(cg, "memory.swap.max", "0", err) < 0)
			return -1;
	}
	if (r->pids_max && h->pids && cg_has_file(CGROUP_ROOT, cg->path, "pids.max")) {
		snprintf(buf, sizeof(buf), "%" PRId64, r->pids_max);
		if (set(cg, "pids.max", buf, err) < 0)
			return -1;
	}
	return 0;
}
