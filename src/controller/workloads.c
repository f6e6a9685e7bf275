/* The verbs on workloads: apply (store, then start the controller),
 * delete (the object, then its controller's cascade). */
#include <stdlib.h>
#include <string.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "manifest/manifest.h"
#include "objects/workload_store.h"
#include "util/cleanup.h"

char *pp_workload_resource(enum pp_workload_kind kind)
{
	const struct pp_workload_kind_info *i = pp_workload_kind_info(kind);
	return xasprintf("%s.%s", i->lower, i->group);
}

int pp_workloads_apply(struct pp_manifest_set *set, pp_ctrl_report_fn report, void *ctx)
{
	int status = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct pp_workload *w = set->items[i].workload;
		if (w == NULL)
			continue;
		cleanup_error struct pp_error *err = NULL;
		cleanup_free char *res_name = pp_workload_resource(w->kind);
		enum pp_object_apply_result res = PP_OBJECT_UNCHANGED;
		int r = -1;
		if (w->owner_uid != NULL)
			pp_error_set(&err, 0,
				     "%s \"%s\": owned by %s \"%s\": change its owner instead",
				     res_name, w->name, w->owner_kind, w->owner_name);
		else if (pp_ctrl_kind_of(w->kind) == NULL)
			pp_error_set(&err, 0, "kind %s is not supported yet",
				     pp_workload_kind_info(w->kind)->kind);
		else if (w->kind != PP_WL_JOB || pp_job_check_update(w, &err) == 0)
			r = pp_workload_apply(w, set->items[i].text, &res, &err);
		if (r == 0)
			r = pp_ctrl_start(w->kind, w->namespace_, w->name, &err);
		report(ctx, res_name, w->name, r < 0 ? NULL : pp_object_result_name(res), err);
		if (r < 0)
			status = -1;
	}
	return status;
}

int pp_workload_remove(enum pp_workload_kind kind, const char *ns, const char *name, int timeout_ms,
		       struct pp_error **err)
{
	/* its controller, which cascades, must run (and know the object)
	 * before the object goes */
	int r = pp_ctrl_start(kind, ns, name, err);
	if (r < 0)
		return r;
	r = pp_workload_delete(kind, ns, name, err);
	if (r < 0)
		return r;
	return pp_ctrl_wait_gone(kind, ns, name, timeout_ms, err);
}

int pp_workloads_delete_set(const struct pp_manifest_set *set, const char *ns,
			    pp_ctrl_report_fn report, void *ctx)
{
	int status = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct pp_workload *w = set->items[i].workload;
		if (w == NULL)
			continue;
		cleanup_error struct pp_error *err = NULL;
		cleanup_free char *res_name = pp_workload_resource(w->kind);
		int r = pp_workload_remove(w->kind, ns ? ns : w->namespace_, w->name, -1, &err);
		report(ctx, res_name, w->name, r < 0 ? NULL : "deleted", err);
		if (r < 0)
			status = -1;
	}
	return status;
}
