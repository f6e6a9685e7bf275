/* What the CRI server's files share (src/cri only). */
#ifndef PEAPOD_CRI_INTERNAL_H
#define PEAPOD_CRI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "cri/api.pb-c.h"
#include "cri/grpc.h"
#include "image/image.h"

struct pp_cri_server;
struct cri_stream;
struct cri_stats_cache;

/* The RPCs' context: what the server knows besides the pods' records. */
struct pp_cri_service {
	struct pp_cri_server *server; /* NULL: no jobs (cri_job_start fails) */
	struct pp_image_store *store;
	char *socket_path;
	char *pod_cidr; /* UpdateRuntimeConfig's, NULL until given */
	/* cri_stats.c's last CPU sample of each cgroup, NULL until used */
	struct cri_stats_cache *stats;
	struct cri_stream *stream; /* stream_server.c's; NULL: no streaming */
};

/* A deferred call's work, in a child forked from the server (so that the
 * server goes on serving): fn runs there with the write end of a pipe,
 * writes its result to it and returns the child's exit code; the server
 * reads the pipe and, once the child has ended, calls done with what was
 * written and the wait status, which answers call (pp_grpc_call_finish).
 * The child dies with the server (PR_SET_PDEATHSIG) and holds none of its
 * descriptors. */
typedef int (*cri_job_fn)(struct pp_cri_service *svc, void *arg, int fd);
typedef void (*cri_job_done)(struct pp_cri_service *svc, struct pp_grpc_call *call, const char *out,
			     size_t len, int wstatus);
int cri_job_start(struct pp_cri_service *svc, struct pp_grpc_call *call, cri_job_fn fn, void *arg,
		  cri_job_done done, struct pp_error **err);

/* cri_ids.c: the ids the CRI gives peapod's pods and containers, derived
 * from the pod's uid and stored nowhere: a sandbox's is the hex SHA-256 of
 * its pod's uid, a container's that of "<pod uid>/<container name>". The
 * same for pods applied from the CLI and pods made through the CRI. */
#define CRI_ID_LEN 64
void cri_sandbox_id(const char *uid, char out[CRI_ID_LEN + 1]);
void cri_container_id(const char *uid, const char *name, char out[CRI_ID_LEN + 1]);

/* The pod whose sandbox id (or container's id: *name gets the container's
 * name) is id or begins with it, as crictl's short ids do: ENOENT when none
 * is, EINVAL when a prefix picks several. out is pp_pod_view_free'd by the
 * caller. */
struct pp_pod_view;
int cri_find_sandbox(const char *id, struct pp_pod_view *out, struct pp_error **err);
int cri_find_container(const char *id, struct pp_pod_view *out, char **name, struct pp_error **err);

/* A pod made through the CRI (RunPodSandbox) has the file CRI_SANDBOX_FILE
 * in its state directory (what it holds is cri_sandbox.c's): the List*
 * methods show only those, as containerd shows only its k8s.io namespace
 * (kubelet would stop a sandbox it did not make); the cri_find_* above
 * find CLI pods too. */
#define CRI_SANDBOX_FILE "cri-sandbox"
bool cri_view_is_cri(const struct pp_pod_view *v);

/* cri_translate.c: the CRI's configs as peapod's. A sandbox is the pod
 * "<metadata.name>-<attempt>" of uid "<metadata.uid>-<attempt>" (a new
 * attempt is a new pod beside the stopped one); a container is the
 * pod's container "<metadata.name>-<attempt>". */
struct pp_pod;
char *cri_pod_name(const char *name, uint32_t attempt);
char *cri_pod_uid(const char *uid, uint32_t attempt);
char *cri_container_name(const char *name, uint32_t attempt);
/* What RunPodSandbox refuses (INVALID_ARGUMENT): no metadata, name, uid;
 * a cgroup_parent that is no cgroupfs path; uid/gid mappings other than
 * one range of PP_IDRANGE_SIZE from 0. */
int cri_sandbox_check(const Runtime__V1__PodSandboxConfig *cfg, struct pp_error **err);
/* The Pod manifest (JSON) of a sandbox: hostname, DNS, namespaces,
 * sysctls, run_as_*, port mappings (on a placeholder container the spec
 * then drops). */
char *cri_sandbox_manifest(const Runtime__V1__PodSandboxConfig *cfg);
/* That manifest parsed: the pod spec (cri set, no containers), with
 * kubelet's cgroup_parent and user namespace range (cri_cgroup_parent,
 * cri_id_base) when given. */
int cri_sandbox_spec(const Runtime__V1__PodSandboxConfig *cfg, struct pp_pod **out,
		     struct pp_error **err);
/* What CreateContainer refuses before anything is made (devices: a
 * host_path that is no device node here, a container_path not under /dev/,
 * permissions other than "rwm" letters). */
int cri_container_check(const Runtime__V1__ContainerConfig *cfg, struct pp_error **err);
/* The control socket's cri-create body (JSON, supervisor/control.h) for
 * cfg as container name of image (a reference the store resolves),
 * logging to log_path (absolute, or NULL). */
char *cri_container_request(const Runtime__V1__ContainerConfig *cfg, const char *name,
			    const char *image, const char *log_path);
/* The cri-update body: the container's new limits. */
char *cri_update_request(const char *name, const Runtime__V1__LinuxContainerResources *r);
/* v with every '$' doubled: $(VAR) kept as written by the expansion. */
char *cri_escape_vars(const char *v);

/* cri_sandbox.c: a sandbox's record (CRI_SANDBOX_FILE): the request as
 * given, and when it was made (the file's mtime). */
struct cri_sandbox {
	Runtime__V1__RunPodSandboxRequest *req;
	int64_t created_ns;
};
int cri_sandbox_load(const char *uid, struct cri_sandbox *out, struct pp_error **err);
void cri_sandbox_free(struct cri_sandbox *sb);
/* READY: its supervisor runs it and is not stopping it. */
bool cri_view_ready(const struct pp_pod_view *v);
/* StopPodSandbox's work: every container killed, the pod down, its
 * record kept; nothing when it is down already. */
int cri_sandbox_stop(const struct pp_pod_view *v, struct pp_error **err);
/* A List request of descriptor d and every pod's view (*views,
 * pp_pod_views_free); NULL, the reply set, when either fails. */
void *cri_unpack_listing(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len,
			 const char *method, struct pp_grpc_reply *reply,
			 struct pp_pod_view **views, size_t *n);
/* kubelet's label_selector: every entry of want is in have. */
bool cri_labels_match(Runtime__V1__PodSandboxConfig__LabelsEntry *const *have, size_t n_have,
		      Runtime__V1__PodSandboxConfig__LabelsEntry *const *want, size_t n_want);

/* cri_container.c: container name's ContainerConfig as CreateContainer got
 * it (its record in the pod uid's state directory), NULL when it has none
 * (not made through the CRI, or removed); runtime__v1__container_config__
 * free_unpacked. */
Runtime__V1__ContainerConfig *cri_container_config(const char *uid, const char *name);
/* The ContainerStatus of each CRI container of the pod v (not removed), as
 * ContainerStatus answers it: PodSandboxStatus's containers_statuses.
 * What they point into is in *keep; cri_container_statuses_free. */
struct cri_statuses;
Runtime__V1__ContainerStatus **cri_container_statuses(const struct pp_pod_view *v, size_t *n,
						      struct cri_statuses **keep);
void cri_container_statuses_free(Runtime__V1__ContainerStatus **s, size_t n,
				 struct cri_statuses *keep);

/* cri_image.c: the image ref names (a name, an id or a digest), NULL in
 * *out when the store has none. */
int cri_find_image(struct pp_image_store *store, const char *ref, struct pp_image **out,
		   struct pp_error **err);

/* cri_jobs.c: a handler whose work waits (a pod's start, a stop) runs it
 * in a job (cri_job_start): work fills the reply there, and the server
 * sends it when the child ends. method names the call in errors. */
typedef void (*cri_reply_work)(struct pp_cri_service *svc, void *arg, struct pp_grpc_reply *reply);
void cri_reply_later(struct pp_cri_service *svc, struct pp_grpc_reply *reply, cri_reply_work work,
		     void *arg, const char *method);

/* A job's child hands its reply to the server: cri_job_write_reply
 * writes it on the job's pipe (returns the child's exit code), and the
 * job's done callback answers the call with what came
 * (cri_job_finish_reply; an INTERNAL error naming method when the child
 * ended without a whole reply; method may be NULL). */
int cri_job_write_reply(int fd, const struct pp_grpc_reply *reply);
void cri_job_finish_reply(struct pp_grpc_call *call, const char *out, size_t len, int wstatus,
			  const char *method);

/* A pp_error as the gRPC status its errno says (NOT_FOUND for ENOENT...). */
void cri_reply_error(struct pp_grpc_reply *reply, const char *method, const struct pp_error *err);

/* stream_server.c: the streaming endpoint that Exec, Attach and
 * PortForward answer with (http://127.0.0.1:PORT/KIND/TOKEN, PORT from
 * PEAPOD_CRI_STREAM_PORT, 0: the kernel's choice): tokens single-use,
 * random, in this process's memory only, expiring after
 * CRI_STREAM_TOKEN_TTL_MS as kubelet's; each connection whose token holds
 * is served by a child of its own (stream_session.c), which dies with the
 * server. Its descriptors are in the server's epoll set, each object there
 * beginning with the int CRI_WATCH_STREAM. */
#define CRI_WATCH_STREAM 16
#define CRI_STREAM_TOKEN_TTL_MS (60 * 1000)
#define CRI_STREAM_MAX_TOKENS 1000
enum cri_stream_kind { CRI_STREAM_EXEC = 1, CRI_STREAM_ATTACH, CRI_STREAM_PORTFORWARD };
struct cri_stream_req {
	enum cri_stream_kind kind;
	char *ns, *name, *uid; /* the pod */
	char *container;       /* exec, attach */
	char **cmd;	       /* exec: NULL-terminated */
	bool tty, in, out, err;
};
void cri_stream_req_free(struct cri_stream_req *r);
int cri_stream_open(struct pp_cri_service *svc, int epfd, struct pp_error **err);
/* A token for req (taken, freed on error too); *url where to use it. */
int cri_stream_token(struct pp_cri_service *svc, struct cri_stream_req *req, char **url,
		     struct pp_error **err);
void cri_stream_event(struct pp_cri_service *svc, void *watched, uint32_t events);
/* In a child of the server: its descriptors closed, the epoll set left as
 * it is (it is the server's too). */
void cri_stream_close_in_child(struct cri_stream *st);
/* Closes everything; with kill, ends the connections' children first. */
void cri_stream_free(struct cri_stream *st, bool kill);
/* stream_session.c, in a connection's child: serves the upgraded
 * connection fd (early: what the client sent after its request head) for
 * req with the negotiated protocol; the exit code of the child. */
int cri_stream_session(int fd, const struct cri_stream_req *req, const char *protocol,
		       const uint8_t *early, size_t n_early);
/* cri_server.c: every descriptor of the server closed, in a child. */
void cri_server_close_in_child(struct pp_cri_server *srv);

/* cri_exec.c: ExecSync, Exec, Attach, PortForward. */
void cri_exec_sync(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_exec(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_attach(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_port_forward(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);

/* The table of every runtime.v1 method (cri_methods.c). */
extern const struct pp_grpc_method pp_cri_methods[];

/* Packs msg into reply (code OK). */
void cri_reply_message(struct pp_grpc_reply *reply, const ProtobufCMessage *msg);

/* Unpacks a request of descriptor d; NULL (reply set to INVALID_ARGUMENT,
 * naming the method) when the bytes are not one. */
void *cri_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
		 const char *method, struct pp_grpc_reply *reply);

/* The handlers (ctx is a struct pp_cri_service). */
void cri_version(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_update_runtime_config(void *ctx, const uint8_t *msg, size_t len,
			       struct pp_grpc_reply *reply);
void cri_runtime_config(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_list_images(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_image_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_pull_image(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_remove_image(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_image_fs_info(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
/* cri_sandbox.c */
void cri_run_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_stop_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_remove_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_pod_sandbox_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_list_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
/* cri_container.c */
void cri_create_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_start_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_stop_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_remove_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_container_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_list_containers(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_update_container_resources(void *ctx, const uint8_t *msg, size_t len,
				    struct pp_grpc_reply *reply);
void cri_reopen_container_log(void *ctx, const uint8_t *msg, size_t len,
			      struct pp_grpc_reply *reply);

/* cri_stats.c: ContainerStats, ListContainerStats, PodSandboxStats,
 * ListPodSandboxStats. */
void cri_container_stats(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_list_container_stats(void *ctx, const uint8_t *msg, size_t len,
			      struct pp_grpc_reply *reply);
void cri_pod_sandbox_stats(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply);
void cri_list_pod_sandbox_stats(void *ctx, const uint8_t *msg, size_t len,
				struct pp_grpc_reply *reply);
void cri_stats_cache_free(struct cri_stats_cache *c);

/* An interface's counters from /proc/PID/net/dev (text: the whole file);
 * lines that do not parse are skipped. *out: free(). */
struct cri_net_dev {
	char name[32];
	uint64_t rx_bytes, rx_errors, tx_bytes, tx_errors;
};
int cri_net_dev_parse(const char *text, struct cri_net_dev **out, size_t *n);

#endif
