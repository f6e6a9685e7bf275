/* peapod apply, delete, inspect, gc: the verbs that create, remove and show
 * a pod as a whole. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "ops/apply.h"
#include "ops/ops.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"

#define DELETE_TIMEOUT_MS (-1)

int cmd_apply(int argc, char **argv)
{
	static const struct option longopts[] = {{"filename", required_argument, NULL, 'f'},
						 {"namespace", required_argument, NULL, 'n'},
						 {"root", required_argument, NULL, 'r'},
						 {"network", required_argument, NULL, 'N'},
						 {NULL, 0, NULL, 0}};
	const char *file = NULL, *ns = NULL, *root = NULL, *network = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:n:", longopts, NULL)) != -1) {
		if (c == 'f')
			file = optarg;
		else if (c == 'n')
			ns = optarg;
		else if (c == 'r')
			root = optarg;
		else if (c == 'N')
			network = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (file == NULL || optind != argc) {
		fprintf(stderr,
			"usage: peapod apply -f FILE [-n NAMESPACE] [--network NAME|none]\n");
		return CLI_EXIT_USAGE;
	}
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod *spec = NULL;
	cleanup_free char *text = NULL;
	size_t len = 0;
	if (cli_load_manifest(file, &spec, &text, &len) < 0)
		return CLI_EXIT_USAGE;
	cleanup_free char *name = xstrdup(spec->name);
	struct pp_apply_opts o = {.store_root = root,
				  .manifest = text,
				  .manifest_len = len,
				  .namespace_ = ns,
				  .network = network};
	int r = pp_pod_apply(spec, &o, NULL, &err);
	if (r < 0) {
		cli_print_error(err);
		return r == PP_APPLY_BAD_REQUEST ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	printf("pod/%s created\n", name);
	return 0;
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
	static const struct option longopts[] = {{"filename", required_argument, NULL, 'f'},
						 {"namespace", required_argument, NULL, 'n'},
						 {"grace-period", required_argument, NULL, 'g'},
						 {"force", no_argument, NULL, 'F'},
						 {"now", no_argument, NULL, 'N'},
						 {"selector", required_argument, NULL, 'l'},
						 {"field-selector", required_argument, NULL, 'S'},
						 {"all", no_argument, NULL, 'a'},
						 {NULL, 0, NULL, 0}};
	const char *file = NULL, *ns = NULL;
	struct cli_select sel = {0};
	bool all = false;
	struct pp_delete_opts o = {.grace_s = -1, .timeout_ms = DELETE_TIMEOUT_MS};
	bool force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:n:l:", longopts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'f':
			file = optarg;
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
	if (optind < argc && strcmp(argv[optind], "pod") == 0)
		optind++;
	if (optind < argc && strcmp(argv[optind], "pods") == 0)
		optind++;
	sel.ns = ns;
	if (all && !cli_select_given(&sel))
		sel.labels = ""; /* --all: the empty selector, every pod */
	if (cli_select_given(&sel))
		return delete_selected(&sel, argc - optind, &o);
	if (file == NULL && optind == argc) {
		fprintf(stderr, "usage: peapod delete [pod] NAME...|-l SELECTOR|--all "
				"[--field-selector F] [--grace-period N] [--force] | -f FILE\n");
		return CLI_EXIT_USAGE;
	}
	int status = 0;
	if (file != NULL) {
		cleanup_error struct pp_error *err = NULL;
		struct pp_pod *spec = NULL;
		if (pp_spec_parse_file(file, &spec, &err) < 0) {
			cli_print_error(err);
			return CLI_EXIT_USAGE;
		}
		status = delete_one(ns ? ns : spec->namespace_, spec->name, &o);
		pp_pod_free(spec);
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
	if (ret < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}
