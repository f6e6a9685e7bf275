#include "util/path.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/mem.h"

/* The kernel's own bound on symlinks followed in one lookup (MAXSYMLINKS). */
#define PATH_MAX_SYMLINKS 40
/* openat2 RESOLVE_IN_ROOT/BENEATH returns EAGAIN when a concurrent rename or
 * mount could have let ".." escape; the man page asks callers to retry. */
#define PATH_OPENAT2_RETRIES 32

#define RESOLVE_INSIDE_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int openat2_retry(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = resolve,
	};
	for (int i = 0; i < PATH_OPENAT2_RETRIES; i++) {
		int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			return fd;
	}
	return -1;
}

static int open_in_root(int rootfd, const char *path, int flags)
{
	return openat2_retry(rootfd, path, flags, RESOLVE_INSIDE_ROOT);
}

/* Creates one missing component in dirfd: a directory, or an empty file. */
static int create_component(int dirfd, const char *name, bool as_file, mode_t mode)
{
	if (!as_file)
		return mkdirat(dirfd, name, mode);
	int fd =
	    openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode & 0666);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Cuts the next component off *rest; "" when none is left. */
static char *next_component(const char **rest)
{
	const char *p = *rest + strspn(*rest, "/");
	size_t len = strcspn(p, "/");
	*rest = p + len;
	char *c = strndup(p, len);
	if (c == NULL)
		abort();
	return c;
}

static bool no_component_left(const char *rest)
{
	return rest[strspn(rest, "/")] == '\0';
}

struct walk {
	char *todo;	  /* what is left to resolve (owned) */
	const char *rest; /* position in todo */
	char *done;	  /* resolved prefix; may hold symlinks, as every open goes
			   * through RESOLVE_IN_ROOT again */
	int dirfd;	  /* O_PATH fd of done */
	int links;
	bool missing; /* started from the parent: the first component is missing */
};

/* comp is a dangling symlink in w->dirfd: resolution continues from its
 * target, relative to its directory or, when absolute, to the root. Returns
 * 1 when it was a symlink, 0 when not, -1 on error. */
static int follow_dangling(int rootfd, struct walk *w, const char *comp, struct pp_error **err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(w->dirfd, comp, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	if (++w->links > PATH_MAX_SYMLINKS)
		return pp_error_set(err, ELOOP, "%s", comp);
	target[n] = '\0';
	char *todo = xasprintf("%s/%s", target, w->rest);
	free(w->todo);
	w->todo = todo;
	w->rest = todo;
	if (target[0] == '/') {
		int fd = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
		if (fd < 0)
			return pp_error_set(err, errno, "open root");
		close(w->dirfd);
		w->dirfd = fd;
		free(w->done);
		w->done = xstrdup("");
	}
	return 1;
}

/* Where the walk of ensure_path starts: path's parent, opened inside the
 * root, when it exists (nearly always: a mount target's directory), so that
 * only the last component is left; otherwise the root. The parent is
 * resolved as the walk would have resolved it, by RESOLVE_IN_ROOT. */
static int walk_start(int rootfd, const char *path, struct walk *w, struct pp_error **err)
{
	size_t len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		len--;
	size_t cut = len;
	while (cut > 0 && path[cut - 1] != '/')
		cut--;
	const char *last = path + cut;
	size_t last_len = len - cut;
	bool dots = (last_len == 1 && last[0] == '.') ||
		    (last_len == 2 && last[0] == '.' && last[1] == '.');
	if (cut > 0 && last_len > 0 && !dots) {
		cleanup_free char *parent = strndup(path, cut - 1);
		if (parent == NULL)
			abort();
		int fd =
		    open_in_root(rootfd, parent[0] != '\0' ? parent : "/", O_PATH | O_DIRECTORY);
		if (fd >= 0) {
			w->dirfd = fd;
			w->done = steal_ptr(&parent);
			w->todo = strndup(last, last_len);
			if (w->todo == NULL)
				abort();
			w->rest = w->todo;
			w->missing = true;
			return 0;
		}
	}
	w->todo = xstrdup(path);
	w->rest = w->todo;
	w->done = xstrdup("");
	w->dirfd = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
	if (w->dirfd < 0)
		return pp_error_set(err, errno, "open root");
	return 0;
}

/* Makes every component of path exist inside the root, component by
 * component, each step opened again from rootfd with RESOLVE_IN_ROOT.
 * Returns an O_PATH fd of path. A missing component is made first and
 * looked at after: EEXIST is a dangling symlink (followed) or someone
 * else's make (opened). */
static int ensure_path(int rootfd, const char *path, mode_t mode, bool create_file,
		       struct pp_error **err)
{
	struct walk w = {.dirfd = -1};
	int ret = walk_start(rootfd, path, &w, err);
	while (ret == 0 && !no_component_left(w.rest)) {
		cleanup_free char *comp = next_component(&w.rest);
		if (strcmp(comp, ".") == 0)
			continue;
		char *cand = xasprintf("%s/%s", w.done, comp);
		/* the first of a walk from the parent: known to be missing */
		int fd = -1;
		errno = ENOENT;
		if (!w.missing)
			fd = open_in_root(rootfd, cand, O_PATH);
		w.missing = false;
		if (fd < 0 && errno == ENOENT) {
			bool as_file = create_file && no_component_left(w.rest);
			if (create_component(w.dirfd, comp, as_file, mode) < 0) {
				if (errno != EEXIST) {
					ret = pp_error_set(err, errno, "create %s", cand);
					free(cand);
					break;
				}
				/* there: a dangling symlink, or someone else's */
				int r = follow_dangling(rootfd, &w, comp, err);
				if (r != 0) {
					free(cand);
					ret = r < 0 ? -1 : 0;
					continue;
				}
			}
			fd = open_in_root(rootfd, cand, O_PATH);
		}
		if (fd < 0) {
			ret = pp_error_set(err, errno, "open %s", cand);
			free(cand);
			break;
		}
		close(w.dirfd);
		w.dirfd = fd;
		free(w.done);
		w.done = cand;
	}
	free(w.todo);
	free(w.done);
	if (ret < 0) {
		if (w.dirfd >= 0)
			close(w.dirfd);
		return -1;
	}
	return w.dirfd;
}

int pp_path_open_in_root(int rootfd, const char *path, int flags, mode_t create_mode,
			 bool create_file, struct pp_error **err)
{
	int fd = open_in_root(rootfd, path, flags);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || create_mode == 0)
		return pp_error_set(err, errno, "open %s inside the root", path);
	fd = ensure_path(rootfd, path, create_mode, create_file, err);
	if (fd < 0)
		return pp_error_wrap(err, "create %s inside the root", path);
	if ((flags & ~O_CLOEXEC) == O_PATH)
		return fd;
	close(fd);
	fd = open_in_root(rootfd, path, flags);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s inside the root", path);
	return fd;
}

int pp_path_open_beneath(int dirfd, const char *path, int flags, struct pp_error **err)
{
	int fd = openat2_retry(dirfd, path, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (fd < 0 && errno == EXDEV)
		return pp_error_set(err, errno, "%s leaves its root", path);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	return fd;
}

char *pp_path_clean(const char *p)
{
	char *out = xmalloc(strlen(p) + 2);
	size_t n = 0;
	while (*p) {
		while (*p == '/')
			p++;
		size_t seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.') {
			/* back to the '/' before the last component, if any */
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else if (seg > 0 && !(seg == 1 && p[0] == '.')) {
			out[n++] = '/';
			memcpy(out + n, p, seg);
			n += seg;
		}
		p += seg;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}
