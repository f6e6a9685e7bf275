/* Jobs: the batch/v1 Job parser (defaults, the API server's checks, errors
 * naming file:line:field) and the job controller's decision, rule by rule:
 * parallelism and completions, the failure back-off, backoffLimit (and
 * OnFailure's restarts), activeDeadlineSeconds, Indexed completion, the
 * work queue, suspend, ttlSecondsAfterFinished, pods counted once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "controller/job_decide.h"
#include "manifest/job.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"

#define S 1000LL
#define T0 (1800000000LL * S)

/* ---- parsing ---- */

static struct pp_job *parse_ok(const char *yaml)
{
	struct pp_job *job = NULL;
	struct pp_error *err = NULL;
	if (pp_job_parse_buffer("job.yaml", yaml, strlen(yaml), &job, &err) < 0)
		fail_msg("unexpected error: %s", err->msg);
	return job;
}

/* Asserts that yaml is refused with an error containing want. */
static void parse_bad(const char *yaml, const char *want)
{
	struct pp_job *job = NULL;
	struct pp_error *err = NULL;
	if (pp_job_parse_buffer("job.yaml", yaml, strlen(yaml), &job, &err) == 0) {
		pp_job_free(job);
		fail_msg("accepted, expected \"%s\"", want);
	}
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err->msg, want);
	pp_error_free(&err);
}

#define HEAD "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\n"
#define TEMPLATE(policy)                                                                           \
	"  template:\n    metadata:\n      labels:\n        app: pi\n    spec:\n"                  \
	"      restartPolicy: " policy "\n      containers:\n      - name: c\n"                    \
	"        image: busybox\n"

static void test_parse_defaults(void **state)
{
	(void)state;
	struct pp_job *job = parse_ok(HEAD "spec:\n" TEMPLATE("Never"));
	assert_string_equal(job->name, "pi");
	assert_string_equal(job->namespace_, "default");
	assert_int_equal(job->parallelism, 1);
	assert_int_equal(job->completions, 1);
	assert_int_equal(job->backoff_limit, 6);
	assert_int_equal(job->active_deadline_seconds, -1);
	assert_int_equal(job->ttl_seconds_after_finished, -1);
	assert_int_equal(job->completion_mode, PP_JOB_NON_INDEXED);
	assert_false(job->suspend);
	/* the template is a Pod named after the job, with the template's labels */
	assert_string_equal(job->template_->name, "pi");
	assert_int_equal(job->template_->restart_policy, PP_RESTART_NEVER);
	assert_int_equal(job->template_->n_labels, 1);
	assert_string_equal(job->template_->containers[0].image, "busybox");
	/* the pods' labels: the template's, job-name and controller-uid twice */
	size_t n = 0;
	struct pp_kv *kv = pp_job_pod_labels(job, "u-1", 2, &n);
	assert_int_equal(n, 6);
	assert_string_equal(kv[0].key, "app");
	assert_string_equal(kv[1].key, PP_JOB_LABEL_CONTROLLER_UID);
	assert_string_equal(kv[1].value, "u-1");
	assert_string_equal(kv[2].key, PP_JOB_LABEL_JOB_NAME);
	assert_string_equal(kv[2].value, "pi");
	assert_string_equal(kv[5].key, PP_JOB_COMPLETION_INDEX);
	assert_string_equal(kv[5].value, "2");
	pp_kv_array_free(kv, n);
	kv = pp_job_selector(job, "u-1", &n);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].value, "u-1");
	pp_kv_array_free(kv, n);
	pp_job_free(job);
}

static void test_parse_fields(void **state)
{
	(void)state;
	struct pp_job *job =
	    parse_ok(HEAD "  namespace: batch\nspec:\n  parallelism: 2\n"
			  "  completions: 5\n  backoffLimit: 0\n"
			  "  activeDeadlineSeconds: 30\n  ttlSecondsAfterFinished: 0\n"
			  "  completionMode: Indexed\n  suspend: true\n" TEMPLATE("OnFailure"));
	assert_string_equal(job->namespace_, "batch");
	assert_string_equal(job->template_->namespace_, "batch");
	assert_int_equal(job->parallelism, 2);
	assert_int_equal(job->completions, 5);
	assert_int_equal(job->backoff_limit, 0);
	assert_int_equal(job->active_deadline_seconds, 30);
	assert_int_equal(job->ttl_seconds_after_finished, 0);
	assert_int_equal(job->completion_mode, PP_JOB_INDEXED);
	assert_true(job->suspend);
	pp_job_free(job);
	/* parallelism alone: a work queue, completions unset */
	job = parse_ok(HEAD "spec:\n  parallelism: 3\n" TEMPLATE("Never"));
	assert_int_equal(job->completions, -1);
	assert_int_equal(job->parallelism, 3);
	pp_job_free(job);
	/* a manual selector that the template's labels match */
	job = parse_ok(HEAD "spec:\n  manualSelector: true\n  selector:\n    matchLabels:\n"
			    "      app: pi\n" TEMPLATE("Never"));
	size_t n = 0;
	struct pp_kv *kv = pp_job_selector(job, "u-1", &n);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].key, "app");
	pp_kv_array_free(kv, n);
	pp_job_free(job);
}

static void test_parse_errors(void **state)
{
	(void)state;
	/* the template's restartPolicy: Never or OnFailure */
	parse_bad(HEAD "spec:\n" TEMPLATE("Always"),
		  "job.yaml:11:22: spec.template.spec.restartPolicy: Unsupported value: "
		  "\"Always\"");
	parse_bad(HEAD "spec:\n  template:\n    spec:\n      containers:\n      - name: c\n"
		       "        image: busybox\n",
		  "spec.template.spec.restartPolicy: Required value");
	/* the template's own errors, with the template's path */
	parse_bad(HEAD "spec:\n  template:\n    spec:\n      restartPolicy: Never\n"
		       "      containers:\n      - name: c\n",
		  "job.yaml:10:9: spec.template.spec.containers[0].image: required field");
	parse_bad(HEAD "spec:\n  template:\n    metadata:\n      labels:\n        'a b': x\n"
		       "    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n"
		       "        image: busybox\n",
		  "spec.template.metadata.labels.a b: invalid key");
	parse_bad(HEAD "spec:\n  template:\n    bogus: 1\n",
		  "job.yaml:7:5: spec.template.bogus: unknown field");
	parse_bad(HEAD "spec:\n  parallelism: 1\n", "spec.template: required field");
	/* the numbers */
	parse_bad(HEAD "spec:\n  completions: -1\n" TEMPLATE("Never"),
		  "job.yaml:6:16: spec.completions: must be greater than or equal to 0");
	parse_bad(HEAD "spec:\n  parallelism: -2\n" TEMPLATE("Never"),
		  "spec.parallelism: must be greater than or equal to 0");
	parse_bad(HEAD "spec:\n  backoffLimit: -1\n" TEMPLATE("Never"),
		  "spec.backoffLimit: must be greater than or equal to 0");
	parse_bad(HEAD "spec:\n  activeDeadlineSeconds: 0\n" TEMPLATE("Never"),
		  "spec.activeDeadlineSeconds: must be greater than or equal to 1");
	parse_bad(HEAD "spec:\n  ttlSecondsAfterFinished: -5\n" TEMPLATE("Never"),
		  "spec.ttlSecondsAfterFinished: must be greater than or equal to 0");
	parse_bad(HEAD "spec:\n  completionMode: Sometimes\n" TEMPLATE("Never"),
		  "spec.completionMode");
	parse_bad(HEAD "spec:\n  completionMode: Indexed\n  parallelism: 2\n" TEMPLATE("Never"),
		  "spec.completions: Required value: when completion mode is Indexed");
	/* the selector */
	parse_bad(HEAD "spec:\n  selector:\n    matchLabels:\n      app: pi\n" TEMPLATE("Never"),
		  "spec.selector: Invalid value: `selector` not auto-generated");
	parse_bad(HEAD "spec:\n  manualSelector: true\n  selector:\n    matchLabels:\n"
		       "      app: other\n" TEMPLATE("Never"),
		  "spec.template.metadata.labels: Invalid value: `selector` does not match");
	parse_bad(HEAD "spec:\n  podFailurePolicy:\n    rules: []\n" TEMPLATE("Never"),
		  "spec.podFailurePolicy: peapod does not support");
	/* metadata, type */
	parse_bad(
	    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: Pi\nspec:\n" TEMPLATE("Never"),
	    "job.yaml:4:9: metadata.name: invalid name \"Pi\"");
	parse_bad(
	    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: "
	    "a234567890123456789012345678901234567890123456789012345678901234\nspec:\n" TEMPLATE(
		"Never"),
	    "must be no more than 63 characters");
	parse_bad("apiVersion: v1\nkind: Job\nmetadata:\n  name: pi\nspec:\n" TEMPLATE("Never"),
		  "job.yaml:1:13: apiVersion: apiVersion \"v1\" is not supported");
	parse_bad("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: pi\nspec: {}\n",
		  "job.yaml:2:7: kind: CronJob is not supported: ");
	parse_bad("", "job.yaml:1:1: empty manifest");
}

/* A CronJob among the objects apply takes: refused naming the file and line. */
static void test_cronjob_in_set(void **state)
{
	(void)state;
	static const char yaml[] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"
				   "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: b\n";
	struct pp_manifest_set set = {0};
	struct pp_error *err = NULL;
	assert_int_equal(pp_manifest_set_parse("cron.yaml", yaml, strlen(yaml), &set, &err), -1);
	assert_non_null(strstr(err->msg, "cron.yaml:7:7: kind: CronJob is not supported: "));
	pp_error_free(&err);
	assert_int_equal(set.n, 0);
}

/* ---- the decision ---- */

static uint64_t counter(void *ctx)
{
	return (*(uint64_t *)ctx)++;
}

struct fixture {
	struct pp_job *job;
	struct pp_job_status st;
	struct pp_job_decision d;
	struct pp_job_env env;
	uint64_t seed;
	/* the pods as the controller would see them */
	struct pp_job_pod pods[64];
	char *names[64];
	size_t n;
};

static void fx_init(struct fixture *f, const char *spec)
{
	cleanup_free char *yaml = xasprintf(HEAD "spec:\n%s" TEMPLATE("Never"), spec);
	memset(f, 0, sizeof(*f));
	f->job = parse_ok(yaml);
	f->env = (struct pp_job_env){.now_ms = T0,
				     .backoff_base_ms = PP_JOB_BACKOFF_BASE_MS,
				     .backoff_max_ms = PP_JOB_BACKOFF_MAX_MS,
				     .random = counter,
				     .random_ctx = &f->seed};
}

static void fx_free(struct fixture *f)
{
	pp_job_decision_free(&f->d);
	pp_job_status_free(&f->st);
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	pp_job_free(f->job);
}

static void fx_remove(struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->pods[i].name, name) == 0) {
			free(f->names[i]);
			f->names[i] = f->names[f->n - 1];
			f->pods[i] = f->pods[f->n - 1];
			f->n--;
			return;
		}
}

/* Runs a decision and executes it as the controller would: the pods it
 * creates appear (Running), the ones it deletes go. */
static void fx_decide(struct fixture *f)
{
	pp_job_decision_free(&f->d);
	pp_job_decide(f->job, &f->env, &f->st, f->pods, f->n, &f->d);
	for (size_t i = 0; i < f->d.n_delete; i++)
		fx_remove(f, f->d.delete_[i]);
	for (size_t i = 0; i < f->d.n_create; i++) {
		assert_true(f->n < 64);
		f->names[f->n] = xstrdup(f->d.create[i].name);
		f->pods[f->n] = (struct pp_job_pod){.name = f->names[f->n],
						    .index = f->d.create[i].index,
						    .phase = PP_JOB_POD_RUNNING};
		f->n++;
	}
}

static void fx_end(struct fixture *f, size_t i, enum pp_job_pod_phase phase)
{
	f->pods[i].phase = phase;
	f->pods[i].finished_ms = f->env.now_ms;
}

static size_t fx_active(const struct fixture *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += f->pods[i].phase == PP_JOB_POD_RUNNING ||
		     f->pods[i].phase == PP_JOB_POD_PENDING;
	return n;
}

static bool has_event(const struct pp_job_decision *d, const char *reason, const char *message)
{
	for (size_t i = 0; i < d->n_events; i++)
		if (strcmp(d->events[i].reason, reason) == 0 &&
		    (message == NULL || strcmp(d->events[i].message, message) == 0))
			return true;
	return false;
}

static void test_pod_names(void **state)
{
	(void)state;
	uint64_t seed = 0;
	char *a = pp_job_pod_name("pi", -1, counter, &seed);
	assert_string_equal(a, "pi-bcdfg");
	char *b = pp_job_pod_name("pi", 12, counter, &seed);
	assert_string_equal(b, "pi-12-hjklm");
	/* the prefix cut at 58, as the API server's generateName */
	char *c = pp_job_pod_name("a23456789012345678901234567890123456789012345678901234567890123",
				  -1, counter, &seed);
	assert_int_equal(strlen(c), 63);
	assert_int_equal(
	    strncmp(c, "a234567890123456789012345678901234567890123456789012345678", 58), 0);
	free(a);
	free(b);
	free(c);
}

/* completions 3, parallelism 2: never more than 2 running, 3 succeed, Complete. */
static void test_completions_parallelism(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  completions: 3\n  parallelism: 2\n");
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 2);
	assert_int_equal(f.st.active, 2);
	assert_int_equal(f.st.start_ms, T0);
	assert_true(has_event(&f.d, "SuccessfulCreate", "Created pod: pi-bcdfg"));
	assert_string_equal(pp_job_status_word(&f.st), "Running");
	/* nothing changed: nothing to do, no wake-up */
	fx_decide(&f);
	assert_int_equal(f.d.n_create + f.d.n_delete + f.d.n_events, 0);
	assert_int_equal(f.d.wake_ms, 0);
	/* one succeeds: one more (the last needed) */
	f.env.now_ms += 5 * S;
	fx_end(&f, 0, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 1);
	assert_int_equal(f.st.succeeded, 1);
	assert_int_equal(fx_active(&f), 2);
	/* the second succeeds: one needed, one running: nothing new */
	fx_end(&f, 1, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 0);
	assert_int_equal(f.st.succeeded, 2);
	assert_int_equal(f.st.active, 1);
	/* seen twice, counted once */
	fx_decide(&f);
	assert_int_equal(f.st.succeeded, 2);
	cleanup_free char *c = pp_job_completions_text(f.job, &f.st);
	assert_string_equal(c, "2/3");
	f.env.now_ms += 5 * S;
	fx_end(&f, 2, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_int_equal(f.st.succeeded, 3);
	assert_int_equal(f.st.active, 0);
	assert_string_equal(pp_job_status_word(&f.st), "Complete");
	assert_true(f.st.cond[PP_JOB_COND_COMPLETE].present);
	assert_string_equal(f.st.cond[PP_JOB_COND_COMPLETE].reason, PP_JOB_REASON_COMPLETE);
	assert_int_equal(f.st.completion_ms, T0 + 10 * S);
	assert_true(has_event(&f.d, "Completed", "Job completed"));
	/* a finished job does nothing more (and is kept: no ttl) */
	fx_decide(&f);
	assert_int_equal(f.d.n_create + f.d.n_delete + f.d.n_events, 0);
	assert_false(f.d.delete_job);
	fx_free(&f);
}

/* A failed pod is replaced after the back-off: 10 s, 20 s, 40 s...; past
 * backoffLimit the job fails with BackoffLimitExceeded. */
static void test_backoff_limit(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  backoffLimit: 2\n");
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 1);
	int64_t waits[] = {10 * S, 20 * S};
	for (int k = 0; k < 2; k++) {
		fx_end(&f, f.n - 1, PP_JOB_POD_FAILED);
		fx_decide(&f);
		assert_int_equal(f.st.failed, k + 1);
		assert_int_equal(f.d.n_create, 0);
		assert_int_equal(f.d.wake_ms, f.env.now_ms + waits[k]);
		/* a second before the back-off ends: still nothing */
		f.env.now_ms += waits[k] - 1 * S;
		fx_decide(&f);
		assert_int_equal(f.d.n_create, 0);
		assert_int_equal(f.d.wake_ms, f.env.now_ms + 1 * S);
		f.env.now_ms += 1 * S;
		fx_decide(&f);
		assert_int_equal(f.d.n_create, 1);
		assert_int_equal(f.st.active, 1);
	}
	/* the third failure: past backoffLimit 2 */
	fx_end(&f, f.n - 1, PP_JOB_POD_FAILED);
	fx_decide(&f);
	assert_int_equal(f.st.failed, 3);
	assert_int_equal(f.d.n_create, 0);
	assert_string_equal(pp_job_status_word(&f.st), "Failed");
	assert_string_equal(f.st.cond[PP_JOB_COND_FAILED].reason, "BackoffLimitExceeded");
	assert_string_equal(f.st.cond[PP_JOB_COND_FAILED].message,
			    "Job has reached the specified backoff limit");
	assert_true(has_event(&f.d, "BackoffLimitExceeded", NULL));
	assert_true(f.d.events[0].warning);
	assert_int_equal(f.st.completion_ms, 0);
	fx_free(&f);
}

/* The back-off doubles per failure since the last success, capped at 6
 * min; a success resets it. */
static void test_backoff_sequence(void **state)
{
	(void)state;
	struct pp_job_env env = {.now_ms = T0,
				 .backoff_base_ms = PP_JOB_BACKOFF_BASE_MS,
				 .backoff_max_ms = PP_JOB_BACKOFF_MAX_MS};
	struct pp_job_status s = {.last_failure_ms = T0};
	static const int64_t want[] = {0, 10, 20, 40, 80, 160, 320, 360, 360};
	for (int k = 0; k < 9; k++) {
		s.failures_since_success = k;
		assert_int_equal(pp_job_backoff_remaining(&s, &env), want[k] * S);
	}
	/* a shorter base (tests): the same doubling */
	env.backoff_base_ms = 100;
	s.failures_since_success = 3;
	assert_int_equal(pp_job_backoff_remaining(&s, &env), 400);

	/* a success after failures: the next failure waits 10 s again */
	struct fixture f;
	fx_init(&f, "  completions: 3\n  backoffLimit: 10\n");
	fx_decide(&f);
	fx_end(&f, 0, PP_JOB_POD_FAILED);
	fx_decide(&f);
	f.env.now_ms += 10 * S;
	fx_decide(&f);
	fx_end(&f, 1, PP_JOB_POD_FAILED);
	fx_decide(&f);
	assert_int_equal(f.d.wake_ms, f.env.now_ms + 20 * S);
	f.env.now_ms += 20 * S;
	fx_decide(&f);
	f.env.now_ms += 1 * S;
	fx_end(&f, 2, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_int_equal(f.st.failures_since_success, 0);
	assert_int_equal(f.d.n_create, 1);
	fx_end(&f, 3, PP_JOB_POD_FAILED);
	fx_decide(&f);
	assert_int_equal(f.d.wake_ms, f.env.now_ms + 10 * S);
	fx_free(&f);
}

/* OnFailure: the containers' restarts count toward backoffLimit. */
static void test_on_failure_restarts(void **state)
{
	(void)state;
	struct fixture f;
	memset(&f, 0, sizeof(f));
	f.job = parse_ok(HEAD "spec:\n  backoffLimit: 3\n" TEMPLATE("OnFailure"));
	f.env = (struct pp_job_env){.now_ms = T0,
				    .backoff_base_ms = PP_JOB_BACKOFF_BASE_MS,
				    .backoff_max_ms = PP_JOB_BACKOFF_MAX_MS,
				    .random = counter,
				    .random_ctx = &f.seed};
	fx_decide(&f);
	f.pods[0].restarts = 2;
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Running");
	f.pods[0].restarts = 3;
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Failed");
	assert_string_equal(f.st.cond[PP_JOB_COND_FAILED].reason, PP_JOB_REASON_BACKOFF);
	/* its running pod is deleted, and counted as failed */
	assert_int_equal(f.d.n_delete, 1);
	assert_int_equal(f.n, 0);
	assert_int_equal(f.st.failed, 1);
	assert_true(has_event(&f.d, "SuccessfulDelete", NULL));
	fx_free(&f);
}

/* activeDeadlineSeconds: a wake-up at the deadline, then Failed
 * DeadlineExceeded and the running pods deleted. */
static void test_deadline(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  parallelism: 2\n  completions: 4\n  activeDeadlineSeconds: 30\n");
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 2);
	assert_int_equal(f.d.wake_ms, T0 + 30 * S);
	f.env.now_ms += 29 * S;
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Running");
	f.env.now_ms += 1 * S;
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Failed");
	assert_string_equal(f.st.cond[PP_JOB_COND_FAILED].reason, "DeadlineExceeded");
	assert_string_equal(f.st.cond[PP_JOB_COND_FAILED].message,
			    "Job was active longer than specified deadline");
	assert_int_equal(f.d.n_delete, 2);
	assert_int_equal(f.n, 0);
	assert_int_equal(f.st.active, 0);
	assert_int_equal(f.st.failed, 2);
	assert_true(has_event(&f.d, "DeadlineExceeded", NULL));
	fx_free(&f);
}

/* ttlSecondsAfterFinished: the job (and its pods) go that long after it ended. */
static void test_ttl(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  ttlSecondsAfterFinished: 60\n");
	fx_decide(&f);
	fx_end(&f, 0, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Complete");
	assert_false(f.d.delete_job);
	assert_int_equal(f.d.wake_ms, T0 + 60 * S);
	f.env.now_ms += 59 * S;
	fx_decide(&f);
	assert_false(f.d.delete_job);
	f.env.now_ms += 1 * S;
	fx_decide(&f);
	assert_true(f.d.delete_job);
	assert_int_equal(f.d.n_delete, 1);
	fx_free(&f);
	/* a failed job too, from when it failed */
	fx_init(&f, "  ttlSecondsAfterFinished: 0\n  backoffLimit: 0\n");
	fx_decide(&f);
	fx_end(&f, 0, PP_JOB_POD_FAILED);
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Failed");
	assert_true(f.d.delete_job);
	fx_free(&f);
}

/* completions unset: the first success ends the starts; Complete once the
 * others have ended. */
static void test_work_queue(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  parallelism: 3\n");
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 3);
	cleanup_free char *c = pp_job_completions_text(f.job, &f.st);
	assert_string_equal(c, "0/1 of 3");
	fx_end(&f, 0, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 0);
	assert_int_equal(f.d.n_delete, 0);
	assert_string_equal(pp_job_status_word(&f.st), "Running");
	/* a failure now is not replaced */
	fx_end(&f, 1, PP_JOB_POD_FAILED);
	f.env.now_ms += 60 * S;
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 0);
	fx_end(&f, 2, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Complete");
	assert_int_equal(f.st.succeeded, 2);
	assert_int_equal(f.st.failed, 1);
	fx_free(&f);
}

/* Indexed: one pod per index, lowest first; a failed index is retried, a
 * succeeded one is done; completedIndexes. */
static void test_indexed(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  completions: 4\n  parallelism: 2\n  completionMode: Indexed\n");
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 2);
	assert_int_equal(f.d.create[0].index, 0);
	assert_int_equal(f.d.create[1].index, 1);
	assert_int_equal(strncmp(f.d.create[1].name, "pi-1-", 5), 0);
	fx_end(&f, 1, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 1);
	assert_int_equal(f.d.create[0].index, 2);
	cleanup_free char *ci = pp_job_completed_indexes(&f.st);
	assert_string_equal(ci, "1");
	/* index 0 fails: retried after the back-off, as index 0 */
	fx_end(&f, 0, PP_JOB_POD_FAILED);
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 0);
	f.env.now_ms += 10 * S;
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 1);
	assert_int_equal(f.d.create[0].index, 0);
	for (size_t i = 0; i < f.n; i++)
		if (f.pods[i].phase == PP_JOB_POD_RUNNING)
			fx_end(&f, i, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 1);
	assert_int_equal(f.d.create[0].index, 3);
	fx_end(&f, f.n - 1, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Complete");
	assert_int_equal(f.st.succeeded, 4);
	cleanup_free char *all = pp_job_completed_indexes(&f.st);
	assert_string_equal(all, "0-3");
	fx_free(&f);
}

static void test_completed_indexes_text(void **state)
{
	(void)state;
	struct pp_job_status s = {0};
	assert_int_equal(pp_job_parse_completed_indexes("1,3-5,7", 9, &s), 0);
	static const uint8_t want[] = {0, 1, 0, 1, 1, 1, 0, 1, 0};
	assert_memory_equal(s.completed, want, 9);
	cleanup_free char *t = pp_job_completed_indexes(&s);
	assert_string_equal(t, "1,3-5,7");
	assert_int_equal(pp_job_parse_completed_indexes("", 3, &s), 0);
	const char *bad[] = {"9", "1-", "3-1", "a", "1,,2", "1;2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(pp_job_parse_completed_indexes(bad[i], 9, &s), -1);
	pp_job_status_free(&s);
}

/* A running pod deleted by someone else counts as failed and is replaced;
 * a pod the controller did not make but carries its labels is adopted. */
static void test_vanished_and_adopted(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  completions: 2\n  parallelism: 2\n");
	fx_decide(&f);
	fx_remove(&f, f.pods[0].name);
	fx_decide(&f);
	assert_int_equal(f.st.failed, 1);
	assert_int_equal(f.d.n_create, 0); /* back-off first */
	f.env.now_ms += 10 * S;
	fx_decide(&f);
	assert_int_equal(f.d.n_create, 1);
	pp_job_status_forget(&f.st, f.pods[0].name);
	fx_decide(&f);
	assert_int_equal(f.st.n_uncounted, 2);
	assert_int_equal(f.d.n_create, 0);
	fx_free(&f);
}

/* Fewer wanted than run (parallelism lowered): the pending, then not-ready go. */
static void test_excess(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  completions: 5\n  parallelism: 3\n");
	fx_decide(&f);
	f.pods[0].ready = true;
	f.pods[2].phase = PP_JOB_POD_PENDING;
	f.job->parallelism = 1;
	fx_decide(&f);
	assert_int_equal(f.d.n_delete, 2);
	assert_int_equal(f.n, 1);
	assert_true(f.pods[0].ready);
	assert_int_equal(f.st.active, 1);
	assert_int_equal(f.st.ready, 1);
	assert_int_equal(f.st.failed, 0);
	fx_free(&f);
}

/* suspend: the pods stop, uncounted; resume: start time anew. */
static void test_suspend(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  parallelism: 2\n  completions: 2\n");
	fx_decide(&f);
	f.job->suspend = true;
	f.env.now_ms += 5 * S;
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Suspended");
	assert_int_equal(f.n, 0);
	assert_int_equal(f.st.failed, 0);
	assert_true(has_event(&f.d, "Suspended", NULL));
	fx_decide(&f);
	assert_int_equal(f.d.n_events, 0);
	f.job->suspend = false;
	f.env.now_ms += 5 * S;
	fx_decide(&f);
	assert_string_equal(pp_job_status_word(&f.st), "Running");
	assert_int_equal(f.st.start_ms, T0 + 10 * S);
	assert_int_equal(f.d.n_create, 2);
	assert_true(has_event(&f.d, "Resumed", NULL));
	fx_free(&f);
}

/* The status survives the controller: written as the API's JSON, read back
 * the same (the tracking too), and a bad one refused naming the field. */
static void test_status_json(void **state)
{
	(void)state;
	struct fixture f;
	fx_init(&f, "  completions: 4\n  parallelism: 2\n  completionMode: Indexed\n");
	fx_decide(&f);
	fx_end(&f, 1, PP_JOB_POD_SUCCEEDED);
	f.env.now_ms += 1 * S;
	fx_end(&f, 0, PP_JOB_POD_FAILED);
	fx_decide(&f);
	struct json_object *j = pp_job_status_to_json(f.job, &f.st);
	const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(text, "\"startTime\":\"2027-01-15T08:00:00Z\""));
	/* the back-off holds every new pod: none active (the count is then left out) */
	assert_null(strstr(text, "\"active\""));
	assert_non_null(strstr(text, "\"ready\":0"));
	assert_non_null(strstr(text, "\"succeeded\":1"));
	assert_non_null(strstr(text, "\"failed\":1"));
	assert_non_null(strstr(text, "\"completedIndexes\":\"1\""));
	struct pp_job_status back;
	struct pp_error *err = NULL;
	assert_int_equal(pp_job_status_from_json(f.job, j, &back, &err), 0);
	assert_int_equal(back.start_ms, f.st.start_ms);
	assert_int_equal(back.active, 0);
	assert_int_equal(back.succeeded, 1);
	assert_int_equal(back.failed, 1);
	assert_int_equal(back.failures_since_success, 1);
	assert_int_equal(back.last_failure_ms, f.st.last_failure_ms);
	assert_int_equal(back.n_uncounted, f.st.n_uncounted);
	assert_memory_equal(back.completed, f.st.completed, 4);
	pp_job_status_free(&back);
	json_object_put(j);
	/* a finished one: its condition and times */
	fx_free(&f);
	fx_init(&f, "");
	fx_decide(&f);
	f.env.now_ms += 3 * S;
	fx_end(&f, 0, PP_JOB_POD_SUCCEEDED);
	fx_decide(&f);
	j = pp_job_status_to_json(f.job, &f.st);
	assert_int_equal(pp_job_status_from_json(f.job, j, &back, &err), 0);
	assert_string_equal(pp_job_status_word(&back), "Complete");
	assert_int_equal(back.completion_ms, T0 + 3 * S);
	assert_int_equal(back.cond[PP_JOB_COND_COMPLETE].transition_ms, T0 + 3 * S);
	assert_string_equal(back.cond[PP_JOB_COND_COMPLETE].reason, PP_JOB_REASON_COMPLETE);
	pp_job_status_free(&back);
	json_object_put(j);
	j = json_tokener_parse("{\"succeeded\": -1}");
	assert_int_equal(pp_job_status_from_json(f.job, j, &back, &err), -1);
	assert_string_equal(err->msg, "status.succeeded: not a count");
	pp_error_free(&err);
	json_object_put(j);
	j = json_tokener_parse("{\"startTime\": \"yesterday\"}");
	assert_int_equal(pp_job_status_from_json(f.job, j, &back, &err), -1);
	assert_string_equal(err->msg, "status.startTime: not a time");
	pp_error_free(&err);
	json_object_put(j);
	fx_free(&f);
}

/* What get jobs and describe job show. */
static void test_view(void **state)
{
	(void)state;
	static const struct {
		int64_t s;
		const char *want;
	} cases[] = {{0, "0s"},
		     {119, "119s"},
		     {120, "2m"},
		     {150, "2m30s"},
		     {600, "10m"},
		     {3 * 3600 - 1, "179m"},
		     {3 * 3600, "3h"},
		     {4 * 3600 + 60, "4h1m"},
		     {8 * 3600, "8h"},
		     {47 * 3600, "47h"},
		     {50 * 3600, "2d2h"},
		     {10 * 86400, "10d"},
		     {800 * 86400, "2y70d"},
		     {3000 * 86400, "8y"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cleanup_free char *t = pp_human_duration(cases[i].s * S);
		assert_string_equal(t, cases[i].want);
	}
	struct pp_job_status s = {.start_ms = T0, .active = 1, .succeeded = 2};
	cleanup_free char *running = pp_job_duration_text(&s, T0 + 75 * S);
	assert_string_equal(running, "75s");
	s.completion_ms = T0 + 30 * S;
	cleanup_free char *done = pp_job_duration_text(&s, T0 + 75 * S);
	assert_string_equal(done, "30s");
	cleanup_free char *ps = pp_job_pods_statuses_text(&s);
	assert_string_equal(ps, "1 Active (0 Ready) / 2 Succeeded / 0 Failed");
	struct pp_job_status none = {0};
	cleanup_free char *empty = pp_job_duration_text(&none, T0);
	assert_string_equal(empty, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_defaults),
	    cmocka_unit_test(test_parse_fields),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_cronjob_in_set),
	    cmocka_unit_test(test_pod_names),
	    cmocka_unit_test(test_completions_parallelism),
	    cmocka_unit_test(test_backoff_limit),
	    cmocka_unit_test(test_backoff_sequence),
	    cmocka_unit_test(test_on_failure_restarts),
	    cmocka_unit_test(test_deadline),
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_work_queue),
	    cmocka_unit_test(test_indexed),
	    cmocka_unit_test(test_completed_indexes_text),
	    cmocka_unit_test(test_vanished_and_adopted),
	    cmocka_unit_test(test_excess),
	    cmocka_unit_test(test_suspend),
	    cmocka_unit_test(test_status_json),
	    cmocka_unit_test(test_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
