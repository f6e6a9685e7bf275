/* peapod image ls|inspect|tag, and system df: what the image store holds,
 * shown as podman shows it (`podman images`, `podman image inspect`,
 * `podman system df`). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "image/image.h"
#include "image/oci.h"
#include "util/cleanup.h"

#define SHORT_ID_LEN 12
#define SIZE_UNIT 1000.0
#define SECS_PER_MIN 60
#define SECS_PER_HOUR (60 * SECS_PER_MIN)
#define SECS_PER_DAY (24 * SECS_PER_HOUR)
#define SECS_PER_WEEK (7 * SECS_PER_DAY)
#define SECS_PER_MONTH (30 * SECS_PER_DAY)
#define SECS_PER_YEAR (365 * SECS_PER_DAY)
#define PERCENT 100
#define TIME_FORMAT "%Y-%m-%dT%H:%M:%SZ"
#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char ls_usage[] = "usage: peapod image ls [--digests] [-q] [-o json] [--root DIR]\n";
static const char inspect_usage[] = "usage: peapod image inspect IMAGE... [--root DIR]\n";
static const char tag_usage[] = "usage: peapod image tag SOURCE TARGET... [--root DIR]\n";
static const char df_usage[] = "usage: peapod system df [-v] [--root DIR]\n";

static int usage_error(const char *usage, const char *what)
{
	fprintf(stderr, "peapod: %s\n%s", what, usage);
	return CLI_EXIT_USAGE;
}

static int fail(struct pp_error **err)
{
	cli_print_error(*err);
	pp_error_free(err);
	return CLI_EXIT_FAILURE;
}

/* Like podman (go-units HumanSizeWithPrecision): decimal units, 3 digits. */
static void human_size(int64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	const size_t n_units = sizeof(units) / sizeof(units[0]);
	double v = (double)bytes;
	size_t u = 0;
	while (v >= SIZE_UNIT && u + 1 < n_units) {
		v /= SIZE_UNIT;
		u++;
	}
	snprintf(buf, len, "%.3g %s", v, units[u]);
}

/* Like podman (go-units HumanDuration) + " ago". */
static void human_age(time_t created, char *buf, size_t len)
{
	static const struct {
		long secs;
		const char *name;
	} steps[] = {
	    {SECS_PER_YEAR, "years"}, {SECS_PER_MONTH, "months"}, {SECS_PER_WEEK, "weeks"},
	    {SECS_PER_DAY, "days"},   {SECS_PER_HOUR, "hours"},	  {SECS_PER_MIN, "minutes"},
	};
	long age = (long)difftime(time(NULL), created);
	if (age < 1) {
		snprintf(buf, len, "Less than a second ago");
		return;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		long n = age / steps[i].secs;
		if (n >= 2) {
			snprintf(buf, len, "%ld %s ago", n, steps[i].name);
			return;
		}
	}
	if (age >= SECS_PER_HOUR)
		snprintf(buf, len, "About an hour ago");
	else if (age >= SECS_PER_MIN)
		snprintf(buf, len, "About a minute ago");
	else if (age == 1)
		snprintf(buf, len, "1 second ago");
	else
		snprintf(buf, len, "%ld seconds ago", age);
}

static void rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;
	strftime(buf, len, TIME_FORMAT, gmtime_r(&t, &tm));
}

/* "host:5000/a/b:tag" -> repository "host:5000/a/b", tag "tag". */
static void split_ref(const char *ref, char **repo, const char **tag)
{
	if (ref == NULL) { /* a dangling image */
		*repo = xstrdup("<none>");
		*tag = "<none>";
		return;
	}
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	const char *at = strchr(ref, '@');
	if (at != NULL) {
		*repo = strndup(ref, (size_t)(at - ref));
		*tag = "<none>";
	} else if (colon != NULL) {
		*repo = strndup(ref, (size_t)(colon - ref));
		*tag = colon + 1;
	} else {
		*repo = xstrdup(ref);
		*tag = "<none>";
	}
}

/* The repo digest of img for the repository of ref ("busybox@sha256:..."
 * for "busybox:1.36"), else its first, else NULL. */
static const char *repo_digest_for(const struct pp_image *img, const char *ref)
{
	cleanup_free char *repo = NULL;
	const char *tag;
	if (img->repo_digests == NULL || img->repo_digests[0] == NULL)
		return NULL;
	split_ref(ref, &repo, &tag);
	for (char **d = img->repo_digests; *d; d++)
		if (strncmp(*d, repo, strlen(repo)) == 0 && (*d)[strlen(repo)] == '@')
			return *d;
	return img->repo_digests[0];
}

static const char *digest_of(const char *repo_digest)
{
	const char *at = repo_digest ? strchr(repo_digest, '@') : NULL;
	return at ? at + 1 : NULL;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static void print_table(struct pp_image **imgs, size_t n, bool digests)
{
	int repo_w = (int)strlen("REPOSITORY"), tag_w = (int)strlen("TAG");
	int digest_w = (int)strlen("DIGEST");
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *repo = NULL;
		const char *tag;
		split_ref(imgs[i]->ref, &repo, &tag);
		const char *d = digest_of(repo_digest_for(imgs[i], imgs[i]->ref));
		repo_w = max_int(repo_w, (int)strlen(repo));
		tag_w = max_int(tag_w, (int)strlen(tag));
		digest_w = max_int(digest_w, d ? (int)strlen(d) : (int)strlen("<none>"));
	}
	printf("%-*s  %-*s  ", repo_w, "REPOSITORY", tag_w, "TAG");
	if (digests)
		printf("%-*s  ", digest_w, "DIGEST");
	printf("%-*s  %-22s  %s\n", SHORT_ID_LEN, "IMAGE ID", "CREATED", "SIZE");
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *repo = NULL;
		const char *tag;
		char age[64], size[32];
		split_ref(imgs[i]->ref, &repo, &tag);
		human_age(imgs[i]->created, age, sizeof(age));
		human_size(imgs[i]->size, size, sizeof(size));
		printf("%-*s  %-*s  ", repo_w, repo, tag_w, tag);
		if (digests) {
			const char *d = digest_of(repo_digest_for(imgs[i], imgs[i]->ref));
			printf("%-*s  ", digest_w, d ? d : "<none>");
		}
		printf("%.*s  %-22s  %s\n", SHORT_ID_LEN, imgs[i]->id, age, size);
	}
}

/* True when an earlier entry has the same image (list: one per tag). */
static bool seen_before(struct pp_image **imgs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(imgs[j]->id, imgs[i]->id) == 0)
			return true;
	return false;
}

static struct json_object *strv_json(char *const *v)
{
	struct json_object *a = json_object_new_array();
	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static struct json_object *labels_json(const struct pp_image_config *c)
{
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; i < c->n_labels; i++)
		json_object_object_add(o, c->labels[i].key,
				       json_object_new_string(c->labels[i].value));
	return o;
}

static const struct pp_image_usage_entry *usage_of(const struct pp_image_usage *u, const char *id)
{
	for (size_t i = 0; i < u->n_images; i++)
		if (strcmp(u->images[i].id, id) == 0)
			return &u->images[i];
	return NULL;
}

/* One entry as `podman images --format json` writes it. */
static struct json_object *ls_entry_json(const struct pp_image *img, const struct pp_image_usage *u)
{
	struct json_object *o = json_object_new_object();
	const struct pp_image_usage_entry *e = usage_of(u, img->id);
	char when[64];
	rfc3339(img->created, when, sizeof(when));
	json_object_object_add(o, "Id", json_object_new_string(img->id));
	json_object_object_add(o, "ParentId", json_object_new_string(""));
	json_object_object_add(o, "RepoTags", strv_json(img->tags));
	json_object_object_add(o, "RepoDigests", strv_json(img->repo_digests));
	json_object_object_add(o, "Created", json_object_new_int64((int64_t)img->created));
	json_object_object_add(o, "CreatedAt", json_object_new_string(when));
	json_object_object_add(o, "Size", json_object_new_int64(img->size));
	json_object_object_add(o, "SharedSize", json_object_new_int64(e ? e->shared_size : 0));
	json_object_object_add(o, "VirtualSize", json_object_new_int64(img->size));
	json_object_object_add(o, "Labels", labels_json(&img->config));
	json_object_object_add(o, "Containers", json_object_new_int64(e ? (int64_t)e->n_pods : 0));
	json_object_object_add(o, "Names", strv_json(img->tags));
	const char *d = digest_of(img->repo_digests ? img->repo_digests[0] : NULL);
	if (d != NULL)
		json_object_object_add(o, "Digest", json_object_new_string(d));
	return o;
}

static int print_json(struct pp_image_store *store, struct pp_image **imgs, size_t n)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_usage u;
	if (pp_image_store_usage(store, &u, &err) < 0)
		return fail(&err);
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		if (!seen_before(imgs, i))
			json_object_array_add(arr, ls_entry_json(imgs[i], &u));
	printf("%s\n", json_object_to_json_string_ext(arr, JSON_FLAGS));
	json_object_put(arr);
	pp_image_usage_clear(&u);
	return 0;
}

enum { OPT_ROOT = 256, OPT_DIGESTS };

/* The flags of image ls; its help (cli_commands.c) shows each. */
const char cli_shorts_image_ls[] = "qo:h";
const struct option cli_opts_image_ls[] = {
    {"digests", no_argument, NULL, OPT_DIGESTS},
    {"quiet", no_argument, NULL, 'q'},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, 'o'},
    {"root", required_argument, NULL, OPT_ROOT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct ls_args {
	const char *root;
	bool digests, quiet, json;
};

static int parse_ls(int argc, char **argv, struct ls_args *a)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_image_ls, cli_opts_image_ls, NULL)) != -1) {
		switch (c) {
		case OPT_DIGESTS:
			a->digests = true;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0)
				return usage_error(ls_usage, "ls -o takes json only");
			a->json = true;
			break;
		case OPT_ROOT:
			a->root = optarg;
			break;
		case 'h':
			fputs(ls_usage, stdout);
			return 0;
		default:
			fputs(ls_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return usage_error(ls_usage, "ls takes no arguments");
	return -1;
}

int cmd_image_ls(int argc, char **argv)
{
	cleanup_error struct pp_error *err = NULL;
	struct ls_args a = {0};
	struct pp_image_store *store = NULL;
	struct pp_image **imgs = NULL;
	size_t n = 0;
	int ret = parse_ls(argc, argv, &a);
	if (ret >= 0)
		return ret;
	if (pp_image_store_open(a.root, &store, &err) < 0)
		return fail(&err);
	if (pp_image_list(store, &imgs, &n, &err) < 0) {
		pp_image_store_free(store);
		return fail(&err);
	}
	ret = 0;
	if (a.json)
		ret = print_json(store, imgs, n);
	else if (a.quiet)
		for (size_t i = 0; i < n; i++)
			if (!seen_before(imgs, i))
				printf("%.*s\n", SHORT_ID_LEN, imgs[i]->id);
	if (!a.json && !a.quiet)
		print_table(imgs, n, a.digests);
	pp_image_list_free(imgs, n);
	pp_image_store_free(store);
	return ret;
}

/* The options of the verbs that take only --root. */
/* The flags of image inspect and tag; their help (cli_commands.c) shows each. */
const char cli_shorts_image_root[] = "h";
const struct option cli_opts_image_root[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_root(int argc, char **argv, const char *usage, const char **root)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_image_root, cli_opts_image_root, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_ROOT:
			*root = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, key, json_object_new_string(v));
}

/* GraphDriver as podman's overlay driver shows it: the layer directories,
 * topmost first, ':'-separated as overlay's lowerdir takes them. */
static struct json_object *graph_driver_json(const struct pp_image *img)
{
	size_t len = 1;
	for (char **l = img->layers; l && *l; l++)
		len += strlen(*l) + 1;
	cleanup_free char *lower = xmalloc(len);
	lower[0] = '\0';
	for (char **l = img->layers; l && *l; l++) {
		if (l != img->layers)
			strcat(lower, ":");
		strcat(lower, *l);
	}
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "LowerDir", json_object_new_string(lower));
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "Name", json_object_new_string("overlay"));
	json_object_object_add(o, "Data", data);
	return o;
}

/* One image as `podman image inspect` shows it, where peapod knows it. */
static struct json_object *inspect_json(const struct pp_image *img)
{
	struct json_object *o = json_object_new_object();
	char when[64];
	rfc3339(img->created, when, sizeof(when));
	json_object_object_add(o, "Id", json_object_new_string(img->id));
	const char *d = digest_of(img->repo_digests ? img->repo_digests[0] : NULL);
	if (d != NULL)
		json_object_object_add(o, "Digest", json_object_new_string(d));
	json_object_object_add(o, "RepoTags", strv_json(img->tags));
	json_object_object_add(o, "RepoDigests", strv_json(img->repo_digests));
	json_object_object_add(o, "Created", json_object_new_string(when));
	json_object_object_add(o, "Config", pp_oci_run_config_json(&img->config));
	put_str(o, "Architecture", img->architecture);
	put_str(o, "Os", img->os);
	put_str(o, "Variant", img->variant);
	json_object_object_add(o, "Size", json_object_new_int64(img->size));
	json_object_object_add(o, "VirtualSize", json_object_new_int64(img->size));
	json_object_object_add(o, "GraphDriver", graph_driver_json(img));
	struct json_object *rootfs = json_object_new_object();
	json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
	json_object_object_add(rootfs, "Layers", strv_json(img->diff_ids));
	json_object_object_add(o, "RootFS", rootfs);
	json_object_object_add(o, "Labels", labels_json(&img->config));
	return o;
}

int cmd_image_inspect(int argc, char **argv)
{
	cleanup_error struct pp_error *err = NULL;
	const char *root = NULL;
	struct pp_image_store *store = NULL;
	int status = parse_root(argc, argv, inspect_usage, &root);
	if (status >= 0)
		return status;
	if (optind == argc)
		return usage_error(inspect_usage, "inspect wants at least one IMAGE");
	if (pp_image_store_open(root, &store, &err) < 0)
		return fail(&err);
	status = 0;
	struct json_object *arr = json_object_new_array();
	for (int i = optind; i < argc; i++) {
		struct pp_image *img = NULL;
		if (pp_image_get(store, argv[i], &img, &err) < 0 ||
		    pp_image_read_platform(store, img, &err) < 0) {
			pp_image_free(img);
			status = fail(&err);
			continue;
		}
		json_object_array_add(arr, inspect_json(img));
		pp_image_free(img);
	}
	/* none found: only the errors, as for the other verbs' missing objects */
	if (json_object_array_length(arr) > 0 || status == 0)
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_FLAGS));
	json_object_put(arr);
	pp_image_store_free(store);
	return status;
}

int cmd_image_tag(int argc, char **argv)
{
	cleanup_error struct pp_error *err = NULL;
	const char *root = NULL;
	struct pp_image_store *store = NULL;
	int status = parse_root(argc, argv, tag_usage, &root);
	if (status >= 0)
		return status;
	if (argc - optind < 2)
		return usage_error(tag_usage, "tag wants SOURCE and at least one TARGET");
	if (pp_image_store_open(root, &store, &err) < 0)
		return fail(&err);
	status = 0;
	for (int i = optind + 1; i < argc && status == 0; i++)
		if (pp_image_tag(store, argv[optind], argv[i], &err) < 0)
			status = fail(&err);
	pp_image_store_free(store);
	return status;
}

static void df_row(const char *type, size_t total, size_t active, int64_t size, int64_t reclaimable)
{
	char s[32], r[32];
	human_size(size, s, sizeof(s));
	human_size(reclaimable, r, sizeof(r));
	int pct = size > 0 ? (int)(reclaimable * PERCENT / size) : 0;
	printf("%-12s  %-6zu  %-6zu  %-10s  %s (%d%%)\n", type, total, active, s, r, pct);
}

/* `podman system df -v`'s image table: per image, its shared and unique
 * parts, and the pods that run it (CONTAINERS there). */
static void df_images(const struct pp_image_usage *u)
{
	printf("\nImages space usage:\n\n%-30s  %-12s  %-22s  %-10s  %-11s  %-11s  %s\n",
	       "REPOSITORY:TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE",
	       "PODS");
	for (size_t i = 0; i < u->n_images; i++) {
		const struct pp_image_usage_entry *e = &u->images[i];
		char age[64], size[32], shared[32], unique[32];
		human_age(e->created, age, sizeof(age));
		human_size(e->size, size, sizeof(size));
		human_size(e->shared_size, shared, sizeof(shared));
		human_size(e->size - e->shared_size, unique, sizeof(unique));
		const char *tag = e->tags && e->tags[0] ? e->tags[0] : "<none>:<none>";
		printf("%-30s  %.*s  %-22s  %-10s  %-11s  %-11s  %zu\n", tag, SHORT_ID_LEN, e->id,
		       age, size, shared, unique, e->n_pods);
	}
}

/* The flags of system df; its help (cli_commands.c) shows each. */
const char cli_shorts_system_df[] = "vh";
const struct option cli_opts_system_df[] = {
    {"verbose", no_argument, NULL, 'v'},
    {"root", required_argument, NULL, OPT_ROOT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_system(int argc, char **argv)
{
	cleanup_error struct pp_error *err = NULL;
	const char *root = NULL;
	bool verbose = false;
	int c;
	if (argc < 2 || strcmp(argv[1], "df") != 0)
		return usage_error(df_usage, argc < 2 ? "system wants a command"
						      : "unknown system "
							"command");
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, cli_shorts_system_df, cli_opts_system_df,
				NULL)) != -1) {
		if (c == 'v')
			verbose = true;
		else if (c == OPT_ROOT)
			root = optarg;
		else if (c == 'h')
			return fputs(df_usage, stdout), 0;
		else
			return usage_error(df_usage, "bad option");
	}
	if (optind != argc - 1)
		return usage_error(df_usage, "df takes no arguments");
	struct pp_image_store *store = NULL;
	struct pp_image_usage u;
	if (pp_image_store_open(root, &store, &err) < 0)
		return fail(&err);
	int ret = pp_image_store_usage(store, &u, &err);
	pp_image_store_free(store);
	if (ret < 0)
		return fail(&err);
	printf("%-12s  %-6s  %-6s  %-10s  %s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
	df_row("Images", u.n_images, u.n_active, u.size, u.reclaimable);
	df_row("Containers", u.n_containers, u.n_containers, u.containers_size, 0);
	char shared[32];
	human_size(u.shared_size, shared, sizeof(shared));
	printf("\nLayers: %zu, of which %zu shared by several images (%s, counted once)\n",
	       u.n_layers, u.n_shared_layers, shared);
	if (verbose)
		df_images(&u);
	pp_image_usage_clear(&u);
	return 0;
}
