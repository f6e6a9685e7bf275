/* The typed ConfigMap, Secret and PersistentVolumeClaim objects (core/v1),
 * parsed once from a manifest document (object_parse.c, pvc_parse.c) or
 * from the object store's JSON (src/objects), validated as the API server
 * does. */
#ifndef PEAPOD_CONFIG_OBJECT_H
#define PEAPOD_CONFIG_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest/pod_spec.h"

enum pp_object_kind { PP_OBJ_CONFIGMAP, PP_OBJ_SECRET, PP_OBJ_PVC, PP_OBJ_PV };

/* Where the store keeps the cluster-scoped PersistentVolumes: a name no
 * namespace can have (namespaces are DNS labels). */
#define PP_CLUSTER_SCOPE "_cluster"

/* A claim's spec.accessModes, as bits (the API server's names in order). */
enum pp_access_mode {
	PP_ACCESS_RWO = 1 << 0,	 /* ReadWriteOnce */
	PP_ACCESS_ROX = 1 << 1,	 /* ReadOnlyMany */
	PP_ACCESS_RWX = 1 << 2,	 /* ReadWriteMany */
	PP_ACCESS_RWOP = 1 << 3, /* ReadWriteOncePod */
};
#define PP_ACCESS_MODE_COUNT 4

/* "ReadWriteOnce"... for bit i; kubectl's short "RWO"... */
const char *pp_access_mode_name(int i);
const char *pp_access_mode_short(int i);

/* The API server's limits (k8s.io/kubernetes/pkg/apis/core/validation). */
#define PP_OBJECT_MAX_SIZE (1024 * 1024) /* all values together: MaxSecretSize */
#define PP_OBJECT_KEY_MAX 253

#define PP_SECRET_TYPE_OPAQUE "Opaque"

/* One key. value holds len bytes and a NUL after them. binary: a
 * ConfigMap's binaryData (always set for a Secret's data). */
struct pp_data_item {
	char *key;
	unsigned char *value;
	size_t len;
	bool binary;
};

struct pp_config_object {
	enum pp_object_kind kind;
	char *source; /* the file, for messages */
	struct pp_pos pos;
	char *name;
	char *namespace_;
	char *uid;     /* set by the store; NULL in a manifest */
	char *created; /* creationTimestamp (RFC 3339), set by the store */
	struct pp_kv *labels;
	size_t n_labels;
	struct pp_kv *annotations;
	size_t n_annotations;
	bool immutable;
	bool has_immutable;
	char *type; /* a Secret's type; "Opaque" when the manifest names none */
	/* sorted by key; a Secret's stringData merged over its data */
	struct pp_data_item *items;
	size_t n_items;
	/* a PersistentVolumeClaim's spec (not a quota: the request is shown,
	 * not enforced) */
	unsigned access_modes; /* enum pp_access_mode bits, at least one */
	char *storage;	       /* resources.requests.storage, as written */
	char *storage_class;   /* storageClassName, or NULL */
	char *volume_name;     /* volumeName, or NULL */
	/* a PersistentVolume's spec (access_modes, storage: its capacity,
	 * storage_class too): a directory of the host, kept (Retain) */
	char *host_path;	     /* hostPath.path or local.path */
	char *claim_ns, *claim_name; /* claimRef, or NULL */
};

/* "ConfigMap" / "Secret" / "PersistentVolumeClaim" / "PersistentVolume"; "configmap" /
 * "secret" / "persistentvolumeclaim" (kubectl's resource in
 * "configmap/NAME created"); "configmaps" / "secrets" /
 * "persistentvolumeclaims" (its plural). */
const char *pp_object_kind_name(enum pp_object_kind kind);
const char *pp_object_kind_lower(enum pp_object_kind kind);
const char *pp_object_kind_plural(enum pp_object_kind kind);

/* The value of key, NULL when the object has none. */
const struct pp_data_item *pp_object_find(const struct pp_config_object *o, const char *key);

/* The API server's key check (IsConfigMapKey): NULL when valid, else why not. */
const char *pp_object_key_error(const char *key);

/* The checks that span the whole object: a Secret type's required keys,
 * the total size. "FIELD: message" in err (no position). */
int pp_object_validate(const struct pp_config_object *o, struct pp_error **err);

/* Whether a and b hold the same data (keys, values, binary-ness, type),
 * and the same labels, annotations and immutable. */
bool pp_object_data_equal(const struct pp_config_object *a, const struct pp_config_object *b);
bool pp_object_equal(const struct pp_config_object *a, const struct pp_config_object *b);

/* The API server's ValidatePersistentVolumeClaimUpdate: a bound claim's
 * spec is immutable but for resources.requests (which may grow, not
 * shrink). "PersistentVolumeClaim \"x\" is invalid: ..." in err. */
int pp_pvc_check_update(const struct pp_config_object *old, const struct pp_config_object *o,
			struct pp_error **err);

void pp_object_free(struct pp_config_object *o);

#endif
