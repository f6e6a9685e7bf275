/* Job: the job controller's decision (job_decide.h) executed by the
 * controller process: pods made from the template (Indexed: each with its
 * index, as annotation, label, JOB_COMPLETION_INDEX and hostname), pods
 * deleted, the status written (before the pods are made, so that each is
 * counted once whatever happens between), a wake-up asked for (back-off,
 * deadline, ttl); past ttlSecondsAfterFinished the job itself deleted (its
 * pods go with the controller's teardown). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "controller/job_decide.h"
#include "objects/workload_store.h"
#include "util/cleanup.h"
#include "util/settings.h"

static uint64_t random_u64(void *ctx)
{
	(void)ctx;
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint64_t)pp_ctrl_now_ms() * 6364136223846793005ULL + (uintptr_t)&v;
	return v;
}

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int64_t time_ms(const char *s)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	return end ? (int64_t)timegm(&tm) * 1000 : 0;
}

/* What the decision needs of a pod: its phase (a pod whose supervisor died
 * before it ended has failed), its index, its containers' restarts and
 * when it ended. */
static void pod_facts(const struct pp_ctrl_pod *p, struct pp_job_pod *out)
{
	const char *ph = p->phase ? p->phase : "";
	*out = (struct pp_job_pod){.name = p->name, .index = -1, .ready = p->ready};
	out->phase = strcmp(ph, "Succeeded") == 0 ? PP_JOB_POD_SUCCEEDED
		     : strcmp(ph, "Failed") == 0  ? PP_JOB_POD_FAILED
		     : !p->alive		  ? PP_JOB_POD_FAILED
		     : strcmp(ph, "Running") == 0 ? PP_JOB_POD_RUNNING
						  : PP_JOB_POD_PENDING;
	for (size_t i = 0; i < p->n_labels; i++)
		if (strcmp(p->labels[i].key, PP_JOB_COMPLETION_INDEX) == 0) {
			char *end = NULL;
			long long x = strtoll(p->labels[i].value, &end, 10);
			if (end != p->labels[i].value && *end == '\0' && x >= 0)
				out->index = x;
		}
	struct json_object *st = jget(p->obj, "status");
	static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
	for (size_t l = 0; l < 2; l++) {
		struct json_object *cs = jget(st, lists[l]);
		for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
			struct json_object *c = json_object_array_get_idx(cs, i);
			out->restarts += json_object_get_int(jget(c, "restartCount"));
			int64_t at = time_ms(json_object_get_string(
			    jget(jget(jget(c, "state"), "terminated"), "finishedAt")));
			if (at > out->finished_ms)
				out->finished_ms = at;
		}
	}
	if (out->phase == PP_JOB_POD_FAILED && !p->alive && out->finished_ms == 0)
		out->finished_ms = pp_ctrl_now_ms();
}

/* The template of an Indexed job's pod: the index as annotation, as
 * JOB_COMPLETION_INDEX in every container (a fieldRef to the annotation,
 * as the job controller writes it) and in the hostname (NAME-INDEX). */
static char *indexed_template(const struct pp_job *job, const char *tmpl_json, int64_t index)
{
	struct json_object *t = json_tokener_parse(tmpl_json);
	if (t == NULL)
		return xstrdup(tmpl_json);
	char idx[24];
	snprintf(idx, sizeof(idx), "%lld", (long long)index);
	struct json_object *meta = jget(t, "metadata");
	if (meta == NULL) {
		meta = json_object_new_object();
		json_object_object_add(t, "metadata", meta);
	}
	struct json_object *ann = jget(meta, "annotations");
	if (ann == NULL) {
		ann = json_object_new_object();
		json_object_object_add(meta, "annotations", ann);
	}
	json_object_object_add(ann, PP_JOB_COMPLETION_INDEX, json_object_new_string(idx));
	struct json_object *spec = jget(t, "spec");
	cleanup_free char *host = xasprintf("%s-%s", job->name, idx);
	if (jget(spec, "hostname") == NULL)
		json_object_object_add(spec, "hostname", json_object_new_string(host));
	static const char *const lists[] = {"initContainers", "containers"};
	for (size_t l = 0; l < 2; l++) {
		struct json_object *cs = jget(spec, lists[l]);
		for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
			struct json_object *c = json_object_array_get_idx(cs, i);
			struct json_object *env = jget(c, "env");
			if (env == NULL) {
				env = json_object_new_array();
				json_object_object_add(c, "env", env);
			}
			struct json_object *e = json_object_new_object(),
					   *vf = json_object_new_object(),
					   *fr = json_object_new_object();
			json_object_object_add(
			    fr, "fieldPath",
			    json_object_new_string("metadata.annotations['" PP_JOB_COMPLETION_INDEX
						   "']"));
			json_object_object_add(vf, "fieldRef", fr);
			json_object_object_add(e, "name",
					       json_object_new_string(PP_JOB_COMPLETION_INDEX_ENV));
			json_object_object_add(e, "valueFrom", vf);
			json_object_array_add(env, e);
		}
	}
	char *out = xstrdup(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(t);
	return out;
}

static struct pp_ctrl_pod *find_pod(struct pp_ctrl *c, const char *name)
{
	for (size_t i = 0; i < c->n_pods; i++)
		if (strcmp(c->pods[i].name, name) == 0)
			return &c->pods[i];
	return NULL;
}

/* The decision's pods made: labels, owner, the index's template. A pod that
 * could not be made is forgotten (not counted as a failure). */
static int create_pods(struct pp_ctrl *c, const struct pp_job *job, struct pp_job_status *st,
		       const struct pp_job_decision *d, struct pp_error **err)
{
	struct pp_ctrl_owner owner = {PP_WL_JOB, c->w->name, c->w->uid};
	int ret = 0;
	for (size_t i = 0; i < d->n_create; i++) {
		size_t n_labels = 0;
		struct pp_kv *labels =
		    pp_job_pod_labels(job, c->w->uid, d->create[i].index, &n_labels);
		cleanup_free char *tmpl =
		    d->create[i].index >= 0
			? indexed_template(job, c->w->tmpl_json, d->create[i].index)
			: xstrdup(c->w->tmpl_json);
		cleanup_error struct pp_error *e = NULL;
		if (pp_ctrl_pod_create(c, &owner, tmpl, d->create[i].name, labels, n_labels, &e) <
		    0) {
			pp_job_status_forget(st, d->create[i].name);
			st->active--;
			if (ret == 0 && err != NULL)
				*err = steal_ptr(&e);
			ret = -1;
		}
		pp_kv_array_free(labels, n_labels);
	}
	return ret;
}

static int job_sync(struct pp_ctrl *c, struct pp_error **err)
{
	const struct pp_job *job = c->w->job;
	struct pp_job_status st;
	if (pp_job_status_from_json(job, jget(c->obj, "status"), &st, err) < 0)
		return pp_error_wrap(err, "jobs/%s", c->name);
	cleanup_free struct pp_job_pod *pods = xmalloc((c->n_pods + 1) * sizeof(*pods));
	size_t n = 0;
	for (size_t i = 0; i < c->n_pods; i++)
		if (strcmp(c->pods[i].owner_uid, c->w->uid) == 0)
			pod_facts(&c->pods[i], &pods[n++]);
	double scale = pp_settings()->test_time_scale;
	struct pp_job_env env = {.now_ms = pp_ctrl_now_ms(),
				 .backoff_base_ms = (int64_t)(PP_JOB_BACKOFF_BASE_MS * scale),
				 .backoff_max_ms = (int64_t)(PP_JOB_BACKOFF_MAX_MS * scale),
				 .random = random_u64};
	struct pp_job_decision d;
	pp_job_decide(job, &env, &st, pods, n, &d);
	/* counted before they exist: a crash after this write counts them as failed */
	int r = pp_ctrl_set_status(c, pp_job_status_to_json(job, &st), err);
	struct pp_ctrl_owner owner = {PP_WL_JOB, c->w->name, c->w->uid};
	for (size_t i = 0; r == 0 && i < d.n_delete; i++) {
		struct pp_ctrl_pod *p = find_pod(c, d.delete_[i]);
		if (p != NULL && !d.delete_job)
			pp_ctrl_pod_delete(c, &owner, p, NULL);
	}
	/* a pod whose supervisor died before it ended: counted as failed
	 * above, removed now (a replacement is the decision's) */
	for (size_t i = 0; r == 0 && i < c->n_pods; i++)
		if (strcmp(c->pods[i].owner_uid, c->w->uid) == 0 && !c->pods[i].alive &&
		    !c->pods[i].finished && !d.delete_job)
			pp_ctrl_pod_delete(c, &owner, &c->pods[i], NULL);
	if (r == 0 && d.n_create > 0 && create_pods(c, job, &st, &d, err) < 0) {
		pp_ctrl_set_status(c, pp_job_status_to_json(job, &st), NULL);
		r = -1;
	}
	for (size_t i = 0; i < d.n_events; i++)
		if (strcmp(d.events[i].reason, "SuccessfulCreate") != 0 &&
		    strcmp(d.events[i].reason, "SuccessfulDelete") != 0)
			pp_ctrl_event(c, d.events[i].warning ? "Warning" : "Normal",
				      d.events[i].reason, "%s", d.events[i].message);
	if (d.wake_ms > 0)
		pp_ctrl_wake_at(c, d.wake_ms);
	/* ttlSecondsAfterFinished: the job goes; the teardown deletes its pods */
	if (r == 0 && d.delete_job)
		r = pp_workload_delete(PP_WL_JOB, c->ns, c->name, err);
	pp_job_decision_free(&d);
	pp_job_status_free(&st);
	return r;
}

const struct pp_ctrl_kind pp_ctrl_job = {
    .kind = PP_WL_JOB,
    .sync = job_sync,
};

/* The API server's update rules for a Job: its template, completions,
 * completionMode and selector are immutable. */
static bool same_json_text(const char *a, const char *b)
{
	struct json_object *x = a ? json_tokener_parse(a) : NULL;
	struct json_object *y = b ? json_tokener_parse(b) : NULL;
	bool same = json_object_equal(x, y);
	json_object_put(x);
	json_object_put(y);
	return same;
}

static bool same_kv(const struct pp_kv *a, size_t na, const struct pp_kv *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		bool found = false;
		for (size_t k = 0; k < nb && !found; k++)
			found =
			    strcmp(a[i].key, b[k].key) == 0 && strcmp(a[i].value, b[k].value) == 0;
		if (!found)
			return false;
	}
	return true;
}

int pp_job_check_update(const struct pp_workload *w, struct pp_error **err)
{
	struct pp_workload *old = NULL;
	cleanup_error struct pp_error *gerr = NULL;
	int r = pp_workload_get(PP_WL_JOB, w->namespace_, w->name, &old, NULL, &gerr);
	if (r == PP_OBJECT_NOT_FOUND)
		return 0;
	if (r < 0) {
		*err = steal_ptr(&gerr);
		return -1;
	}
	const struct pp_job *a = old->job, *b = w->job;
	const char *field = NULL;
	cleanup_free char *value = NULL;
	if (!same_json_text(old->tmpl_json, w->tmpl_json)) {
		field = "spec.template";
		value = xstrdup(w->tmpl_json);
	} else if (a->completions != b->completions) {
		field = "spec.completions";
		value = xasprintf("%d", b->completions);
	} else if (a->completion_mode != b->completion_mode) {
		field = "spec.completionMode";
		value = xstrdup(b->completion_mode == PP_JOB_INDEXED ? "\"Indexed\""
								     : "\"NonIndexed\"");
	} else if (a->manual_selector != b->manual_selector ||
		   !same_kv(a->selector, a->n_selector, b->selector, b->n_selector)) {
		field = "spec.selector";
		value = xstrdup("...");
	}
	if (field != NULL)
		r = pp_error_set(
		    err, 0, "The Job \"%s\" is invalid: %s: Invalid value: %s: field is immutable",
		    w->name, field, value);
	pp_workload_free(old);
	return r < 0 ? -1 : 0;
}
