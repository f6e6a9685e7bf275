/* Which pods use a claim: their manifests' spec.volumes, read from their
 * records; the checks at pod creation and claim deletion over them. */
#include "ops/claims.h"

#include <string.h>

#include "objects/objects.h"
#include "ops/ops.h"
#include "util/cleanup.h"

static bool view_uses_claim(struct pp_pod_view *v, const char *claim)
{
	pp_pod_view_attach_spec(v);
	struct json_object *spec = NULL, *vols = NULL;
	if (!json_object_object_get_ex(v->obj, "spec", &spec) ||
	    !json_object_object_get_ex(spec, "volumes", &vols) ||
	    !json_object_is_type(vols, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(vols); i++) {
		struct json_object *pvc = NULL, *name = NULL;
		if (json_object_object_get_ex(json_object_array_get_idx(vols, i),
					      "persistentVolumeClaim", &pvc) &&
		    json_object_object_get_ex(pvc, "claimName", &name) &&
		    strcmp(json_object_get_string(name), claim) == 0)
			return true;
	}
	return false;
}

int pp_claim_users(const char *ns, const char *claim, char ***pods, struct pp_error **err)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0, k = 0;
	*pods = NULL;
	if (pp_pod_views_list(ns, &views, &n, err) < 0)
		return -1;
	char **out = xmalloc((n + 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		/* a pod that finished releases its volumes (pvc-protection's rule) */
		if (views[i].finished)
			continue;
		if (view_uses_claim(&views[i], claim))
			out[k++] = xstrdup(views[i].name);
	}
	out[k] = NULL;
	pp_pod_views_free(views, n);
	*pods = out;
	return 0;
}

/* The claim's volume can be had, and a ReadWriteOncePod claim is free. */
static int check_claim(const struct pp_pod *spec, const struct pp_config_object *claim,
		       struct pp_error **err)
{
	cleanup_free char *path = NULL;
	if (pp_pvc_path(claim, &path, err) < 0)
		return -1;
	if (!(claim->access_modes & PP_ACCESS_RWOP))
		return 0;
	cleanup_strv char **users = NULL;
	if (pp_claim_users(spec->namespace_, claim->name, &users, err) < 0)
		return -1;
	for (size_t k = 0; users[k] != NULL; k++)
		if (strcmp(users[k], spec->name) != 0)
			return pp_error_set(err, 0,
					    "persistentvolumeclaim \"%s\" has access mode "
					    "ReadWriteOncePod and is in use by pod \"%s\"",
					    claim->name, users[k]);
	return 0;
}

static int check_volume(const struct pp_pod *spec, size_t i, struct pp_error **err)
{
	const struct pp_volume *v = &spec->volumes[i];
	struct pp_config_object *claim = NULL;
	int r = pp_object_get(PP_OBJ_PVC, spec->namespace_, v->claim_name, &claim, err);
	if (r == 0)
		r = check_claim(spec, claim, err);
	pp_object_free(claim);
	if (r < 0)
		pp_error_wrap(err, "%s:%d:%d: spec.volumes[%zu].persistentVolumeClaim.claimName",
			      spec->source ? spec->source : "-", v->pos.line, v->pos.col, i);
	return r < 0 ? -1 : 0;
}

int pp_claims_check_pod(const struct pp_pod *spec, struct pp_error **err)
{
	for (size_t i = 0; i < spec->n_volumes; i++)
		if (spec->volumes[i].kind == PP_VOLUME_PVC && check_volume(spec, i, err) < 0)
			return -1;
	return 0;
}

int pp_claim_delete(const char *ns, const char *name, struct pp_error **err)
{
	struct pp_config_object *claim = NULL;
	int r = pp_object_get(PP_OBJ_PVC, ns, name, &claim, err);
	pp_object_free(claim);
	if (r < 0)
		return r;
	cleanup_strv char **users = NULL;
	if (pp_claim_users(ns, name, &users, err) < 0)
		return -1;
	if (users[0] != NULL)
		return pp_error_set(
		    err, EBUSY,
		    "persistentvolumeclaim \"%s\" is in use by pod \"%s\": delete the "
		    "pod first",
		    name, users[0]);
	return pp_object_delete(PP_OBJ_PVC, ns, name, err);
}

int pp_volume_claims(const char *pv, char ***claims, struct pp_error **err)
{
	struct pp_config_object **objs = NULL;
	size_t n = 0, k = 0;
	*claims = NULL;
	if (pp_object_list(PP_OBJ_PVC, NULL, &objs, &n, err) < 0)
		return -1;
	char **out = xmalloc((n + 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (objs[i]->volume_name != NULL && strcmp(objs[i]->volume_name, pv) == 0)
			out[k++] = xasprintf("%s/%s", objs[i]->namespace_, objs[i]->name);
	out[k] = NULL;
	pp_object_list_free(objs, n);
	*claims = out;
	return 0;
}

int pp_volume_delete(const char *name, struct pp_error **err)
{
	struct pp_config_object *pv = NULL;
	int r = pp_object_get(PP_OBJ_PV, PP_CLUSTER_SCOPE, name, &pv, err);
	pp_object_free(pv);
	if (r < 0)
		return r;
	cleanup_strv char **claims = NULL;
	if (pp_volume_claims(name, &claims, err) < 0)
		return -1;
	if (claims[0] != NULL)
		return pp_error_set(
		    err, EBUSY,
		    "persistentvolume \"%s\" is bound to claim %s: delete the claim "
		    "first",
		    name, claims[0]);
	return pp_object_delete(PP_OBJ_PV, PP_CLUSTER_SCOPE, name, err);
}
