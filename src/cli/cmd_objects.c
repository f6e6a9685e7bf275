/* ConfigMaps, Secrets and PersistentVolumeClaims: get, describe, delete,
 * create (the claims' table and description: cmd_pvc.c); and the helpers
 * apply -f and delete -f share (several inputs, reports as kubectl's). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "manifest/workload.h"
#include "ops/claims.h"
#include "ops/objects.h"
#include "util/cleanup.h"

int cli_object_kind(const char *w)
{
	if (strcmp(w, "configmaps") == 0 || strcmp(w, "configmap") == 0 || strcmp(w, "cm") == 0)
		return PP_OBJ_CONFIGMAP;
	if (strcmp(w, "secrets") == 0 || strcmp(w, "secret") == 0)
		return PP_OBJ_SECRET;
	if (strcmp(w, "persistentvolumeclaims") == 0 || strcmp(w, "persistentvolumeclaim") == 0 ||
	    strcmp(w, "pvc") == 0)
		return PP_OBJ_PVC;
	if (strcmp(w, "persistentvolumes") == 0 || strcmp(w, "persistentvolume") == 0 ||
	    strcmp(w, "pv") == 0)
		return PP_OBJ_PV;
	return -1;
}

int cli_load_set(char **files, size_t n, bool recursive, struct pp_manifest_set *set)
{
	cleanup_error struct pp_error *err = NULL;
	if (pp_manifest_set_load(files, n, recursive, set, &err) < 0) {
		cli_print_error(err);
		return -1;
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct pp_pod *pod = set->items[i].pod;
		if (set->items[i].workload != NULL)
			pod = set->items[i].workload->tmpl;
		for (char **f = pod ? pod->ignored_fields : NULL; f && *f; f++)
			if (set->items[i].workload == NULL ||
			    (strcmp(*f, "spec.nodeSelector") != 0 &&
			     strcmp(*f, "spec.affinity") != 0))
				fprintf(
				    stderr,
				    "peapod: warning: %s: %s is not supported yet and is ignored\n",
				    pod->source, *f);
	}
	return 0;
}

void cli_report(void *ctx, const char *resource, const char *name, const char *result,
		const struct pp_error *err)
{
	if (result != NULL && strcmp(result, PP_SET_WARNING) == 0) {
		fprintf(stderr, "Warning: pod/%s: %s\n", name, err ? err->msg : "");
		return;
	}
	if (err != NULL || result == NULL) {
		cli_print_error(err);
		return;
	}
	FILE *f = ctx != NULL ? ctx : stdout;
	if (strcmp(result, "deleted") == 0)
		fprintf(f, "%s \"%s\" deleted\n", resource, name);
	else
		fprintf(f, "%s/%s %s\n", resource, name, result);
	fflush(f);
}

static size_t data_count(const struct pp_config_object *o)
{
	return o->n_items;
}

static void print_json_or_yaml(struct json_object *doc, const char *format)
{
	if (strcmp(format, "json") == 0)
		printf("%s\n", json_object_to_json_string_ext(
				   doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		cli_print_yaml(doc);
}

static int print_objects(enum pp_object_kind kind, struct pp_config_object **objs, size_t n,
			 const char *format, bool single, bool all)
{
	if (format != NULL && (strcmp(format, "json") == 0 || strcmp(format, "yaml") == 0)) {
		struct json_object *doc;
		if (single) {
			doc = pp_object_to_json(objs[0]);
		} else {
			doc = json_object_new_object();
			json_object_object_add(doc, "apiVersion", json_object_new_string("v1"));
			json_object_object_add(doc, "kind", json_object_new_string("List"));
			struct json_object *items = json_object_new_array();
			for (size_t i = 0; i < n; i++)
				json_object_array_add(items, pp_object_to_json(objs[i]));
			json_object_object_add(doc, "items", items);
		}
		print_json_or_yaml(doc, format);
		json_object_put(doc);
		return 0;
	}
	if (format != NULL && strcmp(format, "name") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s/%s\n", pp_object_kind_lower(kind), objs[i]->name);
		return 0;
	}
	if (format != NULL) {
		fprintf(stderr, "peapod get: unknown output format \"%s\" (json, yaml, name)\n",
			format);
		return CLI_EXIT_USAGE;
	}
	if (n == 0)
		return 0;
	if (kind == PP_OBJ_PVC) {
		cli_print_pvcs(objs, n, all);
		return 0;
	}
	if (kind == PP_OBJ_PV) {
		cli_print_pvs(objs, n);
		return 0;
	}
	int w = (int)strlen("NAME"), tw = (int)strlen("TYPE"), nw = (int)strlen("NAMESPACE");
	for (size_t i = 0; i < n; i++) {
		if ((int)strlen(objs[i]->namespace_) > nw)
			nw = (int)strlen(objs[i]->namespace_);
		if ((int)strlen(objs[i]->name) > w)
			w = (int)strlen(objs[i]->name);
		if (kind == PP_OBJ_SECRET && (int)strlen(objs[i]->type) > tw)
			tw = (int)strlen(objs[i]->type);
	}
	if (all)
		printf("%-*s   ", nw, "NAMESPACE");
	if (kind == PP_OBJ_SECRET)
		printf("%-*s   %-*s   %-4s   %s\n", w, "NAME", tw, "TYPE", "DATA", "AGE");
	else
		printf("%-*s   %-4s   %s\n", w, "NAME", "DATA", "AGE");
	for (size_t i = 0; i < n; i++) {
		char age[32];
		cli_human_age(objs[i]->created, age, sizeof(age));
		if (all)
			printf("%-*s   ", nw, objs[i]->namespace_);
		if (kind == PP_OBJ_SECRET)
			printf("%-*s   %-*s   %-4zu   %s\n", w, objs[i]->name, tw, objs[i]->type,
			       data_count(objs[i]), age);
		else
			printf("%-*s   %-4zu   %s\n", w, objs[i]->name, data_count(objs[i]), age);
	}
	return 0;
}

/* "cm/x" or "x" */
static const char *object_name(const char *arg)
{
	const char *slash = strchr(arg, '/');
	return slash ? slash + 1 : arg;
}

int cli_get_objects(int kind, char **names, int n, const char *format, const char *ns, bool all)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_config_object **objs = NULL;
	size_t count = 0;
	int status = 0;
	/* PersistentVolumes are of no namespace */
	ns = kind == PP_OBJ_PV ? PP_CLUSTER_SCOPE : cli_namespace(ns);
	all = all && n == 0 && kind != PP_OBJ_PV;
	if (n > 0) {
		for (int i = 0; i < n; i++) {
			struct pp_config_object *o = NULL;
			if (pp_object_get(kind, ns, object_name(names[i]), &o, &err) < 0) {
				cli_print_error(err);
				status = CLI_EXIT_FAILURE;
				continue;
			}
			objs = xrealloc(objs, (count + 1) * sizeof(*objs));
			objs[count++] = o;
		}
	} else if (pp_object_list(kind, all ? NULL : ns, &objs, &count, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	} else if (count == 0 && format == NULL) {
		if (all)
			fprintf(stderr, "No resources found\n");
		else if (kind == PP_OBJ_PV)
			fprintf(stderr, "No resources found\n");
		else
			fprintf(stderr, "No resources found in %s namespace.\n", ns);
	}
	if (count > 0 || n != 1) {
		int r = print_objects(kind, objs, count, format, n == 1 && count == 1, all);
		if (r != 0)
			status = r;
	}
	pp_object_list_free(objs, count);
	return status;
}

static void print_kv(const char *title, const struct pp_kv *kv, size_t n)
{
	printf("%-14s", title);
	if (n == 0)
		printf("<none>\n");
	for (size_t i = 0; i < n; i++)
		printf("%*s%s=%s\n", i ? 14 : 0, "", kv[i].key, kv[i].value);
}

int cli_describe_object(int kind, const char *name, const char *ns)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_config_object *o = NULL;
	if (pp_object_get(kind, kind == PP_OBJ_PV ? PP_CLUSTER_SCOPE : cli_namespace(ns),
			  object_name(name), &o, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	if (kind == PP_OBJ_PVC || kind == PP_OBJ_PV) {
		cli_describe_pvc(o);
		pp_object_free(o);
		return 0;
	}
	printf("%-14s%s\n", "Name:", o->name);
	printf("%-14s%s\n", "Namespace:", o->namespace_);
	print_kv("Labels:", o->labels, o->n_labels);
	print_kv("Annotations:", o->annotations, o->n_annotations);
	if (kind == PP_OBJ_SECRET) {
		/* As kubectl: a Secret's values are never shown, only their sizes. */
		printf("\nType:  %s\n\nData\n====\n", o->type);
		for (size_t i = 0; i < o->n_items; i++)
			printf("%s:  %zu bytes\n", o->items[i].key, o->items[i].len);
	} else {
		printf("\nData\n====\n");
		for (size_t i = 0; i < o->n_items; i++)
			if (!o->items[i].binary)
				printf("%s:\n----\n%s\n\n", o->items[i].key,
				       (const char *)o->items[i].value);
		printf("\nBinaryData\n====\n");
		for (size_t i = 0; i < o->n_items; i++)
			if (o->items[i].binary)
				printf("%s: %zu bytes\n", o->items[i].key, o->items[i].len);
		printf("\nEvents:  <none>\n");
	}
	pp_object_free(o);
	return 0;
}

int cli_delete_objects(int kind, char **names, int n, const char *ns)
{
	int status = 0;
	for (int i = 0; i < n; i++) {
		cleanup_error struct pp_error *err = NULL;
		const char *name = object_name(names[i]);
		int r = kind == PP_OBJ_PVC  ? pp_claim_delete(cli_namespace(ns), name, &err)
			: kind == PP_OBJ_PV ? pp_volume_delete(name, &err)
					    : pp_object_delete(kind, cli_namespace(ns), name, &err);
		cli_report(NULL, pp_object_kind_lower(kind), name, r < 0 ? NULL : "deleted",
			   r < 0 ? err : NULL);
		if (r < 0)
			status = CLI_EXIT_FAILURE;
	}
	return status;
}

/* ---- create ---- */

/* The flags of create; its help (cli_commands.c) shows each. */
const struct option cli_opts_create[] = {{"from-literal", required_argument, NULL, 'l'},
					 {"from-file", required_argument, NULL, 'f'},
					 {"from-env-file", required_argument, NULL, 'e'},
					 {"namespace", required_argument, NULL, 'n'},
					 {"type", required_argument, NULL, 't'},
					 {"cert", required_argument, NULL, 'c'},
					 {"key", required_argument, NULL, 'k'},
					 {"docker-server", required_argument, NULL, 'S'},
					 {"docker-username", required_argument, NULL, 'U'},
					 {"docker-password", required_argument, NULL, 'P'},
					 {"docker-email", required_argument, NULL, 'E'},
					 {NULL, 0, NULL, 0}};
const char cli_shorts_create[] = "n:";

static void create_usage(void)
{
	fprintf(stderr,
		"usage: peapod create configmap NAME [--from-literal=K=V] [--from-file=[K=]PATH] "
		"[--from-env-file=PATH] [-n NS]\n"
		"       peapod create secret generic NAME [the same flags] [--type=TYPE]\n"
		"       peapod create secret tls NAME --cert=PATH --key=PATH\n"
		"       peapod create secret docker-registry NAME --docker-server=S "
		"--docker-username=U --docker-password=P [--docker-email=E]\n");
}

struct create_args {
	struct pp_object_source sources[64];
	size_t n_sources;
	const char *ns, *type, *cert, *key;
	struct pp_docker_registry_args docker;
};

static int parse_create_flags(int argc, char **argv, struct create_args *a)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_create, cli_opts_create, NULL)) != -1) {
		enum pp_source_kind sk = PP_SOURCE_LITERAL;
		switch (c) {
		case 'l':
		case 'f':
		case 'e':
			sk = c == 'l'	? PP_SOURCE_LITERAL
			     : c == 'f' ? PP_SOURCE_FILE
					: PP_SOURCE_ENV_FILE;
			if (a->n_sources == sizeof(a->sources) / sizeof(*a->sources)) {
				fprintf(stderr, "peapod create: too many --from-* flags\n");
				return -1;
			}
			a->sources[a->n_sources++] = (struct pp_object_source){sk, optarg};
			break;
		case 'n':
			a->ns = optarg;
			break;
		case 't':
			a->type = optarg;
			break;
		case 'c':
			a->cert = optarg;
			break;
		case 'k':
			a->key = optarg;
			break;
		case 'S':
			a->docker.server = optarg;
			break;
		case 'U':
			a->docker.username = optarg;
			break;
		case 'P':
			a->docker.password = optarg;
			break;
		case 'E':
			a->docker.email = optarg;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* argv: create configmap NAME ... | create secret SUBTYPE NAME ... */
int cmd_create(int argc, char **argv)
{
	struct create_args a = {0};
	if (argc < 3 || cli_object_kind(argv[1]) < 0) {
		create_usage();
		return CLI_EXIT_USAGE;
	}
	enum pp_object_kind kind = (enum pp_object_kind)cli_object_kind(argv[1]);
	const char *sub = kind == PP_OBJ_SECRET ? argv[2] : "generic";
	int skip = kind == PP_OBJ_SECRET ? 2 : 1;
	if (parse_create_flags(argc - skip, argv + skip, &a) < 0 || optind + 1 != argc - skip) {
		create_usage();
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[skip + optind];
	const char *ns = cli_namespace(a.ns);
	cleanup_error struct pp_error *err = NULL;
	struct pp_config_object *o = NULL;
	int r;
	if (strcmp(sub, "generic") == 0) {
		r = pp_object_build(kind, ns, name, a.type, a.sources, a.n_sources, &o, &err);
	} else if (strcmp(sub, "tls") == 0) {
		if (a.cert == NULL || a.key == NULL) {
			fprintf(stderr,
				"peapod create secret tls: --cert and --key are required\n");
			return CLI_EXIT_USAGE;
		}
		r = pp_secret_build_tls(ns, name, a.cert, a.key, &o, &err);
	} else if (strcmp(sub, "docker-registry") == 0) {
		if (a.docker.username == NULL || a.docker.password == NULL) {
			fprintf(stderr, "peapod create secret docker-registry: --docker-username "
					"and --docker-password are required\n");
			return CLI_EXIT_USAGE;
		}
		r = pp_secret_build_docker_registry(ns, name, &a.docker, &o, &err);
	} else {
		create_usage();
		return CLI_EXIT_USAGE;
	}
	if (r < 0) {
		cli_print_error(err);
		return CLI_EXIT_USAGE;
	}
	r = pp_object_create(o, &err);
	if (r < 0)
		fprintf(stderr, "peapod: failed to create %s: %s\n", pp_object_kind_lower(kind),
			err->msg);
	else
		printf("%s/%s created\n", pp_object_kind_lower(kind), o->name);
	pp_object_free(o);
	return r < 0 ? CLI_EXIT_FAILURE : 0;
}
