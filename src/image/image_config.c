/* The lifetime of struct pp_image_config (image.h): one place that frees
 * what it holds, shared by the store (image_store.c) and the image config
 * parser (oci.c), so that a field added to the struct is freed everywhere;
 * and the JSON members both the store's records and the OCI documents are
 * written with. */
#include <string.h>

#include "image/image_internal.h"
#include "util/cleanup.h"

void pp_image_config_clear(struct pp_image_config *cfg)
{
	strv_free(cfg->entrypoint);
	strv_free(cfg->cmd);
	strv_free(cfg->env);
	free(cfg->working_dir);
	free(cfg->user);
	free(cfg->stop_signal);
	strv_free(cfg->volumes);
	strv_free(cfg->exposed_ports);
	for (size_t i = 0; i < cfg->n_labels; i++) {
		free(cfg->labels[i].key);
		free(cfg->labels[i].value);
	}
	free(cfg->labels);
	memset(cfg, 0, sizeof(*cfg));
}

void image_json_put_strv(struct json_object *obj, const char *key, char *const *v)
{
	if (v == NULL)
		return;
	struct json_object *arr = json_object_new_array();
	for (; *v; v++)
		json_object_array_add(arr, json_object_new_string(*v));
	json_object_object_add(obj, key, arr);
}

void image_json_put_str(struct json_object *obj, const char *key, const char *v)
{
	if (v != NULL)
		json_object_object_add(obj, key, json_object_new_string(v));
}
