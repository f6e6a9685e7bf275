/* peapod image pull|import|rm|prune: the local image store from the command line
 * (ls, inspect and tag: cmd_image_info.c; load and save: cmd_image_archive.c). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/pull_display.h"
#include "image/image.h"
#include "image/store.h"
#include "pull/pull.h"
#include "util/cleanup.h"

static const char usage_text[] =
    "usage: peapod image pull [--platform OS/ARCH[/VARIANT]] [--creds USER:PASS]\n"
    "                            [--authfile FILE] [--tls-verify=false] [-q]\n"
    "                            [--root DIR] REF\n"
    "       peapod image import SRC... REF [--entrypoint JSON|WORD] [--cmd JSON|WORD]\n"
    "                              [--env K=V]... [--workdir DIR] [--user USER]\n"
    "                              [--stop-signal SIG] [--root DIR]\n"
    "       peapod image load [-i FILE|DIR|-] [-q] [--root DIR]\n"
    "       peapod image save [-o FILE|-] [--format docker-archive|oci-archive] IMAGE...\n"
    "       peapod image ls [--digests] [-q] [-o json] [--root DIR]\n"
    "       peapod image inspect IMAGE... [--root DIR]\n"
    "       peapod image tag SOURCE TARGET... [--root DIR]\n"
    "       peapod image rm REF... [--force] [--root DIR]\n"
    "       peapod image prune [--root DIR]   # what no image or pod uses, and leftovers\n"
    "\n"
    "SRC is a root filesystem directory or a tar archive (optionally compressed);\n"
    "several make one layer each, the first lowest, the last on top.\n"
    "rm --force untags an image a pod runs; its layers stay until that pod ends.\n"
    "pull --tls-verify=false speaks plain HTTP to REF's registry (never implied,\n"
    "not even for localhost, but by registries.conf's insecure = true, which\n"
    "--tls-verify=true overrides); -q prints only the image id.\n"
    "Mirrors, insecure and blocked registries: $PEAPOD_REGISTRIES_CONF\n"
    "(/etc/containers/registries.conf and its .d/*.conf); CAs: certs.d.\n"
    "Credentials: --creds, else --authfile or $REGISTRY_AUTH_FILE, else podman's\n"
    "auth.json places, then ~/.docker/config.json (credential helpers run).\n"
    "--cmd and --entrypoint take a JSON array ('[\"sh\",\"-c\",\"echo hi\"]') or one word.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "peapod: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	return CLI_EXIT_USAGE;
}

static int fail(struct pp_error **err)
{
	cli_print_error(*err);
	pp_error_free(err);
	return CLI_EXIT_FAILURE;
}

/* '["a","b"]' -> {a, b}; "" -> {} (explicitly none); any other text -> {text}.
 * NULL when bad JSON. */
static char **parse_argv_option(const char *arg)
{
	if (arg[0] == '\0')
		return xmalloc(sizeof(char *));
	if (arg[0] != '[') {
		char **v = xmalloc(2 * sizeof(char *));
		v[0] = xstrdup(arg);
		return v;
	}
	struct json_object *arr = json_tokener_parse(arg);
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		return NULL;
	}
	size_t n = json_object_array_length(arr);
	cleanup_strv char **v = xmalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_string)) {
			json_object_put(arr);
			return NULL;
		}
		v[i] = xstrdup(json_object_get_string(e));
	}
	json_object_put(arr);
	return steal_ptr(&v);
}

static void strv_push(char ***v, const char *s)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

enum {
	OPT_ENTRYPOINT = 256,
	OPT_CMD,
	OPT_ENV,
	OPT_WORKDIR,
	OPT_USER,
	OPT_STOP_SIGNAL,
	OPT_ROOT,
	OPT_FORCE,
};

/* The flags of image import, rm and prune; their help (cli_commands.c)
 * shows each one takes. */
const char cli_shorts_image[] = "fh";
const struct option cli_opts_image[] = {
    {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
    {"cmd", required_argument, NULL, OPT_CMD},
    {"env", required_argument, NULL, OPT_ENV},
    {"workdir", required_argument, NULL, OPT_WORKDIR},
    {"user", required_argument, NULL, OPT_USER},
    {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
    {"root", required_argument, NULL, OPT_ROOT},
    {"force", no_argument, NULL, OPT_FORCE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct image_opts {
	const char *root;
	bool force;
	struct pp_image_config cfg;
};

static void image_opts_free(struct image_opts *o)
{
	strv_free(o->cfg.entrypoint);
	strv_free(o->cfg.cmd);
	strv_free(o->cfg.env);
}

/* Parses the options of every subcommand; each refuses the others' ones.
 * Returns -1 to continue, else an exit code. */
static int parse_options(int argc, char **argv, bool import, bool rm, struct image_opts *o)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_image, cli_opts_image, NULL)) != -1) {
		char ***argvp = c == OPT_ENTRYPOINT ? &o->cfg.entrypoint : &o->cfg.cmd;
		if (c == 'f' || c == OPT_FORCE) {
			if (!rm)
				return usage_error("option --force is only for rm");
			o->force = true;
			continue;
		}
		if (!import && c != OPT_ROOT && c != 'h' && c != '?')
			return usage_error("option --%s is only for import",
					   cli_opts_image[c - OPT_ENTRYPOINT].name);
		switch (c) {
		case OPT_ENTRYPOINT:
		case OPT_CMD:
			strv_free(*argvp);
			*argvp = parse_argv_option(optarg);
			if (*argvp == NULL)
				return usage_error("not a JSON array of strings: %s", optarg);
			break;
		case OPT_ENV:
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				return usage_error("--env wants NAME=VALUE, not \"%s\"", optarg);
			strv_push(&o->cfg.env, optarg);
			break;
		case OPT_WORKDIR:
			if (optarg[0] != '/')
				return usage_error("--workdir must be an absolute path: %s",
						   optarg);
			o->cfg.working_dir = optarg;
			break;
		case OPT_USER:
			o->cfg.user = optarg;
			break;
		case OPT_STOP_SIGNAL:
			o->cfg.stop_signal = optarg;
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
}

static int image_import(int argc, char **argv, struct image_opts *o)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_store *store = NULL;
	struct pp_image *img = NULL;
	if (argc - optind < 2)
		return usage_error("import wants SRC... and REF");
	if (pp_image_store_open(o->root, &store, &err) < 0)
		return fail(&err);
	size_t n = (size_t)(argc - optind - 1);
	int ret = pp_image_import_layers(store, (const char *const *)&argv[optind], n,
					 argv[argc - 1], &o->cfg, &img, &err);
	pp_image_store_free(store);
	if (ret < 0)
		return fail(&err);
	printf("%s\n", img->id);
	pp_image_free(img);
	return 0;
}

static int image_rm(int argc, char **argv, struct image_opts *o)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_store *store = NULL;
	int status = 0;
	if (argc - optind < 1)
		return usage_error("rm wants at least one REF");
	if (pp_image_store_open(o->root, &store, &err) < 0)
		return fail(&err);
	for (int i = optind; i < argc; i++) {
		int r = o->force ? pp_image_remove_force(store, argv[i], &err)
				 : pp_image_remove(store, argv[i], &err);
		if (r < 0)
			status = fail(&err);
		else
			printf("Untagged: %s\n", argv[i]);
	}
	pp_image_store_free(store);
	return status;
}

static int image_prune(int argc, char **argv, struct image_opts *o)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_store *store = NULL;
	if (argc - optind != 0)
		return usage_error("prune takes no arguments, got \"%s\"", argv[optind]);
	if (pp_image_store_open(o->root, &store, &err) < 0)
		return fail(&err);
	int ret = pp_image_store_prune(store, &err);
	pp_image_store_free(store);
	return ret < 0 ? fail(&err) : 0;
}

enum {
	PULL_OPT_PLATFORM = 256,
	PULL_OPT_CREDS,
	PULL_OPT_AUTHFILE,
	PULL_OPT_TLS_VERIFY,
	PULL_OPT_ROOT
};

/* The flags of image pull; its help (cli_commands.c) shows each. */
const char cli_shorts_image_pull[] = "qh";
const struct option cli_opts_image_pull[] = {
    {"platform", required_argument, NULL, PULL_OPT_PLATFORM},
    {"creds", required_argument, NULL, PULL_OPT_CREDS},
    {"authfile", required_argument, NULL, PULL_OPT_AUTHFILE},
    {"tls-verify", optional_argument, NULL, PULL_OPT_TLS_VERIFY},
    {"root", required_argument, NULL, PULL_OPT_ROOT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct pull_args {
	struct pp_pull_options opts;
	const char *root;
	char *user; /* --creds' USER (PASS points into it) */
	bool quiet;
	struct pull_display display; /* on stderr: stdout keeps only the id */
};

/* Returns -1 to continue, else an exit code. */
static int parse_pull_options(int argc, char **argv, struct pull_args *a)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_image_pull, cli_opts_image_pull, NULL)) !=
	       -1) {
		switch (c) {
		case PULL_OPT_PLATFORM:
			a->opts.platform = optarg;
			break;
		case PULL_OPT_CREDS: {
			char *colon = strchr(optarg, ':');
			if (colon == NULL || colon == optarg)
				return usage_error("--creds wants USER:PASS");
			free(a->user);
			a->user = xstrdup(optarg);
			a->user[colon - optarg] = '\0';
			a->opts.username = a->user;
			a->opts.password = a->user + (colon - optarg) + 1;
			break;
		}
		case PULL_OPT_AUTHFILE:
			a->opts.authfile = optarg;
			break;
		case PULL_OPT_TLS_VERIFY:
			if (optarg == NULL || strcmp(optarg, "true") == 0) {
				a->opts.plain_http = false;
				a->opts.tls_verify = true;
			} else if (strcmp(optarg, "false") == 0) {
				a->opts.plain_http = true;
				a->opts.tls_verify = false;
			} else
				return usage_error("--tls-verify is true or false, not \"%s\"",
						   optarg);
			break;
		case PULL_OPT_ROOT:
			a->root = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return usage_error("pull wants one REF");
	if (!a->quiet) {
		pull_display_init(&a->display, stderr, isatty(STDERR_FILENO));
		a->opts.progress = pull_display_event;
		a->opts.progress_ctx = &a->display;
	}
	return -1;
}

static int image_pull(int argc, char **argv)
{
	cleanup_error struct pp_error *err = NULL;
	struct pull_args a = {0};
	struct pp_image_store *store = NULL;
	cleanup_free char *id = NULL;
	int ret = parse_pull_options(argc, argv, &a);
	if (ret < 0 && pp_image_store_open(a.root, &store, &err) < 0)
		ret = fail(&err);
	if (ret < 0 && pp_pull_image(store, argv[optind], &a.opts, &id, &err) < 0)
		ret = fail(&err);
	if (ret < 0) {
		printf("%s\n", id);
		ret = 0;
	}
	pp_image_store_free(store);
	pull_display_free(&a.display);
	free(a.user);
	return ret;
}

int cmd_image(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv, struct image_opts *o);
	} subcommands[] = {
	    {"import", image_import},
	    {"rm", image_rm},
	    {"remove", image_rm},
	    {"prune", image_prune},
	};
	/* the verbs with options of their own */
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} own_options[] = {
	    {"pull", image_pull},     {"ls", cmd_image_ls},	      {"list", cmd_image_ls},
	    {"images", cmd_image_ls}, {"inspect", cmd_image_inspect}, {"tag", cmd_image_tag},
	    {"load", cmd_image_load}, {"save", cmd_image_save},
	};
	if (argc < 2) {
		fputs(usage_text, stderr);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(own_options) / sizeof(own_options[0]); i++)
		if (strcmp(argv[1], own_options[i].name) == 0)
			return own_options[i].fn(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name) != 0)
			continue;
		struct image_opts o = {0};
		/* The subcommand is argv[0] for getopt. */
		int ret = parse_options(argc - 1, argv + 1, subcommands[i].fn == image_import,
					subcommands[i].fn == image_rm, &o);
		if (ret < 0)
			ret = subcommands[i].fn(argc - 1, argv + 1, &o);
		image_opts_free(&o);
		return ret;
	}
	return usage_error("unknown image command \"%s\"", argv[1]);
}
