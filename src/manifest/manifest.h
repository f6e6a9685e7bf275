/* src/manifest: owns the manifest: YAML -> the typed pod spec
 * (pod_spec.h), validation with file:line:column errors, quantities and
 * $(VAR) expansion. Pure code over src/security's names and src/util. Must
 * not create anything on the host (processes, files, cgroups), nor include
 * any layer above it; the layers below use pod_spec.h's types only.
 *
 * Manifest parsing: Kubernetes v1 Pod YAML -> struct pp_pod. */
#ifndef PEAPOD_MANIFEST_H
#define PEAPOD_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest/pod_spec.h"
#include "util/error.h"

/* Parses and validates a whole manifest: one Pod (several objects are
 * pp_manifest_set_parse's). On failure returns -1 and the error
 * message has the form "FILE:LINE:COLUMN: field.path: what is wrong", e.g.
 * "pod.yaml:12:9: spec.containers[1].volumeMounts[0].name: volume \"data\" is not declared in
 * spec.volumes". source_name is what messages call the file ("-" is shown as "<stdin>"). */
int pp_spec_parse_buffer(const char *source_name, const char *buf, size_t len, struct pp_pod **out,
			 struct pp_error **err);

/* Reads path ("-" = standard input) and parses it. */
int pp_spec_parse_file(const char *path, struct pp_pod **out, struct pp_error **err);
/* The same, also returning the manifest's text (to keep with the pod). */
int pp_spec_load(const char *path, struct pp_pod **out, char **text, size_t *text_len,
		 struct pp_error **err);

/* ---- several objects at once, as kubectl apply -f takes them ---- */

/* One object of an input: a Pod, a ConfigMap, a Secret, a claim, a volume or a workload. */
struct pp_config_object;
struct pp_workload;
struct pp_manifest_item {
	struct pp_pod *pod;		 /* a Pod, or NULL */
	struct pp_config_object *object; /* a ConfigMap or Secret, or NULL */
	/* a Deployment, ReplicaSet, DaemonSet or Job (workload.h), or NULL;
	 * its text is the object as JSON */
	struct pp_workload *workload;
	char *text; /* a Pod's document (YAML or JSON), kept with it */
	size_t text_len;
	struct pp_pos pos; /* where the object starts */
};

struct pp_manifest_set {
	struct pp_manifest_item *items;
	size_t n;
};

/* Appends the objects of one input to set: YAML documents separated by
 * "---", a JSON object, or a v1 List of them (flattened). Every object is
 * validated; on the first bad one returns -1 with "FILE:LINE:COLUMN:
 * field.path: message" and leaves set as it was before the call. */
int pp_manifest_set_parse(const char *source_name, const char *buf, size_t len,
			  struct pp_manifest_set *set, struct pp_error **err);

/* kubectl's -f: each path in order; "-" is standard input, a directory
 * holds .yaml, .yml and .json files taken in name order (and, when
 * recursive, its subdirectories' the same way). All or nothing: on error
 * set is left empty. An input with no object at all is an error. */
int pp_manifest_set_load(char *const *paths, size_t n_paths, bool recursive,
			 struct pp_manifest_set *set, struct pp_error **err);

void pp_manifest_set_free(struct pp_manifest_set *set);

/* The item's kind: "Pod", "ConfigMap", ..., "Deployment". */
const char *pp_manifest_item_kind(const struct pp_manifest_item *it);

/* Kubernetes $(VAR) expansion (k8s.io/kubernetes/third_party/forked/golang/expansion):
 * $(NAME) is replaced when NAME is in the map, left as written otherwise;
 * $$ is an escaped $. lookup returns NULL for unknown names. Returns a new string. */
char *pp_expand_vars(const char *in, const char *(*lookup)(void *ctx, const char *name), void *ctx);

#endif
