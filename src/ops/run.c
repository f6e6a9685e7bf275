/* `peapod run`'s work: see run.h. */
#include "ops/run.h"

#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ops/ops.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

/* Every container's name, init containers first. */
static char **container_names(const struct pp_pod *spec)
{
	size_t n = spec->n_init_containers + spec->n_containers;
	char **names = xmalloc(sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++)
		names[i] = xstrdup(i < spec->n_init_containers
				       ? spec->init_containers[i].name
				       : spec->containers[i - spec->n_init_containers].name);
	names[n] = NULL;
	return names;
}

/* Follows every container's log from its first instance on. */
static int follow_all(char **names, const char *log_dir, struct pp_log_follow **out,
		      struct pp_error **err)
{
	if (pp_log_follow_new(out, err) < 0)
		return -1;
	struct pp_log_read_opts all = {.tail = -1};
	for (char **c = names; *c; c++) {
		cleanup_free char *cdir = xasprintf("%s/%s", log_dir, *c);
		if (pp_log_follow_add(*out, cdir, 0, *c, &all, err) < 0)
			return -1;
	}
	return 0;
}

/* One request to the pod's supervisor, on a connection of its own; a
 * supervisor that is gone has nothing left to stop. */
static void ctl_request(const char *uid, const char *req)
{
	cleanup_close int fd = pp_ctl_connect(uid, NULL);
	if (fd >= 0)
		pp_ctl_call(fd, req, NULL, NULL, NULL, NULL);
}

static char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) ? xstrdup(json_object_get_string(v)) : NULL;
}

/* How the pod ended, from pe (status.json's "peapod", or the supervisor's
 * "finished" message): false when it does not say. */
static bool take_outcome(struct json_object *pe, int stop_signal, struct pp_run_outcome *res)
{
	struct json_object *code = NULL;
	if (pe == NULL || !json_object_object_get_ex(pe, "exitCode", &code))
		return false;
	res->has_status = true;
	res->exit_code = stop_signal ? 128 + stop_signal : json_object_get_int(code);
	res->result = stop_signal ? xstrdup("Stopped") : str_of(pe, "result");
	res->reason = str_of(pe, "reason");
	return true;
}

/* The final status the supervisor left. */
static void read_outcome(const char *uid, int stop_signal, struct pp_run_outcome *res)
{
	struct json_object *st = NULL, *pe = NULL;
	if (pp_state_read_status(uid, &st, NULL) == 0 &&
	    json_object_object_get_ex(st, "peapod", &pe))
		take_outcome(pe, stop_signal, res);
	if (st)
		json_object_put(st);
}

/* A message from the supervisor on our connection: its "finished" (the pod
 * is over; true when it said how). */
static bool on_finished(const char *msg, int stop_signal, struct pp_run_outcome *res)
{
	static const char prefix[] = "finished ";
	if (strncmp(msg, prefix, strlen(prefix)) != 0)
		return false;
	struct json_object *pe = json_tokener_parse(msg + strlen(prefix));
	bool ok = take_outcome(pe, stop_signal, res);
	if (pe)
		json_object_put(pe);
	return ok;
}

/* Shows the pod until its supervisor closes its control connection. It
 * tells us first how the pod ended, before its teardown: what the pod
 * wrote is read meanwhile, and the record goes with the teardown
 * (*removed: the supervisor said it would). */
static int follow_pod(const char *uid, int *await_fd, char **names, const char *log_dir, int sigfd,
		      const struct pp_run_output *out, struct pp_run_outcome *res, bool *removed,
		      struct pp_error **err)
{
	struct pp_log_follow *follow = NULL;
	long events = 0;
	/* Apply made us a connection that awaits the end from the start;
	 * without one (no socket pair), we ask on a connection of our own (a
	 * pod over before that has nothing to wait for). */
	cleanup_close int ctl = *await_fd;
	*await_fd = -1;
	static const char await[] = "await remove";
	if (ctl < 0 && (ctl = pp_ctl_connect(uid, NULL)) >= 0 &&
	    send(ctl, await, strlen(await), MSG_NOSIGNAL) < 0)
		cleanup_closep(&ctl);
	int stop_signal = 0;
	cleanup_free char *msg = xmalloc_buffer(PP_CTL_MAX_MSG + 1);
	if (follow_all(names, log_dir, &follow, err) < 0) {
		pp_log_follow_free(follow);
		return -1;
	}
	for (bool done = ctl < 0; !done;) {
		struct pollfd p[3] = {
		    {.fd = ctl, .events = POLLIN},
		    {.fd = follow ? pp_log_follow_fd(follow) : -1, .events = POLLIN},
		    {.fd = sigfd, .events = POLLIN}};
		poll(p, 3, PP_RUN_POLL_MS);
		struct signalfd_siginfo si;
		while (sigfd >= 0 && read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			/* The first: graceful stop; the next: kill at once. */
			ctl_request(uid, stop_signal ? "stop 0" : "stop -1");
			if (!stop_signal)
				stop_signal = (int)si.ssi_signo;
		}
		bool over = false;
		if (p[0].revents) {
			ssize_t n = recv(ctl, msg, PP_CTL_MAX_MSG, MSG_DONTWAIT);
			if (n > 0) {
				msg[n] = '\0';
				/* the logs and events are whole now: read below */
				if (!res->has_status && on_finished(msg, stop_signal, res))
					over = *removed = true;
			} else {
				done = n == 0 || (errno != EAGAIN && errno != EINTR);
			}
		}
		/* once told, the record may be going: nothing more to read */
		if (over || !*removed) {
			pp_log_follow_read(follow, out->record, out->ctx, NULL);
			pp_pod_events_read(uid, &events, out->event, out->ctx, NULL);
		}
		/* all read: let go of it while the pod is torn down */
		if (over) {
			pp_log_follow_free(follow);
			follow = NULL;
		}
	}
	/* The supervisor is gone: what it wrote is all there is. */
	if (!*removed) {
		pp_log_follow_read(follow, out->record, out->ctx, NULL);
		pp_pod_events_read(uid, &events, out->event, out->ctx, NULL);
	}
	pp_log_follow_free(follow);
	res->over = true;
	if (!res->has_status)
		read_outcome(uid, stop_signal, res);
	return 0;
}

int pp_pod_run(struct pp_pod *spec, const struct pp_apply_opts *opts, int sigfd,
	       const struct pp_run_output *out, struct pp_run_outcome *res, struct pp_error **err)
{
	*res = (struct pp_run_outcome){0};
	cleanup_free char *ns = xstrdup(spec->namespace_);
	cleanup_free char *name = xstrdup(spec->name);
	cleanup_strv char **names = container_names(spec);
	cleanup_free char *uid = NULL;
	cleanup_close int await_fd = -1;
	struct pp_apply_opts with_await = *opts;
	with_await.await_fd = &await_fd;
	if (pp_pod_apply(spec, &with_await, &uid, err) < 0)
		return -1;
	cleanup_free char *log_dir = pp_pod_log_dir(ns, name, uid);
	bool removed = false;
	int ret = follow_pod(uid, &await_fd, names, log_dir, sigfd, out, res, &removed, err);
	/* Gone with its supervisor's teardown, unless that failed: then, as
	 * when we could not follow it or its supervisor died, or it finished
	 * before we asked, the pod goes now, as delete would. */
	cleanup_free char *still = NULL;
	if (removed && (pp_name_lookup(ns, name, &still, NULL) < 0 || strcmp(still, uid) != 0))
		return ret;
	struct pp_delete_opts now = {.grace_s = 0, .timeout_ms = -1};
	if (pp_pod_delete(ns, name, &now, ret < 0 ? NULL : err) < 0)
		ret = -1;
	return ret;
}

void pp_run_outcome_free(struct pp_run_outcome *res)
{
	free(res->result);
	free(res->reason);
	*res = (struct pp_run_outcome){0};
}
