/* Deployments, ReplicaSets, DaemonSets: get (kubectl's columns, -o json,
 * yaml, name, jsonpath), describe (with the controller's events; a Job's
 * page is cmd_jobs.c's), delete (cascading), scale, rollout status|restart. */
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "controller/controller.h"
#include "objects/workload_store.h"
#include "util/cleanup.h"
#include "util/jsonpath.h"

#define ROLLOUT_TIMEOUT_DEFAULT_S 0 /* kubectl: no limit */

/* "deployment/x", "deployments/x", "x" -> "x" */
static const char *bare_name(const char *arg)
{
	const char *s = strchr(arg, '/');
	return s ? s + 1 : arg;
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v = cli_jget(o, k);
	return v ? json_object_get_int64(v) : 0;
}

static char *selector_text(const struct pp_workload *w)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < w->selector.n; i++) {
		const struct pp_sel_req *q = &w->selector.reqs[i];
		char *t;
		if (q->op == PP_SEL_EQ)
			t = xasprintf("%s%s%s=%s", s, i ? "," : "", q->key, q->values[0]);
		else if (q->op == PP_SEL_EXISTS)
			t = xasprintf("%s%s%s", s, i ? "," : "", q->key);
		else if (q->op == PP_SEL_ABSENT)
			t = xasprintf("%s%s!%s", s, i ? "," : "", q->key);
		else {
			t = xasprintf("%s%s%s %s (", s, i ? "," : "", q->key,
				      q->op == PP_SEL_IN ? "in" : "notin");
			for (size_t k = 0; k < q->n_values; k++) {
				char *u = xasprintf("%s%s%s", t, k ? "," : "", q->values[k]);
				free(t);
				t = u;
			}
			char *u = xasprintf("%s)", t);
			free(t);
			t = u;
		}
		free(s);
		s = t;
	}
	return s;
}

static void print_table(enum pp_workload_kind kind, struct pp_workload **ws,
			struct json_object **objs, size_t n, bool all)
{
	static const char *const heads[][9] = {
	    [PP_WL_DEPLOYMENT] = {"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", NULL},
	    [PP_WL_REPLICASET] = {"NAME", "DESIRED", "CURRENT", "READY", "AGE", NULL},
	    [PP_WL_DAEMONSET] = {"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE",
				 "NODE SELECTOR", "AGE", NULL},
	    [PP_WL_JOB] = {"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", NULL},
	};
	const char *const *h = heads[kind];
	size_t nc = 0;
	while (h[nc])
		nc++;
	size_t cols = nc + (all ? 1 : 0);
	char **cells = xmalloc(sizeof(char *) * cols * (n + 1));
	size_t c0 = all ? 1 : 0;
	if (all)
		cells[0] = xstrdup("NAMESPACE");
	for (size_t c = 0; c < nc; c++)
		cells[c0 + c] = xstrdup(h[c]);
	for (size_t i = 0; i < n; i++) {
		char **row = cells + cols * (i + 1);
		struct json_object *st = cli_jget(objs[i], "status");
		char age[32];
		cli_human_age(ws[i]->created, age, sizeof(age));
		if (all)
			row[0] = xstrdup(ws[i]->namespace_);
		char **r = row + c0;
		r[0] = xstrdup(ws[i]->name);
		if (kind == PP_WL_DEPLOYMENT) {
			r[1] = xasprintf("%lld/%d", (long long)jint(st, "readyReplicas"),
					 ws[i]->replicas);
			r[2] = xasprintf("%lld", (long long)jint(st, "updatedReplicas"));
			r[3] = xasprintf("%lld", (long long)jint(st, "availableReplicas"));
			r[4] = xstrdup(age);
		} else if (kind == PP_WL_REPLICASET) {
			r[1] = xasprintf("%d", ws[i]->replicas);
			r[2] = xasprintf("%lld", (long long)jint(st, "replicas"));
			r[3] = xasprintf("%lld", (long long)jint(st, "readyReplicas"));
			r[4] = xstrdup(age);
		} else if (kind == PP_WL_DAEMONSET) {
			r[1] = xasprintf("%lld", (long long)jint(st, "desiredNumberScheduled"));
			r[2] = xasprintf("%lld", (long long)jint(st, "currentNumberScheduled"));
			r[3] = xasprintf("%lld", (long long)jint(st, "numberReady"));
			r[4] = xasprintf("%lld", (long long)jint(st, "updatedNumberScheduled"));
			r[5] = xasprintf("%lld", (long long)jint(st, "numberAvailable"));
			char *ns = xstrdup("");
			for (size_t k = 0; k < ws[i]->n_node_selector; k++) {
				char *t = xasprintf("%s%s%s=%s", ns, k ? "," : "",
						    ws[i]->node_selector[k].key,
						    ws[i]->node_selector[k].value);
				free(ns);
				ns = t;
			}
			if (ns[0] == '\0') {
				free(ns);
				ns = xstrdup("<none>");
			}
			r[6] = ns;
			r[7] = xstrdup(age);
		} else {
			cli_job_cells(ws[i], objs[i], &r[1], &r[2], &r[3]);
			r[4] = xstrdup(age);
		}
	}
	int *w = xmalloc(sizeof(int) * cols);
	for (size_t c = 0; c < cols; c++) {
		w[c] = 0;
		for (size_t i = 0; i <= n; i++)
			if ((int)strlen(cells[cols * i + c]) > w[c])
				w[c] = (int)strlen(cells[cols * i + c]);
	}
	for (size_t i = 0; i <= n; i++) {
		for (size_t c = 0; c < cols; c++) {
			if (c + 1 == cols)
				printf("%s\n", cells[cols * i + c]);
			else
				printf("%-*s   ", w[c], cells[cols * i + c]);
		}
	}
	for (size_t i = 0; i < cols * (n + 1); i++)
		free(cells[i]);
	free(cells);
	free(w);
}

int cli_get_workloads(int kind, char **names, int n, const char *format, const char *ns, bool all,
		      bool quiet_empty)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_workload **ws = NULL;
	struct json_object **objs = NULL;
	size_t count = 0;
	int status = 0;
	ns = cli_namespace(ns);
	all = all && n == 0;
	(void)pp_workloads_resume(NULL);
	if (n > 0) {
		for (int i = 0; i < n; i++) {
			struct pp_workload *w = NULL;
			struct json_object *j = NULL;
			if (pp_workload_get(kind, ns, bare_name(names[i]), &w, &j, &err) < 0) {
				cli_print_error(err);
				pp_error_free(&err);
				status = CLI_EXIT_FAILURE;
				continue;
			}
			ws = xrealloc(ws, (count + 1) * sizeof(*ws));
			objs = xrealloc(objs, (count + 1) * sizeof(*objs));
			ws[count] = w;
			objs[count++] = j;
		}
	} else if (pp_workload_list(kind, all ? NULL : ns, &ws, &objs, &count, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	} else if (count == 0 && format == NULL && !quiet_empty) {
		if (all)
			fprintf(stderr, "No resources found\n");
		else
			fprintf(stderr, "No resources found in %s namespace.\n", ns);
	}
	bool single = n == 1 && count == 1;
	if (format == NULL) {
		if (count > 0)
			print_table(kind, ws, objs, count, all);
	} else if (strcmp(format, "name") == 0) {
		cleanup_free char *res = pp_workload_resource(kind);
		for (size_t i = 0; i < count; i++)
			printf("%s/%s\n", res, ws[i]->name);
	} else {
		struct json_object *doc;
		if (single) {
			doc = json_object_get(objs[0]);
		} else {
			doc = json_object_new_object();
			json_object_object_add(doc, "apiVersion", json_object_new_string("v1"));
			json_object_object_add(doc, "kind", json_object_new_string("List"));
			struct json_object *items = json_object_new_array();
			for (size_t i = 0; i < count; i++)
				json_object_array_add(items, json_object_get(objs[i]));
			json_object_object_add(doc, "items", items);
		}
		if (strcmp(format, "json") == 0) {
			printf("%s\n", json_object_to_json_string_ext(
					   doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		} else if (strcmp(format, "yaml") == 0) {
			cli_print_yaml(doc);
		} else if (strncmp(format, "jsonpath=", 9) == 0) {
			struct pp_jsonpath *jp = NULL;
			if (pp_jsonpath_parse(format + 9, &jp, &err) < 0 ||
			    pp_jsonpath_print(jp, doc, false, stdout, &err) < 0) {
				cli_print_error(err);
				status = CLI_EXIT_FAILURE;
			}
			pp_jsonpath_free(jp);
		} else {
			fprintf(stderr,
				"peapod get: unknown output format \"%s\" (json, yaml, name, "
				"jsonpath=...)\n",
				format);
			status = CLI_EXIT_USAGE;
		}
		json_object_put(doc);
	}
	pp_workload_list_free(ws, objs, count);
	return status;
}

/* ---- describe ---- */

static void print_kv_line(const char *title, const struct pp_kv *kv, size_t n, int width)
{
	printf("%-*s", width, title);
	if (n == 0)
		printf("<none>\n");
	for (size_t i = 0; i < n; i++)
		printf("%*s%s=%s\n", i ? width : 0, "", kv[i].key, kv[i].value);
}

static void describe_template(const struct pp_workload *w)
{
	printf("Pod Template:\n");
	printf("  Labels:  ");
	for (size_t i = 0; i < w->n_tmpl_labels; i++)
		printf("%*s%s=%s\n", i ? 11 : 0, "", w->tmpl_labels[i].key,
		       w->tmpl_labels[i].value);
	if (w->n_tmpl_labels == 0)
		printf("<none>\n");
	printf("  Containers:\n");
	for (size_t i = 0; i < w->tmpl->n_containers; i++) {
		printf("   %s:\n", w->tmpl->containers[i].name);
		printf("    Image:      %s\n", w->tmpl->containers[i].image);
	}
}

/* kubectl's OldReplicaSets / NewReplicaSet lines. */
static void describe_replicasets_of(const struct pp_workload *d)
{
	struct pp_workload **ws = NULL;
	struct json_object **objs = NULL;
	size_t n = 0;
	if (pp_workload_list(PP_WL_REPLICASET, d->namespace_, &ws, &objs, &n, NULL) < 0)
		return;
	cleanup_free char *hash = pp_template_hash(d->tmpl_json, 0);
	cleanup_free char *new_name = xasprintf("%s-%s", d->name, hash);
	char *old = xstrdup(""), *cur = xstrdup("<none>");
	for (size_t i = 0; i < n; i++) {
		if (ws[i]->owner_uid == NULL || strcmp(ws[i]->owner_uid, d->uid) != 0)
			continue;
		char *t = xasprintf("%s (%lld/%d replicas created)", ws[i]->name,
				    (long long)jint(cli_jget(objs[i], "status"), "replicas"),
				    ws[i]->replicas);
		if (strcmp(ws[i]->name, new_name) == 0) {
			free(cur);
			cur = t;
		} else {
			char *o = xasprintf("%s%s%s", old, old[0] ? ", " : "", t);
			free(old);
			free(t);
			old = o;
		}
	}
	printf("%-23s%s\n", "OldReplicaSets:", old[0] ? old : "<none>");
	printf("%-23s%s\n", "NewReplicaSet:", cur);
	free(old);
	free(cur);
	pp_workload_list_free(ws, objs, n);
}

static int describe_one(enum pp_workload_kind kind, const char *ns, const char *name)
{
	if (kind == PP_WL_JOB)
		return cli_describe_job(ns, name);
	cleanup_error struct pp_error *err = NULL;
	struct pp_workload *w = NULL;
	struct json_object *obj = NULL;
	if (pp_workload_get(kind, ns, name, &w, &obj, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	struct json_object *st = cli_jget(obj, "status");
	cleanup_free char *sel = selector_text(w);
	printf("%-23s%s\n", "Name:", w->name);
	printf("%-23s%s\n", "Namespace:", w->namespace_);
	printf("%-23s%s\n", "CreationTimestamp:", w->created);
	print_kv_line("Labels:", w->labels, w->n_labels, 23);
	print_kv_line("Annotations:", w->annotations, w->n_annotations, 23);
	printf("%-23s%s\n", "Selector:", sel);
	if (w->owner_kind != NULL)
		printf("%-23s%s/%s\n", "Controlled By:", w->owner_kind, w->owner_name);
	if (kind == PP_WL_DEPLOYMENT) {
		printf("%-23s%d desired | %lld updated | %lld total | %lld available | %lld "
		       "unavailable\n",
		       "Replicas:", w->replicas, (long long)jint(st, "updatedReplicas"),
		       (long long)jint(st, "replicas"), (long long)jint(st, "availableReplicas"),
		       (long long)jint(st, "unavailableReplicas"));
		printf("%-23s%s\n", "StrategyType:",
		       w->strategy == PP_STRATEGY_RECREATE ? "Recreate" : "RollingUpdate");
		printf("%-23s%d\n", "MinReadySeconds:", w->min_ready_seconds);
		if (w->strategy == PP_STRATEGY_ROLLING_UPDATE) {
			char su[16], un[16];
			snprintf(su, sizeof(su), "%d%s", w->max_surge.value,
				 w->max_surge.percent ? "%" : "");
			snprintf(un, sizeof(un), "%d%s", w->max_unavailable.value,
				 w->max_unavailable.percent ? "%" : "");
			printf("%-23s%s max unavailable, %s max surge\n",
			       "RollingUpdateStrategy:", un, su);
		}
	} else if (kind == PP_WL_REPLICASET) {
		printf("%-23s%lld current / %d desired\n",
		       "Replicas:", (long long)jint(st, "replicas"), w->replicas);
		printf("%-23s%lld Running / 0 Waiting / 0 Succeeded / 0 Failed\n",
		       "Pods Status:", (long long)jint(st, "replicas"));
	} else if (kind == PP_WL_DAEMONSET) {
		printf("%-23s%lld\n", "Desired Number of Nodes Scheduled:",
		       (long long)jint(st, "desiredNumberScheduled"));
		printf("%-23s%lld\n", "Current Number of Nodes Scheduled:",
		       (long long)jint(st, "currentNumberScheduled"));
		printf("%-23s%lld\n", "Number of Nodes Scheduled with Up-to-date Pods:",
		       (long long)jint(st, "updatedNumberScheduled"));
		printf("%-23s%lld\n", "Number of Nodes Scheduled with Available Pods:",
		       (long long)jint(st, "numberAvailable"));
		printf("%-23s%lld\n",
		       "Number of Nodes Misscheduled:", (long long)jint(st, "numberMisscheduled"));
	}
	describe_template(w);
	struct json_object *conds = cli_jget(st, "conditions");
	if (conds != NULL && json_object_array_length(conds) > 0) {
		printf("Conditions:\n  %-14s %-6s %s\n  %-14s %-6s %s\n", "Type", "Status",
		       "Reason", "----", "------", "------");
		for (size_t i = 0; i < json_object_array_length(conds); i++) {
			struct json_object *c = json_object_array_get_idx(conds, i);
			printf("  %-14s %-6s %s\n", cli_js(c, "type"), cli_js(c, "status"),
			       cli_js(c, "reason"));
		}
	}
	if (kind == PP_WL_DEPLOYMENT)
		describe_replicasets_of(w);
	cleanup_free char *events = pp_ctrl_events_path(kind, ns, name);
	cli_describe_events(events, kind == PP_WL_DEPLOYMENT   ? "deployment-controller"
				    : kind == PP_WL_REPLICASET ? "replicaset-controller"
				    : kind == PP_WL_DAEMONSET  ? "daemonset-controller"
							       : "job-controller");
	pp_workload_free(w);
	json_object_put(obj);
	return 0;
}

static int describe_kind(enum pp_workload_kind kind, struct cli_select *sel, char **names,
			 int n_names)
{
	const char *ns = cli_namespace(sel->ns);
	int status = 0;
	(void)pp_workloads_resume(NULL);
	if (n_names == 0) {
		struct pp_workload **ws = NULL;
		size_t n = 0;
		cleanup_error struct pp_error *err = NULL;
		if (pp_workload_list(kind, ns, &ws, NULL, &n, &err) < 0) {
			cli_print_error(err);
			return CLI_EXIT_FAILURE;
		}
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				printf("\n\n");
			int r = describe_one(kind, ns, ws[i]->name);
			status = r > status ? r : status;
		}
		pp_workload_list_free(ws, NULL, n);
		return status;
	}
	for (int i = 0; i < n_names; i++) {
		if (i > 0)
			printf("\n\n");
		int r = describe_one(kind, ns, bare_name(names[i]));
		status = r > status ? r : status;
	}
	return status;
}

int cli_describe_deployments(struct cli_select *sel, char **names, int n_names)
{
	return describe_kind(PP_WL_DEPLOYMENT, sel, names, n_names);
}

int cli_describe_replicasets(struct cli_select *sel, char **names, int n_names)
{
	return describe_kind(PP_WL_REPLICASET, sel, names, n_names);
}

int cli_describe_daemonsets(struct cli_select *sel, char **names, int n_names)
{
	return describe_kind(PP_WL_DAEMONSET, sel, names, n_names);
}

int cli_describe_jobs(struct cli_select *sel, char **names, int n_names)
{
	return describe_kind(PP_WL_JOB, sel, names, n_names);
}

/* ---- delete ---- */

int cli_delete_workloads(int kind, char **names, int n, const char *ns)
{
	int status = 0;
	ns = cli_namespace(ns);
	(void)pp_workloads_resume(NULL);
	cleanup_free char *res = pp_workload_resource(kind);
	for (int i = 0; i < n; i++) {
		cleanup_error struct pp_error *err = NULL;
		const char *name = bare_name(names[i]);
		if (pp_workload_remove(kind, ns, name, -1, &err) < 0) {
			if (err != NULL && strstr(err->msg, "not found") != NULL)
				fprintf(stderr, "Error from server (NotFound): %s\n", err->msg);
			else
				cli_print_error(err);
			status = CLI_EXIT_FAILURE;
			continue;
		}
		printf("%s \"%s\" deleted\n", res, name);
	}
	return status;
}

/* ---- scale ---- */

/* "deployment", "deploy/x", "deployments.apps" -> kind; name after '/' */
static int kind_and_name(const char *arg, int *kind, const char **name)
{
	cleanup_free char *k = xstrdup(arg);
	char *slash = strchr(k, '/');
	if (slash != NULL)
		*slash = '\0';
	*kind = pp_workload_kind_lookup(k);
	*name = slash ? arg + (slash - k) + 1 : NULL;
	return *kind < 0 ? -1 : 0;
}

const struct option cli_opts_scale[] = {{"replicas", required_argument, NULL, 'r'},
					{"namespace", required_argument, NULL, 'n'},
					{NULL, 0, NULL, 0}};
const char cli_shorts_scale[] = "n:";

int cmd_scale(int argc, char **argv)
{
	const char *ns = NULL, *reps = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_scale, cli_opts_scale, NULL)) != -1) {
		if (c == 'r')
			reps = optarg;
		else if (c == 'n')
			ns = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	int kind = -1;
	const char *name = NULL;
	if (optind < argc && kind_and_name(argv[optind], &kind, &name) == 0 && name == NULL &&
	    optind + 1 < argc)
		name = argv[optind + 1];
	char *end = NULL;
	long n = reps ? strtol(reps, &end, 10) : -1;
	if (kind < 0 || name == NULL || reps == NULL || *end != '\0' || n < 0 || n > INT32_MAX ||
	    (kind != PP_WL_DEPLOYMENT && kind != PP_WL_REPLICASET)) {
		if (reps != NULL && (end == NULL || *end != '\0' || n < 0))
			fprintf(stderr, "error: --replicas=COUNT must be a number >= 0\n");
		fprintf(stderr, "usage: peapod scale deployment|replicaset NAME --replicas N "
				"[-n NS]\n");
		return CLI_EXIT_USAGE;
	}
	ns = cli_namespace(ns);
	cleanup_error struct pp_error *err = NULL;
	(void)pp_workloads_resume(NULL);
	struct pp_workload *w = NULL;
	if (pp_workload_get(kind, ns, name, &w, NULL, &err) == 0 && w->owner_uid != NULL) {
		/* kubectl would scale it and its Deployment scale it back */
		fprintf(stderr, "peapod: replicaset \"%s\" is owned by %s \"%s\": scale that\n",
			name, w->owner_kind, w->owner_name);
		pp_workload_free(w);
		return CLI_EXIT_FAILURE;
	}
	pp_workload_free(w);
	pp_error_free(&err);
	if (pp_workload_scale(kind, ns, name, (int32_t)n, &err) < 0) {
		if (strstr(err->msg, "not found") != NULL)
			fprintf(stderr, "Error from server (NotFound): %s\n", err->msg);
		else
			cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	cleanup_free char *res = pp_workload_resource(kind);
	printf("%s/%s scaled\n", res, name);
	return 0;
}

/* ---- rollout ---- */

/* kubectl's DeploymentStatusViewer: the message and whether it is done. */
static bool rollout_message(struct json_object *obj, const struct pp_workload *w, char *out,
			    size_t size, bool *failed)
{
	struct json_object *st = cli_jget(obj, "status");
	int64_t gen = jint(cli_jget(obj, "metadata"), "generation");
	int64_t observed = jint(st, "observedGeneration");
	int64_t updated = jint(st, "updatedReplicas"), replicas = jint(st, "replicas"),
		available = jint(st, "availableReplicas");
	const char *n = w->name;
	if (observed < gen) {
		snprintf(out, size, "Waiting for deployment spec update to be observed...");
		return false;
	}
	struct json_object *conds = cli_jget(st, "conditions");
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++)
		if (strcmp(cli_js(json_object_array_get_idx(conds, i), "reason"),
			   "ProgressDeadlineExceeded") == 0) {
			snprintf(out, size, "deployment \"%s\" exceeded its progress deadline", n);
			*failed = true;
			return false;
		}
	if (updated < w->replicas) {
		snprintf(out, size,
			 "Waiting for deployment \"%s\" rollout to finish: %lld out of %d new "
			 "replicas have been updated...",
			 n, (long long)updated, w->replicas);
		return false;
	}
	if (replicas > updated) {
		snprintf(out, size,
			 "Waiting for deployment \"%s\" rollout to finish: %lld old replicas are "
			 "pending termination...",
			 n, (long long)(replicas - updated));
		return false;
	}
	if (available < updated) {
		snprintf(out, size,
			 "Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated "
			 "replicas are available...",
			 n, (long long)available, (long long)updated);
		return false;
	}
	snprintf(out, size, "deployment \"%s\" successfully rolled out", n);
	return true;
}

static int rollout_status(const char *ns, const char *name, long timeout_s)
{
	cleanup_error struct pp_error *err = NULL;
	cleanup_free char *dir = pp_workload_dir(PP_WL_DEPLOYMENT, ns, &err);
	if (dir == NULL) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	cleanup_close int ino = inotify_init1(IN_CLOEXEC);
	if (ino < 0 || inotify_add_watch(ino, dir, IN_MOVED_TO | IN_DELETE) < 0) {
		perror("peapod: inotify");
		return CLI_EXIT_FAILURE;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char last[512] = "";
	for (;;) {
		struct pp_workload *w = NULL;
		struct json_object *obj = NULL;
		if (pp_workload_get(PP_WL_DEPLOYMENT, ns, name, &w, &obj, &err) < 0) {
			if (strstr(err->msg, "not found") != NULL)
				fprintf(stderr, "Error from server (NotFound): %s\n", err->msg);
			else
				cli_print_error(err);
			return CLI_EXIT_FAILURE;
		}
		char msg[512];
		bool failed = false;
		bool done = rollout_message(obj, w, msg, sizeof(msg), &failed);
		pp_workload_free(w);
		json_object_put(obj);
		if (failed) {
			fprintf(stderr, "error: %s\n", msg);
			return CLI_EXIT_FAILURE;
		}
		if (strcmp(msg, last) != 0) {
			printf("%s\n", msg);
			fflush(stdout);
			snprintf(last, sizeof(last), "%s", msg);
		}
		if (done)
			return 0;
		int wait_ms = -1;
		if (timeout_s > 0) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long el =
			    (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (el >= timeout_s * 1000) {
				fprintf(stderr, "error: timed out waiting for the condition\n");
				return CLI_EXIT_FAILURE;
			}
			wait_ms = (int)(timeout_s * 1000 - el);
		}
		struct pollfd p = {.fd = ino, .events = POLLIN};
		if (poll(&p, 1, wait_ms) > 0) {
			char buf[4096];
			(void)!read(ino, buf, sizeof(buf));
		}
	}
}

const struct option cli_opts_rollout[] = {{"namespace", required_argument, NULL, 'n'},
					  {"timeout", required_argument, NULL, 't'},
					  {NULL, 0, NULL, 0}};
const char cli_shorts_rollout[] = "n:";

int cmd_rollout(int argc, char **argv)
{
	const char *ns = NULL;
	long timeout_s = ROLLOUT_TIMEOUT_DEFAULT_S;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_rollout, cli_opts_rollout, NULL)) != -1) {
		if (c == 'n') {
			ns = optarg;
		} else if (c == 't') {
			char *end = NULL;
			timeout_s = strtol(optarg, &end, 10);
			if (end == optarg ||
			    (*end != '\0' && strcmp(end, "s") != 0 && strcmp(end, "m") != 0)) {
				fprintf(stderr, "error: bad --timeout \"%s\"\n", optarg);
				return CLI_EXIT_USAGE;
			}
			if (strcmp(end, "m") == 0)
				timeout_s *= 60;
		} else {
			return CLI_EXIT_USAGE;
		}
	}
	int kind = -1;
	const char *name = NULL;
	const char *verb = optind < argc ? argv[optind] : "";
	if (optind + 1 < argc && kind_and_name(argv[optind + 1], &kind, &name) == 0 &&
	    name == NULL && optind + 2 < argc)
		name = argv[optind + 2];
	if (kind != PP_WL_DEPLOYMENT || name == NULL ||
	    (strcmp(verb, "status") != 0 && strcmp(verb, "restart") != 0)) {
		fprintf(stderr, "usage: peapod rollout status|restart deployment/NAME [-n NS] "
				"[--timeout N[s|m]]\n");
		return CLI_EXIT_USAGE;
	}
	ns = cli_namespace(ns);
	(void)pp_workloads_resume(NULL);
	if (strcmp(verb, "status") == 0)
		return rollout_status(ns, name, timeout_s);
	cleanup_error struct pp_error *err = NULL;
	if (pp_workload_restart(kind, ns, name, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	printf("deployment.apps/%s restarted\n", name);
	return 0;
}
