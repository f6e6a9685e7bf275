/* The object store: one JSON file per object, written atomically; a
 * namespace's writers serialised by a flock on its directory. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "objects/objects.h"
#include "objects/store_fs.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/quantity.h"
#include "util/settings.h"

/* Where the claims' data lives: volumes/<namespace>/<claim>. */
#define PVC_DATA_DIR "volumes"
#define PVC_DATA_MODE 0777
#define NS_DIR_MODE 0755
#define CONFIGMAP_DIR_MODE 0755
#define CONFIGMAP_FILE_MODE 0644
#define SECRET_DIR_MODE 0700
#define SECRET_FILE_MODE 0600

const char *pp_object_result_name(enum pp_object_apply_result r)
{
	switch (r) {
	case PP_OBJECT_CREATED:
		return "created";
	case PP_OBJECT_CONFIGURED:
		return "configured";
	case PP_OBJECT_UNCHANGED:
	default:
		return "unchanged";
	}
}

static char *kind_dir(enum pp_object_kind kind, const char *ns)
{
	return pp_store_kind_dir(pp_object_kind_plural(kind), ns);
}

static char *object_path(enum pp_object_kind kind, const char *ns, const char *name)
{
	return pp_store_path(pp_object_kind_plural(kind), ns, name);
}

static int not_found(enum pp_object_kind kind, const char *name, struct pp_error **err)
{
	pp_error_set(err, 0, "%s \"%s\" not found", pp_object_kind_plural(kind), name);
	return PP_OBJECT_NOT_FOUND;
}

static struct json_object *kv_json(const struct pp_kv *kv, size_t n)
{
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_object_add(o, kv[i].key, json_object_new_string(kv[i].value));
	return o;
}

static struct json_object *data_json(const struct pp_config_object *o, bool binary)
{
	struct json_object *d = json_object_new_object();
	for (size_t i = 0; i < o->n_items; i++) {
		const struct pp_data_item *it = &o->items[i];
		if (it->binary != binary)
			continue;
		if (binary) {
			cleanup_free char *b = pp_base64_encode(it->value, it->len);
			json_object_object_add(d, it->key, json_object_new_string(b));
		} else {
			json_object_object_add(
			    d, it->key,
			    json_object_new_string_len((const char *)it->value, (int)it->len));
		}
	}
	if (json_object_object_length(d) == 0) {
		json_object_put(d);
		return NULL;
	}
	return d;
}

static struct json_object *access_modes_json(unsigned modes)
{
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < PP_ACCESS_MODE_COUNT; i++)
		if (modes & (1u << i))
			json_object_array_add(a, json_object_new_string(pp_access_mode_name(i)));
	return a;
}

/* A claim is bound to its own directory from its creation: status says
 * Bound with the requested capacity (no quota enforces it). */
static void pvc_json(struct json_object *j, const struct pp_config_object *o)
{
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "accessModes", access_modes_json(o->access_modes));
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "storage", json_object_new_string(o->storage));
	struct json_object *res = json_object_new_object();
	json_object_object_add(res, "requests", req);
	json_object_object_add(spec, "resources", res);
	if (o->storage_class != NULL)
		json_object_object_add(spec, "storageClassName",
				       json_object_new_string(o->storage_class));
	if (o->volume_name != NULL)
		json_object_object_add(spec, "volumeName", json_object_new_string(o->volume_name));
	json_object_object_add(spec, "volumeMode", json_object_new_string("Filesystem"));
	json_object_object_add(j, "spec", spec);
	struct json_object *st = json_object_new_object();
	json_object_object_add(st, "phase", json_object_new_string("Bound"));
	json_object_object_add(st, "accessModes", access_modes_json(o->access_modes));
	struct json_object *cap = json_object_new_object();
	json_object_object_add(cap, "storage", json_object_new_string(o->storage));
	json_object_object_add(st, "capacity", cap);
	json_object_object_add(j, "status", st);
}

/* A PersistentVolume: the host's directory; Retain. Its status (Bound or
 * Available) depends on the claims: src/ops shows it. */
static void pv_json(struct json_object *j, const struct pp_config_object *o)
{
	struct json_object *spec = json_object_new_object();
	struct json_object *cap = json_object_new_object();
	json_object_object_add(cap, "storage", json_object_new_string(o->storage));
	json_object_object_add(spec, "capacity", cap);
	json_object_object_add(spec, "accessModes", access_modes_json(o->access_modes));
	struct json_object *hp = json_object_new_object();
	json_object_object_add(hp, "path", json_object_new_string(o->host_path));
	json_object_object_add(spec, "hostPath", hp);
	json_object_object_add(spec, "persistentVolumeReclaimPolicy",
			       json_object_new_string("Retain"));
	if (o->storage_class != NULL)
		json_object_object_add(spec, "storageClassName",
				       json_object_new_string(o->storage_class));
	if (o->claim_name != NULL) {
		struct json_object *ref = json_object_new_object();
		json_object_object_add(ref, "namespace", json_object_new_string(o->claim_ns));
		json_object_object_add(ref, "name", json_object_new_string(o->claim_name));
		json_object_object_add(spec, "claimRef", ref);
	}
	json_object_object_add(spec, "volumeMode", json_object_new_string("Filesystem"));
	json_object_object_add(j, "spec", spec);
}

char *pp_pvc_data_dir(const char *ns, const char *name)
{
	return xasprintf("%s/%s/%s/%s", pp_settings()->root, PVC_DATA_DIR, ns, name);
}

static bool modes_cover(unsigned have, unsigned want)
{
	return (have & want) == want;
}

int pp_pvc_path(const struct pp_config_object *claim, char **path, struct pp_error **err)
{
	*path = NULL;
	if (claim->volume_name == NULL) {
		*path = pp_pvc_data_dir(claim->namespace_, claim->name);
		return 0;
	}
	struct pp_config_object *pv = NULL;
	if (pp_object_get(PP_OBJ_PV, PP_CLUSTER_SCOPE, claim->volume_name, &pv, err) < 0)
		return pp_error_wrap(err, "persistentvolumeclaim \"%s\" is Pending", claim->name);
	struct pp_quantity have = {0}, want = {0};
	cleanup_error struct pp_error *qe = NULL;
	bool small = pp_quantity_parse(pv->storage, &have, &qe) == 0 &&
		     pp_quantity_parse(claim->storage, &want, &qe) == 0 && have.milli < want.milli;
	free(have.text);
	free(want.text);
	int r = 0;
	if (pv->claim_name != NULL && (strcmp(pv->claim_name, claim->name) != 0 ||
				       strcmp(pv->claim_ns, claim->namespace_) != 0))
		r = pp_error_set(err, 0, "persistentvolume \"%s\" is reserved for claim %s/%s",
				 pv->name, pv->claim_ns, pv->claim_name);
	else if (!modes_cover(pv->access_modes, claim->access_modes))
		r = pp_error_set(err, 0,
				 "persistentvolume \"%s\" does not offer the claim's access modes",
				 pv->name);
	else if (small)
		r = pp_error_set(err, 0,
				 "persistentvolume \"%s\" has %s, less than the claim's request %s",
				 pv->name, pv->storage, claim->storage);
	else if (claim->storage_class != NULL &&
		 (pv->storage_class == NULL ||
		  strcmp(pv->storage_class, claim->storage_class) != 0))
		r = pp_error_set(err, 0, "persistentvolume \"%s\" is not of storage class \"%s\"",
				 pv->name, claim->storage_class);
	else
		*path = xstrdup(pv->host_path);
	pp_object_free(pv);
	return r;
}

struct json_object *pp_object_to_json(const struct pp_config_object *o)
{
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(j, "kind", json_object_new_string(pp_object_kind_name(o->kind)));
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "name", json_object_new_string(o->name));
	if (o->kind != PP_OBJ_PV)
		json_object_object_add(m, "namespace", json_object_new_string(o->namespace_));
	if (o->uid != NULL)
		json_object_object_add(m, "uid", json_object_new_string(o->uid));
	if (o->created != NULL)
		json_object_object_add(m, "creationTimestamp", json_object_new_string(o->created));
	if (o->n_labels > 0)
		json_object_object_add(m, "labels", kv_json(o->labels, o->n_labels));
	if (o->n_annotations > 0)
		json_object_object_add(m, "annotations", kv_json(o->annotations, o->n_annotations));
	json_object_object_add(j, "metadata", m);
	if (o->kind == PP_OBJ_PVC) {
		pvc_json(j, o);
		return j;
	}
	if (o->kind == PP_OBJ_PV) {
		pv_json(j, o);
		return j;
	}
	bool secret = o->kind == PP_OBJ_SECRET;
	struct json_object *data = data_json(o, secret);
	if (data != NULL)
		json_object_object_add(j, "data", data);
	struct json_object *bin = secret ? NULL : data_json(o, true);
	if (bin != NULL)
		json_object_object_add(j, "binaryData", bin);
	if (secret)
		json_object_object_add(j, "type", json_object_new_string(o->type));
	if (o->has_immutable)
		json_object_object_add(j, "immutable", json_object_new_boolean(o->immutable));
	return j;
}

/* The stored file, read back through the manifest parser: the same checks
 * as any input. */
static int read_object(const char *path, enum pp_object_kind kind, const char *name,
		       struct pp_config_object **out, struct pp_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	int r = pp_store_read(path, &buf, &len, err);
	if (r == PP_OBJECT_NOT_FOUND)
		return not_found(kind, name, err);
	if (r < 0)
		return -1;
	struct pp_manifest_set set = {0};
	r = pp_manifest_set_parse(path, buf, len, &set, err);
	explicit_bzero(buf, len);
	if (r < 0)
		return -1;
	if (set.n != 1 || set.items[0].object == NULL || set.items[0].object->kind != kind) {
		pp_manifest_set_free(&set);
		return pp_error_set(err, 0, "%s: not a %s", path, pp_object_kind_name(kind));
	}
	*out = steal_ptr(&set.items[0].object);
	pp_manifest_set_free(&set);
	return 0;
}

int pp_object_get(enum pp_object_kind kind, const char *ns, const char *name,
		  struct pp_config_object **out, struct pp_error **err)
{
	*out = NULL;
	cleanup_free char *path = object_path(kind, ns, name);
	return read_object(path, kind, name, out, err);
}

/* The API server's update rules (ValidateConfigMapUpdate,
 * ValidateSecretUpdate). */
static int check_update(const struct pp_config_object *old, const struct pp_config_object *o,
			struct pp_error **err)
{
	const char *what = pp_object_kind_name(o->kind);
	if (o->kind == PP_OBJ_PVC)
		return pp_pvc_check_update(old, o, err);
	if (o->kind == PP_OBJ_SECRET && strcmp(old->type, o->type) != 0)
		return pp_error_set(err, 0,
				    "%s \"%s\" is invalid: type: Invalid value: \"%s\": field is "
				    "immutable",
				    what, o->name, o->type);
	if (!old->immutable)
		return 0;
	if (!o->immutable)
		return pp_error_set(err, 0,
				    "%s \"%s\" is invalid: immutable: Forbidden: field is "
				    "immutable when `immutable` is set",
				    what, o->name);
	if (!pp_object_data_equal(old, o))
		return pp_error_set(err, 0,
				    "%s \"%s\" is invalid: data: Forbidden: field is immutable "
				    "when `immutable` is set",
				    what, o->name);
	return 0;
}

int pp_object_check_apply(const struct pp_config_object *o, struct pp_error **err)
{
	struct pp_config_object *old = NULL;
	int r = pp_object_get(o->kind, o->namespace_, o->name, &old, err);
	if (r == PP_OBJECT_NOT_FOUND) {
		pp_error_free(err);
		return 0;
	}
	if (r < 0)
		return -1;
	r = check_update(old, o, err);
	pp_object_free(old);
	if (r < 0 && o->source != NULL)
		pp_error_wrap(err, "%s:%d:%d", o->source, o->pos.line, o->pos.col);
	return r;
}

static int write_object(const struct pp_config_object *o, struct pp_error **err)
{
	bool secret = o->kind == PP_OBJ_SECRET;
	cleanup_free char *dir = kind_dir(o->kind, o->namespace_);
	if (pp_mkdir_p(dir, secret ? SECRET_DIR_MODE : CONFIGMAP_DIR_MODE, err) < 0)
		return -1;
	/* A directory made before by someone else's umask: root's only all the same. */
	if (secret && chmod(dir, SECRET_DIR_MODE) < 0)
		return pp_error_set(err, errno, "chmod %s", dir);
	cleanup_free char *path = object_path(o->kind, o->namespace_, o->name);
	struct json_object *j = pp_object_to_json(o);
	int r = pp_store_write_json(path, j, secret ? SECRET_FILE_MODE : CONFIGMAP_FILE_MODE, err);
	json_object_put(j);
	return r;
}

/* The claim's directory, world-writable as kubelet's emptyDir is: any
 * container user may write to it. */
static int make_pvc_dir(const struct pp_config_object *o, struct pp_error **err)
{
	cleanup_free char *dir = pp_pvc_data_dir(o->namespace_, o->name);
	if (pp_mkdir_p(dir, PVC_DATA_MODE, err) < 0)
		return -1;
	if (chmod(dir, PVC_DATA_MODE) < 0)
		return pp_error_set(err, errno, "chmod %s", dir);
	return 0;
}

int pp_object_apply(struct pp_config_object *o, enum pp_object_apply_result *res,
		    struct pp_error **err)
{
	cleanup_close int lock = pp_store_lock_namespace(o->namespace_, NS_DIR_MODE, err);
	if (lock < 0)
		return -1;
	struct pp_config_object *old = NULL;
	int r = pp_object_get(o->kind, o->namespace_, o->name, &old, err);
	if (r == PP_OBJECT_NOT_FOUND) {
		pp_error_free(err);
		free(o->uid);
		free(o->created);
		o->uid = pp_store_new_uid();
		o->created = pp_store_now_rfc3339();
		*res = PP_OBJECT_CREATED;
		/* a claim bound to a PersistentVolume uses the volume's directory */
		if (o->kind == PP_OBJ_PVC && o->volume_name == NULL && make_pvc_dir(o, err) < 0)
			return -1;
		return write_object(o, err);
	}
	if (r < 0)
		return -1;
	free(o->uid);
	free(o->created);
	o->uid = xstrdup(old->uid ? old->uid : "");
	o->created = xstrdup(old->created ? old->created : "");
	r = check_update(old, o, err);
	bool same = r == 0 && pp_object_equal(old, o) && old->has_immutable == o->has_immutable;
	pp_object_free(old);
	if (r < 0)
		return -1;
	*res = same ? PP_OBJECT_UNCHANGED : PP_OBJECT_CONFIGURED;
	return same ? 0 : write_object(o, err);
}

char *pp_object_kind_dir(enum pp_object_kind kind, const char *ns, struct pp_error **err)
{
	bool secret = kind == PP_OBJ_SECRET;
	cleanup_free char *nsd = pp_store_ns_dir(ns);
	char *dir = kind_dir(kind, ns);
	if (pp_mkdir_p(nsd, NS_DIR_MODE, err) < 0 ||
	    pp_mkdir_p(dir, secret ? SECRET_DIR_MODE : CONFIGMAP_DIR_MODE, err) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

int pp_object_delete(enum pp_object_kind kind, const char *ns, const char *name,
		     struct pp_error **err)
{
	cleanup_free char *path = object_path(kind, ns, name);
	if (access(path, F_OK) < 0)
		return not_found(kind, name, err);
	cleanup_close int lock = pp_store_lock_namespace(ns, NS_DIR_MODE, err);
	if (lock < 0)
		return -1;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return not_found(kind, name, err);
		return pp_error_set(err, errno, "remove %s", path);
	}
	if (kind == PP_OBJ_PVC) {
		/* reclaim policy Delete: the data of a claim's own directory goes
		 * with it (a PersistentVolume's stays: Retain) */
		cleanup_free char *dir = pp_pvc_data_dir(ns, name);
		return pp_rm_rf(dir, err);
	}
	return 0;
}

void pp_object_list_free(struct pp_config_object **objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pp_object_free(objs[i]);
	free(objs);
}

struct list_ctx {
	enum pp_object_kind kind;
	struct pp_config_object ***out;
	size_t *n;
};

static int list_one(const char *name, const char *path, void *ctx, struct pp_error **err)
{
	struct list_ctx *c = ctx;
	struct pp_config_object *o = NULL;
	int r = read_object(path, c->kind, name, &o, err);
	if (r < 0)
		return r;
	*c->out = xrealloc(*c->out, (*c->n + 1) * sizeof(**c->out));
	(*c->out)[(*c->n)++] = o;
	return 0;
}

/* Appends ns's objects of kind to *out. */
static int list_namespace(enum pp_object_kind kind, const char *ns, struct pp_config_object ***out,
			  size_t *n, struct pp_error **err)
{
	cleanup_free char *dir = kind_dir(kind, ns);
	struct list_ctx c = {kind, out, n};
	return pp_store_scan(dir, list_one, &c, err);
}

/* Every namespace's, namespaces in name order. */
static int list_all(enum pp_object_kind kind, struct pp_config_object ***out, size_t *n,
		    struct pp_error **err)
{
	char **nss = NULL;
	size_t nn = 0;
	int r = pp_store_namespaces(&nss, &nn, err);
	for (size_t i = 0; i < nn; i++) {
		if (r == 0)
			r = list_namespace(kind, nss[i], out, n, err);
		free(nss[i]);
	}
	free(nss);
	return r;
}

int pp_object_list(enum pp_object_kind kind, const char *ns, struct pp_config_object ***out,
		   size_t *n, struct pp_error **err)
{
	*out = NULL;
	*n = 0;
	int r = ns != NULL ? list_namespace(kind, ns, out, n, err) : list_all(kind, out, n, err);
	if (r < 0) {
		pp_object_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}
