/* (De)serialization of images/<id>.json (both record versions) and
 * repositories.json with json-c. */
#include <string.h>
#include <time.h>

#include "image/image_internal.h"
#include "image/store.h"
#include "util/digest.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define TIME_FORMAT "%Y-%m-%dT%H:%M:%SZ"
#define TIME_BUF 64
#define JSON_WRITE_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Labels as an object, keys in the config's (sorted) order. */
static void put_labels(struct json_object *obj, const struct pp_image_config *cfg)
{
	if (cfg->n_labels == 0)
		return;
	struct json_object *labels = json_object_new_object();
	for (size_t i = 0; i < cfg->n_labels; i++)
		json_object_object_add(labels, cfg->labels[i].key,
				       json_object_new_string(cfg->labels[i].value));
	json_object_object_add(obj, "Labels", labels);
}

char *image_json_build(const struct pp_image_config *cfg, char *const *diff_ids,
		       const char *const *repo_digests, char *const *blobs, int64_t size,
		       time_t created)
{
	struct json_object *root = json_object_new_object();
	char when[TIME_BUF];
	struct tm tm;
	strftime(when, sizeof(when), TIME_FORMAT, gmtime_r(&created, &tm));
	json_object_object_add(root, "version", json_object_new_int(IMAGE_RECORD_VERSION));
	image_json_put_str(root, "created", when);
	struct json_object *config = json_object_new_object();
	if (cfg != NULL) {
		image_json_put_strv(config, "Entrypoint", cfg->entrypoint);
		image_json_put_strv(config, "Cmd", cfg->cmd);
		image_json_put_strv(config, "Env", cfg->env);
		image_json_put_str(config, "WorkingDir", cfg->working_dir);
		image_json_put_str(config, "User", cfg->user);
		image_json_put_str(config, "StopSignal", cfg->stop_signal);
		image_json_put_strv(config, "Volumes", cfg->volumes);
		image_json_put_strv(config, "ExposedPorts", cfg->exposed_ports);
		put_labels(config, cfg);
	}
	json_object_object_add(root, "config", config);
	image_json_put_strv(root, "layers", diff_ids);
	if (repo_digests != NULL)
		image_json_put_strv(root, "repo_digests", (char *const *)repo_digests);
	image_json_put_strv(root, "blobs", blobs);
	json_object_object_add(root, "size", json_object_new_int64(size));
	char *text = xstrdup(json_object_to_json_string_ext(root, JSON_WRITE_FLAGS));
	json_object_put(root);
	return text;
}

static int get_strv(struct json_object *obj, const char *key, char ***out, struct pp_error **err)
{
	struct json_object *arr;
	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &arr) || json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return pp_error_set(err, 0, "%s: not an array", key);
	size_t n = json_object_array_length(arr);
	cleanup_strv char **v = xmalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_string))
			return pp_error_set(err, 0, "%s[%zu]: not a string", key, i);
		v[i] = xstrdup(json_object_get_string(e));
	}
	*out = steal_ptr(&v);
	return 0;
}

static int get_str(struct json_object *obj, const char *key, char **out, struct pp_error **err)
{
	struct json_object *s;
	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &s) || json_object_is_type(s, json_type_null))
		return 0;
	if (!json_object_is_type(s, json_type_string))
		return pp_error_set(err, 0, "%s: not a string", key);
	*out = xstrdup(json_object_get_string(s));
	return 0;
}

static int get_labels(struct json_object *obj, struct pp_image_config *c, struct pp_error **err)
{
	struct json_object *labels;
	if (!json_object_object_get_ex(obj, "Labels", &labels) ||
	    json_object_is_type(labels, json_type_null))
		return 0;
	if (!json_object_is_type(labels, json_type_object))
		return pp_error_set(err, 0, "Labels: not an object");
	size_t n = (size_t)json_object_object_length(labels);
	c->labels = xmalloc((n + 1) * sizeof(*c->labels));
	json_object_object_foreach(labels, key, val)
	{
		if (!json_object_is_type(val, json_type_string))
			return pp_error_set(err, 0, "Labels.%s: not a string", key);
		c->labels[c->n_labels].key = xstrdup(key);
		c->labels[c->n_labels++].value = xstrdup(json_object_get_string(val));
	}
	return 0;
}

static int parse_config(struct json_object *root, struct pp_image_config *c, struct pp_error **err)
{
	struct json_object *config;
	if (!json_object_object_get_ex(root, "config", &config))
		return 0;
	if (!json_object_is_type(config, json_type_object))
		return pp_error_set(err, 0, "config: not an object");
	if (get_strv(config, "Entrypoint", &c->entrypoint, err) < 0 ||
	    get_strv(config, "Cmd", &c->cmd, err) < 0 ||
	    get_strv(config, "Env", &c->env, err) < 0 ||
	    get_str(config, "WorkingDir", &c->working_dir, err) < 0 ||
	    get_str(config, "User", &c->user, err) < 0 ||
	    get_str(config, "StopSignal", &c->stop_signal, err) < 0 ||
	    get_strv(config, "Volumes", &c->volumes, err) < 0 ||
	    get_strv(config, "ExposedPorts", &c->exposed_ports, err) < 0 ||
	    get_labels(config, c, err) < 0)
		return pp_error_wrap(err, "config");
	return 0;
}

/* Legacy record: rootfs.layers, topmost first, under layers/<id>. */
static int parse_legacy_layers(const struct pp_image_store *s, struct json_object *root,
			       struct pp_image *img, struct pp_error **err)
{
	struct json_object *rootfs;
	cleanup_strv char **ids = NULL;
	if (!json_object_object_get_ex(root, "rootfs", &rootfs) ||
	    !json_object_is_type(rootfs, json_type_object))
		return pp_error_set(err, 0, "rootfs: missing");
	if (get_strv(rootfs, "layers", &ids, err) < 0)
		return pp_error_wrap(err, "rootfs");
	if (ids == NULL || ids[0] == NULL)
		return pp_error_set(err, 0, "rootfs.layers: empty");
	size_t n = 0;
	while (ids[n])
		n++;
	img->layers = xmalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (strchr(ids[i], '/') != NULL || ids[i][0] == '.')
			return pp_error_set(err, 0, "rootfs.layers: bad layer id \"%s\"", ids[i]);
		img->layers[i] = xasprintf("%s/%s", s->layers_dir, ids[i]);
	}
	return 0;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Version 2: "layers", diff IDs lowest first; img->layers gets their trees
 * topmost first, as overlay wants them. Overlay refuses one directory
 * twice, so a layer the image has twice is used once, at its topmost
 * place: the lower copy is hidden by the upper one anyway, except for
 * what layers between them deleted, which the image then shows again (no
 * real builder makes such an image; refusing it would be the alternative). */
static int parse_layers(const struct pp_image_store *s, struct json_object *root,
			struct pp_image *img, struct pp_error **err)
{
	cleanup_strv char **ids = NULL;
	if (get_strv(root, "layers", &ids, err) < 0)
		return -1;
	if (ids == NULL || ids[0] == NULL)
		return pp_error_set(err, 0, "layers: empty");
	size_t n = 0;
	while (ids[n])
		n++;
	img->layers = xmalloc((n + 1) * sizeof(char *));
	size_t used = 0;
	for (size_t i = n; i-- > 0;) {
		const char *hex;
		enum pp_digest_algo algo;
		if (pp_digest_parse(ids[i], &algo, &hex, err) < 0 || algo != PP_DIGEST_SHA256)
			return pp_error_set(err, 0, "layers[%zu]: bad diff ID \"%s\"", i, ids[i]);
		cleanup_free char *tree = image_layer_tree(s, hex);
		if (strv_has(img->layers, used, tree))
			continue;
		if (used == PP_IMAGE_MAX_LAYERS)
			return pp_error_set(
			    err, 0, "more than %d distinct layers: overlay cannot stack them",
			    PP_IMAGE_MAX_LAYERS);
		img->layers[used++] = steal_ptr(&tree);
	}
	return 0;
}

static void parse_meta(struct json_object *root, struct pp_image *img)
{
	struct json_object *v;
	if (json_object_object_get_ex(root, "size", &v))
		img->size = json_object_get_int64(v);
	if (json_object_object_get_ex(root, "created", &v) &&
	    json_object_is_type(v, json_type_string)) {
		struct tm tm = {0};
		const char *end = strptime(json_object_get_string(v), TIME_FORMAT, &tm);
		if (end != NULL)
			img->created = timegm(&tm);
	}
}

static int parse_json_file(const char *path, struct json_object **out, struct pp_error **err)
{
	cleanup_free char *text = NULL;
	if (pp_read_file(path, IMAGE_JSON_MAX, &text, NULL, err) < 0)
		return -1;
	enum json_tokener_error jerr;
	*out = json_tokener_parse_verbose(text, &jerr);
	if (*out == NULL)
		return pp_error_set(err, 0, "%s: %s", path, json_tokener_error_desc(jerr));
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		return pp_error_set(err, 0, "%s: not a JSON object", path);
	}
	return 0;
}

int image_json_load(const struct pp_image_store *s, const char *id, struct pp_image **out,
		    struct pp_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s.json", s->images_dir, id);
	struct json_object *root = NULL;
	if (parse_json_file(path, &root, err) < 0)
		return -1;
	struct pp_image *img = xmalloc(sizeof(*img));
	img->id = xstrdup(id);
	int ret = parse_config(root, &img->config, err);
	struct json_object *version;
	bool v2 = json_object_object_get_ex(root, "version", &version);
	if (ret == 0 && v2 && json_object_get_int(version) != IMAGE_RECORD_VERSION)
		ret = pp_error_set(err, 0, "record version %d: not one this peapod reads",
				   json_object_get_int(version));
	if (ret == 0)
		ret = v2 ? parse_layers(s, root, img, err) : parse_legacy_layers(s, root, img, err);
	if (ret == 0 && v2)
		ret = get_strv(root, "repo_digests", &img->repo_digests, err);
	if (ret == 0 && v2)
		ret = get_strv(root, "layers", &img->diff_ids, err);
	parse_meta(root, img);
	json_object_put(root);
	if (ret < 0) {
		pp_image_free(img);
		return pp_error_wrap(err, "%s", path);
	}
	*out = img;
	return 0;
}

int image_json_refs(const struct pp_image_store *s, const char *id, char ***blobs, char ***diff_ids,
		    struct pp_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s.json", s->images_dir, id);
	struct json_object *root = NULL;
	*blobs = NULL;
	*diff_ids = NULL;
	if (parse_json_file(path, &root, err) < 0)
		return -1;
	int ret = 0;
	if (json_object_object_get_ex(root, "version", NULL)) {
		ret = get_strv(root, "blobs", blobs, err);
		if (ret == 0)
			ret = get_strv(root, "layers", diff_ids, err);
		size_t n = 0;
		while (ret == 0 && *blobs != NULL && (*blobs)[n] != NULL)
			n++;
		if (ret == 0) {
			/* the config, by the record's name */
			*blobs = xrealloc(*blobs, (n + 2) * sizeof(char *));
			(*blobs)[n] = xasprintf("sha256:%s", id);
			(*blobs)[n + 1] = NULL;
		}
	}
	json_object_put(root);
	if (ret < 0) {
		strv_free(*blobs);
		strv_free(*diff_ids);
		*blobs = *diff_ids = NULL;
		return pp_error_wrap(err, "%s", path);
	}
	return 0;
}

int image_repos_load(const struct pp_image_store *s, struct json_object **out,
		     struct pp_error **err)
{
	if (access(s->repos_path, F_OK) < 0 && errno == ENOENT) {
		*out = json_object_new_object();
		return 0;
	}
	if (parse_json_file(s->repos_path, out, err) < 0)
		return -1;
	json_object_object_foreach(*out, key, val)
	{
		if (!json_object_is_type(val, json_type_string)) {
			json_object_put(*out);
			*out = NULL;
			return pp_error_set(err, 0, "%s: %s: not a string", s->repos_path, key);
		}
	}
	return 0;
}

int image_repos_save(const struct pp_image_store *s, struct json_object *repos,
		     struct pp_error **err)
{
	const char *text = json_object_to_json_string_ext(repos, JSON_WRITE_FLAGS);
	return pp_write_file_atomic(s->repos_path, text, strlen(text), IMAGE_FILE_MODE, err);
}

int image_dangling_load(const struct pp_image_store *s, char ***ids, struct pp_error **err)
{
	*ids = NULL;
	cleanup_free char *path = xasprintf("%s/%s", s->root, IMAGE_DANGLING_FILE);
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	struct json_object *root = NULL;
	if (parse_json_file(path, &root, err) < 0)
		return -1;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return pp_error_set(err, 0, "%s: not an object", path);
	}
	size_t n = 0;
	*ids = xmalloc(((size_t)json_object_object_length(root) + 1) * sizeof(char *));
	json_object_object_foreach(root, key, val)
	{
		(void)val;
		(*ids)[n++] = xstrdup(key);
	}
	(*ids)[n] = NULL;
	json_object_put(root);
	return 0;
}

int image_dangling_set(const struct pp_image_store *s, const char *id, bool keep,
		       struct pp_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", s->root, IMAGE_DANGLING_FILE);
	struct json_object *root = NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		root = json_object_new_object();
	else if (parse_json_file(path, &root, err) < 0)
		return -1;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return pp_error_set(err, 0, "%s: not an object", path);
	}
	bool has = json_object_object_get_ex(root, id, NULL);
	int ret = 0;
	if (has != keep) {
		if (keep)
			json_object_object_add(root, id, json_object_new_boolean(1));
		else
			json_object_object_del(root, id);
		const char *text = json_object_to_json_string_ext(root, JSON_WRITE_FLAGS);
		ret = json_object_object_length(root) == 0
			  ? (unlink(path) < 0 && errno != ENOENT
				 ? pp_error_set(err, errno, "remove %s", path)
				 : 0)
			  : pp_write_file_atomic(path, text, strlen(text), IMAGE_FILE_MODE, err);
	}
	json_object_put(root);
	return ret;
}

int pp_image_store_format(void)
{
	return IMAGE_RECORD_VERSION;
}
