/* apply of a Pod that exists, as the API server treats an update
 * (ValidatePodUpdate): the same manifest is unchanged and touches nothing;
 * labels, annotations and added tolerations are written to the pod's
 * record in place; a container's new image restarts that container with
 * it (the supervisor's "image" request, as kubelet does on a changed
 * container hash; an init container's is recorded only); a first or
 * smaller activeDeadlineSeconds counts from the pod's start (the
 * supervisor's "deadline" request); any other change is
 * refused with the API server's message, or with force deletes the pod and
 * makes it anew. */
#ifndef PEAPOD_OPS_POD_UPDATE_H
#define PEAPOD_OPS_POD_UPDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest/manifest.h"
#include "util/error.h"

enum pp_pod_update_result {
	PP_POD_UPDATE_ABSENT,	  /* no pod of that name: create it */
	PP_POD_UPDATE_UNCHANGED,  /* the same: nothing touched */
	PP_POD_UPDATE_CONFIGURED, /* changed in place */
	PP_POD_UPDATE_RECREATE,	  /* force: the old pod was deleted, create it */
};

/* What changed between the pod's manifest and text (spec: its parsed
 * form, namespace final), done; -1 with the API server's message
 * ("The Pod \"x\" is invalid: spec: Forbidden: pod updates may not change
 * fields other than ...") for a change not allowed, unless force. */
int pp_pod_update(const struct pp_pod *spec, const char *text, size_t len, bool force,
		  enum pp_pod_update_result *res, struct pp_error **err);

#endif
