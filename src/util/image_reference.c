/* Owns the image reference grammar (distribution/reference's, as kubelet and
 * containerd apply it): splitting "[HOST[:PORT]/]PATH[:TAG][@DIGEST]",
 * Docker Hub's normalization, and the messages that say what is wrong. */
#include "util/image_reference.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"

/* Docker Hub's other names, spelled PP_IMAGE_REF_HUB_DOMAIN once parsed:
 * the legacy index (as docker does) and the API host itself (same
 * registry; today's image store already treated it so). */
static const char *const hub_aliases[] = {"index.docker.io", PP_IMAGE_REF_HUB_API_HOST, NULL};
static const char localhost[] = "localhost";
/* The last ASCII code, not printable. */
#define ASCII_DEL 0x7f
/* Bytes of the input quoted in a message when it is too long to quote. */
#define QUOTE_PREFIX 64
/* "\xNN" for one byte that is not printable. */
#define QUOTE_ESCAPE_LEN 4
/* An image id (hex of a sha256) is never a repository name: docker refuses
 * it so that it cannot be confused with the id. */
#define IMAGE_ID_HEX_LEN 64

struct digest_algorithm {
	const char *name;
	size_t hex_len;
};
static const struct digest_algorithm digest_algorithms[] = {
    {"sha256", 64},
    {"sha512", 128},
};

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex(char c)
{
	return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char *dup_n(const char *p, size_t len)
{
	char *d = xmalloc(len + 1);
	memcpy(d, p, len);
	return d;
}

static bool has_upper(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			return true;
	return false;
}

/* The input as it can be shown in a message: printable, bounded. */
static char *quote(const char *s, size_t len)
{
	size_t shown = len > PP_IMAGE_REF_INPUT_MAX ? QUOTE_PREFIX : len;
	char *q = xmalloc(shown * QUOTE_ESCAPE_LEN + sizeof("..."));
	char *o = q;
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < ' ' || c >= ASCII_DEL || c == '"' || c == '\\')
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char)c;
	}
	strcpy(o, shown < len ? "..." : "");
	return q;
}

__attribute__((format(printf, 3, 4))) static int ref_error(struct pp_error **err, const char *s,
							   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *why = xvasprintf(fmt, ap);
	va_end(ap);
	cleanup_free char *q = quote(s, strlen(s));
	return pp_error_set(err, 0, "invalid image reference \"%s\": %s", q, why);
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static int check_tag(const char *s, const char *tag, size_t len, struct pp_error **err)
{
	if (len == 0)
		return ref_error(err, s, "empty tag after ':'");
	if (len > PP_IMAGE_REF_TAG_MAX)
		return ref_error(err, s, "tag longer than %d characters", PP_IMAGE_REF_TAG_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = tag[i];
		if (is_alnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-')))
			continue;
		cleanup_free char *q = quote(tag, len);
		return ref_error(
		    err, s,
		    "invalid tag \"%s\": letters, digits, '_', '.' and '-', not starting "
		    "with '.' or '-'",
		    q);
	}
	return 0;
}

/* ALGORITHM:HEX, sha256 or sha512, lowercase hex of the algorithm's length. */
static int check_digest(const char *s, const char *digest, size_t len, struct pp_error **err)
{
	if (len == 0)
		return ref_error(err, s, "empty digest after '@'");
	const char *colon = memchr(digest, ':', len);
	if (colon == NULL || colon == digest)
		return ref_error(err, s,
				 "digest must be ALGORITHM:HEX, e.g. sha256:<64 hex digits>");
	size_t algo_len = (size_t)(colon - digest), hex_len = len - algo_len - 1;
	const struct digest_algorithm *a = NULL;
	for (size_t i = 0; i < sizeof(digest_algorithms) / sizeof(digest_algorithms[0]); i++)
		if (strlen(digest_algorithms[i].name) == algo_len &&
		    memcmp(digest_algorithms[i].name, digest, algo_len) == 0)
			a = &digest_algorithms[i];
	if (a == NULL) {
		cleanup_free char *q = quote(digest, algo_len);
		return ref_error(err, s,
				 "unsupported digest algorithm \"%s\" (sha256 and sha512 are)", q);
	}
	bool hex = true, lower = true;
	for (size_t i = 0; i < hex_len; i++) {
		hex = hex && is_hex(colon[1 + i]);
		lower = lower && is_lower_hex(colon[1 + i]);
	}
	if (hex_len != a->hex_len || !hex)
		return ref_error(err, s, "%s digest must be %zu hexadecimal digits", a->name,
				 a->hex_len);
	if (!lower)
		return ref_error(err, s, "%s digest must be in lowercase hexadecimal", a->name);
	return 0;
}

/* Length of the host part of a registry domain: a DNS name whose labels are
 * letters, digits and inner '-', or a bracketed IPv6 address; 0 if none. */
static size_t host_len(const char *d, size_t len)
{
	size_t i = 0;
	if (len > 0 && d[0] == '[') {
		for (i = 1; i < len && (is_hex(d[i]) || d[i] == ':'); i++)
			;
		return i > 1 && i < len && d[i] == ']' ? i + 1 : 0;
	}
	for (;;) {
		size_t start = i;
		while (i < len && (is_alnum(d[i]) || d[i] == '-'))
			i++;
		if (i == start || d[start] == '-' || d[i - 1] == '-')
			return 0;
		if (i == len || d[i] != '.')
			return i;
		i++;
	}
}

static int check_domain(const char *s, const char *d, size_t len, struct pp_error **err)
{
	size_t h = host_len(d, len);
	cleanup_free char *q = quote(d, len);
	if (h == 0 || (h < len && d[h] != ':'))
		return ref_error(err, s,
				 "invalid registry host \"%s\": a DNS name (letters, digits, '-' "
				 "and '.'), an IPv4 address or a bracketed IPv6 address, then "
				 "optionally :PORT",
				 q);
	if (h == len)
		return 0;
	unsigned long port = 0;
	size_t i = h + 1;
	for (; i < len && is_digit(d[i]) && port <= PP_IMAGE_REF_PORT_MAX; i++)
		port = port * 10 + (unsigned long)(d[i] - '0');
	if (i == h + 1 || i < len || port == 0 || port > PP_IMAGE_REF_PORT_MAX)
		return ref_error(err, s, "invalid port in registry host \"%s\" (1 to %d)", q,
				 PP_IMAGE_REF_PORT_MAX);
	return 0;
}

/* One path component: [a-z0-9]+ joined by '.', '_', '__' or dashes. */
static bool path_component_ok(const char *p, size_t len)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < len && is_lower_alnum(p[i]))
			i++;
		if (i == start)
			return false;
		if (i == len)
			return true;
		if (p[i] == '.')
			i++;
		else if (p[i] == '_')
			i += i + 1 < len && p[i + 1] == '_' ? 2 : 1;
		else if (p[i] == '-')
			while (i < len && p[i] == '-')
				i++;
		else
			return false;
	}
}

static int check_path(const char *s, const char *path, struct pp_error **err)
{
	if (has_upper(path, strlen(path)))
		return ref_error(err, s, "repository name must be lowercase");
	for (const char *c = path;;) {
		size_t len = strcspn(c, "/");
		if (len == 0)
			return ref_error(
			    err, s, "empty path component (a leading, trailing or double '/')");
		if (!path_component_ok(c, len)) {
			cleanup_free char *q = quote(c, len);
			return ref_error(
			    err, s,
			    "invalid path component \"%s\": lowercase letters and digits, "
			    "separated by '.', '_', '__' or dashes",
			    q);
		}
		if (c[len] == '\0')
			return 0;
		c += len + 1;
	}
}

/* distribution's rule: the first of several components is a registry when
 * it cannot be a Docker Hub namespace. */
static bool is_domain(const char *first, size_t len)
{
	return memchr(first, '.', len) != NULL || memchr(first, ':', len) != NULL ||
	       (len == strlen(localhost) && memcmp(first, localhost, len) == 0) ||
	       has_upper(first, len);
}

/* Fills domain and path from the name (the reference before tag and digest). */
static void split_name(const char *name, size_t len, struct pp_image_ref *out)
{
	const char *slash = memchr(name, '/', len);
	const char *rest = name;
	out->domain = xstrdup(PP_IMAGE_REF_HUB_DOMAIN);
	if (slash != NULL && is_domain(name, (size_t)(slash - name))) {
		free(out->domain);
		out->domain = dup_n(name, (size_t)(slash - name));
		rest = slash + 1;
		for (const char *const *a = hub_aliases; *a; a++)
			if (strcmp(out->domain, *a) == 0) {
				free(out->domain);
				out->domain = xstrdup(PP_IMAGE_REF_HUB_DOMAIN);
			}
	}
	size_t rest_len = len - (size_t)(rest - name);
	if (strcmp(out->domain, PP_IMAGE_REF_HUB_DOMAIN) == 0 && !memchr(rest, '/', rest_len))
		out->path = xasprintf("%s/%.*s", PP_IMAGE_REF_HUB_OFFICIAL, (int)rest_len, rest);
	else
		out->path = dup_n(rest, rest_len);
}

/* Whole-input checks before any splitting. */
static int check_input(const char *s, size_t len, struct pp_error **err)
{
	if (len == 0)
		return pp_error_set(err, 0, "invalid image reference: empty");
	if (len > PP_IMAGE_REF_INPUT_MAX)
		return ref_error(err, s, "longer than %d characters", (int)PP_IMAGE_REF_INPUT_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= ASCII_DEL)
			return ref_error(err, s, "%s at offset %zu",
					 c == ' ' ? "space" : "control or non-ASCII character", i);
	}
	size_t hex = 0;
	while (hex < len && is_lower_hex(s[hex]))
		hex++;
	if (len == IMAGE_ID_HEX_LEN && hex == len)
		return ref_error(
		    err, s, "a 64-digit hexadecimal string is an image id, not a repository name");
	return 0;
}

static int parse_into(const char *s, struct pp_image_ref *out, struct pp_error **err)
{
	size_t len = strlen(s);
	if (check_input(s, len, err) < 0)
		return -1;
	const char *at = strchr(s, '@');
	const char *name_end = at ? at : s + len;
	if (at != NULL) {
		if (strchr(at + 1, '@') != NULL)
			return ref_error(err, s, "more than one '@'");
		if (check_digest(s, at + 1, strlen(at + 1), err) < 0)
			return -1;
		out->digest = xstrdup(at + 1);
	}
	/* The tag follows the first ':' after the last '/': "host:5000/x" has none. */
	size_t name_len = (size_t)(name_end - s);
	const char *last_slash = memrchr(s, '/', name_len);
	const char *from = last_slash ? last_slash : s;
	const char *colon = memchr(from, ':', (size_t)(name_end - from));
	if (colon != NULL) {
		if (check_tag(s, colon + 1, (size_t)(name_end - colon - 1), err) < 0)
			return -1;
		out->tag = dup_n(colon + 1, (size_t)(name_end - colon - 1));
		name_len = (size_t)(colon - s);
	}
	if (name_len == 0)
		return ref_error(err, s, "missing repository name");
	split_name(s, name_len, out);
	if (strcmp(out->domain, PP_IMAGE_REF_HUB_DOMAIN) != 0 &&
	    check_domain(s, out->domain, strlen(out->domain), err) < 0)
		return -1;
	if (check_path(s, out->path, err) < 0)
		return -1;
	if (strlen(out->domain) + 1 + strlen(out->path) > PP_IMAGE_REF_NAME_MAX)
		return ref_error(err, s, "repository name longer than %d characters",
				 PP_IMAGE_REF_NAME_MAX);
	if (out->tag == NULL && out->digest == NULL)
		out->tag = xstrdup(PP_IMAGE_REF_DEFAULT_TAG);
	return 0;
}

int pp_image_ref_parse(const char *s, struct pp_image_ref *out, struct pp_error **err)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return pp_error_set(err, 0, "invalid image reference: empty");
	if (parse_into(s, out, err) < 0) {
		pp_image_ref_free(out);
		return -1;
	}
	return 0;
}

void pp_image_ref_free(struct pp_image_ref *ref)
{
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

static char *with_suffix(const char *name, const struct pp_image_ref *ref)
{
	return xasprintf("%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
			 ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

char *pp_image_ref_repository(const struct pp_image_ref *ref)
{
	return xasprintf("%s/%s", ref->domain, ref->path);
}

char *pp_image_ref_string(const struct pp_image_ref *ref)
{
	cleanup_free char *repo = pp_image_ref_repository(ref);
	return with_suffix(repo, ref);
}

char *pp_image_ref_familiar(const struct pp_image_ref *ref)
{
	if (strcmp(ref->domain, PP_IMAGE_REF_HUB_DOMAIN) != 0)
		return pp_image_ref_string(ref);
	/* "library/x" is shown as "x"; deeper paths under library/ are not
	 * official images and keep their namespace. */
	const char *path = ref->path;
	size_t official = strlen(PP_IMAGE_REF_HUB_OFFICIAL);
	if (strncmp(path, PP_IMAGE_REF_HUB_OFFICIAL, official) == 0 && path[official] == '/' &&
	    strchr(path + official + 1, '/') == NULL)
		path += official + 1;
	/* "docker.io/foo.com/bar" shown as "foo.com/bar" would name another
	 * registry: the short form must parse back to the same reference */
	const char *slash = strchr(path, '/');
	if (slash != NULL && is_domain(path, (size_t)(slash - path)))
		return pp_image_ref_string(ref);
	return with_suffix(path, ref);
}

const char *pp_image_ref_api_host(const struct pp_image_ref *ref)
{
	return strcmp(ref->domain, PP_IMAGE_REF_HUB_DOMAIN) == 0 ? PP_IMAGE_REF_HUB_API_HOST
								 : ref->domain;
}

const char *pp_image_ref_pull_reference(const struct pp_image_ref *ref)
{
	return ref->digest ? ref->digest : ref->tag;
}
