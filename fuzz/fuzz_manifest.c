/* libFuzzer entry for the manifest parser: any input must either parse into a
 * pod or fail with an error, never crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	if (pp_spec_parse_buffer("fuzz.yaml", (const char *)data, size, &pod, &err) == 0) {
		(void)pp_pod_hostname(pod);
		pp_pod_free(pod);
	}
	pp_error_free(&err);
	return 0;
}
