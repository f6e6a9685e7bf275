#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>

#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/trace.h"
#include "util/settings.h"

/* Sidecars still get this long each when the app containers used up the grace period. */
#define MIN_SIDECAR_GRACE_S 2
#define LINE_MAX_BYTES (16 * 1024)
#define READ_CHUNK (64 * 1024)
/* A big pipe lets a fast writer run ahead of us instead of waiting on each 64 KiB. */
#define OUTPUT_PIPE_SIZE (1024 * 1024)
#define MAX_EVENTS 32
/* A restart in CreateContainerConfigError tries again after this (an
 * applied object wakes it at once: objwatch.c). */
#define CONFIG_RESTART_RETRY_NS (10 * PP_NSEC_PER_SEC)

void sup_event(struct sup *s, enum pp_event_level level, const char *ctr, const char *reason,
	       const char *fmt, ...)
{
	s->dirty = true;
	if (s->callbacks->event == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	s->callbacks->event(s->callbacks->ctx, level, ctr, reason, msg);
}

static void emit_lines(struct sup *s, size_t i, enum pp_stream stream, struct line_buf *b, bool eof)
{
	const struct pp_pod_container *c = &s->pod->containers[i];
	size_t start = 0;
	while (start < b->len) {
		size_t left = b->len - start;
		size_t max = left < LINE_MAX_BYTES ? left : LINE_MAX_BYTES;
		const char *nl = memchr(b->data + start, '\n', max);
		if (nl != NULL) {
			size_t len = (size_t)(nl - (b->data + start));
			s->callbacks->output(s->callbacks->ctx, c, stream, b->data + start, len,
					     false);
			start += len + 1;
		} else if (max == LINE_MAX_BYTES || eof) {
			/* Too long for one line, or the stream's last words. */
			s->callbacks->output(s->callbacks->ctx, c, stream, b->data + start, max,
					     true);
			start += max;
		} else {
			break;
		}
	}
	memmove(b->data, b->data + start, b->len - start);
	b->len -= start;
	if (s->callbacks->flush)
		s->callbacks->flush(s->callbacks->ctx, c);
}

/* The last PP_LOG_TAIL_BYTES of the instance's output, both streams: one
 * copy per chunk read, none per line. */
static void keep_tail(struct ctr_run *r, const char *data, size_t len)
{
	if (len >= PP_LOG_TAIL_BYTES) {
		memcpy(r->tail, data + len - PP_LOG_TAIL_BYTES, PP_LOG_TAIL_BYTES);
		r->tail_len = PP_LOG_TAIL_BYTES;
		return;
	}
	size_t keep = r->tail_len + len > PP_LOG_TAIL_BYTES ? PP_LOG_TAIL_BYTES - len : r->tail_len;
	memmove(r->tail, r->tail + r->tail_len - keep, keep);
	memcpy(r->tail + keep, data, len);
	r->tail_len = keep + len;
}

/* terminationMessagePolicy FallbackToLogsOnError: a container that failed
 * and left no message gets the last lines of its output. */
static void fallback_message(struct sup *s, size_t i)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct ctr_run *r = &s->run[i];
	const char *policy = c->spec->termination_message_policy;
	if (c->message != NULL || c->exit_code == 0 || r->tail_len == 0 || policy == NULL ||
	    strcmp(policy, "FallbackToLogsOnError") != 0)
		return;
	size_t start = r->tail_len, lines = 0;
	/* Back from the end over at most PP_LOG_TAIL_LINES lines. */
	if (start > 0 && r->tail[start - 1] == '\n')
		start--;
	while (start > 0 && !(r->tail[start - 1] == '\n' && ++lines == PP_LOG_TAIL_LINES))
		start--;
	c->message = strndup(r->tail + start, r->tail_len - start);
}

/* Reads what is available; at EOF (or when drain, everything left) closes the fd. */
static void read_output(struct sup *s, size_t i, enum pp_stream stream, bool drain)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	int *fd = stream == PP_STREAM_STDOUT ? &c->out_fd : &c->err_fd;
	struct line_buf *b = stream == PP_STREAM_STDOUT ? &s->run[i].out : &s->run[i].err;
	if (*fd < 0)
		return;
	for (;;) {
		/* Between reads less than one line is kept, so this never overflows. */
		if (b->data == NULL)
			b->data = xmalloc_buffer(LINE_MAX_BYTES + READ_CHUNK);
		ssize_t r = read(*fd, b->data + b->len, LINE_MAX_BYTES + READ_CHUNK - b->len);
		if (r > 0) {
			keep_tail(&s->run[i], b->data + b->len, (size_t)r);
			b->len += (size_t)r;
			emit_lines(s, i, stream, b, false);
			if (!drain)
				return;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && !drain)
			return;
		/* EOF, error, or drained after the process exited: whatever a
		 * leftover child writes later is not this container's output. */
		emit_lines(s, i, stream, b, true);
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, *fd, NULL);
		cleanup_closep(fd);
		return;
	}
}

int sup_watch(struct sup *s, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void container_terminated(struct sup *s, size_t i);

/* A restart found an object its env needs missing: kubelet's
 * CreateContainerConfigError, no container made (restartCount counts the
 * restarts made), tried again later, or as soon as an object changes
 * (objwatch.c). */
static void restart_config_error(struct sup *s, size_t i, const struct pp_error *err)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct ctr_run *r = &s->run[i];
	if (c->restart_count > 0)
		c->restart_count--;
	free(r->img.message);
	r->img.reason = "CreateContainerConfigError";
	r->img.message = xstrdup(err->msg);
	r->config_restart = true;
	double f = pp_settings()->test_time_scale;
	r->start_at =
	    pp_monotonic_ns() + (f > 0 && f <= 1 ? (int64_t)((double)CONFIG_RESTART_RETRY_NS * f)
						 : CONFIG_RESTART_RETRY_NS);
	s->dirty = true;
	sup_event(s, PP_EVENT_WARNING, c->spec->name, "Failed", "Error: %s", err->msg);
}

/* The first half of a start: the container's setup runs in its child. */
static void spawn_container(struct sup *s, size_t i)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	cleanup_error struct pp_error *err = NULL;
	/* Its env's ConfigMaps and Secrets, before each start (kubelet makes
	 * the env at each): one missing is CreateContainerConfigError. */
	cleanup_strv char **warnings = NULL;
	if (pp_pod_container_env_check(s->pod, i, &warnings, &err) < 0) {
		if (s->run[i].ever_started)
			restart_config_error(s, i, err);
		else
			sup_config_error(s, i, err);
		return;
	}
	for (char **w = warnings; w && *w; w++)
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "InvalidEnvironmentVariableNames",
			  "%s", *w);
	s->run[i].config_restart = false;
	s->run[i].start_at = 0;
	s->run[i].ever_started = true;
	s->run[i].tail_len = 0;
	s->run[i].stop_begun = false;
	s->dirty = true;
	/* kubelet's events for a start: the image (unless it was pulled for
	 * it: image_pull.c said so), the container created, then
	 * (finish_container) started. */
	if (!s->run[i].img.just_pulled)
		sup_event(s, PP_EVENT_INFO, c->spec->name, "Pulled",
			  "Container image \"%s\" already present on machine", c->spec->image);
	s->run[i].img.just_pulled = false;
	pp_trace("ctr %s spawn", c->spec->name);
	if (pp_pod_instance_spawn_container(s->pod, i, &err) < 0) {
		sup_event(s, PP_EVENT_ERROR, c->spec->name, "Failed", "%s", err->msg);
		container_terminated(s, i);
		return;
	}
	sup_event(s, PP_EVENT_INFO, c->spec->name, "Created", "Created container %s",
		  c->spec->name);
}

/* The second half: it exec'd (it runs) or its setup failed. */
static void finish_container(struct sup *s, size_t i)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	cleanup_error struct pp_error *err = NULL;
	if (!c->spawning)
		return;
	if (pp_pod_instance_finish_start(s->pod, i, &err) < 0) {
		char buf[1024]; /* with its errno's text: exec's E2BIG, EACCES, ... */
		sup_event(s, PP_EVENT_ERROR, c->spec->name, "Failed", "%s",
			  pp_error_text(err, buf, sizeof(buf)));
		container_terminated(s, i);
		return;
	}
	pp_trace("ctr %s running", c->spec->name);
	if (s->callbacks->container_started)
		s->callbacks->container_started(s->callbacks->ctx, c);
	sup_event(s, PP_EVENT_INFO, c->spec->name, "Started", "Started container %s",
		  c->spec->name);
	fcntl(c->out_fd, F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
	sup_watch(s, c->pidfd, TAG(TAG_PIDFD, i));
	sup_watch(s, c->out_fd, TAG(TAG_OUT, i));
	sup_watch(s, c->err_fd, TAG(TAG_ERR, i));
	/* Probes start once the postStart hook (if any) has ended. */
	sup_post_start(s, i);
}

static void start_container(struct sup *s, size_t i)
{
	spawn_container(s, i);
	finish_container(s, i);
}

static void schedule_restart(struct sup *s, size_t i, bool at_once)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct ctr_run *r = &s->run[i];
	int64_t ran = (c->finished_at.tv_sec - c->started_at.tv_sec) * PP_NSEC_PER_SEC +
		      (c->finished_at.tv_nsec - c->started_at.tv_nsec);
	int64_t delay = at_once ? 0 : pp_backoff_next(&s->backoff, &r->backoff_ns, ran);
	r->start_at = pp_monotonic_ns() + delay;
	free(r->last.message);
	r->last = (struct ctr_termination){.set = true,
					   .exit_code = c->exit_code,
					   .signal = c->signal,
					   .reason = c->reason,
					   .message = c->message ? xstrdup(c->message) : NULL,
					   .started_at = c->started_at,
					   .finished_at = c->finished_at};
	if (delay > 0 && delay % PP_NSEC_PER_SEC == 0)
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "BackOff",
			  "Back-off restarting failed container %s: next start in %llds",
			  c->spec->name, (long long)(delay / PP_NSEC_PER_SEC));
	else if (delay > 0) /* scaled for a test */
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "BackOff",
			  "Back-off restarting failed container %s: next start in %lldms",
			  c->spec->name, (long long)(delay / 1000000));
}

static bool restarts(const struct sup *s, const struct pp_pod_container *c)
{
	if (c->is_sidecar)
		return true;
	switch (s->pod->spec->restart_policy) {
	case PP_RESTART_ALWAYS:
		/* Init containers run to completion: Always restarts them on failure only. */
		return !c->spec->is_init || c->exit_code != 0;
	case PP_RESTART_ON_FAILURE:
		return c->exit_code != 0;
	case PP_RESTART_NEVER:
	default:
		return false;
	}
}

static void record_failure(struct sup *s, const struct pp_pod_container *c)
{
	if (c->exit_code != 0 && s->first_failure < 0)
		s->first_failure = c->exit_code;
}

/* A container's process ended (or never started). */
static void container_terminated(struct sup *s, size_t i)
{
	fallback_message(s, i);
	struct pp_pod_container *c = &s->pod->containers[i];
	if (c->reason != NULL && strcmp(c->reason, "OOMKilled") == 0)
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "OOMKilled",
			  "container %s was killed for using more than its memory limit (%s)",
			  c->spec->name,
			  c->spec->resources.limits_memory.text
			      ? c->spec->resources.limits_memory.text
			      : "the pod's");
	else if (c->signal)
		sup_event(s, c->exit_code ? PP_EVENT_WARNING : PP_EVENT_INFO, c->spec->name,
			  "Killed", "container %s was killed by signal %d", c->spec->name,
			  c->signal);
	else if (c->exit_code != 0)
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "Error",
			  "container %s exited with code %d (%s)", c->spec->name, c->exit_code,
			  c->reason);
	else
		sup_event(s, PP_EVENT_INFO, c->spec->name, "Completed", "container %s completed",
			  c->spec->name);
	/* An ephemeral container is never restarted, and how it ended is
	 * not the pod's. */
	if (s->stopping != STOP_NONE || c->is_ephemeral) {
		sup_advance(s);
		return;
	}
	if (s->run[i].image_changed) {
		/* kubelet: the container's definition changed, it is restarted
		 * (whatever the restartPolicy) once its new image is ready */
		s->run[i].image_changed = false;
		pp_image_free(c->image);
		c->image = NULL;
		s->run[i].img.waiting = true;
		s->run[i].img.retry_at = pp_monotonic_ns();
		schedule_restart(s, i, true);
	} else if (restarts(s, c)) {
		schedule_restart(s, i, false);
		/* kubelet makes sure of the image at every start: with Always
		 * the registry is asked again (a HEAD when the image is here)
		 * once the back-off is over, and the restart waits for it */
		if (pp_pod_pull_policy(c->spec) == PP_PULL_ALWAYS) {
			pp_image_free(c->image);
			c->image = NULL;
			s->run[i].img.waiting = true;
			s->run[i].img.retry_at = s->run[i].start_at;
		}
	} else if (c->spec->is_init && c->exit_code == 0) {
		s->next_init = i + 1;
	} else if (c->spec->is_init) {
		/* An init container failed for good: the pod fails. */
		s->failed = true;
		record_failure(s, c);
		sup_begin_stop(s, s->pod->spec->termination_grace_period_seconds);
		return;
	} else {
		record_failure(s, c);
	}
	sup_advance(s);
}

static bool any_running(const struct sup *s, bool sidecars)
{
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		const struct pp_pod_container *c = &s->pod->containers[i];
		if (c->state == PP_CTR_RUNNING && c->is_sidecar == sidecars)
			return true;
	}
	return false;
}

/* App containers done and none will restart: the pod has completed. */
static bool apps_completed(const struct sup *s)
{
	if (!s->apps_started)
		return false;
	for (size_t i = s->pod->n_init; i < s->pod->n_containers; i++)
		if (s->pod->containers[i].state != PP_CTR_TERMINATED || s->run[i].start_at)
			return false;
	return true;
}

static void signal_stage(struct sup *s, bool sidecars, bool force)
{
	/* App containers stop in parallel (their preStop hooks too); sidecars
	 * one at a time, the last started first. */
	for (size_t k = pp_pod_n_all(s->pod); k-- > 0;) {
		struct pp_pod_container *c = &s->pod->containers[k];
		if (c->state != PP_CTR_RUNNING || c->is_sidecar != sidecars)
			continue;
		sup_stop_container(s, k, force);
		if (sidecars && !force)
			return;
	}
}

/* SIGKILL to everything still running; no deadline is left to wait for. */
void sup_kill_all(struct sup *s)
{
	sup_thaw(s, NULL);
	signal_stage(s, false, true);
	signal_stage(s, true, true);
	s->stop_deadline = 0;
}

void sup_begin_stop(struct sup *s, int64_t grace_s)
{
	if (s->stopping != STOP_NONE)
		return;
	/* A frozen process cannot act on its stop signal: thaw the pod first
	 * (and a pause that waits will not come). */
	cleanup_free char *why = xasprintf("pod %s is terminating", s->pod->spec->name);
	sup_pause_cancel(s, why);
	sup_thaw(s, NULL);
	s->stopping = STOP_APPS;
	s->stop_deadline = pp_monotonic_ns() + grace_s * PP_NSEC_PER_SEC;
	sup_pulls_stop(s);
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		s->run[i].start_at = 0;
		sup_probes_stop(s, i);
	}
	if (any_running(s, false))
		sup_event(s, PP_EVENT_INFO, NULL, "Killing",
			  "Stopping containers (grace period %llds)", (long long)grace_s);
	if (grace_s == 0)
		sup_kill_all(s);
	else
		signal_stage(s, false, false);
	sup_advance(s);
}

/* An app container's first start is due: its image is ready. */
static bool first_start_due(const struct sup *s, size_t i)
{
	return s->stopping == STOP_NONE && !s->run[i].ever_started &&
	       s->pod->containers[i].image != NULL && !s->run[i].img.waiting;
}

/* Starts the app containers: all at once (those whose image is ready; the
 * others once it is), or one at a time when some have a postStart hook
 * (the next starts once the previous one's hook ended). */
static void start_apps(struct sup *s)
{
	struct pp_pod_instance *pod = s->pod;
	if (!s->apps_started) {
		s->apps_started = true;
		s->next_app = pod->n_init;
		s->apps_parallel = !sup_apps_have_post_start(s);
	}
	if (s->apps_parallel) {
		/* The app containers set up at once, as their order does not
		 * matter: each then waits less. (A failed start re-enters
		 * here: each is checked again before its spawn.) */
		for (size_t i = pod->n_init; i < pod->n_containers; i++)
			if (first_start_due(s, i))
				spawn_container(s, i);
		for (size_t i = pod->n_init; i < pod->n_containers; i++)
			finish_container(s, i);
		return;
	}
	while (s->stopping == STOP_NONE && s->next_app < pod->n_containers) {
		size_t i = s->next_app;
		if (s->run[i].hook.kind == HOOK_POST_START)
			return;
		if (!s->run[i].ever_started) {
			if (pod->containers[i].image == NULL || s->run[i].img.waiting)
				return; /* its pull's (or config retry's) end moves us on */
			/* A failure re-enters here through container_terminated. */
			start_container(s, i);
			continue;
		}
		s->next_app++;
	}
}

/* The ephemeral containers whose image is ready start once (no restart);
 * a CRI container once StartContainer asked for it. */
static void start_ephemerals(struct sup *s)
{
	for (size_t i = s->pod->n_containers; i < pp_pod_n_all(s->pod); i++) {
		const struct pp_pod_container *c = &s->pod->containers[i];
		if (s->stopping == STOP_NONE && !c->removed && !s->run[i].ever_started &&
		    c->image != NULL && (!c->cri || s->run[i].cri_start))
			start_container(s, i);
	}
}

struct ctr_run *sup_new_run(struct sup *s, size_t i)
{
	/* Called from the control socket's dispatch, where nothing holds a
	 * pointer into s->run; a slot taken again had its run freed. */
	if (i + 1 > s->n_run) {
		s->run = xrealloc(s->run, sizeof(*s->run) * (i + 1));
		s->n_run = i + 1;
	}
	struct ctr_run *r = &s->run[i];
	*r = (struct ctr_run){0};
	r->hook = HOOK_RUN_INIT;
	r->exec = EXEC_CACHE_INIT;
	for (size_t k = 0; k < N_PROBES; k++)
		r->probes[k] = PROBE_RUN_INIT;
	return r;
}

void sup_free_run(struct sup *s, size_t i)
{
	sup_probes_stop(s, i);
	sup_hook_cancel(s, i);
	sup_exec_cache_clear(s, i);
	free(s->run[i].out.data);
	free(s->run[i].err.data);
	free(s->run[i].last.message);
	free(s->run[i].img.message);
	s->run[i] = (struct ctr_run){0};
}

int sup_add_ephemeral(struct sup *s, const struct pp_ephemeral_request *req, struct pp_error **err)
{
	if (s->stopping != STOP_NONE || s->finished)
		return pp_error_set(err, 0, "pod %s is not running: it is being stopped",
				    s->pod->spec->name);
	if (s->frozen)
		return pp_error_set(err, 0, "pod %s is paused: unpause it first",
				    s->pod->spec->name);
	size_t i;
	if (pp_pod_instance_add_ephemeral(s->pod, req, &i, err) < 0)
		return -1;
	struct ctr_run *r = sup_new_run(s, i);
	/* Its image, as any container's: looked up, or pulled per the
	 * default policy (image_pull.c); then sup_advance starts it. */
	r->img.waiting = true;
	r->img.retry_at = pp_monotonic_ns();
	s->dirty = true;
	sup_pulls_kick(s);
	sup_advance(s);
	return 0;
}

/* Moves the pod forward: init containers in order, then the app containers;
 * when stopping, from the apps to the sidecars. */
int sup_change_image(struct sup *s, const char *name, const char *image, struct pp_error **err)
{
	size_t i = s->pod->n_init;
	while (i < s->pod->n_containers && strcmp(s->pod->containers[i].spec->name, name) != 0)
		i++;
	if (i == s->pod->n_containers)
		return pp_error_set(err, 0, "no app container \"%s\" in pod %s", name,
				    s->pod->spec->name);
	struct pp_pod_container *c = &s->pod->containers[i];
	if (strcmp(c->spec->image, image) == 0)
		return 0;
	if (s->stopping != STOP_NONE)
		return pp_error_set(err, 0, "pod %s is stopping", s->pod->spec->name);
	/* its stop (a preStop exec) and start would wait on frozen processes */
	if (s->frozen)
		return pp_error_set(err, 0, "pod %s is paused: unpause it first",
				    s->pod->spec->name);
	/* The supervisor owns its pod's spec: the new image is its own. */
	struct pp_container *spec = (struct pp_container *)c->spec;
	free(spec->image);
	spec->image = xstrdup(image);
	s->dirty = true;
	sup_event(s, PP_EVENT_INFO, name, "Killing",
		  "Container %s definition changed, will be restarted", name);
	if (c->state == PP_CTR_RUNNING) {
		int64_t grace = s->pod->spec->termination_grace_period_seconds;
		s->run[i].image_changed = true;
		sup_probes_stop(s, i);
		sup_stop_container(s, i, grace == 0);
		if (grace > 0)
			s->run[i].kill_at = pp_monotonic_ns() + grace * PP_NSEC_PER_SEC;
		return 0;
	}
	/* Not running: its next start (a restart under way) takes the new image. */
	pp_image_free(c->image);
	c->image = NULL;
	s->run[i].img.waiting = true;
	s->run[i].img.retry_at = pp_monotonic_ns();
	return 0;
}

int sup_set_deadline(struct sup *s, int64_t seconds, struct pp_error **err)
{
	if (seconds <= 0)
		return pp_error_set(err, 0, "activeDeadlineSeconds must be positive");
	if (s->stopping != STOP_NONE)
		return pp_error_set(err, 0, "pod %s is stopping", s->pod->spec->name);
	s->pod->spec->active_deadline_seconds = seconds;
	s->active_deadline = s->started_ns + seconds * PP_NSEC_PER_SEC;
	s->dirty = true;
	return 0;
}

void sup_advance(struct sup *s)
{
	struct pp_pod_instance *pod = s->pod;
	if (s->stopping == STOP_APPS && !any_running(s, false)) {
		s->stopping = STOP_SIDECARS;
		int64_t min_deadline = pp_monotonic_ns() + MIN_SIDECAR_GRACE_S * PP_NSEC_PER_SEC;
		if (s->stop_deadline && s->stop_deadline < min_deadline)
			s->stop_deadline = min_deadline;
		signal_stage(s, true, s->stop_deadline == 0);
		return;
	}
	if (s->stopping == STOP_SIDECARS) {
		signal_stage(s, true, s->stop_deadline == 0);
		return;
	}
	/* A paused pod starts nothing: a child born into its frozen cgroup
	 * would hold us until the thaw, which comes through this very loop
	 * (the unpause advances it again). */
	if (s->frozen)
		return;
	/* kubelet mounts every volume before it starts any container: one
	 * waiting for its ConfigMap or Secret holds them all (objwatch.c). */
	if (pp_pod_instance_volumes_pending(pod))
		return;
	start_ephemerals(s);
	while (s->next_init < pod->n_init) {
		struct pp_pod_container *c = &pod->containers[s->next_init];
		if (c->state == PP_CTR_WAITING && s->run[s->next_init].start_at == 0) {
			if (c->image == NULL || s->run[s->next_init].img.waiting)
				return; /* its pull's (or config retry's) end moves us on */
			start_container(s, s->next_init);
			if (s->stopping != STOP_NONE)
				return;
		}
		/* The next init container starts once a sidecar has started, or
		 * once a regular one has completed. */
		if (c->is_sidecar && c->state == PP_CTR_RUNNING &&
		    s->run[s->next_init].hook.kind != HOOK_POST_START)
			s->next_init++;
		else
			return;
	}
	start_apps(s);
	/* A CRI sandbox runs until it is stopped (StopPodSandbox). */
	if (s->stopping == STOP_NONE && !pod->spec->cri && apps_completed(s))
		sup_begin_stop(s, pod->spec->termination_grace_period_seconds);
}

/* The earliest of: a due restart, the stop deadline, the active deadline, a probe. */
static void arm_timer(struct sup *s)
{
	int64_t next = sup_probes_next(s);
	int64_t hook = sup_hooks_next(s);
	if (hook && (next == 0 || hook < next))
		next = hook;
	int64_t pull = sup_pulls_next(s);
	if (pull && (next == 0 || pull < next))
		next = pull;
	/* A paused pod restarts nothing: sup_thaw moves the restarts later. */
	for (size_t i = 0; i < s->pod->n_containers && !s->frozen; i++)
		if (s->run[i].start_at && !s->run[i].img.waiting &&
		    (next == 0 || s->run[i].start_at < next))
			next = s->run[i].start_at;
	if (s->stopping != STOP_NONE && s->stop_deadline && (next == 0 || s->stop_deadline < next))
		next = s->stop_deadline;
	if (s->stopping == STOP_NONE && s->active_deadline &&
	    (next == 0 || s->active_deadline < next))
		next = s->active_deadline;
	if (s->pause_deadline && (next == 0 || s->pause_deadline < next))
		next = s->pause_deadline;
	if (s->quiet_at && (next == 0 || s->quiet_at < next))
		next = s->quiet_at;
	struct itimerspec its = {0};
	if (next) {
		if (next <= 0)
			next = 1;
		its.it_value.tv_sec = next / PP_NSEC_PER_SEC;
		its.it_value.tv_nsec = next % PP_NSEC_PER_SEC;
	}
	timerfd_settime(s->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_timer(struct sup *s)
{
	uint64_t ticks;
	if (read(s->timerfd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	int64_t now = pp_monotonic_ns();
	if (s->stopping != STOP_NONE && s->stop_deadline && now >= s->stop_deadline) {
		sup_event(s, PP_EVENT_WARNING, NULL, "Killing",
			  "Grace period over: killing what is left");
		sup_kill_all(s);
		return;
	}
	if (s->stopping == STOP_NONE && s->active_deadline && now >= s->active_deadline) {
		sup_event(s, PP_EVENT_WARNING, NULL, "DeadlineExceeded",
			  "Pod was active on the node longer than the specified deadline");
		s->failed = true;
		s->reason = "DeadlineExceeded";
		sup_begin_stop(s, s->pod->spec->termination_grace_period_seconds);
		return;
	}
	/* (not while the pod stops: its memory goes with it, and the stop
	 * would wait for the release) */
	if (s->quiet_at && now >= s->quiet_at) {
		s->quiet_at = 0;
		s->quiet_last = now;
		if (s->stopping == STOP_NONE)
			s->callbacks->quiet(s->callbacks->ctx);
	}
	sup_pause_timer(s, now);
	sup_hooks_timer(s, now);
	sup_probes_timer(s, now);
	sup_pulls_timer(s, now);
	for (size_t i = 0; i < s->pod->n_containers && !s->frozen; i++) {
		/* a restart for a new image waits for it (its pull's end re-arms) */
		if (s->run[i].start_at && s->run[i].start_at <= now && !s->run[i].img.waiting &&
		    s->pod->containers[i].image != NULL) {
			/* restartCount counts restarts made, as kubelet's does:
			 * during a back-off it still names the last instance. */
			s->pod->containers[i].restart_count++;
			s->pod->containers[i].state = PP_CTR_WAITING;
			start_container(s, i);
		}
	}
	sup_advance(s);
}

static void on_signal(struct sup *s)
{
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* exits arrive through the pidfds */
		if (s->stopping != STOP_NONE) {
			sup_event(s, PP_EVENT_WARNING, NULL, "Killing",
				  "Second stop request: killing the pod now");
			sup_kill_all(s);
			continue;
		}
		s->stop_signal = (int)si.ssi_signo;
		sup_begin_stop(s, s->pod->spec->termination_grace_period_seconds);
	}
}

static void on_container_exit(struct sup *s, size_t i)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	pp_trace("ctr %s exited", c->spec->name);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
	sup_probes_stop(s, i);
	sup_hook_cancel(s, i);
	sup_exec_cache_clear(s, i);
	pp_pod_instance_container_exited(s->pod, i);
	/* Drain what it wrote before exiting, so its output comes before the exit. */
	read_output(s, i, PP_STREAM_STDOUT, true);
	read_output(s, i, PP_STREAM_STDERR, true);
	container_terminated(s, i);
}

static bool finished(const struct sup *s)
{
	return s->stopping != STOP_NONE && !any_running(s, false) && !any_running(s, true);
}

/* A control request served: callbacks->quiet once the socket is quiet. */
static void note_request(struct sup *s)
{
	if (s->callbacks->quiet == NULL)
		return;
	int64_t at = pp_monotonic_ns() + PP_SUP_QUIET_MS * (PP_NSEC_PER_SEC / 1000);
	int64_t earliest = s->quiet_last + PP_SUP_QUIET_MIN_INTERVAL_MS * (PP_NSEC_PER_SEC / 1000);
	s->quiet_at = s->quiet_last && at < earliest ? earliest : at;
}

static void dispatch(struct sup *s, uint64_t tag)
{
	uint64_t index = tag & TAG_INDEX_MASK;
	size_t i = (size_t)index;
	switch ((enum tag_kind)(tag >> TAG_KIND_SHIFT)) {
	case TAG_SIGNAL:
		on_signal(s);
		break;
	case TAG_TIMER:
		on_timer(s);
		break;
	case TAG_PIDFD:
		on_container_exit(s, i);
		break;
	case TAG_OUT:
		read_output(s, i, PP_STREAM_STDOUT, false);
		break;
	case TAG_ERR:
		read_output(s, i, PP_STREAM_STDERR, false);
		break;
	case TAG_CTL:
		sup_ctl_accept(s);
		break;
	case TAG_CLIENT:
		sup_ctl_request(s, i);
		note_request(s);
		break;
	case TAG_PROBE:
		sup_probe_event(s, index);
		break;
	case TAG_HOOK:
		sup_hook_done(s, i);
		sup_advance(s);
		break;
	case TAG_PULL:
		sup_pull_event(s);
		break;
	case TAG_OBJWATCH:
		sup_objwatch_event(s);
		sup_advance(s);
		break;
	case TAG_INFRA:
		/* The infra process never exits on its own: losing it means
		 * losing the pod's namespaces. Say so and stop the pod. */
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->pod->sandbox->infra_pidfd, NULL);
		sup_event(s, PP_EVENT_ERROR, NULL, "InfraDied",
			  "the pod's infra process died: stopping the pod");
		s->failed = true;
		s->reason = "InfraDied";
		sup_begin_stop(s, 0);
		break;
	default:
		break;
	}
}

static void result(const struct sup *s, struct pp_run_result *res)
{
	res->reason = s->reason;
	if (s->stop_signal || s->stop_requested) {
		res->phase = PP_PHASE_STOPPED;
		res->exit_code = 128 + (s->stop_signal ? s->stop_signal : SIGTERM);
	} else if (s->failed || s->first_failure >= 0) {
		res->phase = PP_PHASE_FAILED;
		res->exit_code = s->first_failure > 0 ? s->first_failure : 1;
	} else {
		res->phase = PP_PHASE_SUCCEEDED;
		res->exit_code = 0;
	}
}

static int setup_fds(struct sup *s, sigset_t *mask, struct pp_error **err)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGCHLD);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->sigfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->epfd < 0 || s->sigfd < 0 || s->timerfd < 0)
		return pp_error_set(err, errno, "supervisor event loop");
	if (sup_watch(s, s->sigfd, TAG(TAG_SIGNAL, 0)) < 0 ||
	    sup_watch(s, s->timerfd, TAG(TAG_TIMER, 0)) < 0 ||
	    sup_watch(s, s->pod->sandbox->infra_pidfd, TAG(TAG_INFRA, 0)) < 0 ||
	    (s->callbacks->ctl_fd >= 0 && sup_watch(s, s->callbacks->ctl_fd, TAG(TAG_CTL, 0)) < 0))
		return pp_error_set(err, errno, "epoll_ctl");
	sup_objwatch_init(s);
	return 0;
}

int sup_watch_client(struct sup *s, int fd, size_t slot)
{
	return sup_watch(s, fd, TAG(TAG_CLIENT, slot));
}

static void loop(struct sup *s, struct pp_error **err, int *ret)
{
	/* What the host does not do as the manifest asked, said once. */
	for (char **w = s->pod->warnings; w && *w; w++)
		sup_event(s, PP_EVENT_WARNING, NULL, "ResourcesRestricted", "%s", *w);
	sup_advance(s);
	/* The missing images' pulls begin (the pod reports up meanwhile,
	 * Pending, as kubelet's does). */
	sup_pulls_kick(s);
	sup_write_status(s);
	if (s->callbacks->running)
		s->callbacks->running(s->callbacks->ctx);
	/* What setting up touched is given back once the pod has run a while,
	 * not now: a container that exits at once (a Job's, `peapod run
	 * true`) would wait for it, and its pod needs none of it given back. */
	note_request(s);
	while (!finished(s)) {
		arm_timer(s);
		struct epoll_event evs[MAX_EVENTS];
		int n = epoll_wait(s->epfd, evs, MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*ret = pp_error_set(err, errno, "epoll_wait");
			break;
		}
		for (int k = 0; k < n; k++)
			dispatch(s, evs[k].data.u64);
		/* the last one is written once, finished (pp_supervisor_run) */
		if (!finished(s))
			sup_write_status(s);
	}
}

int pp_supervisor_run(struct pp_pod_instance *pod, const struct pp_supervisor_callbacks *callbacks,
		      struct pp_run_result *res, struct pp_error **err)
{
	struct sup s = {.pod = pod,
			.callbacks = callbacks,
			.epfd = -1,
			.sigfd = -1,
			.timerfd = -1,
			.objwatch = {.fd = -1},
			.first_failure = -1,
			.dirty = true};
	for (size_t k = 0; k < MAX_CLIENTS; k++)
		s.clients[k] = -1;
	clock_gettime(CLOCK_REALTIME, &s.created);
	s.started = s.created;
	/* grown by sup_add_ephemeral: every use of it is by index */
	s.run = xmalloc(sizeof(*s.run) * (pod->n_containers + 1));
	s.n_run = pod->n_containers + 1;
	pp_backoff_init(&s.backoff, pp_settings()->test_time_scale);
	sup_probes_init(&s);
	sup_hooks_init(&s);
	sup_pulls_init(&s);
	s.started_ns = pp_monotonic_ns();
	if (pod->spec->active_deadline_seconds > 0)
		s.active_deadline =
		    s.started_ns + pod->spec->active_deadline_seconds * PP_NSEC_PER_SEC;
	/* The signals are blocked for the whole run: they arrive through the
	 * signalfd, and children reset their mask before exec. */
	sigset_t mask, old;
	int ret = setup_fds(&s, &mask, err);
	sigprocmask(SIG_BLOCK, &mask, &old);
	if (ret == 0 && callbacks->await_fd >= 0)
		sup_ctl_add_awaiting(&s, callbacks->await_fd);
	if (ret == 0) {
		loop(&s, err, &ret);
		result(&s, &s.res);
		*res = s.res;
		s.finished = true;
		s.dirty = true;
		sup_write_status(&s);
		/* What the containers wrote is in their logs before anyone
		 * hears of the end (`run` shows it, then lets the pod go). */
		for (size_t i = 0; callbacks->flush && i < pp_pod_n_all(pod); i++)
			if (pp_pod_slot_used(pod, i))
				callbacks->flush(callbacks->ctx, &pod->containers[i]);
		bool remove = sup_ctl_notify_finished(&s);
		if (callbacks->finish)
			callbacks->finish(callbacks->ctx, remove);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	sup_pulls_free(&s);
	sup_ctl_close_all(&s);
	for (size_t i = 0; i < pp_pod_n_all(pod); i++)
		if (pp_pod_slot_used(pod, i)) {
			sup_probes_stop(&s, i);
			sup_hook_cancel(&s, i);
			sup_exec_cache_clear(&s, i);
			free(s.run[i].out.data);
			free(s.run[i].err.data);
			free(s.run[i].last.message);
		}
	free(s.run);
	cleanup_closep(&s.epfd);
	cleanup_closep(&s.sigfd);
	cleanup_closep(&s.timerfd);
	sup_objwatch_close(&s);
	return ret;
}
