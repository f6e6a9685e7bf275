/* Freeing a (possibly partly filled) pp_pod. */
#include "manifest/manifest.h"
#include "util/cleanup.h"

static void kv_free(struct pp_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void free_selinux(struct pp_selinux_options *o)
{
	free(o->user);
	free(o->role);
	free(o->type);
	free(o->level);
}

static void handler_free(struct pp_handler *h)
{
	strv_free(h->exec_command);
	free(h->http_path);
	free(h->http_host);
	free(h->http_scheme);
	free(h->port_name);
	kv_free(h->http_headers, h->n_http_headers);
	free(h->grpc_service);
}

static void resources_free(struct pp_resources *r)
{
	struct pp_quantity *q[] = {
	    &r->limits_cpu,   &r->limits_memory,   &r->limits_ephemeral_storage,
	    &r->requests_cpu, &r->requests_memory, &r->requests_ephemeral_storage};
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		free(q[i]->text);
	kv_free(r->limits_other, r->n_limits_other);
	kv_free(r->requests_other, r->n_requests_other);
}

static void security_free(struct pp_security_context *s)
{
	strv_free(s->caps_add);
	strv_free(s->caps_drop);
	free(s->seccomp_type);
	free(s->seccomp_localhost_profile);
	free(s->apparmor_type);
	free(s->apparmor_localhost_profile);
	free_selinux(&s->selinux);
	free(s->proc_mount);
}

static void env_free(struct pp_env_var *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].name);
		free(e[i].value);
		free(e[i].field_path);
		free(e[i].resource);
		free(e[i].container_name);
		free(e[i].divisor.text);
		free(e[i].ref_name);
		free(e[i].ref_key);
	}
	free(e);
}

static void env_from_free(struct pp_env_from *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].prefix);
		free(e[i].name);
	}
	free(e);
}

static void container_free(struct pp_container *c)
{
	free(c->name);
	free(c->image);
	strv_free(c->command);
	strv_free(c->args);
	free(c->working_dir);
	env_free(c->env, c->n_env);
	env_from_free(c->env_from, c->n_env_from);
	for (size_t i = 0; c->ports && i < c->n_ports; i++) {
		free(c->ports[i].name);
		free(c->ports[i].host_ip);
	}
	free(c->ports);
	for (size_t i = 0; c->volume_mounts && i < c->n_volume_mounts; i++) {
		struct pp_volume_mount *m = &c->volume_mounts[i];
		free(m->name);
		free(m->mount_path);
		free(m->sub_path);
		free(m->sub_path_expr);
		free(m->recursive_read_only);
		free(m->host_path);
	}
	free(c->volume_mounts);
	resources_free(&c->resources);
	handler_free(&c->liveness.handler);
	handler_free(&c->readiness.handler);
	handler_free(&c->startup.handler);
	handler_free(&c->lifecycle.post_start);
	handler_free(&c->lifecycle.pre_stop);
	free(c->lifecycle.stop_signal);
	security_free(&c->security);
	free(c->termination_message_path);
	free(c->termination_message_policy);
	strv_free(c->masked_paths);
	strv_free(c->readonly_paths);
	for (size_t i = 0; c->devices && i < c->n_devices; i++) {
		free(c->devices[i].host_path);
		free(c->devices[i].container_path);
		free(c->devices[i].permissions);
	}
	free(c->devices);
}

static void containers_free(struct pp_container *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		container_free(&c[i]);
	free(c);
}

static void projection_free(struct pp_projection *p)
{
	for (size_t i = 0; p->files && i < p->n_files; i++) {
		free(p->files[i].path);
		free(p->files[i].field_path);
		free(p->files[i].container_name);
		free(p->files[i].resource);
		free(p->files[i].divisor.text);
	}
	free(p->files);
	for (size_t i = 0; p->items && i < p->n_items; i++) {
		free(p->items[i].key);
		free(p->items[i].path);
	}
	free(p->items);
	free(p->name);
	free(p->field);
}

static void pod_spec_free(struct pp_pod *pod)
{
	for (size_t i = 0; pod->volumes && i < pod->n_volumes; i++) {
		free(pod->volumes[i].name);
		free(pod->volumes[i].size_limit.text);
		free(pod->volumes[i].host_path);
		free(pod->volumes[i].claim_name);
		for (size_t j = 0; pod->volumes[i].sources && j < pod->volumes[i].n_sources; j++)
			projection_free(&pod->volumes[i].sources[j]);
		free(pod->volumes[i].sources);
	}
	free(pod->volumes);
	for (size_t i = 0; pod->host_aliases && i < pod->n_host_aliases; i++) {
		free(pod->host_aliases[i].ip);
		strv_free(pod->host_aliases[i].hostnames);
	}
	free(pod->host_aliases);
	for (size_t i = 0; pod->image_pull_secrets && i < pod->n_image_pull_secrets; i++)
		free(pod->image_pull_secrets[i].name);
	free(pod->image_pull_secrets);
	strv_free(pod->dns_config.nameservers);
	strv_free(pod->dns_config.searches);
	kv_free(pod->dns_config.options, pod->dns_config.n_options);
	free(pod->security.supplemental_groups);
	kv_free(pod->security.sysctls, pod->security.n_sysctls);
	free(pod->security.seccomp_type);
	free(pod->security.seccomp_localhost_profile);
	free(pod->security.apparmor_type);
	free(pod->security.apparmor_localhost_profile);
	free_selinux(&pod->security.selinux);
}

void pp_pod_free(struct pp_pod *pod)
{
	if (pod == NULL)
		return;
	free(pod->source);
	free(pod->name);
	free(pod->namespace_);
	free(pod->uid);
	free(pod->generate_name);
	kv_free(pod->labels, pod->n_labels);
	kv_free(pod->annotations, pod->n_annotations);
	containers_free(pod->init_containers, pod->n_init_containers);
	containers_free(pod->containers, pod->n_containers);
	pod_spec_free(pod);
	free(pod->hostname);
	free(pod->subdomain);
	free(pod->dns_policy);
	free(pod->node_name);
	free(pod->service_account_name);
	strv_free(pod->ignored_fields);
	free(pod->default_hostname);
	for (size_t i = 0; pod->cri_ports && i < pod->n_cri_ports; i++) {
		free(pod->cri_ports[i].name);
		free(pod->cri_ports[i].host_ip);
	}
	free(pod->cri_ports);
	free(pod->cri_cgroup_parent);
	free(pod);
}

const char *pp_pod_hostname(const struct pp_pod *pod)
{
	if (pod->hostname != NULL)
		return pod->hostname;
	if (pod->default_hostname != NULL)
		return pod->default_hostname;
	return pod->name != NULL ? pod->name : "";
}

void pp_container_free(struct pp_container *c)
{
	if (c == NULL)
		return;
	container_free(c);
	free(c);
}
