/* `peapod apply` and `run`'s start: a pod from its manifest, under a
 * supervisor of its own. */
#ifndef PEAPOD_OPS_APPLY_H
#define PEAPOD_OPS_APPLY_H

#include <stddef.h>

#include "manifest/manifest.h"
#include "util/error.h"

struct pp_apply_opts {
	const char *store_root; /* NULL: default */
	const char *manifest;	/* the manifest's text, kept with the pod */
	size_t manifest_len;
	/* A file of the caller's written into the pod's state directory before
	 * the pod can be seen (its name claimed, its supervisor started), and
	 * removed with it when the apply fails: the CRI's sandbox record, so
	 * that no pod is ever up without it. NULL: none. */
	const char *extra_file;
	const void *extra_data;
	size_t extra_len;
	/* -n: the namespace of a manifest that names none, as kubectl takes
	 * it; one that names another is refused. NULL: the manifest's. */
	const char *namespace_;
	/* --network NAME|none: instead of the manifest's annotation. */
	const char *network;
	/* apply --force: a pod whose change cannot be made in place is
	 * deleted and made anew (pp_set_apply; ops/pod_update.h) */
	bool force;
	/* replace --force: every pod of the input that exists is deleted
	 * first (graceful stop), then made anew ("replaced") */
	bool recreate;
	/* The caller is short-lived (the CLI): the supervisor is forked once,
	 * its child until it exits (supervisor.h's pp_supervisor_spawn), not
	 * through an intermediate process. Never for a long-lived caller (the
	 * node, a controller, the CRI server): its supervisors' exits would
	 * leave it zombies. */
	bool short_lived_caller;
	/* `run`: where apply leaves (on success) the caller's end of a
	 * control connection made before the supervisor's fork, that awaits
	 * the pod's end and its record's removal ("await remove",
	 * supervisor/control.h). NULL: none. */
	int *await_fd;
};

/* What pp_pod_apply returns for a request at odds with its manifest (bad
 * usage: nothing was created), as against -1 for a pod that failed. */
#define PP_APPLY_BAD_REQUEST (-2)

/* Starts a supervisor process for spec (taking ownership of it), detached
 * from the caller, and returns once the pod is up: its sandbox exists and
 * its first containers were started. A pod that cannot be created (name
 * taken, image missing, hostPath check) fails here with nothing left
 * behind. *uid (may be NULL) receives the pod's uid. */
int pp_pod_apply(struct pp_pod *spec, const struct pp_apply_opts *opts, char **uid,
		 struct pp_error **err);

#endif
