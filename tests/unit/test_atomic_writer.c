/* kubelet's atomic writer (src/util/atomic_writer.c) on a private temp dir:
 * the layout, updates that add and remove files, idempotence, modes, bad
 * paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/atomic_writer.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char base[] = "/tmp/peapod-aw-test.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return pp_rm_rf(base, NULL);
}

/* A fresh empty volume directory for one test. */
static char *volume(const char *name)
{
	char *dir = xasprintf("%s/%s", base, name);
	assert_int_equal(mkdir(dir, 0755), 0);
	return dir;
}

static char *read_at(const char *dir, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	char *out = NULL;
	size_t len;
	if (pp_read_file(p, 1 << 20, &out, &len, NULL) < 0)
		return NULL;
	return out;
}

static char *link_at(const char *dir, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	char buf[512];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static bool exists(const char *dir, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

/* The number of timestamped data directories in dir. */
static int data_dirs(const char *dir)
{
	cleanup_free char *cmd =
	    xasprintf("ls -A %s | grep -c '^\\.\\.[0-9][0-9][0-9][0-9]_' || true", dir);
	FILE *f = popen(cmd, "r");
	int n = -1;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

#define FILE_(p, s, m)                                                                             \
	{                                                                                          \
		.path = (p), .data = (s), .len = sizeof(s) - 1, .mode = (m)                        \
	}

static void test_layout(void **state)
{
	(void)state;
	cleanup_free char *dir = volume("layout");
	struct pp_aw_file files[] = {FILE_("name", "pod-a", 0644),
				     FILE_("conf/app.ini", "x=1\n", 0400),
				     FILE_("empty", "", 0600)};
	bool changed = false;
	struct pp_error *err = NULL;
	assert_int_equal(pp_atomic_write(dir, files, 3, &changed, &err), 0);
	assert_true(changed);
	cleanup_free char *data = link_at(dir, "..data");
	assert_non_null(data);
	/* ..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN */
	assert_int_equal(strlen(data), strlen("..2026_12_06_00_07_01.123456789"));
	assert_int_equal(strncmp(data, "..", 2), 0);
	assert_int_equal(data[21], '.');
	cleanup_free char *l1 = link_at(dir, "name");
	cleanup_free char *l2 = link_at(dir, "conf");
	cleanup_free char *l3 = link_at(dir, "empty");
	assert_string_equal(l1, "..data/name");
	assert_string_equal(l2, "..data/conf");
	assert_string_equal(l3, "..data/empty");
	cleanup_free char *c1 = read_at(dir, "name");
	cleanup_free char *c2 = read_at(dir, "conf/app.ini");
	assert_string_equal(c1, "pod-a");
	assert_string_equal(c2, "x=1\n");
	struct stat st;
	cleanup_free char *p = xasprintf("%s/conf/app.ini", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_false(exists(dir, PP_AW_DATA_TMP));
	assert_int_equal(data_dirs(dir), 1);
}

static void test_idempotent(void **state)
{
	(void)state;
	cleanup_free char *dir = volume("same");
	struct pp_aw_file files[] = {FILE_("a", "1", 0644), FILE_("b/c", "2", 0644)};
	bool changed = false;
	assert_int_equal(pp_atomic_write(dir, files, 2, &changed, NULL), 0);
	assert_true(changed);
	cleanup_free char *before = link_at(dir, "..data");
	assert_int_equal(pp_atomic_write(dir, files, 2, &changed, NULL), 0);
	assert_false(changed);
	cleanup_free char *after = link_at(dir, "..data");
	assert_string_equal(before, after);
	/* a lost visible symlink comes back without a rewrite */
	cleanup_free char *a = xasprintf("%s/a", dir);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(pp_atomic_write(dir, files, 2, &changed, NULL), 0);
	assert_false(changed);
	cleanup_free char *l = link_at(dir, "a");
	assert_string_equal(l, "..data/a");
	/* a group change alone is a change (kubelet's fsGroup) */
	files[1].gid = 1234;
	assert_int_equal(pp_atomic_write(dir, files, 2, &changed, NULL), 0);
	assert_true(changed);
	struct stat st;
	cleanup_free char *c = xasprintf("%s/b/c", dir);
	assert_int_equal(stat(c, &st), 0);
	assert_int_equal(st.st_gid, 1234);
	assert_int_equal(pp_atomic_write(dir, files, 2, &changed, NULL), 0);
	assert_false(changed);
	/* a mode change alone is a change */
	files[0].mode = 0600;
	assert_int_equal(pp_atomic_write(dir, files, 2, &changed, NULL), 0);
	assert_true(changed);
	cleanup_free char *third = link_at(dir, "..data");
	assert_string_not_equal(third, before);
	assert_false(exists(dir, before));
	assert_int_equal(data_dirs(dir), 1);
}

static void test_update_add_remove(void **state)
{
	(void)state;
	cleanup_free char *dir = volume("update");
	struct pp_aw_file v1[] = {FILE_("keep", "old", 0644), FILE_("gone", "x", 0644),
				  FILE_("d/gone", "y", 0644)};
	struct pp_aw_file v2[] = {FILE_("keep", "new", 0644), FILE_("added/f", "z", 0644)};
	bool changed = false;
	assert_int_equal(pp_atomic_write(dir, v1, 3, &changed, NULL), 0);
	cleanup_free char *old = link_at(dir, "..data");
	assert_int_equal(pp_atomic_write(dir, v2, 2, &changed, NULL), 0);
	assert_true(changed);
	cleanup_free char *keep = read_at(dir, "keep");
	cleanup_free char *added = read_at(dir, "added/f");
	assert_string_equal(keep, "new");
	assert_string_equal(added, "z");
	assert_false(exists(dir, "gone"));
	assert_false(exists(dir, "d"));
	assert_false(exists(dir, old));
	assert_int_equal(data_dirs(dir), 1);
	/* a data directory a crash left half-written goes with the next update */
	cleanup_free char *crashed = xasprintf("%s/..2020_01_01_00_00_00.000000001", dir);
	assert_int_equal(mkdir(crashed, 0755), 0);
	assert_int_equal(pp_atomic_write(dir, v1, 3, &changed, NULL), 0);
	assert_true(changed);
	assert_false(exists(dir, "..2020_01_01_00_00_00.000000001"));
	assert_int_equal(data_dirs(dir), 1);
	/* a file the user put there is not ours to remove */
	cleanup_free char *mine = xasprintf("%s/mine", dir);
	assert_int_equal(pp_write_file_atomic(mine, "m", 1, 0644, NULL), 0);
	assert_int_equal(pp_atomic_write(dir, v1, 3, &changed, NULL), 0);
	assert_true(exists(dir, "mine"));
	/* and an empty payload leaves only the bookkeeping */
	assert_int_equal(pp_atomic_write(dir, NULL, 0, &changed, NULL), 0);
	assert_true(changed);
	assert_false(exists(dir, "keep"));
	assert_false(exists(dir, "gone"));
	assert_true(exists(dir, "..data"));
	assert_int_equal(data_dirs(dir), 1);
}

static void test_bad_paths(void **state)
{
	(void)state;
	static const char *const bad[] = {"",	    "/etc/passwd", "..",   "../x", "a/../b",
					  "..data", "..a/b",	   "a/..", NULL};
	static const char *const good[] = {"a", "a/b", "a/..b", "a..", "a/.../b", "./a", NULL};
	for (size_t i = 0; bad[i]; i++) {
		struct pp_error *err = NULL;
		assert_int_equal(pp_aw_validate_path(bad[i], &err), -1);
		assert_int_equal(err->status, EINVAL);
		assert_non_null(strstr(err->msg, "invalid path"));
		pp_error_free(&err);
	}
	for (size_t i = 0; good[i]; i++)
		assert_int_equal(pp_aw_validate_path(good[i], NULL), 0);
	char longname[PP_AW_MAX_NAME + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(pp_aw_validate_path(longname, NULL), -1);
	longname[PP_AW_MAX_NAME] = '\0';
	assert_int_equal(pp_aw_validate_path(longname, NULL), 0);
	char *longpath = xmalloc(PP_AW_MAX_PATH + 2);
	for (size_t i = 0; i <= PP_AW_MAX_PATH; i++)
		longpath[i] = i % 2 ? '/' : 'p';
	longpath[PP_AW_MAX_PATH + 1] = '\0';
	assert_int_equal(pp_aw_validate_path(longpath, NULL), -1);
	free(longpath);
}

static void test_bad_payload_changes_nothing(void **state)
{
	(void)state;
	cleanup_free char *dir = volume("bad");
	struct pp_aw_file v1[] = {FILE_("a", "1", 0644)};
	assert_int_equal(pp_atomic_write(dir, v1, 1, NULL, NULL), 0);
	cleanup_free char *before = link_at(dir, "..data");
	struct pp_aw_file dup[] = {FILE_("b", "1", 0644), FILE_("./b", "2", 0644)};
	struct pp_aw_file clash[] = {FILE_("b", "1", 0644), FILE_("b/c", "2", 0644)};
	struct pp_aw_file escape[] = {FILE_("b", "1", 0644), FILE_("../b", "2", 0644)};
	struct pp_aw_file hidden[] = {FILE_("./..x", "1", 0644)};
	struct pp_error *err = NULL;
	assert_int_equal(pp_atomic_write(dir, hidden, 1, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "must not start with '..'"));
	pp_error_free(&err);
	assert_int_equal(pp_atomic_write(dir, dup, 2, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "duplicate path b"));
	pp_error_free(&err);
	assert_int_equal(pp_atomic_write(dir, clash, 2, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "both a file and the directory"));
	pp_error_free(&err);
	assert_int_equal(pp_atomic_write(dir, escape, 2, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "must not contain '..'"));
	pp_error_free(&err);
	cleanup_free char *after = link_at(dir, "..data");
	assert_string_equal(before, after);
	assert_false(exists(dir, "b"));
	assert_int_equal(data_dirs(dir), 1);
	/* a missing volume directory is an error naming it */
	cleanup_free char *missing = xasprintf("%s/missing", base);
	assert_int_equal(pp_atomic_write(missing, v1, 1, NULL, &err), -1);
	assert_non_null(strstr(err->msg, missing));
	pp_error_free(&err);
}

#define TORN_SIZE 65536
#define TORN_UPDATES 300

/* Reads name below dfd whole; 0 and the version (its repeated byte) when
 * it is one version throughout, 1 when torn, -1 when it vanished (the old
 * directory removed under the reader: it retries). */
static int read_version(int dfd, const char *name, char *version)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	static char buf[TORN_SIZE + 1];
	size_t len = 0;
	ssize_t r;
	while ((r = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (len != TORN_SIZE)
		return 1;
	for (size_t i = 1; i < len; i++)
		if (buf[i] != buf[0])
			return 1;
	*version = buf[0];
	return 0;
}

/* The reader: files whole, and the two files read through one ..data of
 * the same version, until the writer is done (stdin closed). */
static int reader(const char *dir, int done_fd)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 2;
	for (;;) {
		char va, vb, vv;
		int data = openat(dfd, PP_AW_DATA_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (data >= 0) {
			int ra = read_version(data, "a", &va), rb = read_version(data, "b", &vb);
			close(data);
			if (ra == 1 || rb == 1 || (ra == 0 && rb == 0 && va != vb))
				return 1;
		}
		if (read_version(dfd, "a", &vv) == 1)
			return 1;
		char c;
		if (read(done_fd, &c, 1) == 0)
			return 0;
	}
}

static void test_reader_never_sees_half_an_update(void **state)
{
	(void)state;
	cleanup_free char *dir = volume("torn");
	cleanup_free char *content = xmalloc(TORN_SIZE);
	memset(content, 'A', TORN_SIZE);
	struct pp_aw_file files[] = {
	    {.path = "a", .data = content, .len = TORN_SIZE, .mode = 0644},
	    {.path = "b", .data = content, .len = TORN_SIZE, .mode = 0644}};
	assert_int_equal(pp_atomic_write(dir, files, 2, NULL, NULL), 0);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	/* the reader's end non-blocking: a poll of "done" between rounds */
	assert_int_equal(fcntl(pipefd[0], F_SETFL, O_NONBLOCK), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[1]);
		_exit(reader(dir, pipefd[0]));
	}
	close(pipefd[0]);
	for (int i = 1; i <= TORN_UPDATES; i++) {
		memset(content, 'A' + i % 26, TORN_SIZE);
		bool changed = false;
		assert_int_equal(pp_atomic_write(dir, files, 2, &changed, NULL), 0);
		assert_true(changed || i % 26 == 0);
	}
	close(pipefd[1]);
	int wstatus = 0;
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
	assert_int_equal(data_dirs(dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_idempotent),
	    cmocka_unit_test(test_update_add_remove),
	    cmocka_unit_test(test_bad_paths),
	    cmocka_unit_test(test_bad_payload_changes_nothing),
	    cmocka_unit_test(test_reader_never_sees_half_an_update),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
