/* Reaching a running container of a pod from the CLI's process: its main
 * process's pidfd, handed over by the pod's supervisor (the same request
 * exec makes), for the verbs that work on the container from outside it
 * (cp through its root, port-forward through its network namespace). */
#ifndef PEAPOD_OPS_REACH_H
#define PEAPOD_OPS_REACH_H

#include "util/error.h"

struct pp_container_reach {
	char *container; /* its name (the first app container when none was asked) */
	int pidfd;	 /* its main process, owned */
	int pid;	 /* the same, in our PID namespace */
	int ctl;	 /* the control connection, kept: it closes when the supervisor exits */
};

/* The pod must exist and its container run; container NULL: the first app
 * container, as kubectl picks it. Errors name the pod and the container. */
int pp_container_reach(const char *ns, const char *name, const char *container,
		       struct pp_container_reach *r, struct pp_error **err);
/* The first container of the pod that runs (app containers, then
 * sidecars), for what its containers share (the network namespace). */
int pp_pod_reach(const char *ns, const char *name, struct pp_container_reach *r,
		 struct pp_error **err);

/* Opens /proc/PID/<what> of the container's process ("root", "ns/net",
 * "uid_map") with flags, then checks that the pidfd's process still lives,
 * so that the pid was not reused meanwhile. Returns the fd or -1 and err. */
int pp_container_reach_open(const struct pp_container_reach *r, const char *what, int flags,
			    struct pp_error **err);

/* Idempotent. */
void pp_container_reach_free(struct pp_container_reach *r);

#endif
