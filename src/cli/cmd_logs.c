/* peapod logs and attach: a container's output from its CRI log files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ops/logs.h"
#include "ops/ops.h"
#include "util/cleanup.h"

struct logs_opts {
	const char *ns, *container;
	bool follow, previous, timestamps, in, tty;
	int in_fd;	/* attach -i: the container's stdin, else -1 */
	bool in_is_pty; /* in_fd is the container's terminal (tty: true) */
	bool raw;	/* our terminal is in raw mode (attach -t), saved_tio to restore */
	struct termios saved_tio;
	struct pp_log_read_opts read;
	/* logs only */
	struct cli_select sel; /* -l, --field-selector */
	bool all_containers, prefix;
	long max_log_requests;
	long long limit_bytes; /* < 0: no limit */
	long long printed;
	const char *pod; /* the pod of the records, for --prefix */
};

#define DEFAULT_MAX_LOG_REQUESTS 5

static int print_record(void *ctx, const char *container, const struct pp_log_record *rec)
{
	struct logs_opts *o = ctx;
	FILE *f = stdout;
	char *line = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&line, &len);
	if (o->prefix)
		fprintf(m, "[pod/%s/%s] ", o->pod, container ? container : o->container);
	if (o->timestamps)
		fprintf(m, "%.*s ", (int)rec->time_len, rec->time_text);
	fwrite(rec->text, 1, rec->len, m);
	/* A line split in P records is whole again on the screen. */
	if (!rec->partial)
		fputc('\n', m);
	fclose(m);
	/* --limit-bytes: what the log holds, cut at the limit, then done. */
	bool done = o->limit_bytes >= 0 && o->printed + (long long)len >= o->limit_bytes;
	if (o->limit_bytes >= 0 && o->printed + (long long)len > o->limit_bytes)
		len = (size_t)(o->limit_bytes - o->printed);
	fwrite(line, 1, len, f);
	o->printed += (long long)len;
	free(line);
	if (done) {
		fflush(f);
		exit(0); /* the CLI's own process: nothing else to undo */
	}
	return ferror(f) ? -1 : 0;
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

/* attach -i: our stdin is watched while following, until it ends. */
static int input_fd(void *ctx)
{
	const struct logs_opts *o = ctx;
	return o->in_fd >= 0 ? 0 : -1;
}

static void input_ready(void *ctx)
{
	relay_stdin(ctx);
}

static void flush_stdout(void *ctx)
{
	fflush(stdout);
}

/* The flags of logs and attach; its help (cli_commands.c) shows each. */
const struct option cli_opts_logs[] = {{"container", required_argument, NULL, 'c'},
				       {"namespace", required_argument, NULL, 'n'},
				       {"follow", no_argument, NULL, 'f'},
				       {"previous", no_argument, NULL, 'p'},
				       {"timestamps", no_argument, NULL, 'T'},
				       {"tail", required_argument, NULL, 't'},
				       {"since", required_argument, NULL, 's'},
				       {"since-time", required_argument, NULL, 'S'},
				       {"stdin", no_argument, NULL, 'i'},
				       {"tty", no_argument, NULL, 'y'},
				       {"selector", required_argument, NULL, 'l'},
				       {"field-selector", required_argument, NULL, 'F'},
				       {"all-containers", no_argument, NULL, 'a'},
				       {"prefix", no_argument, NULL, 'P'},
				       {"max-log-requests", required_argument, NULL, 'M'},
				       {"limit-bytes", required_argument, NULL, 'B'},
				       {NULL, 0, NULL, 0}};
const char cli_shorts_logs[] = "c:n:fpl:";
const char cli_shorts_attach[] = "c:n:it";

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
	int c;
	int64_t d;
	optind = 1;
	while ((c = getopt_long(argc, argv, attach ? cli_shorts_attach : cli_shorts_logs,
				cli_opts_logs, NULL)) != -1) {
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
		case 'l':
			o->sel.labels = optarg;
			break;
		case 'F':
			o->sel.fields = optarg;
			break;
		case 'a':
			o->all_containers = true;
			break;
		case 'P':
			o->prefix = true;
			break;
		case 'M':
			o->max_log_requests = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->max_log_requests <= 0) {
				fprintf(stderr, "peapod logs: bad --max-log-requests \"%s\"\n",
					optarg);
				return -1;
			}
			break;
		case 'B':
			o->limit_bytes = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->limit_bytes <= 0) {
				fprintf(stderr,
					"error: --limit-bytes must be greater than 0, not \"%s\"\n",
					optarg);
				return -1;
			}
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
	if (optind + 1 != argc && !(cli_select_given(&o->sel) && optind == argc)) {
		fprintf(stderr, attach ? "usage: peapod attach [-i] [-t] NAME [-c CONTAINER]\n"
				       : "usage: peapod logs NAME|-l SELECTOR [-c CONTAINER|"
					 "--all-containers] [-f] [-p] [--tail N] [--since 5m] "
					 "[--timestamps] [--prefix] [--limit-bytes N] "
					 "[--max-log-requests N]\n");
		return -1;
	}
	o->sel.ns = o->ns;
	o->ns = cli_namespace(o->ns);
	return 0;
}

/* One container's log, read or followed, as its target says. */
static int log_stream(struct logs_opts *o, const char *ns, const char *pod, const char *container)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_log_target t;
	int r = pp_pod_log_target(ns, pod, container, o->previous, &t, &err);
	if (r == 0) {
		o->pod = pod;
		o->container = t.container;
		struct pp_logs_follow_io io = {.batch_done = flush_stdout, .ctx = o};
		r = o->follow && !o->previous
			? pp_pod_logs_follow(&t, &o->read, print_record, o, &io, &err)
			: pp_pod_logs_read(&t, &o->read, print_record, o, &err);
	}
	if (r < 0)
		cli_print_error(err);
	pp_log_target_free(&t);
	o->container = NULL; /* was t's */
	fflush(stdout);
	return r < 0 ? CLI_EXIT_FAILURE : 0;
}

struct stream {
	char *ns, *pod, *container; /* container NULL: the pod's default */
};

/* The containers of a pod (spec): init containers first, then the app and
 * the ephemeral ones, as kubectl. */
static void add_streams(struct stream **s, size_t *n, const struct pp_pod_view *v,
			const struct logs_opts *o)
{
	static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
	struct json_object *spec = NULL, *list = NULL;
	if (!o->all_containers || !json_object_object_get_ex(v->obj, "spec", &spec)) {
		*s = xrealloc(*s, sizeof(**s) * (*n + 1));
		(*s)[(*n)++] = (struct stream){xstrdup(v->ns), xstrdup(v->name),
					       o->container ? xstrdup(o->container) : NULL};
		return;
	}
	for (size_t l = 0; l < sizeof(lists) / sizeof(*lists); l++) {
		if (!json_object_object_get_ex(spec, lists[l], &list) ||
		    !json_object_is_type(list, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *c = json_object_array_get_idx(list, i), *name = NULL;
			if (!json_object_object_get_ex(c, "name", &name))
				continue;
			*s = xrealloc(*s, sizeof(**s) * (*n + 1));
			(*s)[(*n)++] = (struct stream){xstrdup(v->ns), xstrdup(v->name),
						       xstrdup(json_object_get_string(name))};
		}
	}
}

/* -f over several streams: one child each, as kubectl's concurrent
 * requests; lines stay whole (one write a record, line-buffered). */
static int follow_streams(struct logs_opts *o, struct stream *s, size_t n)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t *pids = xmalloc(sizeof(*pids) * n);
	for (size_t i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(log_stream(o, s[i].ns, s[i].pod, s[i].container));
	}
	int status = 0;
	for (size_t i = 0; i < n; i++) {
		int ws = 0;
		if (pids[i] < 0 || waitpid(pids[i], &ws, 0) < 0 || !WIFEXITED(ws) ||
		    WEXITSTATUS(ws) != 0)
			status = CLI_EXIT_FAILURE;
	}
	free(pids);
	return status;
}

/* logs -l SELECTOR and/or --all-containers: each pod picked, each of its
 * containers with --all-containers. */
static int logs_many(struct logs_opts *o, int n_names, char **names)
{
	struct pp_pod_view *views = NULL;
	size_t n_views = 0;
	int status = 0;
	if (cli_select_given(&o->sel)) {
		status = cli_select_pods(&o->sel, n_names, &views, &n_views);
		if (status != 0)
			return status;
		if (n_views == 0)
			cli_no_resources(&o->sel);
	} else {
		cleanup_error struct pp_error *err = NULL;
		views = xmalloc(sizeof(*views));
		if (pp_pod_view_load(o->ns, cli_pod_name(names[0]), &views[0], &err) < 0) {
			cli_print_error(err);
			free(views);
			return CLI_EXIT_FAILURE;
		}
		pp_pod_view_attach_spec(&views[0]);
		n_views = 1;
	}
	struct stream *s = NULL;
	size_t n = 0;
	for (size_t i = 0; i < n_views; i++)
		add_streams(&s, &n, &views[i], o);
	pp_pod_views_free(views, n_views);
	if (o->follow && (long)n > o->max_log_requests) {
		fprintf(stderr,
			"error: you are attempting to follow %zu log streams, but maximum allowed "
			"concurrency is %ld, use --max-log-requests to increase the limit\n",
			n, o->max_log_requests);
		status = CLI_EXIT_FAILURE;
	} else if (o->follow && !o->previous && n > 1) {
		status = follow_streams(o, s, n);
	} else {
		for (size_t i = 0; i < n; i++)
			if (log_stream(o, s[i].ns, s[i].pod, s[i].container) != 0)
				status = CLI_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++) {
		free(s[i].ns);
		free(s[i].pod);
		free(s[i].container);
	}
	free(s);
	return status;
}

static int logs(int argc, char **argv, bool attach)
{
	struct logs_opts o = {.read = {.tail = -1},
			      .in_fd = -1,
			      .limit_bytes = -1,
			      .max_log_requests = DEFAULT_MAX_LOG_REQUESTS};
	if (parse_logs_args(argc, argv, &o, attach) < 0)
		return CLI_EXIT_USAGE;
	if (!attach && (cli_select_given(&o.sel) || o.all_containers))
		return logs_many(&o, argc - optind, argv + optind);
	const char *name = cli_pod_name(argv[optind]);
	o.pod = name;
	cleanup_error struct pp_error *err = NULL;
	struct pp_log_target t;
	int status = CLI_EXIT_FAILURE;
	int r = pp_pod_log_target(o.ns, name, o.container, o.previous, &t, &err);
	if (t.defaulted)
		fprintf(stderr, "Defaulted container \"%s\" out of the pod's containers\n",
			t.container);
	if (r < 0) {
		cli_print_error(err);
		goto out;
	}
	o.container = t.container;
	if (attach) {
		o.follow = true;
		o.read.tail = 0;
		if (o.in &&
		    pp_pod_attach_stdin(t.uid, t.container, &o.in_fd, &o.in_is_pty, &err) < 0) {
			cli_print_error(err);
			goto out;
		}
		terminal_raw(&o);
	}
	struct pp_logs_follow_io io = {
	    .batch_done = flush_stdout, .fd = input_fd, .ready = input_ready, .ctx = &o};
	r = o.follow && !o.previous ? pp_pod_logs_follow(&t, &o.read, print_record, &o, &io, &err)
				    : pp_pod_logs_read(&t, &o.read, print_record, &o, &err);
	if (r < 0)
		cli_print_error(err);
	else
		status = 0;
out:
	if (o.raw)
		(void)tcsetattr(0, TCSANOW, &o.saved_tio);
	cleanup_closep(&o.in_fd);
	pp_log_target_free(&t);
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
