/* cgroup v1 resource files (pure v1 and the hybrid layout): one hierarchy
 * per controller, each written separately. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup/cgroup_internal.h"
#include "util/cleanup.h"

static int need(const char *hierarchy, const char *controller, const struct pp_cgroup *cg,
		struct pp_error **err)
{
	if (hierarchy != NULL)
		return 0;
	return pp_error_set(err, ENOTSUP,
			    "the %s controller is not mounted on this host: cannot limit %s",
			    controller, cg->path);
}

static int set(const char *hierarchy, const struct pp_cgroup *cg, const char *file,
	       const char *fmt_value, struct pp_error **err)
{
	if (cg_write(hierarchy, cg->path, file, fmt_value) < 0)
		return pp_error_set(err, errno, "write %s to %s%s/%s", fmt_value, hierarchy,
				    cg->path, file);
	return 0;
}

static int set_i64(const char *hierarchy, const struct pp_cgroup *cg, const char *file, int64_t v,
		   struct pp_error **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return set(hierarchy, cg, file, buf, err);
}

int cg_v1_set_resources(const struct cg_host *h, const struct pp_cgroup *cg,
			const struct pp_cgroup_resources *r, struct pp_error **err)
{
	/* Shares are relative, kubelet sets them on every cgroup: best effort
	 * like pids, skipped without a cpu hierarchy. */
	if (r->cpu_shares && h->cpu &&
	    set_i64(h->cpu, cg, "cpu.shares", (int64_t)r->cpu_shares, err) < 0)
		return -1;
	/* Period before quota: the quota is checked against it. */
	if (r->cpu_quota_us &&
	    (need(h->cpu, "cpu", cg, err) < 0 ||
	     set_i64(h->cpu, cg, "cpu.cfs_period_us", PP_CGROUP_CPU_PERIOD_US, err) < 0 ||
	     set_i64(h->cpu, cg, "cpu.cfs_quota_us", r->cpu_quota_us, err) < 0))
		return -1;
	if (r->memory_limit) {
		if (need(h->memory, "memory", cg, err) < 0 ||
		    set_i64(h->memory, cg, "memory.limit_in_bytes", r->memory_limit, err) < 0)
			return -1;
		/* No swap, as kubelet wants it: memory+swap = memory. The file is
		 * missing when the kernel accounts no swap (then there is none). */
		if (cg_has_file(h->memory, cg->path, "memory.memsw.limit_in_bytes") &&
		    set_i64(h->memory, cg, "memory.memsw.limit_in_bytes", r->memory_limit, err) < 0)
			return -1;
	}
	if (r->pids_max && h->pids)
		return set_i64(h->pids, cg, "pids.max", r->pids_max, err);
	return 0;
}

/* Huge pages: hugetlb.<size>.limit_in_bytes on v1, hugetlb.<size>.max on
 * cgroup2 (pure v2, or the unified hierarchy of a hybrid host when it holds
 * hugetlb, as this project's machine does). */
int cg_hugetlb_set(const struct cg_host *h, const struct pp_cgroup *cg,
		   const struct pp_cgroup_resources *r, struct pp_error **err)
{
	for (size_t i = 0; i < r->n_hugetlb; i++) {
		const struct pp_cgroup_hugetlb *hp = &r->hugetlb[i];
		if (need(h->hugetlb, "hugetlb", cg, err) < 0)
			return -1;
		cleanup_free char *file =
		    xasprintf("hugetlb.%s.%s", hp->size, h->hugetlb_v2 ? "max" : "limit_in_bytes");
		if (!cg_has_file(h->hugetlb, cg->path, file))
			return pp_error_set(err, ENOTSUP,
					    "no %s: the hugetlb controller does not reach this "
					    "cgroup, or the host has no %s huge pages",
					    file, hp->size);
		if (set_i64(h->hugetlb, cg, file, hp->limit, err) < 0)
			return -1;
	}
	return 0;
}
