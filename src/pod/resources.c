#include "pod/resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

#define HUGEPAGES_PREFIX "hugepages-"
#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)

static bool positive(const struct pp_quantity *q)
{
	return q->set && q->milli > 0;
}

static const struct pp_container *nth_container(const struct pp_pod *p, size_t i)
{
	return i < p->n_init_containers ? &p->init_containers[i]
					: &p->containers[i - p->n_init_containers];
}

enum pp_qos_class pp_pod_qos_class(const struct pp_pod *pod)
{
	/* Sums per resource, as GetPodQOS compares them. */
	int64_t req_cpu = 0, req_mem = 0, lim_cpu = 0, lim_mem = 0;
	bool has_req_cpu = false, has_req_mem = false, has_lim_cpu = false, has_lim_mem = false;
	bool guaranteed = true;
	for (size_t i = 0; i < pod->n_init_containers + pod->n_containers; i++) {
		const struct pp_resources *r = &nth_container(pod, i)->resources;
		if (positive(&r->requests_cpu))
			has_req_cpu = true, req_cpu += r->requests_cpu.milli;
		if (positive(&r->requests_memory))
			has_req_mem = true, req_mem += r->requests_memory.milli;
		if (positive(&r->limits_cpu))
			has_lim_cpu = true, lim_cpu += r->limits_cpu.milli;
		if (positive(&r->limits_memory))
			has_lim_mem = true, lim_mem += r->limits_memory.milli;
		if (!positive(&r->limits_cpu) || !positive(&r->limits_memory))
			guaranteed = false;
	}
	if (!has_req_cpu && !has_req_mem && !has_lim_cpu && !has_lim_mem)
		return PP_QOS_BESTEFFORT;
	/* Every request must match its limit, and every limit have a request. */
	if (guaranteed && has_req_cpu == has_lim_cpu && has_req_mem == has_lim_mem &&
	    req_cpu == lim_cpu && req_mem == lim_mem)
		return PP_QOS_GUARANTEED;
	return PP_QOS_BURSTABLE;
}

uint64_t pp_cpu_milli_to_shares(int64_t milli)
{
	if (milli <= 0)
		return PP_CPU_SHARES_MIN;
	if (milli > PP_CPU_SHARES_MAX * 1000LL / 1024)
		return PP_CPU_SHARES_MAX;
	uint64_t shares = (uint64_t)milli * 1024 / 1000;
	return shares < PP_CPU_SHARES_MIN ? PP_CPU_SHARES_MIN : shares;
}

int64_t pp_cpu_milli_to_quota(int64_t milli)
{
	if (milli <= 0)
		return 0;
	/* Saturates instead of overflowing: such a quota is no limit anyway. */
	if (milli > INT64_MAX / PP_CGROUP_CPU_PERIOD_US)
		return INT64_MAX / 1000;
	int64_t quota = milli * PP_CGROUP_CPU_PERIOD_US / 1000;
	return quota < PP_CPU_QUOTA_MIN_US ? PP_CPU_QUOTA_MIN_US : quota;
}

int pp_oom_score_adj(enum pp_qos_class qos, int64_t memory_request, int64_t memory_capacity)
{
	if (qos == PP_QOS_GUARANTEED)
		return PP_OOM_ADJ_GUARANTEED;
	if (qos == PP_QOS_BESTEFFORT)
		return PP_OOM_ADJ_BESTEFFORT;
	int64_t adj = PP_OOM_ADJ_BESTEFFORT;
	if (memory_capacity > 0 && memory_request > 0) {
		__int128 scaled = (__int128)1000 * memory_request / memory_capacity;
		adj = scaled >= 1000 ? 0 : 1000 - (int64_t)scaled;
	}
	/* Burstable stays above Guaranteed and below BestEffort. */
	if (adj < 1000 + PP_OOM_ADJ_GUARANTEED)
		return 1000 + PP_OOM_ADJ_GUARANTEED;
	if (adj == PP_OOM_ADJ_BESTEFFORT)
		return PP_OOM_ADJ_BESTEFFORT - 1;
	return (int)adj;
}

bool pp_hugepage_size_name(const char *resource, char *out, size_t size)
{
	if (strncmp(resource, HUGEPAGES_PREFIX, strlen(HUGEPAGES_PREFIX)) != 0)
		return false;
	struct pp_quantity q = {0};
	if (pp_quantity_parse(resource + strlen(HUGEPAGES_PREFIX), &q, NULL) < 0)
		return false;
	free(q.text);
	if (q.value <= 0)
		return false;
	/* The kernel names sizes in KB/MB/GB, powers of 1024. */
	if (q.value % GIB == 0)
		snprintf(out, size, "%lldGB", (long long)(q.value / GIB));
	else if (q.value % MIB == 0)
		snprintf(out, size, "%lldMB", (long long)(q.value / MIB));
	else
		snprintf(out, size, "%lldKB", (long long)(q.value / KIB));
	return true;
}

/* Adds limit bytes for the huge page size of resource to out. */
static void add_hugetlb(struct pp_cgroup_resources *out, const char *resource, int64_t limit)
{
	char size[sizeof(out->hugetlb[0].size)];
	if (!pp_hugepage_size_name(resource, size, sizeof(size)))
		return;
	for (size_t i = 0; i < out->n_hugetlb; i++) {
		if (strcmp(out->hugetlb[i].size, size) == 0) {
			out->hugetlb[i].limit += limit;
			return;
		}
	}
	if (out->n_hugetlb == PP_CGROUP_MAX_HUGETLB)
		return;
	snprintf(out->hugetlb[out->n_hugetlb].size, sizeof(size), "%s", size);
	out->hugetlb[out->n_hugetlb++].limit = limit;
}

static int64_t kv_bytes(const struct pp_kv *kv)
{
	struct pp_quantity q = {0};
	if (pp_quantity_parse(kv->value, &q, NULL) < 0)
		return 0;
	free(q.text);
	return q.value;
}

void pp_container_cgroup_resources(const struct pp_container *c, struct pp_cgroup_resources *out)
{
	const struct pp_resources *r = &c->resources;
	*out = (struct pp_cgroup_resources){0};
	out->cpu_shares = pp_cpu_milli_to_shares(r->requests_cpu.set ? r->requests_cpu.milli : 0);
	if (positive(&r->limits_cpu))
		out->cpu_quota_us = pp_cpu_milli_to_quota(r->limits_cpu.milli);
	if (positive(&r->limits_memory))
		out->memory_limit = r->limits_memory.value;
	for (size_t i = 0; i < r->n_limits_other; i++)
		add_hugetlb(out, r->limits_other[i].key, kv_bytes(&r->limits_other[i]));
}

/* One resource over the pod: max(largest init container, sum of the app
 * containers), and whether every container has it. */
struct pod_sum {
	int64_t init_max, apps;
	bool all;
};

static void sum_add(struct pod_sum *s, bool init, bool has, int64_t v)
{
	if (!has) {
		s->all = false;
		return;
	}
	if (init && v > s->init_max)
		s->init_max = v;
	else if (!init)
		s->apps = v > INT64_MAX - s->apps ? INT64_MAX : s->apps + v;
}

static int64_t sum_total(const struct pod_sum *s)
{
	return s->init_max > s->apps ? s->init_max : s->apps;
}

void pp_pod_cgroup_resources(const struct pp_pod *pod, int64_t pids_max,
			     struct pp_cgroup_resources *out)
{
	struct pod_sum req_cpu = {.all = true}, lim_cpu = {.all = true}, lim_mem = {.all = true};
	*out = (struct pp_cgroup_resources){0};
	for (size_t i = 0; i < pod->n_init_containers + pod->n_containers; i++) {
		const struct pp_container *c = nth_container(pod, i);
		const struct pp_resources *r = &c->resources;
		bool init = c->is_init;
		sum_add(&req_cpu, init, true, r->requests_cpu.set ? r->requests_cpu.milli : 0);
		sum_add(&lim_cpu, init, positive(&r->limits_cpu), r->limits_cpu.milli);
		sum_add(&lim_mem, init, positive(&r->limits_memory), r->limits_memory.value);
		if (!init)
			for (size_t k = 0; k < r->n_limits_other; k++)
				add_hugetlb(out, r->limits_other[k].key,
					    kv_bytes(&r->limits_other[k]));
	}
	out->cpu_shares = pp_cpu_milli_to_shares(sum_total(&req_cpu));
	if (lim_cpu.all)
		out->cpu_quota_us = pp_cpu_milli_to_quota(sum_total(&lim_cpu));
	if (lim_mem.all)
		out->memory_limit = sum_total(&lim_mem);
	out->pids_max = pids_max;
}

int64_t pp_pod_pids_limit(void)
{
	return pp_settings()->pod_pids_limit;
}

int64_t pp_host_memory_total(void)
{
	cleanup_fclose FILE *f = fopen("/proc/meminfo", "re");
	long long kb;
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
			return kb * KIB;
	return 0;
}

int pp_own_oom_score_adj(void)
{
	cleanup_free char *text = NULL;
	if (pp_read_file("/proc/self/oom_score_adj", 64, &text, NULL, NULL) < 0)
		return 0;
	return atoi(text);
}

int pp_lower_own_oom_score_adj(void)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%d", PP_OOM_ADJ_SUPERVISOR);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = write(fd, text, (size_t)n) == n ? 0 : -1;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}
