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
#include "pod/pod.h"
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

static char **json_strv(struct json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	char **v = xmalloc(sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(json_object_get_string(json_object_array_get_idx(arr, i)));
	return v;
}

/* The container's restrictions, as the supervisor sent them (exec_info). */
static void json_security(struct json_object *info, struct pp_security *sec)
{
	struct json_object *so = NULL, *v = NULL;
	*sec = (struct pp_security){0};
	if (!json_object_object_get_ex(info, "security", &so))
		return;
	if (json_object_object_get_ex(so, "privileged", &v))
		sec->privileged = json_object_get_boolean(v);
	if (json_object_object_get_ex(so, "caps", &v)) {
		sec->has_caps = true;
		sec->caps = (pp_caps_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(so, "noNewPrivs", &v))
		sec->no_new_privs = json_object_get_boolean(v);
	if (json_object_object_get_ex(so, "seccomp", &v))
		sec->seccomp = (enum pp_seccomp_mode)json_object_get_int(v);
	if (json_object_object_get_ex(so, "seccompProfile", &v))
		sec->seccomp_profile = json_object_get_string(v);
	if (json_object_object_get_ex(so, "seccompCache", &v))
		pp_seccomp_set_cache_dir(json_object_get_string(v));
	if (json_object_object_get_ex(so, "apparmor", &v))
		sec->apparmor_profile = json_object_get_string(v);
	if (json_object_object_get_ex(so, "selinux", &v))
		sec->selinux_label = json_object_get_string(v);
}

static int run_exec(const struct exec_opts *o, char **cmd, struct json_object *info, int *fds,
		    size_t n_fds, struct pp_error **err)
{
	struct json_object *v = NULL;
	cleanup_strv char **env = json_strv(json_object_object_get_ex(info, "env", &v) ? v : NULL);
	gid_t groups[PP_MAX_EXTRA_GIDS];
	size_t n_groups = 0;
	struct json_object *g = NULL;
	if (json_object_object_get_ex(info, "groups", &g))
		for (size_t i = 0; i < json_object_array_length(g) && n_groups < PP_MAX_EXTRA_GIDS;
		     i++)
			groups[n_groups++] =
			    (gid_t)json_object_get_int64(json_object_array_get_idx(g, i));
	struct pp_security sec;
	json_security(info, &sec);
	struct pp_exec_config cfg = {
	    .container_pidfd = fds[0],
	    .security = &sec,
	    .argv = cmd,
	    .envp = env,
	    .extra_gids = groups,
	    .n_extra_gids = n_groups,
	    .cgroup_procs_fds = fds + 1,
	    .n_cgroup_procs_fds = n_fds - 1,
	    .stdin_fd = o->in ? 0 : -1,
	    .stdout_fd = 1,
	    .stderr_fd = 2,
	    .tty = o->tty,
	};
	if (json_object_object_get_ex(info, "cwd", &v))
		cfg.cwd = json_object_get_string(v);
	if (json_object_object_get_ex(info, "user", &v))
		cfg.user = json_object_get_string(v);
	if (json_object_object_get_ex(info, "uid", &v)) {
		cfg.has_uid = true;
		cfg.uid = (uid_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(info, "gid", &v)) {
		cfg.has_gid = true;
		cfg.gid = (gid_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(info, "oomScoreAdj", &v)) {
		cfg.set_oom_score_adj = true;
		cfg.oom_score_adj = json_object_get_int(v);
	}
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
	cleanup_free char *req = xasprintf("exec %s", container);
	cleanup_free char *reply = NULL;
	int fds[PP_CTL_MAX_FDS];
	size_t n_fds = 0;
	if (ctl < 0 || pp_ctl_call(ctl, req, &reply, fds, &n_fds, &err) < 0 || n_fds < 1) {
		if (err == NULL)
			pp_error_set(&err, 0, "container %s: no process to exec in", container);
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	cleanup_closep(&ctl);
	struct json_object *info = json_tokener_parse(reply);
	int status = run_exec(&o, argv + optind, info, fds, n_fds, &err);
	if (status < 0) {
		cli_print_error(err);
		status = err && err->status == ENOENT ? PP_EXEC_NOT_FOUND : PP_EXEC_CANNOT_RUN;
	}
	json_object_put(info);
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	return status;
}
