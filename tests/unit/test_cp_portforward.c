/* What `peapod cp` and `port-forward` do without a pod: the tree copy
 * between two directories of this host (kinds, modes, times, owners,
 * replacing, merging, never following a symlink) and the port pairs. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops/cp_internal.h"
#include "ops/portforward.h"
#include "util/cleanup.h"
#include "util/fs.h"

static void test_port_pairs(void **state)
{
	(void)state;
	struct pp_port_pair p;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_port_pair_parse("80", &p, &err), 0);
	assert_int_equal(p.remote, 80);
	assert_int_equal(p.local, 0);
	assert_int_equal(pp_port_pair_parse("8080:80", &p, &err), 0);
	assert_int_equal(p.local, 8080);
	assert_int_equal(p.remote, 80);
	assert_int_equal(pp_port_pair_parse(":80", &p, &err), 0);
	assert_int_equal(p.local, 0);
	assert_int_equal(p.remote, 80);
	assert_int_equal(pp_port_pair_parse("65535:1", &p, &err), 0);
	const char *bad[] = {
	    "",	   "0",	  "65536", "8080:", "a:80", "80:a",	"-1",
	    "+80", " 80", "80 ",   "1:2:3", "0:80", "70000:80", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pp_error_free(&err);
		assert_int_equal(pp_port_pair_parse(bad[i], &p, &err), -1);
		assert_non_null(strstr(err->msg, "want [LOCAL:]REMOTE"));
	}
}

struct tree {
	char *root;
	int src, dst;
	int skipped;
};

static void on_skip(void *ctx, const char *path, const char *why)
{
	(void)path;
	(void)why;
	((struct tree *)ctx)->skipped++;
}

static int tree_setup(void **state)
{
	struct tree *t = xmalloc(sizeof(*t));
	char tmpl[] = "/tmp/peapod-test-cp.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	t->root = xstrdup(tmpl);
	cleanup_free char *s = xasprintf("%s/src", t->root);
	cleanup_free char *d = xasprintf("%s/dst", t->root);
	assert_int_equal(mkdir(s, 0755), 0);
	assert_int_equal(mkdir(d, 0755), 0);
	t->src = open(s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->dst = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	close(t->src);
	close(t->dst);
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_rm_rf(t->root, &err), 0);
	free(t->root);
	free(t);
	return 0;
}

static void put(int dir, const char *name, const char *text, mode_t mode)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *get(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	assert_true(fd >= 0);
	char *out = NULL;
	size_t len = 0;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_read_fd(fd, 1 << 20, &out, &len, &err), 0);
	close(fd);
	return out;
}

static void test_tree(void **state)
{
	struct tree *t = *state;
	const struct cp_tree how = {.on_skip = on_skip, .ctx = t};
	cleanup_error struct pp_error *err = NULL;
	/* src/d: a file 0640 with an old mtime, a symlink out of the tree,
	 * a fifo, a socket, a 0700 subdirectory */
	assert_int_equal(mkdirat(t->src, "d", 0755), 0);
	assert_int_equal(mkdirat(t->src, "d/sub", 0700), 0);
	put(t->src, "d/f", "data", 0640);
	const struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	assert_int_equal(utimensat(t->src, "d/f", old, 0), 0);
	assert_int_equal(symlinkat("../../../etc/passwd", t->src, "d/link"), 0);
	assert_int_equal(mkfifoat(t->src, "d/fifo", 0600), 0);
	int sock = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/src/d/sock", t->root);
	assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(sock);

	assert_int_equal(cp_tree_copy(&how, t->src, "d", t->dst, "copy", "d", &err), 0);
	assert_int_equal(t->skipped, 1);
	struct stat st;
	assert_int_equal(fstatat(t->dst, "copy/f", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	cleanup_free char *data = get(t->dst, "copy/f");
	assert_string_equal(data, "data");
	char target[64] = {0};
	assert_int_equal(readlinkat(t->dst, "copy/link", target, sizeof(target) - 1), 19);
	assert_string_equal(target, "../../../etc/passwd");
	assert_int_equal(fstatat(t->dst, "copy/fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(fstatat(t->dst, "copy/sub", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(fstatat(t->dst, "copy/sock", &st, AT_SYMLINK_NOFOLLOW), -1);

	/* Again onto the copy: merged, the file replaced. */
	put(t->src, "d/f", "new", 0600);
	assert_int_equal(cp_tree_copy(&how, t->src, "d", t->dst, "copy", "d", &err), 0);
	cleanup_free char *again = get(t->dst, "copy/f");
	assert_string_equal(again, "new");

	/* A file onto a symlink replaces the symlink, never writes through it. */
	put(t->src, "victim", "host", 0644);
	assert_int_equal(symlinkat("../src/victim", t->dst, "trap"), 0);
	put(t->src, "f2", "payload", 0644);
	assert_int_equal(cp_tree_copy(&how, t->src, "f2", t->dst, "trap", "f2", &err), 0);
	cleanup_free char *victim = get(t->src, "victim");
	assert_string_equal(victim, "host");
	cleanup_free char *trap = get(t->dst, "trap");
	assert_string_equal(trap, "payload");

	/* A file onto a directory, a directory onto a file: refused. */
	assert_int_equal(cp_tree_copy(&how, t->src, "f2", t->dst, "copy", "f2", &err), -1);
	assert_non_null(strstr(err->msg, "cannot overwrite directory"));
	pp_error_free(&err);
	assert_int_equal(cp_tree_copy(&how, t->src, "d", t->dst, "trap", "d", &err), -1);
	assert_non_null(strstr(err->msg, "cannot overwrite non-directory"));
	pp_error_free(&err);
	/* a missing source names itself */
	assert_int_equal(cp_tree_copy(&how, t->src, "none", t->dst, "x", "src/none", &err), -1);
	assert_string_equal(err->msg, "src/none");
	assert_int_equal(err->status, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_port_pairs),
	    cmocka_unit_test_setup_teardown(test_tree, tree_setup, tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
