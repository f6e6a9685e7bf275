/* Import of root filesystems (directories or tar archives) as an image, one
 * layer each, through the add API of the layered store (store.h). The slow
 * part (copy or extraction) runs outside the store lock; the config is made
 * here, as an OCI image config, so the image's id is its digest like a
 * pulled one's. An imported layer's diff ID is random (nobody hashed a tar
 * of a directory), so imported layers are never shared. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "image/image_internal.h"
#include "image/oci.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/image_reference.h"

#define TIME_FORMAT "%Y-%m-%dT%H:%M:%SZ"
#define TIME_BUF 64

static int add_source(struct pp_image_add *add, const char *src, struct pp_error **err)
{
	struct stat st;
	if (stat(src, &st) < 0)
		return pp_error_set(err, errno, "cannot read the source");
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return pp_error_set(err, 0, "%s: neither a directory nor an archive file", src);
	return pp_image_add_layer(
	    add, NULL, NULL, -1,
	    S_ISDIR(st.st_mode) ? pp_layer_unpack_dir : pp_layer_unpack_tar_file, (void *)src, err);
}

/* The OCI config of the import: this host's platform, cfg, the diff IDs. */
static int add_config(struct pp_image_add *add, const struct pp_image_config *cfg,
		      char digest[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	struct pp_oci_config oc = {0};
	struct pp_oci_platform host = {0};
	char when[TIME_BUF];
	struct tm tm;
	time_t now = time(NULL);
	strftime(when, sizeof(when), TIME_FORMAT, gmtime_r(&now, &tm));
	if (pp_oci_platform_host(&host, err) < 0)
		return -1;
	oc.os = host.os;
	oc.architecture = host.architecture;
	oc.variant = host.variant;
	oc.created = when;
	if (cfg != NULL)
		oc.config = *cfg;
	oc.diff_ids = add->diff_ids;
	oc.n_diff_ids = add->n_layers;
	cleanup_free char *json = pp_oci_config_to_json(&oc);
	pp_oci_platform_clear(&host);
	char hex[PP_SHA256_HEX_LEN + 1];
	if (pp_digest_hex(PP_DIGEST_SHA256, json, strlen(json), hex, err) < 0)
		return -1;
	snprintf(digest, PP_DIGEST_STRING_MAX, "sha256:%s", hex);
	return pp_image_add_blob(add, digest, json, strlen(json), err);
}

static int import_add(struct pp_image_store *s, const char *const *srcs, size_t n, const char *norm,
		      const struct pp_image_config *cfg, char **id, struct pp_error **err)
{
	struct pp_image_add *add = NULL;
	if (pp_image_add_begin(s, &add, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++)
		if (add_source(add, srcs[i], err) < 0)
			ret = pp_error_wrap(err, "import %s", srcs[i]);
	char digest[PP_DIGEST_STRING_MAX];
	const char *tags[] = {norm, NULL};
	struct pp_image_add_names names = {.tags = tags};
	if (ret == 0)
		ret = add_config(add, cfg, digest, err);
	if (ret == 0)
		ret = pp_image_add_commit(add, digest, cfg, &names, id, err);
	pp_image_add_free(add);
	return ret;
}

int pp_image_import_layers(struct pp_image_store *s, const char *const *srcs, size_t n,
			   const char *ref, const struct pp_image_config *cfg,
			   struct pp_image **out, struct pp_error **err)
{
	cleanup_free char *norm = pp_image_normalize_ref(ref);
	cleanup_free char *id = NULL;
	if (norm == NULL) {
		/* parsed again for the message that says what is wrong */
		cleanup_image_ref struct pp_image_ref bad;
		(void)pp_image_ref_parse(ref, &bad, err);
		return -1;
	}
	if (strchr(norm, '@') != NULL)
		return pp_error_set(err, 0, "cannot import as a digest reference \"%s\"", ref);
	if (n == 0 || n > PP_IMAGE_MAX_LAYERS)
		return pp_error_set(err, EINVAL, "an image has 1 to %d layers, not %zu",
				    PP_IMAGE_MAX_LAYERS, n);
	int ret = import_add(s, srcs, n, norm, cfg, &id, err);
	/* Whatever the outcome: what a failed import left (its layers), or the
	 * image the tag left, goes. A failed collection is retried by the next
	 * one, so it does not fail the import. */
	struct pp_error *gc_err = NULL;
	pp_image_store_gc(s, &gc_err);
	pp_error_free(&gc_err);
	if (ret < 0 || out == NULL)
		return ret;
	if (image_json_load(s, id, out, err) < 0)
		return -1;
	(*out)->ref = steal_ptr(&norm);
	return 0;
}

int pp_image_import(struct pp_image_store *s, const char *src, const char *ref,
		    const struct pp_image_config *cfg, struct pp_image **out, struct pp_error **err)
{
	const char *srcs[] = {src};
	return pp_image_import_layers(s, srcs, 1, ref, cfg, out, err);
}
