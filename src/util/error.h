/* src/util: owns the small idioms every layer shares: errors, cleanup
 * attributes, memory, files and safe paths, processes, ptys, the settings
 * (every PEAPOD_* variable), the clock, netns entering, directory
 * iteration, digests, children's error reports, the image reference
 * grammar (shared by src/manifest and src/image, which may not include
 * each other), a strict TOML reader (for registries.conf), kubectl's label
 * selectors and JSONPath templates.
 * Must not include any other folder of src/, know pods, print or exit
 * (xmalloc aside: out of memory aborts).
 *
 * Errors as crun does them: a fallible function returns a negative value and
 * fills an error object with errno and a message; library code never prints
 * or exits. Only the CLI (and later the supervisor) logs. */
#ifndef PEAPOD_ERROR_H
#define PEAPOD_ERROR_H

#include <errno.h>

struct pp_error {
	int status; /* errno value, 0 when the error is not a system error */
	char *msg;
};

/* Sets *err (freeing a previous one) and returns -1. errnum may be 0. */
int pp_error_set(struct pp_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing error's message with context ("ctx: old"); returns -1. */
int pp_error_wrap(struct pp_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void pp_error_free(struct pp_error **err);

/* errno text appended when status != 0: "msg: strerror" */
const char *pp_error_text(const struct pp_error *err, char *buf, unsigned len);

#define cleanup_error __attribute__((cleanup(pp_error_free)))

#endif
