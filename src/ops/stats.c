/* The usage of a running pod and its running containers, sampled twice for
 * CPU rates, from the cgroups its supervisor records in status.json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/clock.h"

#define MS_PER_S 1000

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The running containers (sidecars and app containers), in status order. */
static void collect_running(struct pp_pod_usage *u, struct json_object *status)
{
	const char *lists[] = {"initContainerStatuses", "containerStatuses"};
	for (size_t l = 0; l < 2; l++) {
		struct json_object *cs = jget(status, lists[l]);
		for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
			struct json_object *c = json_object_array_get_idx(cs, i);
			if (jget(jget(c, "state"), "running") == NULL)
				continue;
			const char *name = json_object_get_string(jget(c, "name"));
			if (name == NULL)
				continue;
			u->ctrs = xrealloc(u->ctrs, sizeof(*u->ctrs) * (u->n_ctrs + 1));
			u->ctrs[u->n_ctrs++] = (struct pp_ctr_usage){.name = xstrdup(name)};
		}
	}
}

static void sample(const char *path, struct pp_usage *x, bool first, uint64_t wall_ns)
{
	struct pp_cgroup_stats st;
	/* A container that exits between the samples just has no numbers. */
	if (pp_cgroup_stats_read(path, &st, NULL) < 0) {
		x->st = (struct pp_cgroup_stats){0};
		x->has_rate = false;
		return;
	}
	if (first) {
		x->st = st;
		x->cpu0_ns = st.cpu_usage_ns;
		return;
	}
	bool had_cpu = x->st.has_cpu;
	x->st = st;
	if (had_cpu && st.has_cpu) {
		x->has_rate = true;
		x->cpu_percent = pp_cpu_percent(x->cpu0_ns, st.cpu_usage_ns, wall_ns);
		x->millicores = pp_cpu_millicores(x->cpu0_ns, st.cpu_usage_ns, wall_ns);
	}
}

static void sample_all(struct pp_pod_usage *u, bool first, uint64_t wall_ns)
{
	sample(u->cgroup, &u->pod, first, wall_ns);
	for (size_t i = 0; i < u->n_ctrs; i++) {
		cleanup_free char *path = xasprintf("%s/%s", u->cgroup, u->ctrs[i].name);
		sample(path, &u->ctrs[i].u, first, wall_ns);
	}
}

int pp_pod_usage_begin(const char *ns, const char *name, struct pp_pod_usage *u,
		       struct pp_error **err)
{
	*u = (struct pp_pod_usage){0};
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, err) < 0)
		return -1;
	const char *cg = pp_pod_view_str(&v, "peapod.cgroup.path");
	int ret = 0;
	if (!v.alive || v.finished || cg == NULL) {
		ret = pp_error_set(err, 0, "pod \"%s\" is not running", name);
	} else {
		u->ns = xstrdup(v.ns);
		u->name = xstrdup(v.name);
		u->cgroup = xstrdup(cg);
		collect_running(u, jget(v.obj, "status"));
		u->t0_ns = pp_monotonic_ns();
		sample_all(u, true, 0);
	}
	pp_pod_view_free(&v);
	return ret;
}

int pp_pod_usage_end(struct pp_pod_usage *u, struct pp_error **err)
{
	int64_t wall = pp_monotonic_ns() - u->t0_ns;
	sample_all(u, false, wall > 0 ? (uint64_t)wall : 0);
	return 0;
}

void pp_pod_usage_free(struct pp_pod_usage *u)
{
	for (size_t i = 0; i < u->n_ctrs; i++)
		free(u->ctrs[i].name);
	free(u->ctrs);
	free(u->ns);
	free(u->name);
	free(u->cgroup);
	*u = (struct pp_pod_usage){0};
}

static struct json_object *usage_json(const struct pp_usage *x)
{
	struct json_object *o = json_object_new_object();
	if (x->st.has_cpu)
		json_object_object_add(o, "cpuUsageNanoseconds",
				       json_object_new_uint64(x->st.cpu_usage_ns));
	if (x->has_rate) {
		json_object_object_add(o, "cpuPercent", json_object_new_double(x->cpu_percent));
		json_object_object_add(o, "cpuMillicores", json_object_new_uint64(x->millicores));
	}
	if (x->st.has_memory) {
		json_object_object_add(o, "memoryUsageBytes",
				       json_object_new_uint64(x->st.memory_usage));
		json_object_object_add(o, "memoryWorkingSetBytes",
				       json_object_new_uint64(x->st.memory_working_set));
	}
	if (x->st.has_pids)
		json_object_object_add(o, "pids", json_object_new_uint64(x->st.pids));
	return o;
}

struct json_object *pp_pod_usage_json(const struct pp_pod_usage *u)
{
	struct json_object *o = usage_json(&u->pod);
	struct json_object *cs = json_object_new_array();
	for (size_t i = 0; i < u->n_ctrs; i++) {
		struct json_object *c = usage_json(&u->ctrs[i].u);
		json_object_object_add(c, "name", json_object_new_string(u->ctrs[i].name));
		json_object_array_add(cs, c);
	}
	json_object_object_add(o, "containers", cs);
	return o;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / MS_PER_S, (long)(ms % MS_PER_S) * PP_NSEC_PER_MSEC};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int pp_pods_usage_sample(const struct pp_usage_request *r, struct pp_pod_usage **out, size_t *n_out,
			 struct pp_error **err)
{
	struct pp_pod_ref *refs = NULL;
	size_t nr = 0;
	*out = NULL;
	*n_out = 0;
	if (r->n_names == 0 && pp_pod_list(r->ns, &refs, &nr, err) < 0)
		return -1;
	size_t total = r->n_names > 0 ? r->n_names : nr;
	struct pp_pod_usage *u = xmalloc(sizeof(*u) * (total + 1));
	size_t n = 0;
	for (size_t i = 0; i < total; i++) {
		cleanup_error struct pp_error *e = NULL;
		const char *ns = r->n_names > 0 ? r->ns : refs[i].ns;
		const char *name = r->n_names > 0 ? r->names[i] : refs[i].name;
		if (pp_pod_usage_begin(ns, name, &u[n], &e) == 0)
			n++;
		else if (r->n_names > 0 && r->on_error != NULL)
			/* Pods not running are left out of a listing of all. */
			r->on_error(r->ctx, e);
	}
	pp_pod_refs_free(refs, nr);
	if (n > 0)
		sleep_ms(r->window_ms);
	for (size_t i = 0; i < n; i++)
		pp_pod_usage_end(&u[i], NULL);
	*out = u;
	*n_out = n;
	return 0;
}

void pp_pod_usages_free(struct pp_pod_usage *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pp_pod_usage_free(&u[i]);
	free(u);
}
