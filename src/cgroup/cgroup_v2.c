/* cgroup v2 resource files: one hierarchy, controllers enabled top-down. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define SHARES_MIN 2
#define SHARES_MAX 262144
#define WEIGHT_MAX 10000

/* The conversion needs a logarithm and a power, for which every peapod
 * command would load libm (~0.1 ms of its start, for this one function):
 * both are series here instead. test_resources checks every share value
 * against libm's log2 and pow; the closest their exponent's power comes to
 * an integer it is not is 2e-6, far above these series' error (~1e-12). */
#define LN2 0.6931471805599453094172321
#define LN10 2.3025850929940456840179915

/* ln(m) for m in [1, 2): 2 atanh(z), z = (m - 1) / (m + 1) <= 1/3, a
 * series that gains a digit a term; ln(1) is exactly 0. */
static double ln_1_2(double m)
{
	double z = (m - 1.0) / (m + 1.0), z2 = z * z, term = z, sum = 0.0;
	for (int k = 1; k < 60; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return 2.0 * sum;
}

/* e^y for |y| < 3: y = k ln2 + r, |r| <= ln2 / 2, Taylor's series for
 * e^r, then 2^k. */
static double exp_small(double y)
{
	int k = (int)(y / LN2 + (y < 0 ? -0.5 : 0.5));
	double r = y - k * LN2, term = 1.0, sum = 1.0;
	for (int i = 1; i < 30; i++) {
		term *= r / i;
		sum += term;
	}
	for (; k > 0; k--)
		sum *= 2.0;
	for (; k < 0; k++)
		sum /= 2.0;
	return sum;
}

uint64_t pp_cgroup_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares <= SHARES_MIN)
		return 1;
	if (shares >= SHARES_MAX)
		return WEIGHT_MAX;
	/* log2: the exponent of 2 exactly (1024 is exactly 10), the rest of
	 * the mantissa's */
	int e = 0;
	double m = (double)shares;
	while (m >= 2.0) {
		m /= 2.0;
		e++;
	}
	double l = e + ln_1_2(m) / LN2;
	double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0; /* in [0.12, 4) */
	/* 10^exponent: its integer part exactly (1024's weight is 100) */
	int n = (int)exponent;
	double w = exp_small((exponent - n) * LN10);
	for (; n > 0; n--)
		w *= 10.0;
	uint64_t c = (uint64_t)w; /* ceil */
	return (double)c < w ? c + 1 : c;
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
