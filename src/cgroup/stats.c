/* Usage statistics of a cgroup, read from whichever hierarchy has them, and
 * the arithmetic kubelet (cAdvisor) and podman do on them. */
#include "cgroup/cgroup_ops.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fs.h"

#define STAT_FILE_MAX (64 * 1024)
#define THREADS_FILE_MAX (4 * 1024 * 1024)
#define NSEC_PER_USEC 1000ULL
/* v1's "no limit" is LONG_MAX rounded down to a page: anything from 2^62 */
#define V1_UNLIMITED (1ULL << 62)

uint64_t pp_memory_working_set(uint64_t usage, uint64_t inactive_file)
{
	return inactive_file < usage ? usage - inactive_file : 0;
}

double pp_cpu_percent(uint64_t cpu0_ns, uint64_t cpu1_ns, uint64_t wall_ns)
{
	if (wall_ns == 0 || cpu1_ns < cpu0_ns)
		return 0.0;
	return (double)(cpu1_ns - cpu0_ns) * 100.0 / (double)wall_ns;
}

uint64_t pp_cpu_millicores(uint64_t cpu0_ns, uint64_t cpu1_ns, uint64_t wall_ns)
{
	if (wall_ns == 0 || cpu1_ns < cpu0_ns)
		return 0;
	/* Rounded as resource.Quantity's MilliValue rounds up a fraction. */
	unsigned __int128 m = (unsigned __int128)(cpu1_ns - cpu0_ns) * 1000;
	return (uint64_t)((m + wall_ns - 1) / wall_ns);
}

/* The number after "key " on a line of a flat-keyed file; false when absent. */
static bool read_key(const char *dir, const char *file, const char *key, uint64_t *out)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_free char *text = NULL;
	if (pp_read_file(path, STAT_FILE_MAX, &text, NULL, NULL) < 0)
		return false;
	size_t klen = strlen(key);
	for (char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return sscanf(p + klen + 1, "%" SCNu64, out) == 1;
	return false;
}

/* A file holding one number. */
static bool read_u64(const char *dir, const char *file, uint64_t *out)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_free char *text = NULL;
	if (pp_read_file(path, 64, &text, NULL, NULL) < 0)
		return false;
	return sscanf(text, "%" SCNu64, out) == 1;
}

/* Lines of file in dir and every cgroup below it (v2's cgroup.threads,
 * v1's tasks): the pids of a cgroup without a pids controller. */
static bool count_lines(const char *dir, const char *file, uint64_t *out)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_free char *text = NULL;
	if (pp_read_file(path, THREADS_FILE_MAX, &text, NULL, NULL) < 0)
		return false;
	for (const char *p = text; *p; p++)
		*out += *p == '\n';
	/* sub-cgroups that cannot be listed count as none, as they may be gone */
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	if (pp_dir_open(&d, dir, 0, NULL) < 0)
		return true;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		count_lines(sub, file, out);
	}
	return true;
}

static void read_cpu(const char *unified, const char *path, struct pp_cgroup_stats *st)
{
	uint64_t v;
	if (unified && read_key(unified, "cpu.stat", "usage_usec", &v)) {
		st->has_cpu = true;
		st->cpu_usage_ns = v * NSEC_PER_USEC;
		return;
	}
	cleanup_free char *acct = pp_cgroup_v1_dir_of(path, "cpuacct");
	if (acct && read_u64(acct, "cpuacct.usage", &v)) {
		st->has_cpu = true;
		st->cpu_usage_ns = v;
	}
}

/* The values of several keys of a flat-keyed file read once (memory.stat):
 * vals[k] left as it is when keys[k] is absent. */
static bool read_keys(const char *dir, const char *file, const char *const *keys, uint64_t **vals,
		      size_t n)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_free char *text = NULL;
	if (pp_read_file(path, STAT_FILE_MAX, &text, NULL, NULL) < 0)
		return false;
	for (char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		for (size_t k = 0; k < n; k++) {
			size_t klen = strlen(keys[k]);
			if (strncmp(p, keys[k], klen) == 0 && p[klen] == ' ')
				(void)sscanf(p + klen + 1, "%" SCNu64, vals[k]);
		}
	return true;
}

/* A limit file: "max" (v2) or a value of 2^62 or more (v1's unlimited,
 * page-rounded LONG_MAX) is no limit (0). */
static uint64_t read_limit(const char *dir, const char *file)
{
	uint64_t v = 0;
	if (!read_u64(dir, file, &v) || v >= V1_UNLIMITED)
		return 0;
	return v;
}

static void read_memory(const char *unified, const char *path, struct pp_cgroup_stats *st)
{
	uint64_t usage, inactive = 0;
	cleanup_free char *mem = NULL;
	if (unified && read_u64(unified, "memory.current", &usage)) {
		static const char *const keys[] = {"inactive_file", "anon", "pgfault",
						   "pgmajfault"};
		uint64_t *vals[] = {&inactive, &st->memory_rss, &st->memory_pgfault,
				    &st->memory_pgmajfault};
		read_keys(unified, "memory.stat", keys, vals, 4);
		st->memory_limit = read_limit(unified, "memory.max");
		if (read_u64(unified, "memory.swap.current", &st->swap_usage)) {
			st->has_swap = true;
			st->swap_limit = read_limit(unified, "memory.swap.max");
		}
	} else {
		mem = pp_cgroup_v1_dir_of(path, "memory");
		if (mem == NULL || !read_u64(mem, "memory.usage_in_bytes", &usage))
			return;
		static const char *const keys[] = {"total_inactive_file", "total_rss",
						   "total_pgfault", "total_pgmajfault"};
		uint64_t *vals[] = {&inactive, &st->memory_rss, &st->memory_pgfault,
				    &st->memory_pgmajfault};
		read_keys(mem, "memory.stat", keys, vals, 4);
		st->memory_limit = read_limit(mem, "memory.limit_in_bytes");
		/* memsw counts memory and swap together (swapaccount=1 only) */
		uint64_t memsw;
		if (read_u64(mem, "memory.memsw.usage_in_bytes", &memsw)) {
			st->has_swap = true;
			st->swap_usage = memsw > usage ? memsw - usage : 0;
			uint64_t memsw_limit = read_limit(mem, "memory.memsw.limit_in_bytes");
			st->swap_limit = memsw_limit > st->memory_limit && st->memory_limit
					     ? memsw_limit - st->memory_limit
					     : 0;
		}
	}
	st->has_memory = true;
	st->memory_usage = usage;
	st->memory_working_set = pp_memory_working_set(usage, inactive);
}

static void read_pids(const char *unified, const char *path, struct pp_cgroup_stats *st)
{
	uint64_t v = 0;
	cleanup_free char *pids = pp_cgroup_v1_dir_of(path, "pids");
	if ((unified && read_u64(unified, "pids.current", &v)) ||
	    (pids && read_u64(pids, "pids.current", &v)) ||
	    (unified && count_lines(unified, "cgroup.threads", &v))) {
		st->has_pids = true;
		st->pids = v;
		return;
	}
	cleanup_free char *freezer = pp_cgroup_v1_dir_of(path, "freezer");
	v = 0;
	if (freezer && count_lines(freezer, "tasks", &v)) {
		st->has_pids = true;
		st->pids = v;
	}
}

int pp_cgroup_stats_read(const char *path, struct pp_cgroup_stats *out, struct pp_error **err)
{
	*out = (struct pp_cgroup_stats){0};
	cleanup_free char *unified = pp_cgroup_unified_dir_of(path);
	cleanup_free char *freezer = pp_cgroup_v1_dir_of(path, "freezer");
	struct stat sb;
	if (stat(unified ? unified : freezer, &sb) < 0)
		return pp_error_set(err, errno, "cgroup %s", path);
	read_cpu(unified, path, out);
	read_memory(unified, path, out);
	read_pids(unified, path, out);
	return 0;
}
