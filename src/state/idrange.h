/* Per-pod id ranges for user namespaces (hostUsers: false), allocated as
 * kubelet does: PP_IDRANGE_SIZE ids at a multiple of PP_IDRANGE_SIZE, above
 * the ids the host's own users have (slot 0). Each allocated range is one
 * file under $PEAPOD_RUN/userns/, named by its slot and holding the pod's
 * uid: that file is the pod's record of its range, it survives the
 * supervisor, and two pods never hold the same slot (created O_EXCL under
 * the allocator's lock). */
#ifndef PEAPOD_IDRANGE_H
#define PEAPOD_IDRANGE_H

#include <stdint.h>

#include "util/error.h"

#define PP_IDRANGE_SIZE 65536u
#define PP_IDRANGE_FIRST_SLOT 1u
#define PP_IDRANGE_SLOTS 4096u /* ids up to 2^28: far below the 2^32-1 limit */

/* Takes the lowest free slot for pod_uid; *base is its first host id. */
int pp_idrange_alloc(const char *pod_uid, uint32_t *base, struct pp_error **err);

/* Takes the slot whose first host id is base (kubelet's choice, given
 * with a CRI sandbox's user namespace): EINVAL when base is no slot's,
 * EEXIST when another pod holds it. */
int pp_idrange_claim(const char *pod_uid, uint32_t base, struct pp_error **err);

/* Frees every range pod_uid holds (none: 0). Idempotent; for delete and gc. */
int pp_idrange_release(const char *pod_uid, struct pp_error **err);

/* Frees every range whose pod has no record (state directory) any more:
 * what a crash between a pod's end and its range's release leaves. The
 * allocator's lock orders it with allocations (a pod's record exists before
 * its range). Returns how many it freed in *freed. For gc. */
int pp_idrange_sweep(int *freed, struct pp_error **err);

#endif
