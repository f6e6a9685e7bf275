/* The stored workloads (Deployments, ReplicaSets, DaemonSets, Jobs):
 * $PEAPOD_ROOT/objects/<ns>/<plural>/<name>.json, the API's JSON with
 * metadata.uid, creationTimestamp, generation (bumped when the spec
 * changes) and the status its controller writes (status.observedGeneration
 * ...), each write atomic (a rename over the file) and serialised with the
 * other writers of the namespace. Types and parsing are src/manifest's
 * (workload.h). */
#ifndef PEAPOD_WORKLOAD_STORE_H
#define PEAPOD_WORKLOAD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "manifest/workload.h"
#include "objects/objects.h"
#include "util/error.h"

struct json_object;

/* Creates or updates w (its object's JSON in text: the input's spec,
 * labels and annotations are kept; the status stays the controller's).
 * w->uid, created and generation are set from the stored object or anew. */
int pp_workload_apply(struct pp_workload *w, const char *text, enum pp_object_apply_result *res,
		      struct pp_error **err);

/* The workload; *obj (may be NULL) the whole stored object (status
 * included). PP_OBJECT_NOT_FOUND (`deployments.apps "x" not found`). */
int pp_workload_get(enum pp_workload_kind kind, const char *ns, const char *name,
		    struct pp_workload **out, struct json_object **obj, struct pp_error **err);

/* Every workload of kind in ns (NULL: every namespace), by name; the
 * stored objects in objs (may be NULL). */
int pp_workload_list(enum pp_workload_kind kind, const char *ns, struct pp_workload ***out,
		     struct json_object ***objs, size_t *n, struct pp_error **err);
void pp_workload_list_free(struct pp_workload **ws, struct json_object **objs, size_t n);

/* Replaces the status of the workload of that uid (a controller's); no
 * write when it is the same. PP_OBJECT_NOT_FOUND when it is gone (or is
 * another object of that name now). */
int pp_workload_set_status(enum pp_workload_kind kind, const char *ns, const char *name,
			   const char *uid, struct json_object *status, struct pp_error **err);

/* `scale`: spec.replicas set (generation bumped when it changes). */
int pp_workload_scale(enum pp_workload_kind kind, const char *ns, const char *name,
		      int32_t replicas, struct pp_error **err);

/* `rollout restart`: the template's annotation
 * kubectl.kubernetes.io/restartedAt set to now. */
int pp_workload_restart(enum pp_workload_kind kind, const char *ns, const char *name,
			struct pp_error **err);

/* Removes it; PP_OBJECT_NOT_FOUND when there is none. */
int pp_workload_delete(enum pp_workload_kind kind, const char *ns, const char *name,
		       struct pp_error **err);

/* The file and its directory (made when missing, for a watcher). */
char *pp_workload_path(enum pp_workload_kind kind, const char *ns, const char *name);
char *pp_workload_dir(enum pp_workload_kind kind, const char *ns, struct pp_error **err);

/* Every namespace that has a directory under objects/ (for a scan). */
int pp_workload_namespaces(char ***out, size_t *n, struct pp_error **err);

#endif
