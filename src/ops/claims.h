/* PersistentVolumeClaims and the pods that use them, PersistentVolumes and
 * the claims bound to them: the checks the API server and kubelet make (a
 * claim must exist and its volume be had, ReadWriteOncePod admits one pod)
 * and delete refused while a pod uses the claim or a claim the volume
 * (kubernetes' pvc- and pv-protection finalizers keep them Terminating
 * until then; peapod refuses instead, naming the user). */
#ifndef PEAPOD_OPS_CLAIMS_H
#define PEAPOD_OPS_CLAIMS_H

#include "manifest/manifest.h"
#include "util/error.h"

/* The pods of ns that are not finished and mount the claim, as a
 * NULL-terminated list of names (strv_free); empty when none. */
int pp_claim_users(const char *ns, const char *claim, char ***pods, struct pp_error **err);

/* Before a pod is created: each of its persistentVolumeClaim volumes names
 * a claim of its namespace (`persistentvolumeclaim "x" not found` naming
 * the field otherwise: the pod is refused, not kept Pending), and a
 * ReadWriteOncePod claim is not used by another pod. */
int pp_claims_check_pod(const struct pp_pod *spec, struct pp_error **err);

/* delete pvc: refused while a pod uses the claim; else the claim and its
 * data go (PP_OBJECT_NOT_FOUND when there is none). */
int pp_claim_delete(const char *ns, const char *name, struct pp_error **err);

/* The claims of every namespace bound to PersistentVolume pv
 * ("ns/name", NULL-terminated; strv_free). */
int pp_volume_claims(const char *pv, char ***claims, struct pp_error **err);

/* delete pv: refused while a claim is bound to it (kubernetes' pv-
 * protection keeps it Terminating); the host's directory stays (Retain). */
int pp_volume_delete(const char *name, struct pp_error **err);

#endif
