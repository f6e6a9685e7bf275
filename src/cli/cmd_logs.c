/* peapod logs and attach: a container's output from its CRI log files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ops/logs.h"
#include "util/cleanup.h"

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
