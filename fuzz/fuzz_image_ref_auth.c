/* libFuzzer entry for the strings an image pull starts from: an image
 * reference (from a manifest, the CLI, an archive's index) and a registry's
 * WWW-Authenticate header (whatever answered on the registry's address).
 * Each input goes to both parsers; neither may crash, hang or leak, and what
 * they accept must hold together: a reference's full string parses back to
 * itself, a header's challenges stay within the limits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/auth_challenge.h"
#include "image/image.h"
#include "util/cleanup.h"
#include "util/image_reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_reference(const char *s)
{
	struct pp_image_ref ref;
	struct pp_error *err = NULL;
	if (pp_image_ref_parse(s, &ref, &err) < 0) {
		if (err == NULL || ref.domain || ref.path || ref.tag || ref.digest)
			abort();
		pp_error_free(&err);
		if (pp_image_normalize_ref(s) != NULL)
			abort();
		return;
	}
	if (ref.tag == NULL && ref.digest == NULL)
		abort();
	char *full = pp_image_ref_string(&ref);
	char *familiar = pp_image_ref_familiar(&ref);
	(void)pp_image_ref_api_host(&ref);
	(void)pp_image_ref_pull_reference(&ref);
	pp_image_ref_free(&ref);
	struct pp_image_ref again;
	if (pp_image_ref_parse(full, &again, NULL) < 0 ||
	    pp_image_ref_parse(familiar, &ref, NULL) < 0)
		abort();
	char *full_again = pp_image_ref_string(&again);
	char *full_familiar = pp_image_ref_string(&ref);
	if (strcmp(full, full_again) != 0 || strcmp(full, full_familiar) != 0)
		abort();
	char *norm = pp_image_normalize_ref(s);
	if (norm == NULL || strcmp(norm, familiar) != 0)
		abort();
	free(norm);
	free(full_familiar);
	free(full_again);
	free(familiar);
	free(full);
	pp_image_ref_free(&again);
	pp_image_ref_free(&ref);
}

static void fuzz_header(const uint8_t *data, size_t size)
{
	struct pp_auth_challenges c;
	struct pp_error *err = NULL;
	if (pp_auth_challenges_parse((const char *)data, size, &c, &err) < 0) {
		if (err == NULL || c.items != NULL)
			abort();
		pp_error_free(&err);
		return;
	}
	if (c.n == 0 || c.n > PP_AUTH_CHALLENGES_MAX)
		abort();
	for (size_t i = 0; i < c.n; i++)
		if (c.items[i].n_params > PP_AUTH_PARAMS_MAX ||
		    (c.items[i].token68 != NULL && c.items[i].n_params != 0))
			abort();
	struct pp_auth_bearer b;
	if (pp_auth_bearer_get(&c, &b, &err) == 0) {
		if (b.realm == NULL || b.scopes == NULL || b.scopes[b.n_scopes] != NULL ||
		    b.n_scopes > PP_AUTH_SCOPES_MAX)
			abort();
		pp_auth_bearer_free(&b);
	} else {
		pp_error_free(&err);
	}
	pp_auth_challenges_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_header(data, size);
	/* a reference is a C string: as far as the first NUL */
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_reference(s);
	free(s);
	return 0;
}
