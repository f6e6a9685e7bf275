/* libFuzzer entry for kubelet's atomic writer (src/util/atomic_writer.h).
 * The input is lines "PATH" (at most 16): each must be classified
 * consistently by pp_aw_validate_path (a valid path is relative, has no
 * ".." element, no over-long name); when the whole payload passes
 * pp_aw_check_payload it is written into a fresh directory under a private
 * temp dir, each file read back through its visible path must hold its
 * bytes, a second write must change nothing, and an empty payload must
 * leave only ..data and one data directory (nothing written beside it). */
#include <limits.h>
#include <stdio.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/atomic_writer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_FILES 16

static void check_valid(const char *p)
{
	if (p[0] == '\0' || p[0] == '/' || strlen(p) > PP_AW_MAX_PATH || strncmp(p, "..", 2) == 0)
		abort();
	cleanup_free char *slashed = xasprintf("/%s/", p);
	if (strstr(slashed, "/../") != NULL)
		abort();
}

/* The entries of dir: only ..data, data directories and top-level names. */
static size_t count_entries(const char *dir, size_t *data_dirs)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		abort();
	size_t n = 0;
	*data_dirs = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (strncmp(e->d_name, "..", 2) == 0 && strcmp(e->d_name, PP_AW_DATA_DIR) != 0)
			(*data_dirs)++;
	}
	closedir(d);
	return n;
}

static void write_and_check(const struct pp_aw_file *files, size_t n)
{
	char base[PATH_MAX];
	snprintf(base, sizeof(base), "%s/peapod-fuzz-aw.XXXXXX", fuzz_tmpdir());
	if (mkdtemp(base) == NULL)
		return;
	bool changed = false;
	if (pp_atomic_write(base, files, n, &changed, NULL) < 0 || !changed)
		abort();
	for (size_t i = 0; i < n; i++) {
		/* "a/" and "a/." name file a (cleaned), but cannot be opened as written */
		const char *last = strrchr(files[i].path, '/');
		if (last && (last[1] == '\0' || strcmp(last, "/.") == 0))
			continue;
		cleanup_free char *p = xasprintf("%s/%s", base, files[i].path);
		cleanup_free char *got = NULL;
		size_t len = 0;
		if (pp_read_file(p, 1 << 16, &got, &len, NULL) < 0 || len != files[i].len ||
		    memcmp(got, files[i].data, len) != 0)
			abort();
	}
	if (pp_atomic_write(base, files, n, &changed, NULL) < 0 || changed)
		abort();
	size_t data_dirs = 0;
	if (pp_atomic_write(base, NULL, 0, &changed, NULL) < 0 ||
	    count_entries(base, &data_dirs) != 2 || data_dirs != 1)
		abort();
	pp_rm_rf(base, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_free char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct pp_aw_file files[FUZZ_MAX_FILES];
	size_t n = 0;
	for (char *line = text, *next; line && n < FUZZ_MAX_FILES; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (pp_aw_validate_path(line, NULL) == 0)
			check_valid(line);
		files[n++] = (struct pp_aw_file){
		    .path = line, .data = line, .len = strlen(line), .mode = 0640};
	}
	if (pp_aw_check_payload(files, n, NULL) == 0)
		write_and_check(files, n);
	return 0;
}
