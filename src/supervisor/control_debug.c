/* The debug request on the control socket ("debug {...}"): peapod debug's
 * ephemeral container, one encoder and one decoder, used by both ends. The
 * decoder checks the type of every field, refuses unknown ones and names
 * the field it refuses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "supervisor/control.h"
#include "util/cleanup.h"

#define DEBUG_VERB "debug "
#define DEBUG_MAX_ARGS 1024

char *pp_ctl_debug_request_encode(const struct pp_ctl_debug_request *req)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(req->name));
	json_object_object_add(o, "image", json_object_new_string(req->image));
	if (req->target != NULL)
		json_object_object_add(o, "target", json_object_new_string(req->target));
	if (req->command != NULL) {
		struct json_object *a = json_object_new_array();
		for (char *const *c = req->command; *c; c++)
			json_object_array_add(a, json_object_new_string(*c));
		json_object_object_add(o, "command", a);
	}
	if (req->pull_policy != NULL)
		json_object_object_add(o, "imagePullPolicy",
				       json_object_new_string(req->pull_policy));
	json_object_object_add(o, "stdin", json_object_new_boolean(req->stdin_open));
	json_object_object_add(o, "tty", json_object_new_boolean(req->tty));
	char *msg = xasprintf(DEBUG_VERB "%s",
			      json_object_to_json_string_ext(
				  o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return msg;
}

bool pp_ctl_is_debug_request(const char *msg, size_t len)
{
	return len >= strlen(DEBUG_VERB) && memcmp(msg, DEBUG_VERB, strlen(DEBUG_VERB)) == 0;
}

static int bad(struct pp_error **err, const char *field, const char *what)
{
	return pp_error_set(err, EPROTO, "debug request: %s: %s", field, what);
}

/* A string without NUL (json-c would cut it there). */
static int get_string(struct json_object *v, const char *field, const char **out,
		      struct pp_error **err)
{
	if (!json_object_is_type(v, json_type_string))
		return bad(err, field, "not a string");
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return bad(err, field, "a NUL in the string");
	*out = s;
	return 0;
}

static int get_command(struct json_object *v, struct pp_ctl_debug_request *req,
		       struct pp_error **err)
{
	if (!json_object_is_type(v, json_type_array))
		return bad(err, "command", "not an array");
	size_t n = json_object_array_length(v);
	if (n == 0 || n > DEBUG_MAX_ARGS)
		return bad(err, "command", n ? "too many elements" : "empty");
	req->command = xmalloc(sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		const char *s;
		if (get_string(json_object_array_get_idx(v, i), "command[]", &s, err) < 0)
			return -1;
		req->command[i] = xstrdup(s);
	}
	return 0;
}

static int get_field(const char *key, struct json_object *v, struct pp_ctl_debug_request *req,
		     struct pp_error **err)
{
	if (strcmp(key, "name") == 0)
		return get_string(v, key, &req->name, err);
	if (strcmp(key, "image") == 0)
		return get_string(v, key, &req->image, err);
	if (strcmp(key, "target") == 0)
		return get_string(v, key, &req->target, err);
	if (strcmp(key, "command") == 0)
		return get_command(v, req, err);
	if (strcmp(key, "imagePullPolicy") == 0) {
		if (get_string(v, key, &req->pull_policy, err) < 0)
			return -1;
		if (strcmp(req->pull_policy, "Always") != 0 &&
		    strcmp(req->pull_policy, "IfNotPresent") != 0 &&
		    strcmp(req->pull_policy, "Never") != 0)
			return bad(err, key, "not Always, IfNotPresent or Never");
		return 0;
	}
	if (strcmp(key, "stdin") == 0 || strcmp(key, "tty") == 0) {
		if (!json_object_is_type(v, json_type_boolean))
			return bad(err, key, "not a boolean");
		*(key[0] == 's' ? &req->stdin_open : &req->tty) = json_object_get_boolean(v);
		return 0;
	}
	return bad(err, key, "unknown field");
}

int pp_ctl_debug_request_decode(const char *msg, size_t len, struct pp_ctl_debug_request *req,
				struct pp_error **err)
{
	*req = (struct pp_ctl_debug_request){0};
	if (!pp_ctl_is_debug_request(msg, len))
		return pp_error_set(err, EPROTO, "not a debug request");
	msg += strlen(DEBUG_VERB);
	len -= strlen(DEBUG_VERB);
	if (memchr(msg, '\0', len) != NULL || len > INT32_MAX)
		return pp_error_set(err, EPROTO, "debug request: not a JSON text");
	struct json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	req->doc = json_tokener_parse_ex(tok, msg, (int)len);
	bool whole = req->doc != NULL && json_tokener_get_error(tok) == json_tokener_success &&
		     (size_t)json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	if (!whole || !json_object_is_type(req->doc, json_type_object)) {
		pp_ctl_debug_request_free(req);
		return pp_error_set(err, EPROTO, "debug request: not a JSON object");
	}
	json_object_object_foreach(req->doc, key, v)
	{
		if (get_field(key, v, req, err) < 0) {
			pp_ctl_debug_request_free(req);
			return -1;
		}
	}
	if (req->name == NULL || req->image == NULL) {
		const char *missing = req->name == NULL ? "name" : "image";
		pp_ctl_debug_request_free(req);
		return bad(err, missing, "missing");
	}
	return 0;
}

void pp_ctl_debug_request_free(struct pp_ctl_debug_request *req)
{
	strv_free(req->command);
	json_object_put(req->doc);
	*req = (struct pp_ctl_debug_request){0};
}
