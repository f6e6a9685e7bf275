/* apply -f and delete -f of a whole input: every object checked before
 * any is written, then ConfigMaps and Secrets, then Pods. */
#include "ops/objects.h"

#include <string.h>

#include "pod/pod.h"
#include "util/cleanup.h"

static int set_namespace(char **obj_ns, const char *ns, const char *source, struct pp_error **err)
{
	if (ns == NULL || strcmp(*obj_ns, ns) == 0)
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
		int r = it->pod
			    ? set_namespace(&it->pod->namespace_, ns, it->pod->source, err)
			    : set_namespace(&it->object->namespace_, ns, it->object->source, err);
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
		struct pp_apply_opts po = *o;
		po.manifest = it->text;
		po.manifest_len = it->text_len;
		po.namespace_ = NULL; /* set by pp_set_prepare */
		int r = pp_pod_apply(steal_ptr(&it->pod), &po, NULL, &err);
		report(ctx, "pod", name, r < 0 ? NULL : "created", err);
		if (r < 0)
			status = -1;
	}
	return status;
}

int pp_set_delete(const struct pp_manifest_set *set, const char *ns, const struct pp_delete_opts *o,
		  pp_set_report_fn report, void *ctx)
{
	int status = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < set->n; i++) {
			const struct pp_manifest_item *it = &set->items[i];
			if ((pass == 0) != (it->pod != NULL))
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
				r = pp_object_delete(it->object->kind,
						     ns ? ns : it->object->namespace_, name, &err);
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
