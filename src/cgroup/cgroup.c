#include "cgroup/cgroup.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "cgroup/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fs.h"
#include "util/settings.h"

/* Removal waits for the last processes to exit: at most this many tries. */
#define CGROUP_RMDIR_TRIES 200
#define CGROUP_RMDIR_WAIT_NS (5 * 1000 * 1000)
/* kubelet's MinShares, the besteffort group's cpu.shares. */
#define CGROUP_MIN_SHARES 2
/* The pure-v2 leaf of the infra process (see cgroup.h). */
#define CGROUP_INFRA_LEAF "_infra"

static bool is_cgroup2(const char *path)
{
	struct statfs sfs;
	return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* A v1 hierarchy mounted at dir (co-mounted ones, e.g. cpu,cpuacct behind
 * two symlinks, count once: same superblock). */
static bool add_v1(struct cg_host *h, const char *dir, dev_t *devs)
{
	struct stat st;
	struct statfs sfs;
	if (stat(dir, &st) < 0 || statfs(dir, &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
		return false;
	for (size_t i = 0; i < h->n_member; i++)
		if (devs[i] == st.st_dev)
			return true;
	if (h->n_member < CGROUP_MAX_HIERARCHIES) {
		devs[h->n_member] = st.st_dev;
		h->member[h->n_member++] = dir;
	}
	return true;
}

static bool has_controller(const char *hierarchy, const char *name)
{
	cleanup_free char *file = xasprintf("%s/cgroup.controllers", hierarchy);
	cleanup_free char *text = NULL;
	if (pp_read_file(file, 4096, &text, NULL, NULL) < 0)
		return false;
	for (char *save = NULL, *w = strtok_r(text, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, name) == 0)
			return true;
	return false;
}

static void probe_v1(struct cg_host *h)
{
	static const char *const dirs[] = {CGROUP_ROOT "/freezer", CGROUP_ROOT "/pids",
					   CGROUP_ROOT "/memory", CGROUP_ROOT "/cpu",
					   CGROUP_ROOT "/cpuacct", CGROUP_ROOT "/hugetlb",
					   /* the device allow-list (cgroup_ops.h) */
					   CGROUP_ROOT "/devices"};
	dev_t devs[CGROUP_MAX_HIERARCHIES];
	/* Hybrid: the unified hierarchy first (cgroup.kill, cgroup.events);
	 * its freezer is cgroup.freeze, so v1's is not needed. */
	size_t first = 0;
	if (h->layout == PP_CGROUP_HYBRID) {
		devs[0] = 0;
		h->member[h->n_member++] = CGROUP_ROOT "/unified";
		first = 1;
		if (has_controller(CGROUP_ROOT "/unified", "hugetlb")) {
			h->hugetlb = CGROUP_ROOT "/unified";
			h->hugetlb_v2 = true;
		}
	}
	for (size_t i = first; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!add_v1(h, dirs[i], devs))
			continue;
		if (strstr(dirs[i], "/pids"))
			h->pids = dirs[i];
		else if (strstr(dirs[i], "/memory"))
			h->memory = dirs[i];
		else if (strcmp(dirs[i], CGROUP_ROOT "/cpu") == 0)
			h->cpu = dirs[i];
		else if (strstr(dirs[i], "/hugetlb") && h->hugetlb == NULL)
			h->hugetlb = dirs[i];
	}
}

static void probe_v2(struct cg_host *h)
{
	h->member[h->n_member++] = CGROUP_ROOT;
	/* On v2 a controller is there when the root offers it; whether it
	 * reaches peapod's parent depends on the delegation above it. */
	h->cpu = has_controller(CGROUP_ROOT, "cpu") ? CGROUP_ROOT : NULL;
	h->memory = has_controller(CGROUP_ROOT, "memory") ? CGROUP_ROOT : NULL;
	h->pids = has_controller(CGROUP_ROOT, "pids") ? CGROUP_ROOT : NULL;
	h->hugetlb = has_controller(CGROUP_ROOT, "hugetlb") ? CGROUP_ROOT : NULL;
	h->hugetlb_v2 = true;
}

int cg_host(const struct cg_host **out, struct pp_error **err)
{
	static struct cg_host host;
	static bool probed;
	if (!probed) {
		struct cg_host h = {0};
		if (is_cgroup2(CGROUP_ROOT)) {
			h.layout = PP_CGROUP_V2;
			probe_v2(&h);
		} else if (is_cgroup2(CGROUP_ROOT "/unified")) {
			h.layout = PP_CGROUP_HYBRID;
			probe_v1(&h);
		} else {
			h.layout = PP_CGROUP_V1;
			probe_v1(&h);
			/* Pure v1 kills through the freezer: without it, no layout. */
			if (h.n_member == 0 || strcmp(h.member[0], CGROUP_ROOT "/freezer") != 0)
				return pp_error_set(err, ENOTSUP,
						    "no usable cgroup hierarchy under %s "
						    "(cgroup2, or v1 with a freezer)",
						    CGROUP_ROOT);
		}
		host = h;
		probed = true;
	}
	*out = &host;
	return 0;
}

int pp_cgroup_layout(enum pp_cgroup_layout *out, struct pp_error **err)
{
	const struct cg_host *h;
	if (cg_host(&h, err) < 0)
		return -1;
	*out = h->layout;
	return 0;
}

const char *pp_cgroup_layout_name(enum pp_cgroup_layout layout)
{
	switch (layout) {
	case PP_CGROUP_V2:
		return "v2";
	case PP_CGROUP_HYBRID:
		return "hybrid";
	case PP_CGROUP_V1:
		return "v1";
	default:
		return "unknown";
	}
}

const char *pp_qos_class_name(enum pp_qos_class qos)
{
	switch (qos) {
	case PP_QOS_GUARANTEED:
		return "Guaranteed";
	case PP_QOS_BURSTABLE:
		return "Burstable";
	case PP_QOS_BESTEFFORT:
		return "BestEffort";
	default:
		return "BestEffort";
	}
}

/* kubelet's QoS sub-groups; Guaranteed pods sit directly under the parent. */
static const char *qos_dir(enum pp_qos_class qos)
{
	return qos == PP_QOS_BURSTABLE	  ? "burstable"
	       : qos == PP_QOS_BESTEFFORT ? "besteffort"
					  : NULL;
}

/* The probed host; the cgroup functions are only reached once a cgroup
 * exists, so the probe has succeeded. */
static const struct cg_host *host(void)
{
	const struct cg_host *h = NULL;
	if (cg_host(&h, NULL) < 0)
		abort();
	return h;
}

static const char *parent_name(void)
{
	return pp_settings()->cgroup_parent;
}

static bool valid_name(const char *name)
{
	return *name && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

static bool has_control_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* The probed host, and name checked as one level of a cgroup path. */
static int host_and_name(const char *name, const struct cg_host **h, struct pp_error **err)
{
	if (cg_host(h, err) < 0)
		return -1;
	if (!valid_name(name))
		return pp_error_set(err, EINVAL, "invalid cgroup name \"%s\"", name);
	return 0;
}

/* In the hierarchies from..n_member-1. */
static int make_dirs_from(const struct cg_host *h, size_t from, const char *path,
			  struct pp_error **err)
{
	for (size_t i = from; i < h->n_member; i++) {
		cleanup_free char *dir = xasprintf("%s%s", h->member[i], path);
		/* A second try covers the parent being removed by another pod's
		 * teardown between our mkdirs. */
		if (pp_mkdir_p(dir, 0755, NULL) < 0 && pp_mkdir_p(dir, 0755, err) < 0)
			return pp_error_wrap(err, "create cgroup");
	}
	return 0;
}

static int make_dirs(const struct cg_host *h, const char *path, struct pp_error **err)
{
	return make_dirs_from(h, 0, path, err);
}

/* How many hierarchies, first in h->member, a process can be born in
 * (clone3's CLONE_INTO_CGROUP): the cgroup2 one, where there is one. */
static size_t born_in(const struct cg_host *h)
{
	return h->layout == PP_CGROUP_V1 ? 0 : 1;
}

static struct pp_cgroup *handle(enum pp_cgroup_layout layout, char *path, int owned_ancestors)
{
	struct pp_cgroup *cg = xmalloc(sizeof(*cg));
	cg->layout = layout;
	cg->path = path;
	cg->owned_ancestors = owned_ancestors;
	return cg;
}

int pp_cgroup_create(const struct pp_cgroup *parent, const char *name, struct pp_cgroup **out,
		     struct pp_error **err)
{
	const struct cg_host *h;
	if (host_and_name(name, &h, err) < 0)
		return -1;
	cleanup_free char *path = parent ? xasprintf("%s/%s", parent->path, name)
					 : xasprintf("/%s/%s", parent_name(), name);
	if (make_dirs(h, path, err) < 0)
		return -1;
	*out = handle(h->layout, steal_ptr(&path), parent ? 0 : 1);
	return 0;
}

static char *pod_path(enum pp_qos_class qos, const char *name)
{
	const char *q = qos_dir(qos);
	return q ? xasprintf("/%s/%s/%s", parent_name(), q, name)
		 : xasprintf("/%s/%s", parent_name(), name);
}

/* What a pod cgroup's removal also removes when it was the last: its QoS
 * group, if any, and peapod's parent (rmdir fails while others live). */
static int pod_ancestors(enum pp_qos_class qos)
{
	return qos_dir(qos) ? 2 : 1;
}

/* The pod cgroup at path (made), with v2's infra leaf; enable lists the
 * ancestors whose subtree_control must reach it (v2), top first. */
static int make_pod(const struct cg_host *h, const char *path, char *const *enable, size_t n,
		    struct pp_error **err)
{
	if (make_dirs(h, path, err) < 0)
		return -1;
	if (h->layout == PP_CGROUP_V2) {
		/* Controllers reach a cgroup only through its parents'
		 * subtree_control. The infra's leaf keeps the pod cgroup
		 * itself free of processes. */
		for (size_t i = 0; i < n; i++)
			cg_v2_enable_controllers(h->member[0], enable[i]);
		cg_v2_enable_controllers(h->member[0], path);
		cleanup_free char *leaf = xasprintf("%s/%s", path, CGROUP_INFRA_LEAF);
		if (make_dirs(h, leaf, err) < 0)
			return -1;
	}
	return 0;
}

int pp_cgroup_create_pod_first(enum pp_qos_class qos, const char *name, struct pp_cgroup **out,
			       struct pp_error **err)
{
	const struct cg_host *h;
	*out = NULL;
	if (host_and_name(name, &h, err) < 0)
		return -1;
	cleanup_free char *path = pod_path(qos, name);
	/* The QoS group and peapod's parent go with their last pod, so that
	 * nothing of peapod's stays on a host without pods (a pod being
	 * created under them meanwhile makes them again: make_dirs' retry).
	 * The handle first: what a failure below leaves, destroy removes. */
	*out = handle(h->layout, xstrdup(path), pod_ancestors(qos));
	if (h->layout == PP_CGROUP_HYBRID) {
		struct cg_host unified = *h;
		unified.n_member = born_in(h);
		return make_dirs(&unified, path, err);
	}
	if (h->layout != PP_CGROUP_V2)
		return 0;
	/* peapod's parent, the QoS group */
	char *enable[2] = {xasprintf("/%s", parent_name()), NULL};
	size_t n_enable = 1;
	if (qos_dir(qos))
		enable[n_enable++] = xasprintf("%s/%s", enable[0], qos_dir(qos));
	int ret = make_pod(h, path, enable, n_enable, err);
	for (size_t i = 0; i < n_enable; i++)
		free(enable[i]);
	return ret;
}

int pp_cgroup_create_pod_rest(const struct pp_cgroup *pod, enum pp_qos_class qos,
			      struct pp_error **err)
{
	const struct cg_host *h;
	if (cg_host(&h, err) < 0 || make_dirs_from(h, born_in(h), pod->path, err) < 0)
		return -1;
	/* kubelet's besteffort group has the minimum cpu weight, so that its
	 * pods only get what nobody else wants (best effort, as any weight). */
	if (qos == PP_QOS_BESTEFFORT) {
		struct pp_cgroup group = {.layout = h->layout,
					  .path = xasprintf("/%s/%s", parent_name(), qos_dir(qos))};
		const struct pp_cgroup_resources min = {.cpu_shares = CGROUP_MIN_SHARES};
		int ret = pp_cgroup_set_resources(&group, &min, err);
		free(group.path);
		if (ret < 0)
			return -1;
	}
	return 0;
}

int pp_cgroup_create_pod(enum pp_qos_class qos, const char *name, struct pp_cgroup **out,
			 struct pp_error **err)
{
	if (pp_cgroup_create_pod_first(qos, name, out, err) == 0 &&
	    pp_cgroup_create_pod_rest(*out, qos, err) == 0)
		return 0;
	if (*out != NULL)
		pp_cgroup_destroy(*out, NULL);
	pp_cgroup_free(*out);
	*out = NULL;
	return -1;
}

int pp_cgroup_check_parent(const char *parent, struct pp_error **err)
{
	/* systemd's driver names a slice: "kubepods-besteffort-pod<uid>.slice" */
	size_t len = parent ? strlen(parent) : 0;
	if (len > 6 && strcmp(parent + len - 6, ".slice") == 0)
		return pp_error_set(err, EINVAL,
				    "cgroup parent \"%s\": a systemd slice; peapod drives "
				    "cgroupfs itself (kubelet's cgroupDriver: cgroupfs)",
				    parent);
	if (parent == NULL || parent[0] != '/' || parent[1] == '\0')
		return pp_error_set(err, EINVAL,
				    "cgroup parent \"%s\": not an absolute cgroup path such as "
				    "/kubepods/besteffort/pod<uid>",
				    parent ? parent : "");
	if (strlen(parent) > CGROUP_PARENT_MAX)
		return pp_error_set(err, EINVAL, "cgroup parent \"%.64s...\": longer than %d",
				    parent, CGROUP_PARENT_MAX);
	cleanup_free char *copy = xstrdup(parent + 1);
	char *save = NULL;
	size_t levels = 0;
	for (char *c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		size_t n = strlen(c);
		if (n > 6 && strcmp(c + n - 6, ".slice") == 0)
			return pp_error_set(err, EINVAL,
					    "cgroup parent \"%s\": a systemd slice; peapod drives "
					    "cgroupfs itself (kubelet's cgroupDriver: cgroupfs)",
					    parent);
		if (!valid_name(c) || has_control_char(c))
			return pp_error_set(err, EINVAL, "cgroup parent \"%s\": bad level \"%s\"",
					    parent, c);
		levels++;
	}
	if (strstr(parent, "//") != NULL || parent[len - 1] == '/' || levels == 0)
		return pp_error_set(err, EINVAL, "cgroup parent \"%s\": not a clean path", parent);
	return 0;
}

bool pp_cgroup_path_missing(const char *path)
{
	const struct cg_host *h;
	if (cg_host(&h, NULL) < 0)
		return false;
	for (size_t i = 0; i < h->n_member; i++) {
		cleanup_free char *dir = xasprintf("%s%s", h->member[i], path);
		if (access(dir, F_OK) == 0)
			return false;
	}
	return true;
}

int pp_cgroup_remove_empty_path(const char *path, struct pp_error **err)
{
	const struct cg_host *h;
	if (cg_host(&h, err) < 0)
		return -1;
	int gone = 1;
	for (size_t i = 0; i < h->n_member; i++) {
		cleanup_free char *dir = xasprintf("%s%s", h->member[i], path);
		if (rmdir(dir) == 0 || errno == ENOENT)
			continue;
		if (errno != EBUSY && errno != ENOTEMPTY)
			return pp_error_set(err, errno, "remove cgroup %s", dir);
		gone = 0;
	}
	return gone;
}

int pp_cgroup_create_pod_at(const char *parent, const char *name, struct pp_cgroup **out,
			    struct pp_error **err)
{
	const struct cg_host *h;
	if (host_and_name(name, &h, err) < 0 || pp_cgroup_check_parent(parent, err) < 0)
		return -1;
	/* every level of the parent, top first: its controllers reach the pod */
	cleanup_free char **enable = xmalloc(sizeof(char *) * (strlen(parent) + 1));
	size_t n = 0;
	for (const char *p = strchr(parent + 1, '/'); p != NULL; p = strchr(p + 1, '/'))
		enable[n++] = xasprintf("%.*s", (int)(p - parent), parent);
	enable[n++] = xstrdup(parent);
	cleanup_free char *path = xasprintf("%s/%s", parent, name);
	int ret = make_pod(h, path, enable, n, err);
	for (size_t i = 0; i < n; i++)
		free(enable[i]);
	if (ret < 0)
		return pp_error_wrap(err, "under cgroup parent %s", parent);
	*out = handle(h->layout, steal_ptr(&path), 0);
	return 0;
}

int pp_cgroup_remove_pod_at(const char *parent, const char *name, struct pp_error **err)
{
	const struct cg_host *h;
	if (host_and_name(name, &h, err) < 0 || pp_cgroup_check_parent(parent, err) < 0)
		return -1;
	struct pp_cgroup *cg = handle(h->layout, xasprintf("%s/%s", parent, name), 0);
	int ret = pp_cgroup_destroy(cg, err);
	pp_cgroup_free(cg);
	return ret;
}

const char *pp_cgroup_path(const struct pp_cgroup *cg)
{
	return cg->path;
}

/* What a new process needs to join the cgroup at path: v1's "tasks" files,
 * v2's directory (see cgroup.h); in the hierarchies before `to`. */
static int open_procs_to(const char *path, size_t to, int **fds, size_t *n, struct pp_error **err)
{
	const struct cg_host *h = host();
	int *v = xmalloc(sizeof(int) * CGROUP_MAX_HIERARCHIES);
	size_t i = 0;
	for (; i < to; i++) {
		bool v2 = h->layout == PP_CGROUP_V2 ||
			  (h->layout == PP_CGROUP_HYBRID && i == 0); /* unified first */
		cleanup_free char *file = v2 ? xasprintf("%s%s", h->member[i], path)
					     : xasprintf("%s%s/tasks", h->member[i], path);
		v[i] = open(file, v2 ? O_RDONLY | O_DIRECTORY | O_CLOEXEC : O_WRONLY | O_CLOEXEC);
		if (v[i] < 0) {
			int e = errno;
			pp_cgroup_procs_fds_close(v, i);
			return pp_error_set(err, e, "open %s", file);
		}
	}
	*fds = v;
	*n = i;
	return 0;
}

static int open_procs(const char *path, int **fds, size_t *n, struct pp_error **err)
{
	return open_procs_to(path, host()->n_member, fds, n, err);
}

int pp_cgroup_procs_fds(const struct pp_cgroup *cg, int **fds, size_t *n, struct pp_error **err)
{
	return open_procs(cg->path, fds, n, err);
}

static char *infra_path(const struct pp_cgroup *pod)
{
	return pod->layout == PP_CGROUP_V2 ? xasprintf("%s/%s", pod->path, CGROUP_INFRA_LEAF)
					   : xstrdup(pod->path);
}

int pp_cgroup_infra_procs_fds(const struct pp_cgroup *pod, int **fds, size_t *n,
			      struct pp_error **err)
{
	cleanup_free char *path = infra_path(pod);
	return open_procs(path, fds, n, err);
}

int pp_cgroup_infra_born_fds(const struct pp_cgroup *pod, int **fds, size_t *n,
			     struct pp_error **err)
{
	cleanup_free char *path = infra_path(pod);
	return open_procs_to(path, born_in(host()), fds, n, err);
}

int pp_cgroup_clone_dir(const int *fds, size_t n)
{
	struct stat st;
	for (size_t i = 0; i < n; i++)
		if (fstat(fds[i], &st) == 0 && S_ISDIR(st.st_mode))
			return fds[i];
	return -1;
}

int pp_cgroup_join_self(const int *fds, size_t n, bool cloned_into_dir, struct pp_error **err)
{
	struct stat st;
	for (size_t i = 0; i < n; i++) {
		if (fstat(fds[i], &st) < 0)
			return pp_error_set(err, errno, "join cgroup (fd %d)", fds[i]);
		cleanup_close int procs = -1;
		int fd = fds[i];
		if (S_ISDIR(st.st_mode)) {
			/* cgroup2: born there by clone3, or through cgroup.procs */
			if (cloned_into_dir)
				continue;
			procs = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
			if (procs < 0)
				return pp_error_set(err, errno, "join cgroup (cgroup.procs)");
			fd = procs;
		}
		/* "0" means the writer itself: in v1's "tasks", this thread,
		 * all of a process that has no other. */
		if (write(fd, "0", 1) < 0)
			return pp_error_set(err, errno, "join cgroup (fd %d)", fds[i]);
	}
	return 0;
}

void pp_cgroup_procs_fds_close(int *fds, size_t n)
{
	if (fds == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

static int write_file(const char *path, const char *value)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(value);
	return write(fd, value, len) == (ssize_t)len ? 0 : -1;
}

int cg_write(const char *hierarchy, const char *path, const char *file, const char *value)
{
	cleanup_free char *full = xasprintf("%s%s/%s", hierarchy, path, file);
	return write_file(full, value);
}

bool cg_has_file(const char *hierarchy, const char *path, const char *file)
{
	cleanup_free char *full = xasprintf("%s%s/%s", hierarchy, path, file);
	return access(full, F_OK) == 0;
}

uint64_t cg_read_key(const char *hierarchy, const char *path, const char *file, const char *key)
{
	cleanup_free char *full = xasprintf("%s%s/%s", hierarchy, path, file);
	cleanup_free char *text = NULL;
	if (pp_read_file(full, 1 << 16, &text, NULL, NULL) < 0)
		return 0;
	size_t klen = strlen(key);
	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return strtoull(line + klen + 1, NULL, 10);
	}
	return 0;
}

/* Kills every pid listed in dir/cgroup.procs and recurses into children. */
static void kill_listed(const char *dir)
{
	cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
	cleanup_fclose FILE *f = fopen(procs, "re");
	if (f) {
		int pid;
		while (fscanf(f, "%d", &pid) == 1)
			if (pid > 0)
				kill(pid, SIGKILL);
	}
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	if (pp_dir_open(&d, dir, 0, NULL) < 0)
		return;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		kill_listed(sub);
	}
}

int pp_cgroup_kill(const struct pp_cgroup *cg, struct pp_error **err)
{
	const char *h = host()->member[0];
	cleanup_free char *dir = xasprintf("%s%s", h, cg->path);
	if (access(dir, F_OK) < 0)
		return 0;
	if (cg->layout != PP_CGROUP_V1) {
		cleanup_free char *kill_file = xasprintf("%s/cgroup.kill", dir);
		if (write_file(kill_file, "1") == 0)
			return 0;
		/* Kernels before 5.14 have no cgroup.kill: fall back to listing. */
		kill_listed(dir);
		return 0;
	}
	/* v1: freeze first so nothing forks between reading the list and the kill. */
	cleanup_free char *state = xasprintf("%s/freezer.state", dir);
	if (write_file(state, "FROZEN") < 0)
		return pp_error_set(err, errno, "freeze %s", dir);
	kill_listed(dir);
	write_file(state, "THAWED");
	return 0;
}

static bool populated_at(const char *dir)
{
	cleanup_free char *events = xasprintf("%s/cgroup.events", dir);
	cleanup_free char *text = NULL;
	if (pp_read_file(events, 4096, &text, NULL, NULL) == 0) {
		const char *p = strstr(text, "populated ");
		return p == NULL || p[strlen("populated ")] != '0';
	}
	/* v1 has no cgroup.events: look for any pid here or below. */
	cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
	cleanup_free char *list = NULL;
	if (pp_read_file(procs, 1 << 20, &list, NULL, NULL) < 0)
		return false;
	if (list[0] != '\0')
		return true;
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	bool found = false;
	struct dirent *de;
	if (pp_dir_open(&d, dir, 0, NULL) < 0)
		return false;
	while (!found && pp_dir_next(&d, &de, NULL) > 0) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		found = populated_at(sub);
	}
	return found;
}

bool pp_cgroup_is_populated(const struct pp_cgroup *cg)
{
	const struct cg_host *h = host();
	for (size_t i = 0; i < h->n_member; i++) {
		cleanup_free char *dir = xasprintf("%s%s", h->member[i], cg->path);
		if (access(dir, F_OK) == 0 && populated_at(dir))
			return true;
	}
	return false;
}

/* rmdir children first; a cgroup directory holds only control files, which
 * rmdir ignores, and sub-cgroups. A leaf goes at once, unread (EBUSY: it
 * has children, or processes). */
static int rmdir_tree(const char *dir)
{
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return -1;
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, dir, PP_DIR_MISSING_OK, NULL) < 0)
		return -1;
	struct dirent *de;
	int ret = 0, more;
	while ((more = pp_dir_next(&d, &de, NULL)) > 0) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		if (rmdir_tree(sub) < 0)
			ret = -1;
	}
	pp_dir_close(&d);
	if (more < 0 || (rmdir(dir) < 0 && errno != ENOENT))
		ret = -1;
	return ret;
}

int pp_cgroup_destroy(const struct pp_cgroup *cg, struct pp_error **err)
{
	if (cg == NULL)
		return 0;
	if (pp_cgroup_kill(cg, err) < 0)
		return -1;
	const struct cg_host *h = host();
	const struct timespec wait = {0, CGROUP_RMDIR_WAIT_NS};
	for (size_t i = 0; i < h->n_member; i++) {
		cleanup_free char *dir = xasprintf("%s%s", h->member[i], cg->path);
		int tries = 0;
		/* Killed processes leave the cgroup asynchronously: rmdir fails
		 * with EBUSY until they are gone. Retry a bounded number of times. */
		while (rmdir_tree(dir) < 0) {
			if (++tries >= CGROUP_RMDIR_TRIES)
				return pp_error_set(err, errno, "remove cgroup %s", dir);
			if (tries % 20 == 0)
				kill_listed(dir);
			nanosleep(&wait, NULL);
		}
		/* The QoS group and the parent go with their last pod
		 * (EBUSY while others live). */
		for (int up = 0; up < cg->owned_ancestors; up++) {
			char *slash = strrchr(dir, '/');
			if (slash == NULL)
				break;
			*slash = '\0';
			rmdir(dir);
		}
	}
	return 0;
}

void pp_cgroup_remove_if_empty(const struct pp_cgroup *cg)
{
	if (cg == NULL)
		return;
	const struct cg_host *h = host();
	for (size_t i = 0; i < h->n_member; i++) {
		cleanup_free char *dir = xasprintf("%s%s", h->member[i], cg->path);
		rmdir(dir);
	}
}

static int remove_pod(const char *name, bool only_empty, struct pp_error **err)
{
	const struct cg_host *h;
	if (host_and_name(name, &h, err) < 0)
		return -1;
	static const enum pp_qos_class all[] = {PP_QOS_GUARANTEED, PP_QOS_BURSTABLE,
						PP_QOS_BESTEFFORT};
	for (size_t q = 0; q < sizeof(all) / sizeof(all[0]); q++) {
		struct pp_cgroup *cg =
		    handle(h->layout, pod_path(all[q], name), pod_ancestors(all[q]));
		int ret = only_empty && pp_cgroup_is_populated(cg) ? 0 : pp_cgroup_destroy(cg, err);
		pp_cgroup_free(cg);
		if (ret < 0)
			return -1;
	}
	return 0;
}

int pp_cgroup_remove_pod(const char *name, struct pp_error **err)
{
	return remove_pod(name, false, err);
}

int pp_cgroup_remove_empty_pod(const char *name, struct pp_error **err)
{
	return remove_pod(name, true, err);
}

/* Adds the "pod-*" directories of hierarchy/dir to names (once each). */
static void add_pod_dirs(const char *hierarchy, const char *dir, char ***names, size_t *n)
{
	cleanup_free char *path = xasprintf("%s%s", hierarchy, dir);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, path, PP_DIR_MISSING_OK, NULL) < 0)
		return;
	struct dirent *de;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (strncmp(de->d_name, "pod-", 4) != 0 || de->d_type != DT_DIR)
			continue;
		bool seen = false;
		for (size_t i = 0; i < *n && !seen; i++)
			seen = strcmp((*names)[i], de->d_name) == 0;
		if (seen)
			continue;
		*names = xrealloc(*names, (*n + 2) * sizeof(char *));
		(*names)[(*n)++] = xstrdup(de->d_name);
		(*names)[*n] = NULL;
	}
}

int pp_cgroup_pod_names(char ***names, struct pp_error **err)
{
	const struct cg_host *h;
	if (cg_host(&h, err) < 0)
		return -1;
	size_t n = 0;
	*names = xmalloc(sizeof(char *));
	(*names)[0] = NULL;
	static const enum pp_qos_class all[] = {PP_QOS_GUARANTEED, PP_QOS_BURSTABLE,
						PP_QOS_BESTEFFORT};
	for (size_t m = 0; m < h->n_member; m++)
		for (size_t q = 0; q < sizeof(all) / sizeof(all[0]); q++) {
			const char *qd = qos_dir(all[q]);
			cleanup_free char *dir = qd ? xasprintf("/%s/%s", parent_name(), qd)
						    : xasprintf("/%s", parent_name());
			add_pod_dirs(h->member[m], dir, names, &n);
		}
	return 0;
}

int pp_cgroup_set_resources(const struct pp_cgroup *cg, const struct pp_cgroup_resources *r,
			    struct pp_error **err)
{
	const struct cg_host *h = host();
	int ret = h->layout == PP_CGROUP_V2 ? cg_v2_set_resources(h, cg, r, err)
					    : cg_v1_set_resources(h, cg, r, err);
	if (ret < 0 || cg_hugetlb_set(h, cg, r, err) < 0)
		return pp_error_wrap(err, "cgroup %s", cg->path);
	return 0;
}

uint64_t pp_cgroup_oom_kills(const struct pp_cgroup *cg)
{
	const struct cg_host *h = host();
	if (h->memory == NULL)
		return 0;
	if (h->layout == PP_CGROUP_V2)
		return cg_read_key(h->memory, cg->path, "memory.events", "oom_kill");
	return cg_read_key(h->memory, cg->path, "memory.oom_control", "oom_kill");
}

void pp_cgroup_free(struct pp_cgroup *cg)
{
	if (cg == NULL)
		return;
	free(cg->path);
	free(cg);
}
