/* certs.d: a registry's CAs from <dir>/<host>/\*.crt (see certs_dir.h). */
#include "pull/certs_dir.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fs.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add(char **pem, size_t *len, const char *data, size_t n)
{
	*pem = xrealloc(*pem, *len + n + 2);
	memcpy(*pem + *len, data, n);
	*len += n;
	if (n > 0 && data[n - 1] != '\n')
		(*pem)[(*len)++] = '\n';
	(*pem)[*len] = '\0';
}

/* host's directory's *.crt names, sorted; 0 when it has none. */
static int crt_names(const char *dir, char ***names, size_t *n, struct pp_error **err)
{
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, dir, 0, err) < 0)
		return -1;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".crt") != 0)
			continue;
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	qsort(*names, *n, sizeof(**names), cmp_names);
	return r;
}

int pp_certs_dir_ca(const char *dirs, const char *host, char **pem, size_t *len,
		    struct pp_error **err)
{
	*pem = NULL;
	*len = 0;
	cleanup_free char *list = xstrdup(dirs);
	cleanup_free char *dir = NULL;
	char *save = NULL;
	for (char *root = strtok_r(list, ":", &save); root; root = strtok_r(NULL, ":", &save)) {
		struct stat st;
		char *d = xasprintf("%s/%s", root, host);
		if (stat(d, &st) == 0 && S_ISDIR(st.st_mode)) {
			dir = d;
			break;
		}
		free(d);
	}
	if (dir == NULL || strchr(host, '/') || host[0] == '.')
		return 0;
	char **names = NULL;
	size_t n = 0;
	int r = crt_names(dir, &names, &n, err);
	cleanup_free char *bundle = NULL;
	size_t bundle_len = 0;
	struct pp_error *e = NULL;
	if (r == 0 && n > 0 &&
	    pp_read_file(PP_CERTS_SYSTEM_BUNDLE, PP_CERTS_DIR_MAX_BYTES, &bundle, &bundle_len,
			 &e) == 0)
		add(pem, len, bundle, bundle_len);
	pp_error_free(&e);
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			cleanup_free char *path = xasprintf("%s/%s", dir, names[i]);
			cleanup_free char *data = NULL;
			size_t dl = 0;
			r = pp_read_file(path, PP_CERTS_DIR_MAX_BYTES, &data, &dl, err);
			if (r == 0)
				add(pem, len, data, dl);
		}
		free(names[i]);
	}
	free(names);
	if (r < 0) {
		free(*pem);
		*pem = NULL;
		*len = 0;
		return pp_error_wrap(err, "certs.d of %s", host);
	}
	return 0;
}
