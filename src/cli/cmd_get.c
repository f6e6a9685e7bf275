/* peapod get: kubectl's columns and output formats over the pod objects. */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "controller/controller.h"
#include "manifest/workload.h"
#include "ops/ops.h"
#include "util/cleanup.h"
#include "util/jsonpath.h"

enum output { OUT_TABLE, OUT_WIDE, OUT_JSON, OUT_YAML, OUT_NAME, OUT_JSONPATH, OUT_CUSTOM };

/* The reason of a terminated state: its reason, else Signal:N / ExitCode:N. */
static void term_reason(struct json_object *t, char *out, size_t size)
{
	const char *r = cli_jstr(t, "reason");
	struct json_object *sig = cli_jget(t, "signal");
	if (r != NULL)
		snprintf(out, size, "%s", r);
	else if (sig != NULL)
		snprintf(out, size, "Signal:%d", json_object_get_int(sig));
	else
		snprintf(out, size, "ExitCode:%d", json_object_get_int(cli_jget(t, "exitCode")));
}

static bool is_sidecar(struct json_object *pod, const char *name)
{
	struct json_object *list = cli_jget(cli_jget(pod, "peapod"), "sidecars");
	for (size_t i = 0; list && name && i < json_object_array_length(list); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), name) == 0)
			return true;
	return false;
}

/* The STATUS column, as kubectl's printPod computes it. */
static void pod_status_text(struct json_object *pod, char *out, size_t size)
{
	struct json_object *st = cli_jget(pod, "status");
	const char *phase = cli_jstr(st, "phase");
	const char *reason = cli_jstr(st, "reason");
	snprintf(out, size, "%s",
		 reason && strcmp(reason, "SupervisorDied") != 0 ? reason
		 : phase					 ? phase
								 : "Unknown");
	if (phase && strcmp(phase, "Unknown") == 0) {
		snprintf(out, size, "Unknown");
		return;
	}
	struct json_object *inits = cli_jget(st, "initContainerStatuses");
	size_t n_init = inits ? json_object_array_length(inits) : 0;
	bool initializing = false;
	for (size_t i = 0; i < n_init; i++) {
		struct json_object *c = json_object_array_get_idx(inits, i);
		struct json_object *state = cli_jget(c, "state"),
				   *t = cli_jget(state, "terminated");
		struct json_object *w = cli_jget(state, "waiting");
		char r[64];
		if (t && json_object_get_int(cli_jget(t, "exitCode")) == 0)
			continue;
		if (cli_jget(state, "running") && is_sidecar(pod, cli_jstr(c, "name")))
			continue; /* a started sidecar */
		initializing = true;
		if (t) {
			term_reason(t, r, sizeof(r));
			snprintf(out, size, "Init:%s", r);
		} else if (w && cli_jstr(w, "reason") &&
			   strcmp(cli_jstr(w, "reason"), "PodInitializing")) {
			snprintf(out, size, "Init:%s", cli_js(w, "reason"));
		} else {
			snprintf(out, size, "Init:%zu/%zu", i, n_init);
		}
		break;
	}
	if (!initializing) {
		struct json_object *cs = cli_jget(st, "containerStatuses");
		bool running = false;
		for (size_t k = cs ? json_object_array_length(cs) : 0; k-- > 0;) {
			struct json_object *state =
			    cli_jget(json_object_array_get_idx(cs, k), "state");
			struct json_object *w = cli_jget(state, "waiting"),
					   *t = cli_jget(state, "terminated");
			if (w && cli_jstr(w, "reason"))
				snprintf(out, size, "%s", cli_js(w, "reason"));
			else if (t)
				term_reason(t, out, size);
			else if (cli_jget(state, "running"))
				running = true;
		}
		if (running && strcmp(out, "Completed") == 0)
			snprintf(out, size, "Running");
	}
	/* Not kubectl's: a frozen pod (peapod pause), as podman shows it. */
	if (json_object_get_boolean(cli_jget(cli_jget(pod, "peapod"), "paused")))
		snprintf(out, size, "Paused");
	if (cli_jget(cli_jget(pod, "metadata"), "deletionTimestamp") &&
	    !json_object_get_boolean(cli_jget(cli_jget(pod, "peapod"), "finished")))
		snprintf(out, size, "Terminating");
}

static void ready_and_restarts(struct json_object *pod, int *ready, int *total, int *restarts)
{
	struct json_object *st = cli_jget(pod, "status");
	*ready = *total = *restarts = 0;
	const char *lists[] = {"initContainerStatuses", "containerStatuses"};
	for (size_t l = 0; l < 2; l++) {
		struct json_object *cs = cli_jget(st, lists[l]);
		for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
			struct json_object *c = json_object_array_get_idx(cs, i);
			*restarts += json_object_get_int(cli_jget(c, "restartCount"));
			/* Of the init containers, only sidecars count. */
			if (l == 0 && !is_sidecar(pod, cli_jstr(c, "name")))
				continue;
			(*total)++;
			*ready += json_object_get_boolean(cli_jget(c, "ready"));
		}
	}
}

/* kubectl's NODE: spec.nodeName, which a pod run here does not need: this host. */
static void node_of(const struct pp_pod_view *v, char *node, size_t size)
{
	const char *n = cli_jstr(cli_jget(v->obj, "spec"), "nodeName");
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
	struct json_object *gates = cli_jget(cli_jget(v->obj, "spec"), "readinessGates");
	struct json_object *conds = cli_jget(cli_jget(v->obj, "status"), "conditions");
	size_t n = gates && json_object_is_type(gates, json_type_array)
		       ? json_object_array_length(gates)
		       : 0;
	if (n == 0) {
		snprintf(out, size, "<none>");
		return;
	}
	size_t ok = 0;
	for (size_t i = 0; i < n; i++) {
		const char *type = cli_jstr(json_object_array_get_idx(gates, i), "conditionType");
		for (size_t j = 0; type && conds && json_object_is_type(conds, json_type_array) &&
				   j < json_object_array_length(conds);
		     j++) {
			struct json_object *c = json_object_array_get_idx(conds, j);
			const char *t = cli_jstr(c, "type"), *st = cli_jstr(c, "status");
			if (t && st && strcmp(t, type) == 0 && strcmp(st, "True") == 0) {
				ok++;
				break;
			}
		}
	}
	snprintf(out, size, "%zu/%zu", ok, n);
}

#define NODE_MAX 256
#define MAX_COLUMNS 64

struct column {
	char *header;
	struct pp_jsonpath *path;
};

/* What get prints and how: -o, --no-headers, --show-labels, -L, --sort-by,
 * -w/--watch/--watch-only, -l/--field-selector. */
struct get_opts {
	enum output out;
	const char *format;	      /* -o as given, NULL: none */
	struct pp_jsonpath *jsonpath; /* -o jsonpath= */
	struct column cols[MAX_COLUMNS];
	size_t n_cols; /* -o custom-columns= */
	struct pp_jsonpath *sort_by;
	bool no_headers, show_labels, watch, watch_only;
	char *label_cols[MAX_COLUMNS]; /* -L */
	size_t n_label_cols;
	int node_width, ns_width; /* ns_width: -A's NAMESPACE column */
	int label_width[MAX_COLUMNS];
	bool header_done;
	struct cli_select sel;
};

static const char *label_value(const struct pp_pod_view *v, const char *key)
{
	const char *s = cli_jstr(cli_jget(cli_jget(v->obj, "metadata"), "labels"), key);
	return s ? s : "";
}

/* --show-labels: "a=b,c=d" sorted by key, or <none>. */
static char *labels_text(const struct pp_pod_view *v)
{
	struct json_object *labels = cli_jget(cli_jget(v->obj, "metadata"), "labels");
	const char *keys[256];
	size_t n = 0;
	if (labels && json_object_is_type(labels, json_type_object)) {
		json_object_object_foreach(labels, k, val)
		{
			(void)val;
			if (n < 256)
				keys[n++] = k;
		}
	}
	if (n == 0)
		return xstrdup("<none>");
	for (size_t i = 1; i < n; i++) /* few: insertion sort */
		for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			const char *t = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", keys[i], cli_jstr(labels, keys[i]));
	fclose(f);
	return text;
}

/* -L a/b: the column "B" */
static void label_header(const char *key, char *out, size_t size)
{
	const char *slash = strrchr(key, '/');
	snprintf(out, size, "%s", slash ? slash + 1 : key);
	for (char *c = out; *c; c++)
		*c = (char)toupper((unsigned char)*c);
}

/* One row of the pods table; with_age false leaves AGE out (what get -w
 * compares to tell a change). */
static void write_row(FILE *f, const struct pp_pod_view *v, const struct get_opts *o, bool with_age)
{
	char status[128], age[32] = "";
	int ready, total, restarts;
	pod_status_text(v->obj, status, sizeof(status));
	ready_and_restarts(v->obj, &ready, &total, &restarts);
	if (with_age)
		cli_human_age(cli_jstr(cli_jget(v->obj, "metadata"), "creationTimestamp"), age,
			      sizeof(age));
	char rd[32];
	snprintf(rd, sizeof(rd), "%d/%d", ready, total);
	if (o->sel.all_ns)
		fprintf(f, "%-*s   ", o->ns_width, v->ns);
	fprintf(f, "%-24s %-7s %-20s %-9d %-6s", v->name, rd, status, restarts, age);
	if (o->out == OUT_WIDE) {
		const char *ip = cli_jstr(cli_jget(v->obj, "status"), "podIP");
		const char *nominated = cli_jstr(cli_jget(v->obj, "status"), "nominatedNodeName");
		char node[NODE_MAX], gates[64];
		node_of(v, node, sizeof(node));
		readiness_gates(v, gates, sizeof(gates));
		fprintf(f, "%-16s %-*s   %-16s %-15s", ip ? ip : "<none>", o->node_width, node,
			nominated && *nominated ? nominated : "<none>", gates);
	}
	for (size_t i = 0; i < o->n_label_cols; i++)
		fprintf(f, "   %-*s", o->label_width[i], label_value(v, o->label_cols[i]));
	if (o->show_labels) {
		cleanup_free char *l = labels_text(v);
		fprintf(f, "   %s", l);
	}
}

static void print_header(struct get_opts *o)
{
	if (o->no_headers || o->header_done)
		return;
	o->header_done = true;
	char line[1024];
	FILE *f = fmemopen(line, sizeof(line), "w");
	if (o->sel.all_ns)
		fprintf(f, "%-*s   ", o->ns_width, "NAMESPACE");
	fprintf(f, "%-24s %-7s %-20s %-9s %-6s", "NAME", "READY", "STATUS", "RESTARTS", "AGE");
	if (o->out == OUT_WIDE)
		fprintf(f, "%-16s %-*s   %-16s %-15s", "IP", o->node_width, "NODE",
			"NOMINATED NODE", "READINESS GATES");
	for (size_t i = 0; i < o->n_label_cols; i++) {
		char h[128];
		label_header(o->label_cols[i], h, sizeof(h));
		fprintf(f, "   %-*s", o->label_width[i], h);
	}
	if (o->show_labels)
		fprintf(f, "   LABELS");
	fputc('\0', f);
	fclose(f);
	line[sizeof(line) - 1] = '\0';
	/* trailing blanks of the padded last column */
	for (size_t n = strlen(line); n > 0 && line[n - 1] == ' '; n--)
		line[n - 1] = '\0';
	printf("%s\n", line);
}

static void print_row(const struct pp_pod_view *v, const struct get_opts *o)
{
	char *row = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&row, &len);
	write_row(f, v, o, true);
	fclose(f);
	while (len > 0 && row[len - 1] == ' ')
		row[--len] = '\0';
	printf("%s\n", row);
	free(row);
}

static void table_widths(struct pp_pod_view *views, size_t n, struct get_opts *o)
{
	o->node_width = (int)strlen("NODE");
	o->ns_width = (int)strlen("NAMESPACE");
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(views[i].ns) > o->ns_width)
			o->ns_width = (int)strlen(views[i].ns);
	for (size_t i = 0; o->out == OUT_WIDE && i < n; i++) {
		char node[NODE_MAX];
		node_of(&views[i], node, sizeof(node));
		if ((int)strlen(node) > o->node_width)
			o->node_width = (int)strlen(node);
	}
	for (size_t c = 0; c < o->n_label_cols; c++) {
		char h[128];
		label_header(o->label_cols[c], h, sizeof(h));
		o->label_width[c] = (int)strlen(h);
		for (size_t i = 0; i < n; i++) {
			int w = (int)strlen(label_value(&views[i], o->label_cols[c]));
			o->label_width[c] = w > o->label_width[c] ? w : o->label_width[c];
		}
	}
}

/* -o custom-columns: kubectl's tabwriter, columns 3 blanks apart. */
static void print_custom_columns(struct pp_pod_view *views, size_t n, const struct get_opts *o)
{
	size_t rows = n + 1;
	char **cells = xmalloc(sizeof(*cells) * rows * o->n_cols);
	int width[MAX_COLUMNS] = {0};
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < o->n_cols; c++) {
			char *cell = NULL;
			if (r == 0) {
				cell = xstrdup(o->cols[c].header);
			} else {
				size_t len = 0;
				FILE *f = open_memstream(&cell, &len);
				pp_jsonpath_print(o->cols[c].path, views[r - 1].obj, true, f, NULL);
				fclose(f);
				if (len == 0) {
					free(cell);
					cell = xstrdup("<none>");
				}
			}
			cells[r * o->n_cols + c] = cell;
			if ((int)strlen(cell) > width[c])
				width[c] = (int)strlen(cell);
		}
	for (size_t r = o->no_headers ? 1 : 0; r < rows; r++)
		for (size_t c = 0; c < o->n_cols; c++)
			printf(c + 1 < o->n_cols ? "%-*s   " : "%-*s\n",
			       c + 1 < o->n_cols ? width[c] : 0, cells[r * o->n_cols + c]);
	for (size_t i = 0; i < rows * o->n_cols; i++)
		free(cells[i]);
	free(cells);
}

static struct json_object *list_doc(struct pp_pod_view *views, size_t n, bool single)
{
	if (single)
		return json_object_get(views[0].obj);
	struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(doc, "kind", json_object_new_string("List"));
	struct json_object *items = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(items, json_object_get(views[i].obj));
	json_object_object_add(doc, "items", items);
	return doc;
}

static int print_pods(struct pp_pod_view *views, size_t n, struct get_opts *o, bool single)
{
	if (o->out == OUT_JSON || o->out == OUT_YAML || o->out == OUT_JSONPATH) {
		struct json_object *doc = list_doc(views, n, single);
		int r = 0;
		if (o->out == OUT_JSON) {
			printf("%s\n", json_object_to_json_string_ext(
					   doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		} else if (o->out == OUT_YAML) {
			cli_print_yaml(doc);
		} else {
			cleanup_error struct pp_error *err = NULL;
			r = pp_jsonpath_print(o->jsonpath, doc, false, stdout, &err);
			if (r < 0)
				fprintf(stderr, "error: error executing jsonpath: %s\n", err->msg);
		}
		json_object_put(doc);
		return r;
	}
	if (o->out == OUT_NAME) {
		for (size_t i = 0; i < n; i++)
			printf("pod/%s\n", views[i].name);
		return 0;
	}
	if (n == 0)
		return 0;
	if (o->out == OUT_CUSTOM) {
		print_custom_columns(views, n, o);
		return 0;
	}
	table_widths(views, n, o);
	print_header(o);
	for (size_t i = 0; i < n; i++)
		print_row(&views[i], o);
	return 0;
}

/* -o custom-columns=NAME:.metadata.name,PHASE:.status.phase */
static int parse_custom_columns(const char *spec, struct get_opts *o)
{
	cleanup_free char *copy = xstrdup(spec);
	char *save = NULL;
	for (char *col = strtok_r(copy, ",", &save); col; col = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(col, ':');
		if (colon == NULL || colon == col || colon[1] == '\0') {
			fprintf(stderr,
				"error: unexpected custom-columns spec: %s, expected "
				"<header>:<json-path-expr>\n",
				col);
			return -1;
		}
		if (o->n_cols == MAX_COLUMNS) {
			fprintf(stderr, "error: more than %d custom columns\n", MAX_COLUMNS);
			return -1;
		}
		*colon = '\0';
		cleanup_error struct pp_error *err = NULL;
		struct column *c = &o->cols[o->n_cols];
		if (pp_jsonpath_parse_relaxed(colon + 1, &c->path, &err) < 0) {
			fprintf(stderr, "error: %s\n", err->msg);
			return -1;
		}
		c->header = xstrdup(col);
		o->n_cols++;
	}
	if (o->n_cols == 0) {
		fprintf(stderr, "error: custom-columns format specified but no custom columns "
				"given\n");
		return -1;
	}
	return 0;
}

static int parse_output(const char *arg, struct get_opts *o)
{
	static const char *const names[] = {"", "wide", "json", "yaml", "name"};
	for (size_t i = 1; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(arg, names[i]) == 0) {
			o->out = (enum output)i;
			return 0;
		}
	cleanup_error struct pp_error *err = NULL;
	if (strncmp(arg, "jsonpath=", 9) == 0) {
		o->out = OUT_JSONPATH;
		if (pp_jsonpath_parse(arg + 9, &o->jsonpath, &err) == 0)
			return 0;
		fprintf(stderr, "error: %s\n", err->msg);
		return -1;
	}
	if (strncmp(arg, "custom-columns=", 15) == 0) {
		o->out = OUT_CUSTOM;
		return parse_custom_columns(arg + 15, o);
	}
	fprintf(stderr,
		"error: unable to match a printer suitable for the output format \"%s\", allowed "
		"formats are: custom-columns,json,jsonpath,name,wide,yaml\n",
		arg);
	return -1;
}

static int parse_label_columns(const char *arg, struct get_opts *o)
{
	cleanup_free char *copy = xstrdup(arg);
	char *save = NULL;
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		if (o->n_label_cols == MAX_COLUMNS)
			return -1;
		o->label_cols[o->n_label_cols++] = xstrdup(k);
	}
	return 0;
}

static void get_opts_free(struct get_opts *o)
{
	pp_jsonpath_free(o->jsonpath);
	pp_jsonpath_free(o->sort_by);
	for (size_t i = 0; i < o->n_cols; i++) {
		free(o->cols[i].header);
		pp_jsonpath_free(o->cols[i].path);
	}
	for (size_t i = 0; i < o->n_label_cols; i++)
		free(o->label_cols[i]);
}

static const struct pp_jsonpath *sort_key;

static int compare_views(const void *a, const void *b)
{
	struct json_object *x = pp_jsonpath_first(sort_key, ((const struct pp_pod_view *)a)->obj);
	struct json_object *y = pp_jsonpath_first(sort_key, ((const struct pp_pod_view *)b)->obj);
	if (x == NULL || y == NULL)
		return (x == NULL) - (y == NULL);
	bool xn = json_object_is_type(x, json_type_int) || json_object_is_type(x, json_type_double);
	bool yn = json_object_is_type(y, json_type_int) || json_object_is_type(y, json_type_double);
	if (xn && yn) {
		double d = json_object_get_double(x) - json_object_get_double(y);
		return d < 0 ? -1 : d > 0;
	}
	return strcmp(json_object_get_string(x), json_object_get_string(y));
}

/* The row as get -w compares it: the table row without AGE, or the object. */
static char *row_signature(const struct pp_pod_view *v, const struct get_opts *o)
{
	if (o->out != OUT_TABLE && o->out != OUT_WIDE && o->out != OUT_NAME && o->out != OUT_CUSTOM)
		return xstrdup(json_object_to_json_string(v->obj));
	char *row = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&row, &len);
	write_row(f, v, o, false);
	if (o->out == OUT_CUSTOM)
		for (size_t c = 0; c < o->n_cols; c++)
			pp_jsonpath_print(o->cols[c].path, v->obj, true, f, NULL);
	fclose(f);
	return row;
}

struct seen {
	char *key, *sig; /* ns/name, its last row */
	char *shown;	 /* what was printed for it last (the row, or the object) */
	bool present;	 /* in the latest listing */
};

/* Prints one pod as get -w does (show false: --watch-only's first listing,
 * not printed), and keeps its row (without the header) for when it goes. */
static char *print_watched(struct pp_pod_view *v, struct get_opts *o, bool show)
{
	bool table = o->out == OUT_TABLE || o->out == OUT_WIDE;
	if (table && show)
		print_header(o);
	char *buf = NULL;
	size_t len = 0;
	fflush(stdout);
	FILE *real = stdout, *mem = open_memstream(&buf, &len);
	if (mem == NULL)
		return NULL;
	stdout = mem; /* the printers write to stdout */
	if (table)
		print_row(v, o);
	else
		print_pods(v, 1, o, true);
	fclose(mem);
	stdout = real;
	if (show)
		fputs(buf, stdout);
	if (o->out == OUT_CUSTOM) { /* the row after the one header */
		char *last = len > 1 ? memrchr(buf, '\n', len - 1) : NULL;
		if (last != NULL)
			memmove(buf, last + 1, strlen(last + 1) + 1);
		o->no_headers = o->no_headers || show; /* one header, as kubectl */
	}
	return buf;
}

/* The pods gone since the last listing: their last row again, as kubectl
 * prints a deleted pod's row with its final status; then forgotten (one
 * made again with the name shows up as new). */
static void print_gone(struct seen *seen, size_t *n_seen, struct get_opts *o)
{
	size_t k = 0;
	for (size_t i = 0; i < *n_seen; i++) {
		if (!seen[i].present) {
			if (seen[i].shown != NULL && (o->out == OUT_TABLE || o->out == OUT_WIDE))
				print_header(o); /* --watch-only: maybe its first row */
			if (seen[i].shown != NULL)
				fputs(seen[i].shown, stdout);
			free(seen[i].key);
			free(seen[i].sig);
			free(seen[i].shown);
			continue;
		}
		seen[i].present = false;
		seen[k++] = seen[i];
	}
	*n_seen = k;
}

/* Lists the pods get shows: the names given, else those the selectors pick. */
static int load_views(struct get_opts *o, char **names, int n_names, struct pp_pod_view **views,
		      size_t *n, bool quiet)
{
	cleanup_error struct pp_error *err = NULL;
	int status = 0;
	*views = NULL;
	*n = 0;
	if (cli_select_given(&o->sel))
		return cli_select_pods(&o->sel, n_names, views, n);
	if (n_names > 0) {
		for (int i = 0; i < n_names; i++) {
			*views = xrealloc(*views, sizeof(**views) * (*n + 1));
			if (pp_pod_view_load(cli_namespace(o->sel.ns), cli_pod_name(names[i]),
					     &(*views)[*n], &err) < 0) {
				if (!quiet)
					cli_print_error(err);
				status = CLI_EXIT_FAILURE;
				continue;
			}
			pp_pod_view_attach_spec(&(*views)[*n]);
			(*n)++;
		}
		return status;
	}
	if (pp_pod_views_select(o->sel.all_ns ? NULL : cli_namespace(o->sel.ns), NULL, NULL, views,
				n, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

/* get -w: a row each time a pod's row changes, until interrupted. */
static int watch_pods(struct get_opts *o, char **names, int n_names, struct pp_pod_view *views,
		      size_t n)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_watch *w = NULL;
	if (pp_pod_watch_open(&w, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	struct seen *seen = NULL;
	size_t n_seen = 0;
	bool first = true;
	for (;;) {
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *key = xasprintf("%s/%s", views[i].ns, views[i].name);
			char *sig = row_signature(&views[i], o);
			size_t k = 0;
			while (k < n_seen && strcmp(seen[k].key, key) != 0)
				k++;
			if (k == n_seen) {
				seen = xrealloc(seen, sizeof(*seen) * (n_seen + 1));
				seen[n_seen++] = (struct seen){.key = xstrdup(key)};
			}
			seen[k].present = true;
			if (seen[k].sig != NULL && strcmp(seen[k].sig, sig) == 0) {
				free(sig);
				continue;
			}
			free(seen[k].sig);
			seen[k].sig = sig;
			free(seen[k].shown);
			seen[k].shown = print_watched(&views[i], o, !(first && o->watch_only));
		}
		print_gone(seen, &n_seen, o);
		first = false;
		fflush(stdout);
		pp_pod_views_free(views, n);
		views = NULL;
		n = 0;
		if (pp_pod_watch_next(w, &err) < 0)
			break;
		load_views(o, names, n_names, &views, &n, true);
	}
	cli_print_error(err);
	for (size_t i = 0; i < n_seen; i++) {
		free(seen[i].key);
		free(seen[i].sig);
		free(seen[i].shown);
	}
	free(seen);
	pp_pod_watch_free(w);
	return CLI_EXIT_FAILURE;
}

static int get_pods(struct get_opts *o, char **names, int n_names)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	int status = load_views(o, names, n_names, &views, &n, false);
	if (status == CLI_EXIT_USAGE)
		return status;
	bool single = n_names == 1;
	if (n == 0 && n_names == 0 && !o->watch && !o->watch_only &&
	    (o->out == OUT_TABLE || o->out == OUT_WIDE || o->out == OUT_CUSTOM))
		cli_no_resources(&o->sel);
	if (o->sort_by != NULL && n > 1) {
		sort_key = o->sort_by;
		qsort(views, n, sizeof(*views), compare_views);
	}
	if (o->watch || o->watch_only) {
		if (o->out == OUT_TABLE || o->out == OUT_WIDE)
			table_widths(views, n, o);
		return watch_pods(o, names, n_names, views, n);
	}
	if ((n > 0 || !single) && print_pods(views, n, o, single && n == 1) < 0)
		status = CLI_EXIT_FAILURE;
	pp_pod_views_free(views, n);
	return status;
}

/* ConfigMaps and Secrets (cmd_objects.c): their own table and -o json,
 * yaml, name; the pods' other flags are not theirs yet. */
static int get_objects(int kind, struct get_opts *o, char **names, int n_names)
{
	if (cli_select_given(&o->sel) || o->watch || o->watch_only || o->show_labels ||
	    o->n_label_cols > 0 || o->sort_by != NULL || o->no_headers || o->out == OUT_JSONPATH ||
	    o->out == OUT_CUSTOM || o->out == OUT_WIDE) {
		fprintf(stderr, "error: -l, --field-selector, -w, -o wide|jsonpath|custom-columns, "
				"--no-headers, --show-labels, -L and --sort-by are for pods only "
				"(for now)\n");
		return CLI_EXIT_USAGE;
	}
	return cli_get_objects(kind, names, n_names, o->format, o->sel.ns, o->sel.all_ns);
}

static int get_configmaps(struct get_opts *o, char **names, int n_names)
{
	return get_objects(cli_object_kind("configmaps"), o, names, n_names);
}

static int get_secrets(struct get_opts *o, char **names, int n_names)
{
	return get_objects(cli_object_kind("secrets"), o, names, n_names);
}

static int get_claims(struct get_opts *o, char **names, int n_names)
{
	return get_objects(cli_object_kind("pvc"), o, names, n_names);
}

static int get_volumes(struct get_opts *o, char **names, int n_names)
{
	return get_objects(cli_object_kind("pv"), o, names, n_names);
}

/* get all: the workload kinds with none say nothing (the pods say it) */
static bool listing_all;

static int get_workloads(int kind, struct get_opts *o, char **names, int n_names)
{
	if (cli_select_given(&o->sel) || o->watch || o->watch_only || o->show_labels ||
	    o->n_label_cols > 0 || o->sort_by != NULL || o->no_headers || o->out == OUT_CUSTOM ||
	    o->out == OUT_WIDE) {
		fprintf(stderr, "error: -l, --field-selector, -w, -o wide|custom-columns, "
				"--no-headers, --show-labels, -L and --sort-by are for pods only "
				"(for now)\n");
		return CLI_EXIT_USAGE;
	}
	return cli_get_workloads(kind, names, n_names, o->format, o->sel.ns, o->sel.all_ns,
				 listing_all);
}

static int get_deployments(struct get_opts *o, char **names, int n_names)
{
	return get_workloads(PP_WL_DEPLOYMENT, o, names, n_names);
}

static int get_replicasets(struct get_opts *o, char **names, int n_names)
{
	return get_workloads(PP_WL_REPLICASET, o, names, n_names);
}

static int get_daemonsets(struct get_opts *o, char **names, int n_names)
{
	return get_workloads(PP_WL_DAEMONSET, o, names, n_names);
}

static int get_jobs(struct get_opts *o, char **names, int n_names)
{
	return get_workloads(PP_WL_JOB, o, names, n_names);
}

/* The kinds get knows; another kind plugs in here (names, then its lister). */
static const struct get_kind {
	const char *names[5];
	int (*get)(struct get_opts *o, char **names, int n_names);
	bool in_all; /* listed by `get all` (kubectl's all: not configmaps, secrets) */
} kinds[] = {
    {{"pods", "pod", "po", NULL}, get_pods, true},
    {{"configmaps", "configmap", "cm", NULL}, get_configmaps, false},
    {{"secrets", "secret", NULL, NULL}, get_secrets, false},
    {{"persistentvolumeclaims", "persistentvolumeclaim", "pvc", NULL}, get_claims, false},
    {{"persistentvolumes", "persistentvolume", "pv", NULL}, get_volumes, false},
    {{"deployments", "deployment", "deploy", "deployment.apps"}, get_deployments, true},
    {{"replicasets", "replicaset", "rs", "replicaset.apps"}, get_replicasets, true},
    {{"daemonsets", "daemonset", "ds", "daemonset.apps"}, get_daemonsets, true},
    {{"jobs", "job", "job.batch", "jobs.batch"}, get_jobs, true},
};

static const struct get_kind *find_kind(const char *name)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
		for (size_t i = 0; kinds[k].names[i]; i++)
			if (strcmp(kinds[k].names[i], name) == 0)
				return &kinds[k];
	return NULL;
}

enum { OPT_FIELD = 256, OPT_NO_HEADERS, OPT_SHOW_LABELS, OPT_SORT_BY, OPT_WATCH_ONLY };

/* The flags of get; its help (cli_commands.c) shows each. */
const struct option cli_opts_get[] = {{"output", required_argument, NULL, 'o'},
				      {"namespace", required_argument, NULL, 'n'},
				      {"all-namespaces", no_argument, NULL, 'A'},
				      {"selector", required_argument, NULL, 'l'},
				      {"field-selector", required_argument, NULL, OPT_FIELD},
				      {"watch", no_argument, NULL, 'w'},
				      {"watch-only", no_argument, NULL, OPT_WATCH_ONLY},
				      {"no-headers", no_argument, NULL, OPT_NO_HEADERS},
				      {"show-labels", no_argument, NULL, OPT_SHOW_LABELS},
				      {"label-columns", required_argument, NULL, 'L'},
				      {"sort-by", required_argument, NULL, OPT_SORT_BY},
				      {NULL, 0, NULL, 0}};
const char cli_shorts_get[] = "o:n:Al:wL:";

/* The TYPE of "TYPE/NAME" (NULL without a slash); the caller frees. */
static char *xstrndup_slash(const char *arg)
{
	const char *slash = strchr(arg, '/');
	return slash ? xasprintf("%.*s", (int)(slash - arg), arg) : NULL;
}

static int parse_get_args(int argc, char **argv, struct get_opts *o)
{
	int c;
	cleanup_error struct pp_error *err = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_get, cli_opts_get, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->format = optarg;
			if (parse_output(optarg, o) < 0)
				return -1;
			break;
		case 'n':
			o->sel.ns = optarg;
			break;
		case 'A':
			o->sel.all_ns = true;
			break;
		case 'l':
			o->sel.labels = optarg;
			break;
		case OPT_FIELD:
			o->sel.fields = optarg;
			break;
		case 'w':
			o->watch = true;
			break;
		case OPT_WATCH_ONLY:
			o->watch_only = true;
			break;
		case OPT_NO_HEADERS:
			o->no_headers = true;
			break;
		case OPT_SHOW_LABELS:
			o->show_labels = true;
			break;
		case 'L':
			if (parse_label_columns(optarg, o) < 0)
				return -1;
			break;
		case OPT_SORT_BY:
			if (pp_jsonpath_parse_relaxed(optarg, &o->sort_by, &err) < 0) {
				fprintf(stderr, "error: --sort-by: %s\n", err->msg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* One kind's output with each row's NAME as kind/NAME, as kubectl prints
 * several kinds: the table is captured and the prefix put in at the NAME
 * column (header widened to match). Other outputs are printed as they are. */
static int get_prefixed(const struct get_kind *k, struct get_opts *o, char **names, int n,
			bool *printed)
{
	if (o->out != OUT_TABLE && o->out != OUT_WIDE) {
		*printed = true;
		return k->get(o, names, n);
	}
	char *buf = NULL;
	size_t len = 0;
	fflush(stdout);
	FILE *real = stdout, *mem = open_memstream(&buf, &len);
	if (mem == NULL)
		return k->get(o, names, n);
	stdout = mem; /* the kinds' printers write to stdout */
	int r = k->get(o, names, n);
	fclose(mem);
	stdout = real;
	const char *kind = k->names[1];
	size_t col = 0;
	bool header = !o->no_headers;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (*printed && header)
			fputc('\n', stdout); /* between kinds */
		if (header) {
			char *at = strstr(line, "NAME   ");
			if (at != NULL && at > line && at[-1] != ' ')
				at = strstr(at + 1, "NAME   ");
			col = at ? (size_t)(at - line) : 0;
			if (at != NULL)
				printf("%.*s%-*s%s\n", (int)(col + 4), line,
				       (int)(strlen(kind) + 1), "", at + 4);
			else
				printf("%s\n", line);
		} else {
			if (col > strlen(line))
				col = 0;
			printf("%.*s%s/%s\n", (int)col, line, kind, line + col);
		}
		header = false;
		*printed = true;
	}
	free(buf);
	return r;
}

/* "pod/a", "configmap/b"...: each kind with its names, in the order given. */
static int get_typed_names(char **args, int n, struct get_opts *o)
{
	const struct get_kind *seen[sizeof(kinds) / sizeof(*kinds)];
	size_t n_seen = 0;
	for (int i = 0; i < n; i++) {
		cleanup_free char *word = xstrndup_slash(args[i]);
		const struct get_kind *k = word ? find_kind(word) : NULL;
		if (k == NULL) {
			fprintf(stderr,
				"error: there is no need to specify a resource type as a separate "
				"argument when passing arguments in resource/name form (\"%s\")\n",
				args[i]);
			return CLI_EXIT_USAGE;
		}
		size_t s = 0;
		while (s < n_seen && seen[s] != k)
			s++;
		if (s == n_seen)
			seen[n_seen++] = k;
	}
	int status = 0;
	bool printed = false;
	for (size_t s = 0; s < n_seen; s++) {
		char **names = xmalloc(sizeof(*names) * (size_t)n);
		int m = 0;
		for (int i = 0; i < n; i++) {
			cleanup_free char *word = xstrndup_slash(args[i]);
			if (find_kind(word) == seen[s])
				names[m++] = strchr(args[i], '/') + 1;
		}
		int r = n_seen > 1 ? get_prefixed(seen[s], o, names, m, &printed)
				   : seen[s]->get(o, names, m);
		status = r > status ? r : status;
		free(names);
	}
	return status;
}

int cmd_get(int argc, char **argv)
{
	struct get_opts o = {.out = OUT_TABLE};
	int status = CLI_EXIT_USAGE;
	cleanup_free char *list = NULL; /* before the first goto */
	if (parse_get_args(argc, argv, &o) < 0)
		goto out;
	if (optind >= argc) {
		fprintf(stderr, "usage: peapod %s; see 'peapod get --help'\n",
			"get KIND[,KIND...]|all [NAME...] | get KIND/NAME...");
		goto out;
	}
	/* a workload whose controller was killed gets one again */
	(void)pp_workloads_resume(NULL);
	if (strchr(argv[optind], '/') != NULL) { /* get pod/a configmap/b */
		if ((o.watch || o.watch_only) && argc - optind > 1) {
			fprintf(stderr, "error: you may only specify a single resource type\n");
			goto out;
		}
		status = get_typed_names(argv + optind, argc - optind, &o);
		goto out;
	}
	/* "pods", "pods,configmaps", "all" */
	const struct get_kind *todo[sizeof(kinds) / sizeof(*kinds)];
	size_t n_todo = 0;
	bool all = false;
	list = xstrdup(argv[optind]);
	char *save = NULL;
	for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		listing_all = listing_all || strcmp(k, "all") == 0;
		for (size_t i = 0; strcmp(k, "all") == 0 && i < sizeof(kinds) / sizeof(*kinds); i++)
			if (kinds[i].in_all && n_todo < sizeof(todo) / sizeof(*todo))
				todo[n_todo++] = &kinds[i];
		if (strcmp(k, "all") == 0) {
			all = true;
			continue;
		}
		const struct get_kind *kind = find_kind(k);
		if (kind == NULL) {
			fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n",
				k);
			goto out;
		}
		if (n_todo < sizeof(todo) / sizeof(*todo))
			todo[n_todo++] = kind;
	}
	optind++;
	if (n_todo > 1 && (o.watch || o.watch_only)) {
		fprintf(stderr, "error: you may only specify a single resource type\n");
		goto out;
	}
	status = 0;
	bool printed = false;
	for (size_t i = 0; i < n_todo; i++) {
		int r = n_todo > 1 || all
			    ? get_prefixed(todo[i], &o, argv + optind, argc - optind, &printed)
			    : todo[i]->get(&o, argv + optind, argc - optind);
		status = r > status ? r : status;
	}
out:
	get_opts_free(&o);
	return status;
}
