/* Parsing and validation of an image's JSON documents (see oci.h): manifest
 * and index negotiation by media type, descriptors, layers, image configs.
 * Platforms are oci_platform.c's, serialization oci_write.c's. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "image/oci.h"
#include "util/cleanup.h"

#define SHA256_PREFIX "sha256:"
#define SHA512_PREFIX "sha512:"
#define SHA256_HEX 64
#define SHA512_HEX 128
#define SCHEMA_VERSION 2
#define MIB (1u << 20)
#define PORT_MAX 65535

static const char SCHEMA1_MSG[] =
    "schema 1 images are not supported (deprecated since 2017): push the image again "
    "with a current client";

/* What a registry or a file server says when it does not know. */
static const char *const GENERIC_TYPES[] = {
    "application/json",
    "application/octet-stream",
    "text/plain",
    "binary/octet-stream",
};

struct layer_type {
	const char *media_type;
	enum pp_oci_compression compression;
	bool foreign;
};

static const struct layer_type LAYER_TYPES[] = {
    {PP_OCI_MT_LAYER, PP_OCI_COMPRESSION_NONE, false},
    {PP_OCI_MT_LAYER_GZIP, PP_OCI_COMPRESSION_GZIP, false},
    {PP_OCI_MT_LAYER_ZSTD, PP_OCI_COMPRESSION_ZSTD, false},
    {PP_DOCKER_MT_LAYER_GZIP, PP_OCI_COMPRESSION_GZIP, false},
    /* not in Docker's spec, but what some tools write for plain tar */
    {PP_DOCKER_MT_LAYER, PP_OCI_COMPRESSION_NONE, false},
    {PP_OCI_MT_LAYER_ND, PP_OCI_COMPRESSION_NONE, true},
    {PP_OCI_MT_LAYER_ND_GZIP, PP_OCI_COMPRESSION_GZIP, true},
    {PP_OCI_MT_LAYER_ND_ZSTD, PP_OCI_COMPRESSION_ZSTD, true},
    {PP_DOCKER_MT_LAYER_FOREIGN, PP_OCI_COMPRESSION_GZIP, true},
};

/* "parent.key", or key at the top. The caller frees. */
static char *field(const char *parent, const char *key)
{
	return parent[0] ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return s[n] == '\0';
}

bool pp_oci_digest_valid(const char *d)
{
	if (strncmp(d, SHA256_PREFIX, strlen(SHA256_PREFIX)) == 0)
		return is_lower_hex(d + strlen(SHA256_PREFIX), SHA256_HEX) &&
		       strlen(d) == strlen(SHA256_PREFIX) + SHA256_HEX;
	if (strncmp(d, SHA512_PREFIX, strlen(SHA512_PREFIX)) == 0)
		return is_lower_hex(d + strlen(SHA512_PREFIX), SHA512_HEX) &&
		       strlen(d) == strlen(SHA512_PREFIX) + SHA512_HEX;
	return false;
}

/* ---- JSON access: every getter names the field in its error ---- */

/* A JSON string without NUL inside ("\u0000" would cut it short in C). */
static int as_string(struct json_object *v, const char *name, char **out, struct pp_error **err)
{
	if (!json_object_is_type(v, json_type_string))
		return pp_error_set(err, 0, "%s: not a string", name);
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return pp_error_set(err, 0, "%s: holds a NUL character", name);
	*out = xstrdup(s);
	return 0;
}

/* The member key of obj (NULL when absent or null). */
static struct json_object *member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static int get_string(struct json_object *obj, const char *parent, const char *key, bool required,
		      char **out, struct pp_error **err)
{
	*out = NULL;
	cleanup_free char *name = field(parent, key);
	struct json_object *v = member(obj, key);
	if (v == NULL)
		return required ? pp_error_set(err, 0, "%s: missing", name) : 0;
	if (as_string(v, name, out, err) < 0)
		return -1;
	if (required && **out == '\0')
		return pp_error_set(err, 0, "%s: empty", name);
	return 0;
}

/* An optional string where "" means unset, as Docker writes "User": "". */
static int get_opt_string(struct json_object *obj, const char *parent, const char *key, char **out,
			  struct pp_error **err)
{
	if (get_string(obj, parent, key, false, out, err) < 0)
		return -1;
	if (*out != NULL && **out == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

/* An array of at most max strings; *out NULL when absent. */
static int get_strv(struct json_object *obj, const char *parent, const char *key, size_t max,
		    char ***out, size_t *count, struct pp_error **err)
{
	*out = NULL;
	if (count != NULL)
		*count = 0;
	cleanup_free char *name = field(parent, key);
	struct json_object *arr = member(obj, key);
	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return pp_error_set(err, 0, "%s: not an array", name);
	size_t n = json_object_array_length(arr);
	if (n > max)
		return pp_error_set(err, 0, "%s: %zu entries, more than the limit of %zu", name, n,
				    max);
	cleanup_strv char **v = xmalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *ename = xasprintf("%s[%zu]", name, i);
		if (as_string(json_object_array_get_idx(arr, i), ename, &v[i], err) < 0)
			return -1;
	}
	*out = steal_ptr(&v);
	if (count != NULL)
		*count = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct pp_oci_kv *)a)->key, ((const struct pp_oci_kv *)b)->key);
}

static void kv_free(struct pp_oci_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* Checks that the member key is an object of at most max members; *o NULL
 * when absent. */
static int get_object(struct json_object *obj, const char *name, const char *key, size_t max,
		      struct json_object **o, struct pp_error **err)
{
	*o = member(obj, key);
	if (*o == NULL)
		return 0;
	if (!json_object_is_type(*o, json_type_object))
		return pp_error_set(err, 0, "%s: not an object", name);
	size_t n = (size_t)json_object_object_length(*o);
	if (n > max)
		return pp_error_set(err, 0, "%s: %zu entries, more than the limit of %zu", name, n,
				    max);
	return 0;
}

/* An object of strings (annotations, Labels), sorted by key. */
static int get_kv(struct json_object *obj, const char *parent, const char *key, size_t max,
		  struct pp_oci_kv **out, size_t *count, struct pp_error **err)
{
	*out = NULL;
	*count = 0;
	cleanup_free char *name = field(parent, key);
	struct json_object *o;
	if (get_object(obj, name, key, max, &o, err) < 0)
		return -1;
	if (o == NULL)
		return 0;
	size_t n = 0;
	struct pp_oci_kv *kv = xmalloc((size_t)json_object_object_length(o) * sizeof(*kv) + 1);
	json_object_object_foreach(o, k, v)
	{
		cleanup_free char *vname = xasprintf("%s[\"%s\"]", name, k);
		if (as_string(v, vname, &kv[n].value, err) < 0) {
			kv_free(kv, n);
			return -1;
		}
		kv[n++].key = xstrdup(k);
	}
	qsort(kv, n, sizeof(*kv), cmp_kv);
	*out = kv;
	*count = n;
	return 0;
}

/* An object used as a set (Volumes, ExposedPorts: {"KEY": {}}): its keys,
 * sorted; the values are ignored. */
static int get_set(struct json_object *obj, const char *parent, const char *key, size_t max,
		   char ***out, struct pp_error **err)
{
	*out = NULL;
	cleanup_free char *name = field(parent, key);
	struct json_object *o;
	if (get_object(obj, name, key, max, &o, err) < 0)
		return -1;
	if (o == NULL)
		return 0;
	size_t n = 0;
	char **v = xmalloc(((size_t)json_object_object_length(o) + 1) * sizeof(char *));
	json_object_object_foreach(o, k, val)
	{
		(void)val;
		v[n++] = xstrdup(k);
	}
	qsort(v, n, sizeof(char *), cmp_str);
	*out = v;
	return 0;
}

static int get_schema_version(struct json_object *root, struct pp_error **err)
{
	struct json_object *v = member(root, "schemaVersion");
	if (v == NULL)
		return pp_error_set(err, 0, "schemaVersion: missing");
	if (!json_object_is_type(v, json_type_int))
		return pp_error_set(err, 0, "schemaVersion: not an integer");
	if (json_object_get_int64(v) == 1)
		return pp_error_set(err, 0, "%s", SCHEMA1_MSG);
	if (json_object_get_int64(v) != SCHEMA_VERSION)
		return pp_error_set(err, 0, "schemaVersion: %" PRId64 ", expected 2",
				    json_object_get_int64(v));
	return 0;
}

/* Parses len bytes of JSON into an object; refuses trailing bytes, non-standard
 * JSON and nesting deeper than PP_OCI_JSON_DEPTH. */
static int parse_json(const void *data, size_t len, const char *what, struct json_object **out,
		      struct pp_error **err)
{
	*out = NULL;
	if (len == 0)
		return pp_error_set(err, 0, "%s: empty document", what);
	struct json_tokener *tok = json_tokener_new_ex(PP_OCI_JSON_DEPTH);
	if (tok == NULL)
		abort();
	/* trailing bytes are checked below, for a clearer message */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *root = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL) {
		if (jerr == json_tokener_continue)
			return pp_error_set(err, 0, "%s: truncated JSON", what);
		return pp_error_set(err, 0, "%s: invalid JSON at byte %zu: %s", what, used,
				    json_tokener_error_desc(jerr));
	}
	const char *rest = (const char *)data + used;
	for (size_t i = used; i < len; i++, rest++)
		if (!isspace((unsigned char)*rest)) {
			json_object_put(root);
			return pp_error_set(err, 0, "%s: bytes after the JSON document", what);
		}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return pp_error_set(err, 0, "%s: not a JSON object", what);
	}
	*out = root;
	return 0;
}

/* ---- descriptors ---- */

static void platform_free(struct pp_oci_platform *p)
{
	if (p == NULL)
		return;
	pp_oci_platform_clear(p);
	free(p);
}

static void descriptor_clear(struct pp_oci_descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	strv_free(d->urls);
	kv_free(d->annotations, d->n_annotations);
	platform_free(d->platform);
	memset(d, 0, sizeof(*d));
}

static int parse_platform(struct json_object *obj, const char *name, struct pp_oci_platform **out,
			  struct pp_error **err)
{
	*out = NULL;
	struct json_object *p = member(obj, "platform");
	if (p == NULL)
		return 0;
	cleanup_free char *pname = field(name, "platform");
	if (!json_object_is_type(p, json_type_object))
		return pp_error_set(err, 0, "%s: not an object", pname);
	struct pp_oci_platform *pl = xmalloc(sizeof(*pl));
	*out = pl;
	if (get_string(p, pname, "architecture", true, &pl->architecture, err) < 0 ||
	    get_string(p, pname, "os", true, &pl->os, err) < 0 ||
	    get_opt_string(p, pname, "variant", &pl->variant, err) < 0 ||
	    get_opt_string(p, pname, "os.version", &pl->os_version, err) < 0 ||
	    get_strv(p, pname, "os.features", PP_OCI_MAP_MAX, &pl->os_features, NULL, err) < 0)
		return -1;
	return 0;
}

/* A descriptor at name; platform only where an index entry may have one.
 * On error d holds what was parsed (descriptor_clear frees it). */
static int parse_descriptor(struct json_object *obj, const char *name, bool with_platform,
			    struct pp_oci_descriptor *d, struct pp_error **err)
{
	if (obj == NULL)
		return pp_error_set(err, 0, "%s: missing", name);
	if (!json_object_is_type(obj, json_type_object))
		return pp_error_set(err, 0, "%s: not an object", name);
	if (get_string(obj, name, "mediaType", true, &d->media_type, err) < 0)
		return -1;
	if (strlen(d->media_type) > PP_OCI_MEDIA_TYPE_MAX || strchr(d->media_type, '/') == NULL)
		return pp_error_set(err, 0, "%s.mediaType: not a media type", name);
	if (get_string(obj, name, "digest", true, &d->digest, err) < 0)
		return -1;
	if (!pp_oci_digest_valid(d->digest))
		return pp_error_set(err, 0,
				    "%s.digest: \"%.80s\" is not sha256:<64 hex> nor "
				    "sha512:<128 hex> (lowercase)",
				    name, d->digest);
	struct json_object *size = member(obj, "size");
	if (size == NULL)
		return pp_error_set(err, 0, "%s.size: missing", name);
	if (!json_object_is_type(size, json_type_int))
		return pp_error_set(err, 0, "%s.size: not an integer", name);
	d->size = json_object_get_int64(size);
	if (d->size < 0)
		return pp_error_set(err, 0, "%s.size: negative", name);
	if (get_strv(obj, name, "urls", PP_OCI_MAP_MAX, &d->urls, NULL, err) < 0 ||
	    get_kv(obj, name, "annotations", PP_OCI_ANNOTATIONS_MAX, &d->annotations,
		   &d->n_annotations, err) < 0)
		return -1;
	if (with_platform)
		return parse_platform(obj, name, &d->platform, err);
	return 0;
}

/* ---- manifests ---- */

static const struct layer_type *layer_type(const char *media_type)
{
	for (size_t i = 0; i < sizeof(LAYER_TYPES) / sizeof(LAYER_TYPES[0]); i++)
		if (strcmp(LAYER_TYPES[i].media_type, media_type) == 0)
			return &LAYER_TYPES[i];
	return NULL;
}

static void manifest_free(struct pp_oci_manifest *m)
{
	if (m == NULL)
		return;
	free(m->media_type);
	descriptor_clear(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_clear(&m->layers[i].desc);
	free(m->layers);
	kv_free(m->annotations, m->n_annotations);
	free(m);
}

static void index_free(struct pp_oci_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->media_type);
	for (size_t i = 0; i < idx->n_manifests; i++)
		descriptor_clear(&idx->manifests[i]);
	free(idx->manifests);
	kv_free(idx->annotations, idx->n_annotations);
	free(idx);
}

void pp_oci_document_free(struct pp_oci_document *doc)
{
	if (doc == NULL)
		return;
	manifest_free(doc->manifest);
	index_free(doc->index);
	free(doc);
}

static int parse_layers(struct json_object *root, struct pp_oci_manifest *m, struct pp_error **err)
{
	struct json_object *arr = member(root, "layers");
	if (arr == NULL)
		return pp_error_set(err, 0, "layers: missing");
	if (!json_object_is_type(arr, json_type_array))
		return pp_error_set(err, 0, "layers: not an array");
	size_t n = json_object_array_length(arr);
	if (n > PP_OCI_LAYERS_MAX)
		return pp_error_set(err, 0,
				    "layers: %zu layers, more than the limit of %d (the overlay "
				    "mount of a container stacks them all)",
				    n, PP_OCI_LAYERS_MAX);
	m->layers = xmalloc(n * sizeof(*m->layers) + 1);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *name = xasprintf("layers[%zu]", i);
		struct pp_oci_layer *l = &m->layers[i];
		m->n_layers = i + 1;
		if (parse_descriptor(json_object_array_get_idx(arr, i), name, false, &l->desc,
				     err) < 0)
			return -1;
		const struct layer_type *t = layer_type(l->desc.media_type);
		if (t == NULL)
			return pp_error_set(err, 0,
					    "%s.mediaType: \"%s\" is not a layer type peapod can "
					    "unpack (tar, tar+gzip or tar+zstd)",
					    name, l->desc.media_type);
		l->compression = t->compression;
		l->foreign = t->foreign;
	}
	return 0;
}

static int parse_manifest_doc(struct json_object *root, const char *media_type,
			      struct pp_oci_manifest **out, struct pp_error **err)
{
	struct pp_oci_manifest *m = xmalloc(sizeof(*m));
	m->media_type = xstrdup(media_type);
	int ret = -1;
	if (member(root, "manifests") != NULL) {
		pp_error_set(err, 0, "manifests: not allowed in an image manifest");
		goto out;
	}
	if (get_schema_version(root, err) < 0 ||
	    parse_descriptor(member(root, "config"), "config", false, &m->config, err) < 0)
		goto out;
	if (strcmp(m->config.media_type, PP_OCI_MT_CONFIG) != 0 &&
	    strcmp(m->config.media_type, PP_DOCKER_MT_CONFIG) != 0) {
		pp_error_set(err, 0,
			     "config.mediaType: \"%s\" is not an image config (an artifact "
			     "rather than an image?)",
			     m->config.media_type);
		goto out;
	}
	if (parse_layers(root, m, err) < 0 ||
	    get_kv(root, "", "annotations", PP_OCI_ANNOTATIONS_MAX, &m->annotations,
		   &m->n_annotations, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		manifest_free(m);
	else
		*out = m;
	return ret;
}

static int parse_index_doc(struct json_object *root, const char *media_type,
			   struct pp_oci_index **out, struct pp_error **err)
{
	struct pp_oci_index *idx = xmalloc(sizeof(*idx));
	idx->media_type = xstrdup(media_type);
	int ret = -1;
	struct json_object *arr = member(root, "manifests");
	if (member(root, "layers") != NULL || member(root, "config") != NULL) {
		pp_error_set(err, 0, "%s: not allowed in an index",
			     member(root, "layers") != NULL ? "layers" : "config");
		goto out;
	}
	if (get_schema_version(root, err) < 0)
		goto out;
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		pp_error_set(err, 0, "manifests: %s", arr == NULL ? "missing" : "not an array");
		goto out;
	}
	size_t n = json_object_array_length(arr);
	if (n > PP_OCI_INDEX_MAX) {
		pp_error_set(err, 0, "manifests: %zu entries, more than the limit of %d", n,
			     PP_OCI_INDEX_MAX);
		goto out;
	}
	idx->manifests = xmalloc(n * sizeof(*idx->manifests) + 1);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *name = xasprintf("manifests[%zu]", i);
		idx->n_manifests = i + 1;
		if (parse_descriptor(json_object_array_get_idx(arr, i), name, true,
				     &idx->manifests[i], err) < 0)
			goto out;
	}
	if (get_kv(root, "", "annotations", PP_OCI_ANNOTATIONS_MAX, &idx->annotations,
		   &idx->n_annotations, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		index_free(idx);
	else
		*out = idx;
	return ret;
}

/* ---- negotiation ---- */

struct kind_type {
	const char *media_type;
	enum pp_oci_kind kind;
};

static const struct kind_type KINDS[] = {
    {PP_OCI_MT_INDEX, PP_OCI_KIND_INDEX},
    {PP_OCI_MT_MANIFEST, PP_OCI_KIND_MANIFEST},
    {PP_DOCKER_MT_LIST, PP_OCI_KIND_DOCKER_LIST},
    {PP_DOCKER_MT_MANIFEST, PP_OCI_KIND_DOCKER_MANIFEST},
};

static const struct kind_type *kind_of(const char *media_type)
{
	for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
		if (strcmp(KINDS[i].media_type, media_type) == 0)
			return &KINDS[i];
	return NULL;
}

static bool is_schema1(const char *media_type)
{
	return strcmp(media_type, PP_DOCKER_MT_SCHEMA1) == 0 ||
	       strcmp(media_type, PP_DOCKER_MT_SCHEMA1_SIGNED) == 0;
}

/* The Content-Type's "type/subtype", lowercased, without parameters or
 * spaces; "" when there is none or it is generic. The caller frees. */
static char *content_type_essence(const char *content_type)
{
	if (content_type == NULL)
		return xstrdup("");
	while (isspace((unsigned char)*content_type))
		content_type++;
	size_t n = strcspn(content_type, ";");
	while (n > 0 && isspace((unsigned char)content_type[n - 1]))
		n--;
	char *s = strndup(content_type, n);
	if (s == NULL)
		abort();
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < sizeof(GENERIC_TYPES) / sizeof(GENERIC_TYPES[0]); i++)
		if (strcmp(s, GENERIC_TYPES[i]) == 0)
			s[0] = '\0';
	return s;
}

/* Without a usable media type, the shape decides, as containerd does. */
static int kind_from_shape(struct json_object *root, const struct kind_type **kind,
			   struct pp_error **err)
{
	bool manifests = member(root, "manifests") != NULL;
	bool config = member(root, "config") != NULL;
	bool layers = member(root, "layers") != NULL;
	if (member(root, "fsLayers") != NULL || member(root, "signatures") != NULL)
		return pp_error_set(err, 0, "%s", SCHEMA1_MSG);
	if (manifests && !config && !layers)
		*kind = kind_of(PP_OCI_MT_INDEX);
	else if (!manifests && config && layers)
		*kind = kind_of(PP_OCI_MT_MANIFEST);
	else if (manifests)
		return pp_error_set(err, 0,
				    "mediaType: missing, and the document has both manifests "
				    "and %s: neither an index nor a manifest",
				    config ? "config" : "layers");
	else
		return pp_error_set(err, 0,
				    "mediaType: missing, and the document has no manifests, "
				    "config or layers: not an image manifest nor an index");
	return 0;
}

static bool is_index_kind(enum pp_oci_kind k)
{
	return k == PP_OCI_KIND_INDEX || k == PP_OCI_KIND_DOCKER_LIST;
}

/* The document's own mediaType is believed over the Content-Type, and an OCI
 * type may come as its Docker twin or the reverse (their shapes are the
 * same), but an index sent as a manifest, or the reverse, is refused, as
 * containerd does. */
static int negotiate(struct json_object *root, const char *ct, const struct kind_type **kind,
		     struct pp_error **err)
{
	cleanup_free char *doc_type = NULL;
	if (get_string(root, "", "mediaType", false, &doc_type, err) < 0)
		return -1;
	if (doc_type != NULL && is_schema1(doc_type))
		return pp_error_set(err, 0, "%s", SCHEMA1_MSG);
	struct json_object *version = member(root, "schemaVersion");
	if (version != NULL && json_object_is_type(version, json_type_int) &&
	    json_object_get_int64(version) == 1)
		return pp_error_set(err, 0, "%s", SCHEMA1_MSG);
	if (doc_type == NULL) {
		if (ct[0] != '\0') {
			*kind = kind_of(ct);
			return 0;
		}
		return kind_from_shape(root, kind, err);
	}
	*kind = kind_of(doc_type);
	if (*kind == NULL)
		return pp_error_set(err, 0,
				    "mediaType: \"%.255s\" is not an image manifest nor an index",
				    doc_type);
	if (ct[0] != '\0' && is_index_kind((*kind)->kind) != is_index_kind(kind_of(ct)->kind))
		return pp_error_set(err, 0,
				    "mediaType: \"%.255s\" does not match the Content-Type %s",
				    doc_type, ct);
	return 0;
}

int pp_oci_parse_manifest(const void *data, size_t len, const char *content_type,
			  struct pp_oci_document **out, struct pp_error **err)
{
	*out = NULL;
	cleanup_free char *ct = content_type_essence(content_type);
	if (is_schema1(ct))
		return pp_error_set(err, 0, "%s", SCHEMA1_MSG);
	if (ct[0] != '\0' && kind_of(ct) == NULL)
		return pp_error_set(err, 0,
				    "Content-Type %.255s: not an image manifest nor an index", ct);
	if (len > PP_OCI_MANIFEST_MAX)
		return pp_error_set(err, 0, "manifest: %zu bytes, more than the limit of %u MiB",
				    len, PP_OCI_MANIFEST_MAX / MIB);
	struct json_object *root;
	if (parse_json(data, len, "manifest", &root, err) < 0)
		return -1;
	const struct kind_type *kind = NULL;
	struct pp_oci_document *doc = xmalloc(sizeof(*doc));
	int ret = negotiate(root, ct, &kind, err);
	if (ret == 0) {
		doc->kind = kind->kind;
		if (kind->kind == PP_OCI_KIND_INDEX || kind->kind == PP_OCI_KIND_DOCKER_LIST)
			ret = parse_index_doc(root, kind->media_type, &doc->index, err);
		else
			ret = parse_manifest_doc(root, kind->media_type, &doc->manifest, err);
	}
	json_object_put(root);
	if (ret < 0) {
		pp_oci_document_free(doc);
		return -1;
	}
	*out = doc;
	return 0;
}

/* ---- image config ---- */

void pp_oci_config_free(struct pp_oci_config *c)
{
	if (c == NULL)
		return;
	free(c->architecture);
	free(c->os);
	free(c->variant);
	free(c->os_version);
	free(c->created);
	pp_image_config_clear(&c->config);
	strv_free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++) {
		free(c->history[i].created);
		free(c->history[i].created_by);
		free(c->history[i].author);
		free(c->history[i].comment);
	}
	free(c->history);
	free(c);
}

static int check_env(char *const *env, struct pp_error **err)
{
	for (size_t i = 0; env != NULL && env[i]; i++)
		if (env[i][0] == '=' || strchr(env[i], '=') == NULL)
			return pp_error_set(err, 0, "config.Env[%zu]: \"%.80s\" is not NAME=value",
					    i, env[i]);
	return 0;
}

/* "80", "80/tcp", "53/udp", "9/sctp" */
static int check_ports(char *const *ports, struct pp_error **err)
{
	for (size_t i = 0; ports != NULL && ports[i]; i++) {
		const char *p = ports[i];
		char *end;
		errno = 0;
		long port = isdigit((unsigned char)*p) ? strtol(p, &end, 10) : -1;
		bool ok = port >= 1 && port <= PORT_MAX && errno == 0;
		if (ok && *end != '\0')
			ok = strcmp(end, "/tcp") == 0 || strcmp(end, "/udp") == 0 ||
			     strcmp(end, "/sctp") == 0;
		if (!ok)
			return pp_error_set(
			    err, 0, "config.ExposedPorts: \"%.80s\" is not PORT[/tcp|udp|sctp]", p);
	}
	return 0;
}

static void labels_from_kv(struct pp_image_config *ic, struct pp_oci_kv *kv, size_t n)
{
	ic->labels = xmalloc(n * sizeof(*ic->labels) + 1);
	for (size_t i = 0; i < n; i++) {
		ic->labels[i].key = kv[i].key;
		ic->labels[i].value = kv[i].value;
	}
	ic->n_labels = n;
	free(kv);
}

static int parse_run_config(struct json_object *root, struct pp_image_config *ic,
			    struct pp_error **err)
{
	struct json_object *cfg = member(root, "config");
	if (cfg == NULL)
		return 0;
	if (!json_object_is_type(cfg, json_type_object))
		return pp_error_set(err, 0, "config: not an object");
	const char *p = "config";
	struct pp_oci_kv *labels = NULL;
	size_t n_labels = 0;
	if (get_opt_string(cfg, p, "User", &ic->user, err) < 0 ||
	    get_strv(cfg, p, "Env", PP_OCI_ENV_MAX, &ic->env, NULL, err) < 0 ||
	    check_env(ic->env, err) < 0 ||
	    get_strv(cfg, p, "Entrypoint", PP_OCI_ARGS_MAX, &ic->entrypoint, NULL, err) < 0 ||
	    get_strv(cfg, p, "Cmd", PP_OCI_ARGS_MAX, &ic->cmd, NULL, err) < 0 ||
	    get_opt_string(cfg, p, "WorkingDir", &ic->working_dir, err) < 0 ||
	    get_opt_string(cfg, p, "StopSignal", &ic->stop_signal, err) < 0 ||
	    get_set(cfg, p, "Volumes", PP_OCI_MAP_MAX, &ic->volumes, err) < 0 ||
	    get_set(cfg, p, "ExposedPorts", PP_OCI_MAP_MAX, &ic->exposed_ports, err) < 0 ||
	    check_ports(ic->exposed_ports, err) < 0 ||
	    get_kv(cfg, p, "Labels", PP_OCI_LABELS_MAX, &labels, &n_labels, err) < 0)
		return -1;
	labels_from_kv(ic, labels, n_labels);
	return 0;
}

static int parse_rootfs(struct json_object *root, struct pp_oci_config *c, struct pp_error **err)
{
	struct json_object *rootfs = member(root, "rootfs");
	if (rootfs == NULL)
		return pp_error_set(err, 0, "rootfs: missing");
	if (!json_object_is_type(rootfs, json_type_object))
		return pp_error_set(err, 0, "rootfs: not an object");
	cleanup_free char *type = NULL;
	if (get_string(rootfs, "rootfs", "type", true, &type, err) < 0)
		return -1;
	if (strcmp(type, "layers") != 0)
		return pp_error_set(err, 0, "rootfs.type: \"%.80s\", expected \"layers\"", type);
	if (member(rootfs, "diff_ids") == NULL)
		return pp_error_set(err, 0, "rootfs.diff_ids: missing");
	if (get_strv(rootfs, "rootfs", "diff_ids", PP_OCI_LAYERS_MAX, &c->diff_ids, &c->n_diff_ids,
		     err) < 0)
		return -1;
	for (size_t i = 0; i < c->n_diff_ids; i++)
		if (!pp_oci_digest_valid(c->diff_ids[i]))
			return pp_error_set(err, 0,
					    "rootfs.diff_ids[%zu]: \"%.80s\" is not a digest", i,
					    c->diff_ids[i]);
	return 0;
}

static int parse_history(struct json_object *root, struct pp_oci_config *c, struct pp_error **err)
{
	struct json_object *arr = member(root, "history");
	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return pp_error_set(err, 0, "history: not an array");
	size_t n = json_object_array_length(arr), layers = 0;
	if (n > PP_OCI_HISTORY_MAX)
		return pp_error_set(err, 0, "history: %zu entries, more than the limit of %d", n,
				    PP_OCI_HISTORY_MAX);
	c->history = xmalloc(n * sizeof(*c->history) + 1);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *name = xasprintf("history[%zu]", i);
		struct json_object *h = json_object_array_get_idx(arr, i);
		struct pp_oci_history *e = &c->history[i];
		c->n_history = i + 1;
		if (!json_object_is_type(h, json_type_object))
			return pp_error_set(err, 0, "%s: not an object", name);
		if (get_string(h, name, "created", false, &e->created, err) < 0 ||
		    get_string(h, name, "created_by", false, &e->created_by, err) < 0 ||
		    get_string(h, name, "author", false, &e->author, err) < 0 ||
		    get_string(h, name, "comment", false, &e->comment, err) < 0)
			return -1;
		struct json_object *empty = member(h, "empty_layer");
		if (empty != NULL && !json_object_is_type(empty, json_type_boolean))
			return pp_error_set(err, 0, "%s.empty_layer: not a boolean", name);
		e->empty_layer = empty != NULL && json_object_get_boolean(empty);
		layers += !e->empty_layer;
	}
	if (n > 0 && layers != c->n_diff_ids)
		return pp_error_set(err, 0,
				    "history: %zu entries make a layer, but rootfs.diff_ids has "
				    "%zu",
				    layers, c->n_diff_ids);
	return 0;
}

int pp_oci_parse_config(const void *data, size_t len, struct pp_oci_config **out,
			struct pp_error **err)
{
	*out = NULL;
	if (len > PP_OCI_CONFIG_MAX)
		return pp_error_set(err, 0, "config: %zu bytes, more than the limit of %u MiB", len,
				    PP_OCI_CONFIG_MAX / MIB);
	struct json_object *root;
	if (parse_json(data, len, "image config", &root, err) < 0)
		return -1;
	struct pp_oci_config *c = xmalloc(sizeof(*c));
	int ret = -1;
	if (get_string(root, "", "architecture", true, &c->architecture, err) < 0 ||
	    get_string(root, "", "os", true, &c->os, err) < 0 ||
	    get_opt_string(root, "", "variant", &c->variant, err) < 0 ||
	    get_opt_string(root, "", "os.version", &c->os_version, err) < 0 ||
	    get_opt_string(root, "", "created", &c->created, err) < 0 ||
	    parse_run_config(root, &c->config, err) < 0 || parse_rootfs(root, c, err) < 0 ||
	    parse_history(root, c, err) < 0)
		goto out;
	ret = 0;
out:
	json_object_put(root);
	if (ret < 0)
		pp_oci_config_free(c);
	else
		*out = c;
	return ret;
}

int pp_oci_check_image(const struct pp_oci_manifest *m, const struct pp_oci_config *c,
		       struct pp_error **err)
{
	if (m->n_layers != c->n_diff_ids)
		return pp_error_set(err, 0,
				    "the manifest has %zu layers but the config's rootfs.diff_ids "
				    "%zu",
				    m->n_layers, c->n_diff_ids);
	return 0;
}
