/* Parsing of registry answers (see response.h): pure, no I/O. */
#include <ctype.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"
#include "registry/response.h"
#include "util/cleanup.h"

/* Token and errors bodies are flat; anything nested deeper is not one. */
#define RESPONSE_JSON_DEPTH 8

/* The body as a JSON object, or NULL (wrong JSON, too long, not an object). */
static struct json_object *parse_object(const char *body, size_t len)
{
	if (len == 0 || len > PP_REGISTRY_SMALL_BODY_MAX)
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(RESPONSE_JSON_DEPTH);
	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *root = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (root != NULL && !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* A token goes into "Authorization: Bearer <token>": visible ASCII only. */
static bool header_safe(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	return true;
}

int pp_registry_token_parse(const char *body, size_t len, char **token, int64_t *ttl_s,
			    struct pp_error **err)
{
	*token = NULL;
	*ttl_s = 0;
	struct json_object *root = parse_object(body, len);
	if (root == NULL)
		return pp_error_set(err, 0, "token server's answer is no JSON object");
	struct json_object *t = NULL, *e = NULL;
	if (!json_object_object_get_ex(root, "token", &t) || json_object_get_string_len(t) == 0)
		json_object_object_get_ex(root, "access_token", &t);
	int r = -1;
	if (t == NULL || !json_object_is_type(t, json_type_string) ||
	    json_object_get_string_len(t) == 0)
		pp_error_set(err, 0, "token server's answer holds no token");
	else if (json_object_get_string_len(t) > PP_REGISTRY_SECRET_MAX ||
		 !header_safe(json_object_get_string(t)))
		pp_error_set(err, 0, "token server's token is too long or has bad characters");
	else if (json_object_object_get_ex(root, "expires_in", &e) &&
		 !json_object_is_type(e, json_type_int))
		pp_error_set(err, 0, "token server's expires_in is no integer");
	else {
		int64_t ttl = e ? json_object_get_int64(e) : 0;
		*ttl_s = ttl > 0 ? ttl : 0;
		*token = xstrdup(json_object_get_string(t));
		r = 0;
	}
	json_object_put(root);
	return r;
}

/* Appends at most PP_REGISTRY_ERROR_FIELD_MAX bytes of s to buf at *n,
 * control characters as '?'; code (lower, '_' as ' ') or message form. */
static void append_field(char *buf, size_t cap, size_t *n, const char *s, bool code)
{
	for (size_t i = 0; i < PP_REGISTRY_ERROR_FIELD_MAX && s[i] && *n + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < ' ' || ch == 0x7f)
			ch = '?';
		else if (code)
			ch = ch == '_' ? ' ' : (unsigned char)tolower(ch);
		buf[(*n)++] = (char)ch;
	}
	buf[*n] = '\0';
}

static void append_str(char *buf, size_t cap, size_t *n, const char *s)
{
	int w = snprintf(buf + *n, cap - *n, "%s", s);
	if (w > 0)
		*n = *n + (size_t)w < cap ? *n + (size_t)w : cap - 1;
}

static const char *string_member(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

char *pp_registry_errors_text(const char *body, size_t len)
{
	struct json_object *root = parse_object(body, len), *errors;
	if (root == NULL)
		return NULL;
	if (!json_object_object_get_ex(root, "errors", &errors) ||
	    !json_object_is_type(errors, json_type_array) ||
	    json_object_array_length(errors) == 0) {
		json_object_put(root);
		return NULL;
	}
	/* each field bounded, with room for separators */
	size_t cap = PP_REGISTRY_ERRORS_QUOTED * (2 * PP_REGISTRY_ERROR_FIELD_MAX + 8) + 1, n = 0;
	char *buf = xmalloc(cap);
	buf[0] = '\0';
	size_t count = json_object_array_length(errors);
	for (size_t i = 0, quoted = 0; i < count && quoted < PP_REGISTRY_ERRORS_QUOTED; i++) {
		struct json_object *e = json_object_array_get_idx(errors, i);
		if (!json_object_is_type(e, json_type_object))
			continue;
		const char *code = string_member(e, "code"), *msg = string_member(e, "message");
		if (code == NULL && msg == NULL)
			continue;
		if (quoted++)
			append_str(buf, cap, &n, "; ");
		if (code)
			append_field(buf, cap, &n, code, true);
		if (code && msg)
			append_str(buf, cap, &n, ": ");
		if (msg)
			append_field(buf, cap, &n, msg, false);
	}
	json_object_put(root);
	if (n == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A run of digits into *v, saturating at max; the end into *end. */
static int parse_digits(const char *s, const char **end, int64_t max, int64_t *v)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	int64_t n = 0;
	for (; isdigit((unsigned char)*s); s++)
		n = n > (max - 9) / 10 ? max : n * 10 + (*s - '0');
	*v = n > max ? max : n;
	*end = s;
	return 0;
}

int pp_registry_retry_after(const char *value, int64_t *seconds)
{
	const char *end;
	while (*value == ' ' || *value == '\t')
		value++;
	if (parse_digits(value, &end, PP_REGISTRY_RETRY_AFTER_MAX, seconds) < 0)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	return *end == '\0' ? 0 : -1;
}

int pp_registry_content_range_start(const char *value, int64_t *first)
{
	const char *p = value, *end;
	int64_t last, total;
	if (strncasecmp(p, "bytes ", strlen("bytes ")) != 0)
		return -1;
	p += strlen("bytes ");
	if (parse_digits(p, &end, INT64_MAX, first) < 0 || *end != '-')
		return -1;
	if (parse_digits(end + 1, &end, INT64_MAX, &last) < 0 || *end != '/' || last < *first)
		return -1;
	p = end + 1;
	if (*p == '*')
		end = p + 1;
	else if (parse_digits(p, &end, INT64_MAX, &total) < 0 || total <= last)
		return -1;
	return *end == '\0' ? 0 : -1;
}

int pp_registry_url_origin(const char *url, char out[PP_REGISTRY_ORIGIN_MAX])
{
	const char *scheme, *default_port;
	if (strncasecmp(url, "https://", strlen("https://")) == 0) {
		scheme = "https";
		default_port = "443";
	} else if (strncasecmp(url, "http://", strlen("http://")) == 0) {
		scheme = "http";
		default_port = "80";
	} else
		return -1;
	const char *auth = strstr(url, "://") + strlen("://");
	size_t alen = strcspn(auth, "/?#");
	if (alen == 0 || memchr(auth, '@', alen) != NULL)
		return -1;
	/* the port's ':' is the last one after any IPv6 literal's ']' */
	const char *close = memchr(auth, ']', alen);
	if (auth[0] == '[' && close == NULL)
		return -1;
	const char *from = close ? close : auth;
	const char *colon = memchr(from, ':', alen - (size_t)(from - auth));
	size_t hlen = colon ? (size_t)(colon - auth) : alen;
	const char *port = colon ? colon + 1 : default_port;
	size_t plen = colon ? alen - hlen - 1 : strlen(default_port);
	if (hlen == 0 || plen == 0 || plen > strlen("65535"))
		return -1;
	for (size_t i = 0; i < plen; i++)
		if (!isdigit((unsigned char)port[i]))
			return -1;
	size_t need = strlen(scheme) + strlen("://") + hlen + 1 + plen + 1;
	if (need > PP_REGISTRY_ORIGIN_MAX)
		return -1;
	int n = snprintf(out, PP_REGISTRY_ORIGIN_MAX, "%s://", scheme);
	for (size_t i = 0; i < hlen; i++)
		out[n++] = (char)tolower((unsigned char)auth[i]);
	out[n++] = ':';
	memcpy(out + n, port, plen);
	out[n + (int)plen] = '\0';
	return 0;
}

char *pp_registry_base64(const void *data, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}
