/* How a child tells its parent that its set-up failed, as crun does: the
 * parent makes a pipe (O_CLOEXEC, or a socket), forks or clones, closes its
 * write end and reads. The child reports the pp_error that stopped it (its
 * errno and message) and _exits; a child that exec'd closed the pipe by
 * doing so (EOF: no report). A child that goes on running instead of
 * exec'ing says so with pp_child_report_ready. The parent gets the child's
 * error back as its own pp_error, errno included. */
#ifndef PEAPOD_CHILD_REPORT_H
#define PEAPOD_CHILD_REPORT_H

#include <stdbool.h>

#include "util/error.h"

/* The exit status of a child whose set-up failed, as a shell's for a
 * command it could not run. */
#define PP_CHILD_SETUP_FAILED 127

/* The child: writes e (NULL: "unknown error") to fd, then
 * _exit(PP_CHILD_SETUP_FAILED). Needs no heap: safe in a child sharing the
 * parent's memory (CLONE_VM). */
__attribute__((noreturn)) void pp_child_report_error(int fd, const struct pp_error *e);

/* The same from an errno value (0: none) and a message. */
__attribute__((noreturn)) void pp_child_report_errno(int fd, int errnum, const char *msg);

/* Writes e without exiting, for a child with more to undo before it goes
 * (a supervisor removing what it made). 0, or -1 when the parent is gone. */
int pp_child_report_send(int fd, const struct pp_error *e);

/* The child set itself up and goes on (without exec): tells the parent so,
 * for a parent that must tell that from a child that died (need_ready). */
int pp_child_report_ready(int fd);

/* The parent: 0 when the child reported ready, or closed fd without a
 * report and !need_ready; -1 with the child's error, or ECHILD when it
 * went away without a word while need_ready. */
int pp_child_report_read(int fd, bool need_ready, struct pp_error **err);

#endif
