/* The job controller's decision, as pure code: given a Job's spec, the time,
 * the status so far and the job's pods, what to do (pods to create and to
 * delete, when to look again, whether the job itself goes) and the new
 * status. Kubernetes' semantics (pkg/controller/job), written anew: the
 * pod failure back-off, backoffLimit, activeDeadlineSeconds, completions
 * and parallelism, Indexed completion, suspend, ttlSecondsAfterFinished.
 * Nothing here touches the host: the controller process executes the
 * decision (and keeps the status). */
#ifndef PEAPOD_JOB_DECIDE_H
#define PEAPOD_JOB_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest/job.h"

/* The job controller's back-off before a failed pod is replaced: 10 s,
 * doubling with each failure since the last success, capped at 6 min. */
#define PP_JOB_BACKOFF_BASE_MS 10000
#define PP_JOB_BACKOFF_MAX_MS 360000

/* What the API server writes for the conditions and events. */
#define PP_JOB_REASON_BACKOFF "BackoffLimitExceeded"
#define PP_JOB_MSG_BACKOFF "Job has reached the specified backoff limit"
#define PP_JOB_REASON_DEADLINE "DeadlineExceeded"
#define PP_JOB_MSG_DEADLINE "Job was active longer than specified deadline"
#define PP_JOB_REASON_COMPLETE "CompletionsReached"
#define PP_JOB_MSG_COMPLETE "Reached expected number of succeeded pods"

enum pp_job_pod_phase {
	PP_JOB_POD_PENDING,
	PP_JOB_POD_RUNNING,
	PP_JOB_POD_SUCCEEDED,
	PP_JOB_POD_FAILED,
};

/* One pod of the job (its labels carry the job's controller-uid). */
struct pp_job_pod {
	const char *name;
	int64_t index; /* Indexed: its completion index; -1 otherwise */
	enum pp_job_pod_phase phase;
	bool ready;
	int32_t restarts;    /* its containers' restarts (what OnFailure counts) */
	int64_t finished_ms; /* when it ended (Succeeded, Failed); 0: unknown */
};

enum pp_job_cond_type {
	PP_JOB_COND_SUSPENDED,
	PP_JOB_COND_COMPLETE,
	PP_JOB_COND_FAILED,
	PP_JOB_COND_COUNT,
};

struct pp_job_condition {
	bool present;
	bool status; /* "True" / "False" */
	char *reason;
	char *message;
	int64_t transition_ms;
};

/* status, as the API's (times in ms since the epoch, 0: unset), plus what
 * the controller keeps to count each pod once: the pods it made and has not
 * counted yet, and the back-off record. */
struct pp_job_status {
	int64_t start_ms, completion_ms;
	int32_t active, ready, succeeded, failed;
	/* Indexed: one byte per index, 1 when that index succeeded */
	uint8_t *completed;
	size_t n_completed;
	int32_t failures_since_success;
	int64_t last_failure_ms;
	char **uncounted;
	size_t n_uncounted;
	struct pp_job_condition cond[PP_JOB_COND_COUNT];
};

struct pp_job_event {
	bool warning;
	const char *reason;
	char *message;
};

struct pp_job_create {
	char *name;
	int64_t index; /* -1: NonIndexed */
};

struct pp_job_decision {
	struct pp_job_create *create;
	size_t n_create;
	char **delete_; /* pods to delete */
	size_t n_delete;
	bool delete_job; /* ttlSecondsAfterFinished has passed: the job and its pods go */
	int64_t wake_ms; /* look again then even if nothing changes; 0: only on a change */
	struct pp_job_event *events;
	size_t n_events;
};

/* The time, and what the back-off is (PP_JOB_BACKOFF_* but in tests), and
 * where pod names' random suffixes come from. */
struct pp_job_env {
	int64_t now_ms;
	int64_t backoff_base_ms, backoff_max_ms;
	uint64_t (*random)(void *ctx);
	void *random_ctx;
};

/* Decides. status is read and updated in place: the pods the decision
 * creates are already counted as active and kept in status->uncounted (if
 * one cannot be created, pp_job_status_forget it, or it is later counted as
 * failed). */
void pp_job_decide(const struct pp_job *job, const struct pp_job_env *env,
		   struct pp_job_status *status, const struct pp_job_pod *pods, size_t n_pods,
		   struct pp_job_decision *out);

void pp_job_decision_free(struct pp_job_decision *d);
void pp_job_status_free(struct pp_job_status *s);
void pp_job_status_forget(struct pp_job_status *s, const char *pod_name);

/* NAME-xxxxx (Indexed: NAME-INDEX-xxxxx), the API server's generateName:
 * the prefix cut at 58 characters, then 5 of "bcdfghjklmnpqrstvwxz2456789". */
char *pp_job_pod_name(const char *job_name, int64_t index, uint64_t (*random)(void *ctx),
		      void *ctx);

/* The back-off left before a new pod may start (0: none). */
int64_t pp_job_backoff_remaining(const struct pp_job_status *s, const struct pp_job_env *env);

/* status.completedIndexes: "1,3-5,7"; "" when none. Caller frees. */
char *pp_job_completed_indexes(const struct pp_job_status *s);
/* Reads it back into s->completed (n indexes); -1 on a malformed list. */
int pp_job_parse_completed_indexes(const char *text, size_t n, struct pp_job_status *s);

/* status as the API shows it (conditions, startTime, completionTime,
 * active, ready, succeeded, failed, completedIndexes), and what the
 * controller keeps to count each pod once under "peapodTracking" (the pods
 * not counted yet, the back-off record). The reader takes what the writer
 * made; anything else is an error naming the field. */
struct json_object;
struct json_object *pp_job_status_to_json(const struct pp_job *job, const struct pp_job_status *s);
int pp_job_status_from_json(const struct pp_job *job, struct json_object *status,
			    struct pp_job_status *s, struct pp_error **err);

/* kubectl's STATUS column: Complete, Failed, Suspended or Running. */
const char *pp_job_status_word(const struct pp_job_status *s);
/* kubectl's COMPLETIONS column: "1/3", or "0/1 of 3" for a work queue. */
char *pp_job_completions_text(const struct pp_job *job, const struct pp_job_status *s);
/* kubectl's DURATION column: HumanDuration of completionTime - startTime,
 * or of now - startTime while it has not completed; "" before it started. */
char *pp_job_duration_text(const struct pp_job_status *s, int64_t now_ms);
/* k8s.io/apimachinery duration.HumanDuration of ms. */
char *pp_human_duration(int64_t ms);
/* describe's "Pods Statuses": "1 Active (0 Ready) / 2 Succeeded / 0 Failed". */
char *pp_job_pods_statuses_text(const struct pp_job_status *s);
/* Whether the job has finished (Complete or Failed), and when. */
bool pp_job_finished(const struct pp_job_status *s, int64_t *at_ms);

#endif
