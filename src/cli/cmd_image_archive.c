/* peapod image load|save: image archives (image/archive.h). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/archive.h"
#include "util/cleanup.h"

static const char load_usage[] =
    "usage: peapod image load [-i|--input FILE|DIR|-] [-q] [--root DIR]\n"
    "       (no -i: stdin when it is not a terminal)\n";
static const char save_usage[] =
    "usage: peapod image save [-o|--output FILE|-] [--format docker-archive|oci-archive]\n"
    "                         [--root DIR] IMAGE...\n"
    "       (no -o or -o -: stdout when it is not a terminal)\n";

enum { ARCHIVE_OPT_ROOT = 256, ARCHIVE_OPT_FORMAT };

/* The flags of image load and save; their help (cli_commands.c) shows each
 * one takes. */
const char cli_shorts_image_load[] = "i:qh", cli_shorts_image_save[] = "o:h";
const struct option cli_opts_image_archive[] = {
    {"input", required_argument, NULL, 'i'},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, ARCHIVE_OPT_FORMAT},
    {"root", required_argument, NULL, ARCHIVE_OPT_ROOT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct archive_args {
	const char *root;
	const char *path; /* -i or -o */
	const char *format;
	bool quiet;
};

static int archive_usage(const char *usage, const char *msg)
{
	fprintf(stderr, "peapod: %s\n%s", msg, usage);
	return CLI_EXIT_USAGE;
}

/* Returns -1 to continue, else an exit code. */
static int parse_archive_options(int argc, char **argv, bool save, struct archive_args *a)
{
	const char *usage = save ? save_usage : load_usage;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, save ? cli_shorts_image_save : cli_shorts_image_load,
				cli_opts_image_archive, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'o':
			a->path = optarg;
			break;
		case ARCHIVE_OPT_FORMAT:
			if (!save)
				return archive_usage(usage, "--format is for save");
			a->format = optarg;
			break;
		case ARCHIVE_OPT_ROOT:
			a->root = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (!save && optind != argc)
		return archive_usage(usage, "load takes no arguments (-i FILE)");
	if (save && optind == argc)
		return archive_usage(usage, "save wants at least one IMAGE");
	return -1;
}

static int archive_fail(struct pp_error **err)
{
	cli_print_error(*err);
	pp_error_free(err);
	return CLI_EXIT_FAILURE;
}

int cmd_image_load(int argc, char **argv)
{
	struct archive_args a = {0};
	int ret = parse_archive_options(argc, argv, false, &a);
	if (ret >= 0)
		return ret;
	const char *input = a.path ? a.path : "-";
	if (strcmp(input, "-") == 0 && isatty(STDIN_FILENO))
		return archive_usage(load_usage, "no -i FILE, and stdin is a terminal");
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_store *store = NULL;
	struct pp_image_loaded *loaded = NULL;
	size_t n = 0;
	if (pp_image_store_open(a.root, &store, &err) < 0)
		return archive_fail(&err);
	ret = pp_image_load(store, input, &loaded, &n, &err);
	pp_image_store_free(store);
	if (ret < 0)
		return archive_fail(&err);
	for (size_t i = 0; i < n && !a.quiet; i++) {
		if (loaded[i].tags == NULL)
			printf("Loaded image: sha256:%s\n", loaded[i].id);
		for (char **t = loaded[i].tags; t && *t; t++)
			printf("Loaded image: %s\n", *t);
	}
	pp_image_loaded_free(loaded, n);
	return 0;
}

/* -o FILE is written to a temporary beside it, renamed once whole. */
int cmd_image_save(int argc, char **argv)
{
	struct archive_args a = {0};
	int ret = parse_archive_options(argc, argv, true, &a);
	if (ret >= 0)
		return ret;
	enum pp_image_archive_format format = PP_IMAGE_ARCHIVE_DOCKER;
	if (a.format != NULL && strcmp(a.format, "oci-archive") == 0)
		format = PP_IMAGE_ARCHIVE_OCI;
	else if (a.format != NULL && strcmp(a.format, "docker-archive") != 0)
		return archive_usage(save_usage, "--format is docker-archive or oci-archive");
	bool to_stdout = a.path == NULL || strcmp(a.path, "-") == 0;
	if (to_stdout && isatty(STDOUT_FILENO))
		return archive_usage(save_usage, "no -o FILE, and stdout is a terminal");
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_store *store = NULL;
	if (pp_image_store_open(a.root, &store, &err) < 0)
		return archive_fail(&err);
	cleanup_free char *tmp = to_stdout ? NULL : xasprintf("%s.tmp-XXXXXX", a.path);
	cleanup_close int fd = to_stdout ? dup(STDOUT_FILENO) : mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		pp_image_store_free(store);
		pp_error_set(&err, errno, "create %s", to_stdout ? "stdout" : tmp);
		return archive_fail(&err);
	}
	ret = pp_image_save(store, (const char *const *)argv + optind, (size_t)(argc - optind),
			    format, fd, &err);
	pp_image_store_free(store);
	if (ret == 0 && !to_stdout && (fchmod(fd, 0644) < 0 || rename(tmp, a.path) < 0))
		ret = pp_error_set(&err, errno, "rename %s to %s", tmp, a.path);
	if (ret < 0) {
		if (!to_stdout)
			unlink(tmp);
		return archive_fail(&err);
	}
	return 0;
}
