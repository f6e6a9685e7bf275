/* The supervisor's control socket (<state dir>/ctl.sock, SOCK_SEQPACKET):
 * one request per message, one reply per request. Requests:
 *   "stop <grace seconds>"  delete: graceful stop (-1 = the pod's
 *                           terminationGracePeriodSeconds); 0 kills at once
 *   "exec <container>"      what exec needs: a JSON reply (env, cwd, user,
 *                           uid, gid, groups) and, as SCM_RIGHTS, the
 *                           container's pidfd then its cgroup.procs fds
 *   "attach <container>"    "ok" and, as SCM_RIGHTS, the write end of the
 *                           container's stdin (stdin: true; with stdinOnce
 *                           only once: its closing is the container's EOF)
 *   "netcheck"              CNI CHECK of the pod's network: "ok", "none"
 *                           (no network) or the error
 *   "freeze", "thaw"         freeze / thaw the pod's cgroup; "ok" once done
 *                           and recorded in status.json
 * Replies are "ok", "error <message>" or the JSON. A client that keeps its
 * connection open sees it close when the supervisor exits: that is how
 * `delete` and `run` wait for the end of a pod. */
#ifndef PEAPOD_CONTROL_H
#define PEAPOD_CONTROL_H

#include <stddef.h>

#include "util/error.h"

#define PP_CTL_MAX_MSG 65536
#define PP_CTL_MAX_FDS 16

/* Connects to the pod's supervisor (ECONNREFUSED/ENOENT when it is gone). */
int pp_ctl_connect(const char *uid, struct pp_error **err);

/* Sends req and reads the reply (NUL-terminated) and the fds that came
 * with it. A reply "error <msg>" becomes an error with that message. */
int pp_ctl_call(int fd, const char *req, char **reply, int *fds, size_t *n_fds,
		struct pp_error **err);

/* Waits until the supervisor closes the connection (it exited): 0, or -1
 * with ETIMEDOUT after timeout_ms (-1: no limit). */
int pp_ctl_wait_closed(int fd, int timeout_ms, struct pp_error **err);

/* Supervisor side: binds and listens on path (removing a stale socket). */
int pp_ctl_listen(const char *path, struct pp_error **err);

#endif
