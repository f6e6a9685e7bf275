/* registries.conf v2 (containers-registries.conf(5)) and its drop-ins
 * (containers-registries.conf.d(5)): read with the strict TOML reader,
 * checked field by field, then asked where a reference is pulled from. */
#include "pull/registries_conf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"
#include "util/dir.h"
#include "util/toml.h"

static int bad(const char *file, const struct pp_toml_value *v, struct pp_error **err,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int bad(const char *file, const struct pp_toml_value *v, struct pp_error **err,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	return pp_error_set(err, EINVAL, "%s:%d:%d: %s", file, v->line, v->col, msg);
}

static int want(const char *file, const struct pp_toml_value *v, const char *field,
		enum pp_toml_type type, struct pp_error **err)
{
	if (v->type == type)
		return 0;
	return bad(file, v, err, "%s: want %s, not %s", field, pp_toml_type_name(type),
		   pp_toml_type_name(v->type));
}

static void mirror_clear(struct pp_registries_mirror *m)
{
	free(m->location);
}

static void entry_clear(struct pp_registries_entry *e)
{
	free(e->prefix);
	free(e->location);
	for (size_t i = 0; i < e->n_mirrors; i++)
		mirror_clear(&e->mirrors[i]);
	free(e->mirrors);
	free(e->where);
	memset(e, 0, sizeof(*e));
}

void pp_registries_conf_clear(struct pp_registries_conf *conf)
{
	for (size_t i = 0; i < conf->n; i++)
		entry_clear(&conf->entries[i]);
	free(conf->entries);
	conf->entries = NULL;
	conf->n = 0;
}

/* A location or prefix: no scheme (registries.conf has none: insecure says
 * http), not empty, no trailing slash. */
static int check_place(const char *file, const struct pp_toml_value *v, const char *field,
		       struct pp_error **err)
{
	const char *s = v->str;
	if (*s == '\0')
		return bad(file, v, err, "%s: empty", field);
	if (strstr(s, "://"))
		return bad(file, v, err,
			   "%s: \"%s\": no URL scheme here (insecure = true means HTTP)", field, s);
	if (s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//") || strpbrk(s, " \t"))
		return bad(file, v, err, "%s: \"%s\" is not host[:port][/namespace...]", field, s);
	const char *slash = strchr(s, '/');
	if (slash && strpbrk(slash, ":@"))
		return bad(file, v, err, "%s: \"%s\": a tag or digest is not supported here", field,
			   s);
	return 0;
}

static int parse_mirror(const char *file, const struct pp_toml_value *t,
			struct pp_registries_mirror *m, struct pp_error **err)
{
	const struct pp_toml_value *loc = NULL;
	for (size_t i = 0; i < t->n; i++) {
		const char *k = t->keys[i];
		const struct pp_toml_value *v = t->items[i];
		if (strcmp(k, "location") == 0) {
			if (want(file, v, "registry.mirror.location", PP_TOML_STRING, err) < 0 ||
			    check_place(file, v, "registry.mirror.location", err) < 0)
				return -1;
			loc = v;
		} else if (strcmp(k, "insecure") == 0) {
			if (want(file, v, "registry.mirror.insecure", PP_TOML_BOOL, err) < 0)
				return -1;
			m->insecure = v->boolean;
		} else if (strcmp(k, "pull-from-mirror") == 0) {
			if (want(file, v, "registry.mirror.pull-from-mirror", PP_TOML_STRING, err) <
			    0)
				return -1;
			if (strcmp(v->str, "all") == 0)
				m->pull_from = PP_PULL_FROM_MIRROR_ALL;
			else if (strcmp(v->str, "digest-only") == 0)
				m->pull_from = PP_PULL_FROM_MIRROR_DIGEST_ONLY;
			else if (strcmp(v->str, "tag-only") == 0)
				m->pull_from = PP_PULL_FROM_MIRROR_TAG_ONLY;
			else
				return bad(file, v, err,
					   "registry.mirror.pull-from-mirror: \"%s\" is not all, "
					   "digest-only or tag-only",
					   v->str);
		} else
			return bad(file, v, err, "unknown setting registry.mirror.%s", k);
	}
	if (loc == NULL)
		return bad(file, t, err, "[[registry.mirror]] without a location");
	m->location = xstrdup(loc->str);
	return 0;
}

static int parse_mirrors(const char *file, const struct pp_toml_value *v,
			 struct pp_registries_entry *e, struct pp_error **err)
{
	if (v->type != PP_TOML_ARRAY || !v->array_of_tables)
		return bad(file, v, err, "registry.mirror: want [[registry.mirror]] tables");
	e->mirrors = xmalloc(v->n * sizeof(*e->mirrors));
	for (size_t i = 0; i < v->n; i++) {
		e->n_mirrors = i + 1;
		if (parse_mirror(file, v->items[i], &e->mirrors[i], err) < 0)
			return -1;
	}
	return 0;
}

static int registry_flag(const char *file, const char *k, const struct pp_toml_value *v,
			 struct pp_registries_entry *e, bool *digest_only, struct pp_error **err)
{
	bool *to = strcmp(k, "insecure") == 0		     ? &e->insecure
		   : strcmp(k, "blocked") == 0		     ? &e->blocked
		   : strcmp(k, "mirror-by-digest-only") == 0 ? digest_only
							     : NULL;
	if (to == NULL)
		return bad(file, v, err, "unknown setting registry.%s", k);
	cleanup_free char *field = xasprintf("registry.%s", k);
	if (want(file, v, field, PP_TOML_BOOL, err) < 0)
		return -1;
	*to = v->boolean;
	return 0;
}

static int parse_registry(const char *file, const struct pp_toml_value *t,
			  struct pp_registries_entry *e, struct pp_error **err)
{
	const struct pp_toml_value *prefix = NULL, *loc = NULL;
	bool digest_only = false;
	e->where = xasprintf("%s:%d", file, t->line);
	for (size_t i = 0; i < t->n; i++) {
		const char *k = t->keys[i];
		const struct pp_toml_value *v = t->items[i];
		int r;
		if (strcmp(k, "prefix") == 0 || strcmp(k, "location") == 0) {
			cleanup_free char *field = xasprintf("registry.%s", k);
			r = want(file, v, field, PP_TOML_STRING, err);
			if (r == 0 && !(k[0] == 'p' && strncmp(v->str, "*.", 2) == 0))
				r = check_place(file, v, field, err);
			*(k[0] == 'p' ? &prefix : &loc) = v;
		} else if (strcmp(k, "mirror") == 0)
			r = parse_mirrors(file, v, e, err);
		else
			r = registry_flag(file, k, v, e, &digest_only, err);
		if (r < 0)
			return -1;
	}
	if (prefix == NULL && loc == NULL)
		return bad(file, t, err, "[[registry]] without a prefix or a location");
	if (prefix && loc && strncmp(prefix->str, "*.", 2) == 0)
		return bad(file, loc, err, "registry.location: not allowed with a wildcard prefix");
	if (prefix && strncmp(prefix->str, "*.", 2) == 0 &&
	    (prefix->str[2] == '\0' || strpbrk(prefix->str + 2, "*/:@")))
		return bad(file, prefix, err, "registry.prefix: \"%s\" is not *.domain",
			   prefix->str);
	e->prefix = xstrdup(prefix ? prefix->str : loc->str);
	e->location = loc ? xstrdup(loc->str) : NULL;
	for (size_t i = 0; digest_only && i < e->n_mirrors; i++)
		e->mirrors[i].pull_from = PP_PULL_FROM_MIRROR_DIGEST_ONLY;
	return 0;
}

/* The top level: [[registry]] and the short-name settings, which are
 * accepted and ignored (short names mean docker.io here, as for kubelet). */
static int parse_root(const char *file, const struct pp_toml_value *root,
		      struct pp_registries_conf *out, struct pp_error **err)
{
	static const struct {
		const char *key;
		enum pp_toml_type type;
	} ignored[] = {
	    {"unqualified-search-registries", PP_TOML_ARRAY},
	    {"short-name-mode", PP_TOML_STRING},
	    {"aliases", PP_TOML_TABLE},
	    {"credential-helpers", PP_TOML_ARRAY},
	};
	for (size_t i = 0; i < root->n; i++) {
		const char *k = root->keys[i];
		const struct pp_toml_value *v = root->items[i];
		size_t j = 0;
		while (j < sizeof(ignored) / sizeof(ignored[0]) && strcmp(ignored[j].key, k) != 0)
			j++;
		if (j < sizeof(ignored) / sizeof(ignored[0])) {
			if (want(file, v, k, ignored[j].type, err) < 0)
				return -1;
			continue;
		}
		if (strcmp(k, "registries") == 0)
			return bad(file, v, err,
				   "registries.conf version 1 ([registries.*]) is not supported: "
				   "write [[registry]] tables (version 2)");
		if (strcmp(k, "registry") != 0)
			return bad(file, v, err, "unknown setting %s", k);
		if (v->type != PP_TOML_ARRAY || !v->array_of_tables)
			return bad(file, v, err, "registry: want [[registry]] tables");
		out->entries = xmalloc(v->n * sizeof(*out->entries));
		for (size_t r = 0; r < v->n; r++) {
			struct pp_registries_entry *e = &out->entries[r];
			out->n = r + 1;
			if (parse_registry(file, v->items[r], e, err) < 0)
				return -1;
			for (size_t q = 0; q < r; q++)
				if (strcmp(out->entries[q].prefix, e->prefix) == 0)
					return bad(file, v->items[r], err,
						   "prefix \"%s\" already in [[registry]] at %s",
						   e->prefix, out->entries[q].where);
		}
	}
	return 0;
}

/* A later file's entry replaces the earlier one of the same prefix. */
static void merge(struct pp_registries_conf *conf, struct pp_registries_conf *add)
{
	for (size_t i = 0; i < add->n; i++) {
		size_t j = 0;
		while (j < conf->n && strcmp(conf->entries[j].prefix, add->entries[i].prefix) != 0)
			j++;
		if (j == conf->n) {
			conf->entries =
			    xrealloc(conf->entries, (conf->n + 1) * sizeof(*conf->entries));
			conf->n++;
		} else
			entry_clear(&conf->entries[j]);
		conf->entries[j] = add->entries[i];
	}
	free(add->entries);
	add->entries = NULL;
	add->n = 0;
}

int pp_registries_conf_parse(const char *data, size_t len, const char *file,
			     struct pp_registries_conf *conf, struct pp_error **err)
{
	struct pp_toml_value *root = NULL;
	if (pp_toml_parse(data, len, file, &root, err) < 0)
		return -1;
	struct pp_registries_conf add = {0};
	int r = parse_root(file, root, &add, err);
	pp_toml_free(root);
	if (r == 0)
		merge(conf, &add);
	pp_registries_conf_clear(&add);
	return r;
}

static int load_file(const char *path, struct pp_registries_conf *conf, struct pp_error **err)
{
	struct pp_toml_value *root = NULL;
	if (pp_toml_parse_file(path, &root, err) < 0)
		return (*err)->status == ENOENT ? (pp_error_free(err), 0) : -1;
	struct pp_registries_conf add = {0};
	int r = parse_root(path, root, &add, err);
	pp_toml_free(root);
	if (r == 0)
		merge(conf, &add);
	pp_registries_conf_clear(&add);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pp_registries_conf_load(const char *path, struct pp_registries_conf *conf,
			    struct pp_error **err)
{
	if (load_file(path, conf, err) < 0)
		return -1;
	cleanup_free char *dir = xasprintf("%s%s", path, PP_REGISTRIES_CONF_DROPIN_SUFFIX);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, dir, PP_DIR_MISSING_OK, err) < 0)
		return -1;
	char *names[PP_REGISTRIES_CONF_DROPINS_MAX] = {0};
	size_t n = 0;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		size_t l = strlen(de->d_name);
		if (l <= 5 || strcmp(de->d_name + l - 5, ".conf") != 0 || de->d_name[0] == '.')
			continue;
		if (n == PP_REGISTRIES_CONF_DROPINS_MAX) {
			r = pp_error_set(err, E2BIG, "%s: more than %d drop-ins", dir,
					 PP_REGISTRIES_CONF_DROPINS_MAX);
			break;
		}
		names[n++] = xstrdup(de->d_name);
	}
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			cleanup_free char *p = xasprintf("%s/%s", dir, names[i]);
			r = load_file(p, conf, err);
		}
		free(names[i]);
	}
	if (r < 0)
		pp_registries_conf_clear(conf);
	return r < 0 ? -1 : 0;
}

/* ---- where a reference is pulled from ---- */

/* How much of name (domain/path) the entry's prefix covers, 0: none; *rank
 * the prefix's length (the longest wins). */
static size_t match(const struct pp_registries_entry *e, const struct pp_image_ref *ref,
		    const char *name, size_t *rank)
{
	const char *p = e->prefix;
	size_t pl = strlen(p);
	*rank = pl;
	if (strncmp(p, "*.", 2) == 0) {
		size_t hl = strcspn(ref->domain, ":");
		size_t sl = pl - 1; /* ".domain" */
		return hl > sl && strncasecmp(ref->domain + hl - sl, p + 1, sl) == 0
			   ? strlen(ref->domain)
			   : 0;
	}
	if (strncmp(name, p, pl) == 0 && (name[pl] == '\0' || name[pl] == '/'))
		return pl;
	return 0;
}

static int endpoint(const char *location, const char *rest, bool insecure, bool mirror,
		    struct pp_pull_endpoint *out, struct pp_error **err)
{
	cleanup_free char *full = xasprintf("%s%s", location, rest);
	char *slash = strchr(full, '/');
	if (slash == NULL || slash[1] == '\0')
		return pp_error_set(err, EINVAL, "registries.conf: location %s gives no repository",
				    full);
	*slash = '\0';
	out->host = xstrdup(full);
	out->repo = xstrdup(slash + 1);
	out->insecure = insecure;
	out->mirror = mirror;
	return 0;
}

void pp_pull_endpoints_free(struct pp_pull_endpoint *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].host);
		free(e[i].repo);
	}
	free(e);
}

int pp_registries_conf_endpoints(const struct pp_registries_conf *conf,
				 const struct pp_image_ref *ref, struct pp_pull_endpoint **out,
				 size_t *n_out, struct pp_error **err)
{
	cleanup_free char *name = xasprintf("%s/%s", ref->domain, ref->path);
	const struct pp_registries_entry *best = NULL;
	size_t best_rank = 0, covered = 0;
	for (size_t i = 0; conf && i < conf->n; i++) {
		size_t rank, c = match(&conf->entries[i], ref, name, &rank);
		if (c > 0 && rank > best_rank) {
			best = &conf->entries[i];
			best_rank = rank;
			covered = c;
		}
	}
	struct pp_pull_endpoint *eps = xmalloc(((best ? best->n_mirrors : 0) + 1) * sizeof(*eps));
	size_t n = 0;
	int r = 0;
	if (best && best->blocked)
		r = pp_error_set(err, EACCES, "registry %s is blocked (registries.conf, %s)",
				 best->prefix, best->where);
	for (size_t i = 0; r == 0 && best && i < best->n_mirrors; i++) {
		const struct pp_registries_mirror *m = &best->mirrors[i];
		if ((m->pull_from == PP_PULL_FROM_MIRROR_DIGEST_ONLY && ref->digest == NULL) ||
		    (m->pull_from == PP_PULL_FROM_MIRROR_TAG_ONLY && ref->digest != NULL))
			continue;
		r = endpoint(m->location, name + covered, m->insecure, true, &eps[n], err);
		n += r == 0;
	}
	if (r == 0 && best) {
		const char *loc = best->location	   ? best->location
				  : best->prefix[0] == '*' ? ref->domain
							   : best->prefix;
		r = endpoint(loc, name + covered, best->insecure, false, &eps[n], err);
		n += r == 0;
	} else if (r == 0) {
		r = endpoint(name, "", false, false, &eps[n], err);
		n += r == 0;
	}
	if (r < 0) {
		pp_pull_endpoints_free(eps, n);
		return -1;
	}
	*out = eps;
	*n_out = n;
	return 0;
}
