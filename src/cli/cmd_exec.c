/* peapod exec [-i] [-t] NAME [-c CONTAINER] -- CMD...: a process in a running
 * container, started by this command itself (its child: the exit status
 * comes straight back) with what the supervisor hands over: the container's
 * pidfd, its cgroup, environment, user and working directory. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "ops/ops.h"
#include "runtime/exec.h"
#include "security/seccomp.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/pty.h"

struct exec_opts {
	const char *ns, *container;
	bool in, tty;
};

/* Options up to the next non-option ("+"): the command's own come after. */
static int exec_options(int argc, char **argv, struct exec_opts *o)
{
	static const struct option longopts[] = {{"container", required_argument, NULL, 'c'},
						 {"namespace", required_argument, NULL, 'n'},
						 {"stdin", no_argument, NULL, 'i'},
						 {"tty", no_argument, NULL, 't'},
						 {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "+c:n:it", longopts, NULL)) != -1) {
		if (c == 'c')
			o->container = optarg;
		else if (c == 'n')
			o->ns = optarg;
		else if (c == 'i')
			o->in = true;
		else if (c == 't')
			o->tty = true;
		else
			return -1;
	}
	return 0;
}

static int parse_exec_args(int argc, char **argv, struct exec_opts *o)
{
	optind = 1;
	if (exec_options(argc, argv, o) < 0)
		return -1;
	/* NAME [-c C] -- CMD: options may also follow the name. */
	if (optind >= argc)
		return -1;
	int name = optind++;
	if (exec_options(argc, argv, o) < 0)
		return -1;
	if (optind >= argc)
		return -1;
	o->ns = cli_namespace(o->ns);
	return name;
}

/* The first app container, as kubectl exec picks it without -c. */
static const char *default_container(const struct pp_pod_view *v)
{
	struct json_object *st = NULL, *list = NULL, *n = NULL;
	if (json_object_object_get_ex(v->obj, "status", &st) &&
	    json_object_object_get_ex(st, "containerStatuses", &list) &&
	    json_object_array_length(list) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(list, 0), "name", &n))
		return json_object_get_string(n);
	return NULL;
}

static int run_exec(const struct exec_opts *o, char **cmd, const struct pp_ctl_exec_reply *r,
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
	    .stdin_fd = o->in ? 0 : -1,
	    .stdout_fd = 1,
	    .stderr_fd = 2,
	    .tty = o->tty,
	};
	struct winsize ws;
	if (o->tty && ioctl(0, TIOCGWINSZ, &ws) == 0) {
		cfg.rows = ws.ws_row;
		cfg.cols = ws.ws_col;
	}
	struct pp_exec_process p;
	if (pp_exec_start(&cfg, &p, err) < 0)
		return -1;
	if (p.pty_master >= 0) {
		pp_pty_relay(p.pty_master, o->in ? 0 : -1, 1, NULL);
		close(p.pty_master);
	}
	return pp_exec_wait(&p);
}

int cmd_exec(int argc, char **argv)
{
	struct exec_opts o = {0};
	int name_idx = parse_exec_args(argc, argv, &o);
	if (name_idx < 0) {
		fprintf(stderr,
			"usage: peapod exec [-i] [-t] NAME [-c CONTAINER] -- CMD [ARG...]\n");
		return CLI_EXIT_USAGE;
	}
	const char *name = cli_pod_name(argv[name_idx]);
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v;
	if (pp_pod_view_load(o.ns, name, &v, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	cleanup_free char *container = xstrdup(o.container	       ? o.container
					       : default_container(&v) ? default_container(&v)
								       : "");
	cleanup_close int ctl = pp_ctl_connect(v.uid, &err);
	pp_pod_view_free(&v);
	const struct pp_ctl_exec_request req = {.container = container};
	cleanup_free char *msg = pp_ctl_exec_request_encode(&req);
	cleanup_free char *text = NULL;
	int fds[PP_CTL_MAX_FDS];
	size_t n_fds = 0;
	struct pp_ctl_exec_reply reply = {0};
	if (ctl < 0 || pp_ctl_call(ctl, msg, &text, fds, &n_fds, &err) < 0 ||
	    pp_ctl_exec_reply_decode(text, strlen(text), fds, n_fds, &reply, &err) < 0) {
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	cleanup_closep(&ctl);
	int status = run_exec(&o, argv + optind, &reply, &err);
	if (status < 0) {
		cli_print_error(err);
		status = err && err->status == ENOENT ? PP_EXEC_NOT_FOUND : PP_EXEC_CANNOT_RUN;
	}
	pp_ctl_exec_reply_free(&reply);
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	return status;
}
