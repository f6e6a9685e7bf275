/* libFuzzer entry for the grpc probe: whatever a server in a pod sends back
 * (it is the pod's, so anything), the HTTP/2 exchange and the decoding of
 * the HealthCheckResponse must never crash, hang or leak, and end in a
 * verdict or in waiting for more. The input is both the server's byte
 * stream and, alone, a gRPC message. */
#include <stddef.h>
#include <stdint.h>

#include "runtime/grpc_health.h"
#include "runtime/grpc_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status;
	(void)pp_grpc_health_response(data, size, &status);

	struct pp_grpc_probe *g = pp_grpc_probe_new("10.0.0.1", 9090, "svc", 1);
	if (g == NULL)
		return 0;
	const uint8_t *out;
	size_t len;
	pp_grpc_probe_output(g, &out, &len);
	pp_grpc_probe_sent(g, len);
	/* in two pieces, as a socket may deliver it */
	size_t half = size / 2;
	pp_grpc_probe_input(g, data, half);
	pp_grpc_probe_output(g, &out, &len);
	pp_grpc_probe_sent(g, len / 2);
	if (size > half)
		pp_grpc_probe_input(g, data + half, size - half);
	char msg[512];
	if (pp_grpc_probe_result(g, msg, sizeof(msg)) == PP_GRPC_PROBE_PENDING) {
		pp_grpc_probe_input(g, NULL, 0); /* the server hangs up */
		(void)pp_grpc_probe_result(g, msg, sizeof(msg));
	}
	pp_grpc_probe_free(g);
	return 0;
}
