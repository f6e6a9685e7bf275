/* util/fs.h removal through the trash (rename at once, unlink by a child,
 * gc of what is left) and util/trace.h step lines. On a private temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/trace.h"
#include "util/settings.h"

static char base[] = "/tmp/peapod-trash-test.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	return pp_rm_rf(base, NULL);
}

static void make_tree(const char *dir)
{
	struct pp_error *err = NULL;
	cleanup_free char *sub = xasprintf("%s/a/b", dir);
	assert_int_equal(pp_mkdir_p(sub, 0755, &err), 0);
	cleanup_free char *file = xasprintf("%s/a/b/f", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static void test_discard_moves_then_unlinks(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *dir = xasprintf("%s/pod", base);
	cleanup_free char *trash = xasprintf("%s/trash/pod", base);
	make_tree(dir);
	assert_int_equal(pp_discard_dir(dir, trash, &err), 0);
	assert_false(exists(dir));
	/* The child unlinks it; reap it (we are its parent) and look. */
	int status;
	assert_true(wait(&status) > 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_false(exists(trash));
	/* Idempotent: nothing to discard is success. */
	assert_int_equal(pp_discard_dir(dir, trash, &err), 0);
	assert_null(err);
}

static void test_discard_without_trash_removes_now(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *dir = xasprintf("%s/pod2", base);
	cleanup_free char *blocker = xasprintf("%s/notadir", base);
	cleanup_free char *trash = xasprintf("%s/notadir/pod2", base);
	make_tree(dir);
	FILE *f = fopen(blocker, "w"); /* the trash cannot be made: a file */
	assert_non_null(f);
	fclose(f);
	assert_int_equal(pp_discard_dir(dir, trash, &err), 0);
	assert_false(exists(dir));
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no child */
}

/* Several at once: one child for all that moved; one that cannot move is
 * removed at once, one that is missing is nothing to do. */
static void test_discard_several_one_child(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *a = xasprintf("%s/sa", base);
	cleanup_free char *b = xasprintf("%s/sb", base);
	cleanup_free char *c = xasprintf("%s/sc", base);
	cleanup_free char *gone = xasprintf("%s/never", base);
	cleanup_free char *ta = xasprintf("%s/trash-s/sa", base);
	cleanup_free char *tb = xasprintf("%s/trash-t/sb", base);
	cleanup_free char *tc = xasprintf("%s/notadir2/sc", base);
	cleanup_free char *tg = xasprintf("%s/trash-s/never", base);
	make_tree(a);
	make_tree(b);
	make_tree(c);
	cleanup_free char *blocker = xasprintf("%s/notadir2", base);
	FILE *f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	const char *const dirs[] = {a, b, c, gone}, *const trashes[] = {ta, tb, tc, tg};
	assert_int_equal(pp_discard_dirs(dirs, trashes, 4, &err), 0);
	assert_null(err);
	assert_false(exists(a));
	assert_false(exists(b));
	assert_false(exists(c)); /* removed in place */
	int status;
	assert_true(wait(&status) > 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* that one only */
	assert_false(exists(ta));
	assert_false(exists(tb));
	/* too many is refused, and nothing moves */
	const char *const five[] = {a, b, c, gone, a};
	assert_int_equal(pp_discard_dirs(five, five, 5, &err), -1);
	assert_int_equal(err->status, E2BIG);
	pp_error_free(&err);
}

/* After fds: the caller's copies closed at once, the child's the last
 * ones, let go of before it removes the directory (even with nothing to
 * move); -1 is skipped. A pipe's write end stands in for a namespace: its
 * read end sees EOF once nobody holds it. */
static void test_discard_after_fds(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *dir = xasprintf("%s/fa", base);
	cleanup_free char *trash = xasprintf("%s/trash-f/fa", base);
	make_tree(dir);
	for (int round = 0; round < 2; round++) {
		int p[2];
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		int fds[] = {-1, p[1], -1};
		assert_int_equal(pp_discard_dir_after(dir, trash, fds, 3, &err), 0);
		assert_null(err);
		assert_int_equal(fds[1], -1);
		assert_int_equal(fcntl(p[1], F_GETFD), -1); /* ours closed */
		char c;
		assert_int_equal(read(p[0], &c, 1), 0); /* and the child's, then */
		close(p[0]);
		int status;
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
		assert_false(exists(dir));
		assert_false(exists(trash)); /* round 1: nothing was there to move */
	}
}

/* Several directories and the fds in one child: all gone, each from its
 * own place in the trash (the pod's data, record and logs, as `run`'s
 * supervisor discards them). */
static void test_discard_dirs_after(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *a = xasprintf("%s/da", base), *b = xasprintf("%s/db", base);
	cleanup_free char *ta = xasprintf("%s/trash-a/da", base);
	cleanup_free char *tb = xasprintf("%s/trash-b/db", base);
	make_tree(a);
	make_tree(b);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	int fds[] = {p[1]};
	const char *dirs[] = {a, b}, *trashes[] = {ta, tb};
	assert_int_equal(pp_discard_dirs_after(dirs, trashes, 2, fds, 1, &err), 0);
	assert_null(err);
	assert_int_equal(fds[0], -1);
	assert_false(exists(a)); /* renamed before the return */
	assert_false(exists(b));
	char c;
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	int status;
	assert_true(wait(&status) > 0); /* one child for all */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_false(exists(ta));
	assert_false(exists(tb));
}

static void test_empty_trash(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *root = xasprintf("%s/trash2", base);
	for (int i = 0; i < 3; i++) {
		cleanup_free char *d = xasprintf("%s/%d", root, i);
		make_tree(d);
	}
	int n = 0;
	assert_int_equal(pp_empty_trash(root, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_true(exists(root));
	cleanup_free char *one = xasprintf("%s/0", root);
	assert_false(exists(one));
	/* A missing trash is empty. */
	cleanup_free char *none = xasprintf("%s/none", base);
	n = 0;
	assert_int_equal(pp_empty_trash(none, &n, &err), 0);
	assert_int_equal(n, 0);
}

static void test_trace_lines(void **state)
{
	cleanup_free char *path = xasprintf("%s/trace", base);
	setenv("PEAPOD_TRACE", path, 1);
	pp_settings_load(NULL);
	pp_trace("step %s %d", "one", 1);
	pp_trace_forget(); /* as after closing every fd: opened again */
	pp_trace("two");
	pp_trace_off();
	pp_trace("never");
	unsetenv("PEAPOD_TRACE");
	pp_settings_load(NULL);
	char *text = NULL;
	size_t len = 0;
	struct pp_error *err = NULL;
	assert_int_equal(pp_read_file(path, 4096, &text, &len, &err), 0);
	long long t1, t2;
	int p1, p2;
	char s1[32], s2[32], s3[32];
	assert_int_equal(
	    sscanf(text, "%lld %d %31s %31s %*d\n%lld %d %31s", &t1, &p1, s1, s2, &t2, &p2, s3), 7);
	assert_string_equal(s1, "step");
	assert_string_equal(s2, "one");
	assert_string_equal(s3, "two");
	assert_int_equal(p1, getpid());
	assert_true(t2 >= t1);
	assert_null(strstr(text, "never"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_discard_moves_then_unlinks),
	    cmocka_unit_test(test_discard_without_trash_removes_now),
	    cmocka_unit_test(test_discard_several_one_child),
	    cmocka_unit_test(test_discard_after_fds),
	    cmocka_unit_test(test_discard_dirs_after),
	    cmocka_unit_test(test_empty_trash),
	    cmocka_unit_test(test_trace_lines),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
