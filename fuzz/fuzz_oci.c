/* libFuzzer entry for the image documents' parsers (src/image/oci*.c): what a
 * registry or an archive hands over (anything) must never crash, hang or leak
 * in the manifest/index parser, the config parser, the platform choice and
 * check or the platform parser. What is accepted must also survive a round trip: its
 * serialization parses again and serializes to the same bytes.
 *
 * The first byte chooses the Content-Type the document comes with; the rest
 * is the document, given to both parsers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/oci.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const CONTENT_TYPES[] = {
    NULL,
    "application/json",
    PP_OCI_MT_INDEX,
    PP_OCI_MT_MANIFEST,
    PP_DOCKER_MT_LIST,
    PP_DOCKER_MT_MANIFEST "; charset=utf-8",
    PP_DOCKER_MT_SCHEMA1,
    "text/html",
};
#define N_CONTENT_TYPES (sizeof(CONTENT_TYPES) / sizeof(CONTENT_TYPES[0]))

static const char *const WANTS[] = {"linux/amd64", "linux/arm64", "linux/arm/v6", "linux/amd64/v3"};

static void select_all(const struct pp_oci_index *idx)
{
	for (size_t i = 0; i < sizeof(WANTS) / sizeof(WANTS[0]); i++) {
		struct pp_oci_platform want;
		if (pp_oci_platform_parse(WANTS[i], &want, NULL) < 0)
			abort();
		const struct pp_oci_descriptor *d;
		struct pp_error *err = NULL;
		if (pp_oci_index_select(idx, &want, &d, &err) == 0 && d == NULL)
			abort();
		pp_error_free(&err);
		pp_oci_platform_clear(&want);
	}
}

static char *document_json(const struct pp_oci_document *doc)
{
	return doc->index ? pp_oci_index_to_json(doc->index)
			  : pp_oci_manifest_to_json(doc->manifest);
}

/* Serialized, parsed again, serialized again: the same bytes. */
static void round_trip_document(const struct pp_oci_document *doc)
{
	cleanup_free char *once = document_json(doc);
	const char *mt = doc->index ? doc->index->media_type : doc->manifest->media_type;
	struct pp_oci_document *again = NULL;
	if (pp_oci_parse_manifest(once, strlen(once), mt, &again, NULL) < 0)
		abort();
	cleanup_free char *twice = document_json(again);
	if (strcmp(once, twice) != 0)
		abort();
	pp_oci_document_free(again);
}

static void round_trip_config(const struct pp_oci_config *c)
{
	cleanup_free char *once = pp_oci_config_to_json(c);
	struct pp_oci_config *again = NULL;
	if (pp_oci_parse_config(once, strlen(once), &again, NULL) < 0)
		abort();
	cleanup_free char *twice = pp_oci_config_to_json(again);
	if (strcmp(once, twice) != 0)
		abort();
	pp_oci_config_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *ct = CONTENT_TYPES[data[0] % N_CONTENT_TYPES];
	const uint8_t *doc = data + 1;
	size_t len = size - 1;

	struct pp_oci_document *d = NULL;
	struct pp_error *err = NULL;
	if (pp_oci_parse_manifest(doc, len, ct, &d, &err) == 0) {
		if (d->index != NULL)
			select_all(d->index);
		round_trip_document(d);
		pp_oci_document_free(d);
	}
	pp_error_free(&err);

	struct pp_oci_config *c = NULL;
	if (pp_oci_parse_config(doc, len, &c, &err) == 0) {
		struct pp_oci_platform want;
		if (pp_oci_platform_parse(WANTS[data[0] % (sizeof(WANTS) / sizeof(WANTS[0]))],
					  &want, NULL) < 0)
			abort();
		(void)pp_oci_config_check_platform(c, &want, &err);
		pp_error_free(&err);
		pp_oci_platform_clear(&want);
		round_trip_config(c);
		pp_oci_config_free(c);
	}
	pp_error_free(&err);

	/* the same bytes as a --platform value and as uname's machine */
	char *text = strndup((const char *)doc, len);
	if (text == NULL)
		abort();
	struct pp_oci_platform p;
	if (pp_oci_platform_parse(text, &p, &err) == 0)
		pp_oci_platform_clear(&p);
	pp_error_free(&err);
	if (pp_oci_platform_from_machine(text, &p, &err) == 0)
		pp_oci_platform_clear(&p);
	pp_error_free(&err);
	free(text);
	return 0;
}
