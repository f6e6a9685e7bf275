/* libFuzzer entry for the CRI server's input: whatever a client writes to
 * the socket (it may be anyone in the socket's group). The first byte picks
 * the path:
 *   even: the rest is a connection's byte stream, fed to a gRPC session
 *         (HTTP/2 frames, the 5-byte message framing, the method table) in
 *         two pieces with its output drained between, as a socket would;
 *   odd:  the rest is a message handed to one handler (the second byte
 *         picks which) as protobuf-c decodes it.
 * Nothing may crash, hang or leak. The handlers run for real on an empty
 * image store in a directory of the fuzzer's own, but PullImage only
 * decodes (a pull would go to the network), and so do the methods that
 * make, stop or remove pods and containers (they would start processes):
 * their checks and translations are fuzzed through the lists and
 * statuses, and the translation's own unit test. */
#include <limits.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cri/cri_internal.h"
#include "cri/grpc.h"
#include "manifest/manifest.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "image/image.h"
#include "util/fs.h"
#include "util/settings.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_METHODS 64

static char dir[PATH_MAX];
static struct pp_cri_service svc;
static struct pp_grpc_method table[MAX_METHODS];
static size_t n_served;
static pp_grpc_handler served[MAX_METHODS];

static void pull_decode_only(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *r)
{
	Runtime__V1__PullImageRequest *req =
	    cri_unpack(&runtime__v1__pull_image_request__descriptor, msg, len, "PullImage", r);
	if (req)
		runtime__v1__pull_image_request__free_unpacked(req, NULL);
}

/* The methods that would start or stop processes: decoded only. */
static const struct {
	const char *path;
	const ProtobufCMessageDescriptor *d;
} decode_only[] = {
    {"/runtime.v1.RuntimeService/RunPodSandbox", &runtime__v1__run_pod_sandbox_request__descriptor},
    {"/runtime.v1.RuntimeService/StopPodSandbox",
     &runtime__v1__stop_pod_sandbox_request__descriptor},
    {"/runtime.v1.RuntimeService/RemovePodSandbox",
     &runtime__v1__remove_pod_sandbox_request__descriptor},
    {"/runtime.v1.RuntimeService/CreateContainer",
     &runtime__v1__create_container_request__descriptor},
    {"/runtime.v1.RuntimeService/StartContainer",
     &runtime__v1__start_container_request__descriptor},
    {"/runtime.v1.RuntimeService/StopContainer", &runtime__v1__stop_container_request__descriptor},
    {"/runtime.v1.RuntimeService/RemoveContainer",
     &runtime__v1__remove_container_request__descriptor},
    {"/runtime.v1.RuntimeService/UpdateContainerResources",
     &runtime__v1__update_container_resources_request__descriptor},
    {"/runtime.v1.RuntimeService/ReopenContainerLog",
     &runtime__v1__reopen_container_log_request__descriptor},
};
#define N_DECODE_ONLY (sizeof(decode_only) / sizeof(decode_only[0]))

/* What RunPodSandbox and CreateContainer make of a request they take, up
 * to the pod spec and the supervisor's decoded container (what would
 * start processes is left out). */
static void translate_sandbox(const Runtime__V1__PodSandboxConfig *cfg)
{
	struct pp_error *err = NULL;
	struct pp_pod *pod = NULL;
	if (cri_sandbox_check(cfg, &err) == 0 && cri_sandbox_spec(cfg, &pod, &err) == 0)
		pp_pod_free(pod);
	pp_error_free(&err);
}

static void translate_container(const Runtime__V1__ContainerConfig *cfg)
{
	struct pp_error *err = NULL;
	if (cri_container_check(cfg, &err) == 0) {
		char *body = cri_container_request(cfg, "c-0", "busybox:1.36", "/var/log/c.log");
		char *msg = xasprintf(PP_CTL_CRI_CREATE " %s", body);
		struct pp_ctl_cri_create req;
		if (pp_ctl_cri_create_decode(msg, strlen(msg), &req, &err) == 0)
			pp_ctl_cri_create_free(&req);
		free(msg);
		free(body);
	}
	pp_error_free(&err);
}

/* One decoder per method of decode_only: the index is in the name. */
#define DECODER(k)                                                                                 \
	static void decode_##k(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *r) \
	{                                                                                          \
		ProtobufCMessage *m = cri_unpack(decode_only[k].d, msg, len, "fuzz", r);           \
		if (m != NULL) {                                                                   \
			struct pp_error *err = NULL;                                               \
			if (k == 0)                                                                \
				translate_sandbox(                                                 \
				    ((Runtime__V1__RunPodSandboxRequest *)m)->config);             \
			if (k == 3)                                                                \
				translate_container(                                               \
				    ((Runtime__V1__CreateContainerRequest *)m)->config);           \
			pp_error_free(&err);                                                       \
			protobuf_c_message_free_unpacked(m, NULL);                                 \
		}                                                                                  \
	}
DECODER(0)
DECODER(1)
DECODER(2)
DECODER(3)
DECODER(4)
DECODER(5)
DECODER(6)
DECODER(7)
DECODER(8)
static const pp_grpc_handler decoders[N_DECODE_ONLY] = {
    decode_0, decode_1, decode_2, decode_3, decode_4, decode_5, decode_6, decode_7, decode_8};

static int init(void)
{
	snprintf(dir, sizeof(dir), "%s/peapod-fuzz-cri.%d", fuzz_tmpdir(), (int)getpid());
	if (pp_mkdir_p(dir, 0700, NULL) < 0)
		return -1;
	setenv("PEAPOD_ROOT", dir, 1);
	setenv("PEAPOD_RUN", dir, 1);
	setenv("PEAPOD_NETWORK", "none", 1);
	struct pp_error *err = NULL;
	if (pp_settings_load(&err) < 0 || pp_image_store_open(dir, &svc.store, &err) < 0) {
		pp_error_free(&err);
		return -1;
	}
	svc.socket_path = dir;
	size_t n = 0;
	for (const struct pp_grpc_method *m = pp_cri_methods; m->path && n < MAX_METHODS - 1;
	     m++, n++) {
		table[n] = *m;
		if (strcmp(m->path, "/runtime.v1.ImageService/PullImage") == 0)
			table[n].fn = pull_decode_only;
		for (size_t k = 0; k < N_DECODE_ONLY; k++)
			if (strcmp(m->path, decode_only[k].path) == 0)
				table[n].fn = decoders[k];
		if (table[n].fn)
			served[n_served++] = table[n].fn;
	}
	return 0;
}

static void drain(struct pp_grpc_conn *c)
{
	const uint8_t *out;
	size_t n;
	while ((n = pp_grpc_conn_output(c, &out)) > 0)
		pp_grpc_conn_consumed(c, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0' && init() < 0)
		abort();
	if (size < 2)
		return 0;
	if (data[0] % 2 == 0) {
		struct pp_grpc_conn *c = pp_grpc_conn_new(table, &svc);
		if (c == NULL)
			return 0;
		size_t half = (size - 1) / 2;
		drain(c);
		if (pp_grpc_conn_recv(c, data + 1, half) == 0) {
			drain(c);
			(void)pp_grpc_conn_recv(c, data + 1 + half, size - 1 - half);
		}
		drain(c);
		(void)pp_grpc_conn_done(c);
		pp_grpc_conn_free(c);
	} else {
		struct pp_grpc_reply r = {0};
		served[data[1] % n_served](&svc, data + 2, size - 2, &r);
		free(r.message);
		free(r.body);
	}
	return 0;
}
