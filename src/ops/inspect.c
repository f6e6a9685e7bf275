/* A pod view's extras for the views of the whole pod: its manifest's
 * spec, labels and annotations (get -o json|yaml|wide, inspect), and for
 * inspect the CNI CHECK of its network and a sample of its usage. */
#include <stdlib.h>
#include <string.h>

#include "manifest/yaml_tree.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/fs.h"

void pp_pod_view_attach_spec(struct pp_pod_view *v)
{
	cleanup_free char *path = pp_state_file(v->uid, PP_STATE_MANIFEST);
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct pp_ynode *root = NULL;
	if (pp_read_file(path, PP_YAML_MAX_INPUT, &text, &len, NULL) < 0 ||
	    pp_yaml_parse(path, text, len, &root, NULL) < 0 || root == NULL)
		return;
	struct json_object *meta = NULL;
	const struct pp_ynode *m = pp_ymap_get(root, "metadata");
	if (json_object_object_get_ex(v->obj, "metadata", &meta)) {
		const char *keys[] = {"labels", "annotations", "ownerReferences"};
		for (size_t i = 0; i < 3; i++) {
			const struct pp_ynode *x = m ? pp_ymap_get(m, keys[i]) : NULL;
			if (x != NULL)
				json_object_object_add(meta, keys[i], pp_ynode_to_json(x));
		}
	}
	struct json_object *spec = pp_ynode_to_json(pp_ymap_get(root, "spec"));
	/* The ephemeral containers added since (peapod debug): in the status. */
	struct json_object *pp = NULL, *eph = NULL;
	if (spec != NULL && json_object_object_get_ex(v->obj, "peapod", &pp) &&
	    json_object_object_get_ex(pp, "ephemeralContainers", &eph))
		json_object_object_add(spec, "ephemeralContainers", json_object_get(eph));
	if (spec != NULL) {
		/* apiVersion, kind, metadata, spec, status: kubectl's order. */
		struct json_object *o = json_object_new_object();
		json_object_object_foreach(v->obj, key, val)
		{
			json_object_object_add(o, key, json_object_get(val));
			if (strcmp(key, "metadata") == 0)
				json_object_object_add(o, "spec", spec);
		}
		json_object_put(v->obj);
		v->obj = o;
	}
	pp_ynode_free(root);
}

/* peapod.networkCheck: the CNI CHECK of a running pod's network, "ok" or
 * what the plugins found wrong (absent without a network). */
static void add_network_check(struct pp_pod_view *v)
{
	cleanup_close int fd = v->alive ? pp_ctl_connect(v->uid, NULL) : -1;
	cleanup_free char *reply = NULL;
	cleanup_error struct pp_error *err = NULL;
	struct json_object *pp = NULL;
	if (fd < 0 || !json_object_object_get_ex(v->obj, "peapod", &pp))
		return;
	int r = pp_ctl_call(fd, "netcheck", &reply, NULL, NULL, &err);
	if (r == 0 && strcmp(reply, "none") == 0)
		return;
	json_object_object_add(pp, "networkCheck",
			       json_object_new_string(r == 0 ? "ok" : err->msg));
}

/* One sample of the pod's usage (no CPU rate: that takes two). */
static void add_usage(struct pp_pod_view *v)
{
	struct pp_pod_usage u;
	struct json_object *peapod = NULL;
	if (v->alive && !v->finished && json_object_object_get_ex(v->obj, "peapod", &peapod) &&
	    pp_pod_usage_begin(v->ns, v->name, &u, NULL) == 0) {
		json_object_object_add(peapod, "stats", pp_pod_usage_json(&u));
		pp_pod_usage_free(&u);
	}
}

int pp_pod_inspect(const char *ns, const char *name, struct pp_pod_view *v, struct pp_error **err)
{
	if (pp_pod_view_load(ns, name, v, err) < 0)
		return -1;
	pp_pod_view_attach_spec(v);
	add_network_check(v);
	add_usage(v);
	return 0;
}
