/* The job controller's decision (see job_decide.h). One pass: count the pods
 * that ended since the last pass (each once), then the job's end (back-off
 * limit, deadline, completions), else how many pods to start or stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "controller/job_decide.h"
#include "util/cleanup.h"

/* the API server's generateName: names.SimpleNameGenerator */
#define NAME_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
#define NAME_RANDOM_LEN 5
#define NAME_MAX_PREFIX 58

#define EV_SUCCESSFUL_CREATE "SuccessfulCreate"
#define EV_SUCCESSFUL_DELETE "SuccessfulDelete"

char *pp_job_pod_name(const char *job_name, int64_t index, uint64_t (*random)(void *ctx), void *ctx)
{
	char *prefix = index >= 0 ? xasprintf("%s-%lld-", job_name, (long long)index)
				  : xasprintf("%s-", job_name);
	if (strlen(prefix) > NAME_MAX_PREFIX)
		prefix[NAME_MAX_PREFIX] = '\0';
	char suffix[NAME_RANDOM_LEN + 1];
	for (size_t i = 0; i < NAME_RANDOM_LEN; i++)
		suffix[i] = NAME_ALPHABET[random(ctx) % (sizeof(NAME_ALPHABET) - 1)];
	suffix[NAME_RANDOM_LEN] = '\0';
	char *name = xasprintf("%s%s", prefix, suffix);
	free(prefix);
	return name;
}

/* ---- small helpers ---- */

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static ssize_t strv_find(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return (ssize_t)i;
	return -1;
}

void pp_job_status_forget(struct pp_job_status *s, const char *pod_name)
{
	ssize_t i = strv_find(s->uncounted, s->n_uncounted, pod_name);
	if (i < 0)
		return;
	free(s->uncounted[i]);
	s->uncounted[i] = s->uncounted[--s->n_uncounted];
}

static void add_event(struct pp_job_decision *d, bool warning, const char *reason, char *message)
{
	d->events = xrealloc(d->events, (d->n_events + 1) * sizeof(*d->events));
	d->events[d->n_events++] =
	    (struct pp_job_event){.warning = warning, .reason = reason, .message = message};
}

static void wake_at(struct pp_job_decision *d, int64_t at)
{
	if (at > 0 && (d->wake_ms == 0 || at < d->wake_ms))
		d->wake_ms = at;
}

static void set_cond(struct pp_job_status *s, enum pp_job_cond_type t, bool status,
		     const char *reason, const char *message, int64_t now)
{
	struct pp_job_condition *c = &s->cond[t];
	if (!c->present || c->status != status)
		c->transition_ms = now;
	free(c->reason);
	free(c->message);
	*c = (struct pp_job_condition){.present = true,
				       .status = status,
				       .reason = xstrdup(reason),
				       .message = xstrdup(message),
				       .transition_ms = c->transition_ms};
}

static bool cond_true(const struct pp_job_status *s, enum pp_job_cond_type t)
{
	return s->cond[t].present && s->cond[t].status;
}

bool pp_job_finished(const struct pp_job_status *s, int64_t *at_ms)
{
	for (int t = PP_JOB_COND_COMPLETE; t <= PP_JOB_COND_FAILED; t++)
		if (cond_true(s, t)) {
			if (at_ms != NULL)
				*at_ms = s->cond[t].transition_ms;
			return true;
		}
	return false;
}

static bool terminal(const struct pp_job_pod *p)
{
	return p->phase == PP_JOB_POD_SUCCEEDED || p->phase == PP_JOB_POD_FAILED;
}

static void delete_pod(struct pp_job_decision *d, struct pp_job_status *s, const char *name)
{
	strv_push(&d->delete_, &d->n_delete, name);
	pp_job_status_forget(s, name);
	add_event(d, false, EV_SUCCESSFUL_DELETE, xasprintf("Deleted pod: %s", name));
}

/* ---- counting: each pod the job made, once, when it ends ---- */

struct ended {
	int64_t at;
	int64_t index;
	bool success;
};

static int by_time(const void *a, const void *b)
{
	const struct ended *x = a, *y = b;
	if (x->at != y->at)
		return (x->at > y->at) - (x->at < y->at);
	/* at the same time, a failure after the success: it is backed off */
	return (int)y->success - (int)x->success;
}

static void count_ended(const struct pp_job *job, struct pp_job_status *s, struct ended *e,
			size_t n)
{
	/* in the order they ended, so that the back-off record says how many
	 * failed after the last success (the job controller's backoffRecord) */
	qsort(e, n, sizeof(*e), by_time);
	for (size_t i = 0; i < n; i++) {
		if (!e[i].success) {
			s->failed++;
			s->failures_since_success++;
			if (e[i].at > s->last_failure_ms)
				s->last_failure_ms = e[i].at;
			continue;
		}
		s->failures_since_success = 0;
		if (job->completion_mode != PP_JOB_INDEXED) {
			s->succeeded++;
		} else if (e[i].index >= 0 && (size_t)e[i].index < s->n_completed &&
			   !s->completed[e[i].index]) {
			/* an index counts once, however many of its pods succeed */
			s->completed[e[i].index] = 1;
			s->succeeded++;
		}
	}
}

/* Counts the tracked pods that ended or vanished (a pod deleted before it
 * ended counts as failed, as the job controller's finalizer makes it);
 * adopts the job's running pods it does not track. */
static void count_pods(const struct pp_job *job, const struct pp_job_env *env,
		       struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods)
{
	cleanup_free struct ended *e = xmalloc((n_pods + s->n_uncounted + 1) * sizeof(*e));
	size_t n = 0;
	for (size_t i = 0; i < n_pods; i++) {
		bool tracked = strv_find(s->uncounted, s->n_uncounted, pods[i].name) >= 0;
		if (!terminal(&pods[i])) {
			if (!tracked)
				strv_push(&s->uncounted, &s->n_uncounted, pods[i].name);
			continue;
		}
		if (!tracked)
			continue; /* counted before */
		e[n++] =
		    (struct ended){.at = pods[i].finished_ms ? pods[i].finished_ms : env->now_ms,
				   .index = pods[i].index,
				   .success = pods[i].phase == PP_JOB_POD_SUCCEEDED};
		pp_job_status_forget(s, pods[i].name);
	}
	for (size_t u = 0; u < s->n_uncounted;) {
		bool present = false;
		for (size_t i = 0; i < n_pods && !present; i++)
			present = strcmp(pods[i].name, s->uncounted[u]) == 0;
		if (present) {
			u++;
			continue;
		}
		e[n++] = (struct ended){.at = env->now_ms, .index = -1, .success = false};
		free(s->uncounted[u]);
		s->uncounted[u] = s->uncounted[--s->n_uncounted];
	}
	count_ended(job, s, e, n);
}

int64_t pp_job_backoff_remaining(const struct pp_job_status *s, const struct pp_job_env *env)
{
	if (s->failures_since_success <= 0)
		return 0;
	int64_t backoff = env->backoff_base_ms;
	for (int32_t i = 1; i < s->failures_since_success && backoff < env->backoff_max_ms; i++)
		backoff *= 2;
	if (backoff > env->backoff_max_ms)
		backoff = env->backoff_max_ms;
	int64_t elapsed = env->now_ms - s->last_failure_ms;
	return elapsed >= backoff ? 0 : backoff - elapsed;
}

/* ---- the job's end ---- */

/* pastBackoffLimitOnFailure: with OnFailure the containers' restarts in
 * the running pods count as failures too. */
static bool restarts_past_limit(const struct pp_job *job, const struct pp_job_pod *pods,
				size_t n_pods)
{
	if (job->template_->restart_policy != PP_RESTART_ON_FAILURE)
		return false;
	int64_t restarts = 0;
	for (size_t i = 0; i < n_pods; i++)
		if (!terminal(&pods[i]))
			restarts += pods[i].restarts;
	return job->backoff_limit == 0 ? restarts > 0 : restarts >= job->backoff_limit;
}

static void ttl_check(const struct pp_job *job, const struct pp_job_env *env,
		      const struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods,
		      struct pp_job_decision *d)
{
	int64_t at = 0;
	if (job->ttl_seconds_after_finished < 0 || !pp_job_finished(s, &at))
		return;
	int64_t expire = at + job->ttl_seconds_after_finished * 1000;
	if (env->now_ms < expire) {
		wake_at(d, expire);
		return;
	}
	d->delete_job = true;
	for (size_t i = 0; i < n_pods; i++)
		strv_push(&d->delete_, &d->n_delete, pods[i].name);
}

/* Stops the running pods of a job that ended; count_failed: they count
 * as failed (a failed job's, as the job controller counts them). */
static void stop_active(struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods,
			bool count_failed, struct pp_job_decision *d)
{
	for (size_t i = 0; i < n_pods; i++) {
		if (terminal(&pods[i]))
			continue;
		bool tracked = strv_find(s->uncounted, s->n_uncounted, pods[i].name) >= 0;
		if (count_failed && tracked)
			s->failed++;
		delete_pod(d, s, pods[i].name);
	}
	s->active = 0;
	s->ready = 0;
}

static bool job_complete(const struct pp_job *job, const struct pp_job_status *s)
{
	if (job->completions < 0)
		return s->succeeded > 0 && s->active == 0;
	return s->succeeded >= job->completions;
}

/* Sets the end condition if the job has ended now; true when it has. */
static bool check_end(const struct pp_job *job, const struct pp_job_env *env,
		      struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods,
		      struct pp_job_decision *d)
{
	const char *reason = NULL, *message = NULL;
	int64_t now = env->now_ms;
	if (s->failed > job->backoff_limit || restarts_past_limit(job, pods, n_pods)) {
		reason = PP_JOB_REASON_BACKOFF;
		message = PP_JOB_MSG_BACKOFF;
	} else if (job->active_deadline_seconds >= 0 && s->start_ms > 0 &&
		   now - s->start_ms >= job->active_deadline_seconds * 1000) {
		reason = PP_JOB_REASON_DEADLINE;
		message = PP_JOB_MSG_DEADLINE;
	}
	if (reason != NULL) {
		stop_active(s, pods, n_pods, true, d);
		set_cond(s, PP_JOB_COND_FAILED, true, reason, message, now);
		add_event(d, true, reason, xstrdup(message));
		return true;
	}
	if (!job_complete(job, s))
		return false;
	/* more pods ran than completions needed (a work queue's stragglers
	 * are waited for: complete needs none active) */
	stop_active(s, pods, n_pods, false, d);
	s->completion_ms = now;
	set_cond(s, PP_JOB_COND_COMPLETE, true, PP_JOB_REASON_COMPLETE, PP_JOB_MSG_COMPLETE, now);
	add_event(d, false, "Completed", xstrdup("Job completed"));
	return true;
}

/* ---- starting and stopping pods ---- */

static void create_pod(const struct pp_job *job, const struct pp_job_env *env,
		       struct pp_job_status *s, int64_t index, struct pp_job_decision *d)
{
	char *name = pp_job_pod_name(job->name, index, env->random, env->random_ctx);
	d->create = xrealloc(d->create, (d->n_create + 1) * sizeof(*d->create));
	d->create[d->n_create++] = (struct pp_job_create){.name = name, .index = index};
	strv_push(&s->uncounted, &s->n_uncounted, name);
	add_event(d, false, EV_SUCCESSFUL_CREATE, xasprintf("Created pod: %s", name));
	s->active++;
}

/* Which running pod to stop first: the job controller's order (not yet
 * running, then not ready, then the latest). */
static int stop_rank(const struct pp_job_pod *p)
{
	return p->phase == PP_JOB_POD_PENDING ? 0 : !p->ready ? 1 : 2;
}

static void stop_excess(struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods,
			int32_t excess, struct pp_job_decision *d)
{
	for (int rank = 0; rank <= 2 && excess > 0; rank++)
		for (size_t i = n_pods; i-- > 0 && excess > 0;) {
			if (terminal(&pods[i]) || stop_rank(&pods[i]) != rank ||
			    strv_find(d->delete_, d->n_delete, pods[i].name) >= 0)
				continue;
			s->ready -= pods[i].ready;
			delete_pod(d, s, pods[i].name);
			s->active--;
			excess--;
		}
}

static void manage_non_indexed(const struct pp_job *job, const struct pp_job_env *env,
			       struct pp_job_status *s, const struct pp_job_pod *pods,
			       size_t n_pods, bool may_create, struct pp_job_decision *d)
{
	int32_t want;
	if (job->completions < 0)
		/* a work queue: once one succeeded, the others finish; no more start */
		want = s->succeeded > 0 ? s->active : job->parallelism;
	else
		want = job->completions - s->succeeded < job->parallelism
			   ? job->completions - s->succeeded
			   : job->parallelism;
	if (want < 0)
		want = 0;
	if (s->active > want)
		stop_excess(s, pods, n_pods, s->active - want, d);
	while (may_create && s->active < want)
		create_pod(job, env, s, -1, d);
}

static void manage_indexed(const struct pp_job *job, const struct pp_job_env *env,
			   struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods,
			   bool may_create, struct pp_job_decision *d)
{
	cleanup_free uint8_t *running = xmalloc(s->n_completed + 1);
	/* a pod of an index done, out of range, or a second of its index: stopped */
	for (size_t i = 0; i < n_pods; i++) {
		int64_t x = pods[i].index;
		if (terminal(&pods[i]))
			continue;
		if (x < 0 || (size_t)x >= s->n_completed || s->completed[x] || running[x]) {
			s->ready -= pods[i].ready;
			delete_pod(d, s, pods[i].name);
			s->active--;
			continue;
		}
		running[x] = 1;
	}
	if (s->active > job->parallelism)
		stop_excess(s, pods, n_pods, s->active - job->parallelism, d);
	for (size_t x = 0; may_create && x < s->n_completed && s->active < job->parallelism; x++)
		if (!s->completed[x] && !running[x])
			create_pod(job, env, s, (int64_t)x, d);
}

/* ---- the pass ---- */

static void count_active(struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods)
{
	s->active = 0;
	s->ready = 0;
	for (size_t i = 0; i < n_pods; i++)
		if (!terminal(&pods[i])) {
			s->active++;
			s->ready += pods[i].ready;
		}
}

/* suspend: the running pods stop (not counted as failures); resume: the
 * start time starts again, as the job controller sets it. Returns true
 * while suspended. */
static bool check_suspend(const struct pp_job *job, const struct pp_job_env *env,
			  struct pp_job_status *s, const struct pp_job_pod *pods, size_t n_pods,
			  struct pp_job_decision *d)
{
	if (job->suspend) {
		if (!cond_true(s, PP_JOB_COND_SUSPENDED)) {
			set_cond(s, PP_JOB_COND_SUSPENDED, true, "JobSuspended", "Job suspended",
				 env->now_ms);
			add_event(d, false, "Suspended", xstrdup("Job suspended"));
		}
		stop_active(s, pods, n_pods, false, d);
		return true;
	}
	if (cond_true(s, PP_JOB_COND_SUSPENDED)) {
		set_cond(s, PP_JOB_COND_SUSPENDED, false, "JobResumed", "Job resumed", env->now_ms);
		add_event(d, false, "Resumed", xstrdup("Job resumed"));
		s->start_ms = env->now_ms;
	}
	return false;
}

void pp_job_decide(const struct pp_job *job, const struct pp_job_env *env, struct pp_job_status *s,
		   const struct pp_job_pod *pods, size_t n_pods, struct pp_job_decision *d)
{
	*d = (struct pp_job_decision){0};
	if (job->completion_mode == PP_JOB_INDEXED && s->n_completed != (size_t)job->completions) {
		s->completed = xrealloc(s->completed, (size_t)job->completions + 1);
		if ((size_t)job->completions > s->n_completed)
			memset(s->completed + s->n_completed, 0,
			       (size_t)job->completions - s->n_completed);
		s->n_completed = (size_t)job->completions;
	}
	if (pp_job_finished(s, NULL)) {
		/* what a crash between the decision and its execution left */
		stop_active(s, pods, n_pods, false, d);
		ttl_check(job, env, s, pods, n_pods, d);
		return;
	}
	count_pods(job, env, s, pods, n_pods);
	count_active(s, pods, n_pods);
	if (check_suspend(job, env, s, pods, n_pods, d))
		return;
	if (s->start_ms == 0)
		s->start_ms = env->now_ms;
	if (check_end(job, env, s, pods, n_pods, d)) {
		ttl_check(job, env, s, pods, n_pods, d);
		return;
	}
	int64_t backoff = pp_job_backoff_remaining(s, env);
	if (backoff > 0)
		wake_at(d, env->now_ms + backoff);
	if (job->completion_mode == PP_JOB_INDEXED)
		manage_indexed(job, env, s, pods, n_pods, backoff == 0, d);
	else
		manage_non_indexed(job, env, s, pods, n_pods, backoff == 0, d);
	if (job->active_deadline_seconds >= 0)
		wake_at(d, s->start_ms + job->active_deadline_seconds * 1000);
}

/* ---- freeing ---- */

void pp_job_decision_free(struct pp_job_decision *d)
{
	for (size_t i = 0; i < d->n_create; i++)
		free(d->create[i].name);
	free(d->create);
	for (size_t i = 0; i < d->n_delete; i++)
		free(d->delete_[i]);
	free(d->delete_);
	for (size_t i = 0; i < d->n_events; i++)
		free(d->events[i].message);
	free(d->events);
	*d = (struct pp_job_decision){0};
}

void pp_job_status_free(struct pp_job_status *s)
{
	free(s->completed);
	for (size_t i = 0; i < s->n_uncounted; i++)
		free(s->uncounted[i]);
	free(s->uncounted);
	for (int t = 0; t < PP_JOB_COND_COUNT; t++) {
		free(s->cond[t].reason);
		free(s->cond[t].message);
	}
	*s = (struct pp_job_status){0};
}

/* ---- what kubectl shows ---- */

char *pp_job_completed_indexes(const struct pp_job_status *s)
{
	char *out = xstrdup("");
	for (size_t x = 0; x < s->n_completed;) {
		if (!s->completed[x]) {
			x++;
			continue;
		}
		size_t end = x;
		while (end + 1 < s->n_completed && s->completed[end + 1])
			end++;
		char *next = end == x ? xasprintf("%s%s%zu", out, *out ? "," : "", x)
				      : xasprintf("%s%s%zu-%zu", out, *out ? "," : "", x, end);
		free(out);
		out = next;
		x = end + 1;
	}
	return out;
}

static int read_index(const char **p, size_t *out)
{
	char *end = NULL;
	if (**p < '0' || **p > '9')
		return -1;
	unsigned long long v = strtoull(*p, &end, 10);
	*p = end;
	*out = (size_t)v;
	return 0;
}

int pp_job_parse_completed_indexes(const char *text, size_t n, struct pp_job_status *s)
{
	free(s->completed);
	s->completed = xmalloc(n + 1);
	s->n_completed = n;
	for (const char *p = text; *p;) {
		size_t a = 0, b = 0;
		if (read_index(&p, &a) < 0)
			return -1;
		b = a;
		if (*p == '-') {
			p++;
			if (read_index(&p, &b) < 0)
				return -1;
		}
		if (b < a || b >= n)
			return -1;
		memset(s->completed + a, 1, b - a + 1);
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -1;
	}
	return 0;
}

const char *pp_job_status_word(const struct pp_job_status *s)
{
	if (cond_true(s, PP_JOB_COND_COMPLETE))
		return "Complete";
	if (cond_true(s, PP_JOB_COND_FAILED))
		return "Failed";
	if (cond_true(s, PP_JOB_COND_SUSPENDED))
		return "Suspended";
	return "Running";
}

char *pp_job_completions_text(const struct pp_job *job, const struct pp_job_status *s)
{
	if (job->completions >= 0)
		return xasprintf("%d/%d", s->succeeded, job->completions);
	if (job->parallelism > 1)
		return xasprintf("%d/1 of %d", s->succeeded, job->parallelism);
	return xasprintf("%d/1", s->succeeded);
}

char *pp_human_duration(int64_t ms)
{
	int64_t sec = ms / 1000;
	if (sec < -1)
		return xstrdup("<invalid>");
	if (sec < 0)
		return xstrdup("0s");
	if (sec < 120)
		return xasprintf("%llds", (long long)sec);
	long long m = sec / 60, h = sec / 3600, d = h / 24;
	if (m < 10)
		return sec % 60 ? xasprintf("%lldm%llds", m, (long long)(sec % 60))
				: xasprintf("%lldm", m);
	if (m < 60 * 3)
		return xasprintf("%lldm", m);
	if (h < 8)
		return m % 60 ? xasprintf("%lldh%lldm", h, m % 60) : xasprintf("%lldh", h);
	if (h < 48)
		return xasprintf("%lldh", h);
	if (h < 24 * 8)
		return h % 24 ? xasprintf("%lldd%lldh", d, h % 24) : xasprintf("%lldd", d);
	if (h < 24 * 365 * 2)
		return xasprintf("%lldd", d);
	if (h < 24 * 365 * 8)
		return d % 365 ? xasprintf("%lldy%lldd", d / 365, d % 365)
			       : xasprintf("%lldy", d / 365);
	return xasprintf("%lldy", d / 365);
}

char *pp_job_duration_text(const struct pp_job_status *s, int64_t now_ms)
{
	if (s->start_ms == 0)
		return xstrdup("");
	return pp_human_duration((s->completion_ms ? s->completion_ms : now_ms) - s->start_ms);
}

char *pp_job_pods_statuses_text(const struct pp_job_status *s)
{
	return xasprintf("%d Active (%d Ready) / %d Succeeded / %d Failed", s->active, s->ready,
			 s->succeeded, s->failed);
}
