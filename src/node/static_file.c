/* A static pod file read: its documents as apply -f reads them, each Pod
 * made into the pod the node creates (NAME-<host>, kubelet's annotations,
 * the hash of the pod as written). Pure: no file is read here (the fuzz
 * target's entry, fuzz/fuzz_node_file.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "manifest/yaml_tree.h"
#include "node/node_internal.h"
#include "util/cleanup.h"
#include "util/digest.h"

/* kubelet's config.hash is 32 hex digits (an md5); ours is sha256's first 32 */
#define HASH_HEX_LEN 32

/* kubelet's rule: no dotfiles (editors' swap files, a config map's
 * ..data), only these extensions. */
bool node_manifest_name(const char *n)
{
	if (n[0] == '.')
		return false;
	const char *dot = strrchr(n, '.');
	return dot &&
	       (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0 || strcmp(dot, ".json") == 0);
}

static void set_annotation(struct json_object *ann, const char *k, const char *v)
{
	json_object_object_add(ann, k, json_object_new_string(v));
}

static struct json_object *child_object(struct json_object *o, const char *key)
{
	struct json_object *c = NULL;
	if (!json_object_object_get_ex(o, key, &c) || !json_object_is_type(c, json_type_object)) {
		c = json_object_new_object();
		json_object_object_add(o, key, c);
	}
	return c;
}

/* The pod of one document as the node creates it. */
static int wanted_pod(const char *file, const struct pp_manifest_item *it, const char *host,
		      const char *seen, struct wanted *w, struct pp_error **err)
{
	struct pp_ynode *root = NULL;
	if (pp_yaml_parse(file, it->text, it->text_len, &root, err) < 0)
		return -1;
	struct json_object *j = pp_ynode_to_json(root);
	pp_ynode_free(root);
	if (!json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return pp_error_set(err, 0, "%s:%d: not a Pod object", file, it->pos.line);
	}
	const char *as_written = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	char hex[PP_DIGEST_MAX_HEX + 1];
	if (pp_digest_hex(PP_DIGEST_SHA256, as_written, strlen(as_written), hex, err) < 0) {
		json_object_put(j);
		return -1;
	}
	hex[HASH_HEX_LEN] = '\0';
	struct json_object *meta = child_object(j, "metadata");
	cleanup_free char *name = xasprintf("%s-%s", it->pod->name, host);
	json_object_object_add(meta, "name", json_object_new_string(name));
	struct json_object *ann = child_object(meta, "annotations");
	set_annotation(ann, PP_ANN_CONFIG_SOURCE, "file");
	set_annotation(ann, PP_ANN_CONFIG_HASH, hex);
	set_annotation(ann, PP_ANN_CONFIG_SEEN, seen);
	set_annotation(ann, PP_ANN_CONFIG_FILE, file);
	w->text = xstrdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	w->len = strlen(w->text);
	json_object_put(j);
	if (pp_spec_parse_buffer(file, w->text, w->len, &w->pod, err) < 0) {
		free(w->text);
		return -1;
	}
	w->file = xstrdup(file);
	w->ns = xstrdup(w->pod->namespace_);
	w->name = xstrdup(w->pod->name);
	w->hash = xstrdup(hex);
	return 0;
}

void node_wanted_free(struct wanted *w)
{
	free(w->file);
	free(w->ns);
	free(w->name);
	free(w->hash);
	free(w->text);
	pp_pod_free(w->pod);
}

int node_file_parse(const char *file, const char *buf, size_t len, const char *host,
		    const char *seen, struct wanted **out, size_t *n_out, struct pp_error **err)
{
	struct pp_manifest_set set = {0};
	*out = NULL;
	*n_out = 0;
	if (pp_manifest_set_parse(file, buf, len, &set, err) < 0)
		return -1;
	struct wanted *w = xmalloc((set.n ? set.n : 1) * sizeof(*w));
	size_t n = 0;
	int r = 0;
	for (size_t i = 0; i < set.n && r == 0; i++) {
		const struct pp_manifest_item *it = &set.items[i];
		if (it->pod == NULL)
			r = pp_error_set(err, 0,
					 "%s:%d:%d: kind: only Pods are read from the manifest "
					 "directory (kubelet's static pods)",
					 file, it->pos.line, it->pos.col);
		else if ((r = wanted_pod(file, it, host, seen, &w[n], err)) == 0)
			n++;
	}
	pp_manifest_set_free(&set);
	if (r < 0) {
		while (n > 0)
			node_wanted_free(&w[--n]);
		free(w);
		return -1;
	}
	*out = w;
	*n_out = n;
	return 0;
}
