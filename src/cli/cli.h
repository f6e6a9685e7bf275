/* src/cli: owns the command line: one file per verb that parses flags,
 * makes one library call (src/ops for the verbs on pods) and prints. The
 * only place that prints to the user and picks exit codes. Must not do the
 * work itself (no cgroup, mount, namespace or record handling here), nor be
 * included by anything under src/. */
#ifndef PEAPOD_CLI_H
#define PEAPOD_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <stdio.h>

#include "util/error.h"

/* Exit codes: 0 success, 1 failure, 2 bad manifest or bad usage. */
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

/* The groups `peapod help` lists the verbs in, as kubectl's. */
enum cli_group {
	CLI_GROUP_OTHER = 0, /* the default of an entry that names none */
	CLI_GROUP_BASIC,
	CLI_GROUP_DEPLOY,
	CLI_GROUP_CLUSTER,
	CLI_GROUP_TROUBLESHOOT,
	CLI_GROUP_ADVANCED,
	CLI_GROUP_IMAGE,
	CLI_GROUP_HIDDEN, /* __complete: not listed, not completed */
	CLI_N_GROUPS
};

/* One flag's help: the long option as the verb's struct option table names
 * it, its argument's placeholder (NULL: none) and meaning. help NULL: the
 * table has the option but this verb refuses it (a table shared by two
 * verbs): neither shown nor accepted. */
struct cli_flag_doc {
	const char *name, *arg, *help;
};

/* A verb's help, built from the very tables the verb parses with (opts,
 * shorts): every option of opts must have its flags entry, and each entry
 * an option (tests/unit/test_cli_help.c). opts NULL: a verb with
 * subcommands that parse their own (image, system); subcommands lists them. */
struct cli_verb_doc {
	const char *usage;    /* after "peapod " */
	const char *examples; /* "  # why\n  peapod ...\n" lines */
	const struct option *opts;
	const char *shorts;
	const struct cli_flag_doc *flags;
	const char *subcommands; /* "  NAME  what\n" lines, or NULL */
};

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the verb */
	const char *help;		  /* one line: what it does */
	enum cli_group group;
	const struct cli_verb_doc *doc; /* NULL: only the line above */
};

/* cli_commands.c: every verb, in the order help lists them; and the
 * subcommands of the verbs that have some ("image pull", "system df"). */
extern const struct cli_command cli_commands[];
extern const struct cli_command cli_subcommands[];
/* A verb, or a subcommand by its two words ("image pull"). */
const struct cli_command *cli_find_command(const char *name);
/* The subcommand argv[1] of verb c (NULL: none such, or c has none). */
const struct cli_command *cli_find_subcommand(const struct cli_command *c, int argc, char **argv);

/* cli_help.c: `peapod help`, `peapod VERB --help`, and the check of a
 * verb's flags before it runs. */
void cli_print_usage(FILE *f);
/* 0 printed, CLI_EXIT_USAGE: no such verb (printed). */
int cli_print_verb_help(FILE *f, const char *verb);
/* Before the verb parses: -h/--help prints its help (*exit 0); a flag it
 * does not take or one missing its argument prints one line naming it
 * (*exit 1). Returns true when the verb should not run. */
bool cli_precheck(const struct cli_command *c, int argc, char **argv, int *exit_code);
/* The flags the verb really takes (hidden ones left out): the visible
 * entries of its doc, or NULL. */
const struct cli_flag_doc *cli_flag_doc_of(const struct cli_command *c, const char *name);

/* The verbs' own option tables (each cmd_*.c), which their docs show. */
extern const struct option cli_opts_run[], cli_opts_apply[], cli_opts_delete[], cli_opts_inspect[],
    cli_opts_describe[], cli_opts_events[], cli_opts_logs[], cli_opts_exec[], cli_opts_cp[],
    cli_opts_port_forward[], cli_opts_debug[], cli_opts_wait[], cli_opts_create[], cli_opts_pause[],
    cli_opts_stats[], cli_opts_get[], cli_opts_version[], cli_opts_scale[], cli_opts_rollout[],
    cli_opts_node[];
extern const char cli_shorts_run[], cli_shorts_apply[], cli_shorts_delete[], cli_shorts_inspect[],
    cli_shorts_describe[], cli_shorts_events[], cli_shorts_logs[], cli_shorts_attach[],
    cli_shorts_exec[], cli_shorts_cp[], cli_shorts_port_forward[], cli_shorts_debug[],
    cli_shorts_wait[], cli_shorts_create[], cli_shorts_pause[], cli_shorts_stats[],
    cli_shorts_get[], cli_shorts_version[], cli_shorts_scale[], cli_shorts_rollout[],
    cli_shorts_node[];

/* The image and system subcommands' tables (cmd_image*.c). */
extern const struct option cli_opts_image[], cli_opts_image_pull[], cli_opts_image_ls[],
    cli_opts_image_root[], cli_opts_image_archive[], cli_opts_system_df[];
extern const char cli_shorts_image[], cli_shorts_image_pull[], cli_shorts_image_ls[],
    cli_shorts_image_root[], cli_shorts_image_load[], cli_shorts_image_save[],
    cli_shorts_system_df[];

/* cmd_version.c, cmd_completion.c */
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_completion(int argc, char **argv);
int cmd_complete(int argc, char **argv); /* the hidden __complete */

int cmd_run(int argc, char **argv);
int cmd_image(int argc, char **argv);
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
/* cmd_workloads.c: Deployments, ReplicaSets, DaemonSets (kind: enum
 * pp_workload_kind). */
/* quiet_empty: no "No resources found" for none (get all: kubectl lists
 * the kinds that have some) */
int cli_get_workloads(int kind, char **names, int n, const char *format, const char *ns, bool all,
		      bool quiet_empty);
int cli_describe_deployments(struct cli_select *sel, char **names, int n_names);
int cli_describe_replicasets(struct cli_select *sel, char **names, int n_names);
int cli_describe_daemonsets(struct cli_select *sel, char **names, int n_names);
/* cmd_jobs.c: describe job NAME (cli_describe_jobs, in cmd_workloads.c,
 * the named or listed ones); get's STATUS, COMPLETIONS and DURATION cells. */
int cli_describe_jobs(struct cli_select *sel, char **names, int n_names);
int cli_describe_job(const char *ns, const char *name);
struct pp_workload;
struct json_object;
void cli_job_cells(const struct pp_workload *w, struct json_object *obj, char **status,
		   char **completions, char **duration);
/* wait --for=condition=complete|failed|delete job/NAME */
struct pp_wait_for;
int cli_wait_job(const char *ns, const char *name, const struct pp_wait_for *w, int64_t timeout_ms);
int cli_delete_workloads(int kind, char **names, int n, const char *ns);
int cmd_scale(int argc, char **argv);
int cmd_rollout(int argc, char **argv);
/* cmd_describe.c: the Events table of an events file (a controller's). */
void cli_describe_events(const char *path, const char *from);
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
