/* peapod node: the long-lived node process (src/node), or the unit that
 * starts it at boot (--print-unit, --install-unit). */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cri/cri.h"
#include "node/loop.h"
#include "node/node.h"
#include "util/cleanup.h"

/* One line per message on stderr (a unit's journal), with the time. */
static void node_log(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void node_log(void *ctx, const char *fmt, ...)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s.%03ldZ peapod-node: ", when, ts.tv_nsec / 1000000);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void node_usage(FILE *f)
{
	fprintf(f, "usage: peapod node [--manifests DIR] [--cri] [--cri-socket PATH]\n"
		   "       peapod node --print-unit systemd|sysv [--manifests DIR]\n"
		   "       peapod node --install-unit [--manifests DIR]\n");
}

static int unit_verbs(const char *print, bool install, const char *dir)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		perror("peapod: /proc/self/exe");
		return CLI_EXIT_FAILURE;
	}
	exe[n] = '\0';
	if (print != NULL) {
		cleanup_free char *text = pp_node_unit_text(
		    strcmp(print, "systemd") == 0 ? PP_NODE_UNIT_SYSTEMD : PP_NODE_UNIT_SYSV, exe,
		    dir);
		fputs(text, stdout);
		return 0;
	}
	cleanup_error struct pp_error *err = NULL;
	cleanup_free char *path = NULL, *hint = NULL;
	if (pp_node_unit_install(exe, dir, &path, &hint, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	printf("wrote %s; then: %s\n", path, hint);
	return 0;
}

/* --cri: the CRI server (src/cri) in the node's loop, after the boot path. */
struct cri_attach {
	const char *socket; /* NULL: $PEAPOD_RUN/cri.sock */
	struct pp_cri_server *srv;
};

static void on_cri(struct pp_loop *l, int fd, uint32_t events, void *ctx)
{
	struct cri_attach *a = ctx;
	cleanup_error struct pp_error *err = NULL;
	if (pp_cri_server_on_ready(a->srv, fd, events, &err) < 0) {
		char buf[512];
		node_log(NULL, "cri: %s", pp_error_text(err, buf, sizeof(buf)));
	}
}

static int attach_cri(struct pp_loop *loop, void *ctx, struct pp_error **err)
{
	struct cri_attach *a = ctx;
	if (pp_cri_server_open(a->socket, &a->srv, err) < 0)
		return -1;
	if (pp_loop_add(loop, pp_cri_server_fd(a->srv), EPOLLIN, on_cri, a, err) < 0)
		return -1;
	node_log(NULL, "serving the CRI (runtime.v1) on %s", a->socket ? a->socket : "cri.sock");
	return 0;
}

const struct option cli_opts_node[] = {
    {"manifests", required_argument, NULL, 'm'},
    {"print-unit", required_argument, NULL, 'p'},
    {"install-unit", no_argument, NULL, 'i'},
    {"cri", no_argument, NULL, 'c'},
    {"cri-socket", required_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
const char cli_shorts_node[] = "h";

int cmd_node(int argc, char **argv)
{
	const char *dir = NULL, *print = NULL;
	bool install = false, cri = false;
	struct cri_attach ca = {0};
	int c;
	while ((c = getopt_long(argc, argv, cli_shorts_node, cli_opts_node, NULL)) != -1) {
		switch (c) {
		case 'c':
			cri = true;
			break;
		case 's':
			cri = true;
			ca.socket = optarg;
			break;
		case 'm':
			dir = optarg;
			break;
		case 'p':
			print = optarg;
			break;
		case 'i':
			install = true;
			break;
		case 'h':
			node_usage(stdout);
			return 0;
		default:
			node_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc || (print && install) ||
	    (print && strcmp(print, "systemd") != 0 && strcmp(print, "sysv") != 0)) {
		node_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (print != NULL || install)
		return unit_verbs(print, install, dir);
	cleanup_error struct pp_error *err = NULL;
	struct pp_node_opts o = {.manifest_dir = dir, .log = node_log};
	if (cri) {
		o.attach = attach_cri;
		o.attach_ctx = &ca;
	}
	int r = pp_node_run(&o, &err);
	pp_cri_server_close(ca.srv);
	if (r < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}
