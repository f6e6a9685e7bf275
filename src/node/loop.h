/* The node process's event loop: one epoll set, fds registered with a
 * callback, one-shot timers on timerfds. Single-threaded and fork-safe (a
 * supervisor forked from the node closes every fd it inherits). Small on
 * purpose: the manifest directory's watch (node.c) and, later, the CRI
 * server's listening socket and connections (src/cri, issue #19) register
 * here, each with its fd and its callback. */
#ifndef PEAPOD_NODE_LOOP_H
#define PEAPOD_NODE_LOOP_H

#include <stdint.h>

#include "util/error.h"

struct pp_loop;
/* Called with the epoll events of fd (EPOLLIN, EPOLLHUP, ...). */
typedef void (*pp_loop_fd_fn)(struct pp_loop *l, int fd, uint32_t events, void *ctx);
/* Called once when a timer fires. */
typedef void (*pp_loop_timer_fn)(struct pp_loop *l, void *ctx);
struct pp_loop_timer;

int pp_loop_new(struct pp_loop **out, struct pp_error **err);
/* Frees the timers and registrations; the registered fds are the
 * caller's (not closed). */
void pp_loop_free(struct pp_loop *l);

/* Watches fd for events (EPOLLIN, EPOLLOUT: level-triggered); fn is called
 * from pp_loop_run. One registration per fd. */
int pp_loop_add(struct pp_loop *l, int fd, uint32_t events, pp_loop_fd_fn fn, void *ctx,
		struct pp_error **err);
/* Changes the events watched (EPOLLOUT on and off for a writer). */
int pp_loop_modify(struct pp_loop *l, int fd, uint32_t events, struct pp_error **err);
/* Forgets fd (safe from a callback, also from fd's own); the caller closes
 * it after. */
void pp_loop_remove(struct pp_loop *l, int fd);

/* A one-shot timer, disarmed until pp_loop_timer_arm. */
int pp_loop_timer_new(struct pp_loop *l, pp_loop_timer_fn fn, void *ctx, struct pp_loop_timer **out,
		      struct pp_error **err);
/* Fires once in ms (>= 1) milliseconds from now, replacing an earlier arm;
 * 0 disarms it. */
void pp_loop_timer_arm(struct pp_loop_timer *t, int64_t ms);
/* Whether it is armed and has not fired yet. */
int pp_loop_timer_armed(const struct pp_loop_timer *t);

/* Dispatches until pp_loop_stop (0) or epoll fails (-1). */
int pp_loop_run(struct pp_loop *l, struct pp_error **err);
void pp_loop_stop(struct pp_loop *l);

#endif
