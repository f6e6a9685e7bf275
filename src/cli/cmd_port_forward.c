/* peapod port-forward [-n NS] POD [LOCAL:]REMOTE... [--address ADDR,...]:
 * kubectl's, until SIGINT or SIGTERM (ops/portforward.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ops/portforward.h"
#include "util/cleanup.h"

#define PF_USAGE                                                                                   \
	"usage: peapod port-forward [-n NAMESPACE] POD [LOCAL:]REMOTE... [--address "              \
	"ADDR[,ADDR]]\n"                                                                           \
	"  LOCAL omitted: the same as REMOTE; :REMOTE: a free local port.\n"                       \
	"  --address: where to listen (IPs or localhost; default localhost)\n"                     \
	"    peapod port-forward web 8080:80\n"

static void on_listen(void *ctx, const char *addr, int local, int remote)
{
	(void)ctx;
	printf("Forwarding from %s:%d -> %d\n", addr, local, remote);
	fflush(stdout);
}

static void on_connection(void *ctx, int local)
{
	(void)ctx;
	printf("Handling connection for %d\n", local);
	fflush(stdout);
}

static void on_conn_error(void *ctx, int local, const struct pp_error *e)
{
	(void)ctx;
	(void)local;
	cli_print_error(e);
}

/* --address a,b --address c: each address once, in order. */
static void add_addresses(const char *arg, char ***addrs, size_t *n)
{
	cleanup_free char *copy = xstrdup(arg);
	char *save = NULL;
	for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		*addrs = xrealloc(*addrs, (*n + 2) * sizeof(**addrs));
		(*addrs)[(*n)++] = xstrdup(a);
		(*addrs)[*n] = NULL;
	}
}

/* SIGINT and SIGTERM blocked and read from a signalfd: the loop's stop. */
static int stop_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The flags of port-forward; its help (cli_commands.c) shows each. */
const struct option cli_opts_port_forward[] = {{"namespace", required_argument, NULL, 'n'},
					       {"address", required_argument, NULL, 'a'},
					       {"help", no_argument, NULL, 'h'},
					       {NULL, 0, NULL, 0}};
const char cli_shorts_port_forward[] = "n:h";

static int forward(const char *ns, const char *name, char **specs, size_t n_specs,
		   char *const *addrs, size_t n_addrs)
{
	cleanup_error struct pp_error *err = NULL;
	cleanup_free struct pp_port_pair *ports = xmalloc(n_specs * sizeof(*ports));
	for (size_t i = 0; i < n_specs; i++)
		if (pp_port_pair_parse(specs[i], &ports[i], &err) < 0) {
			cli_print_error(err);
			return CLI_EXIT_USAGE;
		}
	cleanup_close int stop = stop_signals();
	if (stop < 0) {
		perror("peapod: signalfd");
		return CLI_EXIT_FAILURE;
	}
	const struct pp_port_forward_opts o = {
	    .ns = ns,
	    .name = name,
	    .addresses = (const char *const *)addrs,
	    .n_addresses = n_addrs,
	    .ports = ports,
	    .n_ports = n_specs,
	    .on_listen = on_listen,
	    .on_connection = on_connection,
	    .on_conn_error = on_conn_error,
	    .stop_fd = stop,
	};
	if (pp_pod_port_forward(&o, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

int cmd_port_forward(int argc, char **argv)
{
	const char *ns = NULL;
	cleanup_strv char **addrs = NULL;
	size_t n_addrs = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_port_forward, cli_opts_port_forward,
				NULL)) != -1) {
		if (c == 'n')
			ns = optarg;
		else if (c == 'a')
			add_addresses(optarg, &addrs, &n_addrs);
		else {
			fputs(PF_USAGE, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : CLI_EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		fputs(PF_USAGE, stderr);
		return CLI_EXIT_USAGE;
	}
	return forward(cli_namespace(ns), cli_pod_name(argv[optind]), argv + optind + 1,
		       (size_t)(argc - optind - 1), addrs, n_addrs);
}
