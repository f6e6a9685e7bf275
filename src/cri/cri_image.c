/* ImageService on the image store (src/image) and the pull (src/pull):
 * ListImages, ImageStatus, PullImage, RemoveImage, ImageFsInfo. Images are
 * shown as containerd's CRI shows them: id "sha256:<hex>", repo tags and
 * digests in full ("docker.io/library/busybox:1.36"). */
#include <errno.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cri/cri_internal.h"
#include "image/store.h"
#include "pull/pull.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/image_reference.h"

#define SHA256_PREFIX "sha256:"
/* Open descriptors nftw may use for the ImageFsInfo walk. */
#define FS_WALK_FDS 32

/* "busybox:1.36" -> "docker.io/library/busybox:1.36" (the same string
 * when it does not parse). */
static char *full_ref(const char *ref)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_ref r;
	if (pp_image_ref_parse(ref, &r, &err) < 0)
		return xstrdup(ref);
	char *s = pp_image_ref_string(&r);
	pp_image_ref_free(&r);
	return s;
}

/* refs in full; with no_digests, those naming a digest left out (a pull
 * by digest keys the store with "name@sha256:...", which containerd shows
 * as a repo digest only, never a tag). */
static char **full_refs(char **refs, bool no_digests, size_t *n)
{
	size_t max = 0;
	for (char **p = refs; p && *p; p++)
		max++;
	char **out = xmalloc((max + 1) * sizeof(*out));
	*n = 0;
	for (size_t k = 0; k < max; k++)
		if (!no_digests || strchr(refs[k], '@') == NULL)
			out[(*n)++] = full_ref(refs[k]);
	out[*n] = NULL;
	return out;
}

/* The image a CRI ImageSpec names: a tag, an id ("sha256:<hex>" or a
 * prefix) or a repo digest ("name@sha256:..."). 0 and *out NULL when the
 * store has none. */
int cri_find_image(struct pp_image_store *store, const char *ref, struct pp_image **out,
		   struct pp_error **err)
{
	*out = NULL;
	cleanup_error struct pp_error *get_err = NULL;
	if (pp_image_get(store, ref, out, &get_err) == 0)
		return 0;
	/* The store says "not found" without an errno (its message is the
	 * CLI's); an invalid reference is not found either. */
	if (get_err && get_err->status != 0 && get_err->status != ENOENT &&
	    get_err->status != EINVAL)
		return pp_error_set(err, get_err->status, "%s", get_err->msg);
	if (strchr(ref, '@') == NULL)
		return 0;
	struct pp_image **imgs = NULL;
	size_t n = 0;
	if (pp_image_list(store, &imgs, &n, err) < 0)
		return -1;
	cleanup_free char *want = full_ref(ref);
	for (size_t k = 0; k < n && *out == NULL; k++)
		for (char **d = imgs[k]->repo_digests; d && *d && *out == NULL; d++) {
			cleanup_free char *have = full_ref(*d);
			if (strcmp(have, want) == 0 && imgs[k]->ref)
				(void)pp_image_get(store, imgs[k]->ref, out, err);
		}
	pp_image_list_free(imgs, n);
	return 0;
}

/* An Image message for img (free with image_msg_free). */
static Runtime__V1__Image *image_msg(const struct pp_image *img)
{
	Runtime__V1__Image *m = xmalloc(sizeof(*m));
	runtime__v1__image__init(m);
	m->id = xasprintf(SHA256_PREFIX "%s", img->id);
	m->repo_tags = full_refs(img->tags, true, &m->n_repo_tags);
	m->repo_digests = full_refs(img->repo_digests, false, &m->n_repo_digests);
	m->size = img->size > 0 ? (uint64_t)img->size : 1; /* the API says > 0 */
	/* The image's user: a uid ("1000" or "1000:1000") or a name. */
	const char *user = img->config.user;
	if (user && *user) {
		char *end;
		long long uid = strtoll(user, &end, 10);
		if (end != user && (*end == '\0' || *end == ':')) {
			m->uid = xmalloc(sizeof(*m->uid));
			runtime__v1__int64_value__init(m->uid);
			m->uid->value = uid;
		} else {
			m->username = xstrdup(user);
			m->username[strcspn(m->username, ":")] = '\0';
		}
	}
	return m;
}

static void image_msg_free(Runtime__V1__Image *m)
{
	if (m == NULL)
		return;
	free(m->id);
	for (size_t k = 0; k < m->n_repo_tags; k++)
		free(m->repo_tags[k]);
	free(m->repo_tags);
	for (size_t k = 0; k < m->n_repo_digests; k++)
		free(m->repo_digests[k]);
	free(m->repo_digests);
	free(m->uid);
	if (m->username != protobuf_c_empty_string)
		free(m->username);
	free(m);
}

static const char *spec_image(const Runtime__V1__ImageSpec *spec)
{
	return spec && spec->image ? spec->image : "";
}

void cri_list_images(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__ListImagesRequest *req = cri_unpack(
	    &runtime__v1__list_images_request__descriptor, msg, len, "ListImages", reply);
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	struct pp_image **imgs = NULL;
	size_t n = 0;
	const char *filter = req->filter ? spec_image(req->filter->image) : "";
	struct pp_image *one = NULL;
	int r;
	if (*filter) {
		r = cri_find_image(svc->store, filter, &one, &err);
		if (r == 0 && one) {
			imgs = xmalloc(sizeof(*imgs));
			imgs[0] = one;
			n = 1;
		}
	} else {
		r = pp_image_list(svc->store, &imgs, &n, &err);
	}
	if (r < 0) {
		cri_reply_error(reply, "ListImages", err);
		runtime__v1__list_images_request__free_unpacked(req, NULL);
		return;
	}
	/* pp_image_list has an entry per tag: one per image here. */
	Runtime__V1__Image **out = xmalloc((n ? n : 1) * sizeof(*out));
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		bool seen = false;
		for (size_t j = 0; j < k && !seen; j++)
			seen = strcmp(imgs[j]->id, imgs[k]->id) == 0;
		if (!seen)
			out[m++] = image_msg(imgs[k]);
	}
	Runtime__V1__ListImagesResponse resp = RUNTIME__V1__LIST_IMAGES_RESPONSE__INIT;
	resp.n_images = m;
	resp.images = out;
	cri_reply_message(reply, &resp.base);
	for (size_t k = 0; k < m; k++)
		image_msg_free(out[k]);
	free(out);
	pp_image_list_free(imgs, n);
	runtime__v1__list_images_request__free_unpacked(req, NULL);
}

/* ImageStatusResponse.info["info"] (verbose), as containerd's: the id,
 * the tags and the image's config (its OCI config blob). */
static char *image_info(struct pp_image_store *store, const struct pp_image *img)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(img->id));
	struct json_object *tags = json_object_new_array();
	for (char **t = img->tags; t && *t; t++)
		json_object_array_add(tags, json_object_new_string(*t));
	json_object_object_add(o, "tags", tags);
	cleanup_free char *blob =
	    xasprintf("%s/blobs/sha256/%s", pp_image_store_root(store), img->id);
	struct json_object *cfg = json_object_from_file(blob);
	if (cfg)
		json_object_object_add(o, "imageSpec", cfg);
	char *text = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

void cri_image_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__ImageStatusRequest *req = cri_unpack(
	    &runtime__v1__image_status_request__descriptor, msg, len, "ImageStatus", reply);
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	struct pp_image *img = NULL;
	const char *ref = spec_image(req->image);
	if (*ref == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "ImageStatus: no image given");
	} else if (cri_find_image(svc->store, ref, &img, &err) < 0) {
		cri_reply_error(reply, "ImageStatus", err);
	} else {
		/* An image the store does not have: no image, and no error
		 * (kubelet asks before it pulls). */
		Runtime__V1__ImageStatusResponse resp = RUNTIME__V1__IMAGE_STATUS_RESPONSE__INIT;
		Runtime__V1__ImageStatusResponse__InfoEntry entry =
		    RUNTIME__V1__IMAGE_STATUS_RESPONSE__INFO_ENTRY__INIT;
		Runtime__V1__ImageStatusResponse__InfoEntry *entries[] = {&entry};
		cleanup_free char *info = NULL;
		resp.image = img ? image_msg(img) : NULL;
		if (img && req->verbose) {
			info = image_info(svc->store, img);
			entry.key = (char *)"info";
			entry.value = info;
			resp.n_info = 1;
			resp.info = entries;
		}
		cri_reply_message(reply, &resp.base);
		image_msg_free(resp.image);
	}
	pp_image_free(img);
	runtime__v1__image_status_request__free_unpacked(req, NULL);
}

/* The credentials of a PullImageRequest: username and password, or auth
 * (base64 of "user:password", as in a docker config). Tokens are refused:
 * the pull speaks the registry's token flow itself from credentials. */
static int pull_credentials(const Runtime__V1__AuthConfig *a, char **user, char **password,
			    struct pp_grpc_reply *reply)
{
	*user = *password = NULL;
	if (a == NULL)
		return 0;
	if (a->identity_token && *a->identity_token)
		return pp_grpc_reply_error(
		    reply, PP_GRPC_INVALID_ARGUMENT,
		    "PullImage: auth.identity_token (an OAuth2 refresh token) is not supported by "
		    "peapod: give username and password, or auth");
	if (a->registry_token && *a->registry_token)
		return pp_grpc_reply_error(
		    reply, PP_GRPC_INVALID_ARGUMENT,
		    "PullImage: auth.registry_token (a bearer token) is not supported by peapod: "
		    "give username and password, or auth");
	if (a->auth && *a->auth) {
		cleanup_error struct pp_error *err = NULL;
		unsigned char *raw = NULL;
		size_t n = 0;
		if (pp_base64_decode(a->auth, &raw, &n, &err) < 0)
			return pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
						   "PullImage: auth.auth is not base64: %s",
						   err ? err->msg : "");
		char *text = xmalloc(n + 1);
		memcpy(text, raw, n);
		text[n] = '\0';
		free(raw);
		char *colon = strchr(text, ':');
		if (colon == NULL || strlen(text) != n) {
			free(text);
			return pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
						   "PullImage: auth.auth is not base64 of "
						   "\"user:password\"");
		}
		*colon = '\0';
		*user = text;
		*password = xstrdup(colon + 1);
		return 0;
	}
	if (a->username && *a->username) {
		*user = xstrdup(a->username);
		*password = xstrdup(a->password ? a->password : "");
	}
	return 0;
}

/* The pull itself, its answer in reply. */
static void pull_now(struct pp_cri_service *svc, const char *ref, const char *user,
		     const char *password, struct pp_grpc_reply *reply)
{
	cleanup_free char *id = NULL;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pull_options opts = {.username = user, .password = password};
	if (pp_pull_image(svc->store, ref, &opts, &id, &err) < 0) {
		cri_reply_error(reply, "PullImage", err);
		return;
	}
	Runtime__V1__PullImageResponse resp = RUNTIME__V1__PULL_IMAGE_RESPONSE__INIT;
	cleanup_free char *image_ref = xasprintf(SHA256_PREFIX "%s", id);
	resp.image_ref = image_ref;
	cri_reply_message(reply, &resp.base);
}

struct pull_job {
	char *ref;
	char *user;
	char *password;
};

/* In the job's child. */
static int pull_child(struct pp_cri_service *svc, void *arg, int fd)
{
	struct pull_job *job = arg;
	struct pp_grpc_reply reply = {.code = PP_GRPC_OK};
	pull_now(svc, job->ref, job->user, job->password, &reply);
	return cri_job_write_reply(fd, &reply);
}

static void pull_done(struct pp_cri_service *svc, struct pp_grpc_call *call, const char *out,
		      size_t len, int wstatus)
{
	if (WIFSIGNALED(wstatus)) {
		/* What the killed pull had stored is collected now. */
		struct pp_error *err = NULL;
		pp_image_store_gc(svc->store, &err);
		pp_error_free(&err);
	}
	cri_job_finish_reply(call, out, len, wstatus, "PullImage");
}

/* PullImage: the pull runs in a child of the server (cri_job_start), so
 * that every other request is answered meanwhile (kubelet lists its
 * sandboxes every second); the answer comes when the child ends. */
void cri_pull_image(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__PullImageRequest *req =
	    cri_unpack(&runtime__v1__pull_image_request__descriptor, msg, len, "PullImage", reply);
	if (req == NULL)
		return;
	struct pull_job job = {0};
	const char *ref = spec_image(req->image);
	cleanup_error struct pp_error *ref_err = NULL;
	struct pp_image_ref parsed;
	bool ref_ok = *ref && pp_image_ref_parse(ref, &parsed, &ref_err) == 0;
	if (ref_ok)
		pp_image_ref_free(&parsed);
	if (*ref == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "PullImage: no image given");
	} else if (!ref_ok) {
		/* the caller's mistake, said before any process starts */
		char buf[512];
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "PullImage: %s",
				    pp_error_text(ref_err, buf, sizeof(buf)));
	} else if (pull_credentials(req->auth, &job.user, &job.password, reply) == PP_GRPC_OK) {
		cleanup_error struct pp_error *err = NULL;
		job.ref = (char *)ref;
		struct pp_grpc_call *call = pp_grpc_reply_defer(reply);
		if (cri_job_start(svc, call, pull_child, &job, pull_done, &err) < 0) {
			char buf[512];
			pp_grpc_reply_error(reply, PP_GRPC_INTERNAL,
					    "PullImage: cannot start the pull's process: %s",
					    pp_error_text(err, buf, sizeof(buf)));
		}
	}
	free(job.user);
	free(job.password);
	runtime__v1__pull_image_request__free_unpacked(req, NULL);
}

void cri_remove_image(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__RemoveImageRequest *req = cri_unpack(
	    &runtime__v1__remove_image_request__descriptor, msg, len, "RemoveImage", reply);
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	struct pp_image *img = NULL;
	const char *ref = spec_image(req->image);
	if (*ref == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "RemoveImage: no image given");
	} else if (cri_find_image(svc->store, ref, &img, &err) < 0) {
		cri_reply_error(reply, "RemoveImage", err);
	} else if (img && pp_image_remove(svc->store, img->id, &err) < 0 &&
		   !(err && err->status == ENOENT)) {
		/* By id: the image goes with all its tags, as containerd's. */
		cri_reply_error(reply, "RemoveImage", err);
	} else {
		/* Gone, or never there: success, as critest expects. */
		Runtime__V1__RemoveImageResponse resp = RUNTIME__V1__REMOVE_IMAGE_RESPONSE__INIT;
		cri_reply_message(reply, &resp.base);
	}
	pp_image_free(img);
	runtime__v1__remove_image_request__free_unpacked(req, NULL);
}

/* nftw has no context argument; the server is single-threaded. */
static uint64_t walk_bytes, walk_inodes;

static int count_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	walk_inodes++;
	walk_bytes += (uint64_t)sb->st_blocks * 512;
	return 0;
}

void cri_image_fs_info(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__ImageFsInfoRequest *req = cri_unpack(
	    &runtime__v1__image_fs_info_request__descriptor, msg, len, "ImageFsInfo", reply);
	if (req == NULL)
		return;
	const char *root = pp_image_store_root(svc->store);
	walk_bytes = walk_inodes = 0;
	/* The store's own files, on its filesystem only (not into a
	 * container's mounts). */
	if (nftw(root, count_entry, FS_WALK_FDS, FTW_PHYS | FTW_MOUNT) < 0) {
		pp_grpc_reply_error(reply, PP_GRPC_UNKNOWN, "ImageFsInfo: cannot walk %s: %s", root,
				    strerror(errno));
		runtime__v1__image_fs_info_request__free_unpacked(req, NULL);
		return;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	Runtime__V1__FilesystemIdentifier id = RUNTIME__V1__FILESYSTEM_IDENTIFIER__INIT;
	id.mountpoint = (char *)root;
	Runtime__V1__UInt64Value used = RUNTIME__V1__UINT64_VALUE__INIT;
	used.value = walk_bytes;
	Runtime__V1__UInt64Value inodes = RUNTIME__V1__UINT64_VALUE__INIT;
	inodes.value = walk_inodes;
	Runtime__V1__FilesystemUsage usage = RUNTIME__V1__FILESYSTEM_USAGE__INIT;
	usage.timestamp = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	usage.fs_id = &id;
	usage.used_bytes = &used;
	usage.inodes_used = &inodes;
	Runtime__V1__FilesystemUsage *list[] = {&usage};
	Runtime__V1__ImageFsInfoResponse resp = RUNTIME__V1__IMAGE_FS_INFO_RESPONSE__INIT;
	resp.n_image_filesystems = 1;
	resp.image_filesystems = list;
	cri_reply_message(reply, &resp.base);
	runtime__v1__image_fs_info_request__free_unpacked(req, NULL);
}
