/* Localhost seccomp profiles: the OCI runtime-spec "linux.seccomp" object
 * (defaultAction, defaultErrnoRet, architectures, syscalls[] with names,
 * action, errnoRet, args) as kubelet reads them from its seccomp directory,
 * plus Docker's includes/excludes by capability and architecture. */
#include <json-c/json.h>
#include <seccomp.h>
#include <string.h>

#include "security/seccomp.h"
#include "util/cleanup.h"

/* Bounds on what a profile may hold (moby's default: 48 rules, ~370 names). */
#define PROFILE_MAX_RULES 4096
#define PROFILE_MAX_NAMES 4096

static const struct {
	const char *name;
	uint32_t action;
	bool takes_errno;
} actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* Architectures a process on this host can run in (x86_64 and its 32-bit
 * modes), in the spellings of OCI and of Docker's includes. */
static bool our_arch(const char *a)
{
	static const char *const ours[] = {
	    "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "amd64", "x86", "x32", NULL};
	for (const char *const *o = ours; *o != NULL; o++)
		if (strcmp(a, *o) == 0)
			return true;
	return false;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int parse_action(struct json_object *action, struct json_object *errno_ret,
			const char *where, uint32_t *out, struct pp_error **err)
{
	const char *name =
	    json_object_is_type(action, json_type_string) ? json_object_get_string(action) : NULL;
	for (size_t i = 0; name != NULL && i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(name, actions[i].name) != 0)
			continue;
		*out = actions[i].action;
		if (actions[i].takes_errno) {
			int64_t e = actions[i].action == SCMP_ACT_ERRNO(0) ? EPERM : 0;
			if (errno_ret != NULL)
				e = json_object_get_int64(errno_ret);
			if (e < 0 || e > 0xffff)
				return pp_error_set(err, EINVAL, "%s: errnoRet %lld out of range",
						    where, (long long)e);
			*out |= (uint32_t)e;
		}
		return 0;
	}
	return pp_error_set(err, EINVAL, "%s: unknown action %s", where,
			    name != NULL ? name : "(not a string)");
}

static int parse_caps(struct json_object *list, const char *where, pp_caps_t *out,
		      struct pp_error **err)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		int cap =
		    pp_cap_from_name(json_object_get_string(json_object_array_get_idx(list, i)));
		if (cap < 0)
			return pp_error_set(err, EINVAL, "%s: unknown capability", where);
		*out |= PP_CAP_BIT(cap);
	}
	return 0;
}

/* includes/excludes: "arches" and "caps" (Docker); minKernel is taken as met. */
static int parse_conditions(struct json_object *rule, const char *where, struct pp_seccomp_rule *r,
			    struct pp_error **err)
{
	struct json_object *inc = get(rule, "includes"), *exc = get(rule, "excludes");
	struct json_object *arches = inc != NULL ? get(inc, "arches") : NULL;
	size_t n =
	    json_object_is_type(arches, json_type_array) ? json_object_array_length(arches) : 0;
	r->skip = n > 0;
	for (size_t i = 0; i < n; i++)
		if (our_arch(json_object_get_string(json_object_array_get_idx(arches, i))))
			r->skip = false;
	arches = exc != NULL ? get(exc, "arches") : NULL;
	n = json_object_is_type(arches, json_type_array) ? json_object_array_length(arches) : 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arches, i)), "amd64") ==
		    0)
			r->skip = true;
	if (inc != NULL && parse_caps(get(inc, "caps"), where, &r->caps_include, err) < 0)
		return -1;
	if (exc != NULL && parse_caps(get(exc, "caps"), where, &r->caps_exclude, err) < 0)
		return -1;
	return 0;
}

static int parse_arg(struct json_object *a, const char *where, struct pp_seccomp_arg *out,
		     struct pp_error **err)
{
	struct json_object *index = get(a, "index"), *op = get(a, "op");
	if (!json_object_is_type(a, json_type_object) || index == NULL || op == NULL)
		return pp_error_set(err, EINVAL, "%s: an argument needs index and op", where);
	int64_t i = json_object_get_int64(index);
	if (i < 0 || i >= PP_SECCOMP_MAX_ARGS)
		return pp_error_set(err, EINVAL, "%s: argument index %lld out of range", where,
				    (long long)i);
	out->index = (unsigned)i;
	out->value = (uint64_t)json_object_get_uint64(get(a, "value"));
	out->value_two = (uint64_t)json_object_get_uint64(get(a, "valueTwo"));
	const char *name = json_object_get_string(op);
	for (size_t k = 0; name != NULL && k < sizeof(ops) / sizeof(ops[0]); k++)
		if (strcmp(name, ops[k].name) == 0) {
			out->op = ops[k].op;
			return 0;
		}
	return pp_error_set(err, EINVAL, "%s: unknown operator %s", where,
			    name != NULL ? name : "(none)");
}

static int parse_names(struct json_object *rule, const char *where, struct pp_seccomp_rule *r,
		       struct pp_error **err)
{
	struct json_object *names = get(rule, "names"), *one = get(rule, "name");
	size_t n =
	    json_object_is_type(names, json_type_array) ? json_object_array_length(names) : 0;
	if (n > PROFILE_MAX_NAMES)
		return pp_error_set(err, E2BIG, "%s: more than %d names", where, PROFILE_MAX_NAMES);
	char **v = xmalloc((n + 2) * sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(names, i);
		if (json_object_is_type(s, json_type_string))
			v[k++] = xstrdup(json_object_get_string(s));
	}
	if (json_object_is_type(one, json_type_string))
		v[k++] = xstrdup(json_object_get_string(one));
	r->names = (const char *const *)v;
	if (k == 0)
		return pp_error_set(err, EINVAL, "%s: no syscall names", where);
	return 0;
}

static int parse_rule(struct json_object *rule, size_t i, struct pp_seccomp_rule *r,
		      struct pp_error **err)
{
	char where[48];
	snprintf(where, sizeof(where), "syscalls[%zu]", i);
	if (!json_object_is_type(rule, json_type_object))
		return pp_error_set(err, EINVAL, "%s: not an object", where);
	if (parse_names(rule, where, r, err) < 0 ||
	    parse_action(get(rule, "action"), get(rule, "errnoRet"), where, &r->action, err) < 0 ||
	    parse_conditions(rule, where, r, err) < 0)
		return -1;
	struct json_object *args = get(rule, "args");
	size_t n = json_object_is_type(args, json_type_array) ? json_object_array_length(args) : 0;
	if (n > PP_SECCOMP_MAX_ARGS)
		return pp_error_set(err, EINVAL, "%s: more than %d args", where,
				    PP_SECCOMP_MAX_ARGS);
	for (size_t k = 0; k < n; k++)
		if (parse_arg(json_object_array_get_idx(args, k), where, &r->args[k], err) < 0)
			return -1;
	r->n_args = n;
	return 0;
}

/* "architectures" (OCI) or "archMap" (Docker): a profile for none of ours is refused. */
static int check_arches(struct json_object *root, struct pp_error **err)
{
	struct json_object *list = get(root, "architectures");
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		if (our_arch(json_object_get_string(json_object_array_get_idx(list, i))))
			return 0;
	if (n == 0)
		return 0;
	return pp_error_set(err, EINVAL, "architectures: none of them is x86");
}

static int parse_root(struct json_object *root, struct pp_seccomp_profile *out,
		      struct pp_error **err)
{
	if (!json_object_is_type(root, json_type_object))
		return pp_error_set(err, EINVAL, "not a JSON object");
	struct json_object *def = get(root, "defaultAction");
	if (def == NULL)
		return pp_error_set(err, EINVAL, "defaultAction: missing");
	if (parse_action(def, get(root, "defaultErrnoRet"), "defaultAction", &out->default_action,
			 err) < 0 ||
	    check_arches(root, err) < 0)
		return -1;
	struct json_object *list = get(root, "syscalls");
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	if (n > PROFILE_MAX_RULES)
		return pp_error_set(err, E2BIG, "syscalls: more than %d rules", PROFILE_MAX_RULES);
	struct pp_seccomp_rule *rules = xmalloc((n + 1) * sizeof(*rules));
	out->rules = rules;
	for (size_t i = 0; i < n; i++) {
		out->n_rules = i + 1;
		if (parse_rule(json_object_array_get_idx(list, i), i, &rules[i], err) < 0)
			return -1;
	}
	return 0;
}

int pp_seccomp_profile_parse(const char *json, size_t len, struct pp_seccomp_profile *out,
			     struct pp_error **err)
{
	*out = (struct pp_seccomp_profile){.owned = true};
	struct json_tokener *tok = json_tokener_new_ex(64); /* bounded nesting */
	if (tok == NULL)
		return pp_error_set(err, ENOMEM, "json tokener");
	struct json_object *root =
	    json_tokener_parse_ex(tok, json, (int)(len > INT32_MAX ? INT32_MAX : len));
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (root == NULL || jerr != json_tokener_success) {
		json_object_put(root);
		return pp_error_set(err, EINVAL, "not valid JSON: %s",
				    json_tokener_error_desc(jerr));
	}
	int r = parse_root(root, out, err);
	json_object_put(root);
	if (r < 0)
		pp_seccomp_profile_free(out);
	return r;
}

void pp_seccomp_profile_free(struct pp_seccomp_profile *p)
{
	if (!p->owned)
		return;
	for (size_t i = 0; i < p->n_rules; i++) {
		char **names = (char **)p->rules[i].names;
		for (char **n = names; n != NULL && *n != NULL; n++)
			free(*n);
		free(names);
	}
	free((void *)p->rules);
	p->rules = NULL;
	p->n_rules = 0;
}
