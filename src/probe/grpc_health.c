/* HealthCheckRequest and HealthCheckResponse, encoded and decoded by hand:
 * one string field out, one enum field in. */
#include <stdio.h>
#include <string.h>

#include "probe/grpc_health.h"
#include "util/cleanup.h"

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };
#define VARINT_MAX 10

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
	} while (v);
	return n;
}

/* 0 and the value in *v, or -1 (truncated, or longer than 10 bytes). */
static int get_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	uint64_t r = 0;
	for (size_t n = 0; n < VARINT_MAX && *off < len; n++) {
		uint8_t b = p[(*off)++];
		r |= (uint64_t)(b & 0x7f) << (7 * n);
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

uint8_t *pp_grpc_health_request(const char *service, size_t *len)
{
	size_t slen = strlen(service);
	uint8_t *buf = xmalloc(PP_GRPC_PREFIX_LEN + 1 + VARINT_MAX + slen);
	size_t n = PP_GRPC_PREFIX_LEN;
	if (slen > 0) { /* proto3: an empty string is not on the wire */
		buf[n++] = 1 << 3 | WIRE_LEN;
		n += put_varint(buf + n, slen);
		memcpy(buf + n, service, slen);
		n += slen;
	}
	size_t body = n - PP_GRPC_PREFIX_LEN;
	buf[0] = 0; /* not compressed */
	buf[1] = (uint8_t)(body >> 24);
	buf[2] = (uint8_t)(body >> 16);
	buf[3] = (uint8_t)(body >> 8);
	buf[4] = (uint8_t)body;
	*len = n;
	return buf;
}

/* Skips a field of the given wire type; -1 when it does not fit. */
static int skip_field(const uint8_t *p, size_t len, size_t *off, unsigned wire)
{
	uint64_t v;
	switch (wire) {
	case WIRE_VARINT:
		return get_varint(p, len, off, &v);
	case WIRE_FIXED64:
		v = 8;
		break;
	case WIRE_FIXED32:
		v = 4;
		break;
	case WIRE_LEN:
		if (get_varint(p, len, off, &v) < 0)
			return -1;
		break;
	default:
		return -1; /* groups (3, 4) are not in proto3; 6, 7 do not exist */
	}
	if (v > len - *off)
		return -1;
	*off += (size_t)v;
	return 0;
}

int pp_grpc_health_response(const uint8_t *buf, size_t len, int *status)
{
	if (len < PP_GRPC_PREFIX_LEN || buf[0] != 0)
		return -1;
	uint32_t body = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 |
			(uint32_t)buf[4];
	if (body != len - PP_GRPC_PREFIX_LEN)
		return -1;
	const uint8_t *p = buf + PP_GRPC_PREFIX_LEN;
	size_t off = 0;
	int st = PP_GRPC_UNKNOWN;
	while (off < body) {
		uint64_t key, v;
		if (get_varint(p, body, &off, &key) < 0 || key >> 3 == 0)
			return -1;
		if (key >> 3 == 1 && (key & 7) == WIRE_VARINT) {
			if (get_varint(p, body, &off, &v) < 0)
				return -1;
			st = (int)(int32_t)v; /* an enum is an int32; the last one wins */
		} else if (skip_field(p, body, &off, (unsigned)(key & 7)) < 0) {
			return -1;
		}
	}
	*status = st;
	return 0;
}

const char *pp_grpc_serving_status_name(int status, char *buf, size_t size)
{
	static const char *const names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
	if (status >= 0 && status < (int)(sizeof(names) / sizeof(names[0])))
		return names[status];
	snprintf(buf, size, "%d", status);
	return buf;
}

const char *pp_grpc_code_name(int code, char *buf, size_t size)
{
	static const char *const names[] = {"OK",
					    "Canceled",
					    "Unknown",
					    "InvalidArgument",
					    "DeadlineExceeded",
					    "NotFound",
					    "AlreadyExists",
					    "PermissionDenied",
					    "ResourceExhausted",
					    "FailedPrecondition",
					    "Aborted",
					    "OutOfRange",
					    "Unimplemented",
					    "Internal",
					    "Unavailable",
					    "DataLoss",
					    "Unauthenticated"};
	if (code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])))
		return names[code];
	snprintf(buf, size, "Code(%d)", code);
	return buf;
}
