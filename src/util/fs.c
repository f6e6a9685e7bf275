#include "util/fs.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/dir.h"
#include "util/proc.h"

#define TRASH_DIR_MODE 0700
#define GROUPS_DIR_MODE 0700

/* path's parent, or NULL when there is none to make: "/x", "x". */
static char *parent_of(const char *path)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	char *slash = strrchr(p, '/');
	while (slash != NULL && slash > p && slash[-1] == '/')
		slash--;
	if (slash == NULL || slash == p) {
		free(p);
		return NULL;
	}
	*slash = '\0';
	return p;
}

/* From the leaf up: where the parent exists (nearly always) it is one
 * mkdir. A walk down from "/" takes the lock of every directory on the way
 * (an EEXIST is found under the parent's inode lock): "/", /tmp, /var/lib,
 * which every process making a file there takes too, and on a busy machine
 * each is a wait. */
int pp_mkdir_p(const char *path, mode_t mode, struct pp_error **err)
{
	int r = mkdir(path, mode);
	if (r < 0 && errno == ENOENT) {
		/* a missing parent: made first, then this one again */
		cleanup_free char *parent = parent_of(path);
		if (parent == NULL)
			return pp_error_set(err, ENOENT, "mkdir %s", path);
		if (pp_mkdir_p(parent, mode, err) < 0)
			return -1;
		r = mkdir(path, mode);
	}
	if (r == 0)
		return 0;
	if (errno != EEXIST)
		return pp_error_set(err, errno, "mkdir %s", path);
	/* there already: a directory (or a link to one)? */
	struct stat st;
	if (stat(path, &st) < 0)
		return pp_error_set(err, errno, "stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return pp_error_set(err, ENOTDIR, "%s", path);
	return 0;
}

/* Marks dir as the top of a hierarchy for the block allocator; false where
 * the file system has no such flag or it cannot be set. */
static bool mark_top(const char *dir)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int flags = 0;
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		return false;
	flags |= FS_TOPDIR_FL;
	return ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
}

int pp_mkdir_apart(const char *path, mode_t mode, struct pp_error **err)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return pp_error_set(err, ENOTDIR, "%s", path);
		return 0;
	}
	if (pp_mkdir_p(path, mode, err) < 0)
		return -1;
	/* by whoever made it or lost the race to: setting it twice is harmless */
	(void)mark_top(path);
	return 0;
}

/* The group a name's directory is made in: FNV-1a of the name. */
static unsigned group_of(const char *name)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 16777619u;
	return h % PP_GROUPS;
}

int pp_mkdir_grouped(const char *path, const char *groups_root, mode_t mode, bool exclusive,
		     struct pp_error **err)
{
	struct stat st;
	if (!exclusive && stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return pp_error_set(err, ENOTDIR, "%s", path);
		return 0;
	}
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	cleanup_free char *group = xasprintf("%s/%u", groups_root, group_of(name));
	cleanup_free char *made = xasprintf("%s/%s", group, name);
	int r = mkdir(made, mode);
	if (r < 0 && errno == ENOENT && pp_mkdir_apart(groups_root, GROUPS_DIR_MODE, NULL) == 0 &&
	    (mkdir(group, GROUPS_DIR_MODE) == 0 || errno == EEXIST))
		r = mkdir(made, mode);
	if (r == 0) {
		/* a rename keeps the inode, and with it the group */
		if (renameat2(AT_FDCWD, made, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
			return 0;
		int e = errno;
		rmdir(made);
		if (e == EEXIST && exclusive)
			return pp_error_set(err, EEXIST, "mkdir %s", path);
	}
	/* in place: the group could not be used (or gc took it meanwhile) */
	if (!exclusive)
		return pp_mkdir_p(path, mode, err);
	if (mkdir(path, mode) < 0)
		return pp_error_set(err, errno, "mkdir %s", path);
	return 0;
}

int pp_sweep_groups(const char *groups_root, int min_age_s, int *removed, struct pp_error **err)
{
	int ret = 0;
	time_t now = time(NULL);
	for (unsigned k = 0; k < PP_GROUPS; k++) {
		cleanup_free char *group = xasprintf("%s/%u", groups_root, k);
		cleanup_dir struct pp_dir d = PP_DIR_INIT;
		if (pp_dir_open(&d, group, PP_DIR_MISSING_OK, ret < 0 ? NULL : err) < 0) {
			ret = -1;
			continue;
		}
		struct dirent *de;
		int r;
		while ((r = pp_dir_next(&d, &de, NULL)) > 0) {
			cleanup_free char *path = xasprintf("%s/%s", group, de->d_name);
			struct stat st;
			if (lstat(path, &st) < 0 || now - st.st_ctime < min_age_s)
				continue;
			if (pp_rm_rf(path, ret < 0 ? NULL : err) < 0)
				ret = -1;
			else
				(*removed)++;
		}
	}
	return ret;
}

/* Removes everything below dirfd (which is on device dev). */
static int rm_rf_at(int dirfd, dev_t dev, const char *path, struct pp_error **err)
{
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open_fd(&d, dirfd, path, err) < 0)
		return -1;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return pp_error_set(err, errno, "stat %s/%s", path, de->d_name);
		}
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != dev)
				return pp_error_set(err, EBUSY, "%s/%s is a mount point", path,
						    de->d_name);
			int fd = openat(dirfd, de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 && errno == ENOENT)
				continue; /* removed meanwhile (a trash child, gc) */
			if (fd < 0)
				return pp_error_set(err, errno, "open %s/%s", path, de->d_name);
			cleanup_free char *sub = xasprintf("%s/%s", path, de->d_name);
			if (rm_rf_at(fd, dev, sub, err) < 0)
				return -1;
			if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				return pp_error_set(err, errno, "rmdir %s", sub);
		} else if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
			return pp_error_set(err, errno, "unlink %s/%s", path, de->d_name);
		}
	}
	return r;
}

int pp_rm_rf(const char *path, struct pp_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return pp_error_set(err, errno, "stat %s", path);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return pp_error_set(err, errno, "unlink %s", path);
		return 0;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* removed meanwhile */
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	if (rm_rf_at(fd, st.st_dev, path, err) < 0)
		return -1;
	if (rmdir(path) < 0 && errno != ENOENT)
		return pp_error_set(err, errno, "rmdir %s", path);
	return 0;
}

static int write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool exchange,
			struct pp_error **err)
{
	cleanup_free char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return pp_error_set(err, errno, "create %s", tmp);
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			unlink(tmp);
			return pp_error_set(err, e, "write %s", tmp);
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, mode) < 0) {
		int e = errno;
		unlink(tmp);
		return pp_error_set(err, e, "write %s", path);
	}
	/* Exchanged, the old file (now at tmp) is unlinked: ext4 writes a
	 * file renamed over another back at once (auto_da_alloc), not one
	 * exchanged with it. A first write, or a filesystem without
	 * RENAME_EXCHANGE, renames. */
	if (exchange && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		unlink(tmp);
		return 0;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return pp_error_set(err, e, "write %s", path);
	}
	return 0;
}

int pp_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct pp_error **err)
{
	return write_atomic(path, data, len, mode, false, err);
}

int pp_write_file_volatile(const char *path, const void *data, size_t len, mode_t mode,
			   struct pp_error **err)
{
	return write_atomic(path, data, len, mode, true, err);
}

int pp_read_fd(int fd, size_t max, char **out, size_t *len, struct pp_error **err)
{
	size_t cap = 4096, n = 0;
	cleanup_free char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max)
				return pp_error_set(err, EFBIG, "more than %zu bytes", max);
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return pp_error_set(err, errno, "read");
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = steal_ptr(&buf);
	if (len)
		*len = n;
	return 0;
}

int pp_read_file(const char *path, size_t max, char **out, size_t *len, struct pp_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	if (pp_read_fd(fd, max, out, len, err) < 0)
		return pp_error_wrap(err, "%s", path);
	return 0;
}

/* Closes fds (the caller's copies), then lets the child know: its own are
 * the last references from then on. */
static void hand_over_fds(int *fds, size_t n_fds, int *sync)
{
	for (size_t i = 0; i < n_fds; i++)
		cleanup_closep(&fds[i]);
	cleanup_closep(&sync[1]);
	cleanup_closep(&sync[0]);
}

static int discard(const char *const *dirs, const char *const *trashes, size_t n, int *fds,
		   size_t n_fds, struct pp_error **err)
{
	int ret = 0, sync[2] = {-1, -1};
	bool moved[PP_DISCARD_MAX] = {false}, any = false;
	if (n > PP_DISCARD_MAX) {
		hand_over_fds(fds, n_fds, sync);
		return pp_error_set(err, E2BIG, "%zu directories to discard", n);
	}
	if (n_fds > PP_DISCARD_MAX_FDS) {
		hand_over_fds(fds + PP_DISCARD_MAX_FDS, n_fds - PP_DISCARD_MAX_FDS, sync);
		n_fds = PP_DISCARD_MAX_FDS; /* the others let go of here */
	}
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *trash_root = xstrdup(trashes[i]);
		char *slash = strrchr(trash_root, '/');
		if (slash != NULL && slash != trash_root)
			*slash = '\0';
		if ((mkdir(trash_root, TRASH_DIR_MODE) == 0 || errno == EEXIST) &&
		    rename(dirs[i], trashes[i]) == 0)
			moved[i] = any = true;
		else if (errno != ENOENT && pp_rm_rf(dirs[i], ret < 0 ? NULL : err) < 0)
			ret = -1;
	}
	size_t held = 0;
	for (size_t i = 0; i < n_fds; i++)
		held += fds[i] >= 0;
	if (held > 0 && pipe2(sync, O_CLOEXEC) < 0)
		held = 0; /* then closed here, below */
	/* one child for all of them */
	pid_t pid = any || held > 0 ? fork() : 1;
	if (pid == 0) {
		prctl(PR_SET_NAME, "peapod-rm", 0, 0, 0);
		pp_stdio_to_devnull();
		int keep[PP_DISCARD_MAX_FDS + 1];
		size_t n_keep = 0;
		for (size_t i = 0; held > 0 && i < n_fds; i++)
			if (fds[i] >= 0)
				keep[n_keep++] = fds[i];
		if (held > 0) {
			keep[n_keep++] = sync[0];
			pp_close_fds_except_n(keep, n_keep);
			/* EOF once the parent closed its copies: ours are the last */
			char c;
			while (read(sync[0], &c, 1) < 0 && errno == EINTR)
				;
		}
		pp_close_fds_except(-1);
		int failed = 0;
		for (size_t i = 0; i < n; i++)
			if (moved[i] && pp_rm_rf(trashes[i], NULL) < 0)
				failed = 1;
		_exit(failed);
	}
	hand_over_fds(fds, n_fds, sync);
	for (size_t i = 0; pid < 0 && i < n; i++)
		if (moved[i] && pp_rm_rf(trashes[i], ret < 0 ? NULL : err) < 0)
			ret = -1;
	return ret;
}

int pp_discard_dirs(const char *const *dirs, const char *const *trashes, size_t n,
		    struct pp_error **err)
{
	return discard(dirs, trashes, n, NULL, 0, err);
}

int pp_discard_dirs_after(const char *const *dirs, const char *const *trashes, size_t n, int *fds,
			  size_t n_fds, struct pp_error **err)
{
	return discard(dirs, trashes, n, fds, n_fds, err);
}

int pp_discard_dir_after(const char *dir, const char *trash, int *fds, size_t n_fds,
			 struct pp_error **err)
{
	return discard(&dir, &trash, 1, fds, n_fds, err);
}

int pp_discard_dir(const char *dir, const char *trash, struct pp_error **err)
{
	return pp_discard_dirs(&dir, &trash, 1, err);
}

int pp_empty_trash(const char *trash_root, int *removed, struct pp_error **err)
{
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, trash_root, PP_DIR_MISSING_OK, err) < 0)
		return -1;
	int ret = 0, r;
	struct dirent *de;
	while ((r = pp_dir_next(&d, &de, ret < 0 ? NULL : err)) > 0) {
		cleanup_free char *path = xasprintf("%s/%s", trash_root, de->d_name);
		if (pp_rm_rf(path, ret < 0 ? NULL : err) < 0)
			ret = -1;
		else
			(*removed)++;
	}
	return r < 0 ? -1 : ret;
}
