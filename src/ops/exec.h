/* kubectl exec: a process in a running container, started by the calling
 * process itself (its child, so the exit status comes straight back) with
 * what the pod's supervisor hands over through its control socket: the
 * container's pidfd, cgroups, environment and identity. */
#ifndef PEAPOD_OPS_EXEC_H
#define PEAPOD_OPS_EXEC_H

#include <stdbool.h>

#include "util/error.h"

struct pp_pod_exec_opts {
	const char *ns, *name;
	const char *container; /* NULL: the first app container, as kubectl picks it */
	bool in;	       /* our stdin to the process's */
	bool tty;	       /* a terminal of the container's, relayed to ours */
};

/* Runs cmd in the container, our stdout and stderr its own. Returns its exit
 * status (128+N when killed by signal N). -1 with err when the pod or the
 * container cannot be reached; PP_EXEC_NOT_FOUND (127, the executable is
 * missing) or PP_EXEC_CANNOT_RUN (126) with err when the process could not
 * be started, as runc and docker report it. */
int pp_pod_exec(const struct pp_pod_exec_opts *o, char *const *cmd, struct pp_error **err);

/* The same process with stdio of the caller's choosing, for the CRI's
 * streams: in, out and errfd (-1: /dev/null; ignored with tty, where the
 * process gets a terminal of the container's, its master in p->pty_master,
 * rows x cols at first unless 0). Returns once it has exec'd: 0 and p (the
 * caller waits with pp_exec_wait); -1 with err when the pod or the
 * container cannot be reached; PP_EXEC_NOT_FOUND or PP_EXEC_CANNOT_RUN with
 * err when the process could not be started. o->in and o->tty are ignored:
 * io says it. */
struct pp_exec_process;
struct pp_pod_exec_io {
	int in, out, errfd;
	bool tty;
	unsigned short rows, cols;
};
int pp_pod_exec_start(const struct pp_pod_exec_opts *o, char *const *cmd,
		      const struct pp_pod_exec_io *io, struct pp_exec_process *p,
		      struct pp_error **err);

#endif
