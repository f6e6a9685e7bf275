/* Adding an image to the layered store (store.h): the transaction, its
 * blobs and its commit. Each step is atomic on its own (temporary name then
 * rename); the order (blobs, layers, record, names) means a crash leaves at
 * worst things no tag reaches, which the collection removes. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/fs.h"

void image_strv_append(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

int pp_image_add_begin(struct pp_image_store *s, struct pp_image_add **out, struct pp_error **err)
{
	int lock = -1;
	if (image_lock_file(s->add_lock_path, LOCK_SH, &lock, err) < 0)
		return -1;
	/* what adds killed earlier left, so that they do not pile up between
	 * collections */
	image_remove_stale_tmp(s->digest_layers_dir);
	image_remove_stale_tmp(s->blobs_dir);
	struct pp_image_add *a = xmalloc(sizeof(*a));
	memset(a, 0, sizeof(*a));
	a->store = s;
	a->add_lock = lock;
	*out = a;
	return 0;
}

void pp_image_add_free(struct pp_image_add *a)
{
	if (a == NULL)
		return;
	if (a->add_lock >= 0)
		close(a->add_lock);
	for (size_t i = 0; i < a->n_layers; i++)
		free(a->diff_ids[i]);
	free(a->diff_ids);
	free(a->layer_sizes);
	strv_free(a->blobs);
	free(a);
}

/* The hex of a "sha256:<hex>" digest; other algorithms are not stored. */
static int sha256_hex(const char *digest, const char **hex, struct pp_error **err)
{
	enum pp_digest_algo algo;
	if (digest == NULL || pp_digest_parse(digest, &algo, hex, err) < 0 ||
	    algo != PP_DIGEST_SHA256)
		return pp_error_set(err, EINVAL, "\"%s\": not a sha256 digest",
				    digest ? digest : "(null)");
	return 0;
}

static int write_all(int fd, const void *data, size_t len, struct pp_error **err)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return pp_error_set(err, errno, "write");
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int pp_image_add_blob(struct pp_image_add *a, const char *digest, const void *data, size_t len,
		      struct pp_error **err)
{
	const struct pp_image_store *s = a->store;
	const char *hex;
	char got[PP_SHA256_HEX_LEN + 1];
	if (sha256_hex(digest, &hex, err) < 0 ||
	    pp_digest_hex(PP_DIGEST_SHA256, data, len, got, err) < 0)
		return pp_error_wrap(err, "blob");
	if (strcmp(got, hex) != 0)
		return pp_error_set(err, EBADMSG, "blob %s: its bytes hash to sha256:%s", digest,
				    got);
	cleanup_free char *path = xasprintf("%s/%s", s->blobs_dir, hex);
	if (access(path, F_OK) < 0) {
		cleanup_free char *tmp =
		    xasprintf("%s/%s%d-XXXXXX", s->blobs_dir, IMAGE_TMP_PREFIX, (int)getpid());
		cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return pp_error_set(err, errno, "create %s", tmp);
		int ret = write_all(fd, data, len, err);
		if (ret == 0 && (fchmod(fd, IMAGE_FILE_MODE) < 0 || rename(tmp, path) < 0))
			ret = pp_error_set(err, errno, "store %s", path);
		if (ret < 0) {
			unlink(tmp);
			return pp_error_wrap(err, "blob %s", digest);
		}
	}
	image_strv_append(&a->blobs, &a->n_blobs, digest);
	return 0;
}

/* Under the store lock: the record, then the names. The record alone
 * (killed before the names) is an untagged image: collected. */
static int commit_locked(struct pp_image_add *a, const char *hex, const char *json,
			 const struct pp_image_add_names *names, struct pp_error **err)
{
	const struct pp_image_store *s = a->store;
	cleanup_free char *path = xasprintf("%s/%s.json", s->images_dir, hex);
	if (pp_write_file_atomic(path, json, strlen(json), IMAGE_FILE_MODE, err) < 0)
		return -1;
	bool untagged = names == NULL || names->tags == NULL || names->tags[0] == NULL;
	if (untagged && names != NULL && names->dangling)
		return image_dangling_set(s, hex, true, err);
	if (untagged)
		return 0;
	struct json_object *repos = NULL;
	if (image_repos_load(s, &repos, err) < 0)
		return -1;
	for (const char *const *t = names->tags; *t; t++)
		json_object_object_add(repos, *t, json_object_new_string(hex));
	int ret = image_repos_save(s, repos, err);
	json_object_put(repos);
	return ret;
}

int pp_image_add_commit(struct pp_image_add *a, const char *config_digest,
			const struct pp_image_config *cfg, const struct pp_image_add_names *names,
			char **id_out, struct pp_error **err)
{
	const struct pp_image_store *s = a->store;
	const char *hex;
	if (sha256_hex(config_digest, &hex, err) < 0)
		return pp_error_wrap(err, "image config");
	if (a->n_layers == 0)
		return pp_error_set(err, EINVAL, "image %s: no layers", config_digest);
	for (size_t i = 0; i < a->n_layers; i++)
		if (a->diff_ids[i] == NULL)
			return pp_error_set(err, EINVAL, "image %s: layer %zu was not added",
					    config_digest, i);
	cleanup_free char *blob = xasprintf("%s/%s", s->blobs_dir, hex);
	if (access(blob, F_OK) < 0)
		return pp_error_set(err, errno, "image %s: its config blob is not stored",
				    config_digest);
	cleanup_free char *json =
	    image_json_build(cfg, a->diff_ids, names ? names->repo_digests : NULL, a->blobs,
			     image_add_size(a), time(NULL));
	cleanup_close int lock = -1;
	if (image_store_lock(s, LOCK_EX, &lock, err) < 0 ||
	    commit_locked(a, hex, json, names, err) < 0)
		return pp_error_wrap(err, "image %s", config_digest);
	if (id_out != NULL)
		*id_out = xstrdup(hex);
	return 0;
}
