/* Import of a root filesystem (directory or tar archive) as a one-layer
 * image. The slow part (copy or extraction) runs unlocked into a private
 * temp dir under layers/; only the commit (rename, image file, tag) holds
 * the store lock. */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "image/image_internal.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/image_reference.h"

#define LAYER_ROOT_MODE 0755

static int random_id(char out[PP_SHA256_HEX_LEN + 1], struct pp_error **err)
{
	uint8_t bytes[IMAGE_LAYER_ID_BYTES];
	size_t got = 0;
	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
		if (n < 0 && errno != EINTR)
			return pp_error_set(err, errno, "getrandom");
		got += n > 0 ? (size_t)n : 0;
	}
	pp_hex_encode(bytes, sizeof(bytes), out);
	return 0;
}

/* Fills a new temp dir from src; *tmp is its path (removed on failure). */
static int populate(const struct pp_image_store *s, const char *src, char **tmp,
		    struct pp_error **err)
{
	struct stat st;
	if (stat(src, &st) < 0)
		return pp_error_set(err, errno, "cannot read the source");
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return pp_error_set(err, 0, "%s: neither a directory nor an archive file", src);
	cleanup_free char *path =
	    xasprintf("%s/%s%d-XXXXXX", s->layers_dir, IMAGE_TMP_PREFIX, (int)getpid());
	if (mkdtemp(path) == NULL)
		return pp_error_set(err, errno, "mkdtemp %s", path);
	/* An archive without a "./" entry leaves the root as created: 0755. */
	int ret = chmod(path, LAYER_ROOT_MODE) < 0 ? pp_error_set(err, errno, "chmod %s", path) : 0;
	if (ret == 0)
		ret = S_ISDIR(st.st_mode) ? image_copy_tree(src, path, err)
					  : image_extract_tar(src, path, err);
	if (ret < 0) {
		struct pp_error *rm_err = NULL;
		pp_rm_rf(path, &rm_err);
		pp_error_free(&rm_err);
		return -1;
	}
	*tmp = steal_ptr(&path);
	return 0;
}

/* Under the exclusive lock: layer into place, image file, tag. Undoes its own
 * steps on failure. */
static int commit_locked(const struct pp_image_store *s, const char *tmp, const char *ref,
			 const struct pp_image_config *cfg, char **id_out, struct pp_error **err)
{
	char layer_id[PP_SHA256_HEX_LEN + 1], id[PP_SHA256_HEX_LEN + 1];
	if (random_id(layer_id, err) < 0)
		return -1;
	cleanup_free char *layer = xasprintf("%s/%s", s->layers_dir, layer_id);
	if (rename(tmp, layer) < 0)
		return pp_error_set(err, errno, "rename %s to %s", tmp, layer);
	char *layers[] = {layer_id, NULL};
	cleanup_free char *json = image_json_build(cfg, layers, image_tree_size(layer), time(NULL));
	cleanup_free char *image_path = NULL;
	struct json_object *repos = NULL;
	int ret = pp_digest_hex(PP_DIGEST_SHA256, json, strlen(json), id, err);
	if (ret == 0) {
		image_path = xasprintf("%s/%s.json", s->images_dir, id);
		ret = pp_write_file_atomic(image_path, json, strlen(json), IMAGE_FILE_MODE, err);
	}
	if (ret == 0)
		ret = image_repos_load(s, &repos, err);
	if (ret == 0) {
		json_object_object_add(repos, ref, json_object_new_string(id));
		ret = image_repos_save(s, repos, err);
		json_object_put(repos);
	}
	if (ret < 0) {
		struct pp_error *undo_err = NULL;
		if (image_path != NULL)
			unlink(image_path);
		pp_rm_rf(layer, &undo_err);
		pp_error_free(&undo_err);
		return -1;
	}
	*id_out = xstrdup(id);
	return 0;
}

int pp_image_import(struct pp_image_store *s, const char *src, const char *ref,
		    const struct pp_image_config *cfg, struct pp_image **out, struct pp_error **err)
{
	cleanup_free char *norm = pp_image_normalize_ref(ref);
	cleanup_free char *tmp = NULL;
	cleanup_free char *id = NULL;
	cleanup_close int lock = -1;
	if (norm == NULL) {
		/* parsed again for the message that says what is wrong */
		cleanup_image_ref struct pp_image_ref bad;
		(void)pp_image_ref_parse(ref, &bad, err);
		return -1;
	}
	if (strchr(norm, '@') != NULL)
		return pp_error_set(err, 0, "cannot import as a digest reference \"%s\"", ref);
	if (populate(s, src, &tmp, err) < 0)
		return pp_error_wrap(err, "import %s", src);
	if (image_store_lock(s, LOCK_EX, &lock, err) < 0 ||
	    commit_locked(s, tmp, norm, cfg, &id, err) < 0) {
		struct pp_error *rm_err = NULL;
		pp_rm_rf(tmp, &rm_err);
		pp_error_free(&rm_err);
		return pp_error_wrap(err, "import %s", src);
	}
	/* The image is in; a failed cleanup of the one it replaced is retried
	 * by the next collection, so it does not fail the import. */
	struct pp_error *gc_err = NULL;
	image_store_gc_locked(s, &gc_err);
	pp_error_free(&gc_err);
	if (out == NULL)
		return 0;
	if (image_json_load(s, id, out, err) < 0)
		return -1;
	(*out)->ref = steal_ptr(&norm);
	return 0;
}
