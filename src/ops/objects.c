/* apply -f and delete -f of a whole input: every object checked before
 * any is written, then ConfigMaps and Secrets, then Pods. */
#include "ops/objects.h"

#include <string.h>

#include "manifest/workload.h"
#include "ops/claims.h"
#include "ops/pod_update.h"
#include "pod/pod.h"
#include "state/podstate.h"
#include "util/cleanup.h"

static int set_namespace(char **obj_ns, const char *ns, const char *source, struct pp_error **err)
{
	/* a PersistentVolume is of no namespace: -n means nothing to it */
	if (ns == NULL || strcmp(*obj_ns, ns) == 0 || strcmp(*obj_ns, PP_CLUSTER_SCOPE) == 0)
		return 0;
	if (strcmp(*obj_ns, "default") == 0) {
		free(*obj_ns);
		*obj_ns = xstrdup(ns);
		return 0;
	}
	pp_error_set(err, 0,
		     "%s: the namespace from the provided object \"%s\" does not match the "
		     "namespace \"%s\"",
		     source, *obj_ns, ns);
	return PP_APPLY_BAD_REQUEST;
}

int pp_set_prepare(struct pp_manifest_set *set, const char *ns, struct pp_error **err)
{
	for (size_t i = 0; i < set->n; i++) {
		struct pp_manifest_item *it = &set->items[i];
		int r =
		    it->pod ? set_namespace(&it->pod->namespace_, ns, it->pod->source, err)
		    : it->object
			? set_namespace(&it->object->namespace_, ns, it->object->source, err)
			: set_namespace(&it->workload->namespace_, ns, it->workload->source, err);
		if (r < 0)
			return r;
		if (it->object != NULL && pp_object_check_apply(it->object, err) < 0)
			return PP_APPLY_BAD_REQUEST;
	}
	return 0;
}

int pp_set_apply_objects(struct pp_manifest_set *set, pp_set_report_fn report, void *ctx)
{
	int status = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct pp_config_object *obj = set->items[i].object;
		if (obj == NULL)
			continue;
		cleanup_error struct pp_error *err = NULL;
		enum pp_object_apply_result res = PP_OBJECT_UNCHANGED;
		int r = pp_object_apply(obj, &res, &err);
		report(ctx, pp_object_kind_lower(obj->kind), obj->name,
		       r < 0 ? NULL : pp_object_result_name(res), err);
		if (r < 0)
			status = -1;
	}
	return status;
}

/* replace --force: the pod of that name, if any, deleted (reported as
 * kubectl does) before it is made anew. */
static int recreate_pod(const struct pp_pod *pod, pp_set_report_fn report, void *ctx,
			struct pp_error **err)
{
	cleanup_free char *uid = NULL;
	cleanup_error struct pp_error *e = NULL;
	if (pp_name_lookup(pod->namespace_, pod->name, &uid, &e) < 0) {
		if (e->status == ENOENT)
			return 0; /* none: only made */
		*err = steal_ptr(&e);
		return -1;
	}
	struct pp_delete_opts d = {.grace_s = -1, .timeout_ms = -1};
	if (pp_pod_delete(pod->namespace_, pod->name, &d, err) < 0)
		return -1;
	report(ctx, "pod", pod->name, "deleted", NULL);
	return 0;
}

int pp_set_apply(struct pp_manifest_set *set, const struct pp_apply_opts *o,
		 pp_set_report_fn report, void *ctx)
{
	int status = pp_set_apply_objects(set, report, ctx);
	for (size_t i = 0; i < set->n; i++) {
		struct pp_manifest_item *it = &set->items[i];
		if (it->pod == NULL)
			continue;
		cleanup_error struct pp_error *err = NULL;
		cleanup_free char *name = xstrdup(it->pod->name);
		/* a pod of that name: the API server's update rules */
		enum pp_pod_update_result ur = PP_POD_UPDATE_ABSENT;
		if (o->recreate && recreate_pod(it->pod, report, ctx, &err) < 0) {
			report(ctx, "pod", name, NULL, err);
			status = -1;
			continue;
		}
		if (!o->recreate &&
		    pp_pod_update(it->pod, it->text, it->text_len, o->force, &ur, &err) < 0) {
			report(ctx, "pod", name, NULL, err);
			status = -1;
			continue;
		}
		if (ur == PP_POD_UPDATE_UNCHANGED || ur == PP_POD_UPDATE_CONFIGURED) {
			report(ctx, "pod", name,
			       ur == PP_POD_UPDATE_UNCHANGED ? "unchanged" : "configured", NULL);
			continue;
		}
		struct pp_apply_opts po = *o;
		po.manifest = it->text;
		po.manifest_len = it->text_len;
		po.namespace_ = NULL; /* set by pp_set_prepare */
		int r = pp_pod_apply(steal_ptr(&it->pod), &po, NULL, &err);
		const char *verb = o->recreate			  ? "replaced"
				   : ur == PP_POD_UPDATE_RECREATE ? "configured"
								  : "created";
		report(ctx, "pod", name, r < 0 ? NULL : verb, err);
		if (r < 0)
			status = -1;
	}
	return status;
}

int pp_set_delete(const struct pp_manifest_set *set, const char *ns, const struct pp_delete_opts *o,
		  pp_set_report_fn report, void *ctx)
{
	int status = 0;
	/* the pods, then the objects, the PersistentVolumes last (their claims
	 * are gone then) */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < set->n; i++) {
			const struct pp_manifest_item *it = &set->items[i];
			if (it->pod == NULL && it->object == NULL)
				continue; /* a workload: src/controller's */
			int item_pass = it->pod != NULL ? 0 : it->object->kind == PP_OBJ_PV ? 2 : 1;
			if (pass != item_pass)
				continue;
			cleanup_error struct pp_error *err = NULL;
			int r;
			const char *resource, *name;
			if (it->pod != NULL) {
				resource = "pod";
				name = it->pod->name;
				r = pp_pod_delete(ns ? ns : it->pod->namespace_, name, o, &err);
			} else {
				resource = pp_object_kind_lower(it->object->kind);
				name = it->object->name;
				const char *ons = ns ? ns : it->object->namespace_;
				r = it->object->kind == PP_OBJ_PVC
					? pp_claim_delete(ons, name, &err)
				    : it->object->kind == PP_OBJ_PV
					? pp_volume_delete(name, &err)
					: pp_object_delete(it->object->kind, ons, name, &err);
			}
			report(ctx, resource, name, r < 0 ? NULL : "deleted", err);
			if (r < 0)
				status = -1;
		}
	}
	return status;
}

int pp_object_create(struct pp_config_object *o, struct pp_error **err)
{
	struct pp_config_object *old = NULL;
	int r = pp_object_get(o->kind, o->namespace_, o->name, &old, err);
	pp_object_free(old);
	if (r == 0)
		return pp_error_set(err, 0, "%s \"%s\" already exists",
				    pp_object_kind_plural(o->kind), o->name);
	if (r != PP_OBJECT_NOT_FOUND)
		return -1;
	pp_error_free(err);
	enum pp_object_apply_result res;
	return pp_object_apply(o, &res, err);
}
