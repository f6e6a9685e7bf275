/* One detached supervisor process per pod (started by ops/apply.c): forked
 * twice so that it has its own session and init as its parent; it inherits
 * the pod's lock, holds it until it exits, creates the pod and reports
 * through a pipe once the pod is up (or why it could not be). */
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "image/image.h"
#include "logs/crilog.h"
#include "pod/resources.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "supervisor/supervisor.h"
#include "util/child_report.h"
#include "util/cleanup.h"
#include "util/fault.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/trace.h"

#define LOG_DIR_MODE 0755

struct daemon {
	struct pp_pod_instance *pod;
	struct pp_log_opts log_opts;
	char *log_dir;
	struct pp_log_writer **logs; /* per container, the current instance's file */
	int events_fd;
	int sync_fd; /* to the caller of apply until the pod is up, then -1 */
};

/* Ready, or the error that stopped it (util/child_report.h, as every
 * child reports its set-up). */
static void report(struct daemon *d, const struct pp_error *e)
{
	if (d->sync_fd < 0)
		return;
	if (e != NULL)
		(void)pp_child_report_send(d->sync_fd, e);
	else
		(void)pp_child_report_ready(d->sync_fd);
	cleanup_closep(&d->sync_fd);
}

static size_t index_of(const struct daemon *d, const struct pp_pod_container *c)
{
	return (size_t)(c - d->pod->containers);
}

static void on_container_started(void *ctx, const struct pp_pod_container *c)
{
	struct daemon *d = ctx;
	size_t i = index_of(d, c);
	pp_log_writer_close(d->logs[i]);
	d->logs[i] = NULL;
	if (c->log_path != NULL) {
		/* a CRI container's: where kubelet said (its directory is the
		 * sandbox's log_directory, kubelet's to make; made if missing) */
		cleanup_free char *parent = xstrdup(c->log_path);
		char *slash = strrchr(parent, '/');
		if (slash != NULL && slash != parent)
			*slash = '\0';
		if (pp_mkdir_p(parent, LOG_DIR_MODE, NULL) == 0)
			pp_log_writer_open(c->log_path, &d->log_opts, &d->logs[i], NULL);
		return;
	}
	cleanup_free char *dir = xasprintf("%s/%s", d->log_dir, c->spec->name);
	cleanup_free char *path = xasprintf("%s/%d.log", dir, c->restart_count);
	/* Without its log the container still runs; its output is dropped. */
	if (pp_mkdir_p(dir, LOG_DIR_MODE, NULL) == 0)
		pp_log_writer_open(path, &d->log_opts, &d->logs[i], NULL);
}

static void on_event(void *ctx, enum pp_event_level level, const char *container,
		     const char *reason, const char *msg);

static void on_container_removed(void *ctx, const struct pp_pod_container *c)
{
	struct daemon *d = ctx;
	size_t i = index_of(d, c);
	pp_log_writer_close(d->logs[i]);
	d->logs[i] = NULL;
}

/* ReopenContainerLog: kubelet renamed the file; a new one at the path. */
static int on_reopen_log(void *ctx, const struct pp_pod_container *c, struct pp_error **err)
{
	struct daemon *d = ctx;
	size_t i = index_of(d, c);
	if (c->log_path == NULL)
		return pp_error_set(err, EINVAL, "container %s has no log path", c->spec->name);
	struct pp_log_writer *w = NULL;
	if (pp_log_writer_open(c->log_path, &d->log_opts, &w, err) < 0)
		return pp_error_wrap(err, "container %s: reopen its log", c->spec->name);
	pp_log_writer_close(d->logs[i]);
	d->logs[i] = w;
	return 0;
}

/* A container's log that cannot be written (a full disk): its output is
 * dropped, never waited for (the container runs on, as with containerd),
 * and the pod's events say when that starts and when it ends. */
static void log_health(struct daemon *d, const struct pp_pod_container *c, struct pp_log_writer *w)
{
	bool failing;
	int errnum;
	uint64_t dropped;
	if (!pp_log_writer_changed(w, &failing, &errnum, &dropped))
		return;
	cleanup_free char *msg =
	    failing ? xasprintf("Container %s's log could not be written (%s): its output is "
				"dropped until there is room",
				c->spec->name, strerror(errnum))
		    : xasprintf("Container %s's log is written again; %llu records were dropped",
				c->spec->name, (unsigned long long)dropped);
	on_event(d, failing ? PP_EVENT_WARNING : PP_EVENT_INFO, c->spec->name,
		 failing ? "LogWriteFailed" : "LogWriteResumed", msg);
}

static void on_output(void *ctx, const struct pp_pod_container *c, enum pp_stream stream,
		      const char *line, size_t len, bool partial)
{
	struct daemon *d = ctx;
	struct pp_log_writer *w = d->logs[index_of(d, c)];
	if (w == NULL)
		return;
	pp_log_writer_append(w, stream == PP_STREAM_STDOUT ? PP_LOG_STDOUT : PP_LOG_STDERR, line,
			     len, partial, NULL);
	log_health(d, c, w);
}

static void on_flush(void *ctx, const struct pp_pod_container *c)
{
	struct daemon *d = ctx;
	struct pp_log_writer *w = d->logs[index_of(d, c)];
	if (w == NULL)
		return;
	pp_log_writer_flush(w, NULL);
	log_health(d, c, w);
}

static void on_event(void *ctx, enum pp_event_level level, const char *container,
		     const char *reason, const char *msg)
{
	static const char *const levels[] = {"info", "warning", "error"};
	struct daemon *d = ctx;
	if (d->events_fd < 0)
		return;
	char ts[PP_LOG_TIME_LEN + 1];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	pp_log_format_time(now.tv_sec * 1000000000LL + now.tv_nsec, ts);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(
	    o, "type", json_object_new_string(level == PP_EVENT_INFO ? "Normal" : "Warning"));
	json_object_object_add(o, "level", json_object_new_string(levels[level]));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	if (container)
		json_object_object_add(o, "container", json_object_new_string(container));
	json_object_object_add(o, "message", json_object_new_string(msg));
	cleanup_free char *line =
	    xasprintf("%s\n", json_object_to_json_string_ext(
				  o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	/* O_APPEND and one write per event: readers never see half a line. */
	(void)!write(d->events_fd, line, strlen(line));
}

static void on_running(void *ctx)
{
	pp_trace("sup running");
	report(ctx, NULL);
}

/* Setting up (the seccomp filters above all) left most of the heap free
 * but resident, and the code and constants only setting up ran mapped:
 * given back once the pod has run a while (a long-lived process; the code
 * stays in the page cache, shared: util/mem.h). The control requests
 * (execs above all: their reply's encoding, the seccomp profile's JSON)
 * bring them back in: given back again once they are over. */
static void on_quiet(void *ctx)
{
	(void)ctx;
	malloc_trim(0);
	pp_mem_release_file_pages();
}

/* Everything of the pod but its record goes before the clients learn that
 * the supervisor is done; the record too when `run` asked for it and the
 * rest went (otherwise it is left to delete, which finds what is left). We
 * hold the record's lock, as delete would. */
static void on_finish(void *ctx, bool remove_record)
{
	struct daemon *d = ctx;
	pp_trace("sup finish");
	for (size_t i = 0; i < pp_pod_n_all(d->pod); i++) {
		pp_log_writer_close(d->logs[i]);
		d->logs[i] = NULL;
	}
	const struct pp_pod *spec = d->pod->spec;
	cleanup_free char *ns = xstrdup(spec->namespace_);
	cleanup_free char *name = xstrdup(spec->name);
	cleanup_free char *uid = xstrdup(spec->uid);
	if (remove_record) {
		/* in the child that removes the pod's data (one fork fewer) */
		char *dirs[PP_STATE_DISCARD_N], *trashes[PP_STATE_DISCARD_N];
		pp_state_discard_paths(ns, name, uid, dirs, trashes);
		pp_pod_instance_discard_also(d->pod, dirs, trashes, PP_STATE_DISCARD_N);
	}
	pp_pod_instance_destroy(d->pod, NULL);
	if (d->pod->also_discarded)
		pp_name_release(ns, name, uid);
}

static int open_files(struct daemon *d, const struct pp_pod *spec, struct pp_error **err)
{
	d->log_dir = pp_pod_log_dir(spec->namespace_, spec->name, spec->uid);
	cleanup_free char *pods = xasprintf("%s/pods", pp_log_root());
	cleanup_free char *groups = xasprintf("%s/%s", pp_log_root(), PP_GROUPS_NAME);
	if (pp_mkdir_p(pods, LOG_DIR_MODE, err) < 0 ||
	    pp_mkdir_grouped(d->log_dir, groups, LOG_DIR_MODE, false, err) < 0)
		return -1;
	cleanup_free char *events = pp_state_file(spec->uid, PP_STATE_EVENTS);
	d->events_fd = open(events, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (d->events_fd < 0)
		return pp_error_set(err, errno, "open %s", events);
	return 0;
}

static __attribute__((noreturn)) void supervisor_main(struct pp_pod *spec, const char *store_root,
						      int lock_fd, int sync_fd, int await_fd)
{
	struct daemon d = {.events_fd = -1, .sync_fd = sync_fd};
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_store *store = NULL;
	cleanup_free char *uid = xstrdup(spec->uid);
	cleanup_free char *ns = xstrdup(spec->namespace_);
	cleanup_free char *name = xstrdup(spec->name);
	cleanup_free char *status = pp_state_file(uid, PP_STATE_STATUS);
	cleanup_free char *sock = pp_state_file(uid, PP_STATE_SOCKET);
	int ctl = -1, ret = -1;

	prctl(PR_SET_NAME, PP_SUPERVISOR_NAME, 0, 0, 0);
	/* A long-lived process keeps none of its caller's fds (a test
	 * harness waiting for its pipe to close, say), and no write to a
	 * reader that went away may kill it. */
	const int keep[] = {lock_fd, sync_fd, await_fd};
	pp_close_fds_except_n(keep, await_fd >= 0 ? 3 : 2);
	pp_trace("sup start");
	signal(SIGPIPE, SIG_IGN);
	pp_stdio_to_devnull();
	if (chdir("/") < 0)
		_exit(1);
	pp_log_opts_default(&d.log_opts);
	/* below its containers' (an OOM kill takes them first); refused
	 * without CAP_SYS_RESOURCE: they are put above it instead */
	(void)pp_lower_own_oom_score_adj();
	if (open_files(&d, spec, &err) < 0 || pp_fault("sup files", &err) < 0 ||
	    pp_image_store_open(store_root, &store, &err) < 0)
		goto fail;
	if (pp_pod_instance_create(spec, store, &d.pod, &err) < 0) {
		spec = NULL; /* owned (and freed) by the failed create */
		goto fail;
	}
	spec = NULL;
	/* room for the containers to come (peapod debug, the CRI's) */
	d.logs = xmalloc(sizeof(*d.logs) * (d.pod->n_containers + d.pod->slots));
	ctl = pp_ctl_listen(sock, &err);
	if (ctl >= 0 && pp_fault("sup control socket", &err) < 0)
		cleanup_closep(&ctl);
	if (ctl < 0) {
		pp_pod_instance_destroy(d.pod, NULL);
		goto fail;
	}
	struct pp_supervisor_callbacks callbacks = {
	    .output = on_output,
	    .flush = on_flush,
	    .container_started = on_container_started,
	    .event = on_event,
	    .running = on_running,
	    .finish = on_finish,
	    .reopen_log = on_reopen_log,
	    .container_removed = on_container_removed,
	    .quiet = on_quiet,
	    .ctx = &d,
	    .status_path = status,
	    .ctl_fd = ctl,
	    .await_fd = await_fd,
	};
	struct pp_run_result res;
	ret = pp_supervisor_run(d.pod, &callbacks, &res, &err);
	if (ret < 0 && d.sync_fd >= 0) {
		/* Never got going: as if apply had not happened. */
		pp_pod_instance_destroy(d.pod, NULL);
		goto fail;
	}
	goto out;
fail:
	/* Removed before the caller hears of the failure: once it has, the
	 * pod must be gone (a caller checking that nothing was created). */
	pp_state_remove(ns, name, uid, NULL);
	report(&d, err);
out:
	cleanup_closep(&ctl);
	unlink(sock);
	cleanup_closep(&d.events_fd);
	if (d.pod != NULL)
		for (size_t i = 0; i < pp_pod_n_all(d.pod); i++)
			pp_log_writer_close(d.logs[i]);
	/* Nothing of the record is ours any more: the lock goes now, not with
	 * the exit, which unmaps the address space first (delete waits for
	 * the lock to remove the record). */
	close(lock_fd);
	free(d.logs);
	free(d.log_dir);
	pp_pod_instance_free(d.pod);
	pp_pod_free(spec);
	pp_image_store_free(store);
	_exit(ret < 0 ? 1 : 0);
}

int pp_supervisor_read_report(int fd, struct pp_error **err)
{
	cleanup_error struct pp_error *e = NULL;
	if (pp_child_report_read(fd, true, &e) == 0)
		return 0;
	/* Gone without a word (killed, or a crash): the caller cleans up. */
	if (e->status == ECHILD)
		return pp_error_set(err, ECHILD,
				    "the pod's supervisor died while starting the pod");
	*err = e;
	e = NULL;
	return -1;
}

pid_t pp_supervisor_spawn(struct pp_pod *spec, const char *store_root, int lock_fd, int sync_fd,
			  int parent_fd, int await_fd, bool once)
{
	pid_t a = fork();
	if (a != 0)
		return a;
	/* A session of its own, and a parent that exits at once: the
	 * supervisor belongs to no terminal and is reparented to init. */
	close(parent_fd);
	setsid();
	if (once)
		supervisor_main(spec, store_root, lock_fd, sync_fd, await_fd);
	pid_t b = fork();
	if (b != 0)
		_exit(b < 0);
	supervisor_main(spec, store_root, lock_fd, sync_fd, await_fd);
}
