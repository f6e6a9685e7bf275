/* The grpc probe's HTTP/2 side, on libnghttp2's memory interface: one
 * client session, one POST stream carrying the HealthCheckRequest, its
 * response headers, message and trailers collected for the verdict. */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>

#include "probe/grpc_health.h"
#include "probe/grpc_probe.h"
#include "util/cleanup.h"

#define PROBE_USER_AGENT "kube-probe/1.30"
#define RESPONSE_MAX 4096    /* a HealthCheckResponse is a few bytes */
#define GRPC_MESSAGE_MAX 256 /* of grpc-message, for the event */

struct pp_grpc_probe {
	nghttp2_session *session;
	int32_t stream;
	char authority[300];
	uint8_t *req; /* the gRPC message */
	size_t req_len, req_off;
	uint8_t *out; /* produced by the session, not yet sent */
	size_t out_len, out_cap;
	uint8_t resp[RESPONSE_MAX];
	size_t resp_len;
	bool resp_too_long;
	int http_status; /* :status, 0 none yet */
	int grpc_status; /* grpc-status, -1 none yet */
	char grpc_message[GRPC_MESSAGE_MAX];
	bool closed;	 /* the stream is over */
	uint32_t reset;	 /* its RST_STREAM error code */
	char error[256]; /* the connection failed: why */
};

static ssize_t read_request(nghttp2_session *session, int32_t stream, uint8_t *buf, size_t length,
			    uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct pp_grpc_probe *g = user;
	size_t n = g->req_len - g->req_off;
	if (n > length)
		n = length;
	memcpy(buf, g->req + g->req_off, n);
	g->req_off += n;
	if (g->req_off == g->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int parse_int(const uint8_t *v, size_t len)
{
	int r = 0;
	if (len == 0 || len > 9)
		return -2;
	for (size_t k = 0; k < len; k++) {
		if (v[k] < '0' || v[k] > '9')
			return -2;
		r = r * 10 + (v[k] - '0');
	}
	return r;
}

static bool name_is(const uint8_t *name, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(name, s, len) == 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct pp_grpc_probe *g = user;
	if (frame->hd.stream_id != g->stream)
		return 0;
	if (name_is(name, namelen, ":status"))
		g->http_status = parse_int(value, valuelen);
	else if (name_is(name, namelen, "grpc-status"))
		g->grpc_status = parse_int(value, valuelen);
	else if (name_is(name, namelen, "grpc-message"))
		snprintf(g->grpc_message, sizeof(g->grpc_message), "%.*s", (int)valuelen,
			 (const char *)value);
	return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t stream, const uint8_t *data,
		   size_t len, void *user)
{
	struct pp_grpc_probe *g = user;
	if (stream != g->stream)
		return 0;
	if (len > sizeof(g->resp) - g->resp_len) {
		g->resp_too_long = true;
		return 0;
	}
	memcpy(g->resp + g->resp_len, data, len);
	g->resp_len += len;
	return 0;
}

static int on_close(nghttp2_session *session, int32_t stream, uint32_t error_code, void *user)
{
	struct pp_grpc_probe *g = user;
	if (stream == g->stream) {
		g->closed = true;
		g->reset = error_code;
	}
	return 0;
}

/* A connection error of the session (it sends GOAWAY and gives up). */
static int on_error(nghttp2_session *session, int code, const char *text, size_t len, void *user)
{
	struct pp_grpc_probe *g = user;
	if (!g->error[0])
		snprintf(g->error, sizeof(g->error), "connection error: %.*s", (int)len, text);
	return 0;
}

static int submit(struct pp_grpc_probe *g, const char *service, int timeout_s)
{
	char timeout[32];
	snprintf(timeout, sizeof(timeout), "%dS", timeout_s > 0 ? timeout_s : 1);
#define HDR(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}
	nghttp2_nv hdrs[] = {
	    HDR(":method", "POST"),
	    HDR(":scheme", "http"),
	    HDR(":path", PP_GRPC_HEALTH_PATH),
	    HDR(":authority", g->authority),
	    HDR("content-type", "application/grpc"),
	    HDR("te", "trailers"),
	    HDR("user-agent", PROBE_USER_AGENT),
	    HDR("grpc-timeout", timeout),
	};
#undef HDR
	nghttp2_data_provider body = {.read_callback = read_request};
	g->req = pp_grpc_health_request(service, &g->req_len);
	if (nghttp2_submit_settings(g->session, NGHTTP2_FLAG_NONE, NULL, 0) != 0)
		return -1;
	g->stream = nghttp2_submit_request(g->session, NULL, hdrs, sizeof(hdrs) / sizeof(hdrs[0]),
					   &body, g);
	return g->stream < 0 ? -1 : 0;
}

struct pp_grpc_probe *pp_grpc_probe_new(const char *host, int port, const char *service,
					int timeout_s)
{
	struct pp_grpc_probe *g = xmalloc(sizeof(*g));
	nghttp2_session_callbacks *cb;
	g->grpc_status = -1;
	snprintf(g->authority, sizeof(g->authority), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
		 port);
	if (nghttp2_session_callbacks_new(&cb) != 0) {
		free(g);
		return NULL;
	}
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_callbacks_set_error_callback2(cb, on_error);
	int r = nghttp2_session_client_new(&g->session, cb, g);
	nghttp2_session_callbacks_del(cb);
	if (r != 0 || submit(g, service ? service : "", timeout_s) < 0) {
		pp_grpc_probe_free(g);
		return NULL;
	}
	return g;
}

void pp_grpc_probe_free(struct pp_grpc_probe *g)
{
	if (g == NULL)
		return;
	nghttp2_session_del(g->session);
	free(g->req);
	free(g->out);
	free(g);
}

void pp_grpc_probe_output(struct pp_grpc_probe *g, const uint8_t **data, size_t *len)
{
	for (;;) {
		const uint8_t *chunk;
		ssize_t n = g->error[0] ? 0 : nghttp2_session_mem_send(g->session, &chunk);
		if (n < 0) {
			snprintf(g->error, sizeof(g->error), "%s", nghttp2_strerror((int)n));
			break;
		}
		if (n == 0)
			break;
		if (g->out_len + (size_t)n > g->out_cap) {
			g->out_cap = (g->out_len + (size_t)n) * 2;
			g->out = xrealloc(g->out, g->out_cap);
		}
		memcpy(g->out + g->out_len, chunk, (size_t)n);
		g->out_len += (size_t)n;
	}
	*data = g->out;
	*len = g->out_len;
}

void pp_grpc_probe_sent(struct pp_grpc_probe *g, size_t n)
{
	if (n > g->out_len)
		n = g->out_len;
	memmove(g->out, g->out + n, g->out_len - n);
	g->out_len -= n;
}

void pp_grpc_probe_input(struct pp_grpc_probe *g, const uint8_t *data, size_t len)
{
	if (g->error[0] || g->closed)
		return;
	if (len == 0) {
		snprintf(g->error, sizeof(g->error), "connection closed by the server");
		return;
	}
	ssize_t r = nghttp2_session_mem_recv(g->session, data, len);
	if (r < 0)
		snprintf(g->error, sizeof(g->error), "%s", nghttp2_strerror((int)r));
}

/* kubelet's words (pkg/probe/grpc): an RPC error, its code and text. */
static int rpc_failed(char *msg, size_t size, int code, const char *desc)
{
	char buf[32];
	const char *name = pp_grpc_code_name(code, buf, sizeof(buf));
	if (code == 12) /* Unimplemented */
		snprintf(msg, size,
			 "this server does not implement the grpc health protocol "
			 "(grpc.health.v1.Health): rpc error: code = %s desc = %s",
			 name, desc);
	else
		snprintf(msg, size,
			 "error: health rpc probe failed: rpc error: code = %s desc = %s", name,
			 desc);
	return -1;
}

int pp_grpc_probe_result(const struct pp_grpc_probe *g, char *msg, size_t size)
{
	enum { UNKNOWN = 2, INTERNAL = 13, UNAVAILABLE = 14 };
	if (!g->closed && !g->error[0])
		return PP_GRPC_PROBE_PENDING;
	if (g->http_status != 200) {
		if (g->http_status > 0) {
			char desc[64];
			snprintf(desc, sizeof(desc),
				 "unexpected HTTP status code received from server: %d",
				 g->http_status);
			return rpc_failed(msg, size, UNAVAILABLE, desc);
		}
		return rpc_failed(msg, size, UNAVAILABLE,
				  g->error[0] ? g->error
				  : g->reset  ? nghttp2_http2_strerror(g->reset)
					      : "no response headers");
	}
	if (g->grpc_status < 0)
		return rpc_failed(
		    msg, size, g->error[0] ? UNAVAILABLE : INTERNAL,
		    g->error[0] ? g->error : "server closed the stream without sending trailers");
	if (g->grpc_status != 0)
		return rpc_failed(msg, size, g->grpc_status, g->grpc_message);
	int status;
	if (g->resp_too_long || pp_grpc_health_response(g->resp, g->resp_len, &status) < 0)
		return rpc_failed(msg, size, INTERNAL,
				  "grpc: failed to unmarshal the received message");
	if (status != PP_GRPC_SERVING) {
		char buf[16];
		snprintf(msg, size, "service unhealthy (responded with \"%s\")",
			 pp_grpc_serving_status_name(status, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}
