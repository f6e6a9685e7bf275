/* Where a fuzz target keeps its files: under $TMPDIR (make fuzz gives each
 * checkout its own, build-fuzz/tmp, and removes it after), else /tmp. Two
 * runs of make fuzz from two checkouts never remove each other's files. */
#ifndef PEAPOD_FUZZ_TMP_H
#define PEAPOD_FUZZ_TMP_H

#include <stdlib.h>

static inline const char *fuzz_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t != NULL && t[0] == '/' ? t : "/tmp";
}

#endif
