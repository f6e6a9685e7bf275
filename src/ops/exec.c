/* What `peapod exec` does: asks the pod's supervisor for what entering the
 * container takes (a typed request and reply, supervisor/control.h), then
 * starts the process itself (runtime/exec.c), the connection kept open until
 * it has exec'd (a pause waits for that). */
#include "ops/exec.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ops/ops.h"
#include "runtime/exec.h"
#include "security/seccomp.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/pty.h"
#include "util/settings.h"
#include "util/trace.h"

/* Test builds (PEAPOD_TEST_EXEC_SETUP_DELAY_MS): the setup made slow, so
 * that a pause surely comes while it runs. */
static void test_setup_delay(void)
{
	int ms = pp_settings()->test_exec_setup_delay_ms;
	if (ms > 0)
		nanosleep(
		    &(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L},
		    NULL);
}

/* The supervisor holds a pause back while ctl is open (supervisor/freeze.c):
 * it is closed once the process has exec'd (or failed to), before the
 * wait for its end. */
static int start_exec(char *const *cmd, const struct pp_pod_exec_io *io,
		      const struct pp_ctl_exec_reply *r, int *ctl, struct pp_exec_process *p,
		      struct pp_error **err)
{
	/* exec compiles the filter where the pod's were: it finds them cached. */
	if (r->seccomp_cache != NULL)
		pp_seccomp_set_cache_dir(r->seccomp_cache);
	struct pp_exec_config cfg = {
	    .container_pidfd = r->container_pidfd,
	    .identity = r->identity,
	    .argv = cmd,
	    .envp = r->env,
	    .cgroup_procs_fds = r->cgroup_procs_fds,
	    .n_cgroup_procs_fds = r->n_cgroup_procs_fds,
	    .set_oom_score_adj = true,
	    .oom_score_adj = r->oom_score_adj,
	    .stdin_fd = io->in,
	    .stdout_fd = io->out,
	    .stderr_fd = io->errfd,
	    .tty = io->tty,
	    .rows = io->rows,
	    .cols = io->cols,
	};
	test_setup_delay();
	pp_trace("exec start");
	int started = pp_exec_start(&cfg, p, err);
	pp_trace("exec started");
	cleanup_closep(ctl);
	if (started < 0)
		return err && *err && (*err)->status == ENOENT ? PP_EXEC_NOT_FOUND
							       : PP_EXEC_CANNOT_RUN;
	return 0;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

int pp_pod_exec_start(const struct pp_pod_exec_opts *o, char *const *cmd,
		      const struct pp_pod_exec_io *io, struct pp_exec_process *p,
		      struct pp_error **err)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(o->ns, o->name, &v, err) < 0)
		return -1;
	const char *dflt = o->container ? NULL : pp_pod_view_default_container(&v, NULL);
	cleanup_free char *container = xstrdup(o->container ? o->container : dflt ? dflt : "");
	const struct pp_ctl_exec_request req = {.container = container};
	cleanup_free char *msg = pp_ctl_exec_request_encode(&req);
	cleanup_free char *text = NULL;
	int fds[PP_CTL_MAX_FDS];
	size_t n_fds = 0;
	pp_trace("exec call");
	cleanup_close int ctl = pp_ctl_connect(v.uid, err);
	if (ctl < 0 || pp_ctl_call(ctl, msg, &text, fds, &n_fds, err) < 0) {
		pp_pod_ctl_failed(&v, err);
		pp_pod_view_free(&v);
		return -1;
	}
	pp_trace("exec reply");
	pp_pod_view_free(&v);
	struct pp_ctl_exec_reply reply = {0};
	if (pp_ctl_exec_reply_decode(text, strlen(text), fds, n_fds, &reply, err) < 0) {
		close_fds(fds, n_fds);
		return -1;
	}
	int r = start_exec(cmd, io, &reply, &ctl, p, err);
	pp_ctl_exec_reply_free(&reply);
	close_fds(fds, n_fds);
	return r;
}

int pp_pod_exec(const struct pp_pod_exec_opts *o, char *const *cmd, struct pp_error **err)
{
	struct pp_pod_exec_io io = {.in = o->in ? 0 : -1, .out = 1, .errfd = 2, .tty = o->tty};
	struct winsize ws;
	if (o->tty && ioctl(0, TIOCGWINSZ, &ws) == 0) {
		io.rows = ws.ws_row;
		io.cols = ws.ws_col;
	}
	struct pp_exec_process p;
	int r = pp_pod_exec_start(o, cmd, &io, &p, err);
	if (r != 0)
		return r;
	if (p.pty_master >= 0) {
		pp_pty_relay(p.pty_master, o->in ? 0 : -1, 1, NULL);
		close(p.pty_master);
	}
	int status = pp_exec_wait(&p);
	pp_trace("exec waited");
	return status;
}
