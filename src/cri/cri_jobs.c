/* Replies made in a job (cri_job_start): the handler's work runs in a
 * child of the server, which hands the whole reply back on the job's
 * pipe, so that the server answers every other call meanwhile (kubelet
 * lists its sandboxes every second while one starts). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cri/cri_internal.h"
#include "util/cleanup.h"

/* The reply on the pipe: this, the message's bytes, the body's. */
struct reply_head {
	int32_t code;
	uint32_t message_len;
	uint32_t body_len;
};

struct later {
	cri_reply_work work;
	void *arg;
};

static int code_of(const struct pp_error *err)
{
	switch (err ? err->status : 0) {
	case ENOENT:
		return PP_GRPC_NOT_FOUND;
	case EINVAL:
		return PP_GRPC_INVALID_ARGUMENT;
	case EBUSY:
		return PP_GRPC_FAILED_PRECONDITION;
	case ENOSPC:
		return PP_GRPC_RESOURCE_EXHAUSTED;
	case ENOTSUP:
		return PP_GRPC_UNIMPLEMENTED;
	case EACCES:
	case EPERM:
		return PP_GRPC_PERMISSION_DENIED;
	default:
		return PP_GRPC_UNKNOWN;
	}
}

void cri_reply_error(struct pp_grpc_reply *reply, const char *method, const struct pp_error *err)
{
	char buf[2048];
	pp_grpc_reply_error(reply, code_of(err), "%s: %s", method,
			    pp_error_text(err, buf, sizeof(buf)));
}

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

int cri_job_write_reply(int fd, const struct pp_grpc_reply *reply)
{
	struct reply_head h = {.code = reply->code,
			       .message_len = reply->message ? (uint32_t)strlen(reply->message) : 0,
			       .body_len = (uint32_t)reply->len};
	bool ok = write_all(fd, &h, sizeof(h)) && write_all(fd, reply->message, h.message_len) &&
		  write_all(fd, reply->body, h.body_len);
	return ok ? 0 : 1;
}

static int child(struct pp_cri_service *svc, void *arg, int fd)
{
	struct later *l = arg;
	struct pp_grpc_reply reply = {.code = PP_GRPC_OK};
	l->work(svc, l->arg, &reply);
	return cri_job_write_reply(fd, &reply);
}

void cri_job_finish_reply(struct pp_grpc_call *call, const char *out, size_t len, int wstatus,
			  const char *method)
{
	struct pp_grpc_reply reply = {0};
	struct reply_head h = {0};
	if (len >= sizeof(h))
		memcpy(&h, out, sizeof(h));
	if (len < sizeof(h) || (size_t)h.message_len + h.body_len != len - sizeof(h)) {
		pp_grpc_reply_error(
		    &reply, PP_GRPC_INTERNAL,
		    "%s%sthe call's process ended without an answer (%s %d)", method ? method : "",
		    method ? ": " : "", WIFSIGNALED(wstatus) ? "signal" : "exit status",
		    WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
	} else {
		reply.code = h.code;
		if (h.code != PP_GRPC_OK) {
			reply.message = xmalloc(h.message_len + 1);
			memcpy(reply.message, out + sizeof(h), h.message_len);
			reply.message[h.message_len] = '\0';
		}
		reply.len = h.body_len;
		reply.body = xmalloc(h.body_len ? h.body_len : 1);
		memcpy(reply.body, out + sizeof(h) + h.message_len, h.body_len);
	}
	pp_grpc_call_finish(call, &reply);
}

static void done(struct pp_cri_service *svc, struct pp_grpc_call *call, const char *out, size_t len,
		 int wstatus)
{
	(void)svc;
	cri_job_finish_reply(call, out, len, wstatus, NULL);
}

void cri_reply_later(struct pp_cri_service *svc, struct pp_grpc_reply *reply, cri_reply_work work,
		     void *arg, const char *method)
{
	/* No server (a unit test's service): the work is done here. */
	if (svc->server == NULL) {
		work(svc, arg, reply);
		return;
	}
	struct later l = {.work = work, .arg = arg};
	struct pp_grpc_call *call = pp_grpc_reply_defer(reply);
	cleanup_error struct pp_error *err = NULL;
	if (cri_job_start(svc, call, child, &l, done, &err) < 0) {
		/* answered now (the call, no longer deferred, goes with it) */
		char buf[512];
		pp_grpc_reply_error(reply, PP_GRPC_INTERNAL, "%s: cannot start its process: %s",
				    method, pp_error_text(err, buf, sizeof(buf)));
	}
}
