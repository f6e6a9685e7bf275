/* DaemonSet: one pod on this host when its nodeSelector and required node
 * affinity match the host's labels (kubernetes.io/hostname, kubernetes.io/os,
 * kubernetes.io/arch), none otherwise; a pod of an older template replaced
 * (RollingUpdate) or left until deleted (OnDelete). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "util/cleanup.h"

#define HASH_LABEL "controller-revision-hash"
#define GEN_LABEL "pod-template-generation"

struct host {
	char name[256];
	const char *arch;
};

static void host_of(struct host *h)
{
	struct utsname u;
	if (gethostname(h->name, sizeof(h->name)) < 0)
		snprintf(h->name, sizeof(h->name), "localhost");
	h->name[sizeof(h->name) - 1] = '\0';
	h->arch = "unknown";
	if (uname(&u) == 0) {
		static char m[65];
		snprintf(m, sizeof(m), "%s", u.machine);
		h->arch = strcmp(m, "x86_64") == 0	? "amd64"
			  : strcmp(m, "aarch64") == 0	? "arm64"
			  : strncmp(m, "armv7", 5) == 0 ? "arm"
							: m;
	}
}

const char *pp_host_label(const char *key);
const char *pp_host_label(const char *key)
{
	static struct host h;
	if (h.name[0] == '\0')
		host_of(&h);
	if (strcmp(key, "kubernetes.io/hostname") == 0)
		return h.name;
	if (strcmp(key, "kubernetes.io/os") == 0 || strcmp(key, "beta.kubernetes.io/os") == 0)
		return "linux";
	if (strcmp(key, "kubernetes.io/arch") == 0 || strcmp(key, "beta.kubernetes.io/arch") == 0)
		return h.arch;
	return NULL;
}

static bool expr_matches(struct json_object *e, bool field)
{
	struct json_object *k = NULL, *op = NULL, *vals = NULL;
	json_object_object_get_ex(e, "key", &k);
	json_object_object_get_ex(e, "operator", &op);
	json_object_object_get_ex(e, "values", &vals);
	const char *key = json_object_get_string(k), *o = json_object_get_string(op);
	if (key == NULL || o == NULL)
		return false;
	const char *v =
	    field ? (strcmp(key, "metadata.name") == 0 ? pp_host_label("kubernetes.io/hostname")
						       : NULL)
		  : pp_host_label(key);
	size_t n =
	    vals && json_object_is_type(vals, json_type_array) ? json_object_array_length(vals) : 0;
	bool in = false;
	for (size_t i = 0; v != NULL && i < n; i++)
		in = in || strcmp(json_object_get_string(json_object_array_get_idx(vals, i)) ?: "",
				  v) == 0;
	if (strcmp(o, "In") == 0)
		return in;
	if (strcmp(o, "NotIn") == 0)
		return !in;
	if (strcmp(o, "Exists") == 0)
		return v != NULL;
	if (strcmp(o, "DoesNotExist") == 0)
		return v == NULL;
	if ((strcmp(o, "Gt") == 0 || strcmp(o, "Lt") == 0) && v != NULL && n == 1) {
		long long a = strtoll(v, NULL, 10),
			  b = strtoll(json_object_get_string(json_object_array_get_idx(vals, 0)),
				      NULL, 10);
		return o[0] == 'G' ? a > b : a < b;
	}
	return false;
}

/* Whether this host may run the workload's pods. */
bool pp_host_matches(const struct pp_workload *w);
bool pp_host_matches(const struct pp_workload *w)
{
	for (size_t i = 0; i < w->n_node_selector; i++) {
		const char *v = pp_host_label(w->node_selector[i].key);
		if (v == NULL || strcmp(v, w->node_selector[i].value) != 0)
			return false;
	}
	if (!w->has_affinity)
		return true;
	struct json_object *na = json_tokener_parse(w->affinity_json), *req = NULL, *terms = NULL;
	bool ok = true;
	if (json_object_object_get_ex(na, "requiredDuringSchedulingIgnoredDuringExecution", &req) &&
	    json_object_object_get_ex(req, "nodeSelectorTerms", &terms) &&
	    json_object_is_type(terms, json_type_array)) {
		ok = false; /* the terms are ORed, each term's expressions ANDed */
		for (size_t i = 0; !ok && i < json_object_array_length(terms); i++) {
			struct json_object *t = json_object_array_get_idx(terms, i), *ex = NULL;
			bool all = true;
			const char *lists[] = {"matchExpressions", "matchFields"};
			for (size_t l = 0; l < 2; l++)
				if (json_object_object_get_ex(t, lists[l], &ex) &&
				    json_object_is_type(ex, json_type_array))
					for (size_t k = 0; k < json_object_array_length(ex); k++)
						all = all &&
						      expr_matches(json_object_array_get_idx(ex, k),
								   l == 1);
			ok = all;
		}
	}
	json_object_put(na);
	return ok;
}

static const char *label_of(const struct pp_ctrl_pod *p, const char *key)
{
	for (size_t i = 0; i < p->n_labels; i++)
		if (strcmp(p->labels[i].key, key) == 0)
			return p->labels[i].value;
	return NULL;
}

static int ds_sync(struct pp_ctrl *c, struct pp_error **err)
{
	const struct pp_workload *w = c->w;
	struct pp_ctrl_owner owner = {PP_WL_DAEMONSET, w->name, w->uid};
	bool match = pp_host_matches(w);
	cleanup_free char *hash = pp_template_hash(w->tmpl_json, 0);
	int ret = 0;
	/* finished or orphaned (a dead supervisor): removed, then replaced */
	size_t active = 0;
	for (size_t i = 0; i < c->n_pods; i++) {
		struct pp_ctrl_pod *p = &c->pods[i];
		if (p->finished || !p->alive || !match) {
			pp_ctrl_pod_delete(c, &owner, p, NULL);
			p->finished = true;
			continue;
		}
		const char *h = label_of(p, HASH_LABEL);
		if (!w->on_delete && (h == NULL || strcmp(h, hash) != 0)) {
			pp_ctrl_pod_delete(c, &owner, p, NULL);
			p->finished = true;
			continue;
		}
		if (active++ > 0) { /* one a node */
			pp_ctrl_pod_delete(c, &owner, p, NULL);
			p->finished = true;
			active--;
		}
	}
	if (match && active == 0) {
		cleanup_free char *name = pp_ctrl_pod_name(w->name);
		cleanup_free char *gen = xasprintf("%lld", (long long)w->generation);
		struct pp_kv extra[] = {{(char *)HASH_LABEL, hash}, {(char *)GEN_LABEL, gen}};
		if (pp_ctrl_pod_create(c, &owner, w->tmpl_json, name, extra, 2, err) < 0)
			ret = -1;
	}
	/* the status of what is there now (pods made: the next pass counts them) */
	int ready = 0, available = 0, updated = 0, current = 0;
	int64_t now = pp_ctrl_now_ms();
	for (size_t i = 0; i < c->n_pods; i++) {
		const struct pp_ctrl_pod *p = &c->pods[i];
		if (p->finished)
			continue;
		current++;
		ready += p->ready;
		int64_t at = 0;
		if (pp_ctrl_pod_available(p, w->min_ready_seconds, now, &at))
			available++;
		else if (at > 0)
			pp_ctrl_wake_at(c, at);
		const char *h = label_of(p, HASH_LABEL);
		updated += h != NULL && strcmp(h, hash) == 0;
	}
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "currentNumberScheduled",
			       json_object_new_int(match ? current : 0));
	json_object_object_add(s, "numberMisscheduled", json_object_new_int(match ? 0 : current));
	json_object_object_add(s, "desiredNumberScheduled", json_object_new_int(match ? 1 : 0));
	json_object_object_add(s, "numberReady", json_object_new_int(ready));
	json_object_object_add(s, "observedGeneration", json_object_new_int64(w->generation));
	json_object_object_add(s, "updatedNumberScheduled", json_object_new_int(updated));
	json_object_object_add(s, "numberAvailable", json_object_new_int(available));
	int unavailable = (match ? 1 : 0) - available;
	json_object_object_add(s, "numberUnavailable",
			       json_object_new_int(unavailable > 0 ? unavailable : 0));
	pp_ctrl_set_status(c, s, NULL);
	return ret;
}

const struct pp_ctrl_kind pp_ctrl_daemonset = {
    .kind = PP_WL_DAEMONSET,
    .sync = ds_sync,
};
