/* The files of the object stores: layout, lock, walk, write, new fields. */
#include "objects/store_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "objects/objects.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

#define OBJECTS_DIR "objects"
#define JSON_SUFFIX ".json"

char *pp_store_ns_dir(const char *ns)
{
	return xasprintf("%s/%s/%s", pp_settings()->root, OBJECTS_DIR, ns);
}

char *pp_store_kind_dir(const char *plural, const char *ns)
{
	cleanup_free char *d = pp_store_ns_dir(ns);
	return xasprintf("%s/%s", d, plural);
}

char *pp_store_path(const char *plural, const char *ns, const char *name)
{
	cleanup_free char *d = pp_store_kind_dir(plural, ns);
	return xasprintf("%s/%s%s", d, name, JSON_SUFFIX);
}

int pp_store_lock_namespace(const char *ns, mode_t mode, struct pp_error **err)
{
	cleanup_free char *d = pp_store_ns_dir(ns);
	if (pp_mkdir_p(d, mode, err) < 0)
		return -1;
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "%s", d);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			pp_error_set(err, errno, "lock %s", d);
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int pp_store_namespaces(char ***out, size_t *n, struct pp_error **err)
{
	cleanup_free char *root = xasprintf("%s/%s", pp_settings()->root, OBJECTS_DIR);
	struct dirent **names = NULL;
	*out = NULL;
	*n = 0;
	int count = scandir(root, &names, NULL, cmp_names);
	if (count < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "%s", root);
	for (int i = 0; i < count; i++) {
		if (names[i]->d_name[0] != '.' && names[i]->d_type == DT_DIR) {
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = xstrdup(names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

int pp_store_scan(const char *dir,
		  int (*fn)(const char *name, const char *path, void *ctx, struct pp_error **err),
		  void *ctx, struct pp_error **err)
{
	const size_t slen = strlen(JSON_SUFFIX);
	struct dirent **names = NULL;
	int count = scandir(dir, &names, NULL, cmp_names);
	if (count < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "%s", dir);
	int r = 0;
	for (int i = 0; i < count; i++) {
		const char *f = names[i]->d_name;
		size_t len = strlen(f);
		if (r == 0 && len > slen && f[0] != '.' &&
		    strcmp(f + len - slen, JSON_SUFFIX) == 0) {
			cleanup_free char *name = xasprintf("%.*s", (int)(len - slen), f);
			cleanup_free char *path = xasprintf("%s/%s", dir, f);
			int g = fn(name, path, ctx, err);
			if (g == PP_OBJECT_NOT_FOUND) /* deleted meanwhile */
				pp_error_free(err);
			else if (g < 0)
				r = -1;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int pp_store_read(const char *path, char **buf, size_t *len, struct pp_error **err)
{
	cleanup_error struct pp_error *rerr = NULL;
	if (pp_read_file(path, PP_STORE_FILE_MAX, buf, len, &rerr) < 0) {
		if (rerr->status == ENOENT)
			return PP_OBJECT_NOT_FOUND;
		return pp_error_set(err, rerr->status, "%s", rerr->msg);
	}
	return 0;
}

int pp_store_write_json(const char *path, struct json_object *j, mode_t mode, struct pp_error **err)
{
	const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	return pp_write_file_atomic(path, text, strlen(text), mode, err);
}

char *pp_store_new_uid(void)
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
}

char *pp_store_now_rfc3339(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}
