/* Image references the way users write them for Docker Hub and Kubernetes:
 * "busybox" is "busybox:latest", and "docker.io/library/busybox:1.36" is
 * "busybox:1.36". Other registries keep their host ("quay.io/x/y:1"). */
#include <stdbool.h>
#include <string.h>

#include "image/image.h"
#include "image/image_internal.h"
#include "util/cleanup.h"

static const char *const hub_prefixes[] = {
    "docker.io/",
    "index.docker.io/",
    "registry-1.docker.io/",
    NULL,
};
static const char hub_library[] = "library/";
static const char default_tag[] = "latest";

static bool valid_chars(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c >= 0x7f || strchr("\"'\\`$*?[]{}()<>|;&,!#%^=+~", c))
			return false;
	}
	return true;
}

/* Name part: no empty components, lowercase path (the registry host may
 * carry a ":port"). */
static bool valid_name(const char *name, size_t len)
{
	if (len == 0 || name[0] == '/' || name[len - 1] == '/')
		return false;
	const char *first_slash = memchr(name, '/', len);
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '/' && i + 1 < len && name[i + 1] == '/')
			return false;
		bool in_host = first_slash != NULL && name + i < first_slash;
		if (!in_host && (name[i] == ':' || (name[i] >= 'A' && name[i] <= 'Z')))
			return false;
	}
	return true;
}

static const char *strip_hub(const char *ref)
{
	for (const char *const *p = hub_prefixes; *p; p++) {
		if (strncmp(ref, *p, strlen(*p)) == 0) {
			ref += strlen(*p);
			break;
		}
	}
	/* "library/x" is Docker Hub's official namespace whether or not the
	 * registry is spelled out; deeper paths are someone else's. */
	if (strncmp(ref, hub_library, strlen(hub_library)) == 0 &&
	    strchr(ref + strlen(hub_library), '/') == NULL)
		ref += strlen(hub_library);
	return ref;
}

/* Length of the name in "name[:tag]" (len bytes of s), or 0 when invalid. */
static size_t split_tag(const char *s, size_t len, bool *has_tag)
{
	const char *last_slash = memrchr(s, '/', len);
	const char *from = last_slash ? last_slash : s;
	const char *colon = memchr(from, ':', len - (size_t)(from - s));
	*has_tag = colon != NULL;
	size_t name_len = colon ? (size_t)(colon - s) : len;
	if (colon && (colon + 1 == s + len || memchr(colon + 1, ':', len - name_len - 1)))
		return 0;
	return valid_name(s, name_len) ? name_len : 0;
}

char *pp_image_normalize_ref(const char *ref)
{
	if (ref == NULL || *ref == '\0' || strlen(ref) > IMAGE_REF_MAX || !valid_chars(ref))
		return NULL;
	const char *s = strip_hub(ref);
	const char *at = strchr(s, '@');
	bool has_tag;
	if (at != NULL) {
		/* name[:tag]@algo:hex is kept as written: digests match exactly. */
		const char *sep = strchr(at, ':');
		if (sep == NULL || sep == at + 1 || sep[1] == '\0' || strchr(at + 1, '@'))
			return NULL;
		return split_tag(s, (size_t)(at - s), &has_tag) ? xstrdup(s) : NULL;
	}
	if (split_tag(s, strlen(s), &has_tag) == 0)
		return NULL;
	return has_tag ? xstrdup(s) : xasprintf("%s:%s", s, default_tag);
}
