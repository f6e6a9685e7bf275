/* The typed batch/v1 Job: its spec parsed once from a manifest document
 * (job_parse.c), with the API server's defaults and checks; the pod
 * template through the Pod parser, so a template's errors read as a Pod's
 * ("job.yaml:14:11: spec.template.spec.containers[0].image: ..."). What the
 * job controller does with it is src/controller/job_decide.h's. */
#ifndef PEAPOD_JOB_H
#define PEAPOD_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest/pod_spec.h"
#include "util/error.h"

/* The API server's defaults and limits (pkg/apis/batch). */
#define PP_JOB_DEFAULT_BACKOFF_LIMIT 6
#define PP_JOB_MAX_INDEXED_COMPLETIONS 100000
#define PP_JOB_MAX_INDEXED_PARALLELISM 100000

/* The labels and annotation the job controller puts on its pods. */
#define PP_JOB_LABEL_JOB_NAME "batch.kubernetes.io/job-name"
#define PP_JOB_LABEL_JOB_NAME_LEGACY "job-name"
#define PP_JOB_LABEL_CONTROLLER_UID "batch.kubernetes.io/controller-uid"
#define PP_JOB_LABEL_CONTROLLER_UID_LEGACY "controller-uid"
#define PP_JOB_COMPLETION_INDEX "batch.kubernetes.io/job-completion-index"
#define PP_JOB_COMPLETION_INDEX_ENV "JOB_COMPLETION_INDEX"

/* What a CronJob gets, after "FILE:LINE:COL: kind: ". */
#define PP_CRONJOB_REFUSAL                                                                         \
	"CronJob is not supported: peapod has no clock of its own to start jobs by; run \"peapod " \
	"apply -f\" of its jobTemplate as a Job from a systemd timer or a cron entry"

enum pp_job_completion_mode { PP_JOB_NON_INDEXED, PP_JOB_INDEXED };

struct pp_job {
	char *source; /* the file, for messages */
	struct pp_pos pos;
	/* metadata */
	char *name;
	char *namespace_; /* default "default" */
	char *uid;	  /* metadata.uid if given, else set by the caller */
	struct pp_kv *labels;
	size_t n_labels;
	struct pp_kv *annotations;
	size_t n_annotations;
	/* spec, defaulted as the API server does */
	int32_t parallelism;		 /* default 1 */
	int32_t completions;		 /* -1: unset (a work queue: the first success ends it) */
	int32_t backoff_limit;		 /* default 6 */
	int64_t active_deadline_seconds; /* -1: none */
	int64_t ttl_seconds_after_finished; /* -1: kept */
	/* What a CronJob gets, after "FILE:LINE:COL: kind: ". */
#define PP_CRONJOB_REFUSAL                                                                         \
	"CronJob is not supported: peapod has no clock of its own to start jobs by; run \"peapod " \
	"apply -f\" of its jobTemplate as a Job from a systemd timer or a cron entry"

	enum pp_job_completion_mode completion_mode;
	bool suspend;
	bool manual_selector;
	/* spec.selector.matchLabels as written; with manualSelector unset the
	 * API server generates it (controller-uid=UID: pp_job_selector) */
	struct pp_kv *selector;
	size_t n_selector;
	/* spec.template: metadata (labels, annotations) and spec, as a Pod
	 * named after the job in the job's namespace */
	struct pp_pod *template_;
};

/* Parses one Job document (YAML or JSON). Errors: "FILE:LINE:COL: field.path: message". */
int pp_job_parse_buffer(const char *source_name, const char *buf, size_t len, struct pp_job **out,
			struct pp_error **err);

void pp_job_free(struct pp_job *job);

/* The generated selector's pairs for a job of this uid (what the API
 * server sets when manualSelector is unset), the labels a pod of it
 * carries: the template's, then job-name and controller-uid in both
 * spellings (and the completion index for Indexed; index < 0: none).
 * Caller frees with pp_kv_array_free. */
struct pp_kv *pp_job_selector(const struct pp_job *job, const char *uid, size_t *n);
struct pp_kv *pp_job_pod_labels(const struct pp_job *job, const char *uid, int64_t index,
				size_t *n);
void pp_kv_array_free(struct pp_kv *kv, size_t n);

#endif
