/* The CRI's configs as peapod's own: a PodSandboxConfig becomes a Pod
 * manifest (JSON) with no container, parsed by the manifest parser like
 * any pod's; a ContainerConfig becomes the control socket's "cri-create"
 * request (a Kubernetes container object, supervisor/control.h). Pure
 * code, unit-tested (tests/unit/test_cri_translate.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cgroup/cgroup.h"
#include "cri/cri_internal.h"
#include "manifest/manifest.h"
#include "state/idrange.h"
#include "util/cleanup.h"

/* The image the parser needs for the placeholder container that carries
 * the sandbox's ports through it; never pulled or run. */
#define PLACEHOLDER_IMAGE "peapod.invalid/cri-sandbox:none"
#define PLACEHOLDER_NAME "cri-sandbox"
/* kubelet's CPU shares for a container with no request (MinShares). */
#define MIN_SHARES 2

static void put(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static void put_str(struct json_object *o, const char *k, const char *v)
{
	put(o, k, json_object_new_string(v));
}

static struct json_object *strv_json(char **v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* kubelet expanded $(VAR) already: the words as they are. */
static struct json_object *words_json(char **v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *w = cri_escape_vars(v[i]);
		json_object_array_add(a, json_object_new_string(w));
	}
	return a;
}

static bool safe_id(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

#define MAX_UID_LEN 128

char *cri_pod_name(const char *name, uint32_t attempt)
{
	return xasprintf("%s-%" PRIu32, name, attempt);
}

char *cri_pod_uid(const char *uid, uint32_t attempt)
{
	return xasprintf("%s-%" PRIu32, uid, attempt);
}

char *cri_container_name(const char *name, uint32_t attempt)
{
	return xasprintf("%s-%" PRIu32, name, attempt);
}

static struct json_object *dns_config(const Runtime__V1__DNSConfig *d)
{
	struct json_object *o = json_object_new_object();
	put(o, "nameservers", strv_json(d->servers, d->n_servers));
	put(o, "searches", strv_json(d->searches, d->n_searches));
	struct json_object *opts = json_object_new_array();
	for (size_t i = 0; i < d->n_options; i++) {
		struct json_object *opt = json_object_new_object();
		cleanup_free char *name = xstrdup(d->options[i]);
		char *colon = strchr(name, ':');
		if (colon != NULL)
			*colon++ = '\0';
		put_str(opt, "name", name);
		if (colon != NULL)
			put_str(opt, "value", colon);
		json_object_array_add(opts, opt);
	}
	put(o, "options", opts);
	return o;
}

static struct json_object *placeholder(const Runtime__V1__PodSandboxConfig *cfg)
{
	static const char *const protos[] = {"TCP", "UDP", "SCTP"};
	struct json_object *c = json_object_new_object();
	put_str(c, "name", PLACEHOLDER_NAME);
	put_str(c, "image", PLACEHOLDER_IMAGE);
	struct json_object *ports = json_object_new_array();
	for (size_t i = 0; i < cfg->n_port_mappings; i++) {
		const Runtime__V1__PortMapping *pm = cfg->port_mappings[i];
		struct json_object *p = json_object_new_object();
		put(p, "containerPort", json_object_new_int(pm->container_port));
		if (pm->host_port)
			put(p, "hostPort", json_object_new_int(pm->host_port));
		if (pm->host_ip && *pm->host_ip)
			put_str(p, "hostIP", pm->host_ip);
		unsigned proto = (unsigned)pm->protocol;
		put_str(p, "protocol", proto < 3 ? protos[proto] : "TCP");
		json_object_array_add(ports, p);
	}
	put(c, "ports", ports);
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, c);
	return a;
}

static void security(const Runtime__V1__LinuxPodSandboxConfig *lx, struct json_object *spec)
{
	if (lx == NULL)
		return;
	struct json_object *sc = json_object_new_object();
	const Runtime__V1__LinuxSandboxSecurityContext *s = lx->security_context;
	if (s != NULL) {
		const Runtime__V1__NamespaceOption *ns = s->namespace_options;
		if (ns != NULL) {
			if (ns->network == RUNTIME__V1__NAMESPACE_MODE__NODE)
				put(spec, "hostNetwork", json_object_new_boolean(true));
			if (ns->pid == RUNTIME__V1__NAMESPACE_MODE__NODE)
				put(spec, "hostPID", json_object_new_boolean(true));
			else if (ns->pid == RUNTIME__V1__NAMESPACE_MODE__POD)
				put(spec, "shareProcessNamespace", json_object_new_boolean(true));
			if (ns->ipc == RUNTIME__V1__NAMESPACE_MODE__NODE)
				put(spec, "hostIPC", json_object_new_boolean(true));
			/* a user namespace of the pod's own: peapod's id range */
			if (ns->userns_options != NULL &&
			    ns->userns_options->mode == RUNTIME__V1__NAMESPACE_MODE__POD)
				put(spec, "hostUsers", json_object_new_boolean(false));
		}
		if (s->run_as_user)
			put(sc, "runAsUser", json_object_new_int64(s->run_as_user->value));
		if (s->run_as_group)
			put(sc, "runAsGroup", json_object_new_int64(s->run_as_group->value));
		if (s->n_supplemental_groups) {
			struct json_object *g = json_object_new_array();
			for (size_t i = 0; i < s->n_supplemental_groups; i++)
				json_object_array_add(
				    g, json_object_new_int64(s->supplemental_groups[i]));
			put(sc, "supplementalGroups", g);
		}
	}
	if (lx->n_sysctls) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < lx->n_sysctls; i++) {
			struct json_object *kv = json_object_new_object();
			put_str(kv, "name", lx->sysctls[i]->key);
			put_str(kv, "value", lx->sysctls[i]->value);
			json_object_array_add(a, kv);
		}
		put(sc, "sysctls", a);
	}
	put(spec, "securityContext", sc);
}

/* The pod's user namespace options, NULL when it has none of its own. */
static const Runtime__V1__UserNamespace *pod_userns(const Runtime__V1__PodSandboxConfig *cfg)
{
	const Runtime__V1__LinuxSandboxSecurityContext *s =
	    cfg->linux ? cfg->linux->security_context : NULL;
	const Runtime__V1__UserNamespace *u =
	    s && s->namespace_options ? s->namespace_options->userns_options : NULL;
	return u && u->mode == RUNTIME__V1__NAMESPACE_MODE__POD ? u : NULL;
}

/* kubelet's mappings (hostUsers: false): one range of PP_IDRANGE_SIZE ids
 * from 0 at a multiple of it, the same for uids and gids; none given:
 * peapod's allocator picks one. */
static int userns_check(const Runtime__V1__PodSandboxConfig *cfg, struct pp_error **err)
{
	const Runtime__V1__LinuxSandboxSecurityContext *s =
	    cfg->linux ? cfg->linux->security_context : NULL;
	const Runtime__V1__UserNamespace *u =
	    s && s->namespace_options ? s->namespace_options->userns_options : NULL;
	const char *f = "config.linux.security_context.namespace_options.userns_options";
	if (u == NULL || u->mode == RUNTIME__V1__NAMESPACE_MODE__NODE)
		return 0;
	if (u->mode != RUNTIME__V1__NAMESPACE_MODE__POD)
		return pp_error_set(err, EINVAL, "%s.mode: only POD or NODE", f);
	if (u->n_uids == 0 && u->n_gids == 0)
		return 0;
	if (u->n_uids != 1 || u->n_gids != 1)
		return pp_error_set(err, EINVAL,
				    "%s: one uid and one gid mapping (peapod maps one range), "
				    "got %zu and %zu",
				    f, u->n_uids, u->n_gids);
	const Runtime__V1__IDMapping *m = u->uids[0], *g = u->gids[0];
	if (m->container_id != 0 || m->length != PP_IDRANGE_SIZE ||
	    m->host_id % PP_IDRANGE_SIZE != 0 || m->host_id == 0)
		return pp_error_set(err, EINVAL,
				    "%s.uids[0]: container ids 0..%u at a host id that is a "
				    "non-zero multiple of %u (got %u..%u at %u)",
				    f, PP_IDRANGE_SIZE - 1, PP_IDRANGE_SIZE, m->container_id,
				    m->container_id + m->length - 1, m->host_id);
	if (g->container_id != m->container_id || g->length != m->length ||
	    g->host_id != m->host_id)
		return pp_error_set(err, EINVAL, "%s.gids[0]: not the same range as uids[0]", f);
	return 0;
}

int cri_sandbox_check(const Runtime__V1__PodSandboxConfig *cfg, struct pp_error **err)
{
	if (cfg == NULL)
		return pp_error_set(err, EINVAL, "config is missing");
	const Runtime__V1__PodSandboxMetadata *m = cfg->metadata;
	if (m == NULL)
		return pp_error_set(err, EINVAL, "config.metadata is missing");
	if (m->name == NULL || m->name[0] == '\0')
		return pp_error_set(err, EINVAL, "config.metadata.name is missing");
	if (m->uid == NULL || m->uid[0] == '\0')
		return pp_error_set(err, EINVAL, "config.metadata.uid is missing");
	if (!safe_id(m->uid, MAX_UID_LEN))
		return pp_error_set(err, EINVAL,
				    "config.metadata.uid \"%s\": only letters, digits, '-', '_' "
				    "and '.' (at most %d)",
				    m->uid, MAX_UID_LEN);
	if (m->namespace_ == NULL || m->namespace_[0] == '\0')
		return pp_error_set(err, EINVAL, "config.metadata.namespace is missing");
	if (userns_check(cfg, err) < 0)
		return -1;
	if (cfg->linux && cfg->linux->cgroup_parent && cfg->linux->cgroup_parent[0] &&
	    pp_cgroup_check_parent(cfg->linux->cgroup_parent, err) < 0)
		return pp_error_wrap(err, "config.linux.cgroup_parent");
	return 0;
}

char *cri_sandbox_manifest(const Runtime__V1__PodSandboxConfig *cfg)
{
	const Runtime__V1__PodSandboxMetadata *m = cfg->metadata;
	struct json_object *pod = json_object_new_object();
	put_str(pod, "apiVersion", "v1");
	put_str(pod, "kind", "Pod");
	struct json_object *meta = json_object_new_object();
	cleanup_free char *name = cri_pod_name(m->name, m->attempt);
	cleanup_free char *uid = cri_pod_uid(m->uid, m->attempt);
	put_str(meta, "name", name);
	put_str(meta, "namespace", m->namespace_);
	put_str(meta, "uid", uid);
	put(pod, "metadata", meta);
	struct json_object *spec = json_object_new_object();
	if (cfg->hostname && *cfg->hostname)
		put_str(spec, "hostname", cfg->hostname);
	if (cfg->dns_config != NULL) {
		put_str(spec, "dnsPolicy", "None");
		put(spec, "dnsConfig", dns_config(cfg->dns_config));
	} else {
		put_str(spec, "dnsPolicy", "Default");
	}
	put_str(spec, "restartPolicy", "Never");
	/* StopPodSandbox: kubelet stopped the containers it cared for
	 * already; what is left is killed (containerd's) */
	put(spec, "terminationGracePeriodSeconds", json_object_new_int(0));
	security(cfg->linux, spec);
	put(spec, "containers", placeholder(cfg));
	put(pod, "spec", spec);
	char *text = xstrdup(json_object_to_json_string_ext(
	    pod, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(pod);
	return text;
}

int cri_sandbox_spec(const Runtime__V1__PodSandboxConfig *cfg, struct pp_pod **out,
		     struct pp_error **err)
{
	*out = NULL;
	if (cri_sandbox_check(cfg, err) < 0)
		return -1;
	cleanup_free char *text = cri_sandbox_manifest(cfg);
	struct pp_pod *pod = NULL;
	if (pp_spec_parse_buffer("PodSandboxConfig", text, strlen(text), &pod, err) < 0)
		return -1;
	/* The placeholder's ports are the sandbox's; it goes. */
	struct pp_container *ph = &pod->containers[0];
	pod->cri_ports = ph->ports;
	pod->n_cri_ports = ph->n_ports;
	ph->ports = NULL;
	ph->n_ports = 0;
	pp_container_free(ph);
	pod->containers = NULL;
	pod->n_containers = 0;
	pod->cri = true;
	if (cfg->linux && cfg->linux->cgroup_parent && cfg->linux->cgroup_parent[0])
		pod->cri_cgroup_parent = xstrdup(cfg->linux->cgroup_parent);
	const Runtime__V1__UserNamespace *u = pod_userns(cfg);
	if (u != NULL && u->n_uids == 1) {
		pod->has_cri_id_base = true;
		pod->cri_id_base = u->uids[0]->host_id;
	}
	*out = pod;
	return 0;
}

/* ---- ContainerConfig ---- */

static struct json_object *resources(const Runtime__V1__LinuxContainerResources *r)
{
	struct json_object *res = json_object_new_object();
	struct json_object *lim = json_object_new_object(), *req = json_object_new_object();
	if (r != NULL) {
		if (r->cpu_quota > 0 && r->cpu_period > 0) {
			int64_t milli = r->cpu_quota * 1000 / r->cpu_period;
			cleanup_free char *q = xasprintf("%" PRId64 "m", milli > 0 ? milli : 1);
			put_str(lim, "cpu", q);
		}
		if (r->memory_limit_in_bytes > 0) {
			cleanup_free char *q = xasprintf("%" PRId64, r->memory_limit_in_bytes);
			put_str(lim, "memory", q);
		}
		if (r->cpu_shares > MIN_SHARES) {
			int64_t milli = r->cpu_shares * 1000 / 1024;
			cleanup_free char *q = xasprintf("%" PRId64 "m", milli > 0 ? milli : 1);
			put_str(req, "cpu", q);
		}
	}
	/* a limit without a request is its own request, as the API server
	 * defaults it: a request above it would be refused */
	struct json_object *cpu_lim = NULL, *cpu_req = NULL;
	if (json_object_object_get_ex(lim, "cpu", &cpu_lim) &&
	    json_object_object_get_ex(req, "cpu", &cpu_req)) {
		int64_t l = 0, q = 0;
		sscanf(json_object_get_string(cpu_lim), "%" SCNd64, &l);
		sscanf(json_object_get_string(cpu_req), "%" SCNd64, &q);
		if (q > l)
			json_object_object_del(req, "cpu");
	}
	put(res, "limits", lim);
	put(res, "requests", req);
	return res;
}

static const char *cap_name(const char *c)
{
	return strncmp(c, "CAP_", 4) == 0 ? c + 4 : c;
}

static struct json_object *caps(char **v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(cap_name(v[i])));
	return a;
}

static struct json_object *seccomp(const Runtime__V1__SecurityProfile *p)
{
	struct json_object *o = json_object_new_object();
	switch (p->profile_type) {
	case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined:
		put_str(o, "type", "Unconfined");
		break;
	case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost:
		put_str(o, "type", "Localhost");
		put_str(o, "localhostProfile", p->localhost_ref ? p->localhost_ref : "");
		break;
	case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault:
	default:
		put_str(o, "type", "RuntimeDefault");
		break;
	}
	return o;
}

static struct json_object *container_security(const Runtime__V1__LinuxContainerSecurityContext *s)
{
	struct json_object *sc = json_object_new_object();
	if (s == NULL)
		return sc;
	if (s->run_as_user)
		put(sc, "runAsUser", json_object_new_int64(s->run_as_user->value));
	if (s->run_as_group)
		put(sc, "runAsGroup", json_object_new_int64(s->run_as_group->value));
	if (s->privileged)
		put(sc, "privileged", json_object_new_boolean(true));
	if (s->readonly_rootfs)
		put(sc, "readOnlyRootFilesystem", json_object_new_boolean(true));
	if (s->no_new_privs && !s->privileged)
		put(sc, "allowPrivilegeEscalation", json_object_new_boolean(false));
	if (s->capabilities != NULL) {
		struct json_object *c = json_object_new_object();
		put(c, "add",
		    caps(s->capabilities->add_capabilities, s->capabilities->n_add_capabilities));
		put(c, "drop",
		    caps(s->capabilities->drop_capabilities, s->capabilities->n_drop_capabilities));
		put(sc, "capabilities", c);
	}
	if (s->seccomp != NULL)
		put(sc, "seccompProfile", seccomp(s->seccomp));
	return sc;
}

static struct json_object *mounts(const Runtime__V1__ContainerConfig *cfg)
{
	static const char *const props[] = {"None", "HostToContainer", "Bidirectional"};
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const Runtime__V1__Mount *m = cfg->mounts[i];
		struct json_object *o = json_object_new_object();
		put_str(o, "hostPath", m->host_path ? m->host_path : "");
		put_str(o, "containerPath", m->container_path ? m->container_path : "");
		put(o, "readOnly", json_object_new_boolean(m->readonly));
		unsigned p = (unsigned)m->propagation;
		put_str(o, "propagation", p < 3 ? props[p] : "None");
		json_object_array_add(a, o);
	}
	return a;
}

/* A clean absolute path below dir ("/dev/"): no ".", "..", "//" or
 * trailing '/'. */
static bool clean_below(const char *p, const char *dir)
{
	size_t n = strlen(dir);
	if (strncmp(p, dir, n) != 0 || p[n] == '\0' || p[strlen(p) - 1] == '/')
		return false;
	for (const char *c = p + n - 1; c != NULL; c = strchr(c + 1, '/')) {
		const char *next = c + 1;
		if (*next == '/' || (next[0] == '.' && (next[1] == '/' || next[1] == '\0')) ||
		    (next[0] == '.' && next[1] == '.' && (next[2] == '/' || next[2] == '\0')))
			return false;
	}
	return true;
}

/* A device kubelet gives: a node on this host, a path under /dev, "rwm". */
static int device_check(const Runtime__V1__Device *d, size_t i, struct pp_error **err)
{
	struct stat st;
	if (d->host_path == NULL || d->host_path[0] != '/')
		return pp_error_set(err, EINVAL,
				    "config.devices[%zu]: host_path must be an absolute path", i);
	if (stat(d->host_path, &st) < 0)
		return pp_error_set(err, EINVAL, "config.devices[%zu]: host_path %s: %s", i,
				    d->host_path, strerror(errno));
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return pp_error_set(err, EINVAL,
				    "config.devices[%zu]: host_path %s is not a character or "
				    "block device",
				    i, d->host_path);
	if (d->container_path == NULL || !clean_below(d->container_path, "/dev/"))
		return pp_error_set(err, EINVAL,
				    "config.devices[%zu]: container_path \"%s\": peapod makes "
				    "devices under /dev/ only (a clean path)",
				    i, d->container_path ? d->container_path : "");
	if (d->permissions && strspn(d->permissions, "rwm") != strlen(d->permissions))
		return pp_error_set(err, EINVAL,
				    "config.devices[%zu]: permissions \"%s\": only the letters "
				    "r, w and m",
				    i, d->permissions);
	return 0;
}

int cri_container_check(const Runtime__V1__ContainerConfig *cfg, struct pp_error **err)
{
	if (cfg == NULL)
		return pp_error_set(err, EINVAL, "config is missing");
	if (cfg->metadata == NULL || cfg->metadata->name == NULL || !cfg->metadata->name[0])
		return pp_error_set(err, EINVAL, "config.metadata.name is missing");
	if (cfg->image == NULL || cfg->image->image == NULL || !cfg->image->image[0])
		return pp_error_set(err, EINVAL, "config.image is missing");
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const Runtime__V1__Mount *m = cfg->mounts[i];
		if (m->host_path == NULL || m->host_path[0] != '/' || m->container_path == NULL ||
		    m->container_path[0] != '/')
			return pp_error_set(err, EINVAL,
					    "config.mounts[%zu]: host_path and container_path "
					    "must be absolute paths",
					    i);
	}
	for (size_t i = 0; i < cfg->n_envs; i++) {
		const Runtime__V1__KeyValue *e = cfg->envs[i];
		if (e->key == NULL || e->key[0] == '\0' || strchr(e->key, '=') != NULL)
			return pp_error_set(err, EINVAL,
					    "config.envs[%zu]: key \"%s\" is not a "
					    "variable name",
					    i, e->key ? e->key : "");
		if (e->value.len && memchr(e->value.data, '\0', e->value.len) != NULL)
			return pp_error_set(err, EINVAL,
					    "config.envs[%zu] (%s): a NUL in the value", i, e->key);
	}
	for (size_t i = 0; i < cfg->n_devices; i++)
		if (device_check(cfg->devices[i], i, err) < 0)
			return -1;
	return 0;
}

static struct json_object *devices(const Runtime__V1__ContainerConfig *cfg)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < cfg->n_devices; i++) {
		const Runtime__V1__Device *d = cfg->devices[i];
		struct json_object *o = json_object_new_object();
		put_str(o, "hostPath", d->host_path);
		put_str(o, "containerPath", d->container_path);
		put_str(o, "permissions",
			d->permissions && *d->permissions ? d->permissions : "rwm");
		json_object_array_add(a, o);
	}
	return a;
}

char *cri_container_request(const Runtime__V1__ContainerConfig *cfg, const char *name,
			    const char *image, const char *log_path)
{
	struct json_object *c = json_object_new_object();
	put_str(c, "name", name);
	put_str(c, "image", image);
	put_str(c, "imagePullPolicy", "Never");
	if (cfg->n_command)
		put(c, "command", words_json(cfg->command, cfg->n_command));
	if (cfg->n_args)
		put(c, "args", words_json(cfg->args, cfg->n_args));
	if (cfg->working_dir && *cfg->working_dir)
		put_str(c, "workingDir", cfg->working_dir);
	if (cfg->n_envs) {
		struct json_object *env = json_object_new_array();
		for (size_t i = 0; i < cfg->n_envs; i++) {
			struct json_object *e = json_object_new_object();
			put_str(e, "name", cfg->envs[i]->key ? cfg->envs[i]->key : "");
			/* CRI values are final: $(VAR) must stay as written */
			const ProtobufCBinaryData *b = &cfg->envs[i]->value;
			cleanup_free char *raw = xmalloc(b->len + 1);
			if (b->len)
				memcpy(raw, b->data, b->len);
			cleanup_free char *v = cri_escape_vars(raw);
			put_str(e, "value", v);
			json_object_array_add(env, e);
		}
		put(c, "env", env);
	}
	if (cfg->stdin)
		put(c, "stdin", json_object_new_boolean(true));
	if (cfg->stdin_once)
		put(c, "stdinOnce", json_object_new_boolean(true));
	if (cfg->tty)
		put(c, "tty", json_object_new_boolean(true));
	/* kubelet mounts the termination log itself */
	put_str(c, "terminationMessagePolicy", "File");
	const Runtime__V1__LinuxContainerConfig *lx = cfg->linux;
	put(c, "resources", resources(lx ? lx->resources : NULL));
	const Runtime__V1__LinuxContainerSecurityContext *sc = lx ? lx->security_context : NULL;
	put(c, "securityContext", container_security(sc));
	struct json_object *req = json_object_new_object();
	put(req, "container", c);
	put(req, "mounts", mounts(cfg));
	if (cfg->n_devices)
		put(req, "devices", devices(cfg));
	/* kubelet's masked and read-only paths replace peapod's defaults; an
	 * empty list is not told from an absent one on the wire (proto3):
	 * both empty keep the defaults */
	if (sc != NULL && (sc->n_masked_paths || sc->n_readonly_paths)) {
		put(req, "maskedPaths", strv_json(sc->masked_paths, sc->n_masked_paths));
		put(req, "readonlyPaths", strv_json(sc->readonly_paths, sc->n_readonly_paths));
	}
	if (log_path != NULL)
		put_str(req, "logPath", log_path);
	char *text = xstrdup(json_object_to_json_string_ext(
	    req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	return text;
}

char *cri_escape_vars(const char *v)
{
	if (v == NULL)
		return xstrdup("");
	size_t n = 0;
	for (const char *p = v; *p; p++)
		n += *p == '$' ? 2 : 1;
	char *out = xmalloc(n + 1), *q = out;
	for (const char *p = v; *p; p++) {
		if (*p == '$')
			*q++ = '$';
		*q++ = *p;
	}
	*q = '\0';
	return out;
}

char *cri_update_request(const char *name, const Runtime__V1__LinuxContainerResources *r)
{
	struct json_object *c = json_object_new_object();
	put_str(c, "name", name);
	put_str(c, "image", PLACEHOLDER_IMAGE);
	put(c, "resources", resources(r));
	struct json_object *req = json_object_new_object();
	put_str(req, "name", name);
	put(req, "container", c);
	char *text = xstrdup(json_object_to_json_string_ext(
	    req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	return text;
}
