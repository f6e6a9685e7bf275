/* peapod logs and attach: a container's output from its CRI log files. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "logs/crilog.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

#define FOLLOW_POLL_MS 100

struct logs_opts {
	const char *ns, *container;
	bool follow, previous, timestamps, in, tty;
	int in_fd;	/* attach -i: the container's stdin, else -1 */
	bool in_is_pty; /* in_fd is the container's terminal (tty: true) */
	bool raw;	/* our terminal is in raw mode (attach -t), saved_tio to restore */
	struct termios saved_tio;
	struct pp_log_read_opts read;
};

static int print_record(void *ctx, const char *container, const struct pp_log_record *rec)
{
	const struct logs_opts *o = ctx;
	FILE *f = stdout;
	if (o->timestamps)
		fprintf(f, "%.*s ", (int)rec->time_len, rec->time_text);
	fwrite(rec->text, 1, rec->len, f);
	/* A line split in P records is whole again on the screen. */
	if (!rec->partial)
		fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

/* The container's status object (init or app), NULL when there is none. */
static struct json_object *container_status(struct json_object *pod, const char *name)
{
	struct json_object *st = NULL, *list = NULL;
	if (!json_object_object_get_ex(pod, "status", &st))
		return NULL;
	const char *lists[] = {"initContainerStatuses", "containerStatuses"};
	for (size_t l = 0; l < 2; l++) {
		if (!json_object_object_get_ex(st, lists[l], &list))
			continue;
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *c = json_object_array_get_idx(list, i), *n = NULL;
			if (json_object_object_get_ex(c, "name", &n) &&
			    strcmp(json_object_get_string(n), name) == 0)
				return c;
		}
	}
	return NULL;
}

/* -c, else the only (or, as kubectl does, the first) app container. */
static const char *pick_container(struct pp_pod_view *v, const char *given)
{
	if (given != NULL)
		return given;
	struct json_object *st = NULL, *list = NULL, *n = NULL;
	if (!json_object_object_get_ex(v->obj, "status", &st) ||
	    !json_object_object_get_ex(st, "containerStatuses", &list) ||
	    json_object_array_length(list) == 0 ||
	    !json_object_object_get_ex(json_object_array_get_idx(list, 0), "name", &n))
		return NULL;
	if (json_object_array_length(list) > 1)
		fprintf(stderr, "Defaulted container \"%s\" out of the pod's containers\n",
			json_object_get_string(n));
	return json_object_get_string(n);
}

static int restart_count(struct json_object *cs)
{
	struct json_object *r = NULL;
	return json_object_object_get_ex(cs, "restartCount", &r) ? json_object_get_int(r) : 0;
}

/* Whether the instance being followed is over (or the pod is). */
static bool instance_over(const char *ns, const char *name, const char *container, int restart)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, NULL) < 0)
		return true;
	struct json_object *cs = container_status(v.obj, container), *state = NULL;
	bool over = !v.alive || cs == NULL || restart_count(cs) > restart ||
		    !json_object_object_get_ex(cs, "state", &state) ||
		    json_object_object_get_ex(state, "terminated", NULL);
	pp_pod_view_free(&v);
	return over;
}

/* attach -i: what we read goes to the container's stdin; our EOF closes
 * our end of it (the container sees EOF when nobody else holds one). */
static void relay_stdin(struct logs_opts *o)
{
	char buf[16384];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n > 0) {
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(o->in_fd, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				cleanup_closep(&o->in_fd);
				return;
			}
			done += w;
		}
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	/* A terminal has no EOF of its own to pass on: its EOF character
	 * (^D) is, once, what the process reads as one. */
	if (o->in_is_pty) {
		struct termios t;
		char veof = tcgetattr(o->in_fd, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
		(void)!write(o->in_fd, &veof, 1);
	}
	cleanup_closep(&o->in_fd);
}

/* attach -t to a tty container: our terminal raw (the container's does the
 * line editing and echo) and its size passed on. */
static void terminal_raw(struct logs_opts *o)
{
	if (!o->tty || !o->in_is_pty || !isatty(0) || tcgetattr(0, &o->saved_tio) < 0)
		return;
	struct termios raw = o->saved_tio;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSANOW, &raw) == 0)
		o->raw = true;
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(o->in_fd, TIOCSWINSZ, &ws);
}

static int follow(const char *log_dir, const char *name, int restart, struct logs_opts *o,
		  struct pp_error **err)
{
	struct pp_log_follow *f = NULL;
	int ret = -1;
	if (pp_log_follow_new(&f, err) < 0 ||
	    pp_log_follow_add(f, log_dir, restart, o->container, &o->read, err) < 0)
		goto out;
	for (;;) {
		if (pp_log_follow_read(f, print_record, o, err) < 0)
			goto out;
		fflush(stdout);
		if (instance_over(o->ns, name, o->container, restart))
			break;
		struct pollfd p[2] = {{.fd = pp_log_follow_fd(f), .events = POLLIN},
				      {.fd = o->in_fd >= 0 ? 0 : -1, .events = POLLIN}};
		poll(p, 2, FOLLOW_POLL_MS);
		if (p[1].revents)
			relay_stdin(o);
	}
	ret = pp_log_follow_read(f, print_record, o, err);
out:
	pp_log_follow_free(f);
	return ret;
}

/* The container's stdin, from its supervisor. */
static int attach_stdin(const char *uid, struct logs_opts *o, struct pp_error **err)
{
	cleanup_close int ctl = pp_ctl_connect(uid, err);
	cleanup_free char *req = xasprintf("attach %s", o->container);
	int fds[PP_CTL_MAX_FDS];
	size_t n = 0;
	cleanup_free char *reply = NULL;
	if (ctl < 0 || pp_ctl_call(ctl, req, &reply, fds, &n, err) < 0)
		return -1;
	if (n < 1)
		return pp_error_set(err, EPROTO, "the supervisor sent no stdin for %s",
				    o->container);
	o->in_fd = fds[0];
	o->in_is_pty = reply != NULL && strcmp(reply, "ok tty") == 0;
	for (size_t i = 1; i < n; i++)
		close(fds[i]);
	return 0;
}

/* "5s", "2m", "1h", "300": seconds. */
static int parse_duration(const char *s, int64_t *out_ns)
{
	char *end = NULL;
	double v = strtod(s, &end);
	if (end == s || v < 0)
		return -1;
	double mult = *end == '\0' || strcmp(end, "s") == 0 ? 1
		      : strcmp(end, "ms") == 0		    ? 0.001
		      : strcmp(end, "m") == 0		    ? 60
		      : strcmp(end, "h") == 0		    ? 3600
							    : -1;
	if (mult < 0)
		return -1;
	*out_ns = (int64_t)(v * mult * 1e9);
	return 0;
}

static int parse_logs_args(int argc, char **argv, struct logs_opts *o, bool attach)
{
	static const struct option longopts[] = {{"container", required_argument, NULL, 'c'},
						 {"namespace", required_argument, NULL, 'n'},
						 {"follow", no_argument, NULL, 'f'},
						 {"previous", no_argument, NULL, 'p'},
						 {"timestamps", no_argument, NULL, 'T'},
						 {"tail", required_argument, NULL, 't'},
						 {"since", required_argument, NULL, 's'},
						 {"since-time", required_argument, NULL, 'S'},
						 {"stdin", no_argument, NULL, 'i'},
						 {"tty", no_argument, NULL, 'y'},
						 {NULL, 0, NULL, 0}};
	int c;
	int64_t d;
	optind = 1;
	while ((c = getopt_long(argc, argv, attach ? "c:n:it" : "c:n:fp", longopts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'c':
			o->container = optarg;
			break;
		case 'n':
			o->ns = optarg;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'p':
			o->previous = true;
			break;
		case 'i':
			o->in = true;
			break;
		case 'y':
			o->tty = true;
			break;
		case 'T':
			o->timestamps = true;
			break;
		case 't':
			if (attach) {
				o->tty = true;
				break;
			}
			o->read.tail = strtoll(optarg, &end, 10);
			if (*end != '\0') {
				fprintf(stderr, "peapod logs: bad --tail \"%s\"\n", optarg);
				return -1;
			}
			break;
		case 's':
			if (parse_duration(optarg, &d) < 0) {
				fprintf(stderr,
					"peapod logs: bad --since \"%s\" (e.g. 5s, 2m, 1h)\n",
					optarg);
				return -1;
			}
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			o->read.since_ns = now.tv_sec * 1000000000LL + now.tv_nsec - d;
			break;
		case 'S':
			if (pp_log_parse_time(optarg, strlen(optarg), &o->read.since_ns) < 0) {
				fprintf(stderr, "peapod logs: bad --since-time \"%s\" (RFC3339)\n",
					optarg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (optind < argc && strcmp(argv[optind], "pod") == 0)
		optind++;
	if (optind + 1 != argc) {
		fprintf(stderr, attach ? "usage: peapod attach [-i] [-t] NAME [-c CONTAINER]\n"
				       : "usage: peapod logs NAME [-c CONTAINER] [-f] [--previous] "
					 "[--tail N] [--since 5m] [--timestamps]\n");
		return -1;
	}
	o->ns = cli_namespace(o->ns);
	return 0;
}

static int logs(int argc, char **argv, bool attach)
{
	struct logs_opts o = {.read = {.tail = -1}, .in_fd = -1};
	if (parse_logs_args(argc, argv, &o, attach) < 0)
		return CLI_EXIT_USAGE;
	const char *name = cli_pod_name(argv[optind]);
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v;
	if (pp_pod_view_load(o.ns, name, &v, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	int status = CLI_EXIT_FAILURE;
	cleanup_free char *dir = pp_pod_log_dir(o.ns, name, v.uid);
	cleanup_free char *cdir = NULL;
	o.container = pick_container(&v, o.container);
	struct json_object *cs = o.container ? container_status(v.obj, o.container) : NULL;
	if (cs == NULL) {
		fprintf(stderr, "peapod: container %s is not valid for pod %s\n",
			o.container ? o.container : "(none)", name);
		goto out;
	}
	int restart = restart_count(cs);
	if (o.previous && restart == 0) {
		fprintf(stderr,
			"peapod: previous terminated container \"%s\" in pod \"%s\" not found\n",
			o.container, name);
		goto out;
	}
	if (o.previous)
		restart--;
	if (attach) {
		o.follow = true;
		o.read.tail = 0;
		if (o.in && attach_stdin(v.uid, &o, &err) < 0) {
			cli_print_error(err);
			goto out;
		}
		terminal_raw(&o);
	}
	cdir = xasprintf("%s/%s", dir, o.container);
	int r = o.follow && !o.previous
		    ? follow(cdir, name, restart, &o, &err)
		    : pp_log_read(cdir, restart, o.container, &o.read, print_record, &o, &err);
	if (r < 0 && err != NULL && err->status == ENOENT)
		r = 0; /* never started: no output yet */
	if (r < 0)
		cli_print_error(err);
	else
		status = 0;
out:
	if (o.raw)
		(void)tcsetattr(0, TCSANOW, &o.saved_tio);
	cleanup_closep(&o.in_fd);
	pp_pod_view_free(&v);
	return status;
}

int cmd_logs(int argc, char **argv)
{
	return logs(argc, argv, false);
}

/* kubectl attach: the container's output from now on; with -i, our stdin
 * goes to the container's (stdin: true in the manifest), its terminal with
 * tty: true (-t: ours in raw mode meanwhile). */
int cmd_attach(int argc, char **argv)
{
	return logs(argc, argv, true);
}
