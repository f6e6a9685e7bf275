/* Unit tests of the local image store (src/image): import from a directory
 * and from tar archives (including hostile ones), lookups, list, remove. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/image.h"
#include "util/digest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

struct fixture {
	char *dir;     /* temp dir holding everything below */
	char *root;    /* store root */
	char *src;     /* a source root filesystem */
	char *outside; /* a file outside src that must never be copied */
	struct pp_image_store *store;
};

static void write_text(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(pp_write_file_atomic(path, text, strlen(text), mode, NULL), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *path_in(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* src/: bin/tool (4755), bin/sh -> tool, etc/secret (0640, uid 1000),
 * etc/hard (hardlink of secret), escape -> ../outside, abs -> <outside>,
 * private/ (0750), fifo. */
static void make_source_tree(struct fixture *f)
{
	cleanup_free char *bin = path_in(f->src, "bin");
	cleanup_free char *etc = path_in(f->src, "etc");
	cleanup_free char *priv = path_in(f->src, "private");
	assert_int_equal(mkdir(bin, 0755), 0);
	assert_int_equal(mkdir(etc, 0755), 0);
	assert_int_equal(mkdir(priv, 0750), 0);
	cleanup_free char *tool = path_in(bin, "tool");
	write_text(tool, "#!/bin/sh\necho tool\n", 04755);
	cleanup_free char *sh = path_in(bin, "sh");
	assert_int_equal(symlink("tool", sh), 0);
	cleanup_free char *secret = path_in(etc, "secret");
	write_text(secret, "s3cret\n", 0640);
	assert_int_equal(chown(secret, 1000, 1000), 0);
	cleanup_free char *hard = path_in(etc, "hard");
	assert_int_equal(link(secret, hard), 0);
	cleanup_free char *escape = path_in(f->src, "escape");
	assert_int_equal(symlink("../outside", escape), 0);
	cleanup_free char *abs = path_in(f->src, "abs");
	assert_int_equal(symlink(f->outside, abs), 0);
	cleanup_free char *fifo = path_in(f->src, "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
}

static int setup(void **state)
{
	struct fixture *f = xmalloc(sizeof(*f));
	f->dir = xstrdup("/tmp/peapod-test-image-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->root = path_in(f->dir, "store");
	f->src = path_in(f->dir, "src");
	f->outside = path_in(f->dir, "outside");
	assert_int_equal(mkdir(f->src, 0755), 0);
	write_text(f->outside, "outside\n", 0644);
	make_source_tree(f);
	assert_int_equal(pp_image_store_open(f->root, &f->store, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pp_image_store_free(f->store);
	assert_int_equal(pp_rm_rf(f->dir, NULL), 0);
	free(f->dir);
	free(f->root);
	free(f->src);
	free(f->outside);
	free(f);
	return 0;
}

/* Entries of dir/sub, not counting "." and "..". */
static int count_entries(const char *dir, const char *sub)
{
	cleanup_free char *path = path_in(dir, sub);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static struct pp_image *import_ok(struct fixture *f, const char *src, const char *ref)
{
	struct pp_error *err = NULL;
	struct pp_image *img = NULL;
	int r = pp_image_import(f->store, src, ref, NULL, &img, &err);
	if (r < 0)
		fail_msg("import %s: %s", src, err->msg);
	assert_non_null(img);
	return img;
}

static void expect_mode(const char *layer, const char *rel, mode_t type, mode_t mode)
{
	cleanup_free char *p = path_in(layer, rel);
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & S_IFMT, type);
	if (type != S_IFLNK)
		assert_int_equal(st.st_mode & 07777, mode);
}

static void expect_link(const char *layer, const char *rel, const char *target)
{
	cleanup_free char *p = path_in(layer, rel);
	char buf[PATH_MAX];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, target);
}

/* The checks shared by directory and tar imports. */
static void check_layer(struct fixture *f, const struct pp_image *img)
{
	assert_non_null(img->layers[0]);
	assert_null(img->layers[1]);
	const char *l = img->layers[0];
	expect_mode(l, "bin/tool", S_IFREG, 04755);
	expect_mode(l, "etc/secret", S_IFREG, 0640);
	expect_mode(l, "private", S_IFDIR, 0750);
	expect_mode(l, "fifo", S_IFIFO, 0600);
	expect_link(l, "bin/sh", "tool");
	expect_link(l, "escape", "../outside");
	expect_link(l, "abs", f->outside);
	struct stat a, b;
	cleanup_free char *secret = path_in(l, "etc/secret");
	cleanup_free char *hard = path_in(l, "etc/hard");
	assert_int_equal(stat(secret, &a), 0);
	assert_int_equal(stat(hard, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_uid, 1000);
	assert_true(img->size > 0);
}

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_normalize_ref(void **state)
{
	static const char *const cases[][2] = {
	    {"busybox", "busybox:latest"},
	    {"busybox:1.36", "busybox:1.36"},
	    {"docker.io/library/busybox:1.36", "busybox:1.36"},
	    {"library/busybox:1.36", "busybox:1.36"},
	    {"docker.io/bitnami/nginx", "bitnami/nginx:latest"},
	    {"quay.io/a/b:1", "quay.io/a/b:1"},
	    {"localhost:5000/app", "localhost:5000/app:latest"},
	    {"busybox@sha256:" HEX64, "busybox@sha256:" HEX64},
	    {"docker.io/library/busybox:1.36@sha256:" HEX64, "busybox:1.36@sha256:" HEX64},
	    {"index.docker.io/library/busybox", "busybox:latest"},
	    {"registry-1.docker.io/library/busybox", "busybox:latest"},
	    {"library/a/b", "library/a/b:latest"},
	    {"Foo/bar", "Foo/bar:latest"},
	    {"docker.io", "docker.io:latest"},
	    {"sha256:abcd", "sha256:abcd"},
	    /* a digest is checked now: a short one or another algorithm is refused */
	    {"busybox@sha256:abcd", NULL},
	    {"busybox@md5:d41d8cd98f00b204e9800998ecf8427e", NULL},
	    {HEX64, NULL},
	    {"", NULL},
	    {"Busybox", NULL},
	    {"busybox:", NULL},
	    {"/busybox", NULL},
	    {"a//b", NULL},
	    {"bad name", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *got = pp_image_normalize_ref(cases[i][0]);
		if (cases[i][1] == NULL && got != NULL)
			fail_msg("\"%s\" should be invalid, got \"%s\"", cases[i][0], got);
		if (cases[i][1] != NULL && (got == NULL || strcmp(got, cases[i][1]) != 0))
			fail_msg("\"%s\": want \"%s\", got \"%s\"", cases[i][0], cases[i][1],
				 got ? got : "(null)");
	}
}

static void test_import_dir(void **state)
{
	struct fixture *f = *state;
	struct pp_image_config cfg = {0};
	char *cmd[] = {"sh", NULL};
	char *env[] = {"PATH=/bin", NULL};
	cfg.cmd = cmd;
	cfg.env = env;
	cfg.user = "1000:1000";
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_import(f->store, f->src, "busybox:1.36", &cfg, &img, NULL), 0);
	check_layer(f, img);
	assert_string_equal(img->ref, "busybox:1.36");
	assert_string_equal(img->config.cmd[0], "sh");
	assert_null(img->config.cmd[1]);
	assert_string_equal(img->config.env[0], "PATH=/bin");
	assert_string_equal(img->config.user, "1000:1000");
	assert_null(img->config.entrypoint);
	assert_int_equal(strlen(img->id), PP_SHA256_HEX_LEN);
	/* the id is the digest of the image's config, kept as a blob */
	cleanup_free char *file = xasprintf("%s/blobs/sha256/%s", f->root, img->id);
	cleanup_free char *json = NULL;
	size_t len = 0;
	assert_int_equal(pp_read_file(file, 1 << 20, &json, &len, NULL), 0);
	char hex[PP_SHA256_HEX_LEN + 1];
	assert_int_equal(pp_digest_hex(PP_DIGEST_SHA256, json, len, hex, NULL), 0);
	assert_string_equal(hex, img->id);
	pp_image_free(img);
}

static void test_import_tar(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *tgz = path_in(f->dir, "rootfs.tar.gz");
	cleanup_free char *cmd = xasprintf("tar --numeric-owner -C '%s' -czf '%s' .", f->src, tgz);
	assert_int_equal(system(cmd), 0);
	struct pp_image *img = import_ok(f, tgz, "tarred");
	assert_string_equal(img->ref, "tarred:latest");
	check_layer(f, img);
	pp_image_free(img);
}

struct tar_entry {
	const char *path;
	mode_t type;
	const char *link; /* symlink target, or hardlink source */
	const char *data;
};

static void write_tar(const char *path, const struct tar_entry *entries, size_t n)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct tar_entry *t = &entries[i];
		archive_entry_set_pathname(e, t->path);
		archive_entry_set_filetype(e, t->type == 0 ? AE_IFREG : t->type);
		archive_entry_set_perm(e, 0644);
		if (t->type == AE_IFLNK)
			archive_entry_set_symlink(e, t->link);
		else if (t->link != NULL)
			archive_entry_set_hardlink(e, t->link);
		size_t len = t->data ? strlen(t->data) : 0;
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, t->data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void expect_refused(struct fixture *f, const struct tar_entry *entries, size_t n)
{
	cleanup_free char *tar = path_in(f->dir, "evil.tar");
	write_tar(tar, entries, n);
	struct pp_error *err = NULL;
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_import(f->store, tar, "evil", NULL, &img, &err), -1);
	assert_null(img);
	assert_non_null(err);
	if (getenv("TEST_IMAGE_VERBOSE"))
		fprintf(stderr, "refused as expected: %s\n", err->msg);
	pp_error_free(&err);
	/* Only the good image from before: no temp dir, no image, no tag. */
	assert_int_equal(count_entries(f->root, "layers/sha256"), 1);
	assert_int_equal(count_entries(f->root, "images"), 1);
	assert_int_equal(pp_image_get(f->store, "evil", &img, &err), -1);
	assert_non_null(strstr(err->msg, "not found"));
	pp_error_free(&err);
	cleanup_free char *escaped = path_in(f->dir, "x");
	assert_int_equal(access(escaped, F_OK), -1);
	assert_int_equal(access("/x-peapod-test", F_OK), -1);
}

static void test_malicious_tar(void **state)
{
	struct fixture *f = *state;
	pp_image_free(import_ok(f, f->src, "good"));
	cleanup_free char *outside_x = path_in(f->dir, "x");
	const struct tar_entry dotdot[] = {{"ok", 0, NULL, "ok"}, {"../../x", 0, NULL, "evil"}};
	const struct tar_entry inner_dotdot[] = {{"a/../../../x", 0, NULL, "evil"}};
	const struct tar_entry absolute[] = {{"/x-peapod-test", 0, NULL, "evil"}};
	const struct tar_entry via_symlink[] = {{"up", AE_IFLNK, f->dir, NULL},
						{"up/x", 0, NULL, "evil"}};
	const struct tar_entry hardlink_out[] = {{"h", 0, outside_x, NULL}};
	const struct tar_entry hardlink_up[] = {{"h", 0, "../../outside", NULL}};
	expect_refused(f, dotdot, 2);
	expect_refused(f, inner_dotdot, 1);
	expect_refused(f, absolute, 1);
	expect_refused(f, via_symlink, 2);
	expect_refused(f, hardlink_out, 1);
	expect_refused(f, hardlink_up, 1);
	/* Not an archive at all, and an mtree "archive" naming a host file. */
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_import(f->store, f->outside, "evil", NULL, NULL, &err), -1);
	pp_error_free(&err);
	cleanup_free char *mtree = path_in(f->dir, "evil.mtree");
	cleanup_free char *spec = xasprintf("#mtree\n./x type=file contents=%s\n", f->outside);
	write_text(mtree, spec, 0644);
	assert_int_equal(pp_image_import(f->store, mtree, "evil", NULL, NULL, &err), -1);
	pp_error_free(&err);
	assert_int_equal(count_entries(f->root, "layers/sha256"), 1);
}

static void test_get(void **state)
{
	struct fixture *f = *state;
	struct pp_image *img = import_ok(f, f->src, "busybox:1.36");
	cleanup_free char *id = xstrdup(img->id);
	pp_image_free(img);
	cleanup_free char *prefix = strndup(id, 4);
	cleanup_free char *sha_prefix = xasprintf("sha256:%.12s", id);
	const char *const refs[] = {"busybox:1.36",
				    "docker.io/library/busybox:1.36",
				    "library/busybox:1.36",
				    prefix,
				    sha_prefix,
				    id};
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		struct pp_error *err = NULL;
		if (pp_image_get(f->store, refs[i], &img, &err) < 0)
			fail_msg("get %s: %s", refs[i], err->msg);
		assert_string_equal(img->id, id);
		assert_string_equal(img->ref, "busybox:1.36");
		pp_image_free(img);
	}
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_get(f->store, "busybox:1.37", &img, &err), -1);
	assert_string_equal(err->msg, "image \"busybox:1.37\" not found in the local store (import "
				      "it with: peapod image import DIR|TAR busybox:1.37)");
	pp_error_free(&err);
	assert_int_equal(pp_image_get(f->store, "busybox", &img, &err), -1);
	pp_error_free(&err);
	cleanup_free char *short_prefix = strndup(id, 3);
	assert_int_equal(pp_image_get(f->store, short_prefix, &img, &err), -1);
	pp_error_free(&err);
}

static void test_list_remove_reimport(void **state)
{
	struct fixture *f = *state;
	pp_image_free(import_ok(f, f->src, "a:1"));
	struct pp_image *b = import_ok(f, f->src, "b:1");
	cleanup_free char *b_id = xstrdup(b->id);
	cleanup_free char *b_layer = xstrdup(b->layers[0]);
	pp_image_free(b);
	assert_int_equal(count_entries(f->root, "layers/sha256"), 2);
	/* Re-import replaces the tag; the old layer goes with the old image. */
	struct pp_image *b2 = import_ok(f, f->src, "b:1");
	assert_string_not_equal(b2->id, b_id);
	pp_image_free(b2);
	assert_int_equal(access(b_layer, F_OK), -1);
	assert_int_equal(count_entries(f->root, "layers/sha256"), 2);
	assert_int_equal(count_entries(f->root, "images"), 2);
	struct pp_image **imgs = NULL;
	size_t n = 0;
	assert_int_equal(pp_image_list(f->store, &imgs, &n, NULL), 0);
	assert_int_equal(n, 2);
	pp_image_list_free(imgs, n);
	assert_int_equal(pp_image_remove(f->store, "a:1", NULL), 0);
	assert_int_equal(count_entries(f->root, "layers/sha256"), 1);
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_remove(f->store, "a:1", &err), -1);
	pp_error_free(&err);
	/* By id: every tag goes. */
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_get(f->store, "b:1", &img, NULL), 0);
	cleanup_free char *prefix = strndup(img->id, 8);
	pp_image_free(img);
	assert_int_equal(pp_image_remove(f->store, prefix, NULL), 0);
	assert_int_equal(pp_image_list(f->store, &imgs, &n, NULL), 0);
	assert_int_equal(n, 0);
	pp_image_list_free(imgs, n);
	assert_int_equal(count_entries(f->root, "layers/sha256"), 0);
	assert_int_equal(count_entries(f->root, "images"), 0);
}

static void test_root_from_env(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *other = path_in(f->dir, "envroot");
	struct pp_image_store *s = NULL;
	setenv("PEAPOD_ROOT", other, 1);
	pp_settings_load(NULL);
	assert_int_equal(pp_image_store_open(NULL, &s, NULL), 0);
	unsetenv("PEAPOD_ROOT");
	pp_settings_load(NULL);
	assert_string_equal(pp_image_store_root(s), other);
	pp_image_store_free(s);
	assert_int_equal(count_entries(other, "layers/sha256"), 0);
	assert_int_equal(count_entries(other, "containers"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize_ref),
	    cmocka_unit_test_setup_teardown(test_import_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_tar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malicious_tar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_remove_reimport, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_root_from_env, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
