/* libFuzzer entry for image layers (src/image/layer.h). The first byte
 * chooses: even, the rest is a tar entry's name for the pure path
 * classification, whose results must hold together (a normalized path has
 * no empty, "." or ".." component and no ".wh." directory; a refusal has a
 * reason); odd, the rest is a whole layer unpacked into a fresh directory
 * under a private temp dir, which must afterwards hold that directory only
 * (nothing written beside it): declared uncompressed (1 modulo 4) or gzip
 * (3 modulo 4: the gzip stream decoder, isa-l's when libisal2 is there, and
 * the sniffing of a plain tar sent as gzip). Must run as root, as the
 * unpacker does. */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small bounds: a fuzz input is a few KiB; a bomb must stop early. */
#define FUZZ_LAYER_MAX_BYTES (4 << 20)
#define FUZZ_LAYER_MAX_ENTRIES 256
#define FUZZ_DIFF_ID "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static bool component_ok(const char *c, size_t len, bool last)
{
	if (len == 0 || len > PP_LAYER_NAME_MAX || (len == 1 && c[0] == '.') ||
	    (len == 2 && c[0] == '.' && c[1] == '.'))
		return false;
	return last || len < 4 || memcmp(c, PP_LAYER_WHITEOUT_PREFIX, 4) != 0;
}

static void check_path(const char *path)
{
	if (path[0] == '\0')
		return;
	for (const char *c = path;;) {
		size_t len = strcspn(c, "/");
		bool last = c[len] == '\0';
		if (!component_ok(c, len, last))
			abort();
		if (last)
			break;
		c += len + 1;
	}
}

static void fuzz_classify(const uint8_t *data, size_t size)
{
	cleanup_free char *s = strndup((const char *)data, size);
	struct pp_layer_path p;
	pp_layer_path_classify(s, &p);
	if (p.action == PP_LAYER_PATH_REFUSED) {
		if (p.reason == NULL)
			abort();
		return;
	}
	check_path(p.path);
	const char *last = strrchr(p.path, '/');
	last = last ? last + 1 : p.path;
	/* A whiteout hides a real name; only "" (the root) may be an opaque
	 * directory's or an entry's empty path. */
	if (p.action == PP_LAYER_PATH_WHITEOUT &&
	    (last[0] == '\0' || strncmp(last, PP_LAYER_WHITEOUT_PREFIX, 4) == 0))
		abort();
	if (p.action == PP_LAYER_PATH_ENTRY && strncmp(last, PP_LAYER_WHITEOUT_PREFIX, 4) == 0)
		abort();
}

static char *base;

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		abort();
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void fuzz_unpack(const uint8_t *data, size_t size, enum pp_oci_compression c)
{
	if (base == NULL) {
		base = xasprintf("%s/peapod-fuzz-layer.XXXXXX", fuzz_tmpdir());
		if (mkdtemp(base) == NULL)
			abort();
	}
	cleanup_free char *layer = xasprintf("%s/layer", base);
	if (mkdir(layer, 0755) < 0)
		abort();
	int dfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = memfd_create("layer", MFD_CLOEXEC);
	if (dfd < 0 || fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET))
		abort();
	struct pp_layer_source src = {
	    .fd = fd,
	    .compression = c,
	    .size = -1,
	    .diff_id = FUZZ_DIFF_ID,
	    .limits = {.max_bytes = FUZZ_LAYER_MAX_BYTES, .max_entries = FUZZ_LAYER_MAX_ENTRIES},
	};
	struct pp_layer_result res;
	struct pp_error *err = NULL;
	if (pp_layer_unpack(dfd, &src, &res, &err) < 0 && err == NULL)
		abort();
	pp_error_free(&err);
	pp_layer_result_clear(&res);
	close(fd);
	close(dfd);
	if (pp_rm_rf(layer, NULL) < 0 || count_entries(base) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_classify(data + 1, size - 1);
	else
		fuzz_unpack(data + 1, size - 1,
			    data[0] % 4 == 3 ? PP_OCI_COMPRESSION_GZIP : PP_OCI_COMPRESSION_NONE);
	return 0;
}
