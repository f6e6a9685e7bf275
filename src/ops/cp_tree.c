/* The copy `peapod cp` makes between a container's tree and the host's, with
 * plain syscalls relative to directory fds (no tar, no process in the
 * container): everything opened with O_NOFOLLOW from its parent. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ops/cp_internal.h"
#include "util/cleanup.h"
#include "util/copy_tree.h"
#include "util/dir.h"

#define CP_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Owner (chown clears set-id bits: before the mode), mode, times. fd may be
 * -1: the entry is then changed by name, a symlink not followed. */
static int apply_meta(const struct cp_tree *t, int ddir, const char *name, int fd,
		      const struct stat *st, const char *rel, struct pp_error **err)
{
	const struct timespec times[2] = {st->st_atim, st->st_mtim};
	int r = 0;
	if (t->set_owner)
		r = fd >= 0 ? fchown(fd, t->uid, t->gid)
			    : fchownat(ddir, name, t->uid, t->gid, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return pp_error_set(err, errno, "chown %s", rel);
	if (!S_ISLNK(st->st_mode)) {
		mode_t mode = st->st_mode & 07777;
		if (t->drop_setid && !S_ISDIR(st->st_mode))
			mode &= ~(mode_t)(S_ISUID | S_ISGID);
		/* by name: never through a symlink swapped in meanwhile */
		r = fd >= 0 ? fchmod(fd, mode) : fchmodat(ddir, name, mode, AT_SYMLINK_NOFOLLOW);
		if (r < 0)
			return pp_error_set(err, errno, "chmod %s", rel);
	}
	r = fd >= 0 ? futimens(fd, times) : utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return pp_error_set(err, errno, "set the times of %s", rel);
	return 0;
}

/* make(ddir, dname) once more after removing what is in the way, unless it
 * is a directory (tar and cp replace files, never directories). */
static int replace_in_way(int ddir, const char *dname, const char *rel, struct pp_error **err)
{
	struct stat st;
	if (fstatat(ddir, dname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return pp_error_set(err, EISDIR, "cannot overwrite directory with non-directory %s",
				    rel);
	if (unlinkat(ddir, dname, 0) < 0 && errno != ENOENT)
		return pp_error_set(err, errno, "replace %s", rel);
	return 0;
}

static int copy_file(const struct cp_tree *t, int sdir, const char *sname, int ddir,
		     const char *dname, const struct stat *st, const char *rel,
		     struct pp_error **err)
{
	/* O_NONBLOCK: a fifo swapped in since the stat must not block us */
	cleanup_close int sfd = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat now;
	if (sfd < 0)
		return pp_error_set(err, errno, "open %s", rel);
	if (fstat(sfd, &now) < 0 || !S_ISREG(now.st_mode))
		return pp_error_set(err, EAGAIN, "%s changed while copied", rel);
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	cleanup_close int dfd = openat(ddir, dname, flags, S_IRUSR | S_IWUSR);
	if (dfd < 0 && errno == EEXIST) {
		if (replace_in_way(ddir, dname, rel, err) < 0)
			return -1;
		dfd = openat(ddir, dname, flags, S_IRUSR | S_IWUSR);
	}
	if (dfd < 0)
		return pp_error_set(err, errno, "create %s", rel);
	if (pp_copy_data(sfd, dfd, rel, err) < 0)
		return -1;
	return apply_meta(t, ddir, dname, dfd, st, rel, err);
}

static int make_special(int sdir, const char *sname, int ddir, const char *dname,
			const struct stat *st)
{
	if (S_ISFIFO(st->st_mode))
		return mkfifoat(ddir, dname, S_IRUSR | S_IWUSR);
	cleanup_free char *target = xmalloc((size_t)st->st_size + 2);
	ssize_t n = readlinkat(sdir, sname, target, (size_t)st->st_size + 1);
	if (n < 0)
		return -1;
	if (n > st->st_size) {
		errno = ENAMETOOLONG; /* it changed under us */
		return -1;
	}
	target[n] = '\0';
	return symlinkat(target, ddir, dname);
}

static int copy_special(const struct cp_tree *t, int sdir, const char *sname, int ddir,
			const char *dname, const struct stat *st, const char *rel,
			struct pp_error **err)
{
	int r = make_special(sdir, sname, ddir, dname, st);
	if (r < 0 && errno == EEXIST) {
		if (replace_in_way(ddir, dname, rel, err) < 0)
			return -1;
		r = make_special(sdir, sname, ddir, dname, st);
	}
	if (r < 0)
		return pp_error_set(err, errno, "%s %s",
				    S_ISLNK(st->st_mode) ? "symlink" : "mkfifo", rel);
	return apply_meta(t, ddir, dname, -1, st, rel, err);
}

/* /proc and /sys are the kernel's views, not files: a copy of / gets them as
 * empty directories, as the container's runtime would mount them again. */
static bool kernel_fs(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 &&
	       (sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC ||
		sf.f_type == CGROUP2_SUPER_MAGIC);
}

static int copy_dir(const struct cp_tree *t, int sdir, const char *sname, int ddir,
		    const char *dname, const struct stat *st, const char *rel,
		    struct pp_error **err)
{
	if (mkdirat(ddir, dname, S_IRWXU) < 0) {
		struct stat dst;
		if (errno != EEXIST)
			return pp_error_set(err, errno, "mkdir %s", rel);
		if (fstatat(ddir, dname, &dst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(dst.st_mode))
			return pp_error_set(
			    err, ENOTDIR, "cannot overwrite non-directory with directory %s", rel);
	}
	cleanup_close int dfd = openat(ddir, dname, CP_DIR_FLAGS);
	if (dfd < 0)
		return pp_error_set(err, errno, "open %s", rel);
	int sfd = openat(sdir, sname, CP_DIR_FLAGS);
	if (sfd < 0)
		return pp_error_set(err, errno, "open %s", rel);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	bool skip_content = kernel_fs(sfd);
	if (pp_dir_open_fd(&d, sfd, rel, err) < 0)
		return -1;
	struct dirent *de;
	int r = 0;
	while (!skip_content && (r = pp_dir_next(&d, &de, err)) > 0) {
		cleanup_free char *sub = xasprintf("%s/%s", rel, de->d_name);
		if (cp_tree_copy(t, pp_dir_fd(&d), de->d_name, dfd, de->d_name, sub, err) < 0)
			return -1;
	}
	if (!skip_content && r < 0)
		return -1;
	return apply_meta(t, ddir, dname, dfd, st, rel, err);
}

int cp_tree_copy(const struct cp_tree *t, int sdir, const char *sname, int ddir, const char *dname,
		 const char *rel, struct pp_error **err)
{
	struct stat st;
	if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return pp_error_set(err, errno, "%s", rel);
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		return copy_dir(t, sdir, sname, ddir, dname, &st, rel, err);
	case S_IFREG:
		return copy_file(t, sdir, sname, ddir, dname, &st, rel, err);
	case S_IFLNK:
	case S_IFIFO:
		return copy_special(t, sdir, sname, ddir, dname, &st, rel, err);
	default:
		if (t->on_skip != NULL)
			t->on_skip(t->ctx, rel,
				   S_ISSOCK(st.st_mode) ? "socket ignored" : "device ignored");
		return 0;
	}
}
