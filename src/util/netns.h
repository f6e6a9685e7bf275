/* A short visit to another network namespace (a pod's): a socket keeps the
 * namespace it was made in, and /proc/sys/net shows the namespace of the
 * process that opens it, so making one there and coming straight back is
 * enough. setns moves only the calling thread: callers are single-threaded. */
#ifndef PEAPOD_NETNS_H
#define PEAPOD_NETNS_H

#include <stdbool.h>

#include "util/error.h"

struct pp_netns_visit {
	int home;    /* the caller's own network namespace, -1 until first needed */
	bool inside; /* entered and not yet left */
};

#define PP_NETNS_VISIT_INIT                                                                        \
	{                                                                                          \
		.home = -1, .inside = false                                                        \
	}

/* Enters the network namespace of target (a namespace fd, or a pidfd on
 * 5.8+), first opening the caller's own when v does not hold it yet (a
 * caller that visits often keeps v, and so that fd, for the next time). */
int pp_netns_enter(struct pp_netns_visit *v, int target, struct pp_error **err);

/* Back home; nothing when not inside (idempotent). Failing to return is
 * fatal (abort): everything else the process does would happen in the
 * pod's namespace. */
void pp_netns_leave(struct pp_netns_visit *v);

/* Leaves, then closes the home fd. */
void pp_netns_visit_end(struct pp_netns_visit *v);

#define cleanup_netns_visit __attribute__((cleanup(pp_netns_visit_end)))

#endif
