/* peapod cri-serve [--socket PATH]: TEMPORARY, hidden verb. Serves the CRI
 * (src/cri) from a loop of its own until SIGINT or SIGTERM, for the tests
 * and crictl, until the node process (`peapod node`) drives the same
 * server from its event loop; then this verb goes. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cri/cri.h"
#include "util/cleanup.h"

/* Stands for the node process's loop: the server's fd and a signalfd. */
static int serve(struct pp_cri_server *srv, struct pp_error **err)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	cleanup_close int ep = epoll_create1(EPOLL_CLOEXEC);
	int fd = pp_cri_server_fd(srv);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	struct epoll_event sev = {.events = EPOLLIN, .data.fd = sfd};
	if (sfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &sev) < 0)
		return pp_error_set(err, errno, "cri-serve: event loop");
	for (;;) {
		struct epoll_event got;
		int n = epoll_wait(ep, &got, 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pp_error_set(err, errno, "cri-serve: epoll_wait");
		if (got.data.fd == sfd)
			return 0;
		if (pp_cri_server_on_ready(srv, fd, got.events, err) < 0)
			return -1;
	}
}

int cmd_cri_serve(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {NULL, 0, NULL, 0}};
	const char *path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 's') {
			fprintf(stderr, "usage: peapod cri-serve [--socket PATH]\n");
			return CLI_EXIT_USAGE;
		}
		path = optarg;
	}
	cleanup_error struct pp_error *err = NULL;
	struct pp_cri_server *srv = NULL;
	if (pp_cri_server_open(path, &srv, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	int r = serve(srv, &err);
	pp_cri_server_close(srv);
	if (r < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}
