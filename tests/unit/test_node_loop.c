/* The node process's event loop (src/node/loop.h): fd callbacks, a
 * registration removed from a callback (its own and another's), one-shot
 * timers re-armed and disarmed, and the unit texts. Real fds: pipes and
 * timerfds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <cmocka.h>

#include "node/loop.h"
#include "node/node.h"

struct counts {
	int reads, fires;
	int fds[2]; /* the first read removes both */
	struct pp_loop_timer *timer;
};

static void on_read(struct pp_loop *l, int fd, uint32_t events, void *ctx)
{
	struct counts *c = ctx;
	char b[16];
	assert_true(events & EPOLLIN);
	assert_true(read(fd, b, sizeof(b)) > 0);
	c->reads++;
	/* the other one first: it may be in this batch still */
	pp_loop_remove(l, fd == c->fds[0] ? c->fds[1] : c->fds[0]);
	pp_loop_remove(l, fd);
	if (c->timer)
		pp_loop_timer_arm(c->timer, 1);
}

static void on_timer(struct pp_loop *l, void *ctx)
{
	struct counts *c = ctx;
	c->fires++;
	pp_loop_stop(l);
}

static void test_fds_and_removal(void **state)
{
	struct pp_loop *l = NULL;
	struct pp_error *err = NULL;
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(pp_loop_new(&l, &err), 0);
	struct counts c = {.fds = {a[0], b[0]}};
	assert_int_equal(pp_loop_timer_new(l, on_timer, &c, &c.timer, &err), 0);
	assert_false(pp_loop_timer_armed(c.timer));
	assert_int_equal(pp_loop_add(l, a[0], EPOLLIN, on_read, &c, &err), 0);
	assert_int_equal(pp_loop_add(l, b[0], EPOLLIN, on_read, &c, &err), 0);
	/* one registration per fd */
	assert_int_equal(pp_loop_add(l, a[0], EPOLLIN, on_read, &c, &err), -1);
	pp_error_free(&err);
	/* both readable: the first callback removes the other, which must
	 * not be called although it is in the same batch */
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	assert_int_equal(pp_loop_run(l, &err), 0);
	assert_int_equal(c.reads, 1);
	assert_int_equal(c.fires, 1);
	assert_false(pp_loop_timer_armed(c.timer));
	pp_loop_free(l);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void on_never(struct pp_loop *l, void *ctx)
{
	fail_msg("a disarmed timer fired");
}

static void test_timers(void **state)
{
	struct pp_loop *l = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_loop_new(&l, &err), 0);
	struct counts c = {.fds = {-1, -1}};
	struct pp_loop_timer *never = NULL, *t = NULL;
	assert_int_equal(pp_loop_timer_new(l, on_never, NULL, &never, &err), 0);
	assert_int_equal(pp_loop_timer_new(l, on_timer, &c, &t, &err), 0);
	pp_loop_timer_arm(never, 5);
	assert_true(pp_loop_timer_armed(never));
	pp_loop_timer_arm(never, 0);
	assert_false(pp_loop_timer_armed(never));
	pp_loop_timer_arm(t, 10000); /* replaced by the next arm */
	pp_loop_timer_arm(t, 2);
	assert_int_equal(pp_loop_run(l, &err), 0);
	assert_int_equal(c.fires, 1);
	pp_loop_free(l);
}

static void test_units(void **state)
{
	char *s = pp_node_unit_text(PP_NODE_UNIT_SYSTEMD, "/usr/bin/peapod", NULL);
	assert_non_null(strstr(s, "\nExecStart=/usr/bin/peapod node\n"));
	assert_non_null(strstr(s, "\nType=notify\n"));
	assert_non_null(strstr(s, "\nKillMode=process\n"));
	free(s);
	s = pp_node_unit_text(PP_NODE_UNIT_SYSV, "/usr/bin/peapod", "/srv/m");
	assert_non_null(strstr(s, "\nDAEMON_ARGS=\"node --manifests /srv/m\"\n"));
	assert_non_null(strstr(s, "### BEGIN INIT INFO\n# Provides:          peapod-node\n"));
	assert_int_equal(strncmp(s, "#!/bin/sh\n", 10), 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fds_and_removal),
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_units),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
