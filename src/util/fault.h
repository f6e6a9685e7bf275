/* Fault injection for the tests of what is left behind (issue #21): each
 * step of a pod's set-up and teardown, of an image pull and of an unpack
 * calls pp_fault("step", err) before doing its work. In peapod-test (built
 * with PP_TEST_KNOBS: util/settings.c) the environment can make one step
 * fail with a chosen errno, as if its work had, or SIGKILL the process at
 * that moment:
 *
 *   PEAPOD_FAULT=STEP:ERRNO   (a number or a name: EIO, ENOSPC, EMFILE, ...)
 *   PEAPOD_FAULT=STEP:kill
 *   PEAPOD_FAULT_ONCE=FILE    fires only while FILE does not exist, and makes
 *                             it (O_EXCL: once across every process)
 *   PEAPOD_FAULT_STEPS=FILE   every step reached appends "STEP\n" to FILE
 *
 * In peapod (no PP_TEST_KNOBS) the environment is not read: pp_fault tests
 * two NULL pointers and returns 0, and there is no way in for users. */
#ifndef PEAPOD_UTIL_FAULT_H
#define PEAPOD_UTIL_FAULT_H

#include "util/error.h"

/* 0, or -1 with err "injected fault at STEP" and the chosen errno. */
int pp_fault(const char *step, struct pp_error **err);

/* The errno of a name ("EIO") or a number ("5"); 0 when neither. */
int pp_fault_errno(const char *name);

#endif
