/* libFuzzer entry for the probes' response parsing: whatever a server in a
 * pod sends back (it is the pod's, so anything), the httpGet verdict
 * (status, redirects, Location), the grpc probe's HTTP/2 exchange and the
 * decoding of the HealthCheckResponse must never crash, hang or leak, and
 * end in a verdict or in waiting for more. The input is all of these: an
 * HTTP/1 response, the grpc server's byte stream, a gRPC message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "probe/grpc_health.h"
#include "probe/grpc_probe.h"
#include "probe/net_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status;
	(void)pp_grpc_health_response(data, size, &status);

	struct pp_net_probe hp = {.host = "10.0.0.1", .port = 80, .http = true, .path = "/a/b"};
	struct pp_http_target next = {0};
	char text[1024];
	(void)pp_http_response_incomplete((const char *)data, size);
	if (pp_http_probe_verdict(&hp, (const char *)data, size, (int)(size % 12), &next, text,
				  sizeof(text)) == PP_HTTP_REDIRECT)
		free(next.path);

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
