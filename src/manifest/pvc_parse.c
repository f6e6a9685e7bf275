/* A PersistentVolumeClaim's spec -> struct pp_config_object, with the API
 * server's checks (ValidatePersistentVolumeClaimSpec) and update rules
 * (ValidatePersistentVolumeClaimUpdate). */
#include <stdlib.h>
#include <string.h>

#include "manifest/config_object.h"
#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"
#include "util/quantity.h"

static const char *const access_mode_names[] = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany",
						"ReadWriteOncePod", NULL};
static const char *const access_mode_shorts[] = {"RWO", "ROX", "RWX", "RWOP"};

const char *pp_access_mode_name(int i)
{
	return i >= 0 && i < PP_ACCESS_MODE_COUNT ? access_mode_names[i] : "";
}

const char *pp_access_mode_short(int i)
{
	return i >= 0 && i < PP_ACCESS_MODE_COUNT ? access_mode_shorts[i] : "";
}

static int parse_access_modes(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = obj;
	if (expect_kind(c, n, path, PP_YSEQ) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *p = xasprintf("%s[%zu]", path, i);
		cleanup_free char *w = NULL;
		if (get_string(c, n->child[i], p, &w) < 0)
			return -1;
		int k = 0;
		while (access_mode_names[k] != NULL && strcmp(access_mode_names[k], w) != 0)
			k++;
		if (access_mode_names[k] == NULL)
			return perr(c, n->child[i]->pos, p,
				    "Unsupported value: \"%s\": supported values: "
				    "\"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", "
				    "\"ReadWriteOncePod\"",
				    w);
		o->access_modes |= 1u << k;
	}
	if ((o->access_modes & PP_ACCESS_RWOP) && o->access_modes != PP_ACCESS_RWOP)
		return perr(c, n->pos, path,
			    "Forbidden: may not use ReadWriteOncePod with other access modes");
	return 0;
}

static int parse_storage(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = obj;
	struct pp_quantity q = {0};
	if (get_quantity(c, n, path, &q) < 0)
		return -1;
	o->storage = q.text;
	if (q.milli <= 0)
		return perr(c, n->pos, path, "Invalid value: \"%s\": must be greater than zero",
			    o->storage);
	return 0;
}

static const struct field requests_fields[] = {
    F_FN("storage", parse_storage),
    F_END,
};

static int parse_claim_requests(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *obj)
{
	return walk_map(c, n, path, requests_fields, obj);
}

static const struct field resources_fields[] = {
    F_FN("requests", parse_claim_requests),
    /* limits.storage: accepted by the API, used by no provisioner */
    F_SKIP("limits"),
    F_END,
};

static int parse_claim_resources(struct pctx *c, const struct pp_ynode *n, const char *path,
				 void *obj)
{
	return walk_map(c, n, path, resources_fields, obj);
}

static int parse_volume_mode(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"Filesystem", "Block", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	if (v == 1)
		return perr(c, n->pos, path,
			    "volumeMode Block is not supported: peapod's claims are directories "
			    "(Filesystem)");
	return 0;
}

static int parse_name_ref(struct pctx *c, const struct pp_ynode *n, const char *path, char **out)
{
	if (get_string(c, n, path, out) < 0)
		return -1;
	if (!pp_is_dns1123_subdomain(*out))
		return perr(c, n->pos, path,
			    "Invalid value: \"%s\": a lowercase RFC 1123 subdomain must consist of "
			    "lower case alphanumeric characters, '-' or '.', and must start and "
			    "end with an alphanumeric character",
			    *out);
	return 0;
}

static int parse_class(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = obj;
	return parse_name_ref(c, n, path, &o->storage_class);
}

/* A claim names the PersistentVolume it binds to (the only way peapod
 * binds one: no matching by class or size). */
static int parse_claim_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = obj;
	return parse_name_ref(c, n, path, &o->volume_name);
}

static const struct field spec_fields[] = {
    F_FN("accessModes", parse_access_modes),
    F_FN("resources", parse_claim_resources),
    F_FN("storageClassName", parse_class),
    F_FN("volumeName", parse_claim_volume),
    F_FN("volumeMode", parse_volume_mode),
    F_REFUSE("selector", "is not supported: peapod binds a claim to its own directory"),
    F_REFUSE("dataSource", "is not supported: peapod does not clone volumes"),
    F_REFUSE("dataSourceRef", "is not supported: peapod does not clone volumes"),
    F_REFUSE("volumeAttributesClassName", "is not supported"),
    F_END,
};

int parse_pvc_spec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = c->object;
	(void)obj;
	if (walk_map(c, n, path, spec_fields, o) < 0)
		return -1;
	if (o->access_modes == 0)
		return perr(c, n->pos, "spec.accessModes",
			    "Required value: at least 1 access mode is required");
	if (o->storage == NULL)
		return perr(c, n->pos, "spec.resources[storage]", "Required value");
	return 0;
}

/* ---- PersistentVolume: a directory of the host (hostPath or local) ---- */

static int parse_abs_path(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = obj;
	if (o->host_path != NULL)
		return perr(c, n->pos, path, "may not specify more than 1 volume type");
	if (get_string(c, n, path, &o->host_path) < 0)
		return -1;
	cleanup_free char *slashed = xasprintf("%s/", o->host_path);
	if (o->host_path[0] != '/' || strstr(slashed, "/../") != NULL)
		return perr(c, n->pos, path,
			    "Invalid value: \"%s\": must be an absolute path without '..'",
			    o->host_path);
	return 0;
}

static const struct field host_path_fields[] = {
    F_FN_REQ("path", parse_abs_path),
    /* kubelet's checks of the path's type: the directory must exist here */
    F_SKIP("type"),
    F_END,
};

static const struct field local_fields[] = {
    F_FN_REQ("path", parse_abs_path),
    F_SKIP("fsType"),
    F_END,
};

static int parse_host_path(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return walk_map(c, n, path, host_path_fields, obj);
}

static int parse_local(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return walk_map(c, n, path, local_fields, obj);
}

static const struct field capacity_fields[] = {
    F_FN_REQ("storage", parse_storage),
    F_END,
};

static int parse_capacity(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return walk_map(c, n, path, capacity_fields, obj);
}

static int parse_reclaim(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"Retain", "Delete", "Recycle", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	if (v != 0)
		return perr(c, n->pos, path,
			    "%s is not supported: peapod keeps a PersistentVolume's data (Retain)",
			    words[v]);
	return 0;
}

static int parse_ref_ns(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_string(c, n, path, &((struct pp_config_object *)obj)->claim_ns);
}

static int parse_ref_name(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_string(c, n, path, &((struct pp_config_object *)obj)->claim_name);
}

static const struct field claim_ref_fields[] = {
    F_FN("namespace", parse_ref_ns),
    F_FN_REQ("name", parse_ref_name),
    F_SKIP("kind"),
    F_SKIP("apiVersion"),
    F_SKIP("uid"),
    F_SKIP("resourceVersion"),
    F_END,
};

static int parse_claim_ref(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return walk_map(c, n, path, claim_ref_fields, obj);
}

static const struct field pv_spec_fields[] = {
    F_FN("accessModes", parse_access_modes),
    F_FN("capacity", parse_capacity),
    F_FN("hostPath", parse_host_path),
    F_FN("local", parse_local),
    F_FN("storageClassName", parse_class),
    F_FN("persistentVolumeReclaimPolicy", parse_reclaim),
    F_FN("claimRef", parse_claim_ref),
    F_FN("volumeMode", parse_volume_mode),
    /* a local volume's node: this host */
    F_SKIP("nodeAffinity"),
    F_SKIP("mountOptions"),
    F_END,
};

int parse_pv_spec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = c->object;
	(void)obj;
	if (walk_map(c, n, path, pv_spec_fields, o) < 0)
		return -1;
	if (o->access_modes == 0)
		return perr(c, n->pos, "spec.accessModes",
			    "Required value: at least 1 access mode is required");
	if (o->storage == NULL)
		return perr(c, n->pos, "spec.capacity", "Required value");
	if (o->host_path == NULL)
		return perr(c, n->pos, "spec",
			    "Required value: must specify a volume type: peapod takes hostPath or "
			    "local");
	if (o->claim_name != NULL && o->claim_ns == NULL)
		o->claim_ns = xstrdup("default");
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int pp_pvc_check_update(const struct pp_config_object *old, const struct pp_config_object *o,
			struct pp_error **err)
{
	if (o->kind == PP_OBJ_PV) {
		if (!str_eq(old->host_path, o->host_path))
			return pp_error_set(
			    err, 0,
			    "PersistentVolume \"%s\" is invalid: spec.persistentvolumesource: "
			    "Forbidden: spec.persistentvolumesource is immutable after creation",
			    o->name);
		return 0;
	}
	if (old->access_modes != o->access_modes || !str_eq(old->storage_class, o->storage_class) ||
	    (o->volume_name != NULL && !str_eq(old->volume_name, o->volume_name)))
		return pp_error_set(
		    err, 0,
		    "PersistentVolumeClaim \"%s\" is invalid: spec: Forbidden: spec is immutable "
		    "after creation except resources.requests and volumeAttributesClassName for "
		    "bound claims",
		    o->name);
	struct pp_quantity a = {0}, b = {0};
	cleanup_error struct pp_error *qe = NULL;
	if (pp_quantity_parse(old->storage, &a, &qe) == 0 &&
	    pp_quantity_parse(o->storage, &b, &qe) == 0 && b.milli < a.milli) {
		free(a.text);
		free(b.text);
		return pp_error_set(
		    err, 0,
		    "PersistentVolumeClaim \"%s\" is invalid: spec.resources.requests."
		    "storage: Forbidden: field can not be less than status.capacity",
		    o->name);
	}
	free(a.text);
	free(b.text);
	return 0;
}
