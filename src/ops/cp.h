/* kubectl cp: files and directories between the host and a running
 * container, through the container's root as its processes see it (its
 * volumes mounted: /proc/PID/root), every container path resolved inside
 * that root (openat2 RESOLVE_IN_ROOT, as mount targets are), so that no
 * symlink in the container leads out of it; no tar nor any other program
 * is needed in the image. */
#ifndef PEAPOD_OPS_CP_H
#define PEAPOD_OPS_CP_H

#include <stdbool.h>

#include "util/error.h"

struct pp_cp_opts {
	const char *ns, *name;
	const char *container; /* NULL: the first app container, as kubectl picks it */
	const char *pod_path;  /* the path in the container */
	const char *local_path;
	bool to_pod; /* local_path -> pod_path; else pod_path -> local_path */
	/* an entry not copied (a socket, a device node) and why; NULL: silently */
	void (*on_skip)(void *ctx, const char *path, const char *why);
	void *ctx;
};

/* Copies the source (a file, a symlink as a symlink, a directory with all
 * below it) to the destination, or into it when it is an existing
 * directory; modes and times kept. What is made in the container belongs
 * to the container's root (mapped through its user namespace), what is made
 * on the host to the caller (as docker cp does). Errors name the pod, the
 * container and the path. */
int pp_pod_cp(const struct pp_cp_opts *o, struct pp_error **err);

#endif
