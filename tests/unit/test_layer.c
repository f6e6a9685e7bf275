/* Unit tests of the layer unpacker (src/image/layer.h): tar layers built in
 * memory with libarchive's write API (plain, gzip, zstd), unpacked into temp
 * directories and checked file by file; hostile layers (escapes, symlink
 * tricks, bombs, wrong digests); and two unpacked layers mounted as overlay
 * lower dirs (in a child's private mount namespace) to see the whiteouts
 * work. Must run as root. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <locale.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/layer.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"

#define TAR_BUF_MAX (8u << 20)
#define MTIME_FILE 1234567890
#define MTIME_DIR 1000000000

/* A tar being built: an uncompressed pax archive in memory. */
struct tar {
	struct archive *a;
	char *buf;
	size_t used;
};

static void tar_begin(struct tar *t)
{
	t->buf = xmalloc(TAR_BUF_MAX);
	t->used = 0;
	t->a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(t->a, t->buf, TAR_BUF_MAX, &t->used),
			 ARCHIVE_OK);
}

static struct archive_entry *entry_new(const char *path, mode_t type, mode_t perm)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, MTIME_FILE, 0);
	return e;
}

static void tar_write(struct tar *t, struct archive_entry *e, const void *data, size_t len)
{
	archive_entry_set_size(e, (la_int64_t)len);
	assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
	if (len > 0)
		assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

static void tar_file(struct tar *t, const char *path, const char *text)
{
	tar_write(t, entry_new(path, AE_IFREG, 0644), text, strlen(text));
}

static void tar_dir(struct tar *t, const char *path)
{
	tar_write(t, entry_new(path, AE_IFDIR, 0755), NULL, 0);
}

static void tar_symlink(struct tar *t, const char *path, const char *target)
{
	struct archive_entry *e = entry_new(path, AE_IFLNK, 0777);
	archive_entry_set_symlink(e, target);
	tar_write(t, e, NULL, 0);
}

static void tar_hardlink(struct tar *t, const char *path, const char *target)
{
	struct archive_entry *e = entry_new(path, AE_IFREG, 0644);
	archive_entry_set_hardlink(e, target);
	tar_write(t, e, NULL, 0);
}

/* Ends the tar; its bytes in t->buf, t->used. */
static void tar_end(struct tar *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	t->a = NULL;
}

static void tar_free(struct tar *t)
{
	free(t->buf);
}

/* A blob: the tar compressed (libarchive's "raw" format writes one stream). */
struct blob {
	char *data;
	size_t len;
	char digest[PP_DIGEST_STRING_MAX];
	char diff_id[PP_DIGEST_STRING_MAX];
};

static void sha256(const void *data, size_t len, char out[PP_DIGEST_STRING_MAX])
{
	char hex[PP_SHA256_HEX_LEN + 1];
	assert_int_equal(pp_digest_hex(PP_DIGEST_SHA256, data, len, hex, NULL), 0);
	snprintf(out, PP_DIGEST_STRING_MAX, "sha256:%s", hex);
}

static void blob_make(struct blob *b, const struct tar *t, enum pp_oci_compression c)
{
	sha256(t->buf, t->used, b->diff_id);
	b->data = xmalloc(TAR_BUF_MAX);
	b->len = 0;
	if (c == PP_OCI_COMPRESSION_NONE) {
		memcpy(b->data, t->buf, t->used);
		b->len = t->used;
	} else {
		struct archive *a = archive_write_new();
		assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
		if (c == PP_OCI_COMPRESSION_GZIP)
			assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
		else
			assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
		assert_int_equal(archive_write_open_memory(a, b->data, TAR_BUF_MAX, &b->len),
				 ARCHIVE_OK);
		struct archive_entry *e = entry_new("layer.tar", AE_IFREG, 0644);
		archive_entry_set_size(e, (la_int64_t)t->used);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, t->buf, t->used), (la_ssize_t)t->used);
		archive_entry_free(e);
		assert_int_equal(archive_write_close(a), ARCHIVE_OK);
		archive_write_free(a);
	}
	sha256(b->data, b->len, b->digest);
}

/* A tar of one file "a" and its blob compressed with c. */
static void one_file_blob(struct tar *t, struct blob *b, enum pp_oci_compression c)
{
	tar_begin(t);
	tar_file(t, "a", "a\n");
	tar_end(t);
	blob_make(b, t, c);
}

/* The temp dir of a test: layers and an "outside" dir nothing may reach. */
struct fixture {
	char *dir;
	char *outside;
	int n_layers;
};

static int setup(void **state)
{
	struct fixture *f = xmalloc(sizeof(*f));
	f->dir = xstrdup("/tmp/peapod-test-layer-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->outside = xasprintf("%s/outside", f->dir);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(pp_rm_rf(f->dir, NULL), 0);
	free(f->dir);
	free(f->outside);
	free(f);
	return 0;
}

static char *new_layer_dir(struct fixture *f)
{
	char *p = xasprintf("%s/layer%d", f->dir, f->n_layers++);
	assert_int_equal(mkdir(p, 0755), 0);
	return p;
}

static int memfd_of(const void *data, size_t len)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Unpacks blob into dir: the result of pp_layer_unpack, err filled. */
static int unpack_src(const char *dir, const struct blob *b, struct pp_layer_source *src,
		      struct pp_layer_result *res, struct pp_error **err)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	cleanup_close int fd = memfd_of(b->data, b->len);
	src->fd = fd;
	return pp_layer_unpack(dfd, src, res, err);
}

static struct pp_layer_source source_of(const struct blob *b, enum pp_oci_compression c)
{
	return (struct pp_layer_source){.compression = c,
					.digest = b->digest,
					.size = (int64_t)b->len,
					.diff_id = b->diff_id,
					.limits = PP_LAYER_LIMITS_DEFAULT};
}

/* Builds blob from t (ended and freed here) and unpacks it into a new dir,
 * which it returns; fails the test on an error. */
static char *unpack_ok(struct fixture *f, struct tar *t, enum pp_oci_compression c,
		       struct pp_layer_result *res)
{
	struct blob b;
	tar_end(t);
	blob_make(&b, t, c);
	char *dir = new_layer_dir(f);
	struct pp_layer_source src = source_of(&b, c);
	struct pp_error *err = NULL;
	if (unpack_src(dir, &b, &src, res, &err) < 0)
		fail_msg("unpack: %s", err->msg);
	assert_string_equal(res->digest, b.digest);
	assert_string_equal(res->diff_id, b.diff_id);
	assert_int_equal(res->compressed_size, (int64_t)b.len);
	assert_int_equal(res->size, (int64_t)t->used);
	free(b.data);
	tar_free(t);
	return dir;
}

/* Unpacking t (ended and freed here) fails with errnum; the message holds
 * want. */
static void unpack_fails(struct fixture *f, struct tar *t, int errnum, const char *want)
{
	struct blob b;
	tar_end(t);
	blob_make(&b, t, PP_OCI_COMPRESSION_GZIP);
	cleanup_free char *dir = new_layer_dir(f);
	struct pp_layer_source src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	assert_int_equal(unpack_src(dir, &b, &src, &res, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL || err->status != errnum)
		fail_msg("error \"%s\" (%d), expected \"%s\" (%d)", err->msg, err->status, want,
			 errnum);
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	free(b.data);
	tar_free(t);
}

static char *read_in(const char *dir, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	char *s = NULL;
	size_t len;
	struct pp_error *err = NULL;
	if (pp_read_file(p, 1 << 20, &s, &len, &err) < 0)
		fail_msg("read %s: %s", p, err->msg);
	return s;
}

static void stat_in(const char *dir, const char *rel, struct stat *st)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	if (lstat(p, st) < 0)
		fail_msg("lstat %s: %s", p, strerror(errno));
}

static bool exists_in(const char *dir, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* --- the pure classification --- */

static void expect_class(const char *name, enum pp_layer_path_action action, const char *path)
{
	struct pp_layer_path p;
	pp_layer_path_classify(name, &p);
	if (p.action != action)
		fail_msg("%s: action %d, expected %d (%s)", name, p.action, action,
			 p.reason ? p.reason : "");
	if (action == PP_LAYER_PATH_REFUSED)
		assert_non_null(p.reason);
	else
		assert_string_equal(p.path, path);
}

static void test_classify(void **state)
{
	expect_class("a", PP_LAYER_PATH_ENTRY, "a");
	expect_class("./a/b/", PP_LAYER_PATH_ENTRY, "a/b");
	expect_class(".//a///b/./c", PP_LAYER_PATH_ENTRY, "a/b/c");
	expect_class("./", PP_LAYER_PATH_ENTRY, "");
	expect_class(".", PP_LAYER_PATH_ENTRY, "");
	expect_class("a/../b", PP_LAYER_PATH_ENTRY, "b");
	expect_class("a/..", PP_LAYER_PATH_ENTRY, "");
	expect_class("etc/.wh.passwd", PP_LAYER_PATH_WHITEOUT, "etc/passwd");
	expect_class("./.wh.x", PP_LAYER_PATH_WHITEOUT, "x");
	expect_class("var/cache/.wh..wh..opq", PP_LAYER_PATH_OPAQUE, "var/cache");
	expect_class(".wh..wh..opq", PP_LAYER_PATH_OPAQUE, "");
	expect_class("a/.wh..hidden", PP_LAYER_PATH_WHITEOUT, "a/.hidden");
	expect_class("a/x.wh.y", PP_LAYER_PATH_ENTRY, "a/x.wh.y");
	expect_class("../x", PP_LAYER_PATH_REFUSED, NULL);
	expect_class("a/../../x", PP_LAYER_PATH_REFUSED, NULL);
	expect_class("/abs", PP_LAYER_PATH_REFUSED, NULL);
	expect_class("", PP_LAYER_PATH_REFUSED, NULL);
	expect_class(NULL, PP_LAYER_PATH_REFUSED, NULL);
	expect_class("a/.wh.", PP_LAYER_PATH_REFUSED, NULL);
	expect_class("a/.wh..", PP_LAYER_PATH_REFUSED, NULL);
	expect_class("a/.wh...", PP_LAYER_PATH_REFUSED, NULL);
	expect_class(".wh..wh.plnk", PP_LAYER_PATH_REFUSED, NULL);
	expect_class(".wh..wh..opq/x", PP_LAYER_PATH_REFUSED, NULL);
	expect_class("a/.wh.b/c", PP_LAYER_PATH_REFUSED, NULL);
	char longname[PP_LAYER_NAME_MAX + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_class(longname, PP_LAYER_PATH_REFUSED, NULL);
	cleanup_free char *longpath = xmalloc(PP_LAYER_PATH_MAX + 1);
	for (size_t i = 0; i < PP_LAYER_PATH_MAX; i++)
		longpath[i] = i % 2 ? '/' : 'd';
	expect_class(longpath, PP_LAYER_PATH_REFUSED, NULL);
}

/* --- unpacking --- */

static void check_basic(const char *dir)
{
	cleanup_free char *hello = read_in(dir, "etc/hello");
	assert_string_equal(hello, "hello\n");
	cleanup_free char *deep = read_in(dir, "usr/share/doc/x/README");
	assert_string_equal(deep, "implicit parents\n");
	struct stat st;
	stat_in(dir, "usr/share", &st);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	cleanup_free char *later = read_in(dir, "later");
	assert_string_equal(later, "second\n");
}

static void test_unpack_compressions(void **state)
{
	struct fixture *f = *state;
	const enum pp_oci_compression cs[] = {PP_OCI_COMPRESSION_NONE, PP_OCI_COMPRESSION_GZIP,
					      PP_OCI_COMPRESSION_ZSTD};
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		struct tar t;
		assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
		tar_begin(&t);
		tar_dir(&t, "./");
		tar_dir(&t, "./etc/");
		tar_file(&t, "./etc/hello", "hello\n");
		tar_file(&t, "usr/share/doc/x/README", "implicit parents\n");
		tar_file(&t, "later", "first\n");
		tar_file(&t, "./later", "second\n");
		/* names are bytes: UTF-8 ones land as they are (peapod runs in the C locale) */
		/* written as Go's archive/tar does: a pax "path" record (libarchive's
		 * writer needs a UTF-8 locale for that; the reader stays in C) */
		tar_file(&t, "caf\xc3\xa9/\xe6\x97\xa5", "utf-8\n");
		setlocale(LC_CTYPE, "C");
		struct pp_layer_result res;
		cleanup_free char *dir = unpack_ok(f, &t, cs[i], &res);
		check_basic(dir);
		cleanup_free char *utf8 = read_in(dir, "caf\xc3\xa9/\xe6\x97\xa5");
		assert_string_equal(utf8, "utf-8\n");
		assert_int_equal(res.compression, cs[i]);
		assert_int_equal(res.entries, 7);
		assert_int_equal(res.n_warnings, 0);
		pp_layer_result_clear(&res);
	}
}

/* From a pipe, as a download feeds it: short reads, the writer's pace. */
static void test_unpack_pipe(void **state)
{
	struct fixture *f = *state;
	enum { CHUNK = 1000, BIG = 300000 };
	cleanup_free char *big = xmalloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)(i * 7 % 251);
	struct tar t;
	tar_begin(&t);
	tar_file(&t, "a", "a\n");
	tar_write(&t, entry_new("big", AE_IFREG, 0644), big, BIG);
	tar_end(&t);
	struct blob b;
	blob_make(&b, &t, PP_OCI_COMPRESSION_ZSTD);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (size_t off = 0; off < b.len; off += CHUNK) {
			size_t n = b.len - off < CHUNK ? b.len - off : CHUNK;
			if (write(p[1], b.data + off, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	cleanup_free char *dir = new_layer_dir(f);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct pp_layer_source src = source_of(&b, PP_OCI_COMPRESSION_ZSTD);
	src.fd = p[0];
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	if (pp_layer_unpack(dfd, &src, &res, &err) < 0)
		fail_msg("unpack from a pipe: %s", err->msg);
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	assert_string_equal(res.digest, b.digest);
	assert_string_equal(res.diff_id, b.diff_id);
	cleanup_free char *path = xasprintf("%s/big", dir);
	char *got = NULL;
	size_t len;
	assert_int_equal(pp_read_file(path, 2 * BIG, &got, &len, NULL), 0);
	assert_int_equal(len, BIG);
	assert_memory_equal(got, big, BIG);
	free(got);
	pp_layer_result_clear(&res);
	free(b.data);
	tar_free(&t);
}

/* A layer declared gzip but sent plain is taken (containerd does); one
 * declared plain but compressed is not a tar. */
static void test_compression_mismatch(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	struct blob b;
	one_file_blob(&t, &b, PP_OCI_COMPRESSION_NONE);
	cleanup_free char *dir = new_layer_dir(f);
	struct pp_layer_source src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	assert_int_equal(unpack_src(dir, &b, &src, &res, &err), 0);
	assert_int_equal(res.compression, PP_OCI_COMPRESSION_NONE);
	pp_layer_result_clear(&res);
	free(b.data);

	blob_make(&b, &t, PP_OCI_COMPRESSION_GZIP);
	cleanup_free char *dir2 = new_layer_dir(f);
	src = source_of(&b, PP_OCI_COMPRESSION_NONE);
	assert_int_equal(unpack_src(dir2, &b, &src, &res, &err), -1);
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	free(b.data);
	tar_free(&t);
}

static void test_whiteouts(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	tar_begin(&t);
	tar_dir(&t, "etc");
	tar_file(&t, "etc/.wh.passwd", "");
	tar_dir(&t, "var/cache");
	tar_file(&t, "var/cache/new", "new\n");
	tar_file(&t, "var/cache/.wh..wh..opq", "");
	tar_file(&t, "gone", "replaced by its whiteout\n");
	tar_file(&t, ".wh.gone", "");
	struct pp_layer_result res;
	cleanup_free char *dir = unpack_ok(f, &t, PP_OCI_COMPRESSION_GZIP, &res);
	struct stat st;
	stat_in(dir, "etc/passwd", &st);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	stat_in(dir, "gone", &st);
	assert_true(S_ISCHR(st.st_mode));
	assert_false(exists_in(dir, "etc/.wh.passwd"));
	cleanup_free char *cache = xasprintf("%s/var/cache", dir);
	char v[8];
	assert_int_equal(getxattr(cache, PP_LAYER_OPAQUE_XATTR, v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_false(exists_in(dir, "var/cache/.wh..wh..opq"));
	cleanup_free char *n = read_in(dir, "var/cache/new");
	assert_string_equal(n, "new\n");
	pp_layer_result_clear(&res);
}

static void test_hardlinks(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	tar_begin(&t);
	tar_file(&t, "bin/busybox", "#!/bin/true\n");
	tar_hardlink(&t, "bin/sh", "bin/busybox");
	tar_hardlink(&t, "./sbin/init", "./bin/busybox");
	struct pp_layer_result res;
	cleanup_free char *dir = unpack_ok(f, &t, PP_OCI_COMPRESSION_ZSTD, &res);
	struct stat a, b, c;
	stat_in(dir, "bin/busybox", &a);
	stat_in(dir, "bin/sh", &b);
	stat_in(dir, "sbin/init", &c);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_ino, c.st_ino);
	assert_int_equal(a.st_nlink, 3);
	pp_layer_result_clear(&res);

	/* to a directory, to the root */
	tar_begin(&t);
	tar_dir(&t, "d");
	tar_hardlink(&t, "x", "d");
	unpack_fails(f, &t, EPERM, "an earlier entry");
	tar_begin(&t);
	tar_hardlink(&t, "x", "./");
	unpack_fails(f, &t, EINVAL, "not a file of the layer");

	/* to nothing earlier, out of the layer, through a symlink */
	tar_begin(&t);
	tar_hardlink(&t, "x", "missing");
	unpack_fails(f, &t, ENOENT, "an earlier entry");
	tar_begin(&t);
	tar_hardlink(&t, "x", "../outside/file");
	unpack_fails(f, &t, EINVAL, "leaves the layer");
	tar_begin(&t);
	cleanup_free char *out = xasprintf("%s/secret", f->outside);
	cleanup_free char *secret = xasprintf("%s/secret", f->outside);
	assert_int_equal(pp_write_file_atomic(secret, "s\n", 2, 0600, NULL), 0);
	tar_symlink(&t, "link", f->outside);
	tar_hardlink(&t, "x", "link/secret");
	unpack_fails(f, &t, ELOOP, "symlink");
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_nlink, 1);
}

/* A symlink, then entries trying to write through it: refused, nothing
 * written outside the layer. */
static void test_symlink_escape(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	tar_begin(&t);
	tar_symlink(&t, "abs", f->outside);
	tar_file(&t, "abs/evil", "evil\n");
	unpack_fails(f, &t, ELOOP, "symlink");

	tar_begin(&t);
	tar_symlink(&t, "rel", "../../../../../../../../");
	tar_file(&t, "rel/tmp/evil", "evil\n");
	unpack_fails(f, &t, ELOOP, "symlink");

	tar_begin(&t);
	tar_dir(&t, "d");
	tar_symlink(&t, "d/up", "..");
	tar_dir(&t, "d/up/..");
	tar_file(&t, "d/up/x", "x\n");
	unpack_fails(f, &t, ELOOP, "symlink");

	/* a symlink dir then a whiteout or opaque mark beneath it */
	tar_begin(&t);
	tar_symlink(&t, "w", f->outside);
	tar_file(&t, "w/.wh.x", "");
	unpack_fails(f, &t, ELOOP, "symlink");
	tar_begin(&t);
	tar_symlink(&t, "w", f->outside);
	tar_file(&t, "w/.wh..wh..opq", "");
	unpack_fails(f, &t, ENOTDIR, "opaque");

	assert_int_equal(count_entries(f->outside), 0);
	char v[8];
	assert_int_equal(getxattr(f->outside, PP_LAYER_OPAQUE_XATTR, v, sizeof(v)), -1);

	/* a symlink replaced by a directory of the same name is fine */
	tar_begin(&t);
	tar_symlink(&t, "s", f->outside);
	tar_dir(&t, "s");
	tar_file(&t, "s/in", "in\n");
	struct pp_layer_result res;
	cleanup_free char *dir = unpack_ok(f, &t, PP_OCI_COMPRESSION_NONE, &res);
	cleanup_free char *in = read_in(dir, "s/in");
	assert_string_equal(in, "in\n");
	assert_int_equal(count_entries(f->outside), 0);
	pp_layer_result_clear(&res);
}

/* security.capability as ping carries it: cap_net_raw=ep. */
static void cap_net_raw(struct vfs_cap_data *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
	cap->data[0].permitted = 1u << CAP_NET_RAW;
}

static void test_metadata(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	tar_begin(&t);
	struct archive_entry *e = entry_new("./", AE_IFDIR, 0750);
	archive_entry_set_uid(e, 7);
	archive_entry_set_mtime(e, MTIME_DIR, 0);
	tar_write(&t, e, NULL, 0);
	e = entry_new("usr", AE_IFDIR, 0755);
	archive_entry_set_mtime(e, MTIME_DIR, 0);
	tar_write(&t, e, NULL, 0);
	e = entry_new("usr/bin", AE_IFDIR, 0751);
	archive_entry_set_mtime(e, MTIME_DIR, 0);
	tar_write(&t, e, NULL, 0);
	e = entry_new("usr/bin/ping", AE_IFREG, 0755);
	struct vfs_cap_data cap;
	cap_net_raw(&cap);
	archive_entry_xattr_add_entry(e, "security.capability", &cap, XATTR_CAPS_SZ_2);
	archive_entry_xattr_add_entry(e, "user.note", "n", 1);
	archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
	archive_entry_xattr_add_entry(e, "user.overlay.opaque", "y", 1);
	tar_write(&t, e, "ping\n", 5);
	e = entry_new("usr/bin/su", AE_IFREG, 04755);
	tar_write(&t, e, "su\n", 3);
	e = entry_new("usr/bin/wall", AE_IFREG, 02755);
	archive_entry_set_gid(e, 5);
	tar_write(&t, e, "wall\n", 5);
	e = entry_new("tmp", AE_IFDIR, 01777);
	tar_write(&t, e, NULL, 0);
	e = entry_new("home/app/secret", AE_IFREG, 0640);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 1001);
	archive_entry_set_mtime(e, MTIME_FILE, 500);
	tar_write(&t, e, "s\n", 2);
	e = entry_new("home/app/link", AE_IFLNK, 0777);
	archive_entry_set_symlink(e, "/etc/passwd");
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 1001);
	tar_write(&t, e, NULL, 0);
	e = entry_new("run/fifo", AE_IFIFO, 0620);
	tar_write(&t, e, NULL, 0);
	e = entry_new("dev/sda", AE_IFBLK, 0660);
	archive_entry_set_rdev(e, makedev(8, 0));
	tar_write(&t, e, NULL, 0);
	e = entry_new("dev/null", AE_IFCHR, 0666);
	archive_entry_set_rdev(e, makedev(1, 3));
	tar_write(&t, e, NULL, 0);
	struct pp_layer_result res;
	cleanup_free char *dir = unpack_ok(f, &t, PP_OCI_COMPRESSION_GZIP, &res);

	struct stat st;
	stat_in(dir, "usr/bin/ping", &st);
	assert_int_equal(st.st_mode & 07777, 0755);
	cleanup_free char *ping = xasprintf("%s/usr/bin/ping", dir);
	struct vfs_cap_data got;
	assert_int_equal(getxattr(ping, "security.capability", &got, sizeof(got)), XATTR_CAPS_SZ_2);
	assert_memory_equal(&got, &cap, XATTR_CAPS_SZ_2);
	char v[8];
	assert_int_equal(getxattr(ping, "user.note", v, sizeof(v)), 1);
	assert_int_equal(getxattr(ping, "trusted.overlay.redirect", v, sizeof(v)), -1);
	assert_int_equal(getxattr(ping, "user.overlay.opaque", v, sizeof(v)), -1);
	stat_in(dir, "usr/bin/su", &st);
	assert_int_equal(st.st_mode & 07777, 04755);
	stat_in(dir, "usr/bin/wall", &st);
	assert_int_equal(st.st_mode & 07777, 02755);
	assert_int_equal(st.st_gid, 5);
	stat_in(dir, "tmp", &st);
	assert_int_equal(st.st_mode & 07777, 01777);
	stat_in(dir, "home/app/secret", &st);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_mtim.tv_sec, MTIME_FILE);
	assert_int_equal(st.st_mtim.tv_nsec, 500);
	stat_in(dir, "home/app/link", &st);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_mtim.tv_sec, MTIME_FILE);
	stat_in(dir, "run/fifo", &st);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0620);
	/* the root's own entry */
	stat_in(dir, ".", &st);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(st.st_mtim.tv_sec, MTIME_DIR);
	/* directories' mtimes survive the entries written into them */
	stat_in(dir, "usr", &st);
	assert_int_equal(st.st_mtim.tv_sec, MTIME_DIR);
	stat_in(dir, "usr/bin", &st);
	assert_int_equal(st.st_mtim.tv_sec, MTIME_DIR);
	assert_int_equal(st.st_mode & 07777, 0751);
	/* devices skipped, with a warning each; the overlay xattr too */
	assert_false(exists_in(dir, "dev/sda"));
	assert_false(exists_in(dir, "dev/null"));
	/* libarchive's pax writer records an xattr twice (LIBARCHIVE.xattr.
	 * and SCHILY.xattr.) and its reader returns both: two warnings */
	assert_int_equal(res.n_warnings, 6);
	assert_non_null(strstr(res.warnings[0], "overlay."));
	assert_non_null(strstr(res.warnings[3], "overlay."));
	assert_non_null(strstr(res.warnings[4], "dev/sda: device node skipped"));
	assert_non_null(strstr(res.warnings[5], "dev/null: device node skipped"));
	pp_layer_result_clear(&res);
}

/* Later entries of a path win, whatever the kinds. */
static void test_replace(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	tar_begin(&t);
	tar_file(&t, "a", "file\n");
	tar_dir(&t, "a");
	tar_file(&t, "a/in", "in\n");
	tar_dir(&t, "b");
	tar_file(&t, "b/x/y", "deep\n");
	tar_file(&t, "b", "b is a file now\n");
	tar_symlink(&t, "c", "a");
	tar_file(&t, "c", "c replaces the symlink\n");
	tar_dir(&t, "d");
	tar_file(&t, "d/kept", "kept\n");
	struct archive_entry *e = entry_new("d", AE_IFDIR, 0700);
	archive_entry_set_mtime(e, MTIME_DIR, 0);
	tar_write(&t, e, NULL, 0);
	tar_file(&t, "implicit/parents/f", "f\n");
	struct pp_layer_result res;
	/* implicit directories are 0755 whatever the umask */
	mode_t old_umask = umask(077);
	cleanup_free char *dir = unpack_ok(f, &t, PP_OCI_COMPRESSION_NONE, &res);
	umask(old_umask);
	struct stat st;
	stat_in(dir, "implicit/parents", &st);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* the last entry of a directory gives its mode and time */
	stat_in(dir, "d", &st);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_mtim.tv_sec, MTIME_DIR);
	cleanup_free char *in = read_in(dir, "a/in");
	assert_string_equal(in, "in\n");
	cleanup_free char *b = read_in(dir, "b");
	assert_string_equal(b, "b is a file now\n");
	cleanup_free char *c = read_in(dir, "c");
	assert_string_equal(c, "c replaces the symlink\n");
	cleanup_free char *kept = read_in(dir, "d/kept");
	assert_string_equal(kept, "kept\n");
	pp_layer_result_clear(&res);
}

static void test_refused_paths(void **state)
{
	struct fixture *f = *state;
	struct tar r;
	tar_begin(&r);
	tar_file(&r, ".", "the root as a file\n");
	unpack_fails(f, &r, EINVAL, "root entry is not a directory");
	const char *bad[] = {"../x", "/abs", "a/../../x", "a/.wh.", ".wh..wh.plnk", ".wh.x/y"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tar t;
		tar_begin(&t);
		tar_file(&t, "ok", "ok\n");
		struct archive_entry *e = entry_new(bad[i], AE_IFREG, 0644);
		tar_write(&t, e, "bad\n", 4);
		unpack_fails(f, &t, EINVAL, "");
	}
	assert_int_equal(count_entries(f->outside), 0);
	assert_false(exists_in(f->dir, "x"));
	assert_false(exists_in("/", "abs"));
}

/* gzip of data[0..len) as one member, appended to out. */
static void gzip_member(const void *data, size_t len, char *out, size_t *used)
{
	struct archive *a = archive_write_new();
	size_t n = 0;
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, out + *used, TAR_BUF_MAX - *used, &n),
			 ARCHIVE_OK);
	struct archive_entry *e = entry_new("m", AE_IFREG, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*used += n;
}

/* gzip as layers come (image/gunzip.h with libisal2, else libarchive's
 * filter): members one after the other, bytes after the last ignored; a
 * stream cut short or a CRC that does not match refused. */
static void test_gzip_members(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	tar_begin(&t);
	cleanup_free char *big = xmalloc(300000);
	for (size_t i = 0; i < 300000; i++)
		big[i] = (char)('a' + (i * 7 + i / 1000) % 26);
	big[299999] = '\0';
	tar_file(&t, "big", big);
	tar_file(&t, "small", "small\n");
	tar_end(&t);
	struct blob b = {.data = xmalloc(TAR_BUF_MAX)};
	sha256(t.buf, t.used, b.diff_id);
	gzip_member(t.buf, t.used / 3, b.data, &b.len);
	gzip_member(t.buf + t.used / 3, t.used - t.used / 3, b.data, &b.len);
	size_t whole = b.len;
	memset(b.data + b.len, 0, 8); /* padding after the last member */
	b.len += 8;
	sha256(b.data, b.len, b.digest);
	struct pp_layer_source src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	cleanup_free char *dir = new_layer_dir(f);
	if (unpack_src(dir, &b, &src, &res, &err) < 0)
		fail_msg("two members: %s", err->msg);
	assert_string_equal(res.diff_id, b.diff_id);
	assert_int_equal(res.compression, PP_OCI_COMPRESSION_GZIP);
	pp_layer_result_clear(&res);
	/* cut inside the second member: refused */
	b.len = whole - 20;
	sha256(b.data, b.len, b.digest);
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	cleanup_free char *cut = new_layer_dir(f);
	assert_int_equal(unpack_src(cut, &b, &src, &res, &err), -1);
	assert_int_equal(err->status, EBADMSG);
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	/* its CRC changed: isa-l refuses it; libarchive's filter does not
	 * check it, and the diff_id vouches for the tar stream anyway */
	b.len = whole;
	b.data[whole - 6] ^= 0x55;
	sha256(b.data, b.len, b.digest);
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	cleanup_free char *crc = new_layer_dir(f);
	if (unpack_src(crc, &b, &src, &res, &err) < 0) {
		assert_int_equal(err->status, EBADMSG);
		pp_error_free(&err);
	} else {
		assert_string_equal(res.diff_id, b.diff_id);
	}
	pp_layer_result_clear(&res);
	free(b.data);
	tar_free(&t);
}

static void test_digest_mismatch(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	struct blob b;
	one_file_blob(&t, &b, PP_OCI_COMPRESSION_GZIP);
	const char *other =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	for (int which = 0; which < 4; which++) {
		cleanup_free char *dir = new_layer_dir(f);
		struct pp_layer_source src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
		const char *want = "digest";
		if (which == 0)
			src.digest = other;
		else if (which == 1)
			src.diff_id = other, want = "diff_id";
		else if (which == 2)
			src.size = (int64_t)b.len + 1, want = "bytes";
		else
			src.size = (int64_t)b.len - 1, want = "size";
		struct pp_layer_result res;
		struct pp_error *err = NULL;
		assert_int_equal(unpack_src(dir, &b, &src, &res, &err), -1);
		assert_int_equal(err->status, EBADMSG);
		if (strstr(err->msg, want) == NULL)
			fail_msg("%s: no %s", err->msg, want);
		pp_error_free(&err);
		pp_layer_result_clear(&res);
	}
	/* malformed expectations, a missing diff_id, a directory not empty */
	struct pp_layer_source src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	cleanup_free char *dir = new_layer_dir(f);
	src.digest = "sha256:xyz";
	assert_int_equal(unpack_src(dir, &b, &src, &res, &err), -1);
	pp_error_free(&err);
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	src.diff_id = NULL;
	assert_int_equal(unpack_src(dir, &b, &src, &res, &err), -1);
	assert_int_equal(err->status, EINVAL);
	pp_error_free(&err);
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	assert_int_equal(unpack_src(f->dir, &b, &src, &res, &err), -1);
	assert_int_equal(err->status, ENOTEMPTY);
	pp_error_free(&err);
	/* a sha512 descriptor digest: computed with its algorithm, the diff_id
	 * still sha256 (a plain layer: both hashed apart) */
	char hex512[PP_DIGEST_MAX_HEX + 1];
	assert_int_equal(pp_digest_hex(PP_DIGEST_SHA512, t.buf, t.used, hex512, NULL), 0);
	cleanup_free char *d512 = xasprintf("sha512:%s", hex512);
	struct blob plain;
	blob_make(&plain, &t, PP_OCI_COMPRESSION_NONE);
	src = source_of(&plain, PP_OCI_COMPRESSION_NONE);
	src.digest = d512;
	cleanup_free char *dir512 = new_layer_dir(f);
	if (unpack_src(dir512, &plain, &src, &res, &err) < 0)
		fail_msg("sha512: %s", err->msg);
	assert_string_equal(res.digest, d512);
	assert_string_equal(res.diff_id, plain.diff_id);
	pp_layer_result_clear(&res);
	free(plain.data);
	/* a digest its caller checks (a registry download) is not hashed
	 * again: taken as given; the diff_id still checked */
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	src.digest = other;
	src.digest_checked = true;
	cleanup_free char *checked = new_layer_dir(f);
	if (unpack_src(checked, &b, &src, &res, &err) < 0)
		fail_msg("digest_checked: %s", err->msg);
	assert_string_equal(res.digest, other);
	assert_string_equal(res.diff_id, b.diff_id);
	pp_layer_result_clear(&res);
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	/* an absent digest: the computed one is returned */
	src.digest = NULL;
	assert_int_equal(unpack_src(dir, &b, &src, &res, &err), 0);
	assert_string_equal(res.digest, b.digest);
	pp_layer_result_clear(&res);
	free(b.data);
	tar_free(&t);
}

/* Tar bombs: a small blob that inflates beyond the byte bound, too many
 * entries, an entry declaring more than the bound; garbage and truncation. */
static void test_limits(void **state)
{
	struct fixture *f = *state;
	enum { PART = 512 << 10, PARTS = 8, BOUND = 1 << 20, ENTRIES = 50 };
	cleanup_free char *zeros = xmalloc(PART);
	struct tar t;
	tar_begin(&t);
	for (int i = 0; i < PARTS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "zeros%d", i);
		tar_write(&t, entry_new(name, AE_IFREG, 0644), zeros, PART);
	}
	tar_end(&t);
	struct blob b;
	blob_make(&b, &t, PP_OCI_COMPRESSION_ZSTD);
	assert_true(b.len < BOUND / 8);
	cleanup_free char *dir = new_layer_dir(f);
	struct pp_layer_source src = source_of(&b, PP_OCI_COMPRESSION_ZSTD);
	src.limits.max_bytes = BOUND;
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	assert_int_equal(unpack_src(dir, &b, &src, &res, &err), -1);
	assert_int_equal(err->status, EFBIG);
	assert_non_null(strstr(err->msg, "tar stream is larger"));
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	/* one entry declaring more than the bound */
	cleanup_free char *dir1 = new_layer_dir(f);
	src.limits.max_bytes = PART - 1;
	assert_int_equal(unpack_src(dir1, &b, &src, &res, &err), -1);
	assert_int_equal(err->status, EFBIG);
	assert_non_null(strstr(err->msg, "zeros0: larger than the bound"));
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	free(b.data);
	tar_free(&t);

	tar_begin(&t);
	for (int i = 0; i < ENTRIES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%d", i);
		tar_file(&t, name, "");
	}
	tar_end(&t);
	blob_make(&b, &t, PP_OCI_COMPRESSION_GZIP);
	cleanup_free char *dir2 = new_layer_dir(f);
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	src.limits.max_entries = ENTRIES - 1;
	assert_int_equal(unpack_src(dir2, &b, &src, &res, &err), -1);
	assert_int_equal(err->status, EFBIG);
	assert_non_null(strstr(err->msg, "entries"));
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	cleanup_free char *dir3 = new_layer_dir(f);
	src.limits.max_entries = ENTRIES;
	assert_int_equal(unpack_src(dir3, &b, &src, &res, &err), 0);
	pp_layer_result_clear(&res);

	/* the blob truncated, or garbage */
	b.len /= 2;
	cleanup_free char *dir4 = new_layer_dir(f);
	src = source_of(&b, PP_OCI_COMPRESSION_GZIP);
	assert_int_equal(unpack_src(dir4, &b, &src, &res, &err), -1);
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	memset(b.data, 'x', b.len);
	cleanup_free char *dir5 = new_layer_dir(f);
	assert_int_equal(unpack_src(dir5, &b, &src, &res, &err), -1);
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	b.len = 0;
	cleanup_free char *dir6 = new_layer_dir(f);
	src = source_of(&b, PP_OCI_COMPRESSION_NONE);
	assert_int_equal(unpack_src(dir6, &b, &src, &res, &err), -1);
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	free(b.data);
	tar_free(&t);
}

/* In a child with its own mount namespace: overlay of upper over lower;
 * the whiteouts hide lower's files. Exit status: the failed check's number. */
static int overlay_child(const char *lower, const char *upper, const char *merged)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 1;
	cleanup_free char *opts = xasprintf("lowerdir=%s:%s", upper, lower);
	if (mount("overlay", merged, "overlay", MS_RDONLY, opts) < 0)
		return 2;
	struct stat st;
	cleanup_free char *passwd = xasprintf("%s/etc/passwd", merged);
	cleanup_free char *group = xasprintf("%s/etc/group", merged);
	cleanup_free char *cache = xasprintf("%s/var/cache", merged);
	cleanup_free char *c = xasprintf("%s/var/cache/c", merged);
	cleanup_free char *hidden = xasprintf("%s/hidden", merged);
	if (lstat(passwd, &st) == 0 || errno != ENOENT)
		return 3;
	if (lstat(group, &st) < 0)
		return 4;
	if (count_entries(cache) != 1 || lstat(c, &st) < 0)
		return 5;
	if (lstat(hidden, &st) == 0)
		return 6;
	return 0;
}

static void test_overlay(void **state)
{
	struct fixture *f = *state;
	struct tar t;
	tar_begin(&t);
	tar_file(&t, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	tar_file(&t, "etc/group", "root:x:0:\n");
	tar_file(&t, "var/cache/a", "a\n");
	tar_file(&t, "var/cache/b", "b\n");
	tar_dir(&t, "hidden");
	tar_file(&t, "hidden/x", "x\n");
	struct pp_layer_result res;
	cleanup_free char *lower = unpack_ok(f, &t, PP_OCI_COMPRESSION_GZIP, &res);
	pp_layer_result_clear(&res);
	tar_begin(&t);
	tar_file(&t, "etc/.wh.passwd", "");
	tar_file(&t, "var/cache/.wh..wh..opq", "");
	tar_file(&t, "var/cache/c", "c\n");
	tar_file(&t, ".wh.hidden", "");
	cleanup_free char *upper = unpack_ok(f, &t, PP_OCI_COMPRESSION_ZSTD, &res);
	pp_layer_result_clear(&res);
	cleanup_free char *merged = xasprintf("%s/merged", f->dir);
	assert_int_equal(mkdir(merged, 0755), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(overlay_child(lower, upper, merged));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("overlay check %d failed", WEXITSTATUS(status));
	/* nothing leaked: the mount was the child's */
	assert_int_equal(count_entries(merged), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test_setup_teardown(test_unpack_compressions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpack_pipe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compression_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hardlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_escape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_digest_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gzip_members, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlay, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
