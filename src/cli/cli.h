/* src/cli: owns the command line: one file per verb that parses flags,
 * makes one library call (src/ops for the verbs on pods) and prints. The
 * only place that prints to the user and picks exit codes. Must not do the
 * work itself (no cgroup, mount, namespace or record handling here), nor be
 * included by anything under src/. */
#ifndef PEAPOD_CLI_H
#define PEAPOD_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* Exit codes: 0 success, 1 failure, 2 bad manifest or bad usage. */
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the verb */
	const char *help;
};

int cmd_run(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_cri_serve(int argc, char **argv);
/* cmd_image_info.c: image ls, inspect, tag (argv[0] is the subcommand);
 * system df */
int cmd_image_ls(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
int cmd_image_tag(int argc, char **argv);
int cmd_system(int argc, char **argv);
/* image load, image save (cmd_image_archive.c) */
int cmd_image_load(int argc, char **argv);
int cmd_image_save(int argc, char **argv);

int cmd_apply(int argc, char **argv);
int cmd_replace(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_port_forward(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* cli_pod.c */

/* Prints a JSON document as YAML (kubectl get -o yaml). */
struct json_object;
void cli_print_yaml(struct json_object *doc);

/* NAME from "NAME" or "pod/NAME", as kubectl takes it. */
const char *cli_pod_name(const char *arg);

/* The namespace and name of the one pod of [pod] NAME [-n NS]; prints usage.
 * 0, or an exit code. */
int cli_one_pod_args(int argc, char **argv, const char *usage, const char **ns, const char **name);

/* The pod named by the one NAME argument ([pod] NAME [-n NS]), for the
 * verbs that show one pod; prints usage or the error. 0, or an exit code. */
struct pp_pod_view;
int cli_view_one(int argc, char **argv, const char *usage, struct pp_pod_view *v);

/* cli_select.c: -l/--selector and --field-selector, as kubectl. */
struct cli_select {
	const char *labels, *fields; /* as given, NULL: not given */
	const char *ns;		     /* -n, NULL: the default */
	bool all_ns;		     /* -A */
};
bool cli_select_given(const struct cli_select *s);
/* With a selector, the pods it picks (none: *n 0); without one, nothing
 * (the verb takes names). Names and a selector together, or a bad
 * selector: kubectl's error, printed. 0, or an exit code. */
int cli_select_pods(const struct cli_select *s, int n_names, struct pp_pod_view **views, size_t *n);
/* "No resources found in NS namespace." on stderr, as kubectl. */
void cli_no_resources(const struct cli_select *s);

/* -n NS, else $PEAPOD_NAMESPACE, else "default". */
const char *cli_namespace(const char *given);

/* cli_util.c: reading the pod objects (NULL-safe), and kubectl's ages. */
struct json_object *cli_jget(struct json_object *o, const char *key);
const char *cli_jstr(struct json_object *o, const char *key); /* NULL when absent */
const char *cli_js(struct json_object *o, const char *key);   /* "" when absent */
/* kubectl's HumanDuration since the RFC 3339 time ts; "<unknown>" */
void cli_human_age(const char *ts, char *out, size_t size);

/* cmd_objects.c: ConfigMaps and Secrets. The resource word ("configmaps",
 * "cm", "secret"...) -> 0 ConfigMap, 1 Secret, -1 neither. */
int cli_object_kind(const char *word);
/* get KIND [NAME...] with -o FORMAT (NULL: table) in ns (all: -A). */
int cli_get_objects(int kind, char **names, int n, const char *format, const char *ns, bool all);
int cli_describe_object(int kind, const char *name, const char *ns);
int cli_delete_objects(int kind, char **names, int n, const char *ns);
/* cmd_pvc.c: get pvc's and pv's tables, describe pvc|pv. */
struct pp_config_object;
void cli_print_pvcs(struct pp_config_object **objs, size_t n, bool all);
void cli_print_pvs(struct pp_config_object **objs, size_t n);
void cli_describe_pvc(const struct pp_config_object *o);
int cmd_create(int argc, char **argv);
/* -f FILE|DIR (repeated), -R: every object of the input, validated; prints
 * the error. 0, or -1. */
struct pp_manifest_set;
int cli_load_set(char **files, size_t n, bool recursive, struct pp_manifest_set *set);
/* Prints "kind/name result" or the error, as kubectl apply/delete do, to
 * ctx (a FILE *; NULL: stdout). */
void cli_report(void *ctx, const char *resource, const char *name, const char *result,
		const struct pp_error *err);

/* Prints "peapod: <message>" for err to stderr. */
void cli_print_error(const struct pp_error *err);

#endif
