/* libFuzzer entry for what a registry (or whatever answers on its address)
 * sends the registry client besides manifests and blobs: the token server's
 * JSON, the errors body of a failed request, Retry-After and Content-Range
 * headers, and the Location of a redirect (whose origin decides whether
 * credentials follow). Each input goes to every parser; none may crash,
 * hang or leak, and what they accept must hold together. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"
#include "registry/response.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_token(const char *s, size_t len)
{
	char *token;
	int64_t ttl;
	struct pp_error *err = NULL;
	if (pp_registry_token_parse(s, len, &token, &ttl, &err) < 0) {
		if (err == NULL || token != NULL)
			abort();
		pp_error_free(&err);
		return;
	}
	/* it goes into a header: visible ASCII, bounded */
	size_t n = strlen(token);
	if (n == 0 || n > PP_REGISTRY_SECRET_MAX || ttl < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (token[i] <= ' ' || token[i] >= 0x7f)
			abort();
	free(token);
}

static void fuzz_errors(const char *s, size_t len)
{
	char *text = pp_registry_errors_text(s, len);
	if (text == NULL)
		return;
	/* one line, bounded */
	size_t n = strlen(text);
	if (n == 0 || n > PP_REGISTRY_ERRORS_QUOTED * (2 * PP_REGISTRY_ERROR_FIELD_MAX + 8))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < ' ')
			abort();
	free(text);
}

static void fuzz_headers(const char *s)
{
	int64_t v;
	if (pp_registry_retry_after(s, &v) == 0 && (v < 0 || v > PP_REGISTRY_RETRY_AFTER_MAX))
		abort();
	if (pp_registry_content_range_start(s, &v) == 0 && v < 0)
		abort();
	char origin[PP_REGISTRY_ORIGIN_MAX], again[PP_REGISTRY_ORIGIN_MAX];
	if (pp_registry_url_origin(s, origin) == 0) {
		/* an origin is its own origin */
		if (pp_registry_url_origin(origin, again) < 0 || strcmp(origin, again) != 0)
			abort();
	}
	char *b = pp_registry_base64(s, strlen(s));
	if (strlen(b) != (strlen(s) + 2) / 3 * 4)
		abort();
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PP_REGISTRY_SMALL_BODY_MAX)
		return 0;
	char *s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_token(s, size);
	fuzz_errors(s, size);
	fuzz_headers(s);
	free(s);
	return 0;
}
