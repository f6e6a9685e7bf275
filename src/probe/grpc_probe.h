/* A grpc probe's exchange (grpc.health.v1.Health/Check over HTTP/2
 * cleartext with prior knowledge), as kubelet makes it, without I/O: the
 * caller owns the connection, sends what pp_grpc_probe_output gives and
 * feeds what it receives, so the exchange runs in any event loop. */
#ifndef PEAPOD_GRPC_PROBE_H
#define PEAPOD_GRPC_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pp_grpc_probe;

/* The exchange for host:port (the :authority), service ("" the server),
 * with timeout_s sent as grpc-timeout. NULL: out of memory. */
struct pp_grpc_probe *pp_grpc_probe_new(const char *host, int port, const char *service,
					int timeout_s);
void pp_grpc_probe_free(struct pp_grpc_probe *g);

/* The bytes to send now (*len 0: none), valid until the next call. */
void pp_grpc_probe_output(struct pp_grpc_probe *g, const uint8_t **data, size_t *len);
/* n of them are sent. */
void pp_grpc_probe_sent(struct pp_grpc_probe *g, size_t n);
/* Bytes received; len 0: the peer closed the connection. */
void pp_grpc_probe_input(struct pp_grpc_probe *g, const uint8_t *data, size_t len);

enum { PP_GRPC_PROBE_PENDING = 1 };
/* 0 success (grpc-status 0, SERVING), -1 failure with kubelet's message
 * in msg, PP_GRPC_PROBE_PENDING while the answer is still to come. */
int pp_grpc_probe_result(const struct pp_grpc_probe *g, char *msg, size_t size);

#endif
