/* The downward API's values, as kubelet computes them for env
 * (valueFrom.fieldRef, .resourceFieldRef) and for downwardAPI volumes:
 * pkg/fieldpath (ExtractFieldPathAsString, FormatMap) and
 * pkg/api/v1/resource (ExtractContainerResourceValue, limits merged with
 * the node's allocatable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "pod/pod_internal.h"
#include "util/cleanup.h"

static const char *kv_get(const struct pp_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return "";
}

/* The length of the valid UTF-8 sequence at s and its code point, or 0. */
static size_t utf8_decode(const unsigned char *s, unsigned *cp)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (len == 0 || s[0] >= 0xf8)
		return 0;
	unsigned v = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Go's unicode.IsPrint, for the code points a label or annotation is
 * likely to hold: C1 controls, the soft hyphen, line and paragraph
 * separators and the byte order mark are not printable. */
static bool go_printable(unsigned cp)
{
	return !(cp <= 0x9f || cp == 0xad || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff);
}

/* Go's strconv.Quote (fmt's %q), appended to f. */
static void go_quote(FILE *f, const char *str)
{
	static const char esc[] = {['\a'] = 'a', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
				   ['\r'] = 'r', ['\t'] = 't', ['\v'] = 'v'};
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', f);
	while (*s) {
		unsigned cp;
		size_t len;
		if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
		} else if (*s < sizeof(esc) && esc[*s]) {
			fprintf(f, "\\%c", esc[*s++]);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\x%02x", *s++);
		} else if (*s < 0x80) {
			fputc(*s++, f);
		} else if ((len = utf8_decode(s, &cp)) == 0) {
			fprintf(f, "\\x%02x", *s++);
		} else if (!go_printable(cp)) {
			fprintf(f, cp > 0xffff ? "\\U%08x" : "\\u%04x", cp);
			s += len;
		} else {
			fwrite(s, 1, len, f);
			s += len;
		}
	}
	fputc('"', f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* FormatMap: key="value" lines (value as Go's %q), no final newline; the
 * lines sorted as kubelet's volume writer sorts them (sortLines). */
static char *format_map(const struct pp_kv *kv, size_t n)
{
	char **lines = xmalloc(sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f == NULL)
			abort();
		fprintf(f, "%s=", kv[i].key);
		go_quote(f, kv[i].value ? kv[i].value : "");
		fclose(f);
		lines[i] = buf;
	}
	qsort(lines, n, sizeof(char *), cmp_str);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "\n" : "", lines[i]);
	fclose(f);
	lines[n] = NULL;
	strv_free(lines);
	return buf;
}

int pp_pod_field_ref_value(const struct pp_pod_instance *pod, const char *path, char **out,
			   struct pp_error **err)
{
	const struct pp_pod *p = pod->spec;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	char key[256];
	int end = -1;
	if (strcmp(path, "metadata.name") == 0)
		*out = xstrdup(p->name);
	else if (strcmp(path, "metadata.namespace") == 0)
		*out = xstrdup(p->namespace_);
	else if (strcmp(path, "metadata.uid") == 0)
		*out = xstrdup(pod->uid);
	else if (strcmp(path, "metadata.labels") == 0)
		*out = format_map(p->labels, p->n_labels);
	else if (strcmp(path, "metadata.annotations") == 0)
		*out = format_map(p->annotations, p->n_annotations);
	else if (sscanf(path, "metadata.labels['%255[^']']%n", key, &end) == 1 && end > 0 &&
		 path[end] == '\0')
		*out = xstrdup(kv_get(p->labels, p->n_labels, key));
	else if (sscanf(path, "metadata.annotations['%255[^']']%n", key, &end) == 1 && end > 0 &&
		 path[end] == '\0')
		*out = xstrdup(kv_get(p->annotations, p->n_annotations, key));
	else if (strcmp(path, "spec.nodeName") == 0)
		*out = xstrdup(p->node_name ? p->node_name : host);
	else if (strcmp(path, "spec.serviceAccountName") == 0)
		*out = xstrdup(p->service_account_name ? p->service_account_name : "default");
	else if (strcmp(path, "status.podIP") == 0 || strcmp(path, "status.podIPs") == 0)
		*out = xstrdup(pod->sandbox ? pod->sandbox->pod_ip : "");
	else if (strcmp(path, "status.hostIP") == 0 || strcmp(path, "status.hostIPs") == 0)
		*out = xstrdup("127.0.0.1");
	else
		return pp_error_set(err, EINVAL, "fieldRef %s is not supported", path);
	return 0;
}

static const struct pp_container *find_container(const struct pp_pod *p, const char *name)
{
	for (size_t i = 0; i < p->n_init_containers; i++)
		if (strcmp(p->init_containers[i].name, name) == 0)
			return &p->init_containers[i];
	for (size_t i = 0; i < p->n_containers; i++)
		if (strcmp(p->containers[i].name, name) == 0)
			return &p->containers[i];
	return NULL;
}

/* hugepages-<size> of limits or requests, 0 when not set. */
static int64_t other_value(const struct pp_kv *kv, size_t n, const char *name)
{
	struct pp_quantity q = {0};
	const char *v = kv_get(kv, n, name);
	if (v[0] == '\0' || pp_quantity_parse(v, &q, NULL) < 0)
		return 0;
	free(q.text);
	return q.value;
}

/* The node's allocatable: what a limit that is not set stands for. */
static int64_t node_allocatable(const struct pp_pod_instance *pod, const char *name)
{
	if (strcmp(name, "cpu") == 0)
		return (int64_t)sysconf(_SC_NPROCESSORS_ONLN) * 1000;
	if (strcmp(name, "memory") == 0) {
		struct sysinfo si;
		return sysinfo(&si) == 0 ? (int64_t)si.totalram * si.mem_unit : 0;
	}
	if (strcmp(name, "ephemeral-storage") == 0) {
		struct statvfs st;
		const char *dir = pod->data_dir ? pod->data_dir : "/";
		return statvfs(dir, &st) == 0 ? (int64_t)st.f_blocks * (int64_t)st.f_frsize : 0;
	}
	return 0;
}

static int64_t ceil_div(int64_t a, int64_t d)
{
	return d <= 0 ? a : a / d + (a % d != 0);
}

int pp_pod_resource_ref_value(const struct pp_pod_instance *pod, const char *container,
			      const char *resource, const struct pp_quantity *divisor, char **out,
			      struct pp_error **err)
{
	const struct pp_container *c = find_container(pod->spec, container);
	if (c == NULL)
		return pp_error_set(err, ENOENT, "resourceFieldRef %s: container \"%s\" not found",
				    resource, container);
	const struct pp_resources *r = &c->resources;
	bool limits = strncmp(resource, "limits.", 7) == 0;
	const char *name = strchr(resource, '.') ? strchr(resource, '.') + 1 : resource;
	const struct pp_quantity *q = NULL;
	if (strcmp(name, "cpu") == 0)
		q = limits ? &r->limits_cpu : &r->requests_cpu;
	else if (strcmp(name, "memory") == 0)
		q = limits ? &r->limits_memory : &r->requests_memory;
	else if (strcmp(name, "ephemeral-storage") == 0)
		q = limits ? &r->limits_ephemeral_storage : &r->requests_ephemeral_storage;
	else if (strncmp(name, "hugepages-", 10) != 0)
		return pp_error_set(err, EINVAL, "resourceFieldRef %s is not supported", resource);
	bool cpu = strcmp(name, "cpu") == 0;
	int64_t amount; /* milli-cpus for cpu, else bytes */
	if (q == NULL)
		amount = limits ? other_value(r->limits_other, r->n_limits_other, name)
				: other_value(r->requests_other, r->n_requests_other, name);
	else if (q->set)
		amount = cpu ? q->milli : q->value;
	else /* MergeContainerResourceLimits: an unset limit is the node's */
		amount = limits ? node_allocatable(pod, name) : 0;
	/* divisor 1 when absent; the value rounded up, as kubelet's math.Ceil */
	int64_t d =
	    divisor && divisor->set ? (cpu ? divisor->milli : divisor->value) : (cpu ? 1000 : 1);
	*out = xasprintf("%lld", (long long)ceil_div(amount, d));
	return 0;
}
