/* peapod debug [-n NS] POD [-i] [-t] --image IMAGE [--target CONTAINER]
 * [-c NAME] [-- COMMAND ARGS...]: kubectl debug with an ephemeral container
 * (ops/debug.c); with -i, attached to it as attach -i does, from its first
 * output. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ops/logs.h"
#include "ops/ops.h"
#include "util/cleanup.h"

/* kubectl's: "debugger-" and 5 of k8s.io/apimachinery's rand alphabet */
#define DEFAULT_PREFIX "debugger-"
#define NAME_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
#define NAME_RANDOM_LEN 5

struct debug_opts {
	const char *ns, *image, *target, *container, *pull_policy;
	bool in, tty, quiet;
};

/* The attach's state: our stdin to the container's, our terminal raw. */
struct attach {
	int in_fd;
	bool in_is_pty, raw;
	struct termios saved_tio;
};

static const char usage_text[] =
    "usage: peapod debug [-n NS] POD [-i] [-t] --image IMAGE [--target CONTAINER]\n"
    "                    [-c NAME] [--image-pull-policy POLICY] [-q] [-- COMMAND [ARG...]]\n"
    "  Adds an ephemeral container (IMAGE, pulled per POLICY: Always, IfNotPresent,\n"
    "  Never; default: Always for :latest, else IfNotPresent) to the running POD,\n"
    "  in its network, IPC and UTS namespaces; with --target, in that container's PID\n"
    "  namespace (ps shows its processes, /proc/1/root its files). Its name is NAME,\n"
    "  else debugger-xxxxx. -i attaches our stdin (-t: a terminal) to it; without -i\n"
    "  it runs detached (peapod logs POD -c NAME, peapod attach).\n"
    "  example: peapod debug web -it --image busybox --target app -- sh\n";

/* The flags of debug; its help (cli_commands.c) shows each. */
const struct option cli_opts_debug[] = {{"namespace", required_argument, NULL, 'n'},
					{"image", required_argument, NULL, 'I'},
					{"image-pull-policy", required_argument, NULL, 'P'},
					{"target", required_argument, NULL, 'T'},
					{"container", required_argument, NULL, 'c'},
					{"stdin", no_argument, NULL, 'i'},
					{"tty", no_argument, NULL, 't'},
					{"quiet", no_argument, NULL, 'q'},
					{"help", no_argument, NULL, 'h'},
					{NULL, 0, NULL, 0}};
const char cli_shorts_debug[] = "+n:c:itqh";

static int debug_options(int argc, char **argv, struct debug_opts *o)
{
	int c;
	while ((c = getopt_long(argc, argv, cli_shorts_debug, cli_opts_debug, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->ns = optarg;
			break;
		case 'I':
			o->image = optarg;
			break;
		case 'T':
			o->target = optarg;
			break;
		case 'P':
			o->pull_policy = optarg;
			break;
		case 'c':
			o->container = optarg;
			break;
		case 'i':
			o->in = true;
			break;
		case 't':
			o->tty = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return 0;
}

/* The index of POD; the command follows it (after "--"). */
static int parse_debug_args(int argc, char **argv, struct debug_opts *o)
{
	optind = 1;
	if (debug_options(argc, argv, o) < 0)
		return -1;
	if (optind < argc && strcmp(argv[optind], "pod") == 0)
		optind++;
	if (optind >= argc)
		return -1;
	int name = optind++;
	if (debug_options(argc, argv, o) < 0)
		return -1;
	if (o->image == NULL) {
		fprintf(stderr, "peapod debug: --image is required\n");
		return -1;
	}
	if (o->pull_policy != NULL && strcmp(o->pull_policy, "Always") != 0 &&
	    strcmp(o->pull_policy, "IfNotPresent") != 0 && strcmp(o->pull_policy, "Never") != 0) {
		fprintf(stderr,
			"peapod debug: --image-pull-policy \"%s\": not Always, IfNotPresent or "
			"Never\n",
			o->pull_policy);
		return -1;
	}
	if (o->tty && !o->in) {
		fprintf(stderr, "peapod debug: -t/--tty requires -i/--stdin\n");
		return -1;
	}
	o->ns = cli_namespace(o->ns);
	return name;
}

static char *default_name(void)
{
	unsigned char b[NAME_RANDOM_LEN];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();
	char name[sizeof(DEFAULT_PREFIX) + NAME_RANDOM_LEN] = DEFAULT_PREFIX;
	size_t n = strlen(DEFAULT_PREFIX);
	for (size_t i = 0; i < NAME_RANDOM_LEN; i++)
		name[n + i] = NAME_ALPHABET[b[i] % (sizeof(NAME_ALPHABET) - 1)];
	name[n + NAME_RANDOM_LEN] = '\0';
	return xstrdup(name);
}

static int print_record(void *ctx, const char *container, const struct pp_log_record *rec)
{
	fwrite(rec->text, 1, rec->len, stdout);
	if (!rec->partial)
		fputc('\n', stdout);
	return ferror(stdout) ? -1 : 0;
}

/* What we read goes to the container's stdin; our EOF is its EOF. */
static void relay_stdin(struct attach *a)
{
	char buf[16384];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return;
	for (ssize_t done = 0; n > 0 && done < n;) {
		ssize_t w = write(a->in_fd, buf + done, (size_t)(n - done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cleanup_closep(&a->in_fd);
			return;
		}
		done += w;
	}
	if (n > 0)
		return;
	/* A terminal has no EOF of its own: its EOF character is one. */
	if (a->in_is_pty) {
		struct termios t;
		char veof = tcgetattr(a->in_fd, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
		(void)!write(a->in_fd, &veof, 1);
	}
	cleanup_closep(&a->in_fd);
}

static int input_fd(void *ctx)
{
	const struct attach *a = ctx;
	return a->in_fd >= 0 ? 0 : -1;
}

static void input_ready(void *ctx)
{
	relay_stdin(ctx);
}

static void flush_stdout(void *ctx)
{
	fflush(stdout);
}

/* -t: our terminal raw (the container's does the line editing), its size passed on. */
static void terminal_raw(struct attach *a)
{
	if (!a->in_is_pty || !isatty(0) || tcgetattr(0, &a->saved_tio) < 0)
		return;
	struct termios raw = a->saved_tio;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSANOW, &raw) == 0)
		a->raw = true;
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(a->in_fd, TIOCSWINSZ, &ws);
}

/* The container's output from its start (it is new: nothing is missed),
 * our stdin to its own, until it ends. */
static int attach(const struct debug_opts *o, const char *pod, const char *name,
		  struct pp_error **err)
{
	struct attach a = {.in_fd = -1};
	struct pp_log_target t;
	struct pp_log_read_opts read = {.tail = -1};
	if (pp_pod_debug_wait(o->ns, pod, name, err) < 0 ||
	    pp_pod_log_target(o->ns, pod, name, false, &t, err) < 0)
		return -1;
	/* It may be over already: then its output is all there is. */
	cleanup_error struct pp_error *e = NULL;
	if (pp_pod_attach_stdin(t.uid, name, &a.in_fd, &a.in_is_pty, &e) == 0) {
		if (o->tty && !o->quiet && a.in_is_pty)
			fprintf(stderr, "If you don't see a command prompt, try pressing enter.\n");
		terminal_raw(&a);
	}
	struct pp_logs_follow_io io = {
	    .batch_done = flush_stdout, .fd = input_fd, .ready = input_ready, .ctx = &a};
	int r = pp_pod_logs_follow(&t, &read, print_record, &a, &io, err);
	if (a.raw)
		(void)tcsetattr(0, TCSANOW, &a.saved_tio);
	cleanup_closep(&a.in_fd);
	pp_log_target_free(&t);
	return r;
}

int cmd_debug(int argc, char **argv)
{
	struct debug_opts o = {0};
	int pod_idx = parse_debug_args(argc, argv, &o);
	if (pod_idx < 0) {
		fputs(usage_text, stderr);
		return CLI_EXIT_USAGE;
	}
	const char *pod = cli_pod_name(argv[pod_idx]);
	cleanup_free char *name = o.container ? xstrdup(o.container) : default_name();
	if (o.container == NULL && !o.quiet)
		fprintf(stderr, "Defaulting debug container name to %s.\n", name);
	const struct pp_debug_opts dopts = {.container = name,
					    .image = o.image,
					    .target = o.target,
					    .command = optind < argc ? argv + optind : NULL,
					    .pull_policy = o.pull_policy,
					    .stdin_open = o.in,
					    .tty = o.tty};
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_debug(o.ns, pod, &dopts, &err) < 0 ||
	    (o.in && attach(&o, pod, name, &err) < 0)) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}
