/* A small, bounded YAML node tree built from libyaml events. The schema walk
 * (pod_parse.c) works on this tree so every node keeps its line and column. */
#ifndef PEAPOD_YAML_TREE_H
#define PEAPOD_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest/pod_spec.h"
#include "util/error.h"

/* Limits that keep hostile input cheap (billion laughs, deep nesting). */
#define PP_YAML_MAX_DEPTH 64
#define PP_YAML_MAX_NODES 100000
#define PP_YAML_MAX_INPUT (4u * 1024 * 1024)

enum pp_ynode_kind { PP_YSCALAR, PP_YMAP, PP_YSEQ };

struct pp_ynode {
	enum pp_ynode_kind kind;
	struct pp_pos pos;
	char *value; /* scalar text, NUL-terminated */
	bool plain;  /* plain style without a !!str tag: typed by YAML 1.1 rules */
	/* seq: items; map: key0, value0, key1, value1, ... (keys are scalars) */
	struct pp_ynode **child;
	size_t n;
};

/* Parses exactly one YAML document. *out is NULL for an empty stream.
 * Errors are "SOURCE:LINE:COL: message". */
int pp_yaml_parse(const char *source, const char *buf, size_t len, struct pp_ynode **out,
		  struct pp_error **err);

void pp_ynode_free(struct pp_ynode *n);

/* One document of a stream, and where its text is (byte offsets). */
struct pp_ydoc {
	struct pp_ynode *root;
	size_t start, end;
};

/* Every non-empty document of a stream ("---"-separated), in order. The node
 * budget counts for the whole stream. */
int pp_yaml_parse_docs(const char *source, const char *buf, size_t len, struct pp_ydoc **docs,
		       size_t *n, struct pp_error **err);
void pp_ydocs_free(struct pp_ydoc *docs, size_t n);

/* Number of key/value pairs of a map. */
static inline size_t pp_ymap_len(const struct pp_ynode *n)
{
	return n->n / 2;
}

/* The value for key in a map node, NULL when absent or n is not a map. */
const struct pp_ynode *pp_ymap_get(const struct pp_ynode *n, const char *key);

/* The key node for key in a map, NULL when absent. */
const struct pp_ynode *pp_ymap_key(const struct pp_ynode *n, const char *key);

/* yaml_json.c: a manifest's YAML tree as JSON (plain scalars typed as
 * YAML 1.1 reads them); NULL for NULL. */
struct json_object;
struct json_object *pp_ynode_to_json(const struct pp_ynode *n);

#endif
