/* The verbs on several objects at once (apply -f, replace --force -f,
 * delete -f of a whole input: Pods, ConfigMaps, Secrets,
 * PersistentVolumeClaims, PersistentVolumes) and on ConfigMaps and Secrets
 * alone (create configmap|secret; get, describe and delete go straight to
 * the store, objects/objects.h, or through ops/claims.h for claims and
 * volumes). */
#ifndef PEAPOD_OPS_OBJECTS_H
#define PEAPOD_OPS_OBJECTS_H

#include <stdbool.h>

#include "manifest/manifest.h"
#include "objects/objects.h"
#include "ops/apply.h"
#include "ops/ops.h"

/* What happened to one object: resource ("pod", "configmap", "secret"),
 * its name, and either result ("created", "configured", "unchanged",
 * "deleted") or err; result PP_SET_WARNING with err: a warning only. */
#define PP_SET_WARNING "warning"
typedef void (*pp_set_report_fn)(void *ctx, const char *resource, const char *name,
				 const char *result, const struct pp_error *err);

/* Everything that can be known before anything is written: -n (ns, may
 * be NULL) set on every object that names no namespace, refused for one
 * that names another; each ConfigMap and Secret checked against the store
 * (immutable). PP_APPLY_BAD_REQUEST with err on the first problem. */
int pp_set_prepare(struct pp_manifest_set *set, const char *ns, struct pp_error **err);

/* apply -f: the ConfigMaps and Secrets first (a pod may use them), then
 * the Pods, each reported; an object that fails does not stop the others,
 * as kubectl. -1 when any failed. The Pods are taken from set. */
int pp_set_apply(struct pp_manifest_set *set, const struct pp_apply_opts *o,
		 pp_set_report_fn report, void *ctx);

/* The ConfigMaps and Secrets of set only (run -f: before its one Pod). */
int pp_set_apply_objects(struct pp_manifest_set *set, pp_set_report_fn report, void *ctx);

/* delete -f: the Pods first, then the ConfigMaps and Secrets; -1 when any
 * could not be deleted (not found included, as kubectl). */
int pp_set_delete(const struct pp_manifest_set *set, const char *ns, const struct pp_delete_opts *o,
		  pp_set_report_fn report, void *ctx);

/* ---- create configmap / create secret ---- */

enum pp_source_kind {
	PP_SOURCE_LITERAL,  /* "key=value" */
	PP_SOURCE_FILE,	    /* "[key=]path": a file, or each regular file of a directory */
	PP_SOURCE_ENV_FILE, /* "path": KEY=VALUE lines, # comments */
};

struct pp_object_source {
	enum pp_source_kind kind;
	const char *arg;
};

/* kubectl create configmap / secret generic: an object named name in ns
 * from the sources, in order; a key given twice is an error. type: a
 * Secret's type (NULL: Opaque). A ConfigMap's file that is not UTF-8 goes
 * to binaryData as kubectl does. Validated as any input. */
int pp_object_build(enum pp_object_kind kind, const char *ns, const char *name, const char *type,
		    const struct pp_object_source *sources, size_t n, struct pp_config_object **out,
		    struct pp_error **err);

/* create secret tls: tls.crt and tls.key from the files. */
int pp_secret_build_tls(const char *ns, const char *name, const char *cert, const char *key,
			struct pp_config_object **out, struct pp_error **err);

/* create secret docker-registry: .dockerconfigjson for one registry. */
struct pp_docker_registry_args {
	const char *server; /* NULL: https://index.docker.io/v1/ */
	const char *username;
	const char *password;
	const char *email; /* may be NULL */
};
int pp_secret_build_docker_registry(const char *ns, const char *name,
				    const struct pp_docker_registry_args *a,
				    struct pp_config_object **out, struct pp_error **err);

/* Stores a built object; refused (`configmaps "x" already exists`) when
 * one of that name exists. */
int pp_object_create(struct pp_config_object *o, struct pp_error **err);

#endif
