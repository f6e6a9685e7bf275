/* Every tests/manifests/invalid/ manifest must be refused with the error its
 * first line announces: "# error: LINE:COL: FIELD.PATH: substring". The
 * directory comes from $PEAPOD_MANIFESTS (default: run from the repo root). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define DEFAULT_DIR "tests/manifests/invalid"
#define HEADER "# error: "
#define MIN_CASES 30
#define MAX_FILE (1024 * 1024)

/* Returns 0 when the file's error matches its header, else prints why. */
static int check_file(const char *path)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct pp_error *err = NULL;
	struct pp_pod *pod = NULL;
	assert_int_equal(pp_read_file(path, MAX_FILE, &text, &len, &err), 0);
	if (strncmp(text, HEADER, strlen(HEADER)) != 0) {
		fprintf(stderr, "%s: first line is not \"%s...\"\n", path, HEADER);
		return -1;
	}
	char *want = text + strlen(HEADER);
	*strchrnul(want, '\n') = '\0';
	/* want = "LINE:COL: rest"; rest = "PATH: substring" or a whole-file message */
	char *rest = strstr(want, ": ");
	assert_non_null(rest);
	*rest = '\0';
	rest += 2;
	cleanup_free char *prefix = xasprintf("%s:%s: ", path, want);
	if (pp_spec_parse_file(path, &pod, &err) == 0) {
		fprintf(stderr, "%s: parsed, but should fail with %s%s\n", path, prefix, rest);
		pp_pod_free(pod);
		return -1;
	}
	char *sep = strstr(rest, ": ");
	cleanup_free char *field = sep ? strndup(rest, (size_t)(sep - rest) + 2) : xstrdup("");
	const char *substring = sep ? sep + 2 : rest;
	const char *msg = err->msg;
	int r = 0;
	if (strncmp(msg, prefix, strlen(prefix)) != 0 ||
	    strncmp(msg + strlen(prefix), field, strlen(field)) != 0 ||
	    strstr(msg + strlen(prefix) + strlen(field), substring) == NULL) {
		fprintf(stderr, "%s:\n   got: %s\n  want: %s%s\n", path, msg, prefix, rest);
		r = -1;
	}
	pp_error_free(&err);
	return r;
}

static void test_invalid_manifests(void **state)
{
	(void)state;
	const char *dir = getenv("PEAPOD_MANIFESTS") ? getenv("PEAPOD_MANIFESTS") : DEFAULT_DIR;
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	int cases = 0, failed = 0;
	if (n < 0)
		fail_msg("cannot read %s (run from the repository root or set PEAPOD_MANIFESTS)",
			 dir);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		if (len > strlen(".yaml") && strcmp(name + len - strlen(".yaml"), ".yaml") == 0) {
			cleanup_free char *path = xasprintf("%s/%s", dir, name);
			cases++;
			failed += check_file(path) < 0;
		}
		free(names[i]);
	}
	free(names);
	if (failed > 0 || cases < MIN_CASES)
		fail_msg("%d of %d invalid manifests not refused as announced (need at least %d)",
			 failed, cases, MIN_CASES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_invalid_manifests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
