/* The CRI's container requests on the control socket (control.h):
 * "cri-create {...}" and "cri-update {...}" decoded here, for both ends.
 * The container inside is a Kubernetes container object, checked by the
 * manifest's own parser (as a Pod's only container), so that a CRI
 * container and a manifest's are one type, validated one way. */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "manifest/manifest.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

static int bad(struct pp_error **err, const char *verb, const char *field, const char *what)
{
	return pp_error_set(err, EPROTO, "%s request: %s: %s", verb, field, what);
}

static struct json_object *parse_object(const char *msg, size_t len, const char *verb,
					struct pp_error **err)
{
	size_t vlen = strlen(verb) + 1;
	if (len < vlen || memcmp(msg, verb, vlen - 1) != 0 || msg[vlen - 1] != ' ') {
		pp_error_set(err, EPROTO, "not a %s request", verb);
		return NULL;
	}
	msg += vlen;
	len -= vlen;
	if (memchr(msg, '\0', len) != NULL || len > INT32_MAX) {
		pp_error_set(err, EPROTO, "%s request: not a JSON text", verb);
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *o = json_tokener_parse_ex(tok, msg, (int)len);
	bool whole = o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
		     (size_t)json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	if (!whole || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		pp_error_set(err, EPROTO, "%s request: not a JSON object", verb);
		return NULL;
	}
	return o;
}

/* The container object through the manifest parser: a Pod with it alone. */
static int parse_container(const char *verb, struct json_object *ctr, struct pp_container **out,
			   struct pp_error **err)
{
	if (!json_object_is_type(ctr, json_type_object))
		return bad(err, verb, "container", "not an object");
	struct json_object *pod = json_object_new_object();
	struct json_object *meta = json_object_new_object();
	struct json_object *spec = json_object_new_object();
	struct json_object *list = json_object_new_array();
	json_object_object_add(pod, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(pod, "kind", json_object_new_string("Pod"));
	json_object_object_add(meta, "name", json_object_new_string("cri"));
	json_object_object_add(pod, "metadata", meta);
	json_object_array_add(list, json_object_get(ctr));
	json_object_object_add(spec, "containers", list);
	json_object_object_add(pod, "spec", spec);
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
	    pod, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	struct pp_pod *p = NULL;
	int r = pp_spec_parse_buffer("container", text, len, &p, err);
	json_object_put(pod);
	if (r < 0)
		return pp_error_wrap(err, "%s request", verb);
	struct pp_container *c = xmalloc(sizeof(*c));
	*c = p->containers[0];
	/* the Pod keeps nothing of it */
	p->containers[0] = (struct pp_container){0};
	pp_pod_free(p);
	*out = c;
	return 0;
}

static int get_str(struct json_object *o, const char *key, bool required, const char **out,
		   const char *verb, struct pp_error **err)
{
	struct json_object *v = NULL;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return required ? bad(err, verb, key, "missing") : 0;
	if (!json_object_is_type(v, json_type_string))
		return bad(err, verb, key, "not a string");
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return bad(err, verb, key, "a NUL in the string");
	*out = s;
	return 0;
}

static int parse_mount(struct json_object *m, struct pp_volume_mount *vm, struct pp_error **err)
{
	static const char verb[] = PP_CTL_CRI_CREATE;
	const char *host = NULL, *target = NULL, *prop = NULL;
	if (!json_object_is_type(m, json_type_object))
		return bad(err, verb, "mounts[]", "not an object");
	if (get_str(m, "hostPath", true, &host, verb, err) < 0 ||
	    get_str(m, "containerPath", true, &target, verb, err) < 0 ||
	    get_str(m, "propagation", false, &prop, verb, err) < 0)
		return -1;
	if (host[0] != '/' || target[0] != '/')
		return bad(err, verb, "mounts[]", "hostPath and containerPath must be absolute");
	struct json_object *ro = NULL;
	if (json_object_object_get_ex(m, "readOnly", &ro) &&
	    !json_object_is_type(ro, json_type_boolean))
		return bad(err, verb, "mounts[].readOnly", "not a boolean");
	vm->host_path = xstrdup(host);
	vm->mount_path = xstrdup(target);
	vm->read_only = ro != NULL && json_object_get_boolean(ro);
	vm->propagation = PP_PROPAGATION_NONE;
	if (prop == NULL || strcmp(prop, "None") == 0)
		return 0;
	if (strcmp(prop, "HostToContainer") == 0)
		vm->propagation = PP_PROPAGATION_HOST_TO_CONTAINER;
	else if (strcmp(prop, "Bidirectional") == 0)
		vm->propagation = PP_PROPAGATION_BIDIRECTIONAL;
	else
		return bad(err, verb, "mounts[].propagation",
			   "not None, HostToContainer or Bidirectional");
	return 0;
}

/* a, when given (else *n is 0), an array of at most max entries: *n. */
static int array_len(struct json_object *a, const char *field, size_t max, size_t *n,
		     struct pp_error **err)
{
	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return bad(err, PP_CTL_CRI_CREATE, field, "not an array");
	*n = json_object_array_length(a);
	if (*n > max)
		return bad(err, PP_CTL_CRI_CREATE, field, "too many");
	return 0;
}

static int parse_mounts(struct json_object *a, struct pp_container *c, struct pp_error **err)
{
	size_t n;
	if (array_len(a, "mounts", PP_CTL_CRI_MAX_MOUNTS, &n, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	size_t base = c->n_volume_mounts;
	c->volume_mounts = xrealloc(c->volume_mounts, sizeof(*c->volume_mounts) * (base + n + 1));
	for (size_t i = 0; i < n; i++) {
		struct pp_volume_mount *vm = &c->volume_mounts[base + i];
		*vm = (struct pp_volume_mount){0};
		c->n_volume_mounts++;
		if (parse_mount(json_object_array_get_idx(a, i), vm, err) < 0)
			return -1;
	}
	return 0;
}

static void *zalloc(size_t n)
{
	return memset(xmalloc(n), 0, n);
}

static int parse_device(struct json_object *d, struct pp_cri_device *dev, struct pp_error **err)
{
	static const char verb[] = PP_CTL_CRI_CREATE;
	const char *host = NULL, *target = NULL, *perms = NULL;
	if (!json_object_is_type(d, json_type_object))
		return bad(err, verb, "devices[]", "not an object");
	if (get_str(d, "hostPath", true, &host, verb, err) < 0 ||
	    get_str(d, "containerPath", true, &target, verb, err) < 0 ||
	    get_str(d, "permissions", false, &perms, verb, err) < 0)
		return -1;
	if (host[0] != '/')
		return bad(err, verb, "devices[].hostPath", "not an absolute path");
	if (strncmp(target, "/dev/", 5) != 0 || target[5] == '\0' || strstr(target, "/../") ||
	    strstr(target, "/./") || strstr(target, "//") || target[strlen(target) - 1] == '/' ||
	    strcmp(target + strlen(target) - 3, "/..") == 0 ||
	    strcmp(target + strlen(target) - 2, "/.") == 0)
		return bad(err, verb, "devices[].containerPath", "not a clean path under /dev/");
	if (perms != NULL && strspn(perms, "rwm") != strlen(perms))
		return bad(err, verb, "devices[].permissions", "not made of r, w and m");
	dev->host_path = xstrdup(host);
	dev->container_path = xstrdup(target);
	dev->permissions = xstrdup(perms && *perms ? perms : "rwm");
	return 0;
}

static int parse_devices(struct json_object *a, struct pp_container *c, struct pp_error **err)
{
	size_t n;
	if (array_len(a, "devices", PP_CTL_CRI_MAX_DEVICES, &n, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	c->devices = zalloc((n + 1) * sizeof(*c->devices));
	for (size_t i = 0; i < n; i++) {
		c->n_devices++;
		if (parse_device(json_object_array_get_idx(a, i), &c->devices[i], err) < 0)
			return -1;
	}
	return 0;
}

/* A list of absolute paths; *out NULL-terminated (NULL when empty). */
static int parse_paths(struct json_object *a, const char *field, char ***out, struct pp_error **err)
{
	size_t n;
	if (array_len(a, field, PP_CTL_CRI_MAX_PATHS, &n, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	*out = zalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v) ||
		    json_object_get_string(v)[0] != '/')
			return bad(err, PP_CTL_CRI_CREATE, field, "not an absolute path");
		(*out)[i] = xstrdup(json_object_get_string(v));
	}
	return 0;
}

/* maskedPaths and readonlyPaths, when given, replace the defaults. */
static int parse_security_paths(struct json_object *o, struct pp_container *c,
				struct pp_error **err)
{
	struct json_object *masked = NULL, *ro = NULL;
	bool has_m = json_object_object_get_ex(o, "maskedPaths", &masked);
	bool has_r = json_object_object_get_ex(o, "readonlyPaths", &ro);
	if (!has_m && !has_r)
		return 0;
	c->has_cri_paths = true;
	if (has_m && parse_paths(masked, "maskedPaths", &c->masked_paths, err) < 0)
		return -1;
	if (has_r && parse_paths(ro, "readonlyPaths", &c->readonly_paths, err) < 0)
		return -1;
	return 0;
}

int pp_ctl_cri_create_decode(const char *msg, size_t len, struct pp_ctl_cri_create *req,
			     struct pp_error **err)
{
	*req = (struct pp_ctl_cri_create){0};
	struct json_object *o = parse_object(msg, len, PP_CTL_CRI_CREATE, err);
	if (o == NULL)
		return -1;
	struct json_object *ctr = NULL, *mounts = NULL, *devices = NULL;
	const char *log_path = NULL;
	int r = 0;
	static const char *const fields[] = {"container",   "mounts",	     "logPath", "devices",
					     "maskedPaths", "readonlyPaths", NULL};
	json_object_object_foreach(o, key, v)
	{
		size_t k = 0;
		while (fields[k] != NULL && strcmp(fields[k], key) != 0)
			k++;
		if (fields[k] == NULL)
			r = bad(err, PP_CTL_CRI_CREATE, key, "unknown field");
		(void)v;
	}
	if (r == 0 && !json_object_object_get_ex(o, "container", &ctr))
		r = bad(err, PP_CTL_CRI_CREATE, "container", "missing");
	json_object_object_get_ex(o, "mounts", &mounts);
	json_object_object_get_ex(o, "devices", &devices);
	if (r == 0)
		r = get_str(o, "logPath", false, &log_path, PP_CTL_CRI_CREATE, err);
	if (r == 0 && log_path != NULL && log_path[0] != '/')
		r = bad(err, PP_CTL_CRI_CREATE, "logPath", "not an absolute path");
	if (r == 0)
		r = parse_container(PP_CTL_CRI_CREATE, ctr, &req->spec, err);
	if (r == 0)
		r = parse_mounts(mounts, req->spec, err);
	if (r == 0)
		r = parse_devices(devices, req->spec, err);
	if (r == 0)
		r = parse_security_paths(o, req->spec, err);
	if (r == 0 && log_path != NULL)
		req->log_path = xstrdup(log_path);
	json_object_put(o);
	if (r < 0)
		pp_ctl_cri_create_free(req);
	return r;
}

void pp_ctl_cri_create_free(struct pp_ctl_cri_create *req)
{
	pp_container_free(req->spec);
	free(req->log_path);
	*req = (struct pp_ctl_cri_create){0};
}

int pp_ctl_cri_update_decode(const char *msg, size_t len, char **name, struct pp_container **with,
			     struct pp_error **err)
{
	*name = NULL;
	*with = NULL;
	struct json_object *o = parse_object(msg, len, PP_CTL_CRI_UPDATE, err);
	if (o == NULL)
		return -1;
	const char *n = NULL;
	struct json_object *ctr = NULL;
	int r = get_str(o, "name", true, &n, PP_CTL_CRI_UPDATE, err);
	if (r == 0 && !json_object_object_get_ex(o, "container", &ctr))
		r = bad(err, PP_CTL_CRI_UPDATE, "container", "missing");
	if (r == 0)
		r = parse_container(PP_CTL_CRI_UPDATE, ctr, with, err);
	if (r == 0)
		*name = xstrdup(n);
	json_object_put(o);
	return r;
}
