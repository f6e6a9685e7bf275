/* What `peapod cp` does: reaches the container (ops/reach.h), opens its root
 * as its processes see it, finds both ends of the copy and lets
 * ops/cp_tree.c copy between them. */
#include "ops/cp.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/cp_internal.h"
#include "ops/reach.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"

#define CP_DIR_OPEN (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#define CP_MAP_MAX 4096

/* One end of the copy: an entry of an open directory. */
struct cp_end {
	int dir;
	char *name;
	/* the source's name in a destination that is an existing directory;
	 * NULL: its content goes there ("/", "dir/.") */
	char *as;
};

static void cp_end_free(struct cp_end *e)
{
	cleanup_closep(&e->dir);
	free(e->name);
	free(e->as);
	e->name = e->as = NULL;
}

/* "a/b/" -> "a" and "b"; "b" -> "." and "b"; "/" -> "/" and ".". */
static void split_path(const char *path, char **dir, char **base)
{
	cleanup_free char *p = xstrdup(path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	char *slash = strrchr(p, '/');
	if (strcmp(p, "/") == 0) {
		*dir = xstrdup("/");
		*base = xstrdup(".");
	} else if (slash == NULL) {
		*dir = xstrdup(".");
		*base = xstrdup(p);
	} else {
		*base = xstrdup(slash + 1);
		*dir = slash == p ? xstrdup("/") : strndup(p, (size_t)(slash - p));
		if (*dir == NULL)
			abort();
	}
}

static bool is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* Where a path of the container leads, in its root: the errno kept, the
 * message naming the pod, the container and the path. */
static int container_error(struct pp_error **err, int e, const struct pp_cp_opts *o,
			   const char *container)
{
	if (err != NULL && *err != NULL && (*err)->status != 0)
		e = (*err)->status; /* from the resolution, errno may have moved since */
	return pp_error_set(err, e, "pod %s, container %s: %s", o->name, container, o->pod_path);
}

static int local_error(struct pp_error **err, int e, const char *path)
{
	return pp_error_set(err, e, "%s", path);
}

/* The source in the container: its parent resolved inside the root, the
 * entry itself not followed, unless the path ends with "/" (a directory's,
 * followed inside the root, as a shell and tar take it). */
static int container_source(int root, const struct pp_cp_opts *o, const char *container,
			    struct cp_end *src, struct pp_error **err)
{
	cleanup_free char *clean = pp_path_clean(o->pod_path);
	cleanup_free char *dir = NULL;
	split_path(clean, &dir, &src->name);
	size_t len = strlen(o->pod_path);
	if (strcmp(clean, "/") != 0)
		src->as = xstrdup(src->name);
	if (len > 0 && o->pod_path[len - 1] == '/') {
		free(dir);
		dir = xstrdup(clean);
		free(src->name);
		src->name = xstrdup(".");
	}
	src->dir = pp_path_open_in_root(root, dir, CP_DIR_OPEN, 0, false, err);
	if (src->dir < 0)
		return container_error(err, errno, o, container);
	struct stat st;
	if (fstatat(src->dir, src->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return pp_error_set(err, errno, "pod %s, container %s: %s", o->name, container,
				    o->pod_path);
	return 0;
}

static int local_source(const char *path, struct cp_end *src, struct pp_error **err)
{
	cleanup_free char *dir = NULL;
	split_path(path, &dir, &src->name);
	if (is_dot(src->name)) {
		/* "." or "dir/..": that directory's content */
		free(dir);
		dir = xstrdup(path);
		free(src->name);
		src->name = xstrdup(".");
	} else {
		src->as = xstrdup(src->name);
	}
	src->dir = open(dir, CP_DIR_OPEN);
	struct stat st;
	if (src->dir < 0 || fstatat(src->dir, src->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return local_error(err, errno, path);
	return 0;
}

/* The destination is dir_fd (an existing directory) or -1 and the parent,
 * split from path: into an existing directory goes an entry named as the
 * source (or its content), else the source takes the destination's name. */
static void set_destination(struct cp_end *dst, int dir_fd, const struct cp_end *src,
			    char *parent_base)
{
	if (dir_fd >= 0) {
		dst->dir = dir_fd;
		dst->name = xstrdup(src->as ? src->as : ".");
		free(parent_base);
	} else {
		dst->name = parent_base;
	}
}

static int local_destination(const char *path, const struct cp_end *src, struct cp_end *dst,
			     struct pp_error **err)
{
	struct stat st;
	int fd = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? open(path, CP_DIR_OPEN) : -1;
	cleanup_free char *dir = NULL;
	char *base = NULL;
	split_path(path, &dir, &base);
	set_destination(dst, fd, src, base);
	if (dst->dir < 0)
		dst->dir = open(dir, CP_DIR_OPEN);
	if (dst->dir < 0)
		return local_error(err, errno, dir);
	return 0;
}

static int container_destination(int root, const struct pp_cp_opts *o, const char *container,
				 const struct cp_end *src, struct cp_end *dst,
				 struct pp_error **err)
{
	cleanup_free char *clean = pp_path_clean(o->pod_path);
	cleanup_error struct pp_error *ignored = NULL;
	int fd = pp_path_open_in_root(root, clean, CP_DIR_OPEN, 0, false, &ignored);
	cleanup_free char *dir = NULL;
	char *base = NULL;
	split_path(clean, &dir, &base);
	set_destination(dst, fd, src, base);
	if (dst->dir < 0)
		dst->dir = pp_path_open_in_root(root, dir, CP_DIR_OPEN, 0, false, err);
	if (dst->dir < 0)
		return container_error(err, errno, o, container);
	return 0;
}

/* Where the container's id 0 is on the host (its user namespace's map):
 * what cp makes there belongs to the container's root. */
static int container_root_id(const struct pp_container_reach *r, const char *map, unsigned *id,
			     struct pp_error **err)
{
	cleanup_close int fd = pp_container_reach_open(r, map, O_RDONLY, err);
	cleanup_free char *text = NULL;
	size_t len = 0;
	if (fd < 0 || pp_read_fd(fd, CP_MAP_MAX, &text, &len, err) < 0)
		return -1;
	for (char *line = text; line != NULL && *line;) {
		unsigned inside, outside, count;
		if (sscanf(line, "%u %u %u", &inside, &outside, &count) == 3 && inside == 0 &&
		    count > 0) {
			*id = outside;
			return 0;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return pp_error_set(err, 0, "container %s: its user namespace maps no root", r->container);
}

static int copy_ends(const struct pp_cp_opts *o, const struct pp_container_reach *r, int root,
		     struct pp_error **err)
{
	struct cp_tree t = {.on_skip = o->on_skip, .ctx = o->ctx, .drop_setid = !o->to_pod};
	struct cp_end src = {.dir = -1}, dst = {.dir = -1};
	int ret = -1;
	unsigned uid = 0, gid = 0;
	if (o->to_pod) {
		if (container_root_id(r, "uid_map", &uid, err) < 0 ||
		    container_root_id(r, "gid_map", &gid, err) < 0 ||
		    local_source(o->local_path, &src, err) < 0 ||
		    container_destination(root, o, r->container, &src, &dst, err) < 0)
			goto out;
		t.set_owner = true;
		t.uid = uid;
		t.gid = gid;
	} else if (container_source(root, o, r->container, &src, err) < 0 ||
		   local_destination(o->local_path, &src, &dst, err) < 0) {
		goto out;
	}
	ret = cp_tree_copy(&t, src.dir, src.name, dst.dir, dst.name,
			   o->to_pod ? o->local_path : o->pod_path, err);
out:
	cp_end_free(&src);
	cp_end_free(&dst);
	return ret;
}

int pp_pod_cp(const struct pp_cp_opts *o, struct pp_error **err)
{
	struct pp_container_reach r;
	if (pp_container_reach(o->ns, o->name, o->container, &r, err) < 0)
		return -1;
	cleanup_close int root = pp_container_reach_open(&r, "root", O_PATH | O_DIRECTORY, err);
	int ret = root < 0 ? -1 : copy_ends(o, &r, root, err);
	pp_container_reach_free(&r);
	return ret;
}
