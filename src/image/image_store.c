/* The store itself: opening, locking, lookups, removal and pins. See
 * store.h for the on-disk layout. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "image/image_internal.h"
#include "image/oci.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/dir.h"
#include "util/fs.h"
#include "util/image_reference.h"
#include "util/settings.h"

int pp_image_store_open(const char *root, struct pp_image_store **out, struct pp_error **err)
{
	if (root == NULL || *root == '\0')
		root = pp_settings()->root;
	struct pp_image_store *s = xmalloc(sizeof(*s));
	s->root = xstrdup(root);
	s->layers_dir = xasprintf("%s/layers", root);
	s->images_dir = xasprintf("%s/images", root);
	s->containers_dir = xasprintf("%s/containers", root);
	s->repos_path = xasprintf("%s/repositories.json", root);
	s->lock_path = xasprintf("%s/lock", root);
	s->add_lock_path = xasprintf("%s/add.lock", root);
	s->blobs_dir = xasprintf("%s/blobs/sha256", root);
	s->digest_layers_dir = xasprintf("%s/layers/sha256", root);
	if (pp_mkdir_apart(s->digest_layers_dir, IMAGE_DIR_MODE, err) < 0 ||
	    pp_mkdir_p(s->blobs_dir, IMAGE_DIR_MODE, err) < 0 ||
	    pp_mkdir_p(s->images_dir, IMAGE_DIR_MODE, err) < 0 ||
	    pp_mkdir_p(s->containers_dir, IMAGE_DIR_MODE, err) < 0) {
		pp_image_store_free(s);
		return pp_error_wrap(err, "image store %s", root);
	}
	*out = s;
	return 0;
}

void pp_image_store_free(struct pp_image_store *s)
{
	if (s == NULL)
		return;
	free(s->root);
	free(s->layers_dir);
	free(s->images_dir);
	free(s->containers_dir);
	free(s->repos_path);
	free(s->lock_path);
	free(s->add_lock_path);
	free(s->blobs_dir);
	free(s->digest_layers_dir);
	free(s);
}

const char *pp_image_store_root(const struct pp_image_store *s)
{
	return s->root;
}

int image_lock_file(const char *path, int op, int *fd, struct pp_error **err)
{
	cleanup_close int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, IMAGE_FILE_MODE);
	if (lfd < 0)
		return pp_error_set(err, errno, "open %s", path);
	while (flock(lfd, op) < 0)
		if (errno != EINTR)
			return pp_error_set(err, errno, "lock %s", path);
	*fd = steal_fd(&lfd);
	return 0;
}

int image_store_lock(const struct pp_image_store *s, int op, int *fd, struct pp_error **err)
{
	return image_lock_file(s->lock_path, op, fd, err);
}

char *image_layer_tree(const struct pp_image_store *s, const char *hex)
{
	return xasprintf("%s/%s/%s", s->digest_layers_dir, hex, IMAGE_LAYER_TREE);
}

void pp_image_free(struct pp_image *img)
{
	if (img == NULL)
		return;
	free(img->id);
	free(img->ref);
	strv_free(img->layers);
	strv_free(img->repo_digests);
	strv_free(img->diff_ids);
	strv_free(img->tags);
	free(img->os);
	free(img->architecture);
	free(img->variant);
	pp_image_config_clear(&img->config);
	free(img);
}

void pp_image_list_free(struct pp_image **imgs, size_t n)
{
	if (imgs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		pp_image_free(imgs[i]);
	free(imgs);
}

static bool is_hex(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789abcdef") == strlen(s);
}

/* "sha256:abcd..." or "abcd...": the hex part when it can be an id prefix. */
static const char *id_prefix(const char *ref)
{
	static const char algo[] = "sha256:";
	if (strncmp(ref, algo, strlen(algo)) == 0)
		ref += strlen(algo);
	if (strlen(ref) < IMAGE_ID_MIN_PREFIX || strlen(ref) > PP_SHA256_HEX_LEN || !is_hex(ref))
		return NULL;
	return ref;
}

/* Names of images/<id>.json, without ".json". */
int image_list_ids(const struct pp_image_store *s, char ***out, size_t *n, struct pp_error **err)
{
	static const char suffix[] = ".json";
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, s->images_dir, 0, err) < 0)
		return -1;
	cleanup_strv char **ids = xmalloc(sizeof(char *));
	size_t count = 0;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		size_t len = strlen(de->d_name);
		if (len != PP_SHA256_HEX_LEN + strlen(suffix) ||
		    strcmp(de->d_name + PP_SHA256_HEX_LEN, suffix) != 0)
			continue;
		ids = xrealloc(ids, (count + 2) * sizeof(char *));
		ids[count++] = strndup(de->d_name, PP_SHA256_HEX_LEN);
		ids[count] = NULL;
	}
	if (r < 0)
		return -1;
	*out = steal_ptr(&ids);
	*n = count;
	return 0;
}

/* Resolves an id prefix to the one full id it matches. */
static int resolve_id(const struct pp_image_store *s, const char *prefix, char **out,
		      struct pp_error **err)
{
	cleanup_strv char **ids = NULL;
	size_t n = 0;
	*out = NULL;
	if (image_list_ids(s, &ids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(ids[i], prefix, strlen(prefix)) != 0)
			continue;
		if (*out != NULL) {
			free(steal_ptr(out));
			return pp_error_set(err, 0, "image id prefix \"%s\" is ambiguous", prefix);
		}
		*out = xstrdup(ids[i]);
	}
	return 0;
}

static int not_found(const char *ref, const char *norm, struct pp_error **err)
{
	const char *name = norm ? norm : ref;
	return pp_error_set(
	    err, 0,
	    "image \"%s\" not found in the local store (import it with: peapod image "
	    "import DIR|TAR %s)",
	    name, name);
}

/* First tag (in repositories.json order) that points at id, or NULL. */
static const char *tag_of(struct json_object *repos, const char *id)
{
	json_object_object_foreach(repos, key, val)
	{
		if (strcmp(json_object_get_string(val), id) == 0)
			return key;
	}
	return NULL;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **image_tags_of(struct json_object *repos, const char *id)
{
	char **v = xmalloc(sizeof(char *));
	size_t n = 0;
	json_object_object_foreach(repos, key, val)
	{
		if (strcmp(json_object_get_string(val), id) == 0)
			image_strv_append(&v, &n, key);
	}
	qsort(v, n, sizeof(char *), compare_strings);
	return v;
}

/* Finds the image id for ref (tag first, then id prefix). *tag is the
 * matching tag, or NULL when ref matched by id. */
static int lookup(const struct pp_image_store *s, struct json_object *repos, const char *ref,
		  char **id, char **tag, struct pp_error **err)
{
	cleanup_free char *norm = pp_image_normalize_ref(ref);
	struct json_object *val;
	*tag = NULL;
	if (norm != NULL && json_object_object_get_ex(repos, norm, &val)) {
		*id = xstrdup(json_object_get_string(val));
		*tag = steal_ptr(&norm);
		return 0;
	}
	const char *prefix = id_prefix(ref);
	if (prefix != NULL) {
		if (resolve_id(s, prefix, id, err) < 0)
			return -1;
		if (*id != NULL)
			return 0;
	}
	if (norm == NULL && prefix == NULL)
		return pp_error_set(err, 0, "invalid image reference \"%s\"", ref);
	return not_found(ref, norm, err);
}

int pp_image_get(struct pp_image_store *s, const char *ref, struct pp_image **out,
		 struct pp_error **err)
{
	cleanup_close int lock = -1;
	struct json_object *repos = NULL;
	cleanup_free char *id = NULL;
	cleanup_free char *tag = NULL;
	if (image_store_lock(s, LOCK_SH, &lock, err) < 0 || image_repos_load(s, &repos, err) < 0)
		return -1;
	int ret = lookup(s, repos, ref, &id, &tag, err);
	if (ret == 0)
		ret = image_json_load(s, id, out, err);
	if (ret == 0) {
		const char *first = tag ? tag : tag_of(repos, id);
		(*out)->ref = first ? xstrdup(first) : NULL;
		(*out)->tags = image_tags_of(repos, id);
	}
	json_object_put(repos);
	return ret;
}

static int compare_images(const void *a, const void *b)
{
	const struct pp_image *x = *(struct pp_image *const *)a, *y = *(struct pp_image *const *)b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->ref ? x->ref : "", y->ref ? y->ref : "");
}

/* The dangling images that have no tag (ref NULL) appended to imgs. */
static int list_dangling(const struct pp_image_store *s, struct json_object *repos,
			 struct pp_image ***imgs, size_t *count, struct pp_error **err)
{
	cleanup_strv char **ids = NULL;
	if (image_dangling_load(s, &ids, err) < 0)
		return -1;
	for (char **id = ids; id && *id; id++) {
		if (tag_of(repos, *id) != NULL)
			continue;
		struct pp_image *img;
		struct pp_error *e = NULL;
		/* a record gone (removed by hand) is not listed */
		if (image_json_load(s, *id, &img, &e) < 0) {
			bool gone = e->status == ENOENT;
			if (!gone && err != NULL) {
				*err = e;
				return -1;
			}
			pp_error_free(&e);
			if (!gone)
				return -1;
			continue;
		}
		*imgs = xrealloc(*imgs, (*count + 2) * sizeof(**imgs));
		(*imgs)[(*count)++] = img;
	}
	return 0;
}

int pp_image_list(struct pp_image_store *s, struct pp_image ***out, size_t *n,
		  struct pp_error **err)
{
	cleanup_close int lock = -1;
	struct json_object *repos = NULL;
	if (image_store_lock(s, LOCK_SH, &lock, err) < 0 || image_repos_load(s, &repos, err) < 0)
		return -1;
	size_t count = 0, cap = (size_t)json_object_object_length(repos);
	struct pp_image **imgs = xmalloc((cap + 1) * sizeof(*imgs));
	int ret = 0;
	json_object_object_foreach(repos, key, val)
	{
		struct pp_image *img;
		ret = image_json_load(s, json_object_get_string(val), &img, err);
		if (ret < 0)
			break;
		img->ref = xstrdup(key);
		img->tags = image_tags_of(repos, img->id);
		imgs[count++] = img;
	}
	if (ret == 0)
		ret = list_dangling(s, repos, &imgs, &count, err);
	json_object_put(repos);
	if (ret < 0) {
		pp_image_list_free(imgs, count);
		return ret;
	}
	qsort(imgs, count, sizeof(*imgs), compare_images);
	*out = imgs;
	*n = count;
	return 0;
}

/* Removes the tag ref, or every tag of the image when ref is an id prefix. */
static void untag(struct json_object *repos, const char *tag, const char *id)
{
	if (tag != NULL) {
		json_object_object_del(repos, tag);
		return;
	}
	const char *key;
	while ((key = tag_of(repos, id)) != NULL)
		json_object_object_del(repos, key);
}

static int remove_image(struct pp_image_store *s, const char *ref, bool force,
			struct pp_error **err)
{
	cleanup_close int lock = -1;
	struct json_object *repos = NULL;
	cleanup_free char *id = NULL;
	cleanup_free char *tag = NULL;
	if (image_store_lock(s, LOCK_EX, &lock, err) < 0 || image_repos_load(s, &repos, err) < 0)
		return -1;
	int ret = lookup(s, repos, ref, &id, &tag, err);
	cleanup_free char *pod = NULL;
	if (ret == 0 && !force && image_is_pinned(s, id, &pod)) {
		cleanup_free char *owner =
		    xasprintf("%s/%s/%s/%s", s->root, IMAGE_PODS_DIR, pod, IMAGE_PIN_OWNER_FILE);
		cleanup_free char *name = NULL;
		if (pp_read_file(owner, IMAGE_POD_NAME_MAX, &name, NULL, NULL) < 0)
			name = xstrdup("?");
		ret = pp_error_set(err, 0,
				   "image \"%s\" is in use by a running pod, %s (uid %s): stop it "
				   "first, or rm --force (its layers then stay until the pod ends)",
				   ref, name, pod);
	}
	if (ret == 0) {
		untag(repos, tag, id);
		ret = image_repos_save(s, repos, err);
	}
	if (ret == 0)
		ret = image_dangling_set(s, id, false, err);
	json_object_put(repos);
	if (ret == 0)
		ret = image_store_gc_locked(s, err);
	return ret;
}

int pp_image_remove(struct pp_image_store *s, const char *ref, struct pp_error **err)
{
	return remove_image(s, ref, false, err);
}

int pp_image_remove_force(struct pp_image_store *s, const char *ref, struct pp_error **err)
{
	return remove_image(s, ref, true, err);
}

int pp_image_store_gc(struct pp_image_store *s, struct pp_error **err)
{
	cleanup_close int lock = -1;
	if (image_store_lock(s, LOCK_EX, &lock, err) < 0)
		return -1;
	return image_store_gc_locked(s, err);
}

int pp_image_store_prune(struct pp_image_store *s, struct pp_error **err)
{
	cleanup_close int lock = -1;
	if (image_store_lock(s, LOCK_EX, &lock, err) < 0)
		return -1;
	cleanup_free char *path = xasprintf("%s/%s", s->root, IMAGE_DANGLING_FILE);
	if (unlink(path) < 0 && errno != ENOENT)
		return pp_error_set(err, errno, "remove %s", path);
	return image_store_gc_locked(s, err);
}

int pp_image_pin(struct pp_image_store *s, const char *pod_uid, const char *pod_name,
		 struct pp_image *const *images, size_t n, struct pp_error **err)
{
	cleanup_close int lock = -1;
	if (image_store_lock(s, LOCK_SH, &lock, err) < 0)
		return -1;
	/* Under the lock no removal runs: an image that exists now stays. */
	size_t len = 0;
	cleanup_free char *text = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *json = xasprintf("%s/%s.json", s->images_dir, images[i]->id);
		if (access(json, F_OK) < 0)
			return pp_error_set(err, ENOENT, "image \"%s\" was removed meanwhile",
					    images[i]->ref);
		cleanup_free char *line = xasprintf("%s\n", images[i]->id);
		text = xrealloc(text, len + strlen(line) + 1);
		strcpy(text + len, line);
		len += strlen(line);
	}
	cleanup_free char *dir = xasprintf("%s/%s/%s", s->root, IMAGE_PODS_DIR, pod_uid);
	cleanup_free char *file = xasprintf("%s/%s", dir, IMAGE_PIN_FILE);
	if (pp_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (pod_name != NULL) {
		cleanup_free char *owner = xasprintf("%s/%s", dir, IMAGE_PIN_OWNER_FILE);
		if (pp_write_file_atomic(owner, pod_name, strlen(pod_name), 0600, err) < 0)
			return -1;
	}
	return pp_write_file_atomic(file, text, len, 0600, err);
}

int pp_image_tag(struct pp_image_store *s, const char *source, const char *target,
		 struct pp_error **err)
{
	cleanup_free char *norm = pp_image_normalize_ref(target);
	if (norm == NULL) {
		/* parsed again for the message that says what is wrong */
		cleanup_image_ref struct pp_image_ref bad;
		(void)pp_image_ref_parse(target, &bad, err);
		return pp_error_wrap(err, "tag \"%s\"", target);
	}
	if (strchr(norm, '@') != NULL)
		return pp_error_set(err, 0, "tag \"%s\": a digest reference cannot be a tag",
				    target);
	cleanup_close int lock = -1;
	struct json_object *repos = NULL;
	cleanup_free char *id = NULL;
	cleanup_free char *tag = NULL;
	if (image_store_lock(s, LOCK_EX, &lock, err) < 0 || image_repos_load(s, &repos, err) < 0)
		return -1;
	int ret = lookup(s, repos, source, &id, &tag, err);
	if (ret == 0) {
		json_object_object_add(repos, norm, json_object_new_string(id));
		ret = image_repos_save(s, repos, err);
	}
	json_object_put(repos);
	/* the image the tag left goes if nothing else keeps it */
	if (ret == 0)
		ret = image_store_gc_locked(s, err);
	return ret;
}

int pp_image_read_platform(struct pp_image_store *s, struct pp_image *img, struct pp_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", s->blobs_dir, img->id);
	cleanup_free char *text = NULL;
	size_t len = 0;
	if (img->diff_ids == NULL)
		return 0; /* an image of before the layered store: no config blob */
	if (pp_read_file(path, IMAGE_JSON_MAX, &text, &len, err) < 0)
		return pp_error_wrap(err, "image %s: config", img->id);
	struct pp_oci_config *cfg = NULL;
	if (pp_oci_parse_config(text, len, &cfg, err) < 0)
		return pp_error_wrap(err, "image %s: config %s", img->id, path);
	free(img->os);
	free(img->architecture);
	free(img->variant);
	img->os = steal_ptr(&cfg->os);
	img->architecture = steal_ptr(&cfg->architecture);
	img->variant = steal_ptr(&cfg->variant);
	pp_oci_config_free(cfg);
	return 0;
}
