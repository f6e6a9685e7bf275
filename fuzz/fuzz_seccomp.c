/* libFuzzer entry for the Localhost seccomp profile parser (OCI JSON) and
 * the compiler behind it: any input must parse and compile, or fail with an
 * error, never crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>

#include "security/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_seccomp_profile p;
	struct pp_error *err = NULL;
	if (pp_seccomp_profile_parse((const char *)data, size, &p, &err) == 0) {
		struct pp_seccomp_filter f;
		if (pp_seccomp_compile(&p, pp_caps_default(), &f, &err) == 0)
			pp_seccomp_filter_free(&f);
		pp_seccomp_profile_free(&p);
	}
	pp_error_free(&err);
	return 0;
}
