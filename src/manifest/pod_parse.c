/* The Pod object, its metadata and the pod-level spec fields. Containers and
 * volumes have their own files. */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"

#define DEFAULT_NAMESPACE "default"
#define DEFAULT_DNS_POLICY "ClusterFirst"
#define DEFAULT_TERMINATION_GRACE_SECONDS 30
#define MAX_DNS_NAMESERVERS 3
#define MAX_DNS_SEARCHES 32

/* Annotations kubelet itself reads, checked as it does. */
static int check_annotation_values(struct pctx *c, const struct pp_ynode *n, const char *path)
{
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct pp_ynode *k = n->child[i], *v = n->child[i + 1];
		if (strcmp(k->value, PP_INGRESS_BANDWIDTH_ANNOTATION) != 0 &&
		    strcmp(k->value, PP_EGRESS_BANDWIDTH_ANNOTATION) != 0)
			continue;
		cleanup_free char *p = xasprintf("%s[%s]", path, k->value);
		cleanup_error struct pp_error *e = NULL;
		int64_t bits = 0;
		if (pp_bandwidth_parse(v->value ? v->value : "", &bits, &e) < 0)
			return perr(c, v->pos, p, "%s", e->msg);
	}
	return 0;
}

static int parse_metadata(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	struct meta_target m = {
	    .name = &pod->name,
	    .namespace_ = &pod->namespace_,
	    .uid = &pod->uid,
	    .generate_name = &pod->generate_name,
	    .labels = &pod->labels,
	    .n_labels = &pod->n_labels,
	    .annotations = &pod->annotations,
	    .n_annotations = &pod->n_annotations,
	    .check_annotations = check_annotation_values,
	};
	return parse_meta(c, n, path, &m);
}

static int parse_restart_policy(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *obj)
{
	static const char *const words[] = {"Always", "OnFailure", "Never", NULL};
	struct pp_pod *pod = obj;
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	pod->restart_policy = (enum pp_restart_policy)v;
	return 0;
}

static int parse_dns_label_field(struct pctx *c, const struct pp_ynode *n, const char *path,
				 char **out)
{
	if (get_string(c, n, path, out) < 0)
		return -1;
	if (!pp_is_dns1123_label(*out))
		return perr(c, n->pos, path,
			    "invalid value \"%s\": must be a DNS-1123 label (at most 63 characters "
			    "of a-z, 0-9 and '-', starting and ending alphanumeric)",
			    *out);
	return 0;
}

static int parse_hostname(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_dns_label_field(c, n, path, &((struct pp_pod *)obj)->hostname);
}

static int parse_subdomain(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_dns_label_field(c, n, path, &((struct pp_pod *)obj)->subdomain);
}

static int parse_dns_policy(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default",
					    "None", NULL};
	struct pp_pod *pod = obj;
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	pod->dns_policy = xstrdup(words[v]);
	return 0;
}

static int parse_nameservers(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_dns_config *d = obj;
	if (get_strv(c, n, path, &d->nameservers) < 0)
		return -1;
	if (n->n > MAX_DNS_NAMESERVERS)
		return perr(c, n->pos, path, "must not have more than %d nameservers",
			    MAX_DNS_NAMESERVERS);
	for (size_t i = 0; i < n->n; i++) {
		if (pp_is_ip(d->nameservers[i]))
			continue;
		cleanup_free char *p = path_index(path, i);
		return perr(c, n->child[i]->pos, p, "invalid IP address \"%s\"", d->nameservers[i]);
	}
	return 0;
}

static int parse_searches(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_dns_config *d = obj;
	if (get_strv(c, n, path, &d->searches) < 0)
		return -1;
	if (n->n > MAX_DNS_SEARCHES)
		return perr(c, n->pos, path, "must not have more than %d search paths",
			    MAX_DNS_SEARCHES);
	for (size_t i = 0; i < n->n; i++) {
		const char *s = d->searches[i];
		size_t len = strlen(s);
		cleanup_free char *trimmed = strndup(s, len && s[len - 1] == '.' ? len - 1 : len);
		if (trimmed == NULL)
			abort();
		if (pp_is_dns1123_subdomain(trimmed))
			continue;
		cleanup_free char *p = path_index(path, i);
		return perr(c, n->child[i]->pos, p, "invalid search domain \"%s\"", s);
	}
	return 0;
}

static const struct field kv_option_fields[] = {
    F_STR_REQ("name", struct pp_kv, key),
    F_STR("value", struct pp_kv, value),
    F_END,
};

static int parse_kv_option(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	return walk_map(c, n, path, kv_option_fields, elem);
}

static int parse_dns_options(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_dns_config *d = obj;
	return walk_seq(c, n, path, sizeof(struct pp_kv), (void **)&d->options, &d->n_options,
			parse_kv_option);
}

static const struct field dns_config_fields[] = {
    F_FN("nameservers", parse_nameservers),
    F_FN("searches", parse_searches),
    F_FN("options", parse_dns_options),
    F_END,
};

static int parse_dns_config(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	pod->has_dns_config = true;
	return walk_map(c, n, path, dns_config_fields, &pod->dns_config);
}

static int parse_alias_hostnames(struct pctx *c, const struct pp_ynode *n, const char *path,
				 void *obj)
{
	struct pp_host_alias *a = obj;
	if (get_strv(c, n, path, &a->hostnames) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		if (pp_is_dns1123_subdomain(a->hostnames[i]))
			continue;
		cleanup_free char *p = path_index(path, i);
		return perr(c, n->child[i]->pos, p,
			    "invalid hostname \"%s\": must be a DNS-1123 subdomain",
			    a->hostnames[i]);
	}
	return 0;
}

static const struct field host_alias_fields[] = {
    F_STR_REQ("ip", struct pp_host_alias, ip),
    F_FN("hostnames", parse_alias_hostnames),
    F_END,
};

static int parse_host_alias(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_host_alias *a = elem;
	if (walk_map(c, n, path, host_alias_fields, a) < 0)
		return -1;
	if (!pp_is_ip(a->ip)) {
		return perr_key(c, n, path, "ip", "invalid IP address \"%s\"", a->ip);
	}
	return 0;
}

static int parse_host_aliases(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	return walk_seq(c, n, path, sizeof(struct pp_host_alias), (void **)&pod->host_aliases,
			&pod->n_host_aliases, parse_host_alias);
}

/* imagePullSecrets: LocalObjectReferences; an entry without a name is
 * valid (the API server lets it by) and skipped by kubelet. */
static const struct field pull_secret_fields[] = {
    F_STR("name", struct pp_pull_secret_ref, name),
    F_END,
};

static int parse_pull_secret(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	return walk_map(c, n, path, pull_secret_fields, elem);
}

static int parse_pull_secrets(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	return walk_seq(c, n, path, sizeof(struct pp_pull_secret_ref),
			(void **)&pod->image_pull_secrets, &pod->n_image_pull_secrets,
			parse_pull_secret);
}

#define SEQ F_IGN
/* hostUsers: false: a user namespace for the pod, with an id range of its
 * own (see src/state/idrange.h). */
static int parse_host_users(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	if (get_bool(c, n, path, &pod->host_users) < 0)
		return -1;
	pod->has_host_users = true;
	return 0;
}

static const struct field spec_fields[] = {
    F_FN_REQ("containers", parse_containers),
    F_FN("initContainers", parse_init_containers),
    F_FN("volumes", parse_volumes),
    F_FN("restartPolicy", parse_restart_policy),
    F_I64("terminationGracePeriodSeconds", struct pp_pod, termination_grace_period_seconds, 0),
    F_I64("activeDeadlineSeconds", struct pp_pod, active_deadline_seconds, 1),
    F_FN("hostname", parse_hostname),
    F_FN("subdomain", parse_subdomain),
    F_BOOL("hostNetwork", struct pp_pod, host_network),
    F_BOOL("hostIPC", struct pp_pod, host_ipc),
    F_BOOL("hostPID", struct pp_pod, host_pid),
    F_BOOL("shareProcessNamespace", struct pp_pod, share_process_namespace),
    F_FN("dnsPolicy", parse_dns_policy),
    F_FN("dnsConfig", parse_dns_config),
    F_FN("hostAliases", parse_host_aliases),
    F_FN("securityContext", parse_security_context),
    F_STR("nodeName", struct pp_pod, node_name),
    F_STR("serviceAccountName", struct pp_pod, service_account_name),
    F_FN("hostUsers", parse_host_users),
    F_FN("imagePullSecrets", parse_pull_secrets),
    F_REFUSE("ephemeralContainers", "may not be set when a pod is created"),
    /* valid PodSpec fields peapod accepts without acting on them */
    F_IGN("serviceAccount", PP_YSCALAR),
    F_IGN("automountServiceAccountToken", PP_YSCALAR),
    F_IGN("priority", PP_YSCALAR),
    F_IGN("priorityClassName", PP_YSCALAR),
    F_IGN("schedulerName", PP_YSCALAR),
    F_IGN("runtimeClassName", PP_YSCALAR),
    F_IGN("enableServiceLinks", PP_YSCALAR),
    F_IGN("preemptionPolicy", PP_YSCALAR),
    F_IGN("setHostnameAsFQDN", PP_YSCALAR),
    F_IGN("affinity", PP_YMAP),
    F_IGN("nodeSelector", PP_YMAP),
    F_IGN("overhead", PP_YMAP),
    F_IGN("os", PP_YMAP),
    F_IGN("resources", PP_YMAP),
    SEQ("tolerations", PP_YSEQ),
    SEQ("topologySpreadConstraints", PP_YSEQ),
    SEQ("readinessGates", PP_YSEQ),
    SEQ("schedulingGates", PP_YSEQ),
    SEQ("resourceClaims", PP_YSEQ),
    F_END,
};
#undef SEQ

/* Checks the API server makes across pod-level fields. */
static int check_pod_fields(struct pctx *c, const struct pp_ynode *n, const char *path)
{
	struct pp_pod *pod = c->pod;
	if (pod->share_process_namespace && pod->host_pid)
		return perr(c, pp_ymap_get(n, "shareProcessNamespace")->pos,
			    "spec.shareProcessNamespace",
			    "shareProcessNamespace and hostPID cannot both be enabled");
	/* The API server's rule: the host's namespaces belong to the host's
	 * user namespace, which the pod's root must not act in. */
	if (pod->has_host_users && !pod->host_users) {
		const char *host = pod->host_network ? "hostNetwork"
				   : pod->host_pid   ? "hostPID"
				   : pod->host_ipc   ? "hostIPC"
						     : NULL;
		if (host != NULL)
			return perr(c, pp_ymap_get(n, "hostUsers")->pos, "spec.hostUsers",
				    "when hostUsers is false, %s must be false", host);
	}
	if (strcmp(pod->dns_policy, "None") == 0 && !pod->has_dns_config)
		return perr(c, pp_ymap_get(n, "dnsPolicy")->pos, "spec.dnsPolicy",
			    "dnsPolicy None requires spec.dnsConfig");
	return 0;
}

static int parse_spec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	if (walk_map(c, n, path, spec_fields, pod) < 0)
		return -1;
	if (pod->dns_policy == NULL)
		pod->dns_policy = xstrdup(DEFAULT_DNS_POLICY);
	return check_pod_fields(c, n, path);
}

static int parse_kind(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	cleanup_free char *kind = NULL;
	if (get_string(c, n, path, &kind) < 0)
		return -1;
	if (strcmp(kind, "Pod") != 0)
		return perr(c, n->pos, path, "kind \"%s\" is not supported: peapod runs Pods",
			    kind);
	return 0;
}

static int parse_api_version(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	cleanup_free char *v = NULL;
	if (get_string(c, n, path, &v) < 0)
		return -1;
	if (strcmp(v, "v1") != 0)
		return perr(c, n->pos, path, "apiVersion \"%s\" is not supported: a Pod is \"v1\"",
			    v);
	return 0;
}

static const struct field top_fields[] = {
    F_FN_REQ("apiVersion", parse_api_version),
    F_FN_REQ("kind", parse_kind),
    F_FN_REQ("metadata", parse_metadata),
    F_FN_REQ("spec", parse_spec),
    F_SKIP("status"),
    F_END,
};

/* kind and apiVersion first, so a Deployment is named as such rather than
 * refused for its first unknown field. */
static int check_type_meta(struct pctx *c, const struct pp_ynode *root)
{
	const struct pp_ynode *kind = pp_ymap_get(root, "kind");
	const struct pp_ynode *api = pp_ymap_get(root, "apiVersion");
	if (kind != NULL && !ynode_is_null(kind) && parse_kind(c, kind, "kind", NULL) < 0)
		return -1;
	if (api == NULL || ynode_is_null(api))
		return perr(c, root->pos, "apiVersion", "required field \"apiVersion\" is missing");
	if (parse_api_version(c, api, "apiVersion", NULL) < 0)
		return -1;
	if (kind == NULL || ynode_is_null(kind))
		return perr(c, root->pos, "kind", "required field \"kind\" is missing");
	return 0;
}

int parse_pod(struct pctx *c, const struct pp_ynode *root)
{
	struct pp_pod *pod = c->pod;
	if (root->kind != PP_YMAP)
		return pp_error_set(c->err, 0, "%s:%d:%d: a Pod manifest must be a map, got %s",
				    c->source, root->pos.line, root->pos.col,
				    ynode_type_name(root));
	pod->termination_grace_period_seconds = DEFAULT_TERMINATION_GRACE_SECONDS;
	pod->active_deadline_seconds = -1;
	if (check_type_meta(c, root) < 0 || walk_map(c, root, "", top_fields, pod) < 0)
		return -1;
	if (pod->namespace_ == NULL)
		pod->namespace_ = xstrdup(DEFAULT_NAMESPACE);
	return validate_pod(c, root);
}
