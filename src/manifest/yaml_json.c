/* A manifest's YAML tree as JSON: what a pod's stored manifest looks like
 * to inspect, to apply's update rules and to the node process. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/yaml_tree.h"

struct json_object *pp_ynode_to_json(const struct pp_ynode *n)
{
	if (n == NULL)
		return NULL;
	if (n->kind == PP_YMAP) {
		struct json_object *o = json_object_new_object();
		for (size_t i = 0; i + 1 < n->n; i += 2)
			json_object_object_add(o, n->child[i]->value,
					       pp_ynode_to_json(n->child[i + 1]));
		return o;
	}
	if (n->kind == PP_YSEQ) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < n->n; i++)
			json_object_array_add(a, pp_ynode_to_json(n->child[i]));
		return a;
	}
	if (n->plain) {
		/* The YAML 1.1 types a plain scalar may have in a manifest. */
		char *end = NULL;
		long long v = strtoll(n->value, &end, 10);
		if (*n->value && *end == '\0')
			return json_object_new_int64(v);
		if (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0)
			return json_object_new_boolean(n->value[0] == 't');
		if (strcmp(n->value, "null") == 0 || strcmp(n->value, "~") == 0)
			return NULL;
	}
	return json_object_new_string(n->value);
}
