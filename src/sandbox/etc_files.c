/* /etc/hosts and /etc/resolv.conf as kubelet writes them for a pod. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sandbox/sandbox.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define HOST_HOSTS "/etc/hosts"
#define CLUSTER_DOMAIN "cluster.local"
#define MAX_RESOLV_FILE (64 * 1024)

static void append(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	*buf = xrealloc(*buf, *len + (size_t)n + 1);
	memcpy(*buf + *len, s, (size_t)n + 1);
	*len += (size_t)n;
	free(s);
}

static void append_aliases(const struct pp_pod *pod, char **buf, size_t *len)
{
	if (pod->n_host_aliases == 0)
		return;
	append(buf, len, "\n# Entries added by HostAliases.\n");
	for (size_t i = 0; i < pod->n_host_aliases; i++) {
		const struct pp_host_alias *a = &pod->host_aliases[i];
		append(buf, len, "%s\t", a->ip);
		for (char **h = a->hostnames; h && *h; h++)
			append(buf, len, "%s%s", h == a->hostnames ? "" : "\t", *h);
		append(buf, len, "\n");
	}
}

/* kubelet's managed hosts file (pkg/kubelet/kubelet_pods.go): with
 * hostNetwork a copy of the host's, otherwise the standard localhost lines
 * and the pod's own line; hostAliases appended in both cases. */
char *pp_sandbox_hosts_content(const struct pp_pod *pod, const char *pod_ip)
{
	char *buf = xstrdup("");
	size_t len = 0;
	if (pod->host_network) {
		cleanup_free char *host = NULL;
		size_t hl = 0;
		if (pp_read_file(HOST_HOSTS, MAX_RESOLV_FILE, &host, &hl, NULL) == 0)
			append(&buf, &len, "%s", host);
		append_aliases(pod, &buf, &len);
		return buf;
	}
	append(&buf, &len, "# Kubernetes-managed hosts file.\n");
	append(&buf, &len, "127.0.0.1\tlocalhost\n");
	append(&buf, &len, "::1\tlocalhost ip6-localhost ip6-loopback\n");
	append(&buf, &len, "fe00::0\tip6-localnet\n");
	append(&buf, &len, "fe00::0\tip6-mcastprefix\n");
	append(&buf, &len, "fe00::1\tip6-allnodes\n");
	append(&buf, &len, "fe00::2\tip6-allrouters\n");
	const char *hostname = pp_pod_hostname(pod);
	if (pod->subdomain)
		append(&buf, &len, "%s\t%s.%s.%s.svc.%s\t%s\n", pod_ip, hostname, pod->subdomain,
		       pod->namespace_, CLUSTER_DOMAIN, hostname);
	else
		append(&buf, &len, "%s\t%s\n", pod_ip, hostname);
	append_aliases(pod, &buf, &len);
	return buf;
}

struct resolv {
	char *servers[64];
	size_t n_servers;
	char *searches[64];
	size_t n_searches;
	struct pp_kv options[64];
	size_t n_options;
};

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void add_unique(char **v, size_t *n, size_t cap, const char *s)
{
	if (*n < cap && !strv_has(v, *n, s))
		v[(*n)++] = (char *)s;
}

/* An option overrides an earlier one of the same name (kubelet's mergeDNSOptions). */
static void add_option(struct resolv *r, const char *name, const char *value)
{
	for (size_t i = 0; i < r->n_options; i++)
		if (strcmp(r->options[i].key, name) == 0) {
			r->options[i].value = (char *)value;
			return;
		}
	if (r->n_options < sizeof(r->options) / sizeof(r->options[0]))
		r->options[r->n_options++] = (struct pp_kv){(char *)name, (char *)value};
}

/* Parses the host's resolv.conf in place (text is modified and referenced). */
static void parse_resolv(char *text, struct resolv *r)
{
	const size_t cap = sizeof(r->servers) / sizeof(r->servers[0]);
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ws = NULL;
		char *key = strtok_r(line, " \t", &ws);
		if (key == NULL || key[0] == '#' || key[0] == ';')
			continue;
		bool search = strcmp(key, "search") == 0 || strcmp(key, "domain") == 0;
		if (search)
			r->n_searches = 0; /* the last search line wins, as in glibc */
		for (char *w = strtok_r(NULL, " \t", &ws); w; w = strtok_r(NULL, " \t", &ws)) {
			if (strcmp(key, "nameserver") == 0)
				add_unique(r->servers, &r->n_servers, cap, w);
			else if (search)
				add_unique(r->searches, &r->n_searches, cap, w);
			else if (strcmp(key, "options") == 0) {
				char *colon = strchr(w, ':');
				if (colon)
					*colon++ = '\0';
				add_option(r, w, colon);
			}
		}
	}
}

/* dnsPolicy: ClusterFirst needs a cluster DNS service, which a single host
 * does not have: like kubelet without clusterDNS, it falls back to Default
 * (the host's resolv.conf). None uses dnsConfig only. dnsConfig is merged as
 * kubelet does: nameservers and searches appended without duplicates,
 * options override by name. */
int pp_sandbox_resolv_content(const struct pp_pod *pod, const char *host_resolv, char **out,
			      struct pp_error **err)
{
	bool none = pod->dns_policy && strcmp(pod->dns_policy, "None") == 0;
	cleanup_free char *host = NULL;
	if (!none && pp_read_file(host_resolv, MAX_RESOLV_FILE, &host, NULL, err) < 0)
		return -1;
	struct resolv r = {0};
	const size_t cap = sizeof(r.servers) / sizeof(r.servers[0]);
	if (host)
		parse_resolv(host, &r);
	const struct pp_dns_config *dc = &pod->dns_config;
	for (char **ns = dc->nameservers; ns && *ns; ns++)
		add_unique(r.servers, &r.n_servers, cap, *ns);
	for (char **s = dc->searches; s && *s; s++)
		add_unique(r.searches, &r.n_searches, cap, *s);
	for (size_t i = 0; i < dc->n_options; i++)
		add_option(&r, dc->options[i].key, dc->options[i].value);

	char *buf = xstrdup("");
	size_t len = 0;
	for (size_t i = 0; i < r.n_servers; i++)
		append(&buf, &len, "nameserver %s\n", r.servers[i]);
	for (size_t i = 0; i < r.n_searches; i++)
		append(&buf, &len, "%s%s%s", i ? " " : "search ", r.searches[i],
		       i + 1 == r.n_searches ? "\n" : "");
	for (size_t i = 0; i < r.n_options; i++)
		append(&buf, &len, "%s%s%s%s%s", i ? " " : "options ", r.options[i].key,
		       r.options[i].value ? ":" : "", r.options[i].value ? r.options[i].value : "",
		       i + 1 == r.n_options ? "\n" : "");
	*out = buf;
	return 0;
}
