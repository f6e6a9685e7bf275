/* The small idioms of src/util: the monotonic clock, the directory
 * iterator, digests (known vectors of FIPS 180-2), a child's report of its
 * set-up. On a private temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/child_report.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "util/clock.h"
#include "util/digest.h"
#include "util/dir.h"
#include "util/fault.h"
#include "util/settings.h"
#include "util/fs.h"
#include "util/mntns.h"

static char base[] = "/tmp/peapod-util-test.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	return pp_rm_rf(base, NULL);
}

static void test_path_clean(void **state)
{
	static const char *const cases[][2] = {
	    {"data", "/data"},	   {"/data/", "/data"}, {"//a/./b/../c", "/a/c"},
	    {"/../x", "/x"},	   {"", "/"},		{"/", "/"},
	    {"a/b/../../..", "/"}, {"./.", "/"},	{"/a/..b/c.", "/a/..b/c."},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *got = pp_path_clean(cases[i][0]);
		assert_string_equal(got, cases[i][1]);
	}
}

static void test_clock(void **state)
{
	int64_t a = pp_monotonic_ns();
	const struct timespec pause = {0, 2 * PP_NSEC_PER_MSEC};
	nanosleep(&pause, NULL);
	int64_t b = pp_monotonic_ns();
	assert_true(b - a >= 2 * PP_NSEC_PER_MSEC);
	int64_t ms = pp_monotonic_ms();
	assert_true(ms >= b / PP_NSEC_PER_MSEC);
	assert_int_equal(pp_ms_left(ms - 1), 0);
	int left = pp_ms_left(ms + 10000);
	assert_true(left > 9000 && left <= 10000);
}

static void touch(const char *dir, const char *name)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

/* mkdir -p from the leaf up: every missing parent made, with the mode;
 * what exists already is fine if a directory; a file on the way named. */
static void test_mkdir_p(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	mode_t old_umask = umask(022);
	cleanup_free char *deep = xasprintf("%s/mk/a/b/c", base);
	assert_int_equal(pp_mkdir_p(deep, 0750, &err), 0);
	struct stat st;
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	cleanup_free char *mid = xasprintf("%s/mk/a", base);
	assert_int_equal(stat(mid, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	umask(old_umask);
	/* again, and with trailing and doubled slashes */
	assert_int_equal(pp_mkdir_p(deep, 0755, &err), 0);
	cleanup_free char *slashes = xasprintf("%s/mk//a/b/d//", base);
	assert_int_equal(pp_mkdir_p(slashes, 0755, &err), 0);
	cleanup_free char *d = xasprintf("%s/mk/a/b/d", base);
	assert_int_equal(stat(d, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(pp_mkdir_p("/", 0755, &err), 0);
	/* a file where a directory should be, at the end or on the way */
	touch(base, "mkfile");
	cleanup_free char *file = xasprintf("%s/mkfile", base);
	assert_int_equal(pp_mkdir_p(file, 0755, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	assert_non_null(strstr(err->msg, "mkfile"));
	pp_error_free(&err);
	cleanup_free char *below = xasprintf("%s/mkfile/x/y", base);
	assert_int_equal(pp_mkdir_p(below, 0755, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	assert_non_null(strstr(err->msg, "mkfile/x"));
	pp_error_free(&err);
}

/* The entries of dir, one string "a b c" in readdir's order. */
static char *entries_of(const char *dir)
{
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	assert_int_equal(pp_dir_open(&d, dir, 0, NULL), 0);
	char *all = xstrdup("");
	struct dirent *e;
	while (pp_dir_next(&d, &e, NULL) > 0) {
		char *next = xasprintf("%s%s%s", all, *all ? " " : "", e->d_name);
		free(all);
		all = next;
	}
	return all;
}

static int dir_flags(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags = 0;
	assert_true(fd >= 0);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		return 0; /* a file system without flags (tmpfs) */
	return flags;
}

/* Whether this file system keeps FS_TOPDIR_FL (ext4 does, tmpfs does not). */
static bool keeps_topdir(const char *scratch)
{
	assert_int_equal(mkdir(scratch, 0700), 0);
	cleanup_close int fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags = 0;
	bool kept = fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
		    ioctl(fd, FS_IOC_SETFLAGS, &(int){flags | FS_TOPDIR_FL}) == 0 &&
		    (dir_flags(scratch) & FS_TOPDIR_FL);
	assert_int_equal(rmdir(scratch), 0);
	return kept;
}

/* Made with its parents and mode, and marked as a top directory where the
 * file system keeps the flag: its parents are not; an existing directory is
 * left as it was. */
static void test_mkdir_apart(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	cleanup_free char *scratch = xasprintf("%s/apscratch", base);
	bool flags = keeps_topdir(scratch);
	mode_t old_umask = umask(022);
	cleanup_free char *parent = xasprintf("%s/ap/x", base);
	cleanup_free char *dir = xasprintf("%s/pods", parent);
	assert_int_equal(pp_mkdir_apart(dir, 0750, &err), 0);
	umask(old_umask);
	struct stat st, again;
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0750);
	cleanup_free char *left = entries_of(parent);
	assert_string_equal(left, "pods");
	assert_int_equal(!!(dir_flags(dir) & FS_TOPDIR_FL), flags);
	assert_false(dir_flags(parent) & FS_TOPDIR_FL);
	/* there already: the same directory, as it was */
	assert_int_equal(pp_mkdir_apart(dir, 0755, &err), 0);
	assert_int_equal(stat(dir, &again), 0);
	assert_int_equal(again.st_ino, st.st_ino);
	assert_int_equal(again.st_mode & 0777, 0750);
	cleanup_free char *plain = xasprintf("%s/ap/plain", base);
	assert_int_equal(mkdir(plain, 0755), 0);
	assert_int_equal(pp_mkdir_apart(plain, 0755, &err), 0);
	assert_false(dir_flags(plain) & FS_TOPDIR_FL);
	/* a file where it should be */
	touch(base, "apfile");
	cleanup_free char *file = xasprintf("%s/apfile", base);
	assert_int_equal(pp_mkdir_apart(file, 0755, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	pp_error_free(&err);
	/* eight processes at once: every one succeeds, one directory is made */
	cleanup_free char *raced = xasprintf("%s/ap/raced", base);
	pid_t kids[8];
	for (int i = 0; i < 8; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0)
			_exit(pp_mkdir_apart(raced, 0755, NULL) == 0 ? 0 : 1);
	}
	for (int i = 0; i < 8; i++) {
		int status = -1;
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(!!(dir_flags(raced) & FS_TOPDIR_FL), flags);
	cleanup_free char *ap = xasprintf("%s/ap", base);
	cleanup_free char *all = entries_of(ap);
	int n = 0;
	for (char *t = strtok(all, " "); t; t = strtok(NULL, " "))
		n++;
	assert_int_equal(n, 3);
}

/* Made in place by a rename from one of the groups (nothing left there),
 * the groups' root marked apart; exclusive refuses an existing one, else it
 * is success; where the groups cannot be made, made in place all the same.
 * The sweep takes what is old enough only. */
/* Whether path's first extent is still delayed (not allocated, so not
 * written back): -1 where the filesystem cannot say (no FIEMAP). */
static int first_extent_delayed(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	union {
		struct fiemap fm;
		char buf[sizeof(struct fiemap) + sizeof(struct fiemap_extent)];
	} u = {0};
	u.fm.fm_length = ~0ULL;
	u.fm.fm_extent_count = 1;
	if (fd < 0 || ioctl(fd, FS_IOC_FIEMAP, &u.fm) < 0 || u.fm.fm_mapped_extents == 0)
		return -1;
	return (u.fm.fm_extents[0].fe_flags & FIEMAP_EXTENT_DELALLOC) != 0;
}

/* A status rewritten: the new content whole, no temporary file left, and
 * (where the filesystem delays allocation, as ext4 here) not written back
 * by the replace, as a rename over the old file would have it. */
static void test_write_file_volatile(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	cleanup_free char *dir = xasprintf("%s/volatile", base);
	cleanup_free char *path = xasprintf("%s/status.json", dir);
	assert_int_equal(pp_mkdir_p(dir, 0700, &err), 0);
	for (int i = 0; i < 3; i++) {
		char text[64];
		int n = snprintf(text, sizeof(text), "{\"round\": %d}", i);
		assert_int_equal(pp_write_file_volatile(path, text, (size_t)n, 0644, &err), 0);
		cleanup_free char *got = NULL;
		size_t len = 0;
		assert_int_equal(pp_read_file(path, 4096, &got, &len, &err), 0);
		assert_string_equal(got, text);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644);
		if (i > 0 && first_extent_delayed(path) >= 0)
			assert_int_equal(first_extent_delayed(path), 1);
	}
	int entries = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		entries += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 1);
	assert_null(err);
}

static void test_mkdir_grouped(void **state)
{
	(void)state;
	struct pp_error *err = NULL;
	cleanup_free char *scratch = xasprintf("%s/grscratch", base);
	bool flags = keeps_topdir(scratch);
	cleanup_free char *pods = xasprintf("%s/gr/pods", base);
	cleanup_free char *groups = xasprintf("%s/gr/groups", base);
	assert_int_equal(pp_mkdir_p(pods, 0700, &err), 0);
	mode_t old_umask = umask(022);
	int removed = 0;
	for (int i = 0; i < 40; i++) {
		cleanup_free char *dir = xasprintf("%s/pod-%d", pods, i);
		assert_int_equal(pp_mkdir_grouped(dir, groups, 0750, true, &err), 0);
		struct stat st;
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0750);
	}
	umask(old_umask);
	assert_int_equal(!!(dir_flags(groups) & FS_TOPDIR_FL), flags);
	/* every group empty again, the pods all in place */
	assert_int_equal(pp_sweep_groups(groups, 0, &removed, &err), 0);
	assert_int_equal(removed, 0);
	cleanup_free char *all = entries_of(pods);
	int n = 0;
	for (char *t = strtok(all, " "); t; t = strtok(NULL, " "))
		n++;
	assert_int_equal(n, 40);
	/* exclusive: there already is EEXIST; not exclusive: success */
	cleanup_free char *first = xasprintf("%s/pod-0", pods);
	assert_int_equal(pp_mkdir_grouped(first, groups, 0700, true, &err), -1);
	assert_int_equal(err->status, EEXIST);
	pp_error_free(&err);
	assert_int_equal(pp_mkdir_grouped(first, groups, 0700, false, &err), 0);
	/* groups that cannot be made (a file there): in place all the same */
	cleanup_free char *blocked = xasprintf("%s/gr/blocked", base);
	touch(base, "gr/blocked");
	cleanup_free char *elsewhere = xasprintf("%s/elsewhere", pods);
	assert_int_equal(pp_mkdir_grouped(elsewhere, blocked, 0700, true, &err), 0);
	struct stat st;
	assert_int_equal(stat(elsewhere, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* a maker's leftover (a crash between mkdir and rename): kept while
	 * young, swept once old enough */
	cleanup_free char *left = xasprintf("%s/3/left", groups);
	assert_int_equal(mkdir(left, 0700), 0);
	assert_int_equal(pp_sweep_groups(groups, 3600, &removed, &err), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(stat(left, &st), 0);
	assert_int_equal(pp_sweep_groups(groups, 0, &removed, &err), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(stat(left, &st), -1);
}

/* Every entry once, never "." or "..", in whatever order readdir gives. */
static void test_dir_lists_entries(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *dir = xasprintf("%s/list", base);
	assert_int_equal(pp_mkdir_p(dir, 0755, &err), 0);
	const char *names[] = {"a", ".hidden", "..x", "z"};
	for (size_t i = 0; i < 4; i++)
		touch(dir, names[i]);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	assert_int_equal(pp_dir_open(&d, dir, 0, &err), 0);
	assert_true(pp_dir_fd(&d) >= 0);
	unsigned seen = 0;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, &err)) > 0) {
		size_t i = 0;
		while (i < 4 && strcmp(names[i], de->d_name) != 0)
			i++;
		assert_true(i < 4);
		assert_false(seen & (1u << i));
		seen |= 1u << i;
	}
	assert_int_equal(r, 0);
	assert_int_equal(seen, 0xf);
	assert_int_equal(pp_dir_next(&d, &de, &err), 0); /* stays at the end */
	pp_dir_close(&d);
	pp_dir_close(&d);
	assert_int_equal(pp_dir_fd(&d), -1);
}

static void test_dir_missing_and_errors(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *missing = xasprintf("%s/none", base);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	/* allowed to be missing: reads as empty */
	assert_int_equal(pp_dir_open(&d, missing, PP_DIR_MISSING_OK, &err), 0);
	assert_int_equal(pp_dir_next(&d, &de, &err), 0);
	/* not allowed: the error names the path */
	assert_int_equal(pp_dir_open(&d, missing, 0, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, missing));
	pp_error_free(&err);
	/* a file is no directory, missing or not */
	touch(base, "file");
	cleanup_free char *file = xasprintf("%s/file", base);
	assert_int_equal(pp_dir_open(&d, file, PP_DIR_MISSING_OK, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	pp_error_free(&err);
	/* an fd that is no directory: taken and closed all the same */
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pp_dir_open_fd(&d, fd, "file", &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	pp_error_free(&err);
}

static const char abc896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
			     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static const struct {
	enum pp_digest_algo algo;
	const char *in;
	const char *hex;
} vectors[] = {
    {PP_DIGEST_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {PP_DIGEST_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {PP_DIGEST_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {PP_DIGEST_SHA512, "",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {PP_DIGEST_SHA512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {PP_DIGEST_SHA512, abc896,
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
     "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
};

static void test_digest_vectors(void **state)
{
	struct pp_error *err = NULL;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char hex[PP_DIGEST_MAX_HEX + 1];
		assert_int_equal(
		    pp_digest_hex(vectors[i].algo, vectors[i].in, strlen(vectors[i].in), hex, &err),
		    0);
		assert_string_equal(hex, vectors[i].hex);
		assert_int_equal(strlen(hex), 2 * pp_digest_len(vectors[i].algo));
	}
}

/* A million "a", given in pieces of every size from 1 byte on: the digest
 * of the whole, as a digest string. */
static void test_digest_streaming(void **state)
{
	static const char *const want[] = {
	    [PP_DIGEST_SHA256] =
		"sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    [PP_DIGEST_SHA512] = "sha512:e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803"
				 "afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb2"
				 "17ad8cc09b",
	};
	enum { TOTAL = 1000000, PIECE_MAX = 4096 };
	static char a[PIECE_MAX];
	memset(a, 'a', sizeof(a));
	struct pp_error *err = NULL;
	for (int algo = PP_DIGEST_SHA256; algo <= PP_DIGEST_SHA512; algo++) {
		cleanup_digest struct pp_digest *d = NULL;
		assert_int_equal(pp_digest_begin((enum pp_digest_algo)algo, &d, &err), 0);
		size_t done = 0;
		for (size_t piece = 1; done < TOTAL; piece = piece % PIECE_MAX + 1) {
			size_t n = piece < TOTAL - done ? piece : TOTAL - done;
			assert_int_equal(pp_digest_update(d, a, n, &err), 0);
			done += n;
		}
		char s[PP_DIGEST_STRING_MAX];
		assert_int_equal(pp_digest_end_string(d, s, &err), 0);
		assert_string_equal(s, want[algo]);
		/* ended: no more data, no second end */
		assert_int_equal(pp_digest_update(d, "a", 1, &err), -1);
		assert_int_equal(err->status, EINVAL);
		assert_int_equal(pp_digest_end_string(d, s, &err), -1);
		pp_error_free(&err);
	}
}

static int verify(enum pp_digest_algo algo, const char *data, const char *expected,
		  struct pp_error **err)
{
	cleanup_digest struct pp_digest *d = NULL;
	if (pp_digest_begin(algo, &d, err) < 0 || pp_digest_update(d, data, strlen(data), err) < 0)
		return -1;
	return pp_digest_end_verify(d, expected, err);
}

static void test_digest_verify_and_parse(void **state)
{
	struct pp_error *err = NULL;
	const char *abc256 =
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	assert_int_equal(verify(PP_DIGEST_SHA256, "abc", abc256, &err), 0);
	/* hex case does not matter */
	assert_int_equal(
	    verify(PP_DIGEST_SHA256, "abc",
		   "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", &err),
	    0);
	assert_int_equal(verify(PP_DIGEST_SHA256, "abd", abc256, &err), -1);
	assert_int_equal(err->status, EBADMSG);
	assert_non_null(strstr(err->msg, abc256));
	/* the algorithm named is not the one computed */
	assert_int_equal(verify(PP_DIGEST_SHA512, "abc", abc256, &err), -1);
	assert_int_equal(err->status, EINVAL);
	static const char *const bad[] = {
	    "",
	    "sha256",
	    "sha256:",
	    "md5:900150983cd24fb0d6963f7d28e17f72",
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag",
	    "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	};
	enum pp_digest_algo algo;
	const char *hex = NULL;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pp_digest_parse(bad[i], &algo, &hex, &err), -1);
		assert_int_equal(err->status, EINVAL);
	}
	pp_error_free(&err);
	assert_int_equal(pp_digest_parse(abc256, &algo, &hex, &err), 0);
	assert_int_equal(algo, PP_DIGEST_SHA256);
	assert_ptr_equal(hex, abc256 + strlen("sha256:"));
	assert_string_equal(pp_digest_algo_name(PP_DIGEST_SHA512), "sha512");
}

enum child_does { CHILD_FAILS, CHILD_SENDS, CHILD_EXITS, CHILD_READY };

/* Forks a child that does what it is told on the report pipe; returns the
 * parent's read of it and the child's exit status. */
static int run_child(enum child_does what, bool need_ready, int *status, struct pp_error **err)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (what == CHILD_FAILS) {
			struct pp_error *e = NULL;
			pp_error_set(&e, EACCES, "mount %s", "/proc");
			pp_child_report_error(p[1], e);
		}
		if (what == CHILD_SENDS) {
			struct pp_error *e = NULL;
			pp_error_set(&e, 0, "no such image");
			/* the child goes on, and ends later */
			_exit(pp_child_report_send(p[1], e) < 0 ? 1 : 3);
		}
		if (what == CHILD_READY && pp_child_report_ready(p[1]) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	int r = pp_child_report_read(p[0], need_ready, err);
	close(p[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	return r;
}

static void test_child_report(void **state)
{
	struct pp_error *err = NULL;
	int status;
	/* a failed set-up: the child's errno and message, and its exit status */
	assert_int_equal(run_child(CHILD_FAILS, false, &status, &err), -1);
	assert_int_equal(err->status, EACCES);
	assert_string_equal(err->msg, "mount /proc");
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == PP_CHILD_SETUP_FAILED);
	pp_error_free(&err);
	/* EOF: as if it exec'd; unless a word was needed */
	assert_int_equal(run_child(CHILD_EXITS, false, &status, &err), 0);
	assert_null(err);
	assert_int_equal(run_child(CHILD_EXITS, true, &status, &err), -1);
	assert_int_equal(err->status, ECHILD);
	pp_error_free(&err);
	assert_int_equal(run_child(CHILD_READY, true, &status, &err), 0);
	assert_null(err);
	assert_int_equal(run_child(CHILD_FAILS, true, &status, &err), -1);
	assert_int_equal(err->status, EACCES);
	pp_error_free(&err);
	/* sent without exiting: the same error, the child's own exit */
	assert_int_equal(run_child(CHILD_SENDS, true, &status, &err), -1);
	assert_int_equal(err->status, 0);
	assert_string_equal(err->msg, "no such image");
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	pp_error_free(&err);
}

/* A visit to a new mount namespace and back, then to it again by fd: its
 * mount is seen only inside, and the working directory comes back. */
static void test_mntns_visit(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/pp-mntns.XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char before[PATH_MAX], after[PATH_MAX];
	assert_non_null(getcwd(before, sizeof(before)));
	struct pp_mntns_visit v = PP_MNTNS_VISIT_INIT;
	struct pp_error *err = NULL;
	if (pp_mntns_enter(&v, -1, &err) < 0) {
		pp_error_free(&err);
		rmdir(dir);
		skip(); /* not root */
	}
	assert_true(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 || errno == EINVAL);
	assert_int_equal(mount("tmpfs", dir, "tmpfs", 0, NULL), 0);
	int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	assert_true(ns >= 0);
	pp_mntns_leave(&v);
	pp_mntns_leave(&v); /* idempotent */
	struct stat d, parent;
	assert_int_equal(stat(dir, &d), 0);
	assert_int_equal(stat("/tmp", &parent), 0);
	assert_true(d.st_dev == parent.st_dev);
	assert_non_null(getcwd(after, sizeof(after)));
	assert_string_equal(before, after);
	assert_int_equal(pp_mntns_enter(&v, ns, &err), 0);
	assert_int_equal(stat(dir, &d), 0);
	assert_true(d.st_dev != parent.st_dev);
	pp_mntns_leave(&v);
	close(ns); /* the namespace, and its tmpfs, go */
	assert_int_equal(rmdir(dir), 0);
}

/* The release build (this test links the library without PP_TEST_KNOBS):
 * PEAPOD_FAULT is not read, so no step ever fails. */
/* pp_rm_rf racing another remover of the same tree (gc emptying the trash
 * while a deleted pod's peapod-rm child unlinks it): both succeed, and
 * nothing is left. */
static void make_tree(const char *root, int depth)
{
	assert_int_equal(mkdir(root, 0700), 0);
	for (int i = 0; i < 8; i++) {
		char *p = xasprintf("%s/f%d", root, i);
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
		free(p);
		if (depth > 0) {
			p = xasprintf("%s/d%d", root, i);
			make_tree(p, depth - 1);
			free(p);
		}
	}
}

static void test_rm_rf_racing(void **state)
{
	(void)state;
	char top[] = "/tmp/pp-rmrf.XXXXXX";
	assert_non_null(mkdtemp(top));
	char *tree = xasprintf("%s/tree", top);
	for (int round = 0; round < 20; round++) {
		make_tree(tree, 2);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(pp_rm_rf(tree, NULL) == 0 ? 0 : 1);
		struct pp_error *err = NULL;
		int r = pp_rm_rf(tree, &err);
		if (r < 0)
			fail_msg("round %d: %s", round, err->msg);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		assert_int_equal(access(tree, F_OK), -1);
	}
	free(tree);
	assert_int_equal(rmdir(top), 0);
}

static void test_fault_release_and_errnos(void **state)
{
	(void)state;
	setenv("PEAPOD_FAULT", "pod cgroups:EIO", 1);
	struct pp_error *err = NULL;
	assert_int_equal(pp_settings_load(&err), 0);
	assert_int_equal(pp_fault("pod cgroups", &err), 0);
	assert_null(err);
	unsetenv("PEAPOD_FAULT");
	assert_int_equal(pp_fault_errno("EIO"), EIO);
	assert_int_equal(pp_fault_errno("ENOSPC"), ENOSPC);
	assert_int_equal(pp_fault_errno("28"), 28);
	assert_int_equal(pp_fault_errno("kill"), 0);
	assert_int_equal(pp_fault_errno(""), 0);
	assert_int_equal(pp_fault_errno("5x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock),
	    cmocka_unit_test(test_mntns_visit),
	    cmocka_unit_test(test_path_clean),
	    cmocka_unit_test(test_mkdir_p),
	    cmocka_unit_test(test_mkdir_apart),
	    cmocka_unit_test(test_mkdir_grouped),
	    cmocka_unit_test(test_write_file_volatile),
	    cmocka_unit_test(test_dir_lists_entries),
	    cmocka_unit_test(test_dir_missing_and_errors),
	    cmocka_unit_test(test_digest_vectors),
	    cmocka_unit_test(test_digest_streaming),
	    cmocka_unit_test(test_digest_verify_and_parse),
	    cmocka_unit_test(test_child_report),
	    cmocka_unit_test(test_rm_rf_racing),
	    cmocka_unit_test(test_fault_release_and_errnos),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
