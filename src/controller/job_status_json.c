/* A Job's status <-> the API's JSON (batch/v1 JobStatus), plus the
 * controller's own record of what it has counted (see job_decide.h). */
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "controller/job_decide.h"
#include "util/cleanup.h"

#define TIME_FORMAT "%Y-%m-%dT%H:%M:%SZ"
#define TRACKING_KEY "peapodTracking"

static const char *const cond_names[PP_JOB_COND_COUNT] = {
    [PP_JOB_COND_SUSPENDED] = "Suspended",
    [PP_JOB_COND_COMPLETE] = "Complete",
    [PP_JOB_COND_FAILED] = "Failed",
};

static struct json_object *time_json(int64_t ms)
{
	char buf[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), TIME_FORMAT, &tm);
	return json_object_new_string(buf);
}

/* 0 when absent; -1 when not a time */
static int time_read(struct json_object *o, const char *key, int64_t *ms)
{
	struct json_object *v = NULL;
	*ms = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	struct tm tm = {0};
	const char *s = json_object_get_string(v);
	const char *end = s ? strptime(s, TIME_FORMAT, &tm) : NULL;
	if (end == NULL || *end != '\0')
		return -1;
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

static void add_count(struct json_object *o, const char *key, int32_t v, bool always)
{
	if (v != 0 || always)
		json_object_object_add(o, key, json_object_new_int(v));
}

struct json_object *pp_job_status_to_json(const struct pp_job *job, const struct pp_job_status *s)
{
	struct json_object *o = json_object_new_object();
	struct json_object *conds = json_object_new_array();
	for (int t = 0; t < PP_JOB_COND_COUNT; t++) {
		const struct pp_job_condition *c = &s->cond[t];
		if (!c->present)
			continue;
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "type", json_object_new_string(cond_names[t]));
		json_object_object_add(j, "status",
				       json_object_new_string(c->status ? "True" : "False"));
		json_object_object_add(j, "reason",
				       json_object_new_string(c->reason ? c->reason : ""));
		json_object_object_add(j, "message",
				       json_object_new_string(c->message ? c->message : ""));
		json_object_object_add(j, "lastProbeTime", time_json(c->transition_ms));
		json_object_object_add(j, "lastTransitionTime", time_json(c->transition_ms));
		json_object_array_add(conds, j);
	}
	if (json_object_array_length(conds) > 0)
		json_object_object_add(o, "conditions", conds);
	else
		json_object_put(conds);
	if (s->start_ms)
		json_object_object_add(o, "startTime", time_json(s->start_ms));
	if (s->completion_ms)
		json_object_object_add(o, "completionTime", time_json(s->completion_ms));
	add_count(o, "active", s->active, false);
	add_count(o, "ready", s->ready, true);
	add_count(o, "succeeded", s->succeeded, false);
	add_count(o, "failed", s->failed, false);
	if (job->completion_mode == PP_JOB_INDEXED) {
		cleanup_free char *ci = pp_job_completed_indexes(s);
		if (*ci)
			json_object_object_add(o, "completedIndexes", json_object_new_string(ci));
	}
	struct json_object *tr = json_object_new_object();
	struct json_object *pods = json_object_new_array();
	for (size_t i = 0; i < s->n_uncounted; i++)
		json_object_array_add(pods, json_object_new_string(s->uncounted[i]));
	json_object_object_add(tr, "pods", pods);
	json_object_object_add(tr, "failuresSinceSuccess",
			       json_object_new_int(s->failures_since_success));
	json_object_object_add(tr, "lastFailureMs", json_object_new_int64(s->last_failure_ms));
	json_object_object_add(o, TRACKING_KEY, tr);
	return o;
}

static int read_count(struct json_object *o, const char *key, int32_t *out, struct pp_error **err)
{
	struct json_object *v = NULL;
	*out = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > INT32_MAX)
		return pp_error_set(err, 0, "status.%s: not a count", key);
	*out = (int32_t)json_object_get_int64(v);
	return 0;
}

static int read_conditions(struct json_object *o, struct pp_job_status *s, struct pp_error **err)
{
	struct json_object *conds = NULL;
	if (!json_object_object_get_ex(o, "conditions", &conds) || conds == NULL)
		return 0;
	if (!json_object_is_type(conds, json_type_array))
		return pp_error_set(err, 0, "status.conditions: not a list");
	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		struct json_object *c = json_object_array_get_idx(conds, i), *v = NULL;
		const char *type =
		    json_object_object_get_ex(c, "type", &v) ? json_object_get_string(v) : NULL;
		int t = 0;
		while (t < PP_JOB_COND_COUNT && (type == NULL || strcmp(type, cond_names[t]) != 0))
			t++;
		if (t == PP_JOB_COND_COUNT)
			continue; /* a type peapod does not set */
		struct pp_job_condition *pc = &s->cond[t];
		pc->present = true;
		pc->status = json_object_object_get_ex(c, "status", &v) &&
			     strcmp(json_object_get_string(v) ?: "", "True") == 0;
		free(pc->reason);
		free(pc->message);
		pc->reason = xstrdup(json_object_object_get_ex(c, "reason", &v)
					 ? json_object_get_string(v) ?: ""
					 : "");
		pc->message = xstrdup(json_object_object_get_ex(c, "message", &v)
					  ? json_object_get_string(v) ?: ""
					  : "");
		if (time_read(c, "lastTransitionTime", &pc->transition_ms) < 0)
			return pp_error_set(err, 0,
					    "status.conditions[%zu].lastTransitionTime: "
					    "not a time",
					    i);
	}
	return 0;
}

static int read_tracking(struct json_object *o, struct pp_job_status *s, struct pp_error **err)
{
	struct json_object *tr = NULL, *pods = NULL, *v = NULL;
	if (!json_object_object_get_ex(o, TRACKING_KEY, &tr) || tr == NULL)
		return 0;
	if (json_object_object_get_ex(tr, "pods", &pods) && pods != NULL) {
		if (!json_object_is_type(pods, json_type_array))
			return pp_error_set(err, 0, "status." TRACKING_KEY ".pods: not a list");
		for (size_t i = 0; i < json_object_array_length(pods); i++) {
			const char *name =
			    json_object_get_string(json_object_array_get_idx(pods, i));
			if (name == NULL)
				return pp_error_set(
				    err, 0, "status." TRACKING_KEY ".pods[%zu]: not a name", i);
			s->uncounted =
			    xrealloc(s->uncounted, (s->n_uncounted + 1) * sizeof(char *));
			s->uncounted[s->n_uncounted++] = xstrdup(name);
		}
	}
	if (json_object_object_get_ex(tr, "failuresSinceSuccess", &v))
		s->failures_since_success = json_object_get_int(v);
	if (json_object_object_get_ex(tr, "lastFailureMs", &v))
		s->last_failure_ms = json_object_get_int64(v);
	return 0;
}

int pp_job_status_from_json(const struct pp_job *job, struct json_object *o,
			    struct pp_job_status *s, struct pp_error **err)
{
	*s = (struct pp_job_status){0};
	if (o == NULL)
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return pp_error_set(err, 0, "status: not an object");
	if (read_count(o, "active", &s->active, err) < 0 ||
	    read_count(o, "ready", &s->ready, err) < 0 ||
	    read_count(o, "succeeded", &s->succeeded, err) < 0 ||
	    read_count(o, "failed", &s->failed, err) < 0 || read_conditions(o, s, err) < 0 ||
	    read_tracking(o, s, err) < 0)
		goto fail;
	if (time_read(o, "startTime", &s->start_ms) < 0) {
		pp_error_set(err, 0, "status.startTime: not a time");
		goto fail;
	}
	if (time_read(o, "completionTime", &s->completion_ms) < 0) {
		pp_error_set(err, 0, "status.completionTime: not a time");
		goto fail;
	}
	if (job->completion_mode == PP_JOB_INDEXED) {
		struct json_object *v = NULL;
		const char *ci = json_object_object_get_ex(o, "completedIndexes", &v)
				     ? json_object_get_string(v)
				     : "";
		if (pp_job_parse_completed_indexes(ci ? ci : "", (size_t)job->completions, s) < 0) {
			pp_error_set(err, 0,
				     "status.completedIndexes: \"%s\" is not a list of "
				     "indexes below %d",
				     ci, job->completions);
			goto fail;
		}
	}
	return 0;
fail:
	pp_job_status_free(s);
	return -1;
}
