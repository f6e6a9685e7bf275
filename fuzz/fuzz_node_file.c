/* libFuzzer entry for a static pod file as the node process reads it
 * (src/node/static_file.c): any input must parse or fail with an error,
 * never crash, hang or leak; a parsed Pod is named NAME-<host>, its hash is
 * the same at a second read, and the text the node stores parses again to
 * the same pod name. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "node/node_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST "fuzz-host"
#define SEEN "2026-01-01T00:00:00.000000000Z"

static void check(const struct wanted *w, const struct wanted *again)
{
	size_t nl = strlen(w->name), hl = strlen("-" HOST);
	if (nl <= hl || strcmp(w->name + nl - hl, "-" HOST) != 0)
		abort();
	if (strcmp(w->hash, again->hash) != 0 || strlen(w->hash) != 32)
		abort();
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	if (pp_spec_parse_buffer("stored", w->text, w->len, &pod, &err) < 0 ||
	    strcmp(pod->name, w->name) != 0)
		abort();
	pp_pod_free(pod);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wanted *w = NULL, *again = NULL;
	size_t n = 0, n2 = 0;
	struct pp_error *err = NULL;
	if (node_file_parse("fuzz.yaml", (const char *)data, size, HOST, SEEN, &w, &n, &err) == 0) {
		if (node_file_parse("fuzz.yaml", (const char *)data, size, HOST, SEEN, &again, &n2,
				    &err) < 0 ||
		    n2 != n)
			abort();
		for (size_t i = 0; i < n; i++) {
			check(&w[i], &again[i]);
			node_wanted_free(&w[i]);
			node_wanted_free(&again[i]);
		}
		free(w);
		free(again);
	}
	pp_error_free(&err);
	return 0;
}
