/* libFuzzer entry for a docker-archive's manifest.json and repositories
 * parsers (src/image/archive_manifest.c): what an archive holds (anything)
 * must never crash, hang or leak, and what is accepted only names members
 * inside the archive. Both parsers get every input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/archive.h"
#include "image/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void repositories(const uint8_t *data, size_t size)
{
	struct pp_docker_archive_repo *r = NULL;
	size_t n = 0;
	struct pp_error *err = NULL;
	if (pp_docker_archive_parse_repositories(data, size, &r, &n, &err) < 0) {
		if (err == NULL || err->msg == NULL)
			abort();
		pp_error_free(&err);
		return;
	}
	for (size_t i = 1; i < n; i++)
		if (strcmp(r[i - 1].name, r[i].name) > 0)
			abort();
	pp_docker_archive_repos_free(r, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	repositories(data, size);
	struct pp_docker_archive_manifest *m = NULL;
	struct pp_error *err = NULL;
	if (pp_docker_archive_parse_manifest(data, size, &m, &err) < 0) {
		if (err == NULL || err->msg == NULL)
			abort();
		pp_error_free(&err);
		return 0;
	}
	if (m->n_images == 0 || m->n_images > PP_ARCHIVE_IMAGES_MAX)
		abort();
	for (size_t i = 0; i < m->n_images; i++) {
		const struct pp_docker_archive_image *img = &m->images[i];
		if (!pp_archive_member_name_ok(img->config) || img->n_layers > PP_OCI_LAYERS_MAX)
			abort();
		for (size_t j = 0; j < img->n_layers; j++)
			if (!pp_archive_member_name_ok(img->layers[j]))
				abort();
		if (img->layers[img->n_layers] != NULL)
			abort();
	}
	pp_docker_archive_manifest_free(m);
	return 0;
}
