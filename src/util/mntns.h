/* A short visit to another mount namespace (a pod's volumes namespace), or
 * to a new one: setns(CLONE_NEWNS) puts the root and the working directory
 * at the namespace's root, so both are kept by fd and given back on the way
 * home (a chroot stays one). setns moves only the calling thread's
 * filesystem view if it shares it with none: callers are single-threaded. */
#ifndef PEAPOD_MNTNS_H
#define PEAPOD_MNTNS_H

#include "util/error.h"

struct pp_mntns_visit {
	int home, root, cwd; /* -1 when not inside */
};

#define PP_MNTNS_VISIT_INIT                                                                        \
	{                                                                                          \
		.home = -1, .root = -1, .cwd = -1                                                  \
	}

/* Enters the mount namespace target (a namespace fd), or a new copy of
 * ours (unshare) when target is -1. */
int pp_mntns_enter(struct pp_mntns_visit *v, int target, struct pp_error **err);

/* Back home, root and working directory as they were; nothing when not
 * inside (idempotent). Failing to return is fatal (abort): everything else
 * the process does would see the wrong mounts. */
void pp_mntns_leave(struct pp_mntns_visit *v);

#define cleanup_mntns_visit __attribute__((cleanup(pp_mntns_leave)))

#endif
