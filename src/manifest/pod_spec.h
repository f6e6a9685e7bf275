/* The typed Pod spec: a Kubernetes v1 Pod manifest parsed and validated once.
 * Everything after the parser works on these structs, never on YAML.
 * Strings are owned (heap) and NULL when absent; arrays are (ptr, n) pairs.
 * Every element that can be the subject of a later error keeps its source
 * position so messages can say FILE:LINE:COLUMN. */
#ifndef PEAPOD_POD_SPEC_H
#define PEAPOD_POD_SPEC_H

#include "util/quantity.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pp_pos {
	int line; /* 1-based, 0 when unknown */
	int col;  /* 1-based */
};

enum pp_restart_policy { PP_RESTART_ALWAYS = 0, PP_RESTART_ON_FAILURE, PP_RESTART_NEVER };
enum pp_pull_policy { PP_PULL_DEFAULT = 0, PP_PULL_ALWAYS, PP_PULL_IF_NOT_PRESENT, PP_PULL_NEVER };

struct pp_kv {
	char *key;
	char *value;
};

/* env[].valueFrom.fieldRef is the only valueFrom resolvable without a cluster. */
enum pp_env_source {
	PP_ENV_VALUE = 0,
	PP_ENV_FIELD_REF,
	PP_ENV_RESOURCE_FIELD_REF,
	PP_ENV_CONFIGMAP_KEY, /* valueFrom.configMapKeyRef */
	PP_ENV_SECRET_KEY,    /* valueFrom.secretKeyRef */
};

struct pp_env_var {
	char *name;
	char *value; /* PP_ENV_VALUE: raw, before $(VAR) expansion */
	enum pp_env_source source;
	char *field_path; /* fieldRef.fieldPath, e.g. metadata.name */
	char *resource;	  /* resourceFieldRef.resource, e.g. limits.memory */
	char *container_name;
	struct pp_quantity divisor; /* resourceFieldRef.divisor, set=false when absent */
	char *ref_name;		    /* configMapKeyRef / secretKeyRef: the object */
	char *ref_key;		    /* and its key */
	bool ref_optional;
	struct pp_pos pos;
};

/* envFrom: every key of a ConfigMap or Secret, prefixed. */
struct pp_env_from {
	char *prefix; /* NULL: none */
	bool secret;  /* secretRef, else configMapRef */
	char *name;
	bool optional;
	struct pp_pos pos;
};

enum pp_protocol { PP_PROTO_TCP = 0, PP_PROTO_UDP, PP_PROTO_SCTP };

struct pp_port {
	char *name;
	int32_t container_port;
	int32_t host_port; /* 0 = none */
	char *host_ip;
	enum pp_protocol protocol;
	struct pp_pos pos;
	struct pp_pos name_pos;
};

enum pp_mount_propagation {
	PP_PROPAGATION_NONE = 0,
	PP_PROPAGATION_HOST_TO_CONTAINER,
	PP_PROPAGATION_BIDIRECTIONAL
};

struct pp_volume_mount {
	char *name;
	char *mount_path;
	bool read_only;
	char *sub_path;	     /* NULL when absent */
	char *sub_path_expr; /* NULL when absent */
	enum pp_mount_propagation propagation;
	char *recursive_read_only; /* Disabled | IfPossible | Enabled, NULL when absent */
	/* a CRI Mount (CreateContainer): this host path bound directly, no
	 * pod volume (name NULL); never from a manifest */
	char *host_path;
	struct pp_pos pos;
	struct pp_pos name_pos, mount_path_pos;
	struct pp_pos propagation_pos; /* of mountPropagation's value, when set */
};

struct pp_resources {
	struct pp_quantity limits_cpu, limits_memory, limits_ephemeral_storage;
	struct pp_quantity requests_cpu, requests_memory, requests_ephemeral_storage;
	/* hugepages-<size> and other extended resources, as written */
	struct pp_kv *limits_other;
	size_t n_limits_other;
	struct pp_kv *requests_other;
	size_t n_requests_other;
};

enum pp_handler_kind {
	PP_HANDLER_NONE = 0,
	PP_HANDLER_EXEC,
	PP_HANDLER_HTTP_GET,
	PP_HANDLER_TCP_SOCKET,
	PP_HANDLER_GRPC,
	PP_HANDLER_SLEEP
};

struct pp_handler {
	enum pp_handler_kind kind;
	char **exec_command;			   /* NULL-terminated */
	char *http_path, *http_host, *http_scheme; /* scheme HTTP or HTTPS */
	int32_t port;	 /* resolved number, or 0 when port_name is used */
	char *port_name; /* named port, resolved against the container's ports */
	struct pp_kv *http_headers;
	size_t n_http_headers;
	char *grpc_service;
	int64_t sleep_seconds;
	struct pp_pos pos;
};

struct pp_probe {
	bool set;
	struct pp_handler handler;
	int32_t initial_delay_seconds;		  /* 0 */
	int32_t timeout_seconds;		  /* 1 */
	int32_t period_seconds;			  /* 10 */
	int32_t success_threshold;		  /* 1 */
	int32_t failure_threshold;		  /* 3 */
	int64_t termination_grace_period_seconds; /* -1 when absent */
	struct pp_pos pos;
};

struct pp_lifecycle {
	struct pp_handler post_start; /* kind NONE when absent */
	struct pp_handler pre_stop;
	char *stop_signal; /* e.g. "SIGTERM", NULL when absent */
};

struct pp_selinux_options {
	bool set;
	char *user, *role, *type, *level; /* NULL when absent */
};

/* securityContext, merged view: pod-level values are kept in pp_pod_security;
 * the container keeps what it sets itself (has_* tells). */
struct pp_security_context {
	bool has_run_as_user, has_run_as_group, has_run_as_non_root;
	int64_t run_as_user, run_as_group;
	bool run_as_non_root;
	bool has_privileged, privileged;
	bool has_read_only_root_filesystem, read_only_root_filesystem;
	bool has_allow_privilege_escalation, allow_privilege_escalation;
	char **caps_add; /* NULL-terminated, names without CAP_ as written */
	char **caps_drop;
	char *seccomp_type; /* RuntimeDefault | Unconfined | Localhost */
	char *seccomp_localhost_profile;
	char *proc_mount;    /* Default | Unmasked */
	char *apparmor_type; /* appArmorProfile: RuntimeDefault | Unconfined | Localhost */
	char *apparmor_localhost_profile;
	struct pp_selinux_options selinux; /* set: seLinuxOptions present */
	struct pp_pos pos;
};

/* A host device a CRI container gets (ContainerConfig.devices). */
struct pp_cri_device {
	char *host_path;      /* a character or block device on the host */
	char *container_path; /* under /dev */
	char *permissions;    /* "r", "w", "m" letters; "" = "rwm" */
};

struct pp_container {
	char *name;
	char *image;
	enum pp_pull_policy pull_policy;
	char **command; /* NULL when absent; NULL-terminated otherwise */
	char **args;
	char *working_dir;
	struct pp_env_var *env;
	size_t n_env;
	struct pp_env_from *env_from; /* applied before env, as kubelet does */
	size_t n_env_from;
	struct pp_port *ports;
	size_t n_ports;
	struct pp_volume_mount *volume_mounts;
	size_t n_volume_mounts;
	struct pp_resources resources;
	struct pp_probe liveness, readiness, startup;
	struct pp_lifecycle lifecycle;
	struct pp_security_context security;
	char *termination_message_path;	  /* default /dev/termination-log */
	char *termination_message_policy; /* File | FallbackToLogsOnError */
	bool is_init;
	/* init containers only: restartPolicy Always makes it a sidecar */
	bool has_restart_policy;
	enum pp_restart_policy restart_policy;
	bool stdin_open, stdin_once, tty;
	/* The CRI's only (CreateContainer, supervisor/control_cri.c), never
	 * a manifest's: masked and read-only paths replacing the defaults
	 * when has_cri_paths (NULL-terminated, NULL = none), host devices. */
	bool has_cri_paths;
	char **masked_paths, **readonly_paths;
	struct pp_cri_device *devices;
	size_t n_devices;
	struct pp_pos pos;
	struct pp_pos name_pos;
};

enum pp_volume_kind {
	PP_VOLUME_EMPTY_DIR = 0,
	PP_VOLUME_HOST_PATH,
	PP_VOLUME_DOWNWARD_API, /* one downwardAPI projection in sources */
	PP_VOLUME_PROJECTED,
	PP_VOLUME_CONFIG_MAP, /* one configMap projection in sources */
	PP_VOLUME_SECRET,     /* one secret projection in sources */
	PP_VOLUME_PVC,	      /* persistentVolumeClaim: the claim's directory */
};

/* One file of a downwardAPI volume or projection: a fieldRef of the pod's
 * metadata, or a resourceFieldRef of one of its containers. */
struct pp_dapi_file {
	char *path;		    /* relative, as written */
	char *field_path;	    /* fieldRef.fieldPath; NULL for a resourceFieldRef */
	char *container_name;	    /* resourceFieldRef.containerName */
	char *resource;		    /* resourceFieldRef.resource, e.g. limits.memory */
	struct pp_quantity divisor; /* set=false when absent (1) */
	bool has_mode;
	int32_t mode; /* 0..0777 */
	struct pp_pos pos;
};

/* items of a configMap or secret projection: key to path. */
struct pp_key_to_path {
	char *key;
	char *path;
	bool has_mode;
	int32_t mode;
	struct pp_pos pos;
};

enum pp_projection_kind {
	PP_PROJECTION_DOWNWARD_API = 0,
	PP_PROJECTION_CONFIG_MAP,
	PP_PROJECTION_SECRET,
};

/* One source of a projected volume (or the whole of a downwardAPI volume). */
struct pp_projection {
	enum pp_projection_kind kind;
	/* downwardAPI */
	struct pp_dapi_file *files;
	size_t n_files;
	/* configMap, secret: the object's name, items (all keys when none) */
	char *name;
	bool optional;
	struct pp_key_to_path *items;
	size_t n_items;
	char *field; /* "spec.volumes[0].projected.sources[1].configMap", for errors */
	struct pp_pos pos;
};

/* The default file mode of downwardAPI and projected volumes (the API
 * server's DownwardAPIVolumeSourceDefaultMode, ProjectedVolumeSourceDefaultMode). */
#define PP_PROJECTED_DEFAULT_MODE 0644

enum pp_host_path_type {
	PP_HOSTPATH_UNSET = 0, /* "" : no check */
	PP_HOSTPATH_DIRECTORY_OR_CREATE,
	PP_HOSTPATH_DIRECTORY,
	PP_HOSTPATH_FILE_OR_CREATE,
	PP_HOSTPATH_FILE,
	PP_HOSTPATH_SOCKET,
	PP_HOSTPATH_CHAR_DEVICE,
	PP_HOSTPATH_BLOCK_DEVICE,
};

struct pp_volume {
	char *name;
	enum pp_volume_kind kind;
	/* emptyDir */
	bool medium_memory;
	struct pp_quantity size_limit;
	/* hostPath */
	char *host_path;
	enum pp_host_path_type host_path_type;
	/* persistentVolumeClaim */
	char *claim_name;
	bool claim_read_only;
	/* downwardAPI, projected, configMap, secret */
	struct pp_projection *sources;
	size_t n_sources;
	int32_t default_mode; /* PP_PROJECTED_DEFAULT_MODE when absent */
	struct pp_pos pos;
	struct pp_pos name_pos;
};

/* The volumes of API data (downwardAPI, projected, configMap, secret):
 * files laid out by the atomic writer from their sources, read-only. */
static inline bool pp_volume_is_projected(const struct pp_volume *v)
{
	return v->kind == PP_VOLUME_DOWNWARD_API || v->kind == PP_VOLUME_PROJECTED ||
	       v->kind == PP_VOLUME_CONFIG_MAP || v->kind == PP_VOLUME_SECRET;
}

struct pp_host_alias {
	char *ip;
	char **hostnames; /* NULL-terminated */
};

/* An entry of spec.imagePullSecrets: a Secret of the pod's namespace */
struct pp_pull_secret_ref {
	char *name; /* NULL when the entry has none (skipped, as kubelet does) */
};

struct pp_dns_config {
	char **nameservers; /* NULL-terminated or NULL */
	char **searches;
	struct pp_kv *options; /* value NULL when the option has none */
	size_t n_options;
};

struct pp_pod_security {
	bool has_run_as_user, has_run_as_group, has_run_as_non_root, has_fs_group;
	int64_t run_as_user, run_as_group, fs_group;
	bool run_as_non_root;
	int64_t *supplemental_groups;
	size_t n_supplemental_groups;
	struct pp_kv *sysctls;
	size_t n_sysctls;
	char *seccomp_type;
	char *seccomp_localhost_profile;
	char *apparmor_type;
	char *apparmor_localhost_profile;
	struct pp_selinux_options selinux;
};

struct pp_pod {
	char *source; /* file name as given, "<stdin>" for - */
	/* metadata */
	char *name;
	char *namespace_;    /* default "default" */
	char *uid;	     /* metadata.uid if given, else generated by the caller */
	char *generate_name; /* accepted, not used: peapod needs metadata.name */
	struct pp_kv *labels;
	size_t n_labels;
	struct pp_kv *annotations;
	size_t n_annotations;
	/* spec */
	struct pp_container *init_containers;
	size_t n_init_containers;
	struct pp_container *containers;
	size_t n_containers;
	struct pp_volume *volumes;
	size_t n_volumes;
	enum pp_restart_policy restart_policy;
	int64_t termination_grace_period_seconds; /* default 30 */
	int64_t active_deadline_seconds;	  /* -1 when absent */
	char *hostname;				  /* spec.hostname, NULL when absent */
	char *subdomain;
	bool host_network, host_ipc, host_pid;
	bool share_process_namespace;
	char *dns_policy; /* ClusterFirst (default) | Default | ClusterFirstWithHostNet | None */
	struct pp_dns_config dns_config;
	bool has_dns_config;
	struct pp_host_alias *host_aliases;
	size_t n_host_aliases;
	struct pp_pod_security security;
	char *node_name;
	char *service_account_name;
	bool has_host_users, host_users;
	struct pp_pull_secret_ref *image_pull_secrets;
	size_t n_image_pull_secrets;
	/* Fields accepted because they are valid Pod spec but that peapod does not
	 * act on yet; the CLI warns about each (e.g. "spec.affinity"). */
	char **ignored_fields;	/* NULL-terminated or NULL */
	char *default_hostname; /* the pod name cut to 63 chars, as kubelet does */
	/* A CRI sandbox (RunPodSandbox, src/cri): no containers of its own;
	 * kubelet adds, starts, stops and removes them one at a time, and the
	 * pod runs until it is stopped. Never from a manifest. */
	bool cri;
	/* and its port_mappings (hostPorts for the network's portmap) */
	struct pp_port *cri_ports;
	size_t n_cri_ports;
	/* and the cgroup parent kubelet gave (cgroupfs driver), NULL: peapod's */
	char *cri_cgroup_parent;
	/* and, with hostUsers false, the host's first id of its range
	 * (kubelet's uids/gids mapping), else peapod's allocator chooses */
	bool has_cri_id_base;
	uint32_t cri_id_base;
};

void pp_pod_free(struct pp_pod *pod);
/* One container allocated on its own (a CRI container's): its fields and c. */
void pp_container_free(struct pp_container *c);

/* Returns the container's effective hostname for the pod (spec.hostname or
 * the pod name truncated to 63 characters). Never NULL. */
const char *pp_pod_hostname(const struct pp_pod *pod);

#endif
