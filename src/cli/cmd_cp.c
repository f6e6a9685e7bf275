/* peapod cp [-n NS] [-c CONTAINER] SRC DEST: one of them [NS/]POD:PATH, the
 * other a local path, as kubectl cp takes them (ops/cp.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ops/cp.h"
#include "util/cleanup.h"

#define CP_USAGE                                                                                   \
	"usage: peapod cp [-n NAMESPACE] [-c CONTAINER] SRC DEST\n"                                \
	"  one of SRC and DEST is [NAMESPACE/]POD:PATH, the other a local path:\n"                 \
	"    peapod cp web:/etc/nginx/nginx.conf ./nginx.conf\n"                                   \
	"    peapod cp ./site web:/usr/share/nginx/html\n"

/* A remote spec as kubectl recognizes one: a ':' in an argument that does
 * not start as a local path does. */
struct remote {
	char *ns, *pod; /* ns NULL: -n's */
	const char *path;
};

static bool parse_remote(const char *arg, struct remote *r)
{
	const char *colon = strchr(arg, ':');
	if (colon == NULL || colon == arg || arg[0] == '/' || arg[0] == '.')
		return false;
	char *pod = strndup(arg, (size_t)(colon - arg));
	if (pod == NULL)
		abort();
	char *slash = strchr(pod, '/');
	if (slash != NULL) {
		*slash = '\0';
		r->ns = pod;
		r->pod = xstrdup(slash + 1);
	} else {
		r->pod = pod;
	}
	r->path = colon + 1; /* "": refused, as kubectl does */
	return true;
}

static void remote_free(struct remote *r)
{
	free(r->ns);
	free(r->pod);
}

/* The flags of cp; its help (cli_commands.c) shows each. */
const struct option cli_opts_cp[] = {{"container", required_argument, NULL, 'c'},
				     {"namespace", required_argument, NULL, 'n'},
				     {"help", no_argument, NULL, 'h'},
				     {NULL, 0, NULL, 0}};
const char cli_shorts_cp[] = "c:n:h";

static void print_skip(void *ctx, const char *path, const char *why)
{
	(void)ctx;
	fprintf(stderr, "peapod: %s: %s\n", path, why);
}

int cmd_cp(int argc, char **argv)
{
	const char *ns = NULL, *container = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_cp, cli_opts_cp, NULL)) != -1) {
		if (c == 'c')
			container = optarg;
		else if (c == 'n')
			ns = optarg;
		else {
			fputs(CP_USAGE, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : CLI_EXIT_USAGE;
		}
	}
	struct remote src = {0}, dst = {0};
	bool src_remote = optind + 2 == argc && parse_remote(argv[optind], &src);
	bool dst_remote = optind + 2 == argc && parse_remote(argv[optind + 1], &dst);
	if (src_remote == dst_remote) {
		remote_free(&src);
		remote_free(&dst);
		fprintf(stderr, "%s%s",
			optind + 2 == argc
			    ? "peapod: cp: exactly one of SRC and DEST must be POD:PATH\n"
			    : "",
			CP_USAGE);
		return CLI_EXIT_USAGE;
	}
	struct remote *r = src_remote ? &src : &dst;
	if (r->path[0] == '\0') {
		fprintf(stderr, "peapod: cp: %s: the path in POD:PATH can not be empty\n",
			argv[src_remote ? optind : optind + 1]);
		remote_free(&src);
		remote_free(&dst);
		return CLI_EXIT_USAGE;
	}
	const struct pp_cp_opts o = {
	    .ns = cli_namespace(r->ns ? r->ns : ns),
	    .name = r->pod,
	    .container = container,
	    .pod_path = r->path,
	    .local_path = argv[src_remote ? optind + 1 : optind],
	    .to_pod = dst_remote,
	    .on_skip = print_skip,
	};
	cleanup_error struct pp_error *err = NULL;
	int ret = pp_pod_cp(&o, &err);
	if (ret < 0)
		cli_print_error(err);
	remote_free(&src);
	remote_free(&dst);
	return ret < 0 ? CLI_EXIT_FAILURE : 0;
}
