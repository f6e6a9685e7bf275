/* Unit tests of the tar-split record (src/image/tar_split.h): layers built
 * in memory (pax headers, long names, files smaller and larger than the
 * unpacker's read size, hardlinks, symlinks, whiteouts, xattrs), unpacked
 * with a record, then rebuilt: the same bytes, plain and from gzip; a
 * changed file or a missing record is refused. Must run as root. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/layer.h"
#include "image/tar_split.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"

#define TAR_BUF_MAX (16u << 20)

struct tar {
	struct archive *a;
	char *buf;
	size_t used;
};

/* struct vfs_cap_data revision 2, effective: CAP_NET_RAW permitted */
static const unsigned char cap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20};

static void add(struct tar *t, const char *path, mode_t type, size_t size, const char *link)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(e, 1234567890, 0);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, link);
	if (type == AE_IFREG && link != NULL)
		archive_entry_set_hardlink(e, link);
	if (type == AE_IFREG && link == NULL)
		archive_entry_set_size(e, (la_int64_t)size);
	if (strcmp(path, "bin/ping") == 0)
		archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
	assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
	archive_entry_free(e);
	if (type == AE_IFREG && link == NULL && size > 0) {
		char *data = xmalloc(size);
		for (size_t i = 0; i < size; i++)
			data[i] = (char)(i * 7 + size);
		assert_int_equal(archive_write_data(t->a, data, size), (la_ssize_t)size);
		free(data);
	}
}

static void build(struct tar *t)
{
	static const size_t sizes[] = {0, 1, 511, 512, 513, 4096, 300000, 700001, 3};
	t->buf = xmalloc(TAR_BUF_MAX);
	t->used = 0;
	t->a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(t->a, t->buf, TAR_BUF_MAX, &t->used),
			 ARCHIVE_OK);
	add(t, "bin", AE_IFDIR, 0, NULL);
	add(t, "bin/ping", AE_IFREG, 5, NULL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[300];
		snprintf(name, sizeof(name), "bin/f%zu", i);
		add(t, name, AE_IFREG, sizes[i], NULL);
	}
	add(t, "bin/hard", AE_IFREG, 0, "bin/f6");
	add(t, "bin/sh", AE_IFLNK, 0, "busybox");
	add(t, ".wh.gone", AE_IFREG, 0, NULL);
	char longname[250];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "bin/", 4);
	add(t, longname, AE_IFREG, 1000, NULL);
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
}

static int memfd_of(const void *data, size_t len)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static size_t gzip_of(const struct tar *t, char *out)
{
	size_t len = 0;
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, out, TAR_BUF_MAX, &len), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_filetype(e, AE_IFREG);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, t->buf, t->used), (la_ssize_t)t->used);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return len;
}

struct sink {
	char *buf;
	size_t len;
	int64_t size;
};

static int size_cb(void *ctx, int64_t size, struct pp_error **err)
{
	((struct sink *)ctx)->size = size;
	return 0;
}

static int write_cb(void *ctx, const void *data, size_t len, struct pp_error **err)
{
	struct sink *s = ctx;
	s->buf = xrealloc(s->buf, s->len + len);
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/* Unpacks the layer (gzip'ed or not) with a record into a new dir. */
static char *unpack(const struct tar *t, bool gzip, char diff_id[PP_DIGEST_STRING_MAX])
{
	char *dir = xstrdup("/tmp/peapod-test-split-XXXXXX");
	assert_non_null(mkdtemp(dir));
	cleanup_free char *tree = xasprintf("%s/diff", dir);
	cleanup_free char *split = xasprintf("%s/%s", dir, TAR_SPLIT_FILE);
	assert_int_equal(mkdir(tree, 0755), 0);
	char hex[PP_SHA256_HEX_LEN + 1];
	assert_int_equal(pp_digest_hex(PP_DIGEST_SHA256, t->buf, t->used, hex, NULL), 0);
	snprintf(diff_id, PP_DIGEST_STRING_MAX, "sha256:%s", hex);
	cleanup_free char *blob = gzip ? xmalloc(TAR_BUF_MAX) : NULL;
	size_t len = gzip ? gzip_of(t, blob) : t->used;
	cleanup_close int fd = memfd_of(gzip ? blob : t->buf, len);
	cleanup_close int dfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct pp_layer_source src = {
	    .fd = fd,
	    .compression = gzip ? PP_OCI_COMPRESSION_GZIP : PP_OCI_COMPRESSION_NONE,
	    .size = -1,
	    .diff_id = diff_id,
	    .limits = PP_LAYER_LIMITS_DEFAULT,
	    .split_path = split,
	};
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	if (pp_layer_unpack(dfd, &src, &res, &err) < 0)
		fail_msg("unpack: %s", err->msg);
	pp_layer_result_clear(&res);
	return dir;
}

static void round_trip(bool gzip)
{
	struct tar t;
	char diff_id[PP_DIGEST_STRING_MAX];
	build(&t);
	cleanup_free char *dir = unpack(&t, gzip, diff_id);
	struct sink s = {0};
	struct tar_split_sink sink = {.size_cb = size_cb, .write_cb = write_cb, .ctx = &s};
	struct pp_error *err = NULL;
	assert_int_equal(tar_split_check(dir, NULL), 0);
	if (tar_split_reassemble(dir, diff_id, &sink, &err) < 0)
		fail_msg("reassemble: %s", err->msg);
	assert_int_equal(s.size, (int64_t)t.used);
	assert_int_equal(s.len, t.used);
	assert_memory_equal(s.buf, t.buf, t.used);

	/* a file changed under the record: refused */
	cleanup_free char *f = xasprintf("%s/diff/bin/f6", dir);
	cleanup_close int fd = open(f, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "Z", 1, 100), 1);
	free(s.buf);
	s = (struct sink){0};
	assert_int_equal(tar_split_reassemble(dir, diff_id, &sink, &err), -1);
	assert_non_null(strstr(err->msg, "sha256"));
	pp_error_free(&err);

	/* no record: ENOENT */
	cleanup_free char *rec = xasprintf("%s/%s", dir, TAR_SPLIT_FILE);
	assert_int_equal(unlink(rec), 0);
	assert_int_equal(tar_split_reassemble(dir, diff_id, &sink, &err), -1);
	assert_int_equal(err->status, ENOENT);
	pp_error_free(&err);
	free(s.buf);
	free(t.buf);
	assert_int_equal(pp_rm_rf(dir, NULL), 0);
}

/* The same path twice: the first one's contents are gone from diff/, the
 * record cannot rebuild the tar, and says so before anything is written. */
static void build_twice(struct tar *t)
{
	t->buf = xmalloc(TAR_BUF_MAX);
	t->used = 0;
	t->a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(t->a, t->buf, TAR_BUF_MAX, &t->used),
			 ARCHIVE_OK);
	add(t, "f", AE_IFREG, 10, NULL);
	add(t, "f", AE_IFREG, 10, NULL);
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
}

static void test_twice(void **state)
{
	struct tar t;
	char diff_id[PP_DIGEST_STRING_MAX];
	build_twice(&t);
	cleanup_free char *dir = unpack(&t, false, diff_id);
	struct pp_error *err = NULL;
	assert_int_equal(tar_split_check(dir, &err), -1);
	assert_non_null(strstr(err->msg, "twice"));
	pp_error_free(&err);
	free(t.buf);
	assert_int_equal(pp_rm_rf(dir, NULL), 0);
}

static void test_plain(void **state)
{
	round_trip(false);
}

static void test_gzip(void **state)
{
	round_trip(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
