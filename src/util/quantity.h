/* Kubernetes resource quantities ("500m", "1.5", "64Mi", "1e3") as the API
 * server parses them: pure parsing, shared by the manifest reader and the
 * settings (PEAPOD_LOG_MAX_SIZE is written as a quantity). */
#ifndef PEAPOD_QUANTITY_H
#define PEAPOD_QUANTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* A Kubernetes resource.Quantity. */
struct pp_quantity {
	bool set;
	int64_t milli; /* value * 1000, saturated at INT64_MAX */
	int64_t value; /* value rounded up to an integer, saturated */
	char *text;    /* as written */
};

/* Parses a resource quantity. Returns -1 with a message (no position) on a
 * malformed quantity. */
int pp_quantity_parse(const char *text, struct pp_quantity *out, struct pp_error **err);

/* kubelet's bandwidth annotations: a quantity of bits per second, 1k .. 1P
 * (kubelet's limits). -1 with a message (no position) otherwise. */
#define PP_INGRESS_BANDWIDTH_ANNOTATION "kubernetes.io/ingress-bandwidth"
#define PP_EGRESS_BANDWIDTH_ANNOTATION "kubernetes.io/egress-bandwidth"
int pp_bandwidth_parse(const char *text, int64_t *bits, struct pp_error **err);

#endif
