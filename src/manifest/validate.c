/* Cross-field checks made once the whole spec is parsed: uniqueness of names
 * and references between containers and volumes. */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

static char *container_path(const struct pp_container *ct, size_t i, const char *rest)
{
	return xasprintf("%s[%zu]%s", ct->is_init ? "spec.initContainers" : "spec.containers", i,
			 rest);
}

static int check_volume_names(struct pctx *c, const struct pp_pod *pod)
{
	for (size_t i = 0; i < pod->n_volumes; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(pod->volumes[i].name, pod->volumes[j].name) != 0)
				continue;
			cleanup_free char *p = xasprintf("spec.volumes[%zu].name", i);
			return perr(c, pod->volumes[i].name_pos, p, "duplicate volume name \"%s\"",
				    pod->volumes[i].name);
		}
	}
	return 0;
}

/* Init and app containers share one name space. */
static int check_container_names(struct pctx *c, const struct pp_pod *pod)
{
	size_t n = pod->n_init_containers + pod->n_containers;
	for (size_t i = 0; i < n; i++) {
		bool init_i = i < pod->n_init_containers;
		size_t idx = init_i ? i : i - pod->n_init_containers;
		const struct pp_container *ct =
		    init_i ? &pod->init_containers[i] : &pod->containers[idx];
		for (size_t j = 0; j < i; j++) {
			const struct pp_container *o =
			    j < pod->n_init_containers
				? &pod->init_containers[j]
				: &pod->containers[j - pod->n_init_containers];
			if (strcmp(ct->name, o->name) != 0)
				continue;
			cleanup_free char *p = container_path(ct, idx, ".name");
			return perr(
			    c, ct->name_pos, p, "duplicate container name \"%s\"%s", ct->name,
			    o->is_init != ct->is_init ? " (init and app containers share names)"
						      : "");
		}
	}
	return 0;
}

static bool volume_declared(const struct pp_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->n_volumes; i++)
		if (strcmp(pod->volumes[i].name, name) == 0)
			return true;
	return false;
}

/* A Bidirectional mount sends the container's mounts to the host: the API
 * server allows it to privileged containers only. */
static int check_propagation(struct pctx *c, const struct pp_container *ct,
			     const struct pp_volume_mount *m, const char *base, size_t i)
{
	bool privileged = ct->security.has_privileged && ct->security.privileged;
	if (m->propagation != PP_PROPAGATION_BIDIRECTIONAL || privileged)
		return 0;
	cleanup_free char *p = xasprintf("%s.volumeMounts[%zu].mountPropagation", base, i);
	return perr(c, m->propagation_pos, p,
		    "Bidirectional mount propagation is available only to privileged containers");
}

static int check_mounts(struct pctx *c, const struct pp_pod *pod, const struct pp_container *ct,
			size_t idx)
{
	for (size_t i = 0; i < ct->n_volume_mounts; i++) {
		const struct pp_volume_mount *m = &ct->volume_mounts[i];
		cleanup_free char *base = container_path(ct, idx, "");
		if (!volume_declared(pod, m->name)) {
			cleanup_free char *p = xasprintf("%s.volumeMounts[%zu].name", base, i);
			return perr(c, m->name_pos, p,
				    "volume \"%s\" is not declared in spec.volumes", m->name);
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(m->mount_path, ct->volume_mounts[j].mount_path) != 0)
				continue;
			cleanup_free char *p = xasprintf("%s.volumeMounts[%zu].mountPath", base, i);
			return perr(c, m->mount_path_pos, p, "duplicate mountPath \"%s\"",
				    m->mount_path);
		}
		if (check_propagation(c, ct, m, base, i) < 0)
			return -1;
	}
	return 0;
}

static int check_ports(struct pctx *c, const struct pp_container *ct, size_t idx)
{
	for (size_t i = 0; i < ct->n_ports; i++) {
		const struct pp_port *p = &ct->ports[i];
		for (size_t j = 0; p->name && j < i; j++) {
			if (ct->ports[j].name == NULL || strcmp(p->name, ct->ports[j].name) != 0)
				continue;
			cleanup_free char *path = container_path(ct, idx, "");
			cleanup_free char *fp = xasprintf("%s.ports[%zu].name", path, i);
			return perr(c, p->name_pos, fp, "duplicate port name \"%s\"", p->name);
		}
	}
	return 0;
}

static int check_container_refs(struct pctx *c, const struct pp_pod *pod,
				const struct pp_container *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (check_mounts(c, pod, &list[i], i) < 0 || check_ports(c, &list[i], i) < 0)
			return -1;
	return 0;
}

/* kubelet: the pod name cut to 63 characters, without a trailing '-' or '.'. */
static char *default_hostname(const char *name)
{
	size_t len = strnlen(name, PP_DNS1123_LABEL_MAX);
	while (len > 1 && (name[len - 1] == '-' || name[len - 1] == '.'))
		len--;
	char *h = strndup(name, len);
	if (h == NULL)
		abort();
	return h;
}

/* A sysctl of the host's own namespace would change the host: the API
 * server refuses net.* with hostNetwork and the IPC ones with hostIPC. */
static int check_sysctls_host_ns(struct pctx *c, const struct pp_ynode *root)
{
	const struct pp_pod *pod = c->pod;
	const struct pp_ynode *spec = pp_ymap_get(root, "spec");
	const struct pp_ynode *sc = spec ? pp_ymap_get(spec, "securityContext") : NULL;
	const struct pp_ynode *list = sc ? pp_ymap_get(sc, "sysctls") : NULL;
	for (size_t i = 0; list && i < pod->security.n_sysctls && i < list->n; i++) {
		const char *name = pod->security.sysctls[i].key;
		bool net = strncmp(name, "net", 3) == 0 && (name[3] == '.' || name[3] == '/');
		if (!(net ? pod->host_network : pod->host_ipc))
			continue;
		const struct pp_ynode *n = pp_ymap_get(list->child[i], "name");
		cleanup_free char *p = xasprintf("spec.securityContext.sysctls[%zu].name", i);
		return perr(c, n ? n->pos : list->pos, p, "may not be specified when '%s' is true",
			    net ? "hostNetwork" : "hostIPC");
	}
	return 0;
}

static bool container_declared(const struct pp_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->n_init_containers; i++)
		if (strcmp(pod->init_containers[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < pod->n_containers; i++)
		if (strcmp(pod->containers[i].name, name) == 0)
			return true;
	return false;
}

/* A downwardAPI file's resourceFieldRef names a container of the pod
 * (kubelet would fail the volume's set-up with "container not found"). */
static int check_resource_refs(struct pctx *c, const struct pp_pod *pod)
{
	for (size_t i = 0; i < pod->n_volumes; i++)
		for (size_t j = 0; j < pod->volumes[i].n_sources; j++) {
			const struct pp_projection *s = &pod->volumes[i].sources[j];
			for (size_t k = 0; k < s->n_files; k++) {
				const struct pp_dapi_file *f = &s->files[k];
				if (f->resource == NULL ||
				    container_declared(pod, f->container_name))
					continue;
				cleanup_free char *p = xasprintf(
				    "%s.items[%zu].resourceFieldRef.containerName", s->field, k);
				return perr(c, f->pos, p, "container \"%s\" is not in the pod",
					    f->container_name);
			}
		}
	return 0;
}

/* The same for env's resourceFieldRef (containerName may be left out:
 * the container itself). */
static int check_env_resource_refs(struct pctx *c, const struct pp_pod *pod,
				   const struct pp_container *cts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < cts[i].n_env; k++) {
			const struct pp_env_var *e = &cts[i].env[k];
			if (e->source != PP_ENV_RESOURCE_FIELD_REF || e->container_name == NULL ||
			    e->container_name[0] == '\0' ||
			    container_declared(pod, e->container_name))
				continue;
			cleanup_free char *base = container_path(&cts[i], i, "");
			cleanup_free char *q = xasprintf(
			    "%s.env[%zu].valueFrom.resourceFieldRef.containerName", base, k);
			return perr(c, e->pos, q, "container \"%s\" is not in the pod",
				    e->container_name);
		}
	return 0;
}

int validate_pod(struct pctx *c, const struct pp_ynode *root)
{
	struct pp_pod *pod = c->pod;
	if (check_volume_names(c, pod) < 0 || check_container_names(c, pod) < 0 ||
	    check_sysctls_host_ns(c, root) < 0 || check_resource_refs(c, pod) < 0 ||
	    check_env_resource_refs(c, pod, pod->init_containers, pod->n_init_containers) < 0 ||
	    check_env_resource_refs(c, pod, pod->containers, pod->n_containers) < 0)
		return -1;
	if (check_container_refs(c, pod, pod->init_containers, pod->n_init_containers) < 0 ||
	    check_container_refs(c, pod, pod->containers, pod->n_containers) < 0)
		return -1;
	pod->default_hostname = default_hostname(pod->name);
	return 0;
}
