/* kubectl create configmap / secret: an object from literals, files,
 * env files, a certificate pair or registry credentials. */
#include <dirent.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest/k8s_names.h"
#include "ops/objects.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define DOCKER_DEFAULT_SERVER "https://index.docker.io/v1/"
#define DOCKER_CONFIG_JSON_TYPE "kubernetes.io/dockerconfigjson"
#define TLS_TYPE "kubernetes.io/tls"

static struct pp_config_object *new_object(enum pp_object_kind kind, const char *ns,
					   const char *name, const char *type)
{
	struct pp_config_object *o = xmalloc(sizeof(*o));
	o->kind = kind;
	o->name = xstrdup(name);
	o->namespace_ = xstrdup(ns);
	if (kind == PP_OBJ_SECRET)
		o->type = xstrdup(type ? type : PP_SECRET_TYPE_OPAQUE);
	return o;
}

/* Takes value (len bytes, NUL after them). */
static int add_value(struct pp_config_object *o, const char *key, unsigned char *value, size_t len,
		     bool binary, struct pp_error **err)
{
	const char *why = pp_object_key_error(key);
	if (why != NULL) {
		free(value);
		return pp_error_set(err, 0, "\"%s\" is not a valid key name for a %s: %s", key,
				    pp_object_kind_name(o->kind), why);
	}
	if (pp_object_find(o, key) != NULL) {
		free(value);
		return pp_error_set(err, 0,
				    "cannot add key %s, another key by that name already exists "
				    "in %s for %s \"%s\"",
				    key, o->kind == PP_OBJ_SECRET ? "data" : "data or binaryData",
				    pp_object_kind_name(o->kind), o->name);
	}
	o->items = xrealloc(o->items, (o->n_items + 1) * sizeof(*o->items));
	o->items[o->n_items++] = (struct pp_data_item){
	    .key = xstrdup(key), .value = value, .len = len, .binary = binary};
	return 0;
}

static int add_string(struct pp_config_object *o, const char *key, const char *value,
		      struct pp_error **err)
{
	return add_value(o, key, (unsigned char *)xstrdup(value), strlen(value),
			 o->kind == PP_OBJ_SECRET, err);
}

static int add_literal(struct pp_config_object *o, const char *arg, struct pp_error **err)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg)
		return pp_error_set(err, 0, "invalid literal source %s, expected key=value", arg);
	cleanup_free char *key = xasprintf("%.*s", (int)(eq - arg), arg);
	return add_string(o, key, eq + 1, err);
}

/* kubectl's test for binaryData: bytes that are not UTF-8 text. */
static bool is_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char ch = s[i];
		size_t n = ch < 0x80	     ? 1
			   : (ch >> 5) == 6  ? 2
			   : (ch >> 4) == 14 ? 3
			   : (ch >> 3) == 30 ? 4
					     : 0;
		if (n == 0 || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

static int add_file(struct pp_config_object *o, const char *key, const char *path,
		    struct pp_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	if (pp_read_file(path, PP_OBJECT_MAX_SIZE + 1, &buf, &len, err) < 0)
		return pp_error_wrap(err, "%s", path);
	bool binary = o->kind == PP_OBJ_SECRET || !is_utf8((unsigned char *)buf, len);
	return add_value(o, key, (unsigned char *)buf, len, binary, err);
}

/* A directory: each regular file in it, its name the key (kubectl). */
static int add_dir(struct pp_config_object *o, const char *dir, struct pp_error **err)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return pp_error_set(err, errno, "%s", dir);
	int r = 0;
	for (int i = 0; i < n; i++) {
		cleanup_free char *path = xasprintf("%s/%s", dir, names[i]->d_name);
		struct stat st;
		if (r == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			r = add_file(o, names[i]->d_name, path, err);
		free(names[i]);
	}
	free(names);
	return r;
}

static int add_file_source(struct pp_config_object *o, const char *arg, struct pp_error **err)
{
	const char *eq = strchr(arg, '=');
	if (eq != NULL) {
		if (eq == arg || eq[1] == '\0')
			return pp_error_set(err, 0, "key names or file paths cannot be empty: %s",
					    arg);
		cleanup_free char *key = xasprintf("%.*s", (int)(eq - arg), arg);
		return add_file(o, key, eq + 1, err);
	}
	struct stat st;
	if (stat(arg, &st) < 0)
		return pp_error_set(err, errno, "%s", arg);
	if (S_ISDIR(st.st_mode))
		return add_dir(o, arg, err);
	const char *base = strrchr(arg, '/');
	return add_file(o, base ? base + 1 : arg, arg, err);
}

/* kubectl's env file: KEY=VALUE per line, leading blanks and a BOM
 * dropped, blank lines and # comments skipped; a KEY alone takes the
 * value of that variable in the environment, if set. */
static int add_env_line(struct pp_config_object *o, const char *path, int line_no, char *line,
			struct pp_error **err)
{
	while (*line == ' ' || *line == '\t' || *line == '\r')
		line++;
	size_t len = strlen(line);
	while (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (*line == '\0' || *line == '#')
		return 0;
	char *eq = strchr(line, '=');
	if (eq != NULL)
		*eq = '\0';
	if (!pp_is_env_var_name(line))
		return pp_error_set(err, 0,
				    "%s:%d: \"%s\" is not a valid key name: a valid environment "
				    "variable name must consist of alphabetic characters, digits, "
				    "'_', '-', or '.', and must not start with a digit",
				    path, line_no, line);
	if (eq != NULL)
		return add_string(o, line, eq + 1, err);
	const char *env = getenv(line);
	return env != NULL ? add_string(o, line, env, err) : 0;
}

static int add_env_file(struct pp_config_object *o, const char *path, struct pp_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (pp_read_file(path, PP_OBJECT_MAX_SIZE + 1, &buf, &len, err) < 0)
		return pp_error_wrap(err, "%s", path);
	if (memchr(buf, '\0', len) != NULL)
		return pp_error_set(err, 0, "%s: not a text file", path);
	char *p = buf;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	int line_no = 0;
	for (char *save = NULL, *line = p; line != NULL; line = save) {
		save = strchr(line, '\n');
		if (save != NULL)
			*save++ = '\0';
		if (add_env_line(o, path, ++line_no, line, err) < 0)
			return -1;
	}
	return 0;
}

static int cmp_items(const void *a, const void *b)
{
	return strcmp(((const struct pp_data_item *)a)->key, ((const struct pp_data_item *)b)->key);
}

static int finish(struct pp_config_object *o, struct pp_config_object **out, struct pp_error **err)
{
	if (o->n_items > 0)
		qsort(o->items, o->n_items, sizeof(*o->items), cmp_items);
	if (pp_object_validate(o, err) < 0) {
		pp_error_wrap(err, "%s \"%s\" is invalid", pp_object_kind_name(o->kind), o->name);
		pp_object_free(o);
		return -1;
	}
	*out = o;
	return 0;
}

static int check_name(enum pp_object_kind kind, const char *name, struct pp_error **err)
{
	if (pp_is_dns1123_subdomain(name))
		return 0;
	return pp_error_set(
	    err, 0,
	    "%s \"%s\" is invalid: metadata.name: Invalid value: \"%s\": a lowercase "
	    "RFC 1123 subdomain must consist of lower case alphanumeric characters, "
	    "'-' or '.', and must start and end with an alphanumeric character",
	    pp_object_kind_name(kind), name, name);
}

int pp_object_build(enum pp_object_kind kind, const char *ns, const char *name, const char *type,
		    const struct pp_object_source *sources, size_t n, struct pp_config_object **out,
		    struct pp_error **err)
{
	*out = NULL;
	if (check_name(kind, name, err) < 0)
		return -1;
	struct pp_config_object *o = new_object(kind, ns, name, type);
	for (size_t i = 0; i < n; i++) {
		const struct pp_object_source *s = &sources[i];
		int r = s->kind == PP_SOURCE_LITERAL ? add_literal(o, s->arg, err)
			: s->kind == PP_SOURCE_FILE  ? add_file_source(o, s->arg, err)
						     : add_env_file(o, s->arg, err);
		if (r < 0) {
			pp_object_free(o);
			return -1;
		}
	}
	return finish(o, out, err);
}

int pp_secret_build_tls(const char *ns, const char *name, const char *cert, const char *key,
			struct pp_config_object **out, struct pp_error **err)
{
	*out = NULL;
	if (check_name(PP_OBJ_SECRET, name, err) < 0)
		return -1;
	struct pp_config_object *o = new_object(PP_OBJ_SECRET, ns, name, TLS_TYPE);
	if (add_file(o, "tls.crt", cert, err) < 0 || add_file(o, "tls.key", key, err) < 0) {
		pp_object_free(o);
		return -1;
	}
	return finish(o, out, err);
}

int pp_secret_build_docker_registry(const char *ns, const char *name,
				    const struct pp_docker_registry_args *a,
				    struct pp_config_object **out, struct pp_error **err)
{
	*out = NULL;
	if (check_name(PP_OBJ_SECRET, name, err) < 0)
		return -1;
	cleanup_free char *pair = xasprintf("%s:%s", a->username, a->password);
	cleanup_free char *auth = pp_base64_encode(pair, strlen(pair));
	struct json_object *entry = json_object_new_object();
	json_object_object_add(entry, "username", json_object_new_string(a->username));
	json_object_object_add(entry, "password", json_object_new_string(a->password));
	if (a->email != NULL)
		json_object_object_add(entry, "email", json_object_new_string(a->email));
	json_object_object_add(entry, "auth", json_object_new_string(auth));
	struct json_object *auths = json_object_new_object();
	json_object_object_add(auths, a->server ? a->server : DOCKER_DEFAULT_SERVER, entry);
	struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "auths", auths);
	struct pp_config_object *o = new_object(PP_OBJ_SECRET, ns, name, DOCKER_CONFIG_JSON_TYPE);
	int r = add_string(o, ".dockerconfigjson",
			   json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE),
			   err);
	json_object_put(doc);
	if (r < 0) {
		pp_object_free(o);
		return -1;
	}
	return finish(o, out, err);
}
