/* The classification of a layer entry's path (image/layer.h): normalized
 * path and what the entry asks for. Pure, so the fuzzer drives it alone. */
#include <string.h>

#include "image/layer.h"

#define WH_PREFIX_LEN (sizeof(PP_LAYER_WHITEOUT_PREFIX) - 1)

static void refuse(struct pp_layer_path *out, const char *reason)
{
	out->action = PP_LAYER_PATH_REFUSED;
	out->path[0] = '\0';
	out->reason = reason;
}

static bool is_whiteout_name(const char *c, size_t len)
{
	return len >= WH_PREFIX_LEN && memcmp(c, PP_LAYER_WHITEOUT_PREFIX, WH_PREFIX_LEN) == 0;
}

/* Appends component c (len bytes) to out->path, or for "..", drops the last
 * one. Returns false when ".." would leave the layer. */
static bool push_component(struct pp_layer_path *out, size_t *len, const char *c, size_t clen)
{
	if (clen == 2 && c[0] == '.' && c[1] == '.') {
		if (*len == 0)
			return false;
		char *slash = memrchr(out->path, '/', *len);
		*len = slash == NULL ? 0 : (size_t)(slash - out->path);
		out->path[*len] = '\0';
		return true;
	}
	if (*len > 0)
		out->path[(*len)++] = '/';
	memcpy(out->path + *len, c, clen);
	*len += clen;
	out->path[*len] = '\0';
	return true;
}

/* Drops "." and empty components, resolves ".." by name. */
static bool normalize(const char *name, struct pp_layer_path *out)
{
	size_t len = 0;
	out->path[0] = '\0';
	for (const char *p = name; *p != '\0';) {
		size_t clen = strcspn(p, "/");
		if (clen > PP_LAYER_NAME_MAX) {
			refuse(out, "a path component longer than NAME_MAX");
			return false;
		}
		if (clen > 0 && !(clen == 1 && p[0] == '.') &&
		    !push_component(out, &len, p, clen)) {
			refuse(out, "\"..\" leaves the layer");
			return false;
		}
		p += clen;
		p += strspn(p, "/");
	}
	return true;
}

/* The last component of a normalized path and the length of its parent. */
static const char *split_last(const char *path, size_t *parent_len)
{
	const char *slash = strrchr(path, '/');
	*parent_len = slash == NULL ? 0 : (size_t)(slash - path);
	return slash == NULL ? path : slash + 1;
}

/* out->path holds a normalized path: sorts out its ".wh." names. */
static void classify_whiteouts(struct pp_layer_path *out)
{
	size_t parent_len;
	const char *last = split_last(out->path, &parent_len);
	/* No directory of the path may be a whiteout: its entries would be
	 * created under a name overlayfs reads as a whiteout marker. */
	for (const char *c = out->path; c < last;) {
		size_t clen = strcspn(c, "/");
		if (is_whiteout_name(c, clen)) {
			refuse(out, "a directory named \".wh.*\"");
			return;
		}
		c += clen + 1;
	}
	if (!is_whiteout_name(last, strlen(last)))
		return;
	if (strcmp(last, PP_LAYER_OPAQUE_NAME) == 0) {
		out->action = PP_LAYER_PATH_OPAQUE;
		out->path[parent_len] = '\0';
		return;
	}
	const char *hidden = last + WH_PREFIX_LEN;
	if (hidden[0] == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0 ||
	    is_whiteout_name(hidden, strlen(hidden))) {
		refuse(out, "a \".wh.\" name that is neither a whiteout nor an opaque marker");
		return;
	}
	out->action = PP_LAYER_PATH_WHITEOUT;
	memmove((char *)last, hidden, strlen(hidden) + 1);
}

void pp_layer_path_classify(const char *name, struct pp_layer_path *out)
{
	out->action = PP_LAYER_PATH_ENTRY;
	out->reason = NULL;
	if (name == NULL || name[0] == '\0') {
		refuse(out, "an empty path");
		return;
	}
	if (strnlen(name, PP_LAYER_PATH_MAX) >= PP_LAYER_PATH_MAX) {
		refuse(out, "a path longer than PATH_MAX");
		return;
	}
	if (name[0] == '/') {
		refuse(out, "an absolute path");
		return;
	}
	if (!normalize(name, out))
		return;
	classify_whiteouts(out);
}
