/* RuntimeService's stats: ContainerStats, ListContainerStats,
 * PodSandboxStats, ListPodSandboxStats, from the cgroups the supervisors
 * record (src/cgroup/stats.c: v1, v2 and the hybrid layout alike), the
 * containers' writable layers and the pods' network namespaces.
 * usage_nano_cores needs two samples: the server keeps the last one of each
 * cgroup in its memory (struct cri_stats_cache), as containerd and cAdvisor
 * do, so the first call after a start answers 0 and the next ones the rate
 * since the previous call. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cgroup/cgroup_ops.h"
#include "cri/cri_internal.h"
#include "ops/ops.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fs.h"

/* A sample unused for this long is forgotten (its container went away). */
#define SAMPLE_KEEP_NS (10LL * 60 * 1000000000LL)
#define NSEC_PER_SEC_U 1000000000ULL
/* Open descriptors nftw may use for a writable layer's walk. */
#define LAYER_WALK_FDS 16
#define NET_DEV_MAX (64 * 1024)
/* containerd's: the interface a pod's network plugin makes. */
#define DEFAULT_INTERFACE "eth0"

/* ---------------------------------------------------------------------------
 * The samples kept between calls */

struct cpu_sample {
	char *key; /* the cgroup's path */
	uint64_t cpu_ns;
	int64_t t_ns; /* when it was read (CLOCK_REALTIME, the CRI's timestamps) */
};

struct cri_stats_cache {
	struct cpu_sample *s;
	size_t n;
};

void cri_stats_cache_free(struct cri_stats_cache *c)
{
	if (c == NULL)
		return;
	for (size_t k = 0; k < c->n; k++)
		free(c->s[k].key);
	free(c->s);
	free(c);
}

/* The rate since the cgroup's previous sample (0 for the first, or when the
 * counter went back: a new cgroup under the same path), and this sample
 * kept. Samples too old to matter are dropped on the way. */
static uint64_t nano_cores(struct pp_cri_service *svc, const char *key, uint64_t cpu_ns,
			   int64_t now)
{
	if (svc->stats == NULL) {
		svc->stats = xmalloc(sizeof(*svc->stats));
		*svc->stats = (struct cri_stats_cache){0};
	}
	struct cri_stats_cache *c = svc->stats;
	struct cpu_sample *hit = NULL;
	for (size_t k = 0; k < c->n;) {
		if (strcmp(c->s[k].key, key) == 0) {
			hit = &c->s[k++];
		} else if (now - c->s[k].t_ns > SAMPLE_KEEP_NS) {
			free(c->s[k].key);
			c->s[k] = c->s[--c->n];
		} else {
			k++;
		}
	}
	uint64_t rate = 0;
	if (hit == NULL) {
		c->s = xrealloc(c->s, (c->n + 1) * sizeof(*c->s));
		hit = &c->s[c->n++];
		hit->key = xstrdup(key);
	} else if (now > hit->t_ns && cpu_ns >= hit->cpu_ns) {
		unsigned __int128 d = (unsigned __int128)(cpu_ns - hit->cpu_ns) * NSEC_PER_SEC_U;
		rate = (uint64_t)(d / (uint64_t)(now - hit->t_ns));
	}
	hit->cpu_ns = cpu_ns;
	hit->t_ns = now;
	return rate;
}

/* ---------------------------------------------------------------------------
 * The messages of one answer, all freed at once after packing */

struct arena {
	void **p;
	size_t n;
};

static void *anew(struct arena *a, size_t size)
{
	a->p = xrealloc(a->p, (a->n + 1) * sizeof(*a->p));
	void *m = xmalloc(size);
	memset(m, 0, size);
	return a->p[a->n++] = m;
}

static char *astr(struct arena *a, const char *s)
{
	char *d = anew(a, strlen(s) + 1);
	memcpy(d, s, strlen(s));
	return d;
}

static void arena_free(struct arena *a)
{
	for (size_t k = 0; k < a->n; k++)
		free(a->p[k]);
	free(a->p);
	a->p = NULL;
	a->n = 0;
}

static Runtime__V1__UInt64Value *u64(struct arena *a, uint64_t v)
{
	Runtime__V1__UInt64Value *m = anew(a, sizeof(*m));
	runtime__v1__uint64_value__init(m);
	m->value = v;
	return m;
}

/* key=value pairs, for the messages' map fields */
struct kvs {
	size_t n;
	const char **key, **value;
};

static void kvs_add(struct arena *a, struct kvs *l, const char *key, const char *value)
{
	const char **k = anew(a, (l->n + 1) * sizeof(*k));
	const char **v = anew(a, (l->n + 1) * sizeof(*v));
	if (l->n) {
		memcpy(k, l->key, l->n * sizeof(*k));
		memcpy(v, l->value, l->n * sizeof(*v));
	}
	k[l->n] = astr(a, key);
	v[l->n] = astr(a, value);
	l->key = k;
	l->value = v;
	l->n++;
}

static const char *kvs_get(const struct kvs *l, const char *key)
{
	for (size_t k = 0; k < l->n; k++)
		if (strcmp(l->key[k], key) == 0)
			return l->value[k];
	return NULL;
}

/* The string members of a JSON object (metadata.labels, .annotations). */
static void kvs_add_json(struct arena *a, struct kvs *l, struct json_object *o)
{
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, key, val)
	{
		if (json_object_is_type(val, json_type_string))
			kvs_add(a, l, key, json_object_get_string(val));
	}
}

/* A map field of a message from l: every map entry type is a key and a
 * value after the message header. */
#define FILL_MAP(a, T, init, l, field, n_field)                                                    \
	do {                                                                                       \
		(field) = anew((a), ((l).n ? (l).n : 1) * sizeof(*(field)));                       \
		for (size_t i_ = 0; i_ < (l).n; i_++) {                                            \
			T *e_ = anew((a), sizeof(T));                                              \
			init(e_);                                                                  \
			e_->key = (char *)(l).key[i_];                                             \
			e_->value = (char *)(l).value[i_];                                         \
			(field)[i_] = e_;                                                          \
		}                                                                                  \
		(n_field) = (l).n;                                                                 \
	} while (0)

/* label_selector: every pair is among labels */
#define SELECTED(labels, sel, n_sel)                                                               \
	({                                                                                         \
		bool ok_ = true;                                                                   \
		for (size_t i_ = 0; ok_ && i_ < (n_sel); i_++) {                                   \
			const char *v_ = kvs_get(&(labels), (sel)[i_]->key);                       \
			ok_ = v_ && strcmp(v_, (sel)[i_]->value) == 0;                             \
		}                                                                                  \
		ok_;                                                                               \
	})

/* ---------------------------------------------------------------------------
 * What the CRI shows of a sandbox and a container: metadata, labels,
 * annotations. THE ONE PLACE they come from: today the pod's view (its
 * name, namespace, uid, labels and annotations, and the labels kubelet puts
 * on what it makes), so that CLI pods show as kubelet would have made them.
 * Once RunPodSandbox/CreateContainer keep the CRI's own metadata, labels and
 * annotations (cri_sandbox.c's record), these two read it for CRI pods. */

struct sandbox_meta {
	const char *name, *ns, *uid;
	uint32_t attempt;
	struct kvs labels, annotations;
};

static struct json_object *jkey(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A sandbox made through the CRI: its metadata, labels and annotations as
 * RunPodSandbox got them (its record); false for any other pod. */
static bool sandbox_meta_cri(struct arena *a, struct pp_pod_view *v, struct sandbox_meta *m)
{
	struct cri_sandbox sb;
	struct pp_error *err = NULL;
	if (!cri_view_is_cri(v) || cri_sandbox_load(v->uid, &sb, &err) < 0) {
		pp_error_free(&err);
		return false;
	}
	const Runtime__V1__PodSandboxConfig *cfg = sb.req->config;
	const Runtime__V1__PodSandboxMetadata *md = cfg->metadata;
	m->name = astr(a, md->name);
	m->ns = astr(a, md->namespace_);
	m->uid = astr(a, md->uid);
	m->attempt = md->attempt;
	for (size_t i = 0; i < cfg->n_labels; i++)
		kvs_add(a, &m->labels, astr(a, cfg->labels[i]->key),
			astr(a, cfg->labels[i]->value));
	for (size_t i = 0; i < cfg->n_annotations; i++)
		kvs_add(a, &m->annotations, astr(a, cfg->annotations[i]->key),
			astr(a, cfg->annotations[i]->value));
	cri_sandbox_free(&sb);
	return true;
}

static void sandbox_meta_of(struct arena *a, struct pp_pod_view *v, struct sandbox_meta *m)
{
	*m = (struct sandbox_meta){.name = v->name, .ns = v->ns, .uid = v->uid};
	if (sandbox_meta_cri(a, v, m))
		return;
	struct json_object *meta = jkey(v->obj, "metadata");
	if (jkey(meta, "labels") == NULL)
		pp_pod_view_attach_spec(v); /* labels and annotations are the manifest's */
	meta = jkey(v->obj, "metadata");
	kvs_add_json(a, &m->labels, jkey(meta, "labels"));
	kvs_add_json(a, &m->annotations, jkey(meta, "annotations"));
	/* kubelet's own labels of a sandbox (pkg/kubelet/types/labels.go) */
	if (!kvs_get(&m->labels, "io.kubernetes.pod.name"))
		kvs_add(a, &m->labels, "io.kubernetes.pod.name", v->name);
	if (!kvs_get(&m->labels, "io.kubernetes.pod.namespace"))
		kvs_add(a, &m->labels, "io.kubernetes.pod.namespace", v->ns);
	if (!kvs_get(&m->labels, "io.kubernetes.pod.uid"))
		kvs_add(a, &m->labels, "io.kubernetes.pod.uid", v->uid);
}

/* A container's metadata (name, attempt), labels and annotations: a CRI
 * container's as CreateContainer got them (its record in the pod uid's
 * state directory), any other's from its name and its pod's (kubelet's
 * labels). md's name and attempt are set when the record has them. */
static void container_meta_of(struct arena *a, const char *uid, const struct sandbox_meta *pod,
			      const char *name, Runtime__V1__ContainerMetadata *md,
			      struct kvs *labels, struct kvs *annotations)
{
	*labels = (struct kvs){0};
	*annotations = (struct kvs){0};
	Runtime__V1__ContainerConfig *cfg = cri_container_config(uid, name);
	if (cfg != NULL) {
		if (md != NULL) {
			md->name = astr(a, cfg->metadata->name);
			md->attempt = cfg->metadata->attempt;
		}
		for (size_t i = 0; i < cfg->n_labels; i++)
			kvs_add(a, labels, astr(a, cfg->labels[i]->key),
				astr(a, cfg->labels[i]->value));
		for (size_t i = 0; i < cfg->n_annotations; i++)
			kvs_add(a, annotations, astr(a, cfg->annotations[i]->key),
				astr(a, cfg->annotations[i]->value));
		runtime__v1__container_config__free_unpacked(cfg, NULL);
		return;
	}
	/* kubelet's labels of a container: its name and its pod's */
	kvs_add(a, labels, "io.kubernetes.container.name", name);
	kvs_add(a, labels, "io.kubernetes.pod.name", pod->name);
	kvs_add(a, labels, "io.kubernetes.pod.namespace", pod->ns);
	kvs_add(a, labels, "io.kubernetes.pod.uid", pod->uid);
}

/* ---------------------------------------------------------------------------
 * Usage */

static Runtime__V1__CpuUsage *cpu_msg(struct arena *a, struct pp_cri_service *svc,
				      const char *cgroup, const struct pp_cgroup_stats *st,
				      int64_t now)
{
	if (!st->has_cpu)
		return NULL;
	Runtime__V1__CpuUsage *m = anew(a, sizeof(*m));
	runtime__v1__cpu_usage__init(m);
	m->timestamp = now;
	m->usage_core_nano_seconds = u64(a, st->cpu_usage_ns);
	m->usage_nano_cores = u64(a, nano_cores(svc, cgroup, st->cpu_usage_ns, now));
	return m;
}

static Runtime__V1__MemoryUsage *memory_msg(struct arena *a, const struct pp_cgroup_stats *st,
					    int64_t now)
{
	if (!st->has_memory)
		return NULL;
	Runtime__V1__MemoryUsage *m = anew(a, sizeof(*m));
	runtime__v1__memory_usage__init(m);
	m->timestamp = now;
	m->working_set_bytes = u64(a, st->memory_working_set);
	m->usage_bytes = u64(a, st->memory_usage);
	m->rss_bytes = u64(a, st->memory_rss);
	m->page_faults = u64(a, st->memory_pgfault);
	m->major_page_faults = u64(a, st->memory_pgmajfault);
	/* cAdvisor's: only under a limit */
	if (st->memory_limit)
		m->available_bytes = u64(a, st->memory_limit > st->memory_working_set
						? st->memory_limit - st->memory_working_set
						: 0);
	return m;
}

static Runtime__V1__SwapUsage *swap_msg(struct arena *a, const struct pp_cgroup_stats *st,
					int64_t now)
{
	if (!st->has_swap)
		return NULL;
	Runtime__V1__SwapUsage *m = anew(a, sizeof(*m));
	runtime__v1__swap_usage__init(m);
	m->timestamp = now;
	m->swap_usage_bytes = u64(a, st->swap_usage);
	if (st->swap_limit)
		m->swap_available_bytes =
		    u64(a, st->swap_limit > st->swap_usage ? st->swap_limit - st->swap_usage : 0);
	return m;
}

/* nftw has no context argument; the server is single-threaded. */
static uint64_t layer_bytes, layer_inodes;

static int count_layer_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	layer_inodes++;
	layer_bytes += (uint64_t)sb->st_blocks * 512;
	return 0;
}

/* The container's writable layer: its overlay upper directory (bytes in
 * blocks and inodes, as du counts them), on its filesystem only. */
static Runtime__V1__FilesystemUsage *layer_msg(struct arena *a, const char *data_dir,
					       const char *name, int64_t now)
{
	if (data_dir == NULL)
		return NULL;
	cleanup_free char *upper = xasprintf("%s/containers/%s/upper", data_dir, name);
	layer_bytes = layer_inodes = 0;
	if (nftw(upper, count_layer_entry, LAYER_WALK_FDS, FTW_PHYS | FTW_MOUNT) < 0)
		return NULL; /* not made yet, or removed */
	Runtime__V1__FilesystemUsage *m = anew(a, sizeof(*m));
	runtime__v1__filesystem_usage__init(m);
	m->timestamp = now;
	Runtime__V1__FilesystemIdentifier *id = anew(a, sizeof(*id));
	runtime__v1__filesystem_identifier__init(id);
	id->mountpoint = astr(a, upper);
	m->fs_id = id;
	m->used_bytes = u64(a, layer_bytes);
	m->inodes_used = u64(a, layer_inodes);
	return m;
}

/* ---------------------------------------------------------------------------
 * A container's stats */

struct ctr_ref {
	const char *name;
	int restarts;
	int pid; /* 0: not running */
};

/* The containers in the view's status (init, app, ephemeral), calling fn on
 * each until it returns false. */
static void each_container(struct pp_pod_view *v, bool (*fn)(void *, const struct ctr_ref *),
			   void *arg)
{
	static const char *const lists[] = {"initContainerStatuses", "containerStatuses",
					    "ephemeralContainerStatuses"};
	struct json_object *status = jkey(v->obj, "status");
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		struct json_object *cs = jkey(status, lists[l]);
		if (cs == NULL || !json_object_is_type(cs, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(cs); i++) {
			struct json_object *c = json_object_array_get_idx(cs, i);
			struct json_object *name = jkey(c, "name");
			if (name == NULL || !json_object_is_type(name, json_type_string))
				continue;
			struct ctr_ref r = {.name = json_object_get_string(name),
					    .restarts =
						json_object_get_int(jkey(c, "restartCount")),
					    .pid = json_object_get_int(jkey(c, "pid"))};
			if (!fn(arg, &r))
				return;
		}
	}
}

static Runtime__V1__ContainerStats *container_stats(struct arena *a, struct pp_cri_service *svc,
						    struct pp_pod_view *v,
						    const struct sandbox_meta *pod,
						    const struct ctr_ref *c)
{
	Runtime__V1__ContainerStats *m = anew(a, sizeof(*m));
	runtime__v1__container_stats__init(m);
	Runtime__V1__ContainerAttributes *at = anew(a, sizeof(*at));
	runtime__v1__container_attributes__init(at);
	char id[CRI_ID_LEN + 1];
	cri_container_id(v->uid, c->name, id);
	at->id = astr(a, id);
	Runtime__V1__ContainerMetadata *md = anew(a, sizeof(*md));
	runtime__v1__container_metadata__init(md);
	md->name = astr(a, c->name);
	md->attempt = c->restarts > 0 ? (uint32_t)c->restarts : 0;
	at->metadata = md;
	struct kvs labels, annotations;
	container_meta_of(a, v->uid, pod, c->name, md, &labels, &annotations);
	FILL_MAP(a, Runtime__V1__ContainerAttributes__LabelsEntry,
		 runtime__v1__container_attributes__labels_entry__init, labels, at->labels,
		 at->n_labels);
	FILL_MAP(a, Runtime__V1__ContainerAttributes__AnnotationsEntry,
		 runtime__v1__container_attributes__annotations_entry__init, annotations,
		 at->annotations, at->n_annotations);
	m->attributes = at;

	int64_t now = pp_realtime_ns();
	const char *pod_cg = pp_pod_view_str(v, "peapod.cgroup.path");
	struct pp_cgroup_stats st;
	/* only a live pod's cgroups are its own (a finished one's are gone) */
	if (v->alive && pod_cg && c->pid > 0) {
		cleanup_free char *cg = xasprintf("%s/%s", pod_cg, c->name);
		if (pp_cgroup_stats_read(cg, &st, NULL) == 0) {
			m->cpu = cpu_msg(a, svc, cg, &st, now);
			m->memory = memory_msg(a, &st, now);
			m->swap = swap_msg(a, &st, now);
		}
	}
	m->writable_layer = layer_msg(a, pp_pod_view_str(v, "peapod.dataDir"), c->name, now);
	return m;
}

/* ---------------------------------------------------------------------------
 * A sandbox's network: /proc/PID/net/dev of a process in its network
 * namespace. */

int cri_net_dev_parse(const char *text, struct cri_net_dev **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	/* two header lines, then "  name: rx_bytes packets errs drop fifo
	 * frame compressed multicast tx_bytes packets errs ..." */
	const char *p = text;
	for (int skip = 0; skip < 2 && p; skip++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *colon = strchr(p, ':');
		const char *eol = strchr(p, '\n');
		if (colon == NULL || (eol && colon > eol))
			continue;
		while (*p == ' ')
			p++;
		size_t len = (size_t)(colon - p);
		if (len == 0 || len >= sizeof((*out)->name))
			continue;
		uint64_t f[11];
		if (sscanf(colon + 1,
			   "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
			   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9],
			   &f[10]) != 11)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		struct cri_net_dev *d = &(*out)[(*n)++];
		memcpy(d->name, p, len);
		d->name[len] = '\0';
		d->rx_bytes = f[0];
		d->rx_errors = f[2];
		d->tx_bytes = f[8];
		d->tx_errors = f[10];
	}
	return 0;
}

static Runtime__V1__NetworkInterfaceUsage *iface_msg(struct arena *a, const struct cri_net_dev *d)
{
	Runtime__V1__NetworkInterfaceUsage *m = anew(a, sizeof(*m));
	runtime__v1__network_interface_usage__init(m);
	m->name = astr(a, d->name);
	m->rx_bytes = u64(a, d->rx_bytes);
	m->rx_errors = u64(a, d->rx_errors);
	m->tx_bytes = u64(a, d->tx_bytes);
	m->tx_errors = u64(a, d->tx_errors);
	return m;
}

static Runtime__V1__NetworkUsage *network_msg(struct arena *a, int pid, int64_t now)
{
	if (pid <= 0)
		return NULL;
	cleanup_free char *path = xasprintf("/proc/%d/net/dev", pid);
	cleanup_free char *text = NULL;
	if (pp_read_file(path, NET_DEV_MAX, &text, NULL, NULL) < 0)
		return NULL;
	struct cri_net_dev *devs = NULL;
	size_t n = 0;
	cri_net_dev_parse(text, &devs, &n);
	Runtime__V1__NetworkUsage *m = anew(a, sizeof(*m));
	runtime__v1__network_usage__init(m);
	m->timestamp = now;
	m->interfaces = anew(a, (n ? n : 1) * sizeof(*m->interfaces));
	for (size_t k = 0; k < n; k++) {
		if (strcmp(devs[k].name, "lo") == 0)
			continue;
		if (strcmp(devs[k].name, DEFAULT_INTERFACE) == 0)
			m->default_interface = iface_msg(a, &devs[k]);
		else
			m->interfaces[m->n_interfaces++] = iface_msg(a, &devs[k]);
	}
	free(devs);
	return m;
}

/* ---------------------------------------------------------------------------
 * A sandbox's stats */

struct sandbox_walk {
	struct arena *a;
	struct pp_cri_service *svc;
	struct pp_pod_view *v;
	const struct sandbox_meta *meta;
	Runtime__V1__LinuxPodSandboxStats *linux_;
	int pid; /* a running container's: the pod's network namespace */
};

static bool add_sandbox_container(void *arg, const struct ctr_ref *c)
{
	struct sandbox_walk *w = arg;
	Runtime__V1__LinuxPodSandboxStats *l = w->linux_;
	Runtime__V1__ContainerStats **cs = anew(w->a, (l->n_containers + 1) * sizeof(*cs));
	if (l->n_containers)
		memcpy(cs, l->containers, l->n_containers * sizeof(*cs));
	cs[l->n_containers++] = container_stats(w->a, w->svc, w->v, w->meta, c);
	l->containers = cs;
	if (w->pid == 0 && c->pid > 0)
		w->pid = c->pid;
	return true;
}

static Runtime__V1__PodSandboxStats *sandbox_stats(struct arena *a, struct pp_cri_service *svc,
						   struct pp_pod_view *v,
						   const struct sandbox_meta *meta)
{
	Runtime__V1__PodSandboxStats *m = anew(a, sizeof(*m));
	runtime__v1__pod_sandbox_stats__init(m);
	Runtime__V1__PodSandboxAttributes *at = anew(a, sizeof(*at));
	runtime__v1__pod_sandbox_attributes__init(at);
	char id[CRI_ID_LEN + 1];
	cri_sandbox_id(v->uid, id);
	at->id = astr(a, id);
	Runtime__V1__PodSandboxMetadata *md = anew(a, sizeof(*md));
	runtime__v1__pod_sandbox_metadata__init(md);
	md->name = astr(a, meta->name);
	md->namespace_ = astr(a, meta->ns);
	md->uid = astr(a, meta->uid);
	md->attempt = meta->attempt;
	at->metadata = md;
	FILL_MAP(a, Runtime__V1__PodSandboxAttributes__LabelsEntry,
		 runtime__v1__pod_sandbox_attributes__labels_entry__init, meta->labels, at->labels,
		 at->n_labels);
	FILL_MAP(a, Runtime__V1__PodSandboxAttributes__AnnotationsEntry,
		 runtime__v1__pod_sandbox_attributes__annotations_entry__init, meta->annotations,
		 at->annotations, at->n_annotations);
	m->attributes = at;

	Runtime__V1__LinuxPodSandboxStats *l = anew(a, sizeof(*l));
	runtime__v1__linux_pod_sandbox_stats__init(l);
	m->linux = l;
	struct sandbox_walk w = {.a = a, .svc = svc, .v = v, .meta = meta, .linux_ = l};
	each_container(v, add_sandbox_container, &w);
	int64_t now = pp_realtime_ns();
	const char *cg = pp_pod_view_str(v, "peapod.cgroup.path");
	struct pp_cgroup_stats st;
	if (v->alive && cg && pp_cgroup_stats_read(cg, &st, NULL) == 0) {
		l->cpu = cpu_msg(a, svc, cg, &st, now);
		l->memory = memory_msg(a, &st, now);
		if (st.has_pids) {
			Runtime__V1__ProcessUsage *p = anew(a, sizeof(*p));
			runtime__v1__process_usage__init(p);
			p->timestamp = now;
			p->process_count = u64(a, st.pids);
			l->process = p;
		}
	}
	if (v->alive)
		l->network = network_msg(a, w.pid, now);
	return m;
}

/* ---------------------------------------------------------------------------
 * The handlers */

/* A not-found or ambiguous id as the CRI says it. */
static void reply_find_error(struct pp_grpc_reply *reply, const char *method,
			     const struct pp_error *err)
{
	char buf[512];
	int code = err && err->status == ENOENT	  ? PP_GRPC_NOT_FOUND
		   : err && err->status == EINVAL ? PP_GRPC_INVALID_ARGUMENT
						  : PP_GRPC_UNKNOWN;
	pp_grpc_reply_error(reply, code, "%s: %s", method, pp_error_text(err, buf, sizeof(buf)));
}

struct one_container {
	struct arena *a;
	struct pp_cri_service *svc;
	struct pp_pod_view *v;
	const struct sandbox_meta *meta;
	const char *name;
	Runtime__V1__ContainerStats *out;
};

static bool pick_container(void *arg, const struct ctr_ref *c)
{
	struct one_container *o = arg;
	if (strcmp(c->name, o->name) != 0)
		return true;
	o->out = container_stats(o->a, o->svc, o->v, o->meta, c);
	return false;
}

void cri_container_stats(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__ContainerStatsRequest *req = cri_unpack(
	    &runtime__v1__container_stats_request__descriptor, msg, len, "ContainerStats", reply);
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	cleanup_free char *name = NULL;
	if (req->container_id[0] == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "ContainerStats: container_id is required");
	} else if (cri_find_container(req->container_id, &v, &name, &err) < 0) {
		reply_find_error(reply, "ContainerStats", err);
	} else {
		struct arena a = {0};
		struct sandbox_meta meta;
		sandbox_meta_of(&a, &v, &meta);
		struct one_container o = {
		    .a = &a, .svc = svc, .v = &v, .meta = &meta, .name = name};
		each_container(&v, pick_container, &o);
		Runtime__V1__ContainerStatsResponse resp =
		    RUNTIME__V1__CONTAINER_STATS_RESPONSE__INIT;
		resp.stats = o.out;
		cri_reply_message(reply, &resp.base);
		arena_free(&a);
		pp_pod_view_free(&v);
	}
	runtime__v1__container_stats_request__free_unpacked(req, NULL);
}

/* The pods a List call covers: the one an id names (any pod: a CLI pod
 * too), or every pod made through the CRI. An id that finds none is an
 * empty list, as containerd answers. */
static int list_views(const char *sandbox_id, const char *container_id, struct pp_pod_view **out,
		      size_t *n, char **name, struct pp_error **err)
{
	*out = NULL;
	*n = 0;
	if ((sandbox_id && *sandbox_id) || (container_id && *container_id)) {
		cleanup_error struct pp_error *find_err = NULL;
		struct pp_pod_view v = {0};
		int r = container_id && *container_id
			    ? cri_find_container(container_id, &v, name, &find_err)
			    : cri_find_sandbox(sandbox_id, &v, &find_err);
		if (r < 0)
			return 0;
		if (sandbox_id && *sandbox_id) { /* both given: both must hold */
			char sid[CRI_ID_LEN + 1];
			cri_sandbox_id(v.uid, sid);
			if (strncmp(sid, sandbox_id, strlen(sandbox_id)) != 0) {
				pp_pod_view_free(&v);
				return 0;
			}
		}
		*out = xmalloc(sizeof(**out));
		(*out)[0] = v;
		*n = 1;
		return 0;
	}
	struct pp_pod_view *all = NULL;
	size_t na = 0;
	if (pp_pod_views_list(NULL, &all, &na, err) < 0)
		return -1;
	for (size_t k = 0; k < na; k++) {
		if (!cri_view_is_cri(&all[k])) {
			pp_pod_view_free(&all[k]);
			continue;
		}
		all[(*n)++] = all[k];
	}
	*out = all;
	return 0;
}

struct list_walk {
	struct arena *a;
	struct pp_cri_service *svc;
	struct pp_pod_view *v;
	const struct sandbox_meta *meta;
	const char *only; /* a container's name, or NULL */
	Runtime__V1__ContainerStatsFilter__LabelSelectorEntry **sel;
	size_t n_sel;
	Runtime__V1__ContainerStats **out;
	size_t n, cap;
};

static bool add_listed_container(void *arg, const struct ctr_ref *c)
{
	struct list_walk *w = arg;
	if (w->only && strcmp(c->name, w->only) != 0)
		return true;
	struct kvs labels, annotations;
	container_meta_of(w->a, w->v->uid, w->meta, c->name, NULL, &labels, &annotations);
	if (!SELECTED(labels, w->sel, w->n_sel))
		return true;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 8;
		w->out = xrealloc(w->out, w->cap * sizeof(*w->out));
	}
	w->out[w->n++] = container_stats(w->a, w->svc, w->v, w->meta, c);
	return true;
}

void cri_list_container_stats(void *ctx, const uint8_t *msg, size_t len,
			      struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__ListContainerStatsRequest *req =
	    cri_unpack(&runtime__v1__list_container_stats_request__descriptor, msg, len,
		       "ListContainerStats", reply);
	if (req == NULL)
		return;
	const Runtime__V1__ContainerStatsFilter *f = req->filter;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	cleanup_free char *name = NULL;
	if (list_views(f ? f->pod_sandbox_id : NULL, f ? f->id : NULL, &views, &n, &name, &err) <
	    0) {
		reply_find_error(reply, "ListContainerStats", err);
		runtime__v1__list_container_stats_request__free_unpacked(req, NULL);
		return;
	}
	struct arena a = {0};
	struct list_walk w = {.a = &a,
			      .svc = svc,
			      .only = name,
			      .sel = f ? f->label_selector : NULL,
			      .n_sel = f ? f->n_label_selector : 0};
	for (size_t k = 0; k < n; k++) {
		struct sandbox_meta meta;
		sandbox_meta_of(&a, &views[k], &meta);
		w.v = &views[k];
		w.meta = &meta;
		each_container(&views[k], add_listed_container, &w);
	}
	Runtime__V1__ListContainerStatsResponse resp =
	    RUNTIME__V1__LIST_CONTAINER_STATS_RESPONSE__INIT;
	resp.stats = w.out;
	resp.n_stats = w.n;
	cri_reply_message(reply, &resp.base);
	free(w.out);
	arena_free(&a);
	pp_pod_views_free(views, n);
	runtime__v1__list_container_stats_request__free_unpacked(req, NULL);
}

void cri_pod_sandbox_stats(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__PodSandboxStatsRequest *req =
	    cri_unpack(&runtime__v1__pod_sandbox_stats_request__descriptor, msg, len,
		       "PodSandboxStats", reply);
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	if (req->pod_sandbox_id[0] == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "PodSandboxStats: pod_sandbox_id is required");
	} else if (cri_find_sandbox(req->pod_sandbox_id, &v, &err) < 0) {
		reply_find_error(reply, "PodSandboxStats", err);
	} else {
		struct arena a = {0};
		struct sandbox_meta meta;
		sandbox_meta_of(&a, &v, &meta);
		Runtime__V1__PodSandboxStatsResponse resp =
		    RUNTIME__V1__POD_SANDBOX_STATS_RESPONSE__INIT;
		resp.stats = sandbox_stats(&a, svc, &v, &meta);
		cri_reply_message(reply, &resp.base);
		arena_free(&a);
		pp_pod_view_free(&v);
	}
	runtime__v1__pod_sandbox_stats_request__free_unpacked(req, NULL);
}

void cri_list_pod_sandbox_stats(void *ctx, const uint8_t *msg, size_t len,
				struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__ListPodSandboxStatsRequest *req =
	    cri_unpack(&runtime__v1__list_pod_sandbox_stats_request__descriptor, msg, len,
		       "ListPodSandboxStats", reply);
	if (req == NULL)
		return;
	const Runtime__V1__PodSandboxStatsFilter *f = req->filter;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	if (list_views(f ? f->id : NULL, NULL, &views, &n, NULL, &err) < 0) {
		reply_find_error(reply, "ListPodSandboxStats", err);
		runtime__v1__list_pod_sandbox_stats_request__free_unpacked(req, NULL);
		return;
	}
	struct arena a = {0};
	Runtime__V1__PodSandboxStats **out = xmalloc((n ? n : 1) * sizeof(*out));
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		struct sandbox_meta meta;
		sandbox_meta_of(&a, &views[k], &meta);
		if (f && !SELECTED(meta.labels, f->label_selector, f->n_label_selector))
			continue;
		out[m++] = sandbox_stats(&a, svc, &views[k], &meta);
	}
	Runtime__V1__ListPodSandboxStatsResponse resp =
	    RUNTIME__V1__LIST_POD_SANDBOX_STATS_RESPONSE__INIT;
	resp.stats = out;
	resp.n_stats = m;
	cri_reply_message(reply, &resp.base);
	free(out);
	arena_free(&a);
	pp_pod_views_free(views, n);
	runtime__v1__list_pod_sandbox_stats_request__free_unpacked(req, NULL);
}
