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

static int check_volume(const struct pp_pod *spec, size_t i, struct pp_error **err)
{
	const struct pp_volume *v = &spec->volumes[i];
	struct pp_config_object *claim = NULL;
	int r = pp_object_get(PP_OBJ_PVC, spec->namespace_, v->claim_name, &claim, err);
	if (r < 0)
		goto out;
	if (claim->access_modes & PP_ACCESS_RWOP) {
		cleanup_strv char **users = NULL;
		r = pp_claim_users(spec->namespace_, v->claim_name, &users, err);
		for (size_t k = 0; r == 0 && users[k] != NULL; k++)
			if (strcmp(users[k], spec->name) != 0)
				r = pp_error_set(err, 0,
						 "persistentvolumeclaim \"%s\" has access mode "
						 "ReadWriteOncePod and is in use by pod \"%s\"",
						 v->claim_name, users[k]);
	}
out:
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
