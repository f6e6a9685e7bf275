/* Process helpers: clone3, pidfds, fds and stdio of new children. */
#ifndef PEAPOD_PROC_H
#define PEAPOD_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* clone3 without a new stack: returns like fork (0 in the child). With
 * CLONE_PIDFD in flags, *pidfd receives the child's pidfd (CLOEXEC). */
pid_t pp_clone3(uint64_t flags, int *pidfd);
/* The same, the child born in the cgroup2 directory cgroup_fd (-1: ours). */
pid_t pp_clone3_into(uint64_t flags, int *pidfd, int cgroup_fd);
/* clone3 with CLONE_VM (and flags) onto stack (its lowest address, of
 * stack_size bytes): the child runs fn(arg) and exits with its return value;
 * returns the child's pid in the parent. Only where peapod knows the
 * architecture's calling convention (pp_clone3_vm_supported; x86-64): ENOSYS
 * elsewhere, where clone(2) does it without CLONE_INTO_CGROUP. */
bool pp_clone3_vm_supported(void);
pid_t pp_clone3_vm(uint64_t flags, int *pidfd, int cgroup_fd, void *stack, size_t stack_size,
		   int (*fn)(void *), void *arg);

/* A program of peapod's installed next to the running peapod binary
 * (src/progs: peapod-infra, peapod-exec), opened O_PATH|O_CLOEXEC to be
 * exec'ed through the fd; -1 when it is not there (not built for this
 * architecture): callers then do without it. */
int pp_open_program(const char *name);

int pp_pidfd_send_signal(int pidfd, int sig);

/* SIGKILL through the pidfd, then wait for the exit. */
void pp_pidfd_kill_and_reap(int pidfd);

/* Closes fd whose last close would make us wait (an inotify instance's
 * waits for an SRCU grace period, up to ~20 ms): a short-lived child
 * ("peapod-close", no other fd, stdio on /dev/null) takes the last
 * reference and waits instead; nobody waits for it (its parent, or init
 * once we are gone, reaps it). */
void pp_close_detached(int fd);

/* Closes every fd from 3 up except keep (or -1). */
void pp_close_fds_except(int keep);
/* The same, keeping the n fds of keep. */
void pp_close_fds_except_n(const int *keep, size_t n);

/* Points 0, 1, 2 at /dev/null. */
void pp_stdio_to_devnull(void);

/* Restores every signal's default disposition and unblocks all signals. */
void pp_reset_signals(void);

#endif
