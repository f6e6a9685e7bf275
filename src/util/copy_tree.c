/* Copies a directory tree, like `cp -a --one-file-system`: everything is
 * opened relative to its parent fd with O_NOFOLLOW, so a symlink in the
 * source is copied as a symlink and never followed out of the tree. */
#include <fcntl.h>
#include <search.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "util/copy_tree.h"
#include "util/mem.h"
#include "util/cleanup.h"
#include "util/dir.h"

#define COPY_BUF_SIZE (64 * 1024)
#define XATTR_LIST_MAX_SIZE (64 * 1024)
#define XATTR_VALUE_MAX_SIZE (64 * 1024)
#define OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path; /* relative to the destination root */
};

struct copy_ctx {
	int dst_root;  /* fd of the destination root, for linkat */
	dev_t src_dev; /* mount points below the source are not descended */
	void *links;   /* tsearch tree of struct hardlink */
};

static int hardlink_cmp(const void *a, const void *b)
{
	const struct hardlink *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

static void hardlink_free(void *p)
{
	struct hardlink *h = p;
	free(h->path);
	free(h);
}

/* Best effort: file systems differ in which namespaces they accept. */
static void copy_xattrs(int sfd, int dfd)
{
	cleanup_free char *names = xmalloc_buffer(XATTR_LIST_MAX_SIZE);
	cleanup_free char *value = xmalloc_buffer(XATTR_VALUE_MAX_SIZE);
	ssize_t len = flistxattr(sfd, names, XATTR_LIST_MAX_SIZE);
	for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(names + off) + 1) {
		ssize_t vlen = fgetxattr(sfd, names + off, value, XATTR_VALUE_MAX_SIZE);
		if (vlen >= 0)
			(void)fsetxattr(dfd, names + off, value, (size_t)vlen, 0);
	}
}

/* Owner, then mode (chown clears set-id bits), then times. fd may be -1. */
static int apply_meta(int ddir, const char *name, int fd, const struct stat *st, const char *rel,
		      struct pp_error **err)
{
	const struct timespec times[2] = {st->st_atim, st->st_mtim};
	int r = fd >= 0 ? fchown(fd, st->st_uid, st->st_gid)
			: fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
	/* An unprivileged import keeps the importer as owner. */
	if (r < 0 && !(errno == EPERM && geteuid() != 0))
		return pp_error_set(err, errno, "chown %s", rel);
	if (!S_ISLNK(st->st_mode)) {
		r = fd >= 0 ? fchmod(fd, st->st_mode & ALLPERMS)
			    : fchmodat(ddir, name, st->st_mode & ALLPERMS, 0);
		if (r < 0)
			return pp_error_set(err, errno, "chmod %s", rel);
	}
	r = fd >= 0 ? futimens(fd, times) : utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return pp_error_set(err, errno, "set times of %s", rel);
	return 0;
}

int pp_copy_data(int sfd, int dfd, const char *rel, struct pp_error **err)
{
	ssize_t n;
	/* copy_file_range shares extents where it can; not all fs pairs support it. */
	while ((n = copy_file_range(sfd, NULL, dfd, NULL, COPY_BUF_SIZE, 0)) > 0)
		;
	if (n == 0)
		return 0;
	if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
		return pp_error_set(err, errno, "copy %s", rel);
	cleanup_free char *buf = xmalloc_buffer(COPY_BUF_SIZE);
	while ((n = read(sfd, buf, COPY_BUF_SIZE)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pp_error_set(err, errno, "read %s", rel);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(dfd, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				return pp_error_set(err, errno, "write %s", rel);
			off += w > 0 ? w : 0;
		}
	}
	return 0;
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st, const char *rel,
		     struct pp_error **err)
{
	cleanup_close int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return pp_error_set(err, errno, "open %s", rel);
	cleanup_close int dfd = openat(
	    ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
	if (dfd < 0)
		return pp_error_set(err, errno, "create %s", rel);
	if (pp_copy_data(sfd, dfd, rel, err) < 0 || apply_meta(ddir, name, dfd, st, rel, err) < 0)
		return -1;
	/* After chown, which drops security.capability. */
	copy_xattrs(sfd, dfd);
	return 0;
}

static int copy_special(int sdir, int ddir, const char *name, const struct stat *st,
			const char *rel, struct pp_error **err)
{
	if (S_ISLNK(st->st_mode)) {
		cleanup_free char *target = xmalloc((size_t)st->st_size + 1);
		ssize_t n = readlinkat(sdir, name, target, (size_t)st->st_size + 1);
		if (n < 0 || n > st->st_size)
			return pp_error_set(err, n < 0 ? errno : ENAMETOOLONG, "readlink %s", rel);
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return pp_error_set(err, errno, "symlink %s", rel);
	} else if (mknodat(ddir, name, (st->st_mode & S_IFMT) | S_IRUSR | S_IWUSR, st->st_rdev) <
		   0) {
		return pp_error_set(err, errno, "mknod %s", rel);
	}
	return apply_meta(ddir, name, -1, st, rel, err);
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *rel, struct pp_error **err);

static int copy_subdir(struct copy_ctx *c, int sdir, int ddir, const char *name,
		       const struct stat *st, const char *rel, struct pp_error **err)
{
	if (mkdirat(ddir, name, S_IRWXU) < 0)
		return pp_error_set(err, errno, "mkdir %s", rel);
	cleanup_close int sfd = openat(sdir, name, OPEN_DIR_FLAGS);
	if (sfd < 0)
		return pp_error_set(err, errno, "open %s", rel);
	cleanup_close int dfd = openat(ddir, name, OPEN_DIR_FLAGS);
	if (dfd < 0)
		return pp_error_set(err, errno, "open %s", rel);
	if (st->st_dev == c->src_dev && copy_dir(c, sfd, dfd, rel, err) < 0)
		return -1;
	/* Metadata last, so that a read-only directory can still be filled. */
	if (apply_meta(ddir, name, dfd, st, rel, err) < 0)
		return -1;
	copy_xattrs(sfd, dfd);
	return 0;
}

/* Links to an already copied inode; returns 1 when done that way. */
static int link_known(struct copy_ctx *c, int ddir, const char *name, const struct stat *st,
		      const char *rel, struct pp_error **err)
{
	if (st->st_nlink < 2)
		return 0;
	struct hardlink key = {.dev = st->st_dev, .ino = st->st_ino};
	struct hardlink **found = tfind(&key, &c->links, hardlink_cmp);
	if (found != NULL) {
		if (linkat(c->dst_root, (*found)->path, ddir, name, 0) < 0)
			return pp_error_set(err, errno, "link %s", rel);
		return 1;
	}
	struct hardlink *h = xmalloc(sizeof(*h));
	*h = (struct hardlink){.dev = st->st_dev, .ino = st->st_ino, .path = xstrdup(rel)};
	if (tsearch(h, &c->links, hardlink_cmp) == NULL)
		abort();
	return 0;
}

static int copy_entry(struct copy_ctx *c, int sdir, int ddir, const char *name, const char *rel,
		      struct pp_error **err)
{
	struct stat st;
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return pp_error_set(err, errno, "stat %s", rel);
	if (S_ISDIR(st.st_mode))
		return copy_subdir(c, sdir, ddir, name, &st, rel, err);
	int linked = link_known(c, ddir, name, &st, rel, err);
	if (linked != 0)
		return linked < 0 ? -1 : 0;
	if (S_ISREG(st.st_mode))
		return copy_file(sdir, ddir, name, &st, rel, err);
	return copy_special(sdir, ddir, name, &st, rel, err);
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *rel, struct pp_error **err)
{
	int iter = dup(sfd);
	if (iter < 0)
		return pp_error_set(err, errno, "dup");
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open_fd(&d, iter, rel, err) < 0)
		return -1;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		cleanup_free char *sub =
		    *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		if (copy_entry(c, sfd, dfd, de->d_name, sub, err) < 0)
			return -1;
	}
	return r;
}

int pp_copy_tree_at(int src_fd, int dst_fd, const char *what, struct pp_error **err)
{
	struct stat st;
	if (fstat(src_fd, &st) < 0)
		return pp_error_set(err, errno, "stat %s", what);
	cleanup_close int sfd = openat(src_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int dfd = openat(dst_fd, ".", OPEN_DIR_FLAGS);
	if (sfd < 0 || dfd < 0)
		return pp_error_set(err, errno, "open %s", what);
	struct copy_ctx c = {.dst_root = dfd, .src_dev = st.st_dev, .links = NULL};
	int ret = copy_dir(&c, sfd, dfd, "", err);
	if (ret == 0)
		ret = apply_meta(dfd, ".", dfd, &st, "/", err);
	if (ret == 0)
		copy_xattrs(sfd, dfd);
	tdestroy(c.links, hardlink_free);
	if (ret < 0)
		return pp_error_wrap(err, "copy %s", what);
	return 0;
}

int pp_copy_tree(const char *src, const char *dst, struct pp_error **err)
{
	/* The source root itself may be a symlink the user named; follow it. */
	cleanup_close int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return pp_error_set(err, errno, "open %s", src);
	cleanup_close int dfd = open(dst, OPEN_DIR_FLAGS);
	if (dfd < 0)
		return pp_error_set(err, errno, "open %s", dst);
	return pp_copy_tree_at(sfd, dfd, src, err);
}
