/* What the store holds and what its images share (`peapod system df`):
 * every image's layers, each layer counted once in the totals however many
 * images use it, and the writable layers of the pods' containers. Read
 * under the shared store lock, so no removal runs meanwhile. */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "image/image_internal.h"
#include "util/cleanup.h"
#include "util/dir.h"

/* One distinct layer: its directory (the key), its size, its users. */
struct layer_use {
	char *dir;
	int64_t size;
	size_t n_images;
	bool active; /* an image of a running pod uses it */
};

struct layer_table {
	struct layer_use *v;
	size_t n;
};

static struct layer_use *layer_find(struct layer_table *t, const char *dir)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].dir, dir) == 0)
			return &t->v[i];
	return NULL;
}

/* The size of one layer directory of img: layer.json's for the layered
 * store, the record's for an image of before it (one layer each). */
static int64_t layer_size(const struct pp_image_store *s, const struct pp_image *img,
			  const char *dir)
{
	if (img->diff_ids == NULL)
		return img->size;
	/* .../layers/sha256/<hex>/diff */
	cleanup_free char *copy = xstrdup(dir);
	char *slash = strrchr(copy, '/');
	if (slash == NULL)
		return 0;
	*slash = '\0';
	slash = strrchr(copy, '/');
	int64_t size = image_layer_size(s, slash ? slash + 1 : copy);
	return size < 0 ? 0 : size;
}

static void count_layers(const struct pp_image_store *s, const struct pp_image *img, bool active,
			 struct layer_table *t)
{
	for (char **l = img->layers; l && *l; l++) {
		struct layer_use *u = layer_find(t, *l);
		if (u == NULL) {
			t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
			u = &t->v[t->n++];
			*u = (struct layer_use){.dir = xstrdup(*l), .size = layer_size(s, img, *l)};
		}
		u->n_images++;
		u->active = u->active || active;
	}
}

/* An image's share: its size, and what of it other images use too. */
static void image_entry(const struct layer_table *t, const struct pp_image *img,
			struct pp_image_usage_entry *e)
{
	for (char **l = img->layers; l && *l; l++) {
		for (size_t i = 0; i < t->n; i++) {
			if (strcmp(t->v[i].dir, *l) != 0)
				continue;
			e->size += t->v[i].size;
			if (t->v[i].n_images > 1)
				e->shared_size += t->v[i].size;
		}
	}
}

static void totals(const struct layer_table *t, struct pp_image_usage *u)
{
	u->n_layers = t->n;
	for (size_t i = 0; i < t->n; i++) {
		u->size += t->v[i].size;
		if (t->v[i].n_images > 1) {
			u->n_shared_layers++;
			u->shared_size += t->v[i].size;
		}
		if (!t->v[i].active)
			u->reclaimable += t->v[i].size;
	}
}

/* pods/<uid>/containers/<name>/upper: the writable layers. */
static void count_containers(const struct pp_image_store *s, struct pp_image_usage *u)
{
	cleanup_free char *pods = xasprintf("%s/%s", s->root, IMAGE_PODS_DIR);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	if (pp_dir_open(&d, pods, PP_DIR_MISSING_OK, NULL) < 0)
		return;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *dir = xasprintf("%s/%s/containers", pods, de->d_name);
		cleanup_dir struct pp_dir cd = PP_DIR_INIT;
		struct dirent *ce;
		if (pp_dir_open(&cd, dir, PP_DIR_MISSING_OK, NULL) < 0)
			continue;
		while (pp_dir_next(&cd, &ce, NULL) > 0) {
			if (ce->d_name[0] == '.')
				continue;
			cleanup_free char *upper = xasprintf("%s/%s/upper", dir, ce->d_name);
			u->n_containers++;
			u->containers_size += image_tree_size(upper);
		}
	}
}

static int compare_entries(const void *a, const void *b)
{
	const struct pp_image_usage_entry *x = a, *y = b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int usage_locked(struct pp_image_store *s, struct pp_image_usage *u, struct pp_error **err)
{
	cleanup_strv char **ids = NULL;
	size_t n = 0;
	struct json_object *repos = NULL;
	if (image_list_ids(s, &ids, &n, err) < 0 || image_repos_load(s, &repos, err) < 0)
		return -1;
	struct pp_image **imgs = xmalloc((n + 1) * sizeof(*imgs));
	struct layer_table t = {0};
	size_t loaded = 0;
	int ret = 0;
	u->images = xmalloc((n + 1) * sizeof(*u->images));
	for (size_t i = 0; i < n && ret == 0; i++) {
		ret = image_json_load(s, ids[i], &imgs[i], err);
		if (ret < 0)
			break;
		loaded++;
		struct pp_image_usage_entry *e = &u->images[u->n_images++];
		*e = (struct pp_image_usage_entry){.id = xstrdup(ids[i]),
						   .tags = image_tags_of(repos, ids[i]),
						   .created = imgs[i]->created,
						   .n_pods = image_pin_count(s, ids[i])};
		u->n_active += e->n_pods > 0;
		count_layers(s, imgs[i], e->n_pods > 0, &t);
	}
	for (size_t i = 0; i < loaded; i++)
		image_entry(&t, imgs[i], &u->images[i]);
	totals(&t, u);
	qsort(u->images, u->n_images, sizeof(*u->images), compare_entries);
	pp_image_list_free(imgs, loaded);
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i].dir);
	free(t.v);
	json_object_put(repos);
	return ret;
}

int pp_image_store_usage(struct pp_image_store *s, struct pp_image_usage *u, struct pp_error **err)
{
	cleanup_close int lock = -1;
	*u = (struct pp_image_usage){0};
	if (image_store_lock(s, LOCK_SH, &lock, err) < 0)
		return -1;
	if (usage_locked(s, u, err) < 0) {
		pp_image_usage_clear(u);
		return -1;
	}
	count_containers(s, u);
	return 0;
}

void pp_image_usage_clear(struct pp_image_usage *u)
{
	for (size_t i = 0; i < u->n_images; i++) {
		free(u->images[i].id);
		strv_free(u->images[i].tags);
	}
	free(u->images);
	*u = (struct pp_image_usage){0};
}
