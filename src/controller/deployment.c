/* Deployment: its ReplicaSets, one per template (NAME-<pod-template-hash>),
 * rolled by RollingUpdate (maxSurge, maxUnavailable, waiting for available
 * pods) or Recreate as the deployment controller does (rolling.go,
 * recreate.go, sync.go); old ones scaled to 0 kept up to
 * revisionHistoryLimit. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "manifest/manifest.h"
#include "objects/workload_store.h"
#include "util/cleanup.h"

#define REVISION_ANNOTATION "deployment.kubernetes.io/revision"
#define HASH_LABEL "pod-template-hash"

/* ---- the arithmetic (pure) ---- */

void pp_rolling_resolve(const struct pp_int_or_percent *surge,
			const struct pp_int_or_percent *unavail, int32_t replicas,
			int32_t *max_surge, int32_t *max_unavail)
{
	*max_surge = pp_int_or_percent_scaled(surge, replicas, true);
	*max_unavail = pp_int_or_percent_scaled(unavail, replicas, false);
	if (*max_surge == 0 && *max_unavail == 0)
		*max_unavail = 1;
}

int32_t pp_rolling_new_replicas(const struct pp_rolling_in *in)
{
	if (in->new_replicas >= in->replicas)
		return in->replicas;
	int32_t current = in->new_replicas + in->old_replicas;
	int32_t max_total = in->replicas + in->max_surge;
	if (current >= max_total)
		return in->new_replicas;
	int32_t up = max_total - current;
	if (up > in->replicas - in->new_replicas)
		up = in->replicas - in->new_replicas;
	return in->new_replicas + up;
}

int32_t pp_rolling_old_scale_down(const struct pp_rolling_in *in)
{
	if (in->old_replicas == 0)
		return 0;
	int32_t all = in->new_replicas + in->old_replicas;
	int32_t min_available = in->replicas - in->max_unavail;
	int32_t new_unavailable = in->new_replicas - in->new_available;
	int32_t max_scaled_down = all - min_available - new_unavailable;
	if (max_scaled_down <= 0)
		return 0;
	/* the unhealthy old pods first: they count for nothing */
	int32_t cleaned = in->old_unhealthy < max_scaled_down ? in->old_unhealthy : max_scaled_down;
	/* then down to minAvailable */
	int32_t more = in->all_available - min_available;
	if (more < 0)
		more = 0;
	int32_t total = cleaned + more;
	return total > in->old_replicas ? in->old_replicas : total;
}

/* ---- the ReplicaSets ---- */

struct rs {
	struct pp_workload *w;
	struct json_object *obj;
	int32_t replicas; /* spec.replicas, as this pass leaves it */
	int64_t revision;
	struct pp_rs_counts n;
};

struct rs_list {
	struct rs *v;
	size_t n;
};

static void rs_list_free(struct rs_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		pp_workload_free(l->v[i].w);
		json_object_put(l->v[i].obj);
	}
	free(l->v);
}

static int64_t revision_of(const struct pp_workload *w)
{
	for (size_t i = 0; i < w->n_annotations; i++)
		if (strcmp(w->annotations[i].key, REVISION_ANNOTATION) == 0)
			return strtoll(w->annotations[i].value, NULL, 10);
	return 0;
}

static int cmp_rs(const void *a, const void *b)
{
	const struct rs *x = a, *y = b;
	if (x->revision != y->revision)
		return x->revision < y->revision ? -1 : 1;
	return strcmp(x->w->created, y->w->created);
}

/* The ReplicaSets the deployment owns, oldest revision first. */
static int load_rs(struct pp_ctrl *c, struct rs_list *l, struct pp_error **err)
{
	struct pp_workload **ws = NULL;
	struct json_object **objs = NULL;
	size_t n = 0;
	*l = (struct rs_list){0};
	if (pp_workload_list(PP_WL_REPLICASET, c->ns, &ws, &objs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (ws[i]->owner_uid == NULL || strcmp(ws[i]->owner_uid, c->w->uid) != 0) {
			pp_workload_free(ws[i]);
			json_object_put(objs[i]);
			continue;
		}
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = (struct rs){.w = ws[i],
					   .obj = objs[i],
					   .replicas = ws[i]->replicas,
					   .revision = revision_of(ws[i])};
	}
	free(ws);
	free(objs);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_rs);
	return 0;
}

/* The new ReplicaSet's document: the template with pod-template-hash in its
 * labels and selector, owned by the deployment. */
static int create_rs(struct pp_ctrl *c, const char *hash, int32_t replicas, int64_t revision,
		     struct pp_error **err)
{
	const struct pp_workload *d = c->w;
	cleanup_free char *name = xasprintf("%s-%s", d->name, hash);
	struct json_object *spec = NULL;
	json_object_object_get_ex(c->obj, "spec", &spec);
	struct json_object *tmpl = json_tokener_parse(d->tmpl_json);
	struct json_object *tmeta = NULL, *tlabels = NULL;
	if (!json_object_object_get_ex(tmpl, "metadata", &tmeta)) {
		tmeta = json_object_new_object();
		json_object_object_add(tmpl, "metadata", tmeta);
	}
	if (!json_object_object_get_ex(tmeta, "labels", &tlabels)) {
		tlabels = json_object_new_object();
		json_object_object_add(tmeta, "labels", tlabels);
	}
	json_object_object_add(tlabels, HASH_LABEL, json_object_new_string(hash));
	struct json_object *sel = NULL, *ml = NULL;
	json_object_object_get_ex(spec, "selector", &sel);
	struct json_object *selector = NULL;
	json_object_deep_copy(sel, &selector, NULL);
	if (!json_object_object_get_ex(selector, "matchLabels", &ml)) {
		ml = json_object_new_object();
		json_object_object_add(selector, "matchLabels", ml);
	}
	json_object_object_add(ml, HASH_LABEL, json_object_new_string(hash));
	struct json_object *meta = json_object_new_object();
	json_object_object_add(meta, "name", json_object_new_string(name));
	json_object_object_add(meta, "namespace", json_object_new_string(c->ns));
	json_object_object_add(meta, "labels", json_object_get(tlabels));
	struct json_object *ann = json_object_new_object();
	cleanup_free char *rev = xasprintf("%lld", (long long)revision);
	json_object_object_add(ann, REVISION_ANNOTATION, json_object_new_string(rev));
	json_object_object_add(meta, "annotations", ann);
	struct json_object *ref = json_object_new_object();
	json_object_object_add(ref, "apiVersion", json_object_new_string("apps/v1"));
	json_object_object_add(ref, "kind", json_object_new_string("Deployment"));
	json_object_object_add(ref, "name", json_object_new_string(d->name));
	json_object_object_add(ref, "uid", json_object_new_string(d->uid));
	json_object_object_add(ref, "controller", json_object_new_boolean(1));
	json_object_object_add(ref, "blockOwnerDeletion", json_object_new_boolean(1));
	struct json_object *refs = json_object_new_array();
	json_object_array_add(refs, ref);
	json_object_object_add(meta, "ownerReferences", refs);
	struct json_object *rspec = json_object_new_object();
	json_object_object_add(rspec, "replicas", json_object_new_int(replicas));
	if (d->min_ready_seconds > 0)
		json_object_object_add(rspec, "minReadySeconds",
				       json_object_new_int(d->min_ready_seconds));
	json_object_object_add(rspec, "selector", selector);
	json_object_object_add(rspec, "template", tmpl);
	struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "apiVersion", json_object_new_string("apps/v1"));
	json_object_object_add(doc, "kind", json_object_new_string("ReplicaSet"));
	json_object_object_add(doc, "metadata", meta);
	json_object_object_add(doc, "spec", rspec);
	cleanup_free char *text = xstrdup(json_object_to_json_string_ext(
	    doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	cleanup_free char *source = xasprintf("replicaset/%s", name);
	struct pp_manifest_set set = {0};
	int r = pp_manifest_set_parse(source, text, strlen(text), &set, err);
	enum pp_object_apply_result res;
	if (r == 0)
		r = pp_workload_apply(set.items[0].workload, text, &res, err);
	pp_manifest_set_free(&set);
	if (r == 0 && replicas > 0)
		pp_ctrl_event(c, "Normal", "ScalingReplicaSet",
			      "Scaled up replica set %s from 0 to %d", name, replicas);
	return r;
}

static void scale_rs(struct pp_ctrl *c, struct rs *r, int32_t to)
{
	if (to == r->replicas)
		return;
	if (pp_workload_scale(PP_WL_REPLICASET, c->ns, r->w->name, to, NULL) < 0)
		return;
	pp_ctrl_event(c, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d",
		      to > r->replicas ? "up" : "down", r->w->name, r->replicas, to);
	r->replicas = to;
}

static struct json_object *deploy_status(struct pp_ctrl *c, struct rs_list *l, struct rs *nrs,
					 int32_t max_unavail)
{
	const struct pp_workload *d = c->w;
	int32_t replicas = 0, ready = 0, available = 0, updated = 0;
	for (size_t i = 0; i < l->n; i++) {
		replicas += l->v[i].n.replicas;
		ready += l->v[i].n.ready;
		available += l->v[i].n.available;
	}
	if (nrs != NULL)
		updated = nrs->n.replicas;
	struct json_object *old_st = NULL, *old_conds = NULL;
	json_object_object_get_ex(c->obj, "status", &old_st);
	json_object_object_get_ex(old_st, "conditions", &old_conds);
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "observedGeneration", json_object_new_int64(d->generation));
	json_object_object_add(s, "replicas", json_object_new_int(replicas));
	json_object_object_add(s, "updatedReplicas", json_object_new_int(updated));
	json_object_object_add(s, "readyReplicas", json_object_new_int(ready));
	json_object_object_add(s, "availableReplicas", json_object_new_int(available));
	int32_t unavailable = d->replicas - available;
	json_object_object_add(s, "unavailableReplicas",
			       json_object_new_int(unavailable > 0 ? unavailable : 0));
	struct json_object *conds = json_object_new_array();
	bool min_ok = available >= d->replicas - max_unavail;
	json_object_array_add(
	    conds,
	    pp_ctrl_condition(old_conds, "Available", min_ok ? "True" : "False",
			      min_ok ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
			      min_ok ? "Deployment has minimum availability."
				     : "Deployment does not have minimum availability."));
	bool complete = nrs != NULL && updated == d->replicas && replicas == d->replicas &&
			available == d->replicas;
	cleanup_free char *msg =
	    nrs == NULL ? xstrdup("")
	    : complete	? xasprintf("ReplicaSet \"%s\" has successfully progressed.", nrs->w->name)
			: xasprintf("ReplicaSet \"%s\" is progressing.", nrs->w->name);
	json_object_array_add(
	    conds,
	    pp_ctrl_condition(old_conds, "Progressing", "True",
			      complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated", msg));
	json_object_object_add(s, "conditions", conds);
	return s;
}

static int deploy_sync(struct pp_ctrl *c, struct pp_error **err)
{
	const struct pp_workload *d = c->w;
	struct rs_list l;
	if (load_rs(c, &l, err) < 0)
		return -1;
	cleanup_free char *hash = pp_template_hash(d->tmpl_json, 0);
	cleanup_free char *new_name = xasprintf("%s-%s", d->name, hash);
	int32_t max_surge = 0, max_unavail = 0;
	if (d->strategy == PP_STRATEGY_ROLLING_UPDATE)
		pp_rolling_resolve(&d->max_surge, &d->max_unavailable, d->replicas, &max_surge,
				   &max_unavail);
	/* the pods of all its ReplicaSets */
	const char **owners = xmalloc(sizeof(char *) * (l.n + 1));
	for (size_t i = 0; i < l.n; i++)
		owners[i] = l.v[i].w->uid;
	int r = pp_ctrl_load_pods(c, owners, l.n, err);
	free(owners);
	if (r < 0) {
		rs_list_free(&l);
		return -1;
	}
	struct rs *nrs = NULL;
	int32_t old_replicas = 0, old_active = 0;
	int64_t max_rev = 0;
	for (size_t i = 0; i < l.n; i++) {
		pp_rs_count(c, l.v[i].w, &l.v[i].n);
		if (strcmp(l.v[i].w->name, new_name) == 0)
			nrs = &l.v[i];
		else {
			old_replicas += l.v[i].replicas;
			old_active += l.v[i].n.replicas;
		}
		if (l.v[i].revision > max_rev)
			max_rev = l.v[i].revision;
	}
	if (nrs == NULL) {
		int32_t first = 0;
		if (d->strategy == PP_STRATEGY_RECREATE)
			first = old_replicas == 0 && old_active == 0 ? d->replicas : 0;
		else {
			struct pp_rolling_in in = {.replicas = d->replicas,
						   .max_surge = max_surge,
						   .old_replicas = old_replicas};
			first = l.n == 0 ? d->replicas : pp_rolling_new_replicas(&in);
		}
		cleanup_error struct pp_error *cerr = NULL;
		if (create_rs(c, hash, first, max_rev + 1, &cerr) < 0) {
			pp_ctrl_event(c, "Warning", "FailedCreate", "Error creating: %s",
				      cerr->msg);
			rs_list_free(&l);
			return -1;
		}
		rs_list_free(&l);
		/* its file and pods: the next pass (now: the loop sees the change) */
		pp_ctrl_wake_at(c, pp_ctrl_now_ms());
		return 0;
	}
	if (d->strategy == PP_STRATEGY_RECREATE) {
		for (size_t i = 0; i < l.n; i++)
			if (&l.v[i] != nrs)
				scale_rs(c, &l.v[i], 0);
		if (old_active == 0)
			scale_rs(c, nrs, d->replicas);
	} else {
		int32_t old_unhealthy = 0, all_available = nrs->n.available;
		for (size_t i = 0; i < l.n; i++)
			if (&l.v[i] != nrs) {
				int32_t u = l.v[i].replicas - l.v[i].n.available;
				old_unhealthy += u > 0 ? u : 0;
				all_available += l.v[i].n.available;
			}
		struct pp_rolling_in in = {.replicas = d->replicas,
					   .max_surge = max_surge,
					   .max_unavail = max_unavail,
					   .new_replicas = nrs->replicas,
					   .new_available = nrs->n.available,
					   .old_replicas = old_replicas,
					   .all_available = all_available,
					   .old_unhealthy = old_unhealthy};
		scale_rs(c, nrs, pp_rolling_new_replicas(&in));
		in.new_replicas = nrs->replicas;
		int32_t down = pp_rolling_old_scale_down(&in);
		/* the unhealthy first, then the oldest */
		for (size_t i = 0; i < l.n && down > 0; i++) {
			struct rs *o = &l.v[i];
			int32_t u = o->replicas - o->n.available;
			if (o == nrs || u <= 0)
				continue;
			int32_t t = u < down ? u : down;
			scale_rs(c, o, o->replicas - t);
			down -= t;
		}
		for (size_t i = 0; i < l.n && down > 0; i++) {
			struct rs *o = &l.v[i];
			if (o == nrs || o->replicas == 0)
				continue;
			int32_t t = o->replicas < down ? o->replicas : down;
			scale_rs(c, o, o->replicas - t);
			down -= t;
		}
	}
	/* each ReplicaSet's pods to its count: the old ones' first */
	int ret = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct rs *x = &l.v[i];
		if (x == nrs)
			continue;
		cleanup_error struct pp_error *xerr = NULL;
		if (pp_rs_reconcile(c, x->w, x->replicas, &x->n, &xerr) < 0)
			ret = -1;
		pp_workload_set_status(PP_WL_REPLICASET, c->ns, x->w->name, x->w->uid,
				       pp_rs_status(x->w, &x->n), NULL);
	}
	cleanup_error struct pp_error *nerr = NULL;
	if (pp_rs_reconcile(c, nrs->w, nrs->replicas, &nrs->n, &nerr) < 0)
		ret = -1;
	pp_workload_set_status(PP_WL_REPLICASET, c->ns, nrs->w->name, nrs->w->uid,
			       pp_rs_status(nrs->w, &nrs->n), NULL);
	/* old ones beyond the history limit, empty, go */
	size_t empty = 0;
	for (size_t i = 0; i < l.n; i++)
		empty += &l.v[i] != nrs && l.v[i].replicas == 0 && l.v[i].n.replicas == 0;
	for (size_t i = 0; i < l.n && empty > (size_t)d->revision_history_limit; i++) {
		struct rs *o = &l.v[i];
		if (o == nrs || o->replicas != 0 || o->n.replicas != 0)
			continue;
		pp_workload_delete(PP_WL_REPLICASET, c->ns, o->w->name, NULL);
		cleanup_free char *ev = pp_ctrl_events_path(PP_WL_REPLICASET, c->ns, o->w->name);
		unlink(ev);
		empty--;
	}
	pp_ctrl_set_status(c, deploy_status(c, &l, nrs, max_unavail), NULL);
	rs_list_free(&l);
	return ret;
}

/* Deleted: its ReplicaSets' pods, then the ReplicaSets. */
static int deploy_teardown(struct pp_ctrl *c, struct pp_error **err)
{
	struct rs_list l;
	if (load_rs(c, &l, err) < 0)
		return -1;
	const char **owners = xmalloc(sizeof(char *) * (l.n + 1));
	for (size_t i = 0; i < l.n; i++)
		owners[i] = l.v[i].w->uid;
	if (pp_ctrl_load_pods(c, owners, l.n, NULL) == 0)
		for (size_t i = 0; i < c->n_pods; i++) {
			const char *rsname = "";
			for (size_t k = 0; k < l.n; k++)
				if (strcmp(l.v[k].w->uid, c->pods[i].owner_uid) == 0)
					rsname = l.v[k].w->name;
			struct pp_ctrl_owner o = {PP_WL_REPLICASET, rsname, c->pods[i].owner_uid};
			pp_ctrl_pod_delete(c, &o, &c->pods[i], NULL);
		}
	free(owners);
	for (size_t i = 0; i < l.n; i++) {
		pp_workload_delete(PP_WL_REPLICASET, c->ns, l.v[i].w->name, NULL);
		cleanup_free char *ev =
		    pp_ctrl_events_path(PP_WL_REPLICASET, c->ns, l.v[i].w->name);
		unlink(ev);
	}
	rs_list_free(&l);
	return 0;
}

const struct pp_ctrl_kind pp_ctrl_deployment = {
    .kind = PP_WL_DEPLOYMENT,
    .sync = deploy_sync,
    .teardown = deploy_teardown,
    .owns_pods_of_children = true,
};
