/* Jobs as kubectl 1.31 shows them: get's STATUS, COMPLETIONS and DURATION
 * cells, and describe job. */
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "controller/controller.h"
#include "controller/job_decide.h"
#include "manifest/job.h"
#include "objects/workload_store.h"
#include "ops/wait.h"
#include "util/cleanup.h"

/* kubectl's tabwriter: the widest key of the section, 2 spaces after it */
#define DESCRIBE_GAP 2

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_job_cells(const struct pp_workload *w, struct json_object *obj, char **status,
		   char **completions, char **duration)
{
	struct pp_job_status st = {0};
	if (w->job == NULL ||
	    pp_job_status_from_json(w->job, cli_jget(obj, "status"), &st, NULL) < 0) {
		*status = xstrdup("");
		*completions = xstrdup("");
		*duration = xstrdup("");
		return;
	}
	*status = xstrdup(pp_job_status_word(&st));
	*completions = pp_job_completions_text(w->job, &st);
	*duration = pp_job_duration_text(&st, now_ms());
	pp_job_status_free(&st);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct pp_kv *)a)->key, ((const struct pp_kv *)b)->key);
}

/* "Labels:  a=b" and the next ones under it, sorted as kubectl sorts them. */
static void kv_lines(const char *title, struct pp_kv *kv, size_t n, int width, int indent)
{
	printf("%*s%-*s", indent, "", width, title);
	if (n == 0)
		printf("<none>\n");
	qsort(kv, n, sizeof(*kv), by_key);
	for (size_t i = 0; i < n; i++)
		printf("%*s%s=%s\n", i ? indent + width : 0, "", kv[i].key, kv[i].value);
}

static void describe_time(int64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm local;
	localtime_r(&t, &local);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &local);
}

static void describe_containers(const struct pp_pod *t)
{
	printf("  Containers:\n");
	for (size_t i = 0; i < t->n_containers; i++) {
		const struct pp_container *c = &t->containers[i];
		printf("   %s:\n", c->name);
		printf("    %-12s%s\n", "Image:", c->image);
		if (c->command != NULL && c->command[0] != NULL) {
			printf("    Command:\n");
			for (char **a = c->command; *a; a++)
				printf("      %s\n", *a);
		}
		if (c->args != NULL && c->args[0] != NULL) {
			printf("    Args:\n");
			for (char **a = c->args; *a; a++)
				printf("      %s\n", *a);
		}
	}
}

static void describe_job(const struct pp_workload *w, const struct pp_job *job,
			 const struct pp_job_status *st)
{
	const char *widest = job->active_deadline_seconds >= 0	      ? "Active Deadline Seconds:"
			     : job->completion_mode == PP_JOB_INDEXED ? "Completed Indexes:"
								      : "Completion Mode:";
	const int W = (int)strlen(widest) + DESCRIBE_GAP;
	size_t n_sel = 0, n_tl = 0;
	struct pp_kv *sel = pp_job_selector(job, w->uid, &n_sel);
	struct pp_kv *tl = pp_job_pod_labels(job, w->uid, -1, &n_tl);
	printf("%-*s%s\n", W, "Name:", w->name);
	printf("%-*s%s\n", W, "Namespace:", w->namespace_);
	printf("%-*s", W, "Selector:");
	for (size_t i = 0; i < n_sel; i++)
		printf("%s%s=%s", i ? "," : "", sel[i].key, sel[i].value);
	printf("\n");
	/* the API server's default: a Job without labels gets its template's */
	if (w->n_labels > 0) {
		struct pp_kv *copy = xmalloc(w->n_labels * sizeof(*copy));
		memcpy(copy, w->labels, w->n_labels * sizeof(*copy));
		kv_lines("Labels:", copy, w->n_labels, W, 0);
		free(copy);
	} else {
		kv_lines("Labels:", tl, n_tl, W, 0);
	}
	struct pp_kv *ann = xmalloc((w->n_annotations + 1) * sizeof(*ann));
	memcpy(ann, w->annotations, w->n_annotations * sizeof(*ann));
	kv_lines("Annotations:", ann, w->n_annotations, W, 0);
	free(ann);
	printf("%-*s%d\n", W, "Parallelism:", job->parallelism);
	if (job->completions >= 0)
		printf("%-*s%d\n", W, "Completions:", job->completions);
	else
		printf("%-*s<unset>\n", W, "Completions:");
	printf("%-*s%s\n", W, "Completion Mode:",
	       job->completion_mode == PP_JOB_INDEXED ? "Indexed" : "NonIndexed");
	printf("%-*s%s\n", W, "Suspend:", job->suspend ? "true" : "false");
	printf("%-*s%d\n", W, "Backoff Limit:", job->backoff_limit);
	if (job->active_deadline_seconds >= 0)
		printf("%-*s%llds\n", W,
		       "Active Deadline Seconds:", (long long)job->active_deadline_seconds);
	char when[64];
	if (st->start_ms) {
		describe_time(st->start_ms, when, sizeof(when));
		printf("%-*s%s\n", W, "Start Time:", when);
	}
	if (st->completion_ms) {
		describe_time(st->completion_ms, when, sizeof(when));
		printf("%-*s%s\n", W, "Completed At:", when);
	}
	if (st->start_ms) {
		cleanup_free char *d = pp_job_duration_text(st, now_ms());
		printf("%-*s%s\n", W, "Duration:", d);
	}
	cleanup_free char *ps = pp_job_pods_statuses_text(st);
	printf("%-*s%s\n", W, "Pods Statuses:", ps);
	if (job->completion_mode == PP_JOB_INDEXED) {
		cleanup_free char *ci = pp_job_completed_indexes(st);
		printf("%-*s%s\n", W, "Completed Indexes:", *ci ? ci : "<none>");
	}
	printf("Pod Template:\n");
	kv_lines("Labels:", tl, n_tl, 9, 2);
	describe_containers(job->template_);
	pp_kv_array_free(sel, n_sel);
	pp_kv_array_free(tl, n_tl);
}

int cli_describe_job(const char *ns, const char *name)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_workload *w = NULL;
	struct json_object *obj = NULL;
	if (pp_workload_get(PP_WL_JOB, ns, name, &w, &obj, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	struct pp_job_status st = {0};
	if (pp_job_status_from_json(w->job, cli_jget(obj, "status"), &st, &err) < 0) {
		pp_error_wrap(&err, "jobs.batch \"%s\"", name);
		cli_print_error(err);
		pp_workload_free(w);
		json_object_put(obj);
		return CLI_EXIT_FAILURE;
	}
	describe_job(w, w->job, &st);
	cleanup_free char *events = pp_ctrl_events_path(PP_WL_JOB, ns, name);
	cli_describe_events(events, "job-controller");
	pp_job_status_free(&st);
	pp_workload_free(w);
	json_object_put(obj);
	return 0;
}

/* ---- wait --for=condition=complete job/NAME ---- */

/* 1: w holds; 0: not yet; -1: the job is not there (*err set). */
static int job_wait_check(const char *ns, const char *name, const struct pp_wait_for *w,
			  struct pp_error **err)
{
	struct pp_workload *job = NULL;
	struct json_object *obj = NULL;
	int r = pp_workload_get(PP_WL_JOB, ns, name, &job, &obj, err);
	if (r < 0)
		return w->kind == PP_WAIT_DELETE && r == PP_OBJECT_NOT_FOUND ? 1 : -1;
	int met = 0;
	struct json_object *conds = cli_jget(cli_jget(obj, "status"), "conditions");
	for (size_t i = 0;
	     w->kind == PP_WAIT_CONDITION && conds && i < json_object_array_length(conds); i++) {
		struct json_object *c = json_object_array_get_idx(conds, i);
		met = met || (strcasecmp(cli_js(c, "type"), w->what) == 0 &&
			      strcasecmp(cli_js(c, "status"), w->value) == 0);
	}
	pp_workload_free(job);
	json_object_put(obj);
	return met;
}

int cli_wait_job(const char *ns, const char *name, const struct pp_wait_for *w, int64_t timeout_ms)
{
	cleanup_error struct pp_error *err = NULL;
	if (w->kind == PP_WAIT_JSONPATH) {
		fprintf(stderr, "error: wait for a job takes --for=condition=TYPE or delete\n");
		return CLI_EXIT_USAGE;
	}
	/* a controller killed meanwhile would leave nothing to wait for */
	(void)pp_workloads_resume(NULL);
	/* the job's directory watched: its file is renamed over at each status write */
	cleanup_free char *dir = pp_workload_dir(PP_WL_JOB, ns, &err);
	if (dir == NULL) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	cleanup_close int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0 || inotify_add_watch(in, dir,
					IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM |
					    IN_CREATE) < 0) {
		perror("peapod wait: inotify");
		return CLI_EXIT_FAILURE;
	}
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		int r = job_wait_check(ns, name, w, &err);
		if (r < 0) {
			cli_print_error(err);
			return CLI_EXIT_FAILURE;
		}
		if (r > 0)
			break;
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			fprintf(stderr, "error: timed out waiting for the condition on jobs/%s\n",
				name);
			return CLI_EXIT_FAILURE;
		}
		struct pollfd p = {.fd = in, .events = POLLIN};
		if (poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left) > 0) {
			char buf[4096];
			while (read(in, buf, sizeof(buf)) > 0)
				;
		}
	}
	printf("job.batch/%s %s\n", name, w->kind == PP_WAIT_DELETE ? "deleted" : "condition met");
	return 0;
}
