/* peapod apply, delete, inspect, gc: the verbs that create, remove and show
 * a pod as a whole. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "controller/controller.h"
#include "ops/apply.h"
#include "ops/objects.h"
#include "ops/ops.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"

#define DELETE_TIMEOUT_MS (-1)

/* kubectl's -f: repeated; each a file, a directory or "-". */
#define MAX_FILES 64

/* The flags of apply and replace; its help (cli_commands.c) shows each. */
const struct option cli_opts_apply[] = {{"filename", required_argument, NULL, 'f'},
					{"namespace", required_argument, NULL, 'n'},
					{"recursive", no_argument, NULL, 'R'},
					{"root", required_argument, NULL, 'r'},
					{"network", required_argument, NULL, 'N'},
					{"force", no_argument, NULL, 'F'},
					{NULL, 0, NULL, 0}};
const char cli_shorts_apply[] = "f:n:R";

static int add_file(char **files, size_t *n, const char *arg)
{
	if (*n == MAX_FILES) {
		fprintf(stderr, "peapod: more than %d -f\n", MAX_FILES);
		return -1;
	}
	files[(*n)++] = (char *)arg;
	return 0;
}

/* apply, and replace --force (replace: every pod of the input deleted
 * first, then made anew). */
static int apply_or_replace(int argc, char **argv, bool replace)
{
	char *files[MAX_FILES];
	size_t n_files = 0;
	const char *ns = NULL, *root = NULL, *network = NULL;
	bool recursive = false, force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_apply, cli_opts_apply, NULL)) != -1) {
		if (c == 'f') {
			if (add_file(files, &n_files, optarg) < 0)
				return CLI_EXIT_USAGE;
		} else if (c == 'n') {
			ns = optarg;
		} else if (c == 'R') {
			recursive = true;
		} else if (c == 'r') {
			root = optarg;
		} else if (c == 'N') {
			network = optarg;
		} else if (c == 'F') {
			force = true;
		} else {
			return CLI_EXIT_USAGE;
		}
	}
	if (n_files == 0 || optind != argc || (replace && !force)) {
		if (replace && !force && n_files > 0)
			fprintf(stderr, "peapod replace: only replace --force is supported (apply "
					"updates a pod in place)\n");
		fprintf(stderr,
			"usage: peapod %s -f FILE|DIR|- [-f ...] [-R] [-n NAMESPACE] "
			"[--network NAME|none] [--force]\n",
			replace ? "replace" : "apply");
		return CLI_EXIT_USAGE;
	}
	cleanup_error struct pp_error *err = NULL;
	struct pp_manifest_set set = {0};
	if (cli_load_set(files, n_files, recursive, &set) < 0)
		return CLI_EXIT_USAGE;
	/* Every object checked before any is written. */
	if (pp_set_prepare(&set, ns, &err) < 0) {
		cli_print_error(err);
		pp_manifest_set_free(&set);
		return CLI_EXIT_USAGE;
	}
	struct pp_apply_opts o = {.store_root = root,
				  .network = network,
				  .force = force,
				  .recreate = replace,
				  .short_lived_caller = true};
	int r = pp_set_apply(&set, &o, cli_report, NULL);
	if (pp_workloads_apply(&set, cli_report, NULL) < 0)
		r = -1;
	(void)pp_workloads_resume(NULL);
	pp_manifest_set_free(&set);
	return r < 0 ? CLI_EXIT_FAILURE : 0;
}

int cmd_apply(int argc, char **argv)
{
	return apply_or_replace(argc, argv, false);
}

int cmd_replace(int argc, char **argv)
{
	return apply_or_replace(argc, argv, true);
}

static int delete_one(const char *ns, const char *name, const struct pp_delete_opts *o)
{
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_delete(ns, name, o, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	printf("pod \"%s\" deleted\n", name);
	fflush(stdout);
	return 0;
}

/* The flags of delete; its help (cli_commands.c) shows each. */
const struct option cli_opts_delete[] = {{"filename", required_argument, NULL, 'f'},
					 {"namespace", required_argument, NULL, 'n'},
					 {"recursive", no_argument, NULL, 'R'},
					 {"grace-period", required_argument, NULL, 'g'},
					 {"force", no_argument, NULL, 'F'},
					 {"now", no_argument, NULL, 'N'},
					 {"selector", required_argument, NULL, 'l'},
					 {"field-selector", required_argument, NULL, 'S'},
					 {"all", no_argument, NULL, 'a'},
					 {NULL, 0, NULL, 0}};
const char cli_shorts_delete[] = "f:n:Rl:";

/* delete -l / --field-selector / --all: every pod picked, in turn. */
static int delete_selected(const struct cli_select *sel, int n_names,
			   const struct pp_delete_opts *o)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	int status = cli_select_pods(sel, n_names, &views, &n);
	if (status != 0)
		return status;
	if (n == 0)
		cli_no_resources(sel);
	for (size_t i = 0; i < n; i++)
		if (delete_one(views[i].ns, views[i].name, o) != 0)
			status = CLI_EXIT_FAILURE;
	pp_pod_views_free(views, n);
	return status;
}

int cmd_delete(int argc, char **argv)
{
	char *files[MAX_FILES];
	size_t n_files = 0;
	const char *ns = NULL;
	struct cli_select sel = {0};
	bool all = false;
	struct pp_delete_opts o = {.grace_s = -1, .timeout_ms = DELETE_TIMEOUT_MS};
	bool force = false, recursive = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_delete, cli_opts_delete, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'f':
			if (add_file(files, &n_files, optarg) < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'l':
			sel.labels = optarg;
			break;
		case 'S':
			sel.fields = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'n':
			ns = optarg;
			break;
		case 'R':
			recursive = true;
			break;
		case 'g':
			o.grace_s = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(stderr, "peapod delete: bad --grace-period \"%s\"\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'F':
			force = true;
			break;
		case 'N':
			o.grace_s = 1;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	/* kubectl: --force with no grace period (or 0) kills at once. */
	if (force && o.grace_s < 0)
		o.grace_s = 0;
	if (n_files == 0 && optind < argc && cli_object_kind(argv[optind]) >= 0) {
		if (optind + 1 == argc) {
			fprintf(stderr,
				"usage: peapod delete configmap|secret|pvc NAME... [-n NS]\n");
			return CLI_EXIT_USAGE;
		}
		return cli_delete_objects(cli_object_kind(argv[optind]), argv + optind + 1,
					  argc - optind - 1, ns);
	}
	if (n_files == 0 && optind < argc && pp_workload_kind_lookup(argv[optind]) >= 0 &&
	    pp_ctrl_kind_of(pp_workload_kind_lookup(argv[optind])) != NULL) {
		if (optind + 1 == argc) {
			fprintf(stderr, "usage: peapod delete deployment|replicaset|daemonset "
					"NAME... [-n NS]\n");
			return CLI_EXIT_USAGE;
		}
		return cli_delete_workloads(pp_workload_kind_lookup(argv[optind]),
					    argv + optind + 1, argc - optind - 1, ns);
	}
	if (n_files == 0 && optind < argc && strchr(argv[optind], '/') != NULL &&
	    strncmp(argv[optind], "pod/", 4) != 0 && strncmp(argv[optind], "pods/", 5) != 0) {
		cleanup_free char *k = xasprintf(
		    "%.*s", (int)(strchr(argv[optind], '/') - argv[optind]), argv[optind]);
		int wk = pp_workload_kind_lookup(k);
		if (wk >= 0 && pp_ctrl_kind_of(wk) != NULL)
			return cli_delete_workloads(wk, argv + optind, argc - optind, ns);
	}
	if (optind < argc && strcmp(argv[optind], "pod") == 0)
		optind++;
	if (optind < argc && strcmp(argv[optind], "pods") == 0)
		optind++;
	sel.ns = ns;
	if (all && !cli_select_given(&sel))
		sel.labels = ""; /* --all: the empty selector, every pod */
	if (cli_select_given(&sel))
		return delete_selected(&sel, argc - optind, &o);
	if (n_files == 0 && optind == argc) {
		fprintf(stderr,
			"usage: peapod delete [pod] NAME...|-l SELECTOR|--all "
			"[--field-selector F] [--grace-period N] [--force] | "
			"configmap|secret|pvc|pv|deployment|rs|ds NAME... | -f FILE|DIR|- [-R]\n");
		return CLI_EXIT_USAGE;
	}
	int status = 0;
	if (n_files > 0) {
		struct pp_manifest_set set = {0};
		if (cli_load_set(files, n_files, recursive, &set) < 0)
			return CLI_EXIT_USAGE;
		(void)pp_workloads_resume(NULL);
		if (pp_workloads_delete_set(&set, ns, cli_report, NULL) < 0)
			status = CLI_EXIT_FAILURE;
		if (pp_set_delete(&set, ns, &o, cli_report, NULL) < 0)
			status = CLI_EXIT_FAILURE;
		pp_manifest_set_free(&set);
	}
	for (int i = optind; i < argc; i++) {
		const char *name = cli_pod_name(argv[i]);
		if (delete_one(cli_namespace(ns), name, &o) != 0)
			status = CLI_EXIT_FAILURE;
	}
	return status;
}

int cmd_inspect(int argc, char **argv)
{
	const char *ns = NULL, *name = NULL;
	int ret = cli_one_pod_args(argc, argv, "peapod inspect NAME [-n NAMESPACE]", &ns, &name);
	if (ret != 0)
		return ret;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v;
	if (pp_pod_inspect(ns, name, &v, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	printf("%s\n", json_object_to_json_string_ext(v.obj, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	pp_pod_view_free(&v);
	return 0;
}

int cmd_gc(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: peapod gc\n");
		return CLI_EXIT_USAGE;
	}
	cleanup_error struct pp_error *err = NULL;
	int removed = 0;
	int ret = pp_pod_gc(NULL, &removed, &err);
	printf("%d pod%s cleaned up\n", removed, removed == 1 ? "" : "s");
	/* the workloads whose controller is gone get one again */
	cleanup_error struct pp_error *rerr = NULL;
	if (pp_workloads_resume(&rerr) < 0)
		cli_print_error(rerr);
	if (ret < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}
