/* One tar entry of a layer applied to the layer's directory
 * (image/layer.h says how each kind lands). Every path is reached from the
 * layer's root fd: parents are opened with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, names created with *at() calls that do not follow a
 * final symlink, so no entry is ever written through a symlink. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/layer_internal.h"
#include "util/cleanup.h"

/* Directories a layer implies without an entry of their own ("a/b" before
 * or without "a/"): as containerd and tar make them. */
#define LAYER_IMPLICIT_DIR_MODE 0755
/* Modes while an entry is being written: nobody else's until it is done. */
#define LAYER_NEW_FILE_MODE 0600
#define LAYER_NEW_DIR_MODE 0700
#define LAYER_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
/* openat2 RESOLVE_BENEATH may fail with EAGAIN on a concurrent rename;
 * the man page asks callers to retry. */
#define LAYER_OPENAT2_RETRIES 32
/* Kept from the tar: the file type is ours to set. */
#define LAYER_MODE_BITS 07777
#define LAYER_ID_MAX 0xfffffffeLL /* (uid_t)-1 means "unchanged" to chown */
#define LAYER_COPY_BUF (64 * 1024)

void layer_warn(struct layer_unpack *u, const char *fmt, ...)
{
	struct pp_layer_result *res = u->res;
	if (res->n_warnings >= PP_LAYER_WARNINGS_MAX) {
		res->warnings_dropped++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *w = xvasprintf(fmt, ap);
	va_end(ap);
	res->warnings = xrealloc(res->warnings, (res->n_warnings + 2) * sizeof(char *));
	res->warnings[res->n_warnings++] = w;
	res->warnings[res->n_warnings] = NULL;
}

static int openat2_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = LAYER_RESOLVE};
	for (int i = 0; i < LAYER_OPENAT2_RETRIES; i++) {
		int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			return fd;
	}
	return -1;
}

static int parent_error(int e, const char *path, struct pp_error **err)
{
	if (e == ELOOP || e == EXDEV)
		return pp_error_set(err, e, "%s: a parent directory is a symlink of the layer",
				    path);
	if (e == ENOTDIR)
		return pp_error_set(err, e, "%s: a parent is not a directory", path);
	return pp_error_set(err, e, "%s: open the parent directory", path);
}

/* A directory the layer implies: 0755 whatever the umask. 0 when made or
 * already there. */
static int make_implicit_dir(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, LAYER_IMPLICIT_DIR_MODE) < 0)
		return errno == EEXIST ? 0 : -1;
	return fchmodat(dirfd, name, LAYER_IMPLICIT_DIR_MODE, 0);
}

/* Opens directory dir (normalized, not "") of the layer, O_PATH; creates
 * the missing components when create. */
static int open_dir(struct layer_unpack *u, const char *dir, bool create, struct pp_error **err)
{
	int fd = openat2_beneath(u->rootfd, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !create)
		return parent_error(errno, dir, err);
	cleanup_free char *copy = xstrdup(dir);
	cleanup_close int cur = openat(u->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return pp_error_set(err, errno, "open the layer's root");
	for (char *c = copy, *next; c != NULL; c = next) {
		next = strchr(c, '/');
		if (next != NULL)
			*next++ = '\0';
		if (make_implicit_dir(cur, c) < 0)
			return pp_error_set(err, errno, "%s: create the parent directory %s", dir,
					    c);
		int sub = openat2_beneath(cur, c, O_PATH | O_DIRECTORY);
		if (sub < 0)
			return parent_error(errno, dir, err);
		close(cur);
		cur = sub;
	}
	return steal_fd(&cur);
}

/* The parent directory of path (normalized, not ""), created when missing,
 * and in *base its last component. The fd is borrowed: valid until the next
 * call. */
static int open_parent(struct layer_unpack *u, const char *path, const char **base,
		       struct pp_error **err)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		*base = path;
		return u->rootfd;
	}
	*base = slash + 1;
	size_t len = (size_t)(slash - path);
	if (u->parent_path != NULL && strlen(u->parent_path) == len &&
	    memcmp(u->parent_path, path, len) == 0)
		return u->parent_fd;
	cleanup_free char *dir = strndup(path, len);
	if (dir == NULL)
		abort();
	int fd = open_dir(u, dir, true, err);
	if (fd < 0)
		return -1;
	free(u->parent_path);
	if (u->parent_fd >= 0)
		close(u->parent_fd);
	u->parent_path = steal_ptr(&dir);
	u->parent_fd = fd;
	return fd;
}

/* A directory removed may be the cached parent, or hold it. */
static void forget_parent(struct layer_unpack *u)
{
	free(u->parent_path);
	u->parent_path = NULL;
	if (u->parent_fd >= 0)
		close(u->parent_fd);
	u->parent_fd = -1;
}

/* rm -r of name in dirfd, never following a symlink. */
static int remove_tree(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
		return 0;
	if (errno != ENOTEMPTY)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	struct dirent *de;
	int ret = 0;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) < 0)
			ret = errno == EISDIR ? remove_tree(fd, de->d_name) : -1;
	}
	closedir(d);
	return ret < 0 ? -1 : unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* What an earlier entry left at base: removed (later wins) unless both are
 * directories. Returns 1 when a directory is kept, 0, or -1. */
static int clear_existing(struct layer_unpack *u, int parent, const char *base, bool dir,
			  const char *path, struct pp_error **err)
{
	struct stat st;
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "%s: stat", path);
	if (S_ISDIR(st.st_mode)) {
		if (dir)
			return 1;
		int r = remove_tree(parent, base);
		int e = errno;
		forget_parent(u); /* after: parent may be the cached fd */
		return r < 0 ? pp_error_set(err, e, "%s: remove the earlier directory", path) : 0;
	}
	if (unlinkat(parent, base, 0) < 0)
		return pp_error_set(err, errno, "%s: remove the earlier entry", path);
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Overlay's own xattrs (trusted.overlay.*, and user.overlay.* which a
 * userxattr mount reads) are never taken from an image. */
static bool xattr_allowed(const char *name)
{
	if (has_prefix(name, "trusted.overlay.") || has_prefix(name, "user.overlay."))
		return false;
	return has_prefix(name, "user.") || has_prefix(name, "security.") ||
	       has_prefix(name, "trusted.");
}

static int set_xattrs(struct layer_unpack *u, int fd, struct archive_entry *entry, const char *path,
		      struct pp_error **err)
{
	const char *name;
	const void *value;
	size_t size;
	u->A->archive_entry_xattr_reset(entry);
	while (u->A->archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
		if (!xattr_allowed(name)) {
			layer_warn(u, "%s: xattr %s skipped", path, name);
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		if (errno != ENOTSUP)
			return pp_error_set(err, errno, "%s: set xattr %s", path, name);
		layer_warn(u, "%s: xattr %s skipped: not supported here", path, name);
	}
	return 0;
}

static int entry_ids(struct layer_unpack *u, struct archive_entry *entry, uid_t *uid, gid_t *gid,
		     const char *path, struct pp_error **err)
{
	la_int64_t U = u->A->archive_entry_uid(entry), G = u->A->archive_entry_gid(entry);
	if (U < 0 || U > LAYER_ID_MAX || G < 0 || G > LAYER_ID_MAX)
		return pp_error_set(err, EINVAL, "%s: owner %lld:%lld out of range", path,
				    (long long)U, (long long)G);
	*uid = (uid_t)U;
	*gid = (gid_t)G;
	return 0;
}

static void entry_times(struct layer_unpack *u, struct archive_entry *entry, struct timespec ts[2])
{
	ts[0].tv_sec = ts[1].tv_sec = (time_t)u->A->archive_entry_mtime(entry);
	ts[0].tv_nsec = ts[1].tv_nsec = u->A->archive_entry_mtime_nsec(entry);
}

/* Owner, xattrs, mode (after chown, which clears setuid and setgid), times
 * unless a directory's (set last). */
static int set_metadata(struct layer_unpack *u, int fd, struct archive_entry *entry,
			const char *path, bool times, struct pp_error **err)
{
	uid_t uid;
	gid_t gid;
	if (entry_ids(u, entry, &uid, &gid, path, err) < 0)
		return -1;
	if (fchown(fd, uid, gid) < 0)
		return pp_error_set(err, errno, "%s: chown", path);
	if (set_xattrs(u, fd, entry, path, err) < 0)
		return -1;
	if (fchmod(fd, u->A->archive_entry_perm(entry) & LAYER_MODE_BITS) < 0)
		return pp_error_set(err, errno, "%s: chmod", path);
	struct timespec ts[2];
	entry_times(u, entry, ts);
	if (times && futimens(fd, ts) < 0)
		return pp_error_set(err, errno, "%s: set times", path);
	return 0;
}

static int write_all_at(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int copy_data(struct layer_unpack *u, int fd, struct archive_entry *entry, const char *path,
		     struct pp_error **err)
{
	const void *buf;
	size_t len;
	la_int64_t off, end = 0;
	int r;
	while ((r = u->A->archive_read_data_block(u->tar, &buf, &len, &off)) == ARCHIVE_OK) {
		if (write_all_at(fd, buf, len, off) < 0)
			return pp_error_set(err, errno, "%s: write", path);
		if (off + (la_int64_t)len > end)
			end = off + (la_int64_t)len;
	}
	if (r != ARCHIVE_EOF) {
		if (u->stream_err != NULL)
			return pp_error_set(err, u->stream_err->status, "%s", u->stream_err->msg);
		return pp_error_set(err, EBADMSG, "%s: %s", path,
				    u->A->archive_error_string(u->tar));
	}
	/* A sparse file's last hole has no block. */
	la_int64_t size = u->A->archive_entry_size(entry);
	if (size > end && ftruncate(fd, size) < 0)
		return pp_error_set(err, errno, "%s: truncate", path);
	return 0;
}

static int make_file(struct layer_unpack *u, int parent, const char *base,
		     struct archive_entry *entry, const char *path, struct pp_error **err)
{
	cleanup_close int fd =
	    openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		   LAYER_NEW_FILE_MODE);
	if (fd < 0)
		return pp_error_set(err, errno, "%s: create", path);
	if (copy_data(u, fd, entry, path, err) < 0)
		return -1;
	return set_metadata(u, fd, entry, path, true, err);
}

static int remember_dir_time(struct layer_unpack *u, const char *path, struct archive_entry *entry)
{
	if (u->n_dirs == u->cap_dirs) {
		u->cap_dirs = u->cap_dirs ? 2 * u->cap_dirs : 64;
		u->dirs = xrealloc(u->dirs, u->cap_dirs * sizeof(*u->dirs));
	}
	struct timespec ts[2];
	entry_times(u, entry, ts);
	u->dirs[u->n_dirs++] = (struct layer_dir_time){.path = xstrdup(path), .mtime = ts[1]};
	return 0;
}

/* A directory: made unless an earlier entry made it; its mtime is set last. */
static int make_dir(struct layer_unpack *u, int parent, const char *base,
		    struct archive_entry *entry, const char *path, bool exists,
		    struct pp_error **err)
{
	if (!exists && mkdirat(parent, base, LAYER_NEW_DIR_MODE) < 0)
		return pp_error_set(err, errno, "%s: mkdir", path);
	cleanup_close int fd =
	    openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "%s: open", path);
	if (set_metadata(u, fd, entry, path, false, err) < 0)
		return -1;
	return remember_dir_time(u, path, entry);
}

static int make_symlink(struct layer_unpack *u, int parent, const char *base,
			struct archive_entry *entry, const char *path, struct pp_error **err)
{
	const char *target = u->A->archive_entry_symlink(entry);
	if (target == NULL || target[0] == '\0')
		return pp_error_set(err, EINVAL, "%s: a symlink without a target", path);
	if (symlinkat(target, parent, base) < 0)
		return pp_error_set(err, errno, "%s: symlink", path);
	uid_t uid;
	gid_t gid;
	struct timespec ts[2];
	entry_times(u, entry, ts);
	if (entry_ids(u, entry, &uid, &gid, path, err) < 0)
		return -1;
	if (fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return pp_error_set(err, errno, "%s: chown", path);
	if (utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return pp_error_set(err, errno, "%s: set times", path);
	const char *name;
	const void *value;
	size_t size;
	u->A->archive_entry_xattr_reset(entry);
	if (u->A->archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK)
		layer_warn(u, "%s: xattrs of a symlink skipped", path);
	return 0;
}

/* A hardlink: its target must be an earlier entry of the layer (the
 * directory was empty), reached without a symlink either. */
static int make_hardlink(struct layer_unpack *u, int parent, const char *base, const char *link,
			 const char *path, struct pp_error **err)
{
	struct pp_layer_path t;
	pp_layer_path_classify(link, &t);
	if (t.action != PP_LAYER_PATH_ENTRY || t.path[0] == '\0')
		return pp_error_set(err, EINVAL, "%s: hardlink to %s: %s", path, link,
				    t.reason ? t.reason : "not a file of the layer");
	char *slash = strrchr(t.path, '/');
	const char *tbase = t.path;
	cleanup_close int tdir = -1;
	if (slash != NULL) {
		*slash = '\0';
		tbase = slash + 1;
		tdir = open_dir(u, t.path, false, err);
		if (tdir < 0)
			return pp_error_wrap(err, "%s: hardlink to %s", path, link);
	}
	if (linkat(tdir >= 0 ? tdir : u->rootfd, tbase, parent, base, 0) < 0)
		return pp_error_set(
		    err, errno, "%s: hardlink to %s (an earlier entry of the layer)", path, link);
	return 0;
}

static int make_fifo(struct layer_unpack *u, int parent, const char *base,
		     struct archive_entry *entry, const char *path, struct pp_error **err)
{
	if (mknodat(parent, base, S_IFIFO | LAYER_NEW_FILE_MODE, 0) < 0)
		return pp_error_set(err, errno, "%s: mkfifo", path);
	/* O_NONBLOCK: opening a fifo for reading would wait for a writer. */
	cleanup_close int fd = openat(parent, base, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "%s: open", path);
	return set_metadata(u, fd, entry, path, true, err);
}

static int make_whiteout(struct layer_unpack *u, const char *path, struct pp_error **err)
{
	const char *base;
	int parent = open_parent(u, path, &base, err);
	if (parent < 0 || clear_existing(u, parent, base, false, path, err) < 0)
		return -1;
	/* Re-opened: clearing may have dropped the cached parent. */
	parent = open_parent(u, path, &base, err);
	if (parent < 0)
		return -1;
	if (mknodat(parent, base, S_IFCHR, makedev(0, 0)) < 0)
		return pp_error_set(err, errno, "%s: make the whiteout", path);
	return 0;
}

static int make_opaque(struct layer_unpack *u, const char *path, struct pp_error **err)
{
	cleanup_close int fd = -1;
	if (path[0] == '\0') {
		fd = openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		const char *base;
		int parent = open_parent(u, path, &base, err);
		if (parent < 0)
			return -1;
		if (make_implicit_dir(parent, base) < 0)
			return pp_error_set(err, errno, "%s: mkdir", path);
		fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return pp_error_set(err, errno, "%s: open the opaque directory", path);
	if (fsetxattr(fd, PP_LAYER_OPAQUE_XATTR, "y", 1, 0) < 0)
		return pp_error_set(err, errno, "%s: set %s", path, PP_LAYER_OPAQUE_XATTR);
	return 0;
}

/* The root's own entry ("./"): its metadata only. */
static int apply_root(struct layer_unpack *u, struct archive_entry *entry, struct pp_error **err)
{
	if (u->A->archive_entry_filetype(entry) != AE_IFDIR ||
	    u->A->archive_entry_hardlink(entry) != NULL)
		return pp_error_set(err, EINVAL, "the layer's root entry is not a directory");
	cleanup_close int fd = openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open the layer's root");
	if (set_metadata(u, fd, entry, "./", false, err) < 0)
		return -1;
	return remember_dir_time(u, "", entry);
}

static int apply_node(struct layer_unpack *u, struct archive_entry *entry, const char *path,
		      struct pp_error **err)
{
	unsigned type = (unsigned)u->A->archive_entry_filetype(entry);
	const char *link = u->A->archive_entry_hardlink(entry);
	if (link == NULL && (type == AE_IFCHR || type == AE_IFBLK)) {
		layer_warn(u, "%s: device node skipped", path);
		return 0;
	}
	if (link == NULL && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK &&
	    type != AE_IFIFO) {
		layer_warn(u, "%s: entry of type 0%o skipped", path, type);
		return 0;
	}
	const char *base;
	int parent = open_parent(u, path, &base, err);
	if (parent < 0)
		return -1;
	bool dir = link == NULL && type == AE_IFDIR;
	int kept = clear_existing(u, parent, base, dir, path, err);
	if (kept < 0)
		return -1;
	parent = open_parent(u, path, &base, err);
	if (parent < 0)
		return -1;
	if (link != NULL)
		return make_hardlink(u, parent, base, link, path, err);
	switch (type) {
	case AE_IFREG:
		return make_file(u, parent, base, entry, path, err);
	case AE_IFDIR:
		return make_dir(u, parent, base, entry, path, kept == 1, err);
	case AE_IFLNK:
		return make_symlink(u, parent, base, entry, path, err);
	default:
		return make_fifo(u, parent, base, entry, path, err);
	}
}

int layer_apply_entry(struct layer_unpack *u, struct archive_entry *entry, struct pp_error **err)
{
	const char *name = u->A->archive_entry_pathname(entry);
	struct pp_layer_path p;
	pp_layer_path_classify(name, &p);
	switch (p.action) {
	case PP_LAYER_PATH_REFUSED:
		return pp_error_set(err, EINVAL, "%s: %s", name ? name : "(no name)", p.reason);
	case PP_LAYER_PATH_WHITEOUT:
		return make_whiteout(u, p.path, err);
	case PP_LAYER_PATH_OPAQUE:
		return make_opaque(u, p.path, err);
	case PP_LAYER_PATH_ENTRY:
	default:
		if (p.path[0] == '\0')
			return apply_root(u, entry, err);
		return apply_node(u, entry, p.path, err);
	}
}

int layer_apply_dir_times(struct layer_unpack *u, struct pp_error **err)
{
	/* In entry order: a directory given twice gets its last entry's time. */
	for (size_t i = 0; i < u->n_dirs; i++) {
		const struct layer_dir_time *d = &u->dirs[i];
		cleanup_close int fd =
		    d->path[0] == '\0'
			? openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			: openat2_beneath(u->rootfd, d->path, O_RDONLY | O_DIRECTORY);
		/* A later entry replaced it with something else: its own times stand. */
		if (fd < 0)
			continue;
		struct timespec ts[2] = {d->mtime, d->mtime};
		if (futimens(fd, ts) < 0)
			return pp_error_set(err, errno, "%s: set times",
					    d->path[0] ? d->path : "./");
	}
	return 0;
}

void layer_apply_release(struct layer_unpack *u)
{
	forget_parent(u);
	for (size_t i = 0; i < u->n_dirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	u->dirs = NULL;
	u->n_dirs = u->cap_dirs = 0;
}
