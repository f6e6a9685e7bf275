/* One epoll set; a registration is its fd, its callback and a flag that
 * says it was removed (freed after the batch it may still appear in). */
#include "node/loop.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "util/cleanup.h"

#define LOOP_BATCH 32

struct reg {
	int fd;
	pp_loop_fd_fn fn;
	void *ctx;
	bool removed;
	struct reg *next;
};

struct pp_loop_timer {
	struct pp_loop *loop;
	int fd;
	bool armed;
	pp_loop_timer_fn fn;
	void *ctx;
	struct pp_loop_timer *next;
};

struct pp_loop {
	int epfd;
	bool stop;
	struct reg *regs;
	struct pp_loop_timer *timers;
};

int pp_loop_new(struct pp_loop **out, struct pp_error **err)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "epoll_create1");
	*out = xmalloc(sizeof(**out));
	**out = (struct pp_loop){.epfd = fd};
	return 0;
}

static void regs_collect(struct pp_loop *l)
{
	for (struct reg **p = &l->regs; *p;) {
		struct reg *r = *p;
		if (r->removed) {
			*p = r->next;
			free(r);
		} else {
			p = &r->next;
		}
	}
}

void pp_loop_free(struct pp_loop *l)
{
	if (l == NULL)
		return;
	for (struct pp_loop_timer *t = l->timers, *n; t; t = n) {
		n = t->next;
		close(t->fd);
		free(t);
	}
	for (struct reg *r = l->regs; r; r = r->next)
		r->removed = true;
	regs_collect(l);
	close(l->epfd);
	free(l);
}

int pp_loop_add(struct pp_loop *l, int fd, uint32_t events, pp_loop_fd_fn fn, void *ctx,
		struct pp_error **err)
{
	struct reg *r = xmalloc(sizeof(*r));
	*r = (struct reg){.fd = fd, .fn = fn, .ctx = ctx, .next = l->regs};
	struct epoll_event ev = {.events = events, .data.ptr = r};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(r);
		return pp_error_set(err, errno, "epoll_ctl add fd %d", fd);
	}
	l->regs = r;
	return 0;
}

static struct reg *reg_find(struct pp_loop *l, int fd)
{
	for (struct reg *r = l->regs; r; r = r->next)
		if (r->fd == fd && !r->removed)
			return r;
	return NULL;
}

int pp_loop_modify(struct pp_loop *l, int fd, uint32_t events, struct pp_error **err)
{
	struct reg *r = reg_find(l, fd);
	if (r == NULL)
		return pp_error_set(err, ENOENT, "fd %d is not in the loop", fd);
	struct epoll_event ev = {.events = events, .data.ptr = r};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return pp_error_set(err, errno, "epoll_ctl mod fd %d", fd);
	return 0;
}

void pp_loop_remove(struct pp_loop *l, int fd)
{
	struct reg *r = reg_find(l, fd);
	if (r == NULL)
		return;
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	r->removed = true; /* freed after the current batch */
}

static void timer_fired(struct pp_loop *l, int fd, uint32_t events, void *ctx)
{
	struct pp_loop_timer *t = ctx;
	uint64_t n;
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return; /* re-armed or disarmed since: not due */
	t->armed = false;
	t->fn(l, t->ctx);
}

int pp_loop_timer_new(struct pp_loop *l, pp_loop_timer_fn fn, void *ctx, struct pp_loop_timer **out,
		      struct pp_error **err)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return pp_error_set(err, errno, "timerfd_create");
	struct pp_loop_timer *t = xmalloc(sizeof(*t));
	*t = (struct pp_loop_timer){.loop = l, .fd = fd, .fn = fn, .ctx = ctx};
	if (pp_loop_add(l, fd, EPOLLIN, timer_fired, t, err) < 0) {
		close(fd);
		free(t);
		return -1;
	}
	t->next = l->timers;
	l->timers = t;
	*out = t;
	return 0;
}

void pp_loop_timer_arm(struct pp_loop_timer *t, int64_t ms)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (ms % 1000) * 1000000;
	(void)timerfd_settime(t->fd, 0, &its, NULL);
	t->armed = ms > 0;
}

int pp_loop_timer_armed(const struct pp_loop_timer *t)
{
	return t->armed;
}

int pp_loop_run(struct pp_loop *l, struct pp_error **err)
{
	l->stop = false;
	while (!l->stop) {
		struct epoll_event evs[LOOP_BATCH];
		int n = epoll_wait(l->epfd, evs, LOOP_BATCH, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pp_error_set(err, errno, "epoll_wait");
		for (int i = 0; i < n && !l->stop; i++) {
			struct reg *r = evs[i].data.ptr;
			if (!r->removed)
				r->fn(l, r->fd, evs[i].events, r->ctx);
		}
		regs_collect(l);
	}
	return 0;
}

void pp_loop_stop(struct pp_loop *l)
{
	l->stop = true;
}
