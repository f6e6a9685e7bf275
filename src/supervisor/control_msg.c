/* The exec request and its reply on the control socket, as typed messages:
 * one encoder and one decoder each, used by both ends. Both are JSON; enums
 * travel by name (seccomp modes, capabilities), and decoding checks the
 * type and range of every field, refuses unknown ones and names the field
 * it refuses, since a supervisor and a CLI of other versions may meet. */
#include <linux/oom.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "supervisor/control.h"
#include "util/cleanup.h"

#define EXEC_VERB "exec "
/* A container's name is a DNS label (63), an object name at most 253. */
#define NAME_MAX_LEN 253
#define DEL_CHAR 0x7f

static const char *const seccomp_names[] = {
    [PP_SECCOMP_RUNTIME_DEFAULT] = "RuntimeDefault",
    [PP_SECCOMP_UNCONFINED] = "Unconfined",
    [PP_SECCOMP_LOCALHOST] = "Localhost",
};
#define N_SECCOMP_NAMES (sizeof(seccomp_names) / sizeof(seccomp_names[0]))

/* ---- decoding ---- */

/* What a field's decoder works on besides the value: the field's path (for
 * messages) and the reply it fills; the cgroup count announced is checked
 * against the fds that came once the whole reply is read. */
struct field_ctx {
	const char *path;
	struct pp_ctl_exec_reply *r;
	size_t n_cgroups;
};

struct field {
	const char *name;
	bool required;
	int (*decode)(struct json_object *v, struct field_ctx *f, struct pp_error **err);
};

static int bad(struct pp_error **err, const struct field_ctx *f, const char *what)
{
	return pp_error_set(err, EPROTO, "exec reply: %s: %s", f->path, what);
}

/* A JSON document, whole and alone: no NUL inside, nothing after it. */
static struct json_object *parse_doc(const char *msg, size_t len, const char *what,
				     struct pp_error **err)
{
	if (memchr(msg, '\0', len) != NULL || len > INT32_MAX) {
		pp_error_set(err, EPROTO, "%s: not a JSON text", what);
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *doc = json_tokener_parse_ex(tok, msg, (int)len);
	bool whole = doc != NULL && json_tokener_get_error(tok) == json_tokener_success &&
		     (size_t)json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	if (whole && json_object_is_type(doc, json_type_object))
		return doc;
	json_object_put(doc);
	pp_error_set(err, EPROTO, "%s: not a JSON object", what);
	return NULL;
}

/* A string without NUL (json-c would cut it there). */
static int get_string(struct json_object *v, const struct field_ctx *f, const char **out,
		      struct pp_error **err)
{
	if (!json_object_is_type(v, json_type_string))
		return bad(err, f, "not a string");
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return bad(err, f, "a NUL in the string");
	*out = s;
	return 0;
}

static int get_int(struct json_object *v, const struct field_ctx *f, int64_t min, int64_t max,
		   int64_t *out, struct pp_error **err)
{
	*out = 0;
	if (!json_object_is_type(v, json_type_int))
		return bad(err, f, "not an integer");
	/* json-c clamps what does not fit an int64 to its limits: out of range too. */
	int64_t n = json_object_get_int64(v);
	if (n < min || n > max)
		return bad(err, f, "out of range");
	*out = n;
	return 0;
}

/* A uid or gid: (uid_t)-1 means "unchanged" to the kernel, no id. */
static int get_id(struct json_object *v, const struct field_ctx *f, uint32_t *out,
		  struct pp_error **err)
{
	int64_t n;
	if (get_int(v, f, 0, (int64_t)UINT32_MAX - 1, &n, err) < 0)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static int get_bool(struct json_object *v, const struct field_ctx *f, bool *out,
		    struct pp_error **err)
{
	if (!json_object_is_type(v, json_type_boolean))
		return bad(err, f, "not a boolean");
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_array(struct json_object *v, const struct field_ctx *f, size_t max,
		     struct pp_error **err)
{
	if (!json_object_is_type(v, json_type_array))
		return bad(err, f, "not an array");
	if (json_object_array_length(v) > max)
		return bad(err, f, "too many elements");
	return 0;
}

/* Every key of obj through its entry of fields (an unknown key is an
 * error), then the required ones that were missing. */
static int decode_object(struct json_object *obj, const struct field *fields, size_t n_fields,
			 struct field_ctx *f, struct pp_error **err)
{
	const char *parent = f->path;
	uint64_t seen = 0;
	json_object_object_foreach(obj, key, v)
	{
		size_t k = 0;
		while (k < n_fields && strcmp(fields[k].name, key) != 0)
			k++;
		cleanup_free char *path = xasprintf("%s%s%.64s", parent, parent[0] ? "." : "", key);
		f->path = path;
		int r = k == n_fields ? bad(err, f, "unknown field") : fields[k].decode(v, f, err);
		f->path = parent;
		if (r < 0)
			return -1;
		seen |= (uint64_t)1 << k;
	}
	for (size_t k = 0; k < n_fields; k++)
		if (fields[k].required && !(seen & ((uint64_t)1 << k)))
			return pp_error_set(err, EPROTO, "exec reply: %s%s%s: missing", parent,
					    parent[0] ? "." : "", fields[k].name);
	return 0;
}

static int dec_env(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	if (get_array(v, f, PP_CTL_MAX_MSG, err) < 0)
		return -1;
	size_t n = json_object_array_length(v);
	cleanup_strv char **env = xmalloc((n + 1) * sizeof(char *));
	memset(env, 0, (n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s;
		if (get_string(json_object_array_get_idx(v, i), f, &s, err) < 0)
			return -1;
		/* NAME=value, as the pod layer composes it */
		const char *eq = strchr(s, '=');
		if (eq == NULL || eq == s)
			return bad(err, f, "an entry that is not NAME=value");
		env[i] = xstrdup(s);
	}
	strv_free(f->r->env);
	f->r->env = steal_ptr(&env);
	return 0;
}

static int dec_cwd(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_string(v, f, &f->r->identity.cwd, err);
}

static int dec_user(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_string(v, f, &f->r->identity.user, err);
}

static int dec_uid(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	uint32_t id = 0;
	if (get_id(v, f, &id, err) < 0)
		return -1;
	f->r->identity.has_uid = true;
	f->r->identity.uid = id;
	return 0;
}

static int dec_gid(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	uint32_t id = 0;
	if (get_id(v, f, &id, err) < 0)
		return -1;
	f->r->identity.has_gid = true;
	f->r->identity.gid = id;
	return 0;
}

static int dec_groups(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	if (get_array(v, f, PP_MAX_EXTRA_GIDS, err) < 0)
		return -1;
	struct pp_identity *id = &f->r->identity;
	id->n_extra_gids = 0;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		uint32_t gid;
		if (get_id(json_object_array_get_idx(v, i), f, &gid, err) < 0)
			return -1;
		id->extra_gids[id->n_extra_gids++] = gid;
	}
	return 0;
}

static int dec_oom(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	int64_t n;
	if (get_int(v, f, OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX, &n, err) < 0)
		return -1;
	f->r->oom_score_adj = (int)n;
	return 0;
}

static int dec_cgroups(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	int64_t n;
	if (get_int(v, f, 0, PP_CTL_MAX_FDS - 1, &n, err) < 0)
		return -1;
	f->n_cgroups = (size_t)n;
	return 0;
}

static int dec_privileged(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_bool(v, f, &f->r->identity.security.privileged, err);
}

static int dec_no_new_privs(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_bool(v, f, &f->r->identity.security.no_new_privs, err);
}

/* A capability by name; one newer than this code's names by number. */
static int dec_capabilities(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	if (get_array(v, f, sizeof(pp_caps_t) * 8, err) < 0)
		return -1;
	pp_caps_t caps = 0;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		const char *s;
		if (get_string(json_object_array_get_idx(v, i), f, &s, err) < 0)
			return -1;
		int cap = pp_cap_from_name(s);
		char *end = NULL;
		if (cap < 0 && s[0] >= '0' && s[0] <= '9') {
			long n = strtol(s, &end, 10);
			cap = *end == '\0' && n > PP_CAP_LAST_KNOWN && n < 64 ? (int)n : -1;
		}
		if (cap < 0)
			return bad(err, f, "an unknown capability");
		caps |= PP_CAP_BIT(cap);
	}
	f->r->identity.security.has_caps = true;
	f->r->identity.security.caps = caps;
	return 0;
}

static int dec_seccomp(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	const char *s;
	if (get_string(v, f, &s, err) < 0)
		return -1;
	for (size_t k = 0; k < N_SECCOMP_NAMES; k++)
		if (strcmp(s, seccomp_names[k]) == 0) {
			f->r->identity.security.seccomp = (enum pp_seccomp_mode)k;
			return 0;
		}
	return bad(err, f, "not RuntimeDefault, Unconfined or Localhost");
}

static int dec_seccomp_profile(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_string(v, f, &f->r->identity.security.seccomp_profile, err);
}

static int dec_seccomp_cache(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_string(v, f, &f->r->seccomp_cache, err);
}

static int dec_apparmor(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_string(v, f, &f->r->identity.security.apparmor_profile, err);
}

static int dec_selinux(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	return get_string(v, f, &f->r->identity.security.selinux_label, err);
}

static const struct field security_fields[] = {
    {"privileged", true, dec_privileged},
    {"capabilities", true, dec_capabilities},
    {"noNewPrivs", true, dec_no_new_privs},
    {"seccomp", true, dec_seccomp},
    {"seccompProfile", false, dec_seccomp_profile},
    {"seccompCache", false, dec_seccomp_cache},
    {"apparmor", false, dec_apparmor},
    {"selinux", false, dec_selinux},
};

static int dec_security(struct json_object *v, struct field_ctx *f, struct pp_error **err)
{
	if (!json_object_is_type(v, json_type_object))
		return bad(err, f, "not an object");
	if (decode_object(v, security_fields, sizeof(security_fields) / sizeof(security_fields[0]),
			  f, err) < 0)
		return -1;
	const struct pp_security *sec = &f->r->identity.security;
	if ((sec->seccomp == PP_SECCOMP_LOCALHOST) != (sec->seccomp_profile != NULL))
		return pp_error_set(err, EPROTO,
				    "exec reply: %s.seccompProfile: given if and only if seccomp "
				    "is Localhost",
				    f->path);
	return 0;
}

static const struct field reply_fields[] = {
    {"env", true, dec_env},	    {"cwd", false, dec_cwd},
    {"user", false, dec_user},	    {"uid", false, dec_uid},
    {"gid", false, dec_gid},	    {"groups", true, dec_groups},
    {"oomScoreAdj", true, dec_oom}, {"security", true, dec_security},
    {"cgroups", true, dec_cgroups},
};

int pp_ctl_exec_reply_decode(const char *msg, size_t len, const int *fds, size_t n_fds,
			     struct pp_ctl_exec_reply *r, struct pp_error **err)
{
	*r = (struct pp_ctl_exec_reply){.container_pidfd = -1};
	r->doc = parse_doc(msg, len, "exec reply", err);
	if (r->doc == NULL)
		return -1;
	struct field_ctx f = {.path = "", .r = r};
	if (decode_object(r->doc, reply_fields, sizeof(reply_fields) / sizeof(reply_fields[0]), &f,
			  err) < 0)
		goto fail;
	/* The fds: the container's pidfd, then one per cgroup. */
	if (n_fds != 1 + f.n_cgroups) {
		pp_error_set(err, EPROTO,
			     "exec reply: cgroups: %zu announced, but %zu fds came (the pidfd "
			     "and one per cgroup)",
			     f.n_cgroups, n_fds);
		goto fail;
	}
	r->container_pidfd = fds[0];
	r->cgroup_procs_fds = fds + 1;
	r->n_cgroup_procs_fds = f.n_cgroups;
	return 0;
fail:
	pp_ctl_exec_reply_free(r);
	return -1;
}

void pp_ctl_exec_reply_free(struct pp_ctl_exec_reply *r)
{
	strv_free(r->env);
	json_object_put(r->doc);
	*r = (struct pp_ctl_exec_reply){.container_pidfd = -1};
}

/* ---- encoding ---- */

static void add_string(struct json_object *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_object_add(o, key, json_object_new_string(s));
}

/* The restrictions the exec'd process gets: the container's. Its mounts'
 * (unmasked_proc, read_only_rootfs) stay with the container. */
static struct json_object *encode_security(const struct pp_security *sec, const char *cache)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "privileged", json_object_new_boolean(sec->privileged));
	struct json_object *caps = json_object_new_array();
	pp_caps_t set = pp_security_caps(sec);
	for (int cap = 0; cap < (int)sizeof(pp_caps_t) * 8; cap++) {
		if (!(set & PP_CAP_BIT(cap)))
			continue;
		const char *name = pp_cap_name(cap);
		char num[8];
		if (name == NULL) {
			snprintf(num, sizeof(num), "%d", cap);
			name = num;
		}
		json_object_array_add(caps, json_object_new_string(name));
	}
	json_object_object_add(o, "capabilities", caps);
	json_object_object_add(o, "noNewPrivs", json_object_new_boolean(sec->no_new_privs));
	json_object_object_add(o, "seccomp", json_object_new_string(seccomp_names[sec->seccomp]));
	if (sec->seccomp == PP_SECCOMP_LOCALHOST)
		add_string(o, "seccompProfile", sec->seccomp_profile);
	add_string(o, "seccompCache", cache);
	add_string(o, "apparmor", sec->apparmor_profile);
	add_string(o, "selinux", sec->selinux_label);
	return o;
}

int pp_ctl_exec_reply_encode(const struct pp_ctl_exec_reply *r, char **msg, int *fds, size_t *n_fds,
			     struct pp_error **err)
{
	const struct pp_identity *id = &r->identity;
	if (r->n_cgroup_procs_fds > PP_CTL_MAX_FDS - 1)
		return pp_error_set(err, E2BIG, "exec reply: %zu cgroups, at most %d fit",
				    r->n_cgroup_procs_fds, PP_CTL_MAX_FDS - 1);
	if ((unsigned)id->security.seccomp >= N_SECCOMP_NAMES ||
	    (id->security.seccomp == PP_SECCOMP_LOCALHOST && !id->security.seccomp_profile))
		return pp_error_set(err, EINVAL, "exec reply: no seccomp mode %d",
				    (int)id->security.seccomp);
	struct json_object *o = json_object_new_object();
	struct json_object *env = json_object_new_array();
	for (char *const *p = r->env; p && *p; p++)
		json_object_array_add(env, json_object_new_string(*p));
	json_object_object_add(o, "env", env);
	add_string(o, "cwd", id->cwd);
	add_string(o, "user", id->user);
	if (id->has_uid)
		json_object_object_add(o, "uid", json_object_new_int64(id->uid));
	if (id->has_gid)
		json_object_object_add(o, "gid", json_object_new_int64(id->gid));
	struct json_object *g = json_object_new_array();
	for (size_t k = 0; k < id->n_extra_gids; k++)
		json_object_array_add(g, json_object_new_int64(id->extra_gids[k]));
	json_object_object_add(o, "groups", g);
	json_object_object_add(o, "oomScoreAdj", json_object_new_int(r->oom_score_adj));
	json_object_object_add(o, "security", encode_security(&id->security, r->seccomp_cache));
	json_object_object_add(o, "cgroups", json_object_new_int((int)r->n_cgroup_procs_fds));
	size_t len;
	const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	if (len > PP_CTL_MAX_MSG) {
		json_object_put(o);
		return pp_error_set(err, E2BIG, "exec reply: %zu bytes, at most %d fit", len,
				    PP_CTL_MAX_MSG);
	}
	*msg = xstrdup(text);
	json_object_put(o);
	fds[0] = r->container_pidfd;
	if (r->n_cgroup_procs_fds > 0)
		memcpy(fds + 1, r->cgroup_procs_fds, r->n_cgroup_procs_fds * sizeof(int));
	*n_fds = 1 + r->n_cgroup_procs_fds;
	return 0;
}

/* ---- the request ---- */

char *pp_ctl_exec_request_encode(const struct pp_ctl_exec_request *req)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "container", json_object_new_string(req->container));
	char *msg =
	    xasprintf(EXEC_VERB "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return msg;
}

bool pp_ctl_is_exec_request(const char *msg, size_t len)
{
	return len >= strlen(EXEC_VERB) && strncmp(msg, EXEC_VERB, strlen(EXEC_VERB)) == 0;
}

/* What is wrong with the container's name v (given: its key was there;
 * json-c's null is NULL), or NULL. */
static const char *bad_name(bool given, struct json_object *v)
{
	if (!given)
		return "missing";
	if (!json_object_is_type(v, json_type_string))
		return "not a string";
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (len > NAME_MAX_LEN)
		return "longer than a Kubernetes name";
	if (strlen(s) != len)
		return "a NUL in the name";
	/* It ends in error messages and logs: printable characters only. */
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == DEL_CHAR)
			return "a control character in the name";
	return NULL;
}

int pp_ctl_exec_request_decode(const char *msg, size_t len, struct pp_ctl_exec_request *req,
			       struct pp_error **err)
{
	*req = (struct pp_ctl_exec_request){0};
	if (!pp_ctl_is_exec_request(msg, len))
		return pp_error_set(err, EPROTO, "exec request: no \"%s\" verb", EXEC_VERB);
	size_t skip = strlen(EXEC_VERB);
	req->doc = parse_doc(msg + skip, len - skip, "exec request", err);
	if (req->doc == NULL)
		return -1;
	struct json_object *name = NULL;
	bool given = false;
	json_object_object_foreach(req->doc, key, v)
	{
		if (strcmp(key, "container") != 0) {
			pp_error_set(err, EPROTO, "exec request: %.64s: unknown field", key);
			pp_ctl_exec_request_free(req);
			return -1;
		}
		name = v;
		given = true;
	}
	const char *problem = bad_name(given, name);
	if (problem != NULL) {
		pp_error_set(err, EPROTO, "exec request: container: %s", problem);
		pp_ctl_exec_request_free(req);
		return -1;
	}
	req->container = json_object_get_string(name);
	return 0;
}

void pp_ctl_exec_request_free(struct pp_ctl_exec_request *req)
{
	json_object_put(req->doc);
	*req = (struct pp_ctl_exec_request){0};
}
