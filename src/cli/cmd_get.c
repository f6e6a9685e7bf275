/* peapod get pods and describe pod: kubectl's columns and views. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "ops/events.h"
#include "ops/ops.h"
#include "util/cleanup.h"

enum output { OUT_TABLE, OUT_WIDE, OUT_JSON, OUT_YAML, OUT_NAME };

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);
	return v ? json_object_get_string(v) : NULL;
}

/* For printing: "" when absent. */
static const char *js(struct json_object *o, const char *key)
{
	const char *s = jstr(o, key);
	return s ? s : "";
}

/* kubectl's HumanDuration. */
void cli_human_age(const char *ts, char *out, size_t size)
{
	struct tm tm = {0};
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL) {
		snprintf(out, size, "<unknown>");
		return;
	}
	long long s = (long long)(time(NULL) - timegm(&tm));
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, size, "%llds", s);
	else if (s < 600)
		snprintf(out, size, s % 60 ? "%lldm%llds" : "%lldm", s / 60, s % 60);
	else if (s < 3 * 3600)
		snprintf(out, size, "%lldm", s / 60);
	else if (s < 8 * 3600)
		snprintf(out, size, "%lldh%lldm", s / 3600, s / 60 % 60);
	else if (s < 48 * 3600)
		snprintf(out, size, "%lldh", s / 3600);
	else
		snprintf(out, size, "%lldd", s / 86400);
}

/* The reason of a terminated state: its reason, else Signal:N / ExitCode:N. */
static void term_reason(struct json_object *t, char *out, size_t size)
{
	const char *r = jstr(t, "reason");
	struct json_object *sig = jget(t, "signal");
	if (r != NULL)
		snprintf(out, size, "%s", r);
	else if (sig != NULL)
		snprintf(out, size, "Signal:%d", json_object_get_int(sig));
	else
		snprintf(out, size, "ExitCode:%d", json_object_get_int(jget(t, "exitCode")));
}

static bool is_sidecar(struct json_object *pod, const char *name)
{
	struct json_object *list = jget(jget(pod, "peapod"), "sidecars");
	for (size_t i = 0; list && name && i < json_object_array_length(list); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), name) == 0)
			return true;
	return false;
}

/* The STATUS column, as kubectl's printPod computes it. */
static void pod_status_text(struct json_object *pod, char *out, size_t size)
{
	struct json_object *st = jget(pod, "status");
	const char *phase = jstr(st, "phase");
	const char *reason = jstr(st, "reason");
	snprintf(out, size, "%s",
		 reason && strcmp(reason, "SupervisorDied") != 0 ? reason
		 : phase					 ? phase
								 : "Unknown");
	if (phase && strcmp(phase, "Unknown") == 0) {
		snprintf(out, size, "Unknown");
		return;
	}
	struct json_object *inits = jget(st, "initContainerStatuses");
	size_t n_init = inits ? json_object_array_length(inits) : 0;
	bool initializing = false;
	for (size_t i = 0; i < n_init; i++) {
		struct json_object *c = json_object_array_get_idx(inits, i);
		struct json_object *state = jget(c, "state"), *t = jget(state, "terminated");
		struct json_object *w = jget(state, "waiting");
		char r[64];
		if (t && json_object_get_int(jget(t, "exitCode")) == 0)
			continue;
		if (jget(state, "running") && is_sidecar(pod, jstr(c, "name")))
			continue; /* a started sidecar */
		initializing = true;
		if (t) {
			term_reason(t, r, sizeof(r));
			snprintf(out, size, "Init:%s", r);
		} else if (w && jstr(w, "reason") && strcmp(jstr(w, "reason"), "PodInitializing")) {
			snprintf(out, size, "Init:%s", js(w, "reason"));
		} else {
			snprintf(out, size, "Init:%zu/%zu", i, n_init);
		}
		break;
	}
	if (!initializing) {
		struct json_object *cs = jget(st, "containerStatuses");
		bool running = false;
		for (size_t k = cs ? json_object_array_length(cs) : 0; k-- > 0;) {
			struct json_object *state = jget(json_object_array_get_idx(cs, k), "state");
			struct json_object *w = jget(state, "waiting"),
					   *t = jget(state, "terminated");
			if (w && jstr(w, "reason"))
				snprintf(out, size, "%s", js(w, "reason"));
			else if (t)
				term_reason(t, out, size);
			else if (jget(state, "running"))
				running = true;
		}
		if (running && strcmp(out, "Completed") == 0)
			snprintf(out, size, "Running");
	}
	/* Not kubectl's: a frozen pod (peapod pause), as podman shows it. */
	if (json_object_get_boolean(jget(jget(pod, "peapod"), "paused")))
		snprintf(out, size, "Paused");
	if (jget(jget(pod, "metadata"), "deletionTimestamp") &&
	    !json_object_get_boolean(jget(jget(pod, "peapod"), "finished")))
		snprintf(out, size, "Terminating");
}

static void ready_and_restarts(struct json_object *pod, int *ready, int *total, int *restarts)
{
	struct json_object *st = jget(pod, "status");
	*ready = *total = *restarts = 0;
	const char *lists[] = {"initContainerStatuses", "containerStatuses"};
	for (size_t l = 0; l < 2; l++) {
		struct json_object *cs = jget(st, lists[l]);
		for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
			struct json_object *c = json_object_array_get_idx(cs, i);
			*restarts += json_object_get_int(jget(c, "restartCount"));
			/* Of the init containers, only sidecars count. */
			if (l == 0 && !is_sidecar(pod, jstr(c, "name")))
				continue;
			(*total)++;
			*ready += json_object_get_boolean(jget(c, "ready"));
		}
	}
}

/* kubectl's NODE: spec.nodeName, which a pod run here does not need: this host. */
static void node_of(const struct pp_pod_view *v, char *node, size_t size)
{
	const char *n = jstr(jget(v->obj, "spec"), "nodeName");
	if (n != NULL && *n != '\0') {
		snprintf(node, size, "%s", n);
		return;
	}
	node[0] = '\0';
	gethostname(node, size - 1);
	node[size - 1] = '\0';
}

/* kubectl's READINESS GATES: <none>, or how many of spec.readinessGates
 * have their condition True in status.conditions. */
static void readiness_gates(const struct pp_pod_view *v, char *out, size_t size)
{
	struct json_object *gates = jget(jget(v->obj, "spec"), "readinessGates");
	struct json_object *conds = jget(jget(v->obj, "status"), "conditions");
	size_t n = gates && json_object_is_type(gates, json_type_array)
		       ? json_object_array_length(gates)
		       : 0;
	if (n == 0) {
		snprintf(out, size, "<none>");
		return;
	}
	size_t ok = 0;
	for (size_t i = 0; i < n; i++) {
		const char *type = jstr(json_object_array_get_idx(gates, i), "conditionType");
		for (size_t j = 0; type && conds && json_object_is_type(conds, json_type_array) &&
				   j < json_object_array_length(conds);
		     j++) {
			struct json_object *c = json_object_array_get_idx(conds, j);
			const char *t = jstr(c, "type"), *st = jstr(c, "status");
			if (t && st && strcmp(t, type) == 0 && strcmp(st, "True") == 0) {
				ok++;
				break;
			}
		}
	}
	snprintf(out, size, "%zu/%zu", ok, n);
}

#define NODE_MAX 256

static void print_row(const struct pp_pod_view *v, enum output out, int node_width)
{
	char status[128], age[32];
	int ready, total, restarts;
	pod_status_text(v->obj, status, sizeof(status));
	ready_and_restarts(v->obj, &ready, &total, &restarts);
	cli_human_age(jstr(jget(v->obj, "metadata"), "creationTimestamp"), age, sizeof(age));
	char rd[32];
	snprintf(rd, sizeof(rd), "%d/%d", ready, total);
	printf("%-24s %-7s %-20s %-9d %s", v->name, rd, status, restarts, age);
	if (out == OUT_WIDE) {
		const char *ip = jstr(jget(v->obj, "status"), "podIP");
		const char *nominated = jstr(jget(v->obj, "status"), "nominatedNodeName");
		char node[NODE_MAX], gates[64];
		node_of(v, node, sizeof(node));
		readiness_gates(v, gates, sizeof(gates));
		printf("%*s%-16s %-*s   %-16s %s", (int)(6 - strlen(age) > 0 ? 6 - strlen(age) : 1),
		       "", ip ? ip : "<none>", node_width, node,
		       nominated && *nominated ? nominated : "<none>", gates);
	}
	printf("\n");
}

static int parse_output(const char *o, enum output *out)
{
	static const char *const names[] = {"", "wide", "json", "yaml", "name"};
	for (size_t i = 1; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(o, names[i]) == 0) {
			*out = (enum output)i;
			return 0;
		}
	fprintf(stderr, "peapod get: unknown output format \"%s\" (wide, json, yaml, name)\n", o);
	return -1;
}

static int print_pods(struct pp_pod_view *views, size_t n, enum output out, bool single)
{
	if (out == OUT_JSON || out == OUT_YAML) {
		struct json_object *doc;
		if (single) {
			doc = json_object_get(views[0].obj);
		} else {
			doc = json_object_new_object();
			json_object_object_add(doc, "apiVersion", json_object_new_string("v1"));
			json_object_object_add(doc, "kind", json_object_new_string("List"));
			struct json_object *items = json_object_new_array();
			for (size_t i = 0; i < n; i++)
				json_object_array_add(items, json_object_get(views[i].obj));
			json_object_object_add(doc, "items", items);
		}
		if (out == OUT_JSON)
			printf("%s\n", json_object_to_json_string_ext(
					   doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			cli_print_yaml(doc);
		json_object_put(doc);
		return 0;
	}
	if (out == OUT_NAME) {
		for (size_t i = 0; i < n; i++)
			printf("pod/%s\n", views[i].name);
		return 0;
	}
	if (n == 0)
		return 0;
	int node_width = (int)strlen("NODE");
	for (size_t i = 0; out == OUT_WIDE && i < n; i++) {
		char node[NODE_MAX];
		node_of(&views[i], node, sizeof(node));
		if ((int)strlen(node) > node_width)
			node_width = (int)strlen(node);
	}
	printf("%-24s %-7s %-20s %-9s %s", "NAME", "READY", "STATUS", "RESTARTS", "AGE");
	if (out == OUT_WIDE)
		printf("   %-16s %-*s   %-16s %s", "IP", node_width, "NODE", "NOMINATED NODE",
		       "READINESS GATES");
	printf("\n");
	for (size_t i = 0; i < n; i++)
		print_row(&views[i], out, node_width);
	return 0;
}

int cmd_get(int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
						 {"namespace", required_argument, NULL, 'n'},
						 {"all-namespaces", no_argument, NULL, 'A'},
						 {NULL, 0, NULL, 0}};
	const char *ns = NULL, *format = NULL;
	bool all = false;
	enum output out = OUT_TABLE;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:n:A", longopts, NULL)) != -1) {
		if (c == 'o')
			format = optarg;
		if (c == 'o' && parse_output(optarg, &out) == 0)
			continue;
		if (c == 'n')
			ns = optarg;
		else if (c == 'A')
			all = true;
		else
			return CLI_EXIT_USAGE;
	}
	if (optind < argc && cli_object_kind(argv[optind]) >= 0)
		return cli_get_objects(cli_object_kind(argv[optind]), argv + optind + 1,
				       argc - optind - 1, format, ns, all);
	if (optind >= argc || (strcmp(argv[optind], "pods") && strcmp(argv[optind], "pod") &&
			       strcmp(argv[optind], "po"))) {
		fprintf(
		    stderr,
		    "usage: peapod get pods|configmaps|secrets [NAME...] [-o wide|json|yaml|name] "
		    "[-n NS|-A]\n");
		return CLI_EXIT_USAGE;
	}
	optind++;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	int status = 0;
	bool single = argc - optind == 1;
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			views = xrealloc(views, sizeof(*views) * (n + 1));
			if (pp_pod_view_load(cli_namespace(ns), cli_pod_name(argv[i]), &views[n],
					     &err) < 0) {
				cli_print_error(err);
				status = CLI_EXIT_FAILURE;
				continue;
			}
			n++;
		}
	} else {
		if (pp_pod_views_list(all ? NULL : cli_namespace(ns), &views, &n, &err) < 0) {
			cli_print_error(err);
			return CLI_EXIT_FAILURE;
		}
		if (n == 0 && out == OUT_TABLE)
			fprintf(stderr, "No resources found in %s namespace.\n",
				all ? "any" : cli_namespace(ns));
	}
	if (out == OUT_JSON || out == OUT_YAML || out == OUT_WIDE)
		for (size_t i = 0; i < n; i++)
			pp_pod_view_attach_spec(&views[i]);
	if (n > 0 || !single)
		print_pods(views, n, out, single && n == 1);
	pp_pod_views_free(views, n);
	return status;
}

static void describe_state(const char *title, struct json_object *state)
{
	json_object_object_foreach(state, kind, detail)
	{
		char cap[32];
		snprintf(cap, sizeof(cap), "%s", kind);
		cap[0] = (char)(cap[0] - 'a' + 'A');
		printf("    %-16s %s\n", title, cap);
		json_object_object_foreach(detail, k, v)
		{
			char key[40];
			snprintf(key, sizeof(key), "%s:", k);
			key[0] = (char)(key[0] - 'a' + 'A');
			printf("      %-14s %s\n", key, json_object_get_string(v));
		}
	}
}

static void describe_containers(struct json_object *st, const char *list, const char *title)
{
	struct json_object *cs = jget(st, list);
	if (cs == NULL || json_object_array_length(cs) == 0)
		return;
	printf("%s:\n", title);
	for (size_t i = 0; i < json_object_array_length(cs); i++) {
		struct json_object *c = json_object_array_get_idx(cs, i);
		printf("  %s:\n", js(c, "name"));
		printf("    Container ID:    %s\n",
		       jstr(c, "containerID") ? jstr(c, "containerID") : "");
		printf("    Image:           %s\n", js(c, "image"));
		printf("    Image ID:        %s\n", js(c, "imageID"));
		describe_state("State:", jget(c, "state"));
		struct json_object *last = jget(c, "lastState");
		if (last && json_object_object_length(last) > 0)
			describe_state("Last State:", last);
		printf("    Ready:           %s\n",
		       json_object_get_boolean(jget(c, "ready")) ? "True" : "False");
		printf("    Restart Count:   %d\n", json_object_get_int(jget(c, "restartCount")));
	}
}

static void event_row(void *ctx, const struct pp_pod_event *e)
{
	fprintf(ctx, "  %-8s %-18s %-32s %s\n", e->type ? e->type : "", e->reason ? e->reason : "",
		e->time ? e->time : "", e->message ? e->message : "");
}

static void describe_events(const char *uid)
{
	char *rows = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&rows, &len);
	long offset = 0;
	int r = f ? pp_pod_events_read(uid, &offset, event_row, f, NULL) : -1;
	if (f)
		fclose(f);
	printf("Events:\n");
	if (r < 0)
		printf("  <none>\n");
	else
		printf("  %-8s %-18s %-32s %s\n%s", "Type", "Reason", "Time", "Message", rows);
	free(rows);
}

/* describe configmap|secret NAME [-n NS] */
static int describe_object(int argc, char **argv)
{
	static const struct option longopts[] = {{"namespace", required_argument, NULL, 'n'},
						 {NULL, 0, NULL, 0}};
	const char *ns = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		if (c != 'n')
			return CLI_EXIT_USAGE;
		ns = optarg;
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "usage: peapod describe configmap|secret NAME [-n NAMESPACE]\n");
		return CLI_EXIT_USAGE;
	}
	return cli_describe_object(cli_object_kind(argv[optind]), argv[optind + 1], ns);
}

int cmd_describe(int argc, char **argv)
{
	/* The first word that is no flag nor a flag's value: the resource. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--namespace") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] != '-') {
			if (cli_object_kind(argv[i]) >= 0)
				return describe_object(argc, argv);
			break;
		}
	}
	struct pp_pod_view v;
	int ret = cli_view_one(argc, argv, "peapod describe pod NAME [-n NAMESPACE]", &v);
	if (ret != 0)
		return ret;
	struct json_object *meta = jget(v.obj, "metadata"), *st = jget(v.obj, "status");
	printf("Name:             %s\n", v.name);
	printf("Namespace:        %s\n", v.ns);
	printf("UID:              %s\n", v.uid);
	printf("Start Time:       %s\n", jstr(st, "startTime") ? jstr(st, "startTime") : "<none>");
	printf("Status:           %s\n", js(st, "phase"));
	if (jstr(st, "reason"))
		printf("Reason:           %s\n", js(st, "reason"));
	if (jstr(st, "message"))
		printf("Message:          %s\n", js(st, "message"));
	printf("IP:               %s\n", jstr(st, "podIP") ? jstr(st, "podIP") : "<none>");
	printf("QoS Class:        %s\n", jstr(st, "qosClass") ? jstr(st, "qosClass") : "<none>");
	if (jget(meta, "deletionTimestamp"))
		printf("Terminating since: %s\n", js(meta, "deletionTimestamp"));
	if (json_object_get_boolean(jget(jget(v.obj, "peapod"), "paused")))
		printf("Paused:           True (peapod unpause %s)\n", v.name);
	describe_containers(st, "initContainerStatuses", "Init Containers");
	describe_containers(st, "containerStatuses", "Containers");
	describe_containers(st, "ephemeralContainerStatuses", "Ephemeral Containers");
	struct json_object *conds = jget(st, "conditions");
	if (conds) {
		printf("Conditions:\n  %-18s %s\n", "Type", "Status");
		for (size_t i = 0; i < json_object_array_length(conds); i++) {
			struct json_object *k = json_object_array_get_idx(conds, i);
			printf("  %-18s %s\n", js(k, "type"), js(k, "status"));
		}
	}
	describe_events(v.uid);
	pp_pod_view_free(&v);
	return 0;
}
