/* The images a pod's containers wait for, as kubelet gets them: per the
 * container's pull policy (Never: the image must be here; IfNotPresent:
 * pulled when missing; Always: pulled before the first start, the layers
 * the store has not downloaded again), one pull at a time per pod (kubelet
 * pulls serially), each in a child process of the supervisor that reports
 * on a pipe, so that the loop never waits for a registry. A failure shows
 * ErrImagePull, then ImagePullBackOff until the next attempt, with kubelet's
 * back-off (10 s doubling to 300 s) and its events. */
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/store.h"
#include "pull/credentials.h"
#include "pull/pull.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/proc.h"
#include "util/settings.h"

/* kubelet's image pull back-off (pkg/kubelet/kubelet.go: backOffPeriod,
 * MaxContainerBackOff). */
#define PULL_BACKOFF_INITIAL_NS (10 * PP_NSEC_PER_SEC)
#define PULL_BACKOFF_MAX_NS (300 * PP_NSEC_PER_SEC)
/* How long a failed pull shows ErrImagePull before ImagePullBackOff: kubelet
 * says ErrImagePull until the pod's next sync, which finds the back-off. */
#define PULL_ERROR_SHOWN_NS (1 * PP_NSEC_PER_SEC)
/* The pull's process name (ps), not to be taken for the supervisor. */
#define PP_PULL_CHILD_NAME "peapod-pull"
/* A report line of the child's; longer ones are cut. */
#define PULL_LINE_MAX 4096

static int64_t scaled(int64_t ns)
{
	double f = pp_settings()->test_time_scale;
	return f > 0 && f <= 1 ? (int64_t)((double)ns * f) : ns;
}

void sup_pulls_init(struct sup *s)
{
	s->pull = (struct pull_child){.pidfd = -1, .fd = -1};
	int64_t now = pp_monotonic_ns();
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		struct image_wait *w = &s->run[i].img;
		*w = (struct image_wait){0};
		if (s->pod->containers[i].image != NULL)
			continue;
		w->waiting = true;
		w->retry_at = now;
	}
}

bool sup_image_waiting(const struct sup *s, size_t i, const char **reason, const char **message)
{
	const struct image_wait *w = &s->run[i].img;
	*reason = w->reason;
	*message = w->message;
	return w->waiting;
}

static void set_reason(struct image_wait *w, const char *reason, const char *message)
{
	free(w->message);
	w->reason = reason;
	w->message = message ? xstrdup(message) : NULL;
}

/* ---- the child ---- */

static void write_line(int fd, const char *line)
{
	size_t len = strlen(line);
	while (len > 0) {
		ssize_t n = write(fd, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

/* One line of the report, a newline in its text made a space. */
static void write_report(int fd, char *text)
{
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	write_line(fd, text);
	write_line(fd, "\n");
}

static void child_progress(void *ctx, const struct pp_pull_event *ev)
{
	int fd = *(int *)ctx;
	cleanup_free char *line = NULL;
	if (ev->kind == PP_PULL_EV_BLOB)
		line = xasprintf("L %s %lld", ev->digest, (long long)ev->size);
	else if (ev->kind == PP_PULL_EV_WARNING)
		line = xasprintf("W %s: %s", ev->digest ? ev->digest : "", ev->text);
	if (line != NULL)
		write_report(fd, line);
}

/* As kubelet: each credential of the pod's imagePullSecrets in turn
 * until one works, then (none matching, or all failing) those of the
 * host's files, else anonymous. The errors of all, as kubelet's
 * aggregate: "[e1, e2]". */
static int child_pull(struct pp_image_store *store, const char *ref,
		      const struct pp_credential *const *creds, size_t n, int *fd, char **id,
		      struct pp_error **err)
{
	struct pp_pull_options opts = {.progress = child_progress, .progress_ctx = fd};
	cleanup_free char *msgs = NULL;
	int ret = -1;
	for (size_t k = 0; k <= n; k++) {
		opts.username = k < n ? creds[k]->user : NULL;
		opts.password = k < n ? creds[k]->password : NULL;
		pp_error_free(err);
		/* the image here (Always): the registry's digest first, and
		 * nothing more when it is the stored one */
		ret = pp_pull_check_current(store, ref, &opts, id, err);
		if (ret == 1)
			return 0;
		if (ret == 0)
			ret = pp_pull_image(store, ref, &opts, id, err);
		if (ret == 0)
			return 0;
		char *m = msgs ? xasprintf("%s, %s", msgs, (*err)->msg) : xstrdup((*err)->msg);
		free(msgs);
		msgs = m;
	}
	if (n > 0) {
		pp_error_free(err);
		return pp_error_set(err, EACCES, "[%s]", msgs);
	}
	return ret;
}

static __attribute__((noreturn)) void child_main(int fd, pid_t parent, const char *store_root,
						 const char *ref,
						 const struct pp_credential *const *creds, size_t n)
{
	/* It dies with the supervisor, and holds nothing of the pod's (the
	 * pod's lock, the control connections whose closing clients wait for). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	prctl(PR_SET_NAME, PP_PULL_CHILD_NAME, 0, 0, 0);
	pp_close_fds_except(fd);
	pp_reset_signals();
	struct pp_image_store *store = NULL;
	struct pp_error *err = NULL;
	cleanup_free char *id = NULL;
	int ret = pp_image_store_open(store_root, &store, &err);
	if (ret == 0)
		ret = child_pull(store, ref, creds, n, &fd, &id, &err);
	cleanup_free char *line =
	    ret == 0 ? xasprintf("O %s", id) : xasprintf("E %s", err ? err->msg : "failed");
	write_report(fd, line);
	_exit(ret == 0 ? 0 : 1);
}

/* ---- the supervisor's side ---- */

static void pull_release(struct sup *s)
{
	struct pull_child *p = &s->pull;
	if (p->fd >= 0)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->fd, NULL);
	cleanup_closep(&p->fd);
	cleanup_closep(&p->pidfd);
	free(p->buf.data);
	free(p->id);
	free(p->error);
	*p = (struct pull_child){.pidfd = -1, .fd = -1};
}

static int start_child(struct sup *s, size_t i, struct pp_error **err)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct pull_child *p = &s->pull;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	/* read here (the objects store is local files), handed to the child
	 * in its copy of this memory */
	struct pp_keyring kr = {0};
	const struct pp_credential **creds = NULL;
	size_t n = 0;
	if (sup_pull_credentials(s, c->spec->image, &kr, &creds, &n, err) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		pp_keyring_clear(&kr);
		return -1;
	}
	pid_t parent = getpid();
	int pidfd = -1;
	pid_t pid = pp_clone3(CLONE_PIDFD, &pidfd);
	if (pid == 0) {
		close(pipefd[0]);
		child_main(pipefd[1], parent, pp_image_store_root(s->pod->store), c->spec->image,
			   creds, n);
	}
	free(creds);
	pp_keyring_clear(&kr);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return pp_error_set(err, errno, "fork the pull of %s", c->spec->image);
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	*p = (struct pull_child){.active = true,
				 .ctr = i,
				 .pid = pid,
				 .pidfd = pidfd,
				 .fd = pipefd[0],
				 .began = pp_monotonic_ns()};
	sup_watch(s, p->fd, TAG(TAG_PULL, 0));
	return 0;
}

/* The next attempt after a failure: kubelet's back-off. */
static void schedule_retry(struct sup *s, size_t i)
{
	struct image_wait *w = &s->run[i].img;
	int64_t initial = scaled(PULL_BACKOFF_INITIAL_NS), max = scaled(PULL_BACKOFF_MAX_NS);
	w->backoff_ns = w->backoff_ns ? w->backoff_ns * 2 : initial;
	if (w->backoff_ns > max)
		w->backoff_ns = max;
	int64_t now = pp_monotonic_ns();
	w->retry_at = now + w->backoff_ns;
	w->notice_at = now + scaled(PULL_ERROR_SHOWN_NS);
	if (w->notice_at >= w->retry_at)
		w->notice_at = 0;
	s->dirty = true;
}

/* The image is here: the container is prepared (its image pinned, its
 * identity from the image), then it may start. */
static void image_ready(struct sup *s, size_t i, bool pulled)
{
	struct image_wait *w = &s->run[i].img;
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_instance_prepare_container(s->pod, i, &err) < 0) {
		/* kubelet's reason for a container it cannot configure; it
		 * stays that (no ImagePullBackOff notice: the pull worked) */
		sup_config_error(s, i, err);
		return;
	}
	set_reason(w, NULL, NULL);
	w->waiting = false;
	w->retry_at = w->notice_at = 0;
	w->just_pulled = pulled;
	s->dirty = true;
}

void sup_config_error(struct sup *s, size_t i, const struct pp_error *err)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct image_wait *w = &s->run[i].img;
	w->waiting = true;
	set_reason(w, "CreateContainerConfigError", err->msg);
	sup_event(s, PP_EVENT_WARNING, c->spec->name, "Failed", "Error: %s", err->msg);
	schedule_retry(s, i);
	w->notice_at = 0; /* it stays CreateContainerConfigError */
}

static void never_pull(struct sup *s, size_t i)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct image_wait *w = &s->run[i].img;
	cleanup_free char *msg = xasprintf(
	    "Container image \"%s\" is not present with pull policy of Never", c->spec->image);
	/* Said once: every later look finds the same. */
	if (w->reason == NULL || strcmp(w->reason, "ErrImageNeverPull") != 0) {
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "ErrImageNeverPull", "%s", msg);
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "Failed", "Error: ErrImageNeverPull");
	}
	set_reason(w, "ErrImageNeverPull", msg);
	schedule_retry(s, i);
	w->notice_at = 0;
}

/* An attempt for container i: a look at the store, or a pull started. */
static void attempt(struct sup *s, size_t i)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct image_wait *w = &s->run[i].img;
	w->queued_at = w->retry_at;
	w->retry_at = w->notice_at = 0;
	enum pp_pull_policy policy = pp_pod_pull_policy(c->spec);
	if (policy != PP_PULL_ALWAYS) {
		/* Here now (another pod pulled it, or an import): no pull. */
		struct pp_image *img = NULL;
		if (pp_image_get(s->pod->store, c->spec->image, &img, NULL) == 0) {
			pp_image_free(img);
			image_ready(s, i, false);
			return;
		}
		if (policy == PP_PULL_NEVER) {
			never_pull(s, i);
			return;
		}
	}
	cleanup_error struct pp_error *err = NULL;
	if (start_child(s, i, &err) < 0) {
		set_reason(w, "ErrImagePull", err->msg);
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "Failed", "Error: %s", err->msg);
		schedule_retry(s, i);
		return;
	}
	sup_event(s, PP_EVENT_INFO, c->spec->name, "Pulling", "Pulling image \"%s\"",
		  c->spec->image);
}

void sup_pulls_kick(struct sup *s)
{
	if (s->stopping != STOP_NONE || s->finished || s->frozen)
		return;
	bool started = false;
	while (!s->pull.active) {
		int64_t now = pp_monotonic_ns();
		size_t due = pp_pod_n_all(s->pod);
		/* The first due in the pod's order: init containers first. */
		for (size_t i = 0; i < pp_pod_n_all(s->pod) && due == pp_pod_n_all(s->pod); i++) {
			const struct image_wait *w = &s->run[i].img;
			if (w->waiting && w->retry_at && w->retry_at <= now)
				due = i;
		}
		if (due == pp_pod_n_all(s->pod))
			break;
		attempt(s, due);
		started = true;
	}
	if (started)
		sup_advance(s);
}

int64_t sup_pulls_next(const struct sup *s)
{
	int64_t next = 0;
	if (s->stopping != STOP_NONE || s->finished)
		return 0;
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		const struct image_wait *w = &s->run[i].img;
		if (!w->waiting)
			continue;
		/* A due attempt waits for the pull under way, which wakes us. */
		if (w->retry_at && !s->pull.active && !s->frozen &&
		    (next == 0 || w->retry_at < next))
			next = w->retry_at;
		if (w->notice_at && (next == 0 || w->notice_at < next))
			next = w->notice_at;
	}
	return next;
}

void sup_pulls_timer(struct sup *s, int64_t now)
{
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		struct image_wait *w = &s->run[i].img;
		if (!w->waiting || !w->notice_at || w->notice_at > now)
			continue;
		w->notice_at = 0;
		const struct pp_pod_container *c = &s->pod->containers[i];
		cleanup_free char *msg = xasprintf("Back-off pulling image \"%s\"", c->spec->image);
		set_reason(w, "ImagePullBackOff", msg);
		sup_event(s, PP_EVENT_INFO, c->spec->name, "BackOff", "%s", msg);
	}
	sup_pulls_kick(s);
}

/* A line of the child's report. */
static void report_line(struct sup *s, char *line)
{
	struct pull_child *p = &s->pull;
	if (line[0] == '\0' || line[1] != ' ')
		return;
	if (line[0] == 'O' && p->id == NULL)
		p->id = xstrdup(line + 2);
	else if (line[0] == 'E' && p->error == NULL)
		p->error = xstrdup(line + 2);
	else if (line[0] == 'L')
		/* peapod's own, for `peapod run` to show: a layer downloaded */
		sup_event(s, PP_EVENT_INFO, s->pod->containers[p->ctr].spec->name, "PullProgress",
			  "Pulling image \"%s\": downloading layer %s bytes",
			  s->pod->containers[p->ctr].spec->image, line + 2);
	else if (line[0] == 'W')
		sup_event(s, PP_EVENT_WARNING, s->pod->containers[p->ctr].spec->name, "PullWarning",
			  "%s", line + 2);
}

static void pull_done(struct sup *s)
{
	struct pull_child *p = &s->pull;
	size_t i = p->ctr;
	struct pp_pod_container *c = &s->pod->containers[i];
	struct image_wait *w = &s->run[i].img;
	siginfo_t info = {0};
	while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &info, WEXITED) < 0 && errno == EINTR)
		;
	int64_t now = pp_monotonic_ns();
	if (p->id != NULL && info.si_code == CLD_EXITED && info.si_status == 0) {
		double took = (double)(now - p->began) / PP_NSEC_PER_SEC;
		double waited =
		    (double)(now - (w->queued_at ? w->queued_at : p->began)) / PP_NSEC_PER_SEC;
		struct pp_image *img = NULL;
		long long size = 0;
		if (pp_image_get(s->pod->store, p->id, &img, NULL) == 0)
			size = (long long)img->size;
		pp_image_free(img);
		sup_event(s, PP_EVENT_INFO, c->spec->name, "Pulled",
			  "Successfully pulled image \"%s\" in %.3fs (%.3fs including waiting). "
			  "Image size: %lld bytes.",
			  c->spec->image, took, waited, size);
		pull_release(s);
		image_ready(s, i, true);
	} else {
		cleanup_free char *msg =
		    xstrdup(p->error ? p->error : "the pull's process ended without a result");
		pull_release(s);
		set_reason(w, "ErrImagePull", msg);
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "Failed",
			  "Failed to pull image \"%s\": %s", c->spec->image, msg);
		sup_event(s, PP_EVENT_WARNING, c->spec->name, "Failed", "Error: ErrImagePull");
		schedule_retry(s, i);
	}
	sup_advance(s);
	sup_pulls_kick(s);
}

void sup_pull_event(struct sup *s)
{
	struct pull_child *p = &s->pull;
	if (!p->active)
		return;
	for (;;) {
		if (p->buf.data == NULL)
			p->buf.data = xmalloc_buffer(PULL_LINE_MAX + 1);
		ssize_t n = read(p->fd, p->buf.data + p->buf.len, PULL_LINE_MAX - p->buf.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n > 0)
			p->buf.len += (size_t)n;
		char *nl;
		while ((nl = memchr(p->buf.data, '\n', p->buf.len)) != NULL) {
			*nl = '\0';
			report_line(s, p->buf.data);
			size_t used = (size_t)(nl - p->buf.data) + 1;
			memmove(p->buf.data, nl + 1, p->buf.len - used);
			p->buf.len -= used;
		}
		if (p->buf.len == PULL_LINE_MAX) {
			/* Too long for a line: what is kept is cut there. */
			p->buf.data[PULL_LINE_MAX] = '\0';
			report_line(s, p->buf.data);
			p->buf.len = 0;
		}
		if (n <= 0) {
			/* EOF (or an error): the child has ended. */
			pull_done(s);
			return;
		}
	}
}

void sup_pulls_stop(struct sup *s)
{
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++)
		s->run[i].img.retry_at = s->run[i].img.notice_at = 0;
	if (!s->pull.active)
		return;
	pp_pidfd_kill_and_reap(s->pull.pidfd);
	pull_release(s);
	/* What the killed pull had stored (blobs, layers under way) is
	 * collected now rather than by whoever comes next. */
	struct pp_error *err = NULL;
	pp_image_store_gc(s->pod->store, &err);
	pp_error_free(&err);
}

void sup_pulls_free(struct sup *s)
{
	if (s->pull.active) {
		pp_pidfd_kill_and_reap(s->pull.pidfd);
		pull_release(s);
	}
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++)
		free(s->run[i].img.message);
}
