/* ReplicaSet: replicas pods from the template, kept (the replicaset
 * controller's manageReplicas); standalone, or a Deployment's. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "objects/workload_store.h"
#include "util/cleanup.h"

static bool active(const struct pp_ctrl_pod *p)
{
	return !p->finished && p->alive;
}

void pp_rs_count(struct pp_ctrl *c, const struct pp_workload *rs, struct pp_rs_counts *out)
{
	*out = (struct pp_rs_counts){0};
	int64_t now = pp_ctrl_now_ms();
	for (size_t i = 0; i < c->n_pods; i++) {
		const struct pp_ctrl_pod *p = &c->pods[i];
		if (strcmp(p->owner_uid, rs->uid) != 0 || !active(p))
			continue;
		out->replicas++;
		if (pp_ctrl_pod_matches(p, &rs->selector))
			out->fully_labeled++;
		if (p->ready)
			out->ready++;
		int64_t at = 0;
		if (pp_ctrl_pod_available(p, rs->min_ready_seconds, now, &at))
			out->available++;
		else if (at > 0)
			pp_ctrl_wake_at(c, at);
	}
}

/* Which extra pod goes first: not ready before ready, then the newest. */
static int rank(const struct pp_ctrl_pod *p)
{
	return p->ready ? 1 : 0;
}

int pp_rs_reconcile(struct pp_ctrl *c, const struct pp_workload *rs, int32_t replicas,
		    struct pp_rs_counts *out, struct pp_error **err)
{
	struct pp_ctrl_owner owner = {PP_WL_REPLICASET, rs->name, rs->uid};
	int ret = 0;
	/* finished or orphaned by a dead supervisor: removed, then replaced */
	for (size_t i = 0; i < c->n_pods; i++) {
		struct pp_ctrl_pod *p = &c->pods[i];
		if (strcmp(p->owner_uid, rs->uid) == 0 && !active(p))
			pp_ctrl_pod_delete(c, &owner, p, NULL);
	}
	int32_t have = 0;
	for (size_t i = 0; i < c->n_pods; i++)
		have += strcmp(c->pods[i].owner_uid, rs->uid) == 0 && active(&c->pods[i]);
	for (; have < replicas; have++) {
		cleanup_free char *name = pp_ctrl_pod_name(rs->name);
		const struct pp_kv *extra = NULL;
		if (pp_ctrl_pod_create(c, &owner, rs->tmpl_json, name, extra, 0, err) < 0) {
			ret = -1;
			break;
		}
	}
	while (have > replicas) {
		struct pp_ctrl_pod *victim = NULL;
		for (size_t i = 0; i < c->n_pods; i++) {
			struct pp_ctrl_pod *p = &c->pods[i];
			if (strcmp(p->owner_uid, rs->uid) != 0 || !active(p))
				continue;
			if (victim == NULL || rank(p) < rank(victim) ||
			    (rank(p) == rank(victim) && p->created >= victim->created))
				victim = p;
		}
		if (victim == NULL)
			break;
		pp_ctrl_pod_delete(c, &owner, victim, NULL);
		victim->finished = true; /* gone: not counted again */
		have--;
	}
	pp_rs_count(c, rs, out);
	return ret;
}

struct json_object *pp_rs_status(const struct pp_workload *rs, const struct pp_rs_counts *n)
{
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "replicas", json_object_new_int(n->replicas));
	json_object_object_add(s, "fullyLabeledReplicas", json_object_new_int(n->fully_labeled));
	json_object_object_add(s, "readyReplicas", json_object_new_int(n->ready));
	json_object_object_add(s, "availableReplicas", json_object_new_int(n->available));
	json_object_object_add(s, "observedGeneration", json_object_new_int64(rs->generation));
	return s;
}

static int rs_sync(struct pp_ctrl *c, struct pp_error **err)
{
	struct pp_rs_counts n;
	int r = pp_rs_reconcile(c, c->w, c->w->replicas, &n, err);
	/* the pods made or removed meanwhile: counted again at the next pass */
	pp_ctrl_set_status(c, pp_rs_status(c->w, &n), NULL);
	return r;
}

const struct pp_ctrl_kind pp_ctrl_replicaset = {
    .kind = PP_WL_REPLICASET,
    .sync = rs_sync,
};
