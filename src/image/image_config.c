/* The lifetime of struct pp_image_config (image.h): one place that frees
 * what it holds, shared by the store (image_store.c) and the image config
 * parser (oci.c), so that a field added to the struct is freed everywhere. */
#include <string.h>

#include "image/image.h"
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
