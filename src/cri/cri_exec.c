/* ExecSync (a command run to its end in a job's child, its output in the
 * answer), and Exec, Attach and PortForward (a URL of the streaming server
 * with a new token, stream_server.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cri/cri_internal.h"
#include "ops/exec.h"
#include "ops/ops.h"
#include "runtime/exec.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/proc.h"

/* What the CRI asks runtimes to keep of an ExecSync's output, each stream
 * (CVE-2022-1708): the rest is read and dropped. */
#define EXEC_SYNC_MAX_OUTPUT (16u << 20)
/* After the command's exit, its output pipes may still be held by a
 * process it left behind: read them this long more, no longer. */
#define EXEC_SYNC_DRAIN_MS 1000
#define READ_CHUNK 65536

/* The job's answer on its pipe: a tag, then a packed ExecSyncResponse
 * ('R') or a gRPC code (1 byte) and a message ('E'). */
#define ANSWER_RESPONSE 'R'
#define ANSWER_ERROR 'E'

static int grpc_code_of(const struct pp_error *e)
{
	if (e == NULL)
		return PP_GRPC_UNKNOWN;
	switch (e->status) {
	case ENOENT:
		return PP_GRPC_NOT_FOUND;
	case EINVAL:
		return PP_GRPC_INVALID_ARGUMENT;
	case EAGAIN:
		return PP_GRPC_RESOURCE_EXHAUSTED;
	default:
		return PP_GRPC_UNKNOWN;
	}
}

/* The container's state in its pod's status: whether it runs now. */
static bool container_running(const struct pp_pod_view *v, const char *name)
{
	static const char *const lists[] = {"containerStatuses", "initContainerStatuses",
					    "ephemeralContainerStatuses"};
	struct json_object *status = NULL, *a = NULL, *n = NULL, *state = NULL;
	if (!v->alive || !json_object_object_get_ex(v->obj, "status", &status))
		return false;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		if (!json_object_object_get_ex(status, lists[l], &a) ||
		    !json_object_is_type(a, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *c = json_object_array_get_idx(a, i);
			if (json_object_object_get_ex(c, "name", &n) &&
			    strcmp(json_object_get_string(n), name) == 0)
				return json_object_object_get_ex(c, "state", &state) &&
				       json_object_object_get_ex(state, "running", NULL);
		}
	}
	return false;
}

/* The running container id names, into req (ns, name, uid, container);
 * reply set when there is none. */
static int find_running(const char *method, const char *id, struct cri_stream_req *req,
			struct pp_grpc_reply *reply)
{
	struct pp_pod_view v;
	cleanup_error struct pp_error *err = NULL;
	char *name = NULL;
	if (id == NULL || id[0] == '\0')
		return pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
					   "%s: container_id is empty", method);
	if (cri_find_container(id, &v, &name, &err) < 0)
		return pp_grpc_reply_error(reply, grpc_code_of(err), "%s: %s", method, err->msg);
	int r = 0;
	if (!container_running(&v, name))
		r = pp_grpc_reply_error(reply, PP_GRPC_FAILED_PRECONDITION,
					"%s: container %s (\"%s\" of pod %s/%s) is not running",
					method, id, name, v.ns, v.name);
	else
		*req = (struct cri_stream_req){.ns = xstrdup(v.ns),
					       .name = xstrdup(v.name),
					       .uid = xstrdup(v.uid),
					       .container = name};
	if (r != 0)
		free(name);
	pp_pod_view_free(&v);
	return r;
}

static char **strv_copy(char **v, size_t n)
{
	char **out = xmalloc(sizeof(*out) * (n + 1));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

struct sync_out {
	int fd;
	bool open;
	struct {
		uint8_t *data;
		size_t len, cap;
	} b;
};

/* Reads what fd has now; false at its end. */
static bool sync_read(struct sync_out *o)
{
	uint8_t chunk[READ_CHUNK];
	ssize_t n = read(o->fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	size_t keep = o->b.len >= EXEC_SYNC_MAX_OUTPUT ? 0 : (size_t)n;
	if (o->b.len + keep > EXEC_SYNC_MAX_OUTPUT)
		keep = EXEC_SYNC_MAX_OUTPUT - o->b.len;
	if (o->b.len + keep > o->b.cap) {
		o->b.cap = (o->b.len + keep) * 2;
		o->b.data = xrealloc(o->b.data, o->b.cap);
	}
	memcpy(o->b.data + o->b.len, chunk, keep);
	o->b.len += keep;
	return true;
}

static void write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

static int answer_error(int fd, int code, const char *msg)
{
	uint8_t head[2] = {ANSWER_ERROR, (uint8_t)code};
	write_all(fd, head, 2);
	write_all(fd, msg, strlen(msg));
	return 0;
}

struct sync_job {
	struct cri_stream_req target;
	char **cmd;
	int64_t timeout_s;
};

/* Reads both outputs until they end (the process's exit, then
 * EXEC_SYNC_DRAIN_MS at most) or the deadline: true when it came. */
static bool sync_collect(struct pp_exec_process *p, struct sync_out out[2], int64_t deadline)
{
	bool exited = false;
	int64_t drain_until = 0;
	while (out[0].open || out[1].open || !exited) {
		struct pollfd fds[3] = {{.fd = out[0].open ? out[0].fd : -1, .events = POLLIN},
					{.fd = out[1].open ? out[1].fd : -1, .events = POLLIN},
					{.fd = exited ? -1 : p->pidfd, .events = POLLIN}};
		int64_t until = exited ? drain_until : deadline;
		int timeout = until ? pp_ms_left(until) : -1;
		int n = poll(fds, 3, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && exited)
			break; /* a process left behind holds the pipes: done without it */
		if (n == 0)
			return false;
		for (int i = 0; i < 2; i++)
			if (fds[i].revents && !sync_read(&out[i]))
				out[i].open = false;
		if (fds[2].revents) {
			exited = true;
			drain_until = pp_monotonic_ms() + EXEC_SYNC_DRAIN_MS;
			if (deadline && deadline < drain_until)
				drain_until = deadline;
		}
	}
	return true;
}

/* In the job's child: the command, its output and exit status. */
static int exec_sync_job(struct pp_cri_service *svc, void *arg, int fd)
{
	const struct sync_job *j = arg;
	(void)svc;
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		return answer_error(fd, PP_GRPC_INTERNAL, "pipe");
	struct pp_pod_exec_opts o = {
	    .ns = j->target.ns, .name = j->target.name, .container = j->target.container};
	struct pp_pod_exec_io io = {.in = -1, .out = po[1], .errfd = pe[1]};
	struct pp_exec_process p;
	cleanup_error struct pp_error *err = NULL;
	int r = pp_pod_exec_start(&o, j->cmd, &io, &p, &err);
	close(po[1]);
	close(pe[1]);
	struct sync_out out[2] = {{.fd = po[0], .open = true}, {.fd = pe[0], .open = true}};
	Runtime__V1__ExecSyncResponse resp = RUNTIME__V1__EXEC_SYNC_RESPONSE__INIT;
	if (r < 0)
		return answer_error(fd, grpc_code_of(err), err ? err->msg : "exec failed");
	if (r > 0) { /* not started: 126 or 127, as runc says it */
		resp.exit_code = r;
		resp.stderr.data = (uint8_t *)(err ? err->msg : "");
		resp.stderr.len = strlen((char *)resp.stderr.data);
	} else {
		int64_t deadline = j->timeout_s > 0 ? pp_monotonic_ms() + j->timeout_s * 1000 : 0;
		if (!sync_collect(&p, out, deadline)) {
			/* its process group too: the session it leads (a shell's
			 * children); not reaped yet, so the group is still its */
			kill(-p.pid, SIGKILL);
			pp_pidfd_kill_and_reap(p.pidfd);
			close(p.pidfd);
			cleanup_free char *m =
			    xasprintf("timeout %llds exceeded: the command was killed",
				      (long long)j->timeout_s);
			return answer_error(fd, PP_GRPC_DEADLINE_EXCEEDED, m);
		}
		resp.exit_code = pp_exec_wait(&p);
		resp.stdout.data = out[0].b.data;
		resp.stdout.len = out[0].b.len;
		resp.stderr.data = out[1].b.data;
		resp.stderr.len = out[1].b.len;
	}
	size_t len = protobuf_c_message_get_packed_size(&resp.base);
	cleanup_free uint8_t *buf = xmalloc(len + 1);
	buf[0] = ANSWER_RESPONSE;
	protobuf_c_message_pack(&resp.base, buf + 1);
	write_all(fd, buf, len + 1);
	return 0;
}

static void exec_sync_done(struct pp_cri_service *svc, struct pp_grpc_call *call, const char *out,
			   size_t len, int wstatus)
{
	struct pp_grpc_reply reply = {0};
	(void)svc;
	if (len >= 1 && out[0] == ANSWER_RESPONSE) {
		reply.code = PP_GRPC_OK;
		reply.len = len - 1;
		reply.body = xmalloc(len);
		memcpy(reply.body, out + 1, len - 1);
	} else if (len >= 2 && out[0] == ANSWER_ERROR) {
		pp_grpc_reply_error(&reply, (uint8_t)out[1], "ExecSync: %.*s", (int)(len - 2),
				    out + 2);
	} else {
		pp_grpc_reply_error(&reply, PP_GRPC_INTERNAL,
				    "ExecSync: the exec's process ended without an answer (%s %d)",
				    WIFSIGNALED(wstatus) ? "signal" : "status",
				    WIFSIGNALED(wstatus) ? WTERMSIG(wstatus)
							 : WEXITSTATUS(wstatus));
	}
	pp_grpc_call_finish(call, &reply);
}

void cri_exec_sync(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__ExecSyncRequest *req =
	    cri_unpack(&runtime__v1__exec_sync_request__descriptor, msg, len, "ExecSync", reply);
	if (req == NULL)
		return;
	struct sync_job j = {.timeout_s = req->timeout};
	if (req->n_cmd == 0) {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "ExecSync: cmd is empty");
	} else if (find_running("ExecSync", req->container_id, &j.target, reply) == 0) {
		j.cmd = strv_copy(req->cmd, req->n_cmd);
		struct pp_grpc_call *call = pp_grpc_reply_defer(reply);
		cleanup_error struct pp_error *err = NULL;
		if (cri_job_start(svc, call, exec_sync_job, &j, exec_sync_done, &err) < 0) {
			struct pp_grpc_reply r = {0};
			pp_grpc_reply_error(&r, PP_GRPC_INTERNAL, "ExecSync: %s", err->msg);
			pp_grpc_call_finish(call, &r);
		}
		j.target.cmd = j.cmd; /* freed with it */
	}
	cri_stream_req_free(&j.target);
	runtime__v1__exec_sync_request__free_unpacked(req, NULL);
}

/* A token for r; the answer (of descriptor d's kind) holds its URL. */
static void answer_url(struct pp_cri_service *svc, const char *method, struct cri_stream_req *r,
		       struct pp_grpc_reply *reply)
{
	cleanup_free char *url = NULL;
	cleanup_error struct pp_error *err = NULL;
	if (cri_stream_token(svc, r, &url, &err) < 0) {
		pp_grpc_reply_error(
		    reply, err->status == EAGAIN ? PP_GRPC_RESOURCE_EXHAUSTED : PP_GRPC_UNAVAILABLE,
		    "%s: %s", method, err->msg);
		return;
	}
	/* ExecResponse, AttachResponse and PortForwardResponse: the same
	 * message, url = 1. */
	Runtime__V1__ExecResponse resp = RUNTIME__V1__EXEC_RESPONSE__INIT;
	resp.url = url;
	cri_reply_message(reply, &resp.base);
}

/* kubelet's checks of a stream's options (remotecommand's). */
static int check_streams(const char *method, bool in, bool out, bool errs, bool tty,
			 struct pp_grpc_reply *reply)
{
	if (!in && !out && !errs)
		return pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
					   "%s: one of stdin, stdout, or stderr must be set",
					   method);
	if (tty && errs)
		return pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
					   "%s: tty and stderr cannot both be true", method);
	return 0;
}

void cri_exec(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__ExecRequest *req =
	    cri_unpack(&runtime__v1__exec_request__descriptor, msg, len, "Exec", reply);
	if (req == NULL)
		return;
	struct cri_stream_req r = {0};
	if (req->n_cmd == 0)
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "Exec: cmd is empty");
	else if (check_streams("Exec", req->stdin, req->stdout, req->stderr, req->tty, reply) ==
		     0 &&
		 find_running("Exec", req->container_id, &r, reply) == 0) {
		r.kind = CRI_STREAM_EXEC;
		r.cmd = strv_copy(req->cmd, req->n_cmd);
		r.tty = req->tty;
		r.in = req->stdin;
		r.out = req->stdout;
		r.err = req->stderr;
		answer_url(ctx, "Exec", &r, reply);
	}
	cri_stream_req_free(&r);
	runtime__v1__exec_request__free_unpacked(req, NULL);
}

void cri_attach(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__AttachRequest *req =
	    cri_unpack(&runtime__v1__attach_request__descriptor, msg, len, "Attach", reply);
	if (req == NULL)
		return;
	struct cri_stream_req r = {0};
	if (check_streams("Attach", req->stdin, req->stdout, req->stderr, req->tty, reply) == 0 &&
	    find_running("Attach", req->container_id, &r, reply) == 0) {
		r.kind = CRI_STREAM_ATTACH;
		r.tty = req->tty;
		r.in = req->stdin;
		r.out = req->stdout;
		r.err = req->stderr;
		answer_url(ctx, "Attach", &r, reply);
	}
	cri_stream_req_free(&r);
	runtime__v1__attach_request__free_unpacked(req, NULL);
}

void cri_port_forward(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__PortForwardRequest *req = cri_unpack(
	    &runtime__v1__port_forward_request__descriptor, msg, len, "PortForward", reply);
	if (req == NULL)
		return;
	struct pp_pod_view v;
	cleanup_error struct pp_error *err = NULL;
	if (req->pod_sandbox_id[0] == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "PortForward: pod_sandbox_id is empty");
	} else if (cri_find_sandbox(req->pod_sandbox_id, &v, &err) < 0) {
		pp_grpc_reply_error(reply, grpc_code_of(err), "PortForward: %s", err->msg);
	} else {
		if (!v.alive) {
			pp_grpc_reply_error(reply, PP_GRPC_FAILED_PRECONDITION,
					    "PortForward: sandbox %s (pod %s/%s) is not running",
					    req->pod_sandbox_id, v.ns, v.name);
		} else {
			struct cri_stream_req r = {.kind = CRI_STREAM_PORTFORWARD,
						   .ns = xstrdup(v.ns),
						   .name = xstrdup(v.name),
						   .uid = xstrdup(v.uid)};
			answer_url(ctx, "PortForward", &r, reply);
		}
		pp_pod_view_free(&v);
	}
	runtime__v1__port_forward_request__free_unpacked(req, NULL);
}
