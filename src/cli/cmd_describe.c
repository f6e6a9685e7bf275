/* peapod describe pod: kubectl's layout (its sections, in its order) over
 * the pod object (status and the manifest's spec) and the pod's events. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "ops/events.h"
#include "ops/ops.h"
#include "util/cleanup.h"

#define jget cli_jget
#define jstr cli_jstr
#define js cli_js

/* Probe defaults, as the API server fills them. */
#define PROBE_TIMEOUT_S 1
#define PROBE_PERIOD_S 10
#define PROBE_SUCCESS 1
#define PROBE_FAILURE 3

static size_t jlen(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static struct json_object *jidx(struct json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* kubectl's time: "Mon, 02 Jan 2006 15:04:05 -0700", local time. */
static void describe_time(const char *ts, char *out, size_t size)
{
	struct tm tm = {0};
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
		snprintf(out, size, "<unknown>");
		return;
	}
	time_t t = timegm(&tm);
	struct tm local;
	localtime_r(&t, &local);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &local);
}

/* "Labels:  a=b" then "         c=d" under it; <none>. */
static void map_lines(const char *title, struct json_object *map, int width)
{
	printf("%-*s", width, title);
	if (map == NULL || !json_object_is_type(map, json_type_object) ||
	    json_object_object_length(map) == 0) {
		printf("<none>\n");
		return;
	}
	bool first = true;
	json_object_object_foreach(map, k, v)
	{
		printf("%*s%s=%s\n", first ? 0 : width, "", k, v ? json_object_get_string(v) : "");
		first = false;
	}
}

static void describe_state(const char *title, struct json_object *state)
{
	if (state == NULL || json_object_object_length(state) == 0) {
		printf("    %-16s<none>\n", title);
		return;
	}
	json_object_object_foreach(state, kind, detail)
	{
		char cap[32];
		snprintf(cap, sizeof(cap), "%s", kind);
		cap[0] = (char)(cap[0] - 'a' + 'A');
		printf("    %-16s%s\n", title, cap);
		char when[64];
		if (jstr(detail, "reason"))
			printf("      %-14s%s\n", "Reason:", js(detail, "reason"));
		if (jstr(detail, "message"))
			printf("      %-14s%s\n", "Message:", js(detail, "message"));
		if (jget(detail, "exitCode"))
			printf("      %-14s%d\n",
			       "Exit Code:", json_object_get_int(jget(detail, "exitCode")));
		if (jget(detail, "signal"))
			printf("      %-14s%d\n",
			       "Signal:", json_object_get_int(jget(detail, "signal")));
		if (jstr(detail, "startedAt")) {
			describe_time(jstr(detail, "startedAt"), when, sizeof(when));
			printf("      %-14s%s\n", "Started:", when);
		}
		if (jstr(detail, "finishedAt")) {
			describe_time(jstr(detail, "finishedAt"), when, sizeof(when));
			printf("      %-14s%s\n", "Finished:", when);
		}
	}
}

/* kubectl's probe line: "http-get http://:8080/healthz delay=0s timeout=1s
 * period=10s #success=1 #failure=3". */
static void probe_line(const char *title, struct json_object *p)
{
	if (p == NULL)
		return;
	char what[512];
	struct json_object *h;
	if ((h = jget(p, "httpGet")) != NULL) {
		const char *scheme = jstr(h, "scheme");
		snprintf(what, sizeof(what), "http-get %s://%s:%s%s",
			 scheme && strcasecmp(scheme, "HTTPS") == 0 ? "https" : "http",
			 js(h, "host"), js(h, "port"), js(h, "path"));
	} else if ((h = jget(p, "tcpSocket")) != NULL) {
		snprintf(what, sizeof(what), "tcp-socket %s:%s", js(h, "host"), js(h, "port"));
	} else if ((h = jget(p, "grpc")) != NULL) {
		snprintf(what, sizeof(what), "grpc <pod>:%s %s", js(h, "port"), js(h, "service"));
	} else if ((h = jget(p, "exec")) != NULL) {
		struct json_object *cmd = jget(h, "command");
		size_t n = snprintf(what, sizeof(what), "exec [");
		for (size_t i = 0; i < jlen(cmd) && n < sizeof(what); i++)
			n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s", i ? " " : "",
					      json_object_get_string(jidx(cmd, i)));
		if (n < sizeof(what))
			snprintf(what + n, sizeof(what) - n, "]");
	} else {
		snprintf(what, sizeof(what), "unknown");
	}
	struct json_object *v;
	int delay = (v = jget(p, "initialDelaySeconds")) ? json_object_get_int(v) : 0;
	int timeout = (v = jget(p, "timeoutSeconds")) ? json_object_get_int(v) : PROBE_TIMEOUT_S;
	int period = (v = jget(p, "periodSeconds")) ? json_object_get_int(v) : PROBE_PERIOD_S;
	int ok = (v = jget(p, "successThreshold")) ? json_object_get_int(v) : PROBE_SUCCESS;
	int bad = (v = jget(p, "failureThreshold")) ? json_object_get_int(v) : PROBE_FAILURE;
	printf("    %-16s%s delay=%ds timeout=%ds period=%ds #success=%d #failure=%d\n", title,
	       what, delay, timeout, period, ok, bad);
}

static void string_list(const char *title, struct json_object *list)
{
	if (jlen(list) == 0)
		return;
	printf("    %s\n", title);
	for (size_t i = 0; i < jlen(list); i++)
		printf("      %s\n", json_object_get_string(jidx(list, i)));
}

static void resources(const char *title, struct json_object *map)
{
	if (map == NULL || json_object_object_length(map) == 0)
		return;
	printf("    %s\n", title);
	int w = 0;
	json_object_object_foreach(map, k0, v0)
	{
		(void)v0;
		w = (int)strlen(k0) + 1 > w ? (int)strlen(k0) + 1 : w;
	}
	json_object_object_foreach(map, k, v)
	{
		char key[128];
		snprintf(key, sizeof(key), "%s:", k);
		printf("      %-*s  %s\n", w, key, json_object_get_string(v));
	}
}

static void environment(struct json_object *c)
{
	struct json_object *env = jget(c, "env"), *from = jget(c, "envFrom");
	for (size_t i = 0; i < jlen(from); i++) {
		struct json_object *f = jidx(from, i), *ref;
		if (i == 0)
			printf("    Environment Variables from:\n");
		bool cm = (ref = jget(f, "configMapRef")) != NULL;
		if (!cm)
			ref = jget(f, "secretRef");
		printf("      %s  %s  Optional: %s\n", js(ref, "name"), cm ? "ConfigMap" : "Secret",
		       json_object_get_boolean(jget(ref, "optional")) ? "true" : "false");
	}
	if (jlen(env) == 0) {
		printf("    Environment:    <none>\n");
		return;
	}
	printf("    Environment:\n");
	for (size_t i = 0; i < jlen(env); i++) {
		struct json_object *e = jidx(env, i), *vf = jget(e, "valueFrom"), *r;
		char key[256];
		snprintf(key, sizeof(key), "%s:", js(e, "name"));
		printf("      %-10s  ", key);
		if (vf == NULL)
			printf("%s\n", js(e, "value"));
		else if ((r = jget(vf, "fieldRef")) != NULL)
			printf(" (%s:%s)\n", jstr(r, "apiVersion") ? js(r, "apiVersion") : "v1",
			       js(r, "fieldPath"));
		else if ((r = jget(vf, "resourceFieldRef")) != NULL)
			printf(" (%s)\n", js(r, "resource"));
		else if ((r = jget(vf, "secretKeyRef")) != NULL)
			printf("<set to the key '%s' in secret '%s'>  Optional: %s\n", js(r, "key"),
			       js(r, "name"),
			       json_object_get_boolean(jget(r, "optional")) ? "true" : "false");
		else if ((r = jget(vf, "configMapKeyRef")) != NULL)
			printf("<set to the key '%s' of config map '%s'>  Optional: %s\n",
			       js(r, "key"), js(r, "name"),
			       json_object_get_boolean(jget(r, "optional")) ? "true" : "false");
		else
			printf("\n");
	}
}

static void mounts(struct json_object *c)
{
	struct json_object *m = jget(c, "volumeMounts");
	if (jlen(m) == 0) {
		printf("    Mounts:         <none>\n");
		return;
	}
	printf("    Mounts:\n");
	for (size_t i = 0; i < jlen(m); i++) {
		struct json_object *x = jidx(m, i);
		bool ro = json_object_get_boolean(jget(x, "readOnly"));
		printf("      %s from %s (%s", js(x, "mountPath"), js(x, "name"), ro ? "ro" : "rw");
		if (jstr(x, "subPath"))
			printf(",path=\"%s\"", js(x, "subPath"));
		printf(")\n");
	}
}

static struct json_object *status_of(struct json_object *statuses, const char *name)
{
	for (size_t i = 0; i < jlen(statuses); i++)
		if (name && strcmp(js(jidx(statuses, i), "name"), name) == 0)
			return jidx(statuses, i);
	return NULL;
}

static void describe_containers(struct json_object *spec_list, struct json_object *statuses,
				const char *title)
{
	if (jlen(spec_list) == 0)
		return;
	printf("%s:\n", title);
	for (size_t i = 0; i < jlen(spec_list); i++) {
		struct json_object *c = jidx(spec_list, i);
		struct json_object *st = status_of(statuses, jstr(c, "name"));
		printf("  %s:\n", js(c, "name"));
		printf("    %-16s%s\n", "Container ID:", js(st, "containerID"));
		printf("    %-16s%s\n", "Image:", js(c, "image"));
		printf("    %-16s%s\n", "Image ID:", js(st, "imageID"));
		struct json_object *ports = jget(c, "ports");
		if (jlen(ports) == 0)
			printf("    %-16s<none>\n", "Port:");
		for (size_t k = 0; k < jlen(ports); k++) {
			struct json_object *p = jidx(ports, k);
			const char *proto = jstr(p, "protocol") ? js(p, "protocol") : "TCP";
			printf("    %-16s%s/%s\n", "Port:", js(p, "containerPort"), proto);
			printf("    %-16s%s/%s\n",
			       "Host Port:", jstr(p, "hostPort") ? js(p, "hostPort") : "0", proto);
		}
		string_list("Command:", jget(c, "command"));
		string_list("Args:", jget(c, "args"));
		describe_state("State:", jget(st, "state"));
		struct json_object *last = jget(st, "lastState");
		if (last && json_object_object_length(last) > 0)
			describe_state("Last State:", last);
		printf("    %-16s%s\n",
		       "Ready:", json_object_get_boolean(jget(st, "ready")) ? "True" : "False");
		printf("    %-16s%d\n",
		       "Restart Count:", json_object_get_int(jget(st, "restartCount")));
		resources("Limits:", jget(jget(c, "resources"), "limits"));
		resources("Requests:", jget(jget(c, "resources"), "requests"));
		probe_line("Liveness:", jget(c, "livenessProbe"));
		probe_line("Readiness:", jget(c, "readinessProbe"));
		probe_line("Startup:", jget(c, "startupProbe"));
		environment(c);
		mounts(c);
	}
}

static void describe_volumes(struct json_object *vols)
{
	if (jlen(vols) == 0) {
		printf("Volumes:                     <none>\n");
		return;
	}
	printf("Volumes:\n");
	for (size_t i = 0; i < jlen(vols); i++) {
		struct json_object *v = jidx(vols, i), *x;
		printf("  %s:\n", js(v, "name"));
		if ((x = jget(v, "emptyDir")) != NULL) {
			printf(
			    "    Type:       EmptyDir (a temporary directory that shares a pod's "
			    "lifetime)\n");
			printf("    Medium:     %s\n", js(x, "medium"));
			printf("    SizeLimit:  %s\n",
			       jstr(x, "sizeLimit") ? js(x, "sizeLimit") : "<unset>");
		} else if ((x = jget(v, "hostPath")) != NULL) {
			printf("    Type:          HostPath (bare host directory volume)\n");
			printf("    Path:          %s\n", js(x, "path"));
			printf("    HostPathType:  %s\n", js(x, "type"));
		} else if ((x = jget(v, "configMap")) != NULL) {
			printf("    Type:      ConfigMap (a volume populated by a ConfigMap)\n");
			printf("    Name:      %s\n", js(x, "name"));
			printf("    Optional:  %s\n",
			       json_object_get_boolean(jget(x, "optional")) ? "true" : "false");
		} else if ((x = jget(v, "secret")) != NULL) {
			printf("    Type:        Secret (a volume populated by a Secret)\n");
			printf("    SecretName:  %s\n", js(x, "secretName"));
			printf("    Optional:    %s\n",
			       json_object_get_boolean(jget(x, "optional")) ? "true" : "false");
		} else if ((x = jget(v, "downwardAPI")) != NULL) {
			printf(
			    "    Type:  DownwardAPI (a volume populated by information about the "
			    "pod)\n");
		} else {
			json_object_object_foreach(v, k, val)
			{
				(void)val;
				if (strcmp(k, "name") != 0)
					printf("    Type:  %s\n", k);
			}
		}
	}
}

static void describe_tolerations(struct json_object *tols)
{
	printf("%-29s", "Tolerations:");
	if (jlen(tols) == 0)
		printf("<none>\n");
	for (size_t i = 0; i < jlen(tols); i++) {
		struct json_object *t = jidx(tols, i);
		printf("%*s%s", i ? 29 : 0, "", js(t, "key"));
		if (jstr(t, "value"))
			printf("=%s", js(t, "value"));
		if (jstr(t, "effect"))
			printf(":%s", js(t, "effect"));
		if (strcmp(js(t, "operator"), "Exists") == 0 && !jstr(t, "key"))
			printf(" op=Exists");
		if (jget(t, "tolerationSeconds"))
			printf(" for %ds", json_object_get_int(jget(t, "tolerationSeconds")));
		printf("\n");
	}
}

struct event_rows {
	char **cells; /* 5 a row: Type, Reason, Age, From, Message */
	size_t n;
};

struct event_rows_from {
	struct event_rows r;
	const char *from;
};

static void event_row(void *ctx, const struct pp_pod_event *e)
{
	struct event_rows *r = ctx;
	const char *from = ((struct event_rows_from *)ctx)->from;
	char age[32];
	cli_human_age(e->time, age, sizeof(age));
	r->cells = xrealloc(r->cells, sizeof(*r->cells) * 5 * (r->n + 1));
	char **row = r->cells + 5 * r->n++;
	row[0] = xstrdup(e->type ? e->type : "Normal");
	row[1] = xstrdup(e->reason ? e->reason : "");
	row[2] = xstrdup(age);
	row[3] = xstrdup(from); /* the supervisor plays the kubelet's part */
	row[4] = xstrdup(e->message ? e->message : "");
}

/* kubectl's event table: columns as wide as their widest cell, 2 apart,
 * each header underlined. */
static void print_events(struct event_rows_from *rf);

static void describe_events(const char *uid)
{
	struct event_rows_from rf = {.from = "kubelet"};
	long offset = 0;
	(void)pp_pod_events_read(uid, &offset, event_row, &rf, NULL);
	print_events(&rf);
}

void cli_describe_events(const char *path, const char *from)
{
	struct event_rows_from rf = {.from = from};
	long offset = 0;
	(void)pp_events_file_read(path, &offset, event_row, &rf, NULL);
	print_events(&rf);
}

static void print_events(struct event_rows_from *rf)
{
	struct event_rows r = rf->r;
	if (r.n == 0) {
		printf("Events:                      <none>\n");
		return;
	}
	static const char *const head[] = {"Type", "Reason", "Age", "From", "Message"};
	static const char *const line[] = {"----", "------", "----", "----", "-------"};
	int w[5];
	for (size_t c = 0; c < 5; c++) {
		w[c] = (int)strlen(head[c]);
		for (size_t i = 0; i < r.n; i++)
			if ((int)strlen(r.cells[5 * i + c]) > w[c])
				w[c] = (int)strlen(r.cells[5 * i + c]);
	}
	printf("Events:\n");
	for (size_t i = 0; i < r.n + 2; i++) {
		const char *const *cells = i == 0   ? head
					   : i == 1 ? line
						    : (const char *const *)r.cells + 5 * (i - 2);
		printf("  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], cells[0], w[1], cells[1], w[2],
		       cells[2], w[3], cells[3], cells[4]);
	}
	for (size_t i = 0; i < 5 * r.n; i++)
		free(r.cells[i]);
	free(r.cells);
}

static void describe_pod(const struct pp_pod_view *v)
{
	struct json_object *meta = jget(v->obj, "metadata"), *st = jget(v->obj, "status");
	struct json_object *spec = jget(v->obj, "spec");
	char when[64], host[256] = "";
	printf("%-18s%s\n", "Name:", v->name);
	printf("%-18s%s\n", "Namespace:", v->ns);
	printf("%-18s%d\n", "Priority:", json_object_get_int(jget(spec, "priority")));
	if (jstr(spec, "priorityClassName"))
		printf("%-18s%s\n", "Priority Class Name:", js(spec, "priorityClassName"));
	if (jstr(spec, "nodeName"))
		snprintf(host, sizeof(host), "%s", js(spec, "nodeName"));
	else
		gethostname(host, sizeof(host) - 1);
	printf("%-18s%s/%s\n", "Node:", host, jstr(st, "hostIP") ? js(st, "hostIP") : "<none>");
	describe_time(jstr(st, "startTime"), when, sizeof(when));
	printf("%-18s%s\n", "Start Time:", jstr(st, "startTime") ? when : "<none>");
	map_lines("Labels:", jget(meta, "labels"), 18);
	map_lines("Annotations:", jget(meta, "annotations"), 18);
	if (jget(meta, "deletionTimestamp")) {
		describe_time(jstr(meta, "deletionTimestamp"), when, sizeof(when));
		printf("%-18sTerminating (lasts %s)\n", "Status:", when);
	} else {
		printf("%-18s%s\n", "Status:", js(st, "phase"));
	}
	if (jstr(st, "reason"))
		printf("%-18s%s\n", "Reason:", js(st, "reason"));
	if (jstr(st, "message"))
		printf("%-18s%s\n", "Message:", js(st, "message"));
	if (json_object_get_boolean(jget(jget(v->obj, "peapod"), "paused")))
		printf("%-18sTrue (peapod unpause %s)\n", "Paused:", v->name);
	printf("%-18s%s\n", "IP:", jstr(st, "podIP") ? js(st, "podIP") : "");
	struct json_object *ips = jget(st, "podIPs");
	printf("IPs:%s\n", jlen(ips) == 0 ? "              <none>" : "");
	for (size_t i = 0; i < jlen(ips); i++)
		printf("  IP:  %s\n", js(jidx(ips, i), "ip"));
	struct json_object *refs = jget(meta, "ownerReferences");
	for (size_t i = 0; i < jlen(refs); i++)
		if (json_object_get_boolean(jget(jidx(refs, i), "controller")))
			printf("%-18s%s/%s\n", "Controlled By:", js(jidx(refs, i), "kind"),
			       js(jidx(refs, i), "name"));
	describe_containers(jget(spec, "initContainers"), jget(st, "initContainerStatuses"),
			    "Init Containers");
	describe_containers(jget(spec, "containers"), jget(st, "containerStatuses"), "Containers");
	describe_containers(jget(spec, "ephemeralContainers"),
			    jget(st, "ephemeralContainerStatuses"), "Ephemeral Containers");
	struct json_object *conds = jget(st, "conditions");
	if (jlen(conds) > 0) {
		printf("Conditions:\n  %-26s %s\n", "Type", "Status");
		for (size_t i = 0; i < jlen(conds); i++) {
			struct json_object *k = jidx(conds, i);
			printf("  %-26s %s\n", js(k, "type"), js(k, "status"));
		}
	}
	describe_volumes(jget(spec, "volumes"));
	printf("%-29s%s\n", "QoS Class:", jstr(st, "qosClass") ? js(st, "qosClass") : "<none>");
	map_lines("Node-Selectors:", jget(spec, "nodeSelector"), 29);
	describe_tolerations(jget(spec, "tolerations"));
	describe_events(v->uid);
}

/* describe pod NAME..., describe pods (every pod of the namespace), -l. */
static int describe_pods(struct cli_select *sel, char **names, int n_names)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	int status = 0;
	if (cli_select_given(sel) || n_names == 0) {
		if (!cli_select_given(sel))
			sel->labels = ""; /* every pod */
		status = cli_select_pods(sel, n_names, &views, &n);
		if (status != 0)
			return status;
		if (n == 0)
			cli_no_resources(sel);
	} else {
		views = xmalloc(sizeof(*views) * (size_t)n_names);
		for (int i = 0; i < n_names; i++) {
			cleanup_error struct pp_error *err = NULL;
			if (pp_pod_view_load(cli_namespace(sel->ns), cli_pod_name(names[i]),
					     &views[n], &err) < 0) {
				cli_print_error(err);
				status = CLI_EXIT_FAILURE;
				continue;
			}
			pp_pod_view_attach_spec(&views[n++]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			printf("\n\n");
		describe_pod(&views[i]);
	}
	pp_pod_views_free(views, n);
	return status;
}

/* describe configmap|secret NAME... (cmd_objects.c) */
static int describe_objects(int kind, struct cli_select *sel, char **names, int n_names)
{
	if (cli_select_given(sel) || n_names == 0) {
		fprintf(stderr, "usage: peapod describe configmap|secret NAME... [-n NAMESPACE]\n");
		return CLI_EXIT_USAGE;
	}
	int status = 0;
	for (int i = 0; i < n_names; i++) {
		const char *slash = strchr(names[i], '/');
		if (i > 0)
			printf("\n\n");
		int r = cli_describe_object(kind, slash ? slash + 1 : names[i], sel->ns);
		status = r > status ? r : status;
	}
	return status;
}

static int describe_configmaps(struct cli_select *sel, char **names, int n_names)
{
	return describe_objects(cli_object_kind("configmaps"), sel, names, n_names);
}

static int describe_secrets(struct cli_select *sel, char **names, int n_names)
{
	return describe_objects(cli_object_kind("secrets"), sel, names, n_names);
}

static int describe_claims(struct cli_select *sel, char **names, int n_names)
{
	return describe_objects(cli_object_kind("pvc"), sel, names, n_names);
}

static int describe_pvs(struct cli_select *sel, char **names, int n_names)
{
	return describe_objects(cli_object_kind("pv"), sel, names, n_names);
}

/* The kinds describe knows; another kind plugs in here. */
static const struct describe_kind {
	const char *names[5];
	int (*describe)(struct cli_select *sel, char **names, int n_names);
} kinds[] = {
    {{"pods", "pod", "po", NULL}, describe_pods},
    {{"configmaps", "configmap", "cm", NULL}, describe_configmaps},
    {{"secrets", "secret", NULL, NULL}, describe_secrets},
    {{"persistentvolumeclaims", "persistentvolumeclaim", "pvc", NULL}, describe_claims},
    {{"persistentvolumes", "persistentvolume", "pv", NULL}, describe_pvs},
    {{"deployments", "deployment", "deploy", "deployment.apps"}, cli_describe_deployments},
    {{"replicasets", "replicaset", "rs", "replicaset.apps"}, cli_describe_replicasets},
    {{"daemonsets", "daemonset", "ds", "daemonset.apps"}, cli_describe_daemonsets},
    {{"jobs", "job", "job.batch", "jobs.batch"}, cli_describe_jobs},
};

/* The flags of describe; its help (cli_commands.c) shows each. */
const struct option cli_opts_describe[] = {{"namespace", required_argument, NULL, 'n'},
					   {"all-namespaces", no_argument, NULL, 'A'},
					   {"selector", required_argument, NULL, 'l'},
					   {"field-selector", required_argument, NULL, 'S'},
					   {NULL, 0, NULL, 0}};
const char cli_shorts_describe[] = "n:Al:";

static const struct describe_kind *find_kind(const char *name, size_t len)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
		for (size_t i = 0; kinds[k].names[i]; i++)
			if (strlen(kinds[k].names[i]) == len &&
			    strncmp(kinds[k].names[i], name, len) == 0)
				return &kinds[k];
	return NULL;
}

int cmd_describe(int argc, char **argv)
{
	struct cli_select sel = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_describe, cli_opts_describe, NULL)) != -1) {
		if (c == 'n')
			sel.ns = optarg;
		else if (c == 'A')
			sel.all_ns = true;
		else if (c == 'l')
			sel.labels = optarg;
		else if (c == 'S')
			sel.fields = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (optind == argc) {
		fprintf(stderr,
			"usage: peapod describe pod[s]|deployment|rs|ds|KIND [NAME...] [-n NS|-A] "
			"[-l SELECTOR] [--field-selector F]\n");
		return CLI_EXIT_USAGE;
	}
	/* "KIND NAME...", "KIND", "KIND/NAME", or (as before) "NAME": a pod */
	const char *arg = argv[optind], *slash = strchr(arg, '/');
	const struct describe_kind *kind =
	    find_kind(arg, slash ? (size_t)(slash - arg) : strlen(arg));
	if (kind != NULL && slash == NULL)
		optind++;
	else if (kind == NULL && slash != NULL) {
		fprintf(stderr, "error: the server doesn't have a resource type \"%.*s\"\n",
			(int)(slash - arg), arg);
		return CLI_EXIT_USAGE;
	}
	if (kind == NULL)
		kind = &kinds[0];
	return kind->describe(&sel, argv + optind, argc - optind);
}
