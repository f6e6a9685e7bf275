/* Serialization of manifests, indexes and image configs that peapod makes
 * itself (image save), see oci.h: compact JSON, fields in the order of the
 * image spec's definitions, maps sorted by key, so that one struct always
 * gives the same bytes and so the same digest. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "image/image_internal.h"
#include "image/oci.h"
#include "util/cleanup.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define SCHEMA_VERSION 2

struct pair {
	const char *key;
	const char *value;
};

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->key, ((const struct pair *)b)->key);
}

/* An object of strings, keys sorted; nothing when n is 0. */
static void put_pairs(struct json_object *o, const char *key, struct pair *p, size_t n)
{
	if (n == 0)
		return;
	qsort(p, n, sizeof(*p), cmp_pair);
	struct json_object *m = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_object_add(m, p[i].key, json_object_new_string(p[i].value));
	json_object_object_add(o, key, m);
}

static void put_kv(struct json_object *o, const char *key, const struct pp_oci_kv *kv, size_t n)
{
	cleanup_free struct pair *p = xmalloc(n * sizeof(*p) + 1);
	for (size_t i = 0; i < n; i++)
		p[i] = (struct pair){kv[i].key, kv[i].value};
	put_pairs(o, key, p, n);
}

/* {"KEY": {}, ...} keys sorted (Volumes, ExposedPorts). */
static void put_set(struct json_object *o, const char *key, char *const *v)
{
	if (v == NULL)
		return;
	size_t n = 0;
	while (v[n])
		n++;
	cleanup_free struct pair *p = xmalloc(n * sizeof(*p) + 1);
	for (size_t i = 0; i < n; i++)
		p[i].key = v[i];
	qsort(p, n, sizeof(*p), cmp_pair);
	struct json_object *m = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_object_add(m, p[i].key, json_object_new_object());
	json_object_object_add(o, key, m);
}

static struct json_object *platform_json(const struct pp_oci_platform *p)
{
	struct json_object *o = json_object_new_object();
	image_json_put_str(o, "architecture", p->architecture);
	image_json_put_str(o, "os", p->os);
	image_json_put_str(o, "os.version", p->os_version);
	image_json_put_strv(o, "os.features", p->os_features);
	image_json_put_str(o, "variant", p->variant);
	return o;
}

static struct json_object *descriptor_json(const struct pp_oci_descriptor *d)
{
	struct json_object *o = json_object_new_object();
	image_json_put_str(o, "mediaType", d->media_type);
	image_json_put_str(o, "digest", d->digest);
	json_object_object_add(o, "size", json_object_new_int64(d->size));
	image_json_put_strv(o, "urls", d->urls);
	put_kv(o, "annotations", d->annotations, d->n_annotations);
	if (d->platform != NULL)
		json_object_object_add(o, "platform", platform_json(d->platform));
	return o;
}

static char *finish(struct json_object *o)
{
	char *text = xstrdup(json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
	return text;
}

char *pp_oci_manifest_to_json(const struct pp_oci_manifest *m)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "schemaVersion", json_object_new_int(SCHEMA_VERSION));
	image_json_put_str(o, "mediaType", m->media_type);
	json_object_object_add(o, "config", descriptor_json(&m->config));
	struct json_object *layers = json_object_new_array();
	for (size_t i = 0; i < m->n_layers; i++)
		json_object_array_add(layers, descriptor_json(&m->layers[i].desc));
	json_object_object_add(o, "layers", layers);
	put_kv(o, "annotations", m->annotations, m->n_annotations);
	return finish(o);
}

char *pp_oci_index_to_json(const struct pp_oci_index *idx)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "schemaVersion", json_object_new_int(SCHEMA_VERSION));
	image_json_put_str(o, "mediaType", idx->media_type);
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < idx->n_manifests; i++)
		json_object_array_add(list, descriptor_json(&idx->manifests[i]));
	json_object_object_add(o, "manifests", list);
	put_kv(o, "annotations", idx->annotations, idx->n_annotations);
	return finish(o);
}

struct json_object *pp_oci_run_config_json(const struct pp_image_config *ic)
{
	struct json_object *o = json_object_new_object();
	image_json_put_str(o, "User", ic->user);
	put_set(o, "ExposedPorts", ic->exposed_ports);
	image_json_put_strv(o, "Env", ic->env);
	image_json_put_strv(o, "Entrypoint", ic->entrypoint);
	image_json_put_strv(o, "Cmd", ic->cmd);
	put_set(o, "Volumes", ic->volumes);
	image_json_put_str(o, "WorkingDir", ic->working_dir);
	cleanup_free struct pair *p = xmalloc(ic->n_labels * sizeof(*p) + 1);
	for (size_t i = 0; i < ic->n_labels; i++)
		p[i] = (struct pair){ic->labels[i].key, ic->labels[i].value};
	put_pairs(o, "Labels", p, ic->n_labels);
	image_json_put_str(o, "StopSignal", ic->stop_signal);
	return o;
}

static struct json_object *history_json(const struct pp_oci_history *h)
{
	struct json_object *o = json_object_new_object();
	image_json_put_str(o, "created", h->created);
	image_json_put_str(o, "created_by", h->created_by);
	image_json_put_str(o, "author", h->author);
	image_json_put_str(o, "comment", h->comment);
	if (h->empty_layer)
		json_object_object_add(o, "empty_layer", json_object_new_boolean(1));
	return o;
}

char *pp_oci_config_to_json(const struct pp_oci_config *c)
{
	struct json_object *o = json_object_new_object();
	image_json_put_str(o, "created", c->created);
	image_json_put_str(o, "architecture", c->architecture);
	image_json_put_str(o, "os", c->os);
	image_json_put_str(o, "os.version", c->os_version);
	image_json_put_str(o, "variant", c->variant);
	json_object_object_add(o, "config", pp_oci_run_config_json(&c->config));
	struct json_object *rootfs = json_object_new_object();
	image_json_put_str(rootfs, "type", "layers");
	char *none[] = {NULL};
	image_json_put_strv(rootfs, "diff_ids", c->diff_ids ? c->diff_ids : none);
	json_object_object_add(o, "rootfs", rootfs);
	if (c->history != NULL) {
		struct json_object *h = json_object_new_array();
		for (size_t i = 0; i < c->n_history; i++)
			json_object_array_add(h, history_json(&c->history[i]));
		json_object_object_add(o, "history", h);
	}
	return finish(o);
}
