/* A stored layer's tree written back as a tar (image save, for a layer
 * without a tar-split record): deterministic (names sorted, numeric owners,
 * mtimes in seconds, pax headers only where ustar cannot say it), and the
 * overlay forms turned back into the image spec's: a 0/0 character device
 * is the whiteout ".wh.NAME", a directory marked trusted.overlay.opaque
 * gets a ".wh..wh..opq" entry; a hardlinked file is written once, then as
 * links; xattrs (security.capability among them) in pax headers, overlay
 * ones never. The result differs from the tar the layer came as, so its
 * digest is a new diff ID. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive_api.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "util/cleanup.h"

#define LAYER_TAR_BUF (256 * 1024)
#define LAYER_TAR_XATTR_LIST_MAX 65536
#define LAYER_TAR_XATTR_VALUE_MAX 65536
#define LAYER_TAR_DEPTH_MAX 256

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct layer_tar {
	const struct pp_archive_api *A;
	struct archive *a;
	const char *tree;
	struct link_seen *links;
	size_t n_links;
	char *buf;
};

static int tar_fail(struct layer_tar *t, const char *path, struct pp_error **err)
{
	const char *e = t->A->archive_error_string(t->a);
	return pp_error_set(err, EIO, "%s: %s", path, e ? e : "write failed");
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The xattrs of tree/rel an image may carry. */
static void add_xattrs(struct layer_tar *t, struct archive_entry *e, const char *rel)
{
	cleanup_free char *path = xasprintf("%s/%s", t->tree, rel);
	cleanup_free char *names = xmalloc(LAYER_TAR_XATTR_LIST_MAX);
	cleanup_free char *value = xmalloc(LAYER_TAR_XATTR_VALUE_MAX);
	ssize_t len = llistxattr(path, names, LAYER_TAR_XATTR_LIST_MAX);
	if (len <= 0)
		return;
	/* the list in sorted order: the same tree, the same bytes */
	size_t n = 0;
	cleanup_free char **v = xmalloc((size_t)len * sizeof(*v));
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1)
		v[n++] = names + off;
	qsort(v, n, sizeof(*v), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(v[i], "trusted.overlay.", 16) == 0 ||
		    strncmp(v[i], "user.overlay.", 13) == 0)
			continue;
		ssize_t vlen = lgetxattr(path, v[i], value, LAYER_TAR_XATTR_VALUE_MAX);
		if (vlen >= 0)
			t->A->archive_entry_xattr_add_entry(e, v[i], value, (size_t)vlen);
	}
}

static bool is_opaque(struct layer_tar *t, const char *rel)
{
	cleanup_free char *path = xasprintf("%s/%s", t->tree, rel);
	char v[2];
	return lgetxattr(path, PP_LAYER_OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

static struct archive_entry *entry_of(struct layer_tar *t, const char *name, const struct stat *st)
{
	const struct pp_archive_api *A = t->A;
	struct archive_entry *e = A->archive_entry_new();
	if (e == NULL)
		abort();
	A->archive_entry_set_pathname(e, name);
	A->archive_entry_set_perm(e, st->st_mode & 07777);
	A->archive_entry_set_uid(e, st->st_uid);
	A->archive_entry_set_gid(e, st->st_gid);
	A->archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
	return e;
}

/* An empty regular file entry: a whiteout or an opaque mark. */
static int put_marker(struct layer_tar *t, const char *name, const struct stat *st,
		      struct pp_error **err)
{
	struct archive_entry *e = entry_of(t, name, st);
	t->A->archive_entry_set_filetype(e, AE_IFREG);
	t->A->archive_entry_set_size(e, 0);
	int r = t->A->archive_write_header(t->a, e);
	t->A->archive_entry_free(e);
	return r < ARCHIVE_WARN ? tar_fail(t, name, err) : 0;
}

static int put_data(struct layer_tar *t, int dirfd, const char *base, const char *rel,
		    struct pp_error **err)
{
	cleanup_close int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", rel);
	ssize_t n;
	while ((n = read(fd, t->buf, LAYER_TAR_BUF)) > 0)
		if (t->A->archive_write_data(t->a, t->buf, (size_t)n) < 0)
			return tar_fail(t, rel, err);
	return n < 0 ? pp_error_set(err, errno, "read %s", rel) : 0;
}

/* The first path of a hardlinked inode, or NULL (then noted). */
static const char *link_target(struct layer_tar *t, const struct stat *st, const char *rel)
{
	for (size_t i = 0; i < t->n_links; i++)
		if (t->links[i].dev == st->st_dev && t->links[i].ino == st->st_ino)
			return t->links[i].path;
	t->links = xrealloc(t->links, (t->n_links + 1) * sizeof(*t->links));
	t->links[t->n_links++] = (struct link_seen){st->st_dev, st->st_ino, xstrdup(rel)};
	return NULL;
}

static int put_tree(struct layer_tar *t, int dirfd, const char *prefix, int depth,
		    struct pp_error **err);

static int put_one(struct layer_tar *t, int dirfd, const char *base, const char *rel, int depth,
		   struct pp_error **err)
{
	const struct pp_archive_api *A = t->A;
	struct stat st;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return pp_error_set(err, errno, "stat %s", rel);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		const char *slash = strrchr(rel, '/');
		cleanup_free char *wh = xasprintf("%.*s%s%s", slash ? (int)(slash - rel + 1) : 0,
						  rel, PP_LAYER_WHITEOUT_PREFIX, base);
		return put_marker(t, wh, &st, err);
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) &&
	    !S_ISFIFO(st.st_mode))
		return 0; /* a layer holds no devices (the unpacker skips them) */
	cleanup_free char *name = S_ISDIR(st.st_mode) ? xasprintf("%s/", rel) : xstrdup(rel);
	struct archive_entry *e = entry_of(t, name, &st);
	const char *target = NULL;
	char link[PATH_MAX];
	A->archive_entry_set_filetype(e, st.st_mode & S_IFMT);
	if (S_ISREG(st.st_mode) && st.st_nlink > 1)
		target = link_target(t, &st, rel);
	if (target != NULL) {
		A->archive_entry_set_hardlink(e, target);
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dirfd, base, link, sizeof(link) - 1);
		if (n < 0) {
			A->archive_entry_free(e);
			return pp_error_set(err, errno, "readlink %s", rel);
		}
		link[n] = '\0';
		A->archive_entry_set_symlink(e, link);
	} else if (S_ISREG(st.st_mode)) {
		A->archive_entry_set_size(e, st.st_size);
	}
	if (target == NULL)
		add_xattrs(t, e, rel);
	int r = A->archive_write_header(t->a, e);
	A->archive_entry_free(e);
	if (r < ARCHIVE_WARN)
		return tar_fail(t, rel, err);
	if (S_ISREG(st.st_mode) && target == NULL && st.st_size > 0 &&
	    put_data(t, dirfd, base, rel, err) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (is_opaque(t, rel)) {
		cleanup_free char *opq = xasprintf("%s/%s", rel, PP_LAYER_OPAQUE_NAME);
		if (put_marker(t, opq, &st, err) < 0)
			return -1;
	}
	cleanup_close int sub =
	    openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return pp_error_set(err, errno, "open %s", rel);
	return put_tree(t, sub, rel, depth + 1, err);
}

static int put_tree(struct layer_tar *t, int dirfd, const char *prefix, int depth,
		    struct pp_error **err)
{
	if (depth > LAYER_TAR_DEPTH_MAX)
		return pp_error_set(err, ELOOP, "%s: nested too deep", prefix);
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return pp_error_set(err, errno, "read %s", prefix[0] ? prefix : "/");
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			image_strv_append(&names, &n, de->d_name);
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		cleanup_free char *rel =
		    prefix[0] ? xasprintf("%s/%s", prefix, names[i]) : xstrdup(names[i]);
		ret = put_one(t, dirfd, names[i], rel, depth, err);
	}
	strv_free(names);
	return ret;
}

int image_layer_tar(const char *tree, int out_fd, struct pp_error **err)
{
	struct layer_tar t = {.tree = tree};
	if (pp_archive_api(&t.A, err) < 0)
		return -1;
	cleanup_close int root = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return pp_error_set(err, errno, "open %s", tree);
	t.a = t.A->archive_write_new();
	if (t.a == NULL)
		abort();
	t.buf = xmalloc(LAYER_TAR_BUF);
	int ret = 0;
	if (t.A->archive_write_set_format_pax_restricted(t.a) != ARCHIVE_OK ||
	    t.A->archive_write_open_fd(t.a, out_fd) != ARCHIVE_OK)
		ret = tar_fail(&t, tree, err);
	if (ret == 0)
		ret = put_tree(&t, root, "", 0, err);
	if (ret == 0 && t.A->archive_write_close(t.a) != ARCHIVE_OK)
		ret = tar_fail(&t, tree, err);
	t.A->archive_write_free(t.a);
	for (size_t i = 0; i < t.n_links; i++)
		free(t.links[i].path);
	free(t.links);
	free(t.buf);
	return ret;
}
