#include "cgroup/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/fs.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_DEFAULT_PARENT "peapod"
/* Removal waits for the last processes to exit: at most this many tries. */
#define CGROUP_RMDIR_TRIES 200
#define CGROUP_RMDIR_WAIT_NS (5 * 1000 * 1000)
#define CGROUP_MAX_HIERARCHIES 4

/* The hierarchies a layout uses for membership. The unified hierarchy (when
 * there is one) comes first: it has cgroup.kill and cgroup.events. On pure
 * v1 the freezer lets a kill reach processes that fork meanwhile. */
static const char *const hierarchies_v2[] = {CGROUP_ROOT, NULL};
static const char *const hierarchies_hybrid[] = {CGROUP_ROOT "/unified", NULL};
static const char *const hierarchies_v1[] = {CGROUP_ROOT "/freezer", CGROUP_ROOT "/pids", NULL};

struct pp_cgroup {
	enum pp_cgroup_layout layout;
	char *path; /* relative to each hierarchy's root, starts with '/' */
	bool top;   /* directly under peapod's parent cgroup */
};

static bool is_cgroup2(const char *path)
{
	struct statfs sfs;
	return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

int pp_cgroup_layout(enum pp_cgroup_layout *out, struct pp_error **err)
{
	static int probed = -1;
	if (probed < 0) {
		if (is_cgroup2(CGROUP_ROOT))
			probed = PP_CGROUP_V2;
		else if (is_cgroup2(CGROUP_ROOT "/unified"))
			probed = PP_CGROUP_HYBRID;
		else if (access(CGROUP_ROOT "/freezer", F_OK) == 0)
			probed = PP_CGROUP_V1;
		else
			return pp_error_set(err, ENOTSUP, "no usable cgroup hierarchy under %s",
					    CGROUP_ROOT);
	}
	*out = (enum pp_cgroup_layout)probed;
	return 0;
}

static const char *const *layout_hierarchies(enum pp_cgroup_layout layout)
{
	switch (layout) {
	case PP_CGROUP_V2:
		return hierarchies_v2;
	case PP_CGROUP_HYBRID:
		return hierarchies_hybrid;
	case PP_CGROUP_V1:
		return hierarchies_v1;
	default:
		return hierarchies_v2;
	}
}

static const char *parent_name(void)
{
	const char *p = getenv("PEAPOD_CGROUP_PARENT");
	return p && *p ? p : CGROUP_DEFAULT_PARENT;
}

static bool valid_name(const char *name)
{
	return *name && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

int pp_cgroup_create(const struct pp_cgroup *parent, const char *name, struct pp_cgroup **out,
		     struct pp_error **err)
{
	enum pp_cgroup_layout layout;
	if (pp_cgroup_layout(&layout, err) < 0)
		return -1;
	if (!valid_name(name))
		return pp_error_set(err, EINVAL, "invalid cgroup name \"%s\"", name);
	cleanup_free char *path = parent ? xasprintf("%s/%s", parent->path, name)
					 : xasprintf("/%s/%s", parent_name(), name);
	for (const char *const *h = layout_hierarchies(layout); *h; h++) {
		cleanup_free char *dir = xasprintf("%s%s", *h, path);
		/* A second try covers the parent being removed by another pod's
		 * teardown between our mkdirs. */
		if (pp_mkdir_p(dir, 0755, NULL) < 0 && pp_mkdir_p(dir, 0755, err) < 0)
			return pp_error_wrap(err, "create cgroup");
	}
	struct pp_cgroup *cg = xmalloc(sizeof(*cg));
	cg->layout = layout;
	cg->path = steal_ptr(&path);
	cg->top = parent == NULL;
	*out = cg;
	return 0;
}

const char *pp_cgroup_path(const struct pp_cgroup *cg)
{
	return cg->path;
}

int pp_cgroup_procs_fds(const struct pp_cgroup *cg, int **fds, size_t *n, struct pp_error **err)
{
	int *v = xmalloc(sizeof(int) * CGROUP_MAX_HIERARCHIES);
	size_t i = 0;
	for (const char *const *h = layout_hierarchies(cg->layout); *h; h++) {
		cleanup_free char *file = xasprintf("%s%s/cgroup.procs", *h, cg->path);
		v[i] = open(file, O_WRONLY | O_CLOEXEC);
		if (v[i] < 0) {
			int e = errno;
			pp_cgroup_procs_fds_close(v, i);
			return pp_error_set(err, e, "open %s", file);
		}
		i++;
	}
	*fds = v;
	*n = i;
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
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		kill_listed(sub);
	}
	closedir(d);
}

int pp_cgroup_kill(const struct pp_cgroup *cg, struct pp_error **err)
{
	const char *h = layout_hierarchies(cg->layout)[0];
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
	DIR *d = opendir(dir);
	bool found = false;
	struct dirent *de;
	while (d && !found && (de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		found = populated_at(sub);
	}
	if (d)
		closedir(d);
	return found;
}

bool pp_cgroup_is_populated(const struct pp_cgroup *cg)
{
	for (const char *const *h = layout_hierarchies(cg->layout); *h; h++) {
		cleanup_free char *dir = xasprintf("%s%s", *h, cg->path);
		if (access(dir, F_OK) == 0 && populated_at(dir))
			return true;
	}
	return false;
}

/* rmdir children first; a cgroup directory holds only control files, which
 * rmdir ignores, and sub-cgroups. */
static int rmdir_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	struct dirent *de;
	int ret = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		if (rmdir_tree(sub) < 0)
			ret = -1;
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

int pp_cgroup_destroy(const struct pp_cgroup *cg, struct pp_error **err)
{
	if (cg == NULL)
		return 0;
	if (pp_cgroup_kill(cg, err) < 0)
		return -1;
	const struct timespec wait = {0, CGROUP_RMDIR_WAIT_NS};
	for (const char *const *h = layout_hierarchies(cg->layout); *h; h++) {
		cleanup_free char *dir = xasprintf("%s%s", *h, cg->path);
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
		/* The shared parent goes with its last pod (EBUSY while others live). */
		if (cg->top) {
			cleanup_free char *parent = xasprintf("%s/%s", *h, parent_name());
			rmdir(parent);
		}
	}
	return 0;
}

void pp_cgroup_free(struct pp_cgroup *cg)
{
	if (cg == NULL)
		return;
	free(cg->path);
	free(cg);
}
