/* src/objects: owns the ConfigMap, Secret, PersistentVolumeClaim and
 * PersistentVolume objects of this host, per namespace, as the API server
 * would keep them: the store under $PEAPOD_ROOT/objects/<namespace>/
 * {configmaps,secrets,persistentvolumeclaims}/<name>.json and
 * objects/_cluster/persistentvolumes/<name>.json (each file the object's v1
 * JSON, written atomically; secrets/ is mode 0700 and its files 0600:
 * readable by root only), create-or-update with the API server's rules
 * (immutable), look-ups by name for the pod layer, listing, deletion and
 * the API's JSON form. A claim's data is the directory
 * $PEAPOD_ROOT/volumes/<namespace>/<claim>, made with the claim and removed
 * with it (reclaim policy Delete), or the directory of the PersistentVolume
 * the claim names (Retain). Types and parsing are src/manifest's
 * (config_object.h). Must not print, nor include any layer above it. */
#ifndef PEAPOD_OBJECTS_H
#define PEAPOD_OBJECTS_H

#include <stddef.h>

#include "manifest/config_object.h"
#include "util/error.h"

/* What pp_object_get and pp_object_delete return for an object that does
 * not exist; err says `configmaps "x" not found` (the API server's
 * NotFound message). */
#define PP_OBJECT_NOT_FOUND (-2)

enum pp_object_apply_result { PP_OBJECT_CREATED, PP_OBJECT_CONFIGURED, PP_OBJECT_UNCHANGED };

/* The verb kubectl prints: "created", "configured", "unchanged". */
const char *pp_object_result_name(enum pp_object_apply_result r);

/* Whether o could be applied over what is stored (an immutable object's
 * data or immutable flag changed, a Secret's type changed: refused as the
 * API server does). Nothing is written. */
int pp_object_check_apply(const struct pp_config_object *o, struct pp_error **err);

/* Creates or updates o in its namespace (o->uid and o->created are set
 * from the stored object, or anew). */
int pp_object_apply(struct pp_config_object *o, enum pp_object_apply_result *res,
		    struct pp_error **err);

/* The object of that kind, namespace and name. For the pod layer: the
 * value of a key is pp_object_find(o, key) (config_object.h): bytes and
 * length. PP_OBJECT_NOT_FOUND when there is none. */
int pp_object_get(enum pp_object_kind kind, const char *ns, const char *name,
		  struct pp_config_object **out, struct pp_error **err);

/* Every object of a kind in ns (NULL: in every namespace, namespaces in
 * name order), sorted by name (*n may be 0). */
int pp_object_list(enum pp_object_kind kind, const char *ns, struct pp_config_object ***out,
		   size_t *n, struct pp_error **err);
void pp_object_list_free(struct pp_config_object **objs, size_t n);

/* The directory holding a claim's data (made when the claim is created). */
char *pp_pvc_data_dir(const char *ns, const char *name);

/* Where a claim's data is: its own directory, or the hostPath / local
 * PersistentVolume its volumeName binds it to (kept in the store under
 * PP_CLUSTER_SCOPE), checked: the volume exists, its claimRef (if any)
 * names the claim, its access modes cover the claim's, its capacity the
 * request, and it is of the claim's storage class (if the claim names one). */
int pp_pvc_path(const struct pp_config_object *claim, char **path, struct pp_error **err);

/* Removes it (a claim with its data directory: whether a pod still uses
 * it is the caller's check); PP_OBJECT_NOT_FOUND when there is none. */
int pp_object_delete(enum pp_object_kind kind, const char *ns, const char *name,
		     struct pp_error **err);

/* The directory holding the objects of a kind in ns (made, with the
 * store's modes, when missing): what a watcher of their changes (the
 * supervisor's inotify, supervisor/objwatch.c) watches. Each object is
 * <name>.json in it, written by a rename over it and removed by unlink.
 * NULL on an error. */
char *pp_object_kind_dir(enum pp_object_kind kind, const char *ns, struct pp_error **err);

/* The object as the API shows it (kubectl get -o json): apiVersion, kind,
 * metadata, data / binaryData (base64) / type / immutable. */
struct json_object;
struct json_object *pp_object_to_json(const struct pp_config_object *o);

#endif
