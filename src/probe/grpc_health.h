/* The gRPC health checking protocol's two messages (grpc.health.v1):
 * HealthCheckRequest{string service = 1} and HealthCheckResponse{enum
 * status = 1}, as gRPC messages on the wire (a 5-byte prefix: compressed
 * flag, big-endian length; then the protobuf encoding). Pure code, no I/O. */
#ifndef PEAPOD_GRPC_HEALTH_H
#define PEAPOD_GRPC_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#define PP_GRPC_HEALTH_PATH "/grpc.health.v1.Health/Check"
#define PP_GRPC_PREFIX_LEN 5

enum pp_grpc_serving_status {
	PP_GRPC_UNKNOWN = 0,
	PP_GRPC_SERVING = 1,
	PP_GRPC_NOT_SERVING = 2,
	PP_GRPC_SERVICE_UNKNOWN = 3,
};

/* The request for service ("" the server as a whole) as one gRPC message,
 * malloc'ed, its length in *len. */
uint8_t *pp_grpc_health_request(const char *service, size_t *len);

/* The status of the one gRPC message in buf (a HealthCheckResponse;
 * unknown fields skipped, an absent status is UNKNOWN as in proto3).
 * 0, or -1 when buf is not exactly one well-formed uncompressed message. */
int pp_grpc_health_response(const uint8_t *buf, size_t len, int *status);

/* "SERVING", "NOT_SERVING"...; a number when it is none of them. */
const char *pp_grpc_serving_status_name(int status, char *buf, size_t size);

/* The name of a gRPC status code as grpc-go prints it ("NotFound"). */
const char *pp_grpc_code_name(int code, char *buf, size_t size);

#endif
