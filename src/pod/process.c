/* The container process as kubelet and the CRI runtime compose it. */
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "pod/pod_internal.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A growing NULL-terminated list of "NAME=value" where a later NAME replaces
 * an earlier one in place (the order stays that of first definition). */
struct envlist {
	char **v;
	size_t n;
};

static char **env_find(struct envlist *l, const char *name, size_t name_len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->v[i], name, name_len) == 0 && l->v[i][name_len] == '=')
			return &l->v[i];
	return NULL;
}

static void env_set(struct envlist *l, const char *name, const char *value)
{
	char *entry = xasprintf("%s=%s", name, value);
	char **slot = env_find(l, name, strlen(name));
	if (slot) {
		free(*slot);
		*slot = entry;
		return;
	}
	l->v = xrealloc(l->v, sizeof(char *) * (l->n + 2));
	l->v[l->n++] = entry;
	l->v[l->n] = NULL;
}

static void env_set_entry(struct envlist *l, const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (eq == NULL)
		return;
	cleanup_free char *name = strndup(entry, (size_t)(eq - entry));
	env_set(l, name, eq + 1);
}

static const char *envlist_lookup(void *ctx, const char *name)
{
	struct envlist *l = ctx;
	char **slot = env_find(l, name, strlen(name));
	return slot ? strchr(*slot, '=') + 1 : NULL;
}

/* kubelet's InvalidEnvironmentVariableNames: the keys of an envFrom that
 * are not variable names, skipped; appended to *warnings (a strv). */
static void warn_invalid(const struct pp_pod_instance *pod, const struct pp_env_from *e,
			 char **invalid, char ***warnings)
{
	size_t n = 0;
	while (*warnings != NULL && (*warnings)[n] != NULL)
		n++;
	cleanup_free char *keys = NULL;
	for (char **x = invalid; *x; x++) {
		char *more = xasprintf("%s%s%s", keys ? keys : "", keys ? ", " : "", *x);
		free(keys);
		keys = more;
	}
	*warnings = xrealloc(*warnings, sizeof(char *) * (n + 2));
	(*warnings)[n] =
	    xasprintf("Keys [%s] from the EnvFrom %s %s/%s were skipped since they are "
		      "considered invalid environment variable names.",
		      keys, e->secret ? "secret" : "configMap", pod->spec->namespace_, e->name);
	(*warnings)[n + 1] = NULL;
}

/* envFrom, each source in order (a later one's key wins); warnings (may
 * be NULL) gets kubelet's InvalidEnvironmentVariableNames messages. */
static int env_from(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
		    struct envlist *l, char ***warnings, struct pp_error **err)
{
	for (size_t i = 0; i < c->spec->n_env_from; i++) {
		const struct pp_env_from *e = &c->spec->env_from[i];
		struct pp_kv *kv = NULL;
		size_t n = 0;
		char **invalid = NULL;
		if (pp_pod_env_from_values(pod->spec->namespace_, e, &kv, &n,
					   warnings ? &invalid : NULL, err) < 0)
			return -1;
		for (size_t k = 0; k < n; k++) {
			env_set(l, kv[k].key, kv[k].value);
			free(kv[k].key);
			explicit_bzero(kv[k].value, strlen(kv[k].value));
			free(kv[k].value);
		}
		free(kv);
		if (invalid != NULL) {
			warn_invalid(pod, e, invalid, warnings);
			strv_free(invalid);
		}
	}
	return 0;
}

/* kubelet: envFrom, then env vars in order, each value expanded against
 * the ones before it (not the image's env, which the runtime merges in
 * underneath). */
static int manifest_env(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
			struct envlist *l, char ***warnings, struct pp_error **err)
{
	if (env_from(pod, c, l, warnings, err) < 0)
		return -1;
	for (size_t i = 0; i < c->spec->n_env; i++) {
		const struct pp_env_var *e = &c->spec->env[i];
		cleanup_free char *value = NULL;
		switch (e->source) {
		case PP_ENV_FIELD_REF:
			if (pp_pod_field_ref_value(pod, e->field_path, &value, err) < 0)
				return pp_error_wrap(err, "env %s", e->name);
			break;
		case PP_ENV_RESOURCE_FIELD_REF:
			/* containerName defaults to the container itself */
			if (pp_pod_resource_ref_value(
				pod, e->container_name ? e->container_name : c->spec->name,
				e->resource, &e->divisor, &value, err) < 0)
				return pp_error_wrap(err, "env %s", e->name);
			break;
		case PP_ENV_CONFIGMAP_KEY:
		case PP_ENV_SECRET_KEY:
			if (pp_pod_env_key_value(pod->spec->namespace_, e, &value, err) < 0)
				return -1;
			if (value == NULL)
				continue; /* optional and missing: not set */
			break;
		case PP_ENV_VALUE:
		default:
			value = pp_expand_vars(e->value ? e->value : "", envlist_lookup, l);
			break;
		}
		env_set(l, e->name, value);
	}
	return 0;
}

int pp_pod_container_env_check(const struct pp_pod_instance *pod, size_t i, char ***warnings,
			       struct pp_error **err)
{
	struct envlist l = {0};
	int r = manifest_env(pod, &pod->containers[i], &l, warnings, err);
	for (size_t k = 0; k < l.n; k++)
		explicit_bzero(l.v[k], strlen(l.v[k])); /* Secrets' values */
	strv_free(l.v);
	return r;
}

int pp_pod_container_env(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
			 char ***envp, struct pp_error **err)
{
	struct envlist manifest = {0}, all = {0};
	if (manifest_env(pod, c, &manifest, NULL, err) < 0) {
		strv_free(manifest.v);
		return -1;
	}
	/* The default PATH, the image's env, HOSTNAME, then the manifest's. */
	env_set_entry(&all, DEFAULT_PATH);
	for (char **e = c->image->config.env; e && *e; e++)
		env_set_entry(&all, *e);
	env_set(&all, "HOSTNAME", pp_pod_hostname(pod->spec));
	for (size_t i = 0; i < manifest.n; i++)
		env_set_entry(&all, manifest.v[i]);
	strv_free(manifest.v);
	*envp = all.v;
	return 0;
}

static void argv_append(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, sizeof(char *) * (*n + 2));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static void argv_append_expanded(char ***v, size_t *n, char **src, struct envlist *l)
{
	for (char **s = src; s && *s; s++)
		argv_append(v, n, l ? pp_expand_vars(*s, envlist_lookup, l) : xstrdup(*s));
}

/* Kubernetes: command replaces the image's Entrypoint, args its Cmd; when
 * only command is given the image's Cmd is dropped too. $(VAR) in command
 * and args refers to the container's env from the manifest. */
int pp_pod_container_argv(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
			  char ***argv, struct pp_error **err)
{
	const struct pp_container *s = c->spec;
	const struct pp_image_config *ic = &c->image->config;
	struct envlist l = {0};
	if (manifest_env(pod, c, &l, NULL, err) < 0) {
		strv_free(l.v);
		return -1;
	}
	char **v = NULL;
	size_t n = 0;
	if (s->command) {
		argv_append_expanded(&v, &n, s->command, &l);
		argv_append_expanded(&v, &n, s->args, &l);
	} else {
		argv_append_expanded(&v, &n, ic->entrypoint, NULL);
		if (s->args)
			argv_append_expanded(&v, &n, s->args, &l);
		else
			argv_append_expanded(&v, &n, ic->cmd, NULL);
	}
	strv_free(l.v);
	if (n == 0)
		return pp_error_set(err, EINVAL,
				    "container \"%s\": no command specified (the image has no "
				    "Entrypoint or Cmd and the manifest no command)",
				    s->name);
	*argv = v;
	return 0;
}
