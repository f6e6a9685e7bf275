/* Garbage collection of untagged images, unused layers and blobs, and
 * temporaries of dead processes; tree sizes. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "image/image_internal.h"
#include "image/store.h"
#include "util/digest.h"
#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fs.h"

struct strset {
	char **v;
	size_t n;
};

static void strset_add(struct strset *set, const char *s)
{
	set->v = xrealloc(set->v, (set->n + 2) * sizeof(char *));
	set->v[set->n++] = xstrdup(s);
	set->v[set->n] = NULL;
}

static bool strset_has(const struct strset *set, const char *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i], s) == 0)
			return true;
	return false;
}

/* Reads every <root>/pods/<uid>/images: the ids running pods use. With
 * owners, the pod uid of each id goes to owners (same index). */
static void load_pins(const struct pp_image_store *s, struct strset *ids, struct strset *owners)
{
	cleanup_free char *dir = xasprintf("%s/%s", s->root, IMAGE_PODS_DIR);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	/* no pins readable: none (a missing directory is the usual case) */
	if (pp_dir_open(&d, dir, PP_DIR_MISSING_OK, NULL) < 0)
		return;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *file = xasprintf("%s/%s/%s", dir, de->d_name, IMAGE_PIN_FILE);
		cleanup_free char *text = NULL;
		if (pp_read_file(file, 1 << 20, &text, NULL, NULL) < 0)
			continue;
		char *save = NULL;
		for (char *id = strtok_r(text, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
			strset_add(ids, id);
			if (owners)
				strset_add(owners, de->d_name);
		}
	}
}

bool image_is_pinned(const struct pp_image_store *s, const char *id, char **pod_uid)
{
	struct strset ids = {0}, owners = {0};
	load_pins(s, &ids, &owners);
	bool found = false;
	for (size_t i = 0; i < ids.n && !found; i++) {
		if (strcmp(ids.v[i], id) != 0)
			continue;
		found = true;
		if (pod_uid)
			*pod_uid = xstrdup(owners.v[i]);
	}
	strv_free(ids.v);
	strv_free(owners.v);
	return found;
}

size_t image_pin_count(const struct pp_image_store *s, const char *id)
{
	struct strset ids = {0};
	load_pins(s, &ids, NULL);
	size_t n = 0;
	for (size_t i = 0; i < ids.n; i++)
		n += strcmp(ids.v[i], id) == 0;
	strv_free(ids.v);
	return n;
}

/* What the images kept reference. */
struct live {
	struct strset legacy_layers; /* layers/<id> names */
	struct strset layers;	     /* layers/sha256/<hex> names */
	struct strset blobs;	     /* blobs/sha256/<hex> names */
};

static void add_hexes(struct strset *set, char *const *digests)
{
	for (; digests && *digests; digests++) {
		const char *colon = strchr(*digests, ':');
		strset_add(set, colon ? colon + 1 : *digests);
	}
}

static int collect_refs(const struct pp_image_store *s, const char *id, struct live *live,
			struct pp_error **err)
{
	cleanup_strv char **blobs = NULL;
	cleanup_strv char **diff_ids = NULL;
	if (image_json_refs(s, id, &blobs, &diff_ids, err) < 0)
		return -1;
	if (diff_ids != NULL) {
		add_hexes(&live->layers, diff_ids);
		add_hexes(&live->blobs, blobs);
		return 0;
	}
	struct pp_image *img = NULL;
	if (image_json_load(s, id, &img, err) < 0)
		return -1;
	for (char **l = img->layers; l && *l; l++)
		strset_add(&live->legacy_layers, strrchr(*l, '/') + 1);
	pp_image_free(img);
	return 0;
}

/* "<file>.tmp.<pid>" of pp_write_file_atomic, or ".tmp-<pid>-XXXXXX". */
bool image_tmp_is_stale(const char *name)
{
	const char *p = NULL;
	if (strncmp(name, IMAGE_TMP_PREFIX, strlen(IMAGE_TMP_PREFIX)) == 0)
		p = name + strlen(IMAGE_TMP_PREFIX);
	else if (strstr(name, IMAGE_ATOMIC_TMP_INFIX) != NULL)
		p = strstr(name, IMAGE_ATOMIC_TMP_INFIX) + strlen(IMAGE_ATOMIC_TMP_INFIX);
	if (p == NULL)
		return false;
	long pid = strtol(p, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Deletes images no tag points at and no pod pins, and temporaries of
 * dead writers; collects what the others reference. */
static int sweep_images(const struct pp_image_store *s, struct live *live, struct pp_error **err)
{
	struct json_object *repos = NULL;
	struct strset tagged = {0};
	if (image_repos_load(s, &repos, err) < 0)
		return -1;
	load_pins(s, &tagged, NULL);
	cleanup_strv char **dangling = NULL;
	if (image_dangling_load(s, &dangling, err) < 0) {
		json_object_put(repos);
		strv_free(tagged.v);
		return -1;
	}
	for (char **d = dangling; d && *d; d++)
		strset_add(&tagged, *d);
	json_object_object_foreach(repos, key, val)
	{
		(void)key;
		strset_add(&tagged, json_object_get_string(val));
	}
	json_object_put(repos);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	int ret = pp_dir_open(&d, s->images_dir, 0, err), more = 0;
	struct dirent *de;
	while (ret == 0 && (more = pp_dir_next(&d, &de, err)) > 0) {
		char *dot = strrchr(de->d_name, '.');
		bool stale = image_tmp_is_stale(de->d_name);
		if (!stale && (dot == NULL || strcmp(dot, ".json") != 0 || dot == de->d_name))
			continue;
		cleanup_free char *id = strndup(de->d_name, (size_t)(dot - de->d_name));
		if (stale || !strset_has(&tagged, id)) {
			if (unlinkat(pp_dir_fd(&d), de->d_name, 0) < 0 && errno != ENOENT)
				ret = pp_error_set(err, errno, "remove %s/%s", s->images_dir,
						   de->d_name);
			continue;
		}
		ret = collect_refs(s, id, live, err);
	}
	strv_free(tagged.v);
	return ret < 0 || more < 0 ? -1 : 0;
}

/* The legacy layers/<id> directories (and the "sha256" of the new layout). */
static int sweep_legacy_layers(const struct pp_image_store *s, const struct strset *live,
			       struct pp_error **err)
{
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, s->layers_dir, 0, err) < 0)
		return -1;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		const char *name = de->d_name;
		bool tmp = strncmp(name, IMAGE_TMP_PREFIX, strlen(IMAGE_TMP_PREFIX)) == 0;
		if (strcmp(name, "sha256") == 0 ||
		    (tmp ? !image_tmp_is_stale(name) : strset_has(live, name)))
			continue;
		cleanup_free char *path = xasprintf("%s/%s", s->layers_dir, name);
		if (pp_rm_rf(path, err) < 0)
			return -1;
	}
	return r;
}

/* layers/sha256 or blobs/sha256: removes entries no image keeps, stale
 * temporaries and (no add running, so nobody holds or waits on one) the
 * per-layer lock files. */
static int sweep_digest_dir(const char *dir, const struct strset *live, struct pp_error **err)
{
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, dir, 0, err) < 0)
		return -1;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		const char *name = de->d_name;
		bool tmp = strncmp(name, IMAGE_TMP_PREFIX, strlen(IMAGE_TMP_PREFIX)) == 0;
		if (tmp ? !image_tmp_is_stale(name) : strset_has(live, name))
			continue;
		cleanup_free char *path = xasprintf("%s/%s", dir, name);
		if (pp_rm_rf(path, err) < 0)
			return -1;
	}
	return r;
}

void image_remove_stale_tmp(const char *dir)
{
	/* best effort: what stays is retried by the collection */
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	if (pp_dir_open(&d, dir, PP_DIR_MISSING_OK, NULL) < 0)
		return;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (strncmp(de->d_name, IMAGE_TMP_PREFIX, strlen(IMAGE_TMP_PREFIX)) != 0 ||
		    !image_tmp_is_stale(de->d_name))
			continue;
		cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
		struct pp_error *rm_err = NULL;
		pp_rm_rf(path, &rm_err);
		pp_error_free(&rm_err);
	}
}

/* Layers and blobs, unless an add runs: a layer it just stored is in no
 * record yet. Then the next collection does it. */
static int sweep_content(const struct pp_image_store *s, const struct live *live,
			 struct pp_error **err)
{
	cleanup_close int lock =
	    open(s->add_lock_path, O_RDWR | O_CREAT | O_CLOEXEC, IMAGE_FILE_MODE);
	if (lock < 0)
		return pp_error_set(err, errno, "open %s", s->add_lock_path);
	if (flock(lock, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 0
					    : pp_error_set(err, errno, "lock %s", s->add_lock_path);
	if (sweep_legacy_layers(s, &live->legacy_layers, err) < 0 ||
	    sweep_digest_dir(s->digest_layers_dir, &live->layers, err) < 0 ||
	    sweep_digest_dir(s->blobs_dir, &live->blobs, err) < 0)
		return -1;
	return 0;
}

int image_store_gc_locked(const struct pp_image_store *s, struct pp_error **err)
{
	struct live live = {0};
	int ret = sweep_images(s, &live, err);
	/* A broken image file means we cannot know which layers are in use. */
	if (ret == 0)
		ret = sweep_content(s, &live, err);
	strv_free(live.legacy_layers.v);
	strv_free(live.layers.v);
	strv_free(live.blobs.v);
	return ret;
}

static int64_t tree_size_at(int dfd)
{
	/* a size, not a check: what cannot be read counts as nothing */
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open_fd(&d, dfd, "", NULL) < 0)
		return 0;
	int64_t total = 0;
	struct dirent *de;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		struct stat st;
		if (fstatat(pp_dir_fd(&d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(pp_dir_fd(&d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				total += tree_size_at(sub);
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			/* Each link of a hardlinked file carries its share. */
			total += st.st_size / (st.st_nlink ? (int64_t)st.st_nlink : 1);
		}
	}
	return total;
}

int64_t image_tree_size(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? 0 : tree_size_at(fd);
}
