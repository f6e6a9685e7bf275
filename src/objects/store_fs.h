/* What the object store (store.c) and the workloads' store
 * (workload_store.c) share: the layout objects/<ns>/<plural>/<name>.json,
 * the namespace's lock, the walk of a kind's directory, the atomic write of
 * an object's JSON and the fields the API server gives a new object.
 * Internal to src/objects. */
#ifndef PEAPOD_OBJECTS_STORE_FS_H
#define PEAPOD_OBJECTS_STORE_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct json_object;

/* Bigger than any valid object's JSON: 1 MiB of data, base64, and its keys. */
#define PP_STORE_FILE_MAX (4u * 1024 * 1024)

/* $PEAPOD_ROOT/objects/<ns> and its <plural> and <plural>/<name>.json. */
char *pp_store_ns_dir(const char *ns);
char *pp_store_kind_dir(const char *plural, const char *ns);
char *pp_store_path(const char *plural, const char *ns, const char *name);

/* The namespace's directory, made on first use (mode), locked until the
 * returned fd is closed; -1 on an error. */
int pp_store_lock_namespace(const char *ns, mode_t mode, struct pp_error **err);

/* Every namespace that has a directory under objects/, by name. */
int pp_store_namespaces(char ***out, size_t *n, struct pp_error **err);

/* Calls fn for each <name>.json in dir, by name (none when dir does not
 * exist); fn's PP_OBJECT_NOT_FOUND (the file went meanwhile) is passed
 * over, its other negative return ends the walk. */
int pp_store_scan(const char *dir,
		  int (*fn)(const char *name, const char *path, void *ctx, struct pp_error **err),
		  void *ctx, struct pp_error **err);

/* The file's bytes (*buf NUL-terminated, at most PP_STORE_FILE_MAX);
 * PP_OBJECT_NOT_FOUND, err untouched, when there is none: the caller's
 * message names the object. */
int pp_store_read(const char *path, char **buf, size_t *len, struct pp_error **err);

/* j written (pretty, slashes unescaped) over path atomically. */
int pp_store_write_json(const char *path, struct json_object *j, mode_t mode,
			struct pp_error **err);

/* A random RFC 4122 version 4 UUID and the time now in RFC 3339 (UTC), as
 * the API server gives a new object. */
char *pp_store_new_uid(void);
char *pp_store_now_rfc3339(void);

#endif
