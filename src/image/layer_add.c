/* Adding one layer to the layered store (store.h): unpacked into a private
 * temporary directory, described by layer.json written last, then renamed to
 * its diff ID. A per-layer flock makes two adders of one diff ID unpack it
 * once; the ready unpackers (directory copy, tar file) live here too. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "image/store.h"
#include "image/tar_split.h"
#include "util/cleanup.h"
#include "util/copy_tree.h"
#include "util/fault.h"
#include "util/fs.h"

#define LAYER_ROOT_MODE 0755
#define LAYER_META_MAX 4096

int pp_layer_unpack_dir(void *ctx, int fd, int dst_dirfd, const char *dst,
			char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	(void)fd;
	(void)dst_dirfd;
	(void)diff_id;
	return pp_copy_tree(ctx, dst, err);
}

int pp_layer_unpack_tar_file(void *ctx, int fd, int dst_dirfd, const char *dst,
			     char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	(void)fd;
	(void)dst_dirfd;
	(void)diff_id;
	return image_extract_tar(ctx, dst, err);
}

char *pp_image_layer_split_path(const char *dst)
{
	const char *slash = strrchr(dst, '/');
	int dir_len = slash ? (int)(slash - dst) : 1;
	return xasprintf("%.*s/%s", dir_len, slash ? dst : ".", TAR_SPLIT_FILE);
}

/* A name for a layer nobody knows the diff ID of: random, so never shared. */
static int random_hex(char out[PP_SHA256_HEX_LEN + 1], struct pp_error **err)
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

int64_t image_layer_size(const struct pp_image_store *s, const char *hex)
{
	cleanup_free char *meta =
	    xasprintf("%s/%s/%s", s->digest_layers_dir, hex, IMAGE_LAYER_META);
	cleanup_free char *text = NULL;
	if (pp_read_file(meta, LAYER_META_MAX, &text, NULL, NULL) < 0)
		return -1;
	struct json_object *root = json_tokener_parse(text), *v;
	int64_t size = -1;
	if (root != NULL && json_object_object_get_ex(root, "complete", &v) &&
	    json_object_get_boolean(v) && json_object_object_get_ex(root, "size", &v))
		size = json_object_get_int64(v);
	json_object_put(root);
	return size;
}

static int write_meta(const char *tmp, const char *diff_id, const char *compressed, int64_t size,
		      struct pp_error **err)
{
	struct json_object *root = json_object_new_object();
	json_object_object_add(root, "diff_id", json_object_new_string(diff_id));
	if (compressed != NULL)
		json_object_object_add(root, "compressed_digest",
				       json_object_new_string(compressed));
	json_object_object_add(root, "size", json_object_new_int64(size));
	/* written last: the marker that everything before it is in */
	json_object_object_add(root, "complete", json_object_new_boolean(1));
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	cleanup_free char *path = xasprintf("%s/%s", tmp, IMAGE_LAYER_META);
	int ret = pp_write_file_atomic(path, text, strlen(text), IMAGE_FILE_MODE, err);
	json_object_put(root);
	return ret;
}

/* Unpacks into a new temporary directory; *tmp is its path (the caller
 * removes it on failure) and got the diff ID the unpacker computed. */
static int unpack_to_tmp(const struct pp_image_store *s, int fd, pp_layer_unpack_fn unpack,
			 void *ctx, char **tmp, char got[PP_DIGEST_STRING_MAX],
			 struct pp_error **err)
{
	*tmp = xasprintf("%s/%s%d-XXXXXX", s->digest_layers_dir, IMAGE_TMP_PREFIX, (int)getpid());
	if (mkdtemp(*tmp) == NULL) {
		free(steal_ptr(tmp));
		return pp_error_set(err, errno, "mkdtemp in %s", s->digest_layers_dir);
	}
	cleanup_free char *tree = xasprintf("%s/%s", *tmp, IMAGE_LAYER_TREE);
	/* An archive without a "./" entry leaves the root as created: 0755. */
	if (mkdir(tree, LAYER_ROOT_MODE) < 0 || chmod(tree, LAYER_ROOT_MODE) < 0)
		return pp_error_set(err, errno, "mkdir %s", tree);
	cleanup_close int dfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pp_error_set(err, errno, "open %s", tree);
	got[0] = '\0';
	return unpack(ctx, fd, dfd, tree, got, err);
}

static void remove_quietly(const char *path)
{
	struct pp_error *rm_err = NULL;
	pp_rm_rf(path, &rm_err);
	pp_error_free(&rm_err);
}

/* Fills slot index of the chain (each slot is written by one caller only:
 * no lock needed). */
static void set_layer(struct pp_image_add *a, size_t index, const char *hex, int64_t size)
{
	a->diff_ids[index] = xasprintf("sha256:%s", hex);
	a->layer_sizes[index] = size;
}

int64_t image_add_size(const struct pp_image_add *a)
{
	int64_t size = 0;
	for (size_t i = 0; i < a->n_layers; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(a->diff_ids[i], a->diff_ids[j]) == 0;
		if (!seen) /* a layer twice in the chain is counted once */
			size += a->layer_sizes[i];
	}
	return size;
}

size_t pp_image_add_reserve(struct pp_image_add *a, size_t n)
{
	size_t first = a->n_layers;
	a->diff_ids = xrealloc(a->diff_ids, (first + n + 1) * sizeof(char *));
	a->layer_sizes = xrealloc(a->layer_sizes, (first + n + 1) * sizeof(int64_t));
	for (size_t i = first; i <= first + n; i++) {
		a->diff_ids[i] = NULL;
		a->layer_sizes[i] = 0;
	}
	a->n_layers = first + n;
	return first;
}

/* Unpacks, checks, describes and renames the layer into place. Called with
 * the layer's lock held when its diff ID is known. */
static int add_new_layer(struct pp_image_add *a, size_t index, const char *hex, bool announced,
			 const char *compressed, int fd, pp_layer_unpack_fn unpack, void *ctx,
			 struct pp_error **err)
{
	const struct pp_image_store *s = a->store;
	cleanup_free char *tmp = NULL;
	char got[PP_DIGEST_STRING_MAX];
	cleanup_free char *diff_id = xasprintf("sha256:%s", hex);
	int ret = unpack_to_tmp(s, fd, unpack, ctx, &tmp, got, err);
	if (ret == 0 && announced && got[0] != '\0' && strcmp(got, diff_id) != 0)
		ret = pp_error_set(err, EBADMSG, "the layer's tar hashes to %s", got);
	cleanup_free char *tree = tmp ? xasprintf("%s/%s", tmp, IMAGE_LAYER_TREE) : NULL;
	int64_t size = tree ? image_tree_size(tree) : 0;
	if (ret == 0)
		ret = pp_fault("unpack layer", err);
	if (ret == 0)
		ret = write_meta(tmp, diff_id, compressed, size, err);
	if (ret == 0)
		ret = pp_fault("unpack layer meta", err);
	cleanup_free char *final = xasprintf("%s/%s", s->digest_layers_dir, hex);
	/* A directory under the name but without its marker (torn by a power
	 * loss) is no layer: replaced, under the layer's lock. */
	if (ret == 0 && access(final, F_OK) == 0)
		ret = pp_rm_rf(final, err);
	if (ret == 0 && rename(tmp, final) < 0)
		ret = pp_error_set(err, errno, "rename %s to %s", tmp, final);
	if (ret < 0) {
		if (tmp != NULL)
			remove_quietly(tmp);
		return -1;
	}
	set_layer(a, index, hex, size);
	return 0;
}

int pp_image_add_layer(struct pp_image_add *a, const char *diff_id, const char *compressed, int fd,
		       pp_layer_unpack_fn unpack, void *ctx, struct pp_error **err)
{
	return pp_image_add_layer_at(a, pp_image_add_reserve(a, 1), diff_id, compressed, fd, unpack,
				     ctx, err);
}

int pp_image_add_layer_at(struct pp_image_add *a, size_t index, const char *diff_id,
			  const char *compressed, int fd, pp_layer_unpack_fn unpack, void *ctx,
			  struct pp_error **err)
{
	const struct pp_image_store *s = a->store;
	char hex[PP_SHA256_HEX_LEN + 1];
	if (index >= a->n_layers || a->diff_ids[index] != NULL)
		return pp_error_set(err, EINVAL, "layer slot %zu: not reserved, or filled", index);
	if (diff_id == NULL) {
		if (random_hex(hex, err) < 0)
			return -1;
		return add_new_layer(a, index, hex, false, compressed, fd, unpack, ctx, err);
	}
	enum pp_digest_algo algo;
	const char *h;
	if (pp_digest_parse(diff_id, &algo, &h, err) < 0 || algo != PP_DIGEST_SHA256)
		return pp_error_set(err, EINVAL, "layer \"%s\": not a sha256 diff ID", diff_id);
	snprintf(hex, sizeof(hex), "%s", h);
	/* The second adder of a layer waits here for the first, then finds
	 * the layer complete and shares it. */
	cleanup_free char *lock_path =
	    xasprintf("%s/%s%s", s->digest_layers_dir, hex, IMAGE_LOCK_SUFFIX);
	cleanup_close int lock = -1;
	if (image_lock_file(lock_path, LOCK_EX, &lock, err) < 0)
		return -1;
	int64_t size = image_layer_size(s, hex);
	if (size >= 0) {
		set_layer(a, index, hex, size);
		return 0;
	}
	if (add_new_layer(a, index, hex, true, compressed, fd, unpack, ctx, err) < 0)
		return pp_error_wrap(err, "layer %s", diff_id);
	return 0;
}
