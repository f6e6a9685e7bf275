/* kubelet's atomic writer: see atomic_writer.h for the layout. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/atomic_writer.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define AW_DIR_MODE 0755
/* tries at a fresh timestamped name when two writes share a nanosecond */
#define AW_MKDIR_TRIES 16

int pp_aw_validate_path(const char *path, struct pp_error **err)
{
	if (path == NULL || path[0] == '\0')
		return pp_error_set(err, EINVAL, "invalid path: must not be empty");
	if (path[0] == '/')
		return pp_error_set(err, EINVAL, "invalid path: must be relative path: %s", path);
	if (strlen(path) > PP_AW_MAX_PATH)
		return pp_error_set(err, EINVAL,
				    "invalid path: must be less than or equal to %d characters",
				    PP_AW_MAX_PATH);
	for (const char *s = path;;) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len == 2 && strncmp(s, "..", 2) == 0)
			return pp_error_set(err, EINVAL, "invalid path: must not contain '..': %s",
					    path);
		if (len > PP_AW_MAX_NAME)
			return pp_error_set(
			    err, EINVAL,
			    "invalid path: filenames must be less than or equal to %d characters",
			    PP_AW_MAX_NAME);
		if (s == path && len > 2 && strncmp(s, "..", 2) == 0)
			return pp_error_set(err, EINVAL,
					    "invalid path: must not start with '..': %s", path);
		if (slash == NULL)
			break;
		s = slash + 1;
	}
	return 0;
}

/* Go's path.Clean for a valid relative path: no empty or "." elements. */
static char *clean_path(const char *p)
{
	char *out = xmalloc(strlen(p) + 1);
	size_t k = 0;
	for (const char *s = p; *s;) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len > 0 && !(len == 1 && s[0] == '.')) {
			if (k > 0)
				out[k++] = '/';
			memcpy(out + k, s, len);
			k += len;
		}
		s += len + (slash != NULL);
	}
	out[k] = '\0';
	return out;
}

/* The payload's paths validated and cleaned, without duplicates or a file
 * that is also a directory of another. Returns a NULL-terminated array. */
static int clean_payload(const struct pp_aw_file *files, size_t n, char ***out,
			 struct pp_error **err)
{
	char **paths = xmalloc(sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		if (pp_aw_validate_path(files[i].path, err) < 0)
			goto fail;
		paths[i] = clean_path(files[i].path);
		if (paths[i][0] == '\0') {
			pp_error_set(err, EINVAL, "invalid path: must not be empty: %s",
				     files[i].path);
			goto fail;
		}
		/* "./..x" is valid as written but cleans to a name of the writer's */
		if (strncmp(paths[i], "..", 2) == 0) {
			pp_error_set(err, EINVAL, "invalid path: must not start with '..': %s",
				     files[i].path);
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			size_t li = strlen(paths[i]);
			if (i == j)
				continue;
			if (strcmp(paths[i], paths[j]) == 0) {
				pp_error_set(err, EINVAL, "invalid payload: duplicate path %s",
					     paths[i]);
				goto fail;
			}
			if (strncmp(paths[i], paths[j], li) == 0 && paths[j][li] == '/') {
				pp_error_set(err, EINVAL,
					     "invalid payload: %s is both a file and the directory "
					     "of %s",
					     paths[i], paths[j]);
				goto fail;
			}
		}
	*out = paths;
	return 0;
fail:
	strv_free(paths);
	return -1;
}

int pp_aw_check_payload(const struct pp_aw_file *files, size_t n, struct pp_error **err)
{
	char **paths = NULL;
	if (clean_payload(files, n, &paths, err) < 0)
		return -1;
	strv_free(paths);
	return 0;
}

/* The current timestamped directory's name, NULL when there is none. */
static char *current_data_dir(int dfd)
{
	char buf[PP_AW_MAX_NAME + 1];
	ssize_t len = readlinkat(dfd, PP_AW_DATA_DIR, buf, sizeof(buf) - 1);
	if (len <= 0)
		return NULL;
	buf[len] = '\0';
	/* only a name of ours: anything else is not a payload to compare */
	if (strncmp(buf, "..", 2) != 0 || strchr(buf, '/') != NULL || strcmp(buf, "..") == 0)
		return NULL;
	return xstrdup(buf);
}

/* Does the file at dfd/name hold exactly f (bytes and mode)? */
static bool same_file(int dfd, const char *name, const struct pp_aw_file *f)
{
	cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != (f->mode & 07777) || st.st_gid != f->gid ||
	    (size_t)st.st_size != f->len)
		return false;
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (pp_read_fd(fd, f->len + 1, &buf, &len, NULL) < 0 || len != f->len)
		return false;
	return f->len == 0 || memcmp(buf, f->data, f->len) == 0;
}

/* Counts the regular files below dfd/name (recursively); -1 on error. */
static long count_files(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	long count = 0;
	struct dirent *e;
	while (count >= 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			count = -1;
		} else if (S_ISDIR(st.st_mode)) {
			long sub = count_files(dirfd(d), e->d_name);
			count = sub < 0 ? -1 : count + sub;
		} else {
			count++;
		}
	}
	closedir(d);
	return count;
}

/* kubelet's shouldWritePayload: anything differs from the current data. */
static bool payload_differs(int dfd, const char *old, const struct pp_aw_file *files, char **paths,
			    size_t n)
{
	if (old == NULL || count_files(dfd, old) != (long)n)
		return true;
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *rel = xasprintf("%s/%s", old, paths[i]);
		if (!same_file(dfd, rel, &files[i]))
			return true;
	}
	return false;
}

/* mkdir -p of the parents of rel below dfd. */
static int make_parents(int dfd, const char *rel, struct pp_error **err)
{
	cleanup_free char *p = xstrdup(rel);
	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdirat(dfd, p, AW_DIR_MODE) < 0 && errno != EEXIST)
			return pp_error_set(err, errno, "mkdir %s", p);
		*s = '/';
	}
	return 0;
}

static int write_one(int dfd, const char *rel, const struct pp_aw_file *f, struct pp_error **err)
{
	if (make_parents(dfd, rel, err) < 0)
		return -1;
	cleanup_close int fd =
	    openat(dfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pp_error_set(err, errno, "create %s", rel);
	const char *p = f->data;
	for (size_t off = 0; off < f->len;) {
		ssize_t w = write(fd, p + off, f->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return pp_error_set(err, errno, "write %s", rel);
		off += (size_t)w;
	}
	if (f->gid != 0 && fchown(fd, (uid_t)-1, f->gid) < 0)
		return pp_error_set(err, errno, "chown %s", rel);
	/* the mode as asked, whatever the umask (after chown, which clears setgid) */
	if (fchmod(fd, f->mode & 07777) < 0)
		return pp_error_set(err, errno, "chmod %s", rel);
	return 0;
}

/* A new "..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN" directory, as kubelet names them. */
static char *make_data_dir(int dfd, struct pp_error **err)
{
	for (int i = 0; i < AW_MKDIR_TRIES; i++) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		char stamp[64];
		strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S", &tm);
		char *name = xasprintf("%s.%09ld", stamp, ts.tv_nsec + i);
		if (mkdirat(dfd, name, AW_DIR_MODE) == 0) {
			/* the mode as asked, whatever the umask */
			if (fchmodat(dfd, name, AW_DIR_MODE, 0) == 0)
				return name;
			pp_error_set(err, errno, "chmod %s", name);
			unlinkat(dfd, name, AT_REMOVEDIR);
			free(name);
			return NULL;
		}
		int e = errno;
		free(name);
		if (e != EEXIST) {
			pp_error_set(err, e, "create data directory");
			return NULL;
		}
	}
	pp_error_set(err, EEXIST, "create data directory");
	return NULL;
}

static size_t top_len(const char *p)
{
	const char *slash = strchr(p, '/');
	return slash ? (size_t)(slash - p) : strlen(p);
}

/* kubelet's createUserVisibleFiles: NAME -> ..data/NAME for each top-level
 * name that has no entry yet. */
static int link_visible(int dfd, char **paths, struct pp_error **err)
{
	for (size_t i = 0; paths[i]; i++) {
		cleanup_free char *name = strndup(paths[i], top_len(paths[i]));
		cleanup_free char *target = xasprintf(PP_AW_DATA_DIR "/%s", name);
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (symlinkat(target, dfd, name) < 0 && errno != EEXIST)
			return pp_error_set(err, errno, "symlink %s", name);
	}
	return 0;
}

/* Is name a top-level name of paths? */
static bool has_top(char **paths, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; paths[i]; i++)
		if (top_len(paths[i]) == len && strncmp(paths[i], name, len) == 0)
			return true;
	return false;
}

/* kubelet's removeUserVisiblePaths: the top-level symlinks into ..data
 * whose name the new payload no longer has; and data directories other
 * than the current one (the old one, and any a crash left half-written). */
static void unlink_stale(const char *dir, int dfd, char **paths, const char *current)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	char **stale_dirs = xmalloc(sizeof(char *));
	size_t n_stale = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (strncmp(name, "..", 2) == 0 && name[2] >= '0' && name[2] <= '9' &&
		    strcmp(name, current) != 0) {
			stale_dirs = xrealloc(stale_dirs, sizeof(char *) * (n_stale + 2));
			stale_dirs[n_stale++] = xasprintf("%s/%s", dir, name);
			stale_dirs[n_stale] = NULL;
			continue;
		}
		if (strncmp(name, "..", 2) == 0 || strcmp(name, ".") == 0 || has_top(paths, name))
			continue;
		char target[PP_AW_MAX_NAME + sizeof(PP_AW_DATA_DIR) + 2];
		ssize_t len = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (len <= 0)
			continue; /* not a symlink: not one of ours */
		target[len] = '\0';
		if (strncmp(target, PP_AW_DATA_DIR "/", sizeof(PP_AW_DATA_DIR)) == 0)
			unlinkat(dfd, name, 0);
	}
	closedir(d);
	stale_dirs[n_stale] = NULL;
	for (size_t i = 0; i < n_stale; i++)
		pp_rm_rf(stale_dirs[i], NULL);
	strv_free(stale_dirs);
}

/* Writes the payload into a new data directory and switches ..data to it. */
static int switch_payload(const char *dir, int dfd, const char *old, const struct pp_aw_file *files,
			  char **paths, size_t n, struct pp_error **err)
{
	cleanup_free char *fresh = make_data_dir(dfd, err);
	if (fresh == NULL)
		return -1;
	cleanup_free char *fresh_path = xasprintf("%s/%s", dir, fresh);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *rel = xasprintf("%s/%s", fresh, paths[i]);
		if (write_one(dfd, rel, &files[i], err) < 0)
			goto fail;
	}
	/* the switch: one rename of a symlink over ..data */
	if (unlinkat(dfd, PP_AW_DATA_TMP, 0) < 0 && errno != ENOENT) {
		pp_error_set(err, errno, "remove %s", PP_AW_DATA_TMP);
		goto fail;
	}
	if (symlinkat(fresh, dfd, PP_AW_DATA_TMP) < 0) {
		pp_error_set(err, errno, "symlink %s", PP_AW_DATA_TMP);
		goto fail;
	}
	if (renameat(dfd, PP_AW_DATA_TMP, dfd, PP_AW_DATA_DIR) < 0) {
		pp_error_set(err, errno, "rename %s to %s", PP_AW_DATA_TMP, PP_AW_DATA_DIR);
		unlinkat(dfd, PP_AW_DATA_TMP, 0);
		goto fail;
	}
	if (link_visible(dfd, paths, err) < 0)
		return -1; /* the new data is in place: the next write retries */
	unlink_stale(dir, dfd, paths, fresh);
	if (old != NULL) { /* gone already, unless the sweep failed: say why */
		cleanup_free char *old_path = xasprintf("%s/%s", dir, old);
		if (pp_rm_rf(old_path, err) < 0)
			return pp_error_wrap(err, "remove old data directory");
	}
	return 0;
fail:
	pp_rm_rf(fresh_path, NULL);
	return -1;
}

static int write_at(const char *dir, int dfd, const struct pp_aw_file *files, size_t n,
		    bool *changed, struct pp_error **err)
{
	if (changed)
		*changed = false;
	cleanup_strv char **paths = NULL;
	if (clean_payload(files, n, &paths, err) < 0)
		return -1;
	cleanup_free char *old = current_data_dir(dfd);
	if (!payload_differs(dfd, old, files, paths, n))
		return link_visible(dfd, paths, err) < 0 ? pp_error_wrap(err, "%s", dir) : 0;
	if (switch_payload(dir, dfd, old, files, paths, n, err) < 0)
		return pp_error_wrap(err, "%s", dir);
	if (changed)
		*changed = true;
	return 0;
}

int pp_atomic_write(const char *dir, const struct pp_aw_file *files, size_t n, bool *changed,
		    struct pp_error **err)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (changed)
			*changed = false;
		return pp_error_set(err, errno, "open %s", dir);
	}
	return write_at(dir, dfd, files, n, changed, err);
}

int pp_atomic_write_fd(int dirfd, const struct pp_aw_file *files, size_t n, bool *changed,
		       struct pp_error **err)
{
	cleanup_free char *dir = xasprintf("/proc/self/fd/%d", dirfd);
	return write_at(dir, dirfd, files, n, changed, err);
}
