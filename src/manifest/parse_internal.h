/* Shared by the schema walk (pod_parse.c, container_parse.c, volume_parse.c)
 * and the cross-field checks (validate.c). Not part of the public API. */
#ifndef PEAPOD_PARSE_INTERNAL_H
#define PEAPOD_PARSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "manifest/manifest.h"
#include "manifest/yaml_tree.h"

struct pctx {
	const char *source;
	struct pp_error **err;
	struct pp_pod *pod;
	struct pp_config_object *object; /* object_parse.c */
	struct pp_workload *workload;	 /* workload_parse.c */
	/* put before every field path in messages ("spec.template." while
	 * a workload's pod template is parsed as a Pod); NULL: none */
	const char *prefix;
	size_t n_ignored;
};

/* Sets "SOURCE:LINE:COL: PATH: message" and returns -1. */
int perr(struct pctx *c, struct pp_pos pos, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* perr at the field key of map n (which must have it): its position and
 * the path PATH.KEY. */
int perr_key(struct pctx *c, const struct pp_ynode *n, const char *path, const char *key,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "a.b" / "b" when a is empty; "a[3]". Caller frees. */
char *path_key(const char *path, const char *key);
char *path_index(const char *path, size_t i);

/* The type of a scalar under the YAML 1.1 rules the API server's decoder uses. */
enum yscalar { YS_NULL, YS_BOOL, YS_INT, YS_FLOAT, YS_STRING };
enum yscalar yscalar_type(const struct pp_ynode *n);
bool ynode_is_null(const struct pp_ynode *n);
const char *ynode_type_name(const struct pp_ynode *n);

/* Typed readers: each refuses a node of the wrong type with a message. */
int get_string(struct pctx *c, const struct pp_ynode *n, const char *path, char **out);
int get_bool(struct pctx *c, const struct pp_ynode *n, const char *path, bool *out);
int get_int64(struct pctx *c, const struct pp_ynode *n, const char *path, int64_t min, int64_t max,
	      int64_t *out);
int get_strv(struct pctx *c, const struct pp_ynode *n, const char *path, char ***out);
int expect_kind(struct pctx *c, const struct pp_ynode *n, const char *path,
		enum pp_ynode_kind kind);
/* A mapping's repeated key refused ("duplicate field"), the first in the
 * document named: what is checked and what is stored (the last one) must
 * be the same. */
int check_duplicate_keys(struct pctx *c, const struct pp_ynode *n, const char *path);
/* One of the words in the NULL-terminated list; returns its index in *out. */
int get_enum(struct pctx *c, const struct pp_ynode *n, const char *path, const char *const *words,
	     int *out);
int get_quantity(struct pctx *c, const struct pp_ynode *n, const char *path,
		 struct pp_quantity *out);
/* A map of string to string (labels, nodeSelector...). */
int get_string_map(struct pctx *c, const struct pp_ynode *n, const char *path, struct pp_kv **out,
		   size_t *count);

/* Label or annotation keys (and label values when label_values) of a
 * metadata map, checked as the API server does. */
int check_meta_map(struct pctx *c, const struct pp_ynode *n, const char *path, bool label_values);

/* Remembers a field peapod accepts but does not act on. */
void note_ignored(struct pctx *c, const char *path);

/* ---- table-driven map walk ---- */
typedef int (*field_fn)(struct pctx *c, const struct pp_ynode *val, const char *path, void *obj);

enum field_kind {
	FK_STRING,  /* char * at off */
	FK_BOOL,    /* bool at off, has-flag at has_off when has_flag */
	FK_INT32,   /* int32_t at off, >= min */
	FK_INT64,   /* int64_t at off, >= min */
	FK_STRV,    /* char ** at off */
	FK_FN,	    /* custom parser */
	FK_IGNORED, /* valid Kubernetes field peapod does not act on: type check only */
	FK_SKIP,    /* accepted silently (read-only metadata, status) */
	FK_REFUSED, /* valid Kubernetes field peapod refuses: msg */
};

struct field {
	const char *key;
	enum field_kind kind;
	size_t off;
	size_t has_off;
	bool has_flag;
	bool required;
	int64_t min;
	int64_t max;		  /* 0: the type's maximum */
	enum pp_ynode_kind shape; /* FK_IGNORED */
	field_fn fn;
	const char *msg; /* FK_REFUSED */
};

#define F_STR(k, T, m)                                                                             \
	{                                                                                          \
		.key = k, .kind = FK_STRING, .off = offsetof(T, m)                                 \
	}
#define F_STR_REQ(k, T, m)                                                                         \
	{                                                                                          \
		.key = k, .kind = FK_STRING, .off = offsetof(T, m), .required = true               \
	}
#define F_BOOL(k, T, m)                                                                            \
	{                                                                                          \
		.key = k, .kind = FK_BOOL, .off = offsetof(T, m)                                   \
	}
#define F_BOOL_HAS(k, T, m, h)                                                                     \
	{                                                                                          \
		.key = k, .kind = FK_BOOL, .off = offsetof(T, m), .has_off = offsetof(T, h),       \
		.has_flag = true                                                                   \
	}
#define F_I32(k, T, m, lo)                                                                         \
	{                                                                                          \
		.key = k, .kind = FK_INT32, .off = offsetof(T, m), .min = lo                       \
	}
#define F_I64(k, T, m, lo)                                                                         \
	{                                                                                          \
		.key = k, .kind = FK_INT64, .off = offsetof(T, m), .min = lo                       \
	}
#define F_I64_HAS(k, T, m, h, lo)                                                                  \
	{                                                                                          \
		.key = k, .kind = FK_INT64, .off = offsetof(T, m), .has_off = offsetof(T, h),      \
		.has_flag = true, .min = lo                                                        \
	}
/* user and group IDs: 0..2^31-1 as the API server checks */
#define F_ID_HAS(k, T, m, h)                                                                       \
	{                                                                                          \
		.key = k, .kind = FK_INT64, .off = offsetof(T, m), .has_off = offsetof(T, h),      \
		.has_flag = true, .min = 0, .max = INT32_MAX                                       \
	}
#define F_STRV(k, T, m)                                                                            \
	{                                                                                          \
		.key = k, .kind = FK_STRV, .off = offsetof(T, m)                                   \
	}
#define F_FN(k, f)                                                                                 \
	{                                                                                          \
		.key = k, .kind = FK_FN, .fn = f                                                   \
	}
#define F_FN_REQ(k, f)                                                                             \
	{                                                                                          \
		.key = k, .kind = FK_FN, .fn = f, .required = true                                 \
	}
#define F_IGN(k, s)                                                                                \
	{                                                                                          \
		.key = k, .kind = FK_IGNORED, .shape = s                                           \
	}
#define F_SKIP(k)                                                                                  \
	{                                                                                          \
		.key = k, .kind = FK_SKIP                                                          \
	}
#define F_REFUSE(k, m)                                                                             \
	{                                                                                          \
		.key = k, .kind = FK_REFUSED, .msg = m                                             \
	}
#define F_END                                                                                      \
	{                                                                                          \
		.key = NULL                                                                        \
	}

/* Walks a map node against a NULL-key-terminated field table, filling obj.
 * Refuses unknown and duplicate keys and missing required fields. */
int walk_map(struct pctx *c, const struct pp_ynode *n, const char *path, const struct field *table,
	     void *obj);

/* Parses a sequence of maps into a zeroed array of elem_size elements. */
typedef int (*elem_fn)(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem);
int walk_seq(struct pctx *c, const struct pp_ynode *n, const char *path, size_t elem_size,
	     void **arr, size_t *count, elem_fn each);

/* Where a document's metadata goes (meta_parse.c): the name (a DNS-1123
 * subdomain, required), namespace (a DNS-1123 label), uid, labels and
 * annotations (checked as the API server does), and what only some kinds
 * keep: a field whose pointer is NULL is accepted and passed over (set by
 * the API server; harmless in a manifest saved with kubectl get -o yaml). */
struct meta_target {
	char **name, **namespace_, **uid;
	char **created;	      /* creationTimestamp */
	int64_t *generation;  /* >= 0 */
	char **generate_name; /* NULL: read, then dropped */
	struct pp_kv **labels, **annotations;
	size_t *n_labels, *n_annotations;
	/* A kind's own checks of the name (a Job's length) and annotations. */
	int (*check_name)(struct pctx *c, const struct pp_ynode *n, const char *path,
			  const char *name);
	int (*check_annotations)(struct pctx *c, const struct pp_ynode *n, const char *path);
	/* ownerReferences, parsed by owner_refs(owner_obj) when set. */
	field_fn owner_refs;
	void *owner_obj;
	/* generateName refused (rather than read and named when the name is
	 * missing). */
	bool refuse_generate_name;
};
int parse_meta(struct pctx *c, const struct pp_ynode *n, const char *path, struct meta_target *m);

/* The per-concern parsers. */
int parse_pod(struct pctx *c, const struct pp_ynode *root);
int parse_containers(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_init_containers(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_volumes(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_security_context(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_container_security(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_seccomp(struct pctx *c, const struct pp_ynode *n, const char *path, char **type,
		  char **localhost);
int parse_port_ref(struct pctx *c, const struct pp_ynode *n, const char *path, int32_t *port,
		   char **name);
int parse_handler_kind(struct pctx *c, const struct pp_ynode *n, const char *path,
		       struct pp_handler *h, enum pp_handler_kind kind);
int parse_lifecycle(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_probe(struct pctx *c, const struct pp_ynode *n, const char *path, struct pp_probe *p);
int parse_resources(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_env(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_env_from(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_volume_mounts(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_downward_api_volume(struct pctx *c, const struct pp_ynode *n, const char *path,
			      void *obj);
int parse_projected_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_config_map_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int parse_secret_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
int validate_pod(struct pctx *c, const struct pp_ynode *root);
/* object_parse.c: a ConfigMap or Secret document into c->object. */
int parse_config_object(struct pctx *c, const struct pp_ynode *root);
/* A PersistentVolumeClaim's spec, into c->object (pvc_parse.c). */
int parse_pvc_spec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
/* A Job document into job (job_parse.c). */
struct pp_job;
int parse_job(struct pctx *c, const struct pp_ynode *root, struct pp_job *job);
int parse_pv_spec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj);
/* workload_parse.c: a Deployment, ReplicaSet, DaemonSet or Job document
 * into c->workload (its kind set). */
int parse_workload(struct pctx *c, const struct pp_ynode *root);
/* manifest_set.c: a YAML tree as JSON (plain scalars typed as YAML 1.1). */
struct json_object;
struct json_object *ynode_to_json(const struct pp_ynode *n);

/* projection_parse.c, shared with env's fieldRef and resourceFieldRef: a
 * fieldRef map (apiVersion "v1" when given) into *field_path (its value
 * the caller's to check); the resources a resourceFieldRef may name; the
 * API server's check of a divisor (at n's divisor key). */
int parse_field_ref_path(struct pctx *c, const struct pp_ynode *n, const char *path,
			 char **field_path);
bool pp_resource_ref_supported(const char *resource);
int check_resource_divisor(struct pctx *c, const struct pp_ynode *n, const char *path,
			   const char *resource, const struct pp_quantity *divisor);

#endif
