/* grpc-health-server: the gRPC health checking service
 * (grpc.health.v1.Health/Check) over HTTP/2 cleartext with prior
 * knowledge, for grpc probe tests (static, runs in a busybox rootfs).
 *   grpc-health-server PORT STATUS_FILE [SERVICE...]
 * Answers for the server ("") and each SERVICE: SERVING when STATUS_FILE
 * holds "SERVING", NOT_SERVING otherwise (or when it is missing); any other
 * service gets grpc-status 5 (NotFound, "unknown service") as grpc-go's
 * health server answers; any other method grpc-status 12 (Unimplemented).
 * One connection at a time, each served until the client closes it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HEALTH_PATH "/grpc.health.v1.Health/Check"
#define BODY_MAX 1024
#define IDLE_SECONDS 5

enum { GRPC_OK = 0, GRPC_NOT_FOUND = 5, GRPC_UNIMPLEMENTED = 12 };
enum { SERVING = 1, NOT_SERVING = 2 };

static const char *status_file;
static char **services;
static int n_services;

struct stream {
	int32_t id;
	bool health; /* :path is the health check */
	uint8_t body[BODY_MAX];
	size_t body_len;
	uint8_t resp[16];
	size_t resp_len, resp_off;
};

struct conn {
	int fd;
	struct stream *streams[16];
};

static struct stream *find_stream(struct conn *c, int32_t id)
{
	for (size_t k = 0; k < sizeof(c->streams) / sizeof(c->streams[0]); k++)
		if (c->streams[k] && c->streams[k]->id == id)
			return c->streams[k];
	return NULL;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct conn *c = user;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	for (size_t k = 0; k < sizeof(c->streams) / sizeof(c->streams[0]); k++)
		if (c->streams[k] == NULL) {
			c->streams[k] = calloc(1, sizeof(struct stream));
			if (c->streams[k] == NULL)
				return NGHTTP2_ERR_CALLBACK_FAILURE;
			c->streams[k]->id = f->hd.stream_id;
			return 0;
		}
	return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* refuses the stream */
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct stream *st = find_stream(user, f->hd.stream_id);
	if (st && namelen == 5 && memcmp(name, ":path", 5) == 0)
		st->health =
		    valuelen == strlen(HEALTH_PATH) && memcmp(value, HEALTH_PATH, valuelen) == 0;
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	struct stream *st = find_stream(user, id);
	if (st == NULL)
		return 0;
	if (len > sizeof(st->body) - st->body_len)
		len = sizeof(st->body) - st->body_len;
	memcpy(st->body + st->body_len, data, len);
	st->body_len += len;
	return 0;
}

/* The service of a HealthCheckRequest message ("" when absent); false when
 * the message is not one this helper understands. */
static bool request_service(const struct stream *st, char *out, size_t size)
{
	out[0] = '\0';
	if (st->body_len < 5 || st->body[0] != 0)
		return false;
	const uint8_t *p = st->body + 5;
	size_t len = st->body_len - 5;
	if (len == 0)
		return true;
	/* field 1, length-delimited, a length under 128 */
	if (len < 2 || p[0] != 0x0a || p[1] > 127 || (size_t)p[1] != len - 2 || p[1] >= size)
		return false;
	memcpy(out, p + 2, p[1]);
	out[p[1]] = '\0';
	return true;
}

static int current_status(void)
{
	char buf[32] = "";
	FILE *f = fopen(status_file, "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	return strncmp(buf, "SERVING", 7) == 0 ? SERVING : NOT_SERVING;
}

static bool known_service(const char *name)
{
	if (name[0] == '\0')
		return true;
	for (int k = 0; k < n_services; k++)
		if (strcmp(services[k], name) == 0)
			return true;
	return false;
}

static ssize_t read_response(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			     uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct stream *st = src->ptr;
	size_t n = st->resp_len - st->resp_off;
	if (n > length)
		n = length;
	memcpy(buf, st->resp + st->resp_off, n);
	st->resp_off += n;
	if (st->resp_off == st->resp_len) {
		/* grpc-status goes in the trailers */
		nghttp2_nv trailer[] = {{(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, 0}};
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(s, id, trailer, 1) != 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE         \
	}

/* A response without a message: grpc-status in the headers (trailers-only). */
static int respond_error(nghttp2_session *s, int32_t id, const char *code, const char *text)
{
	nghttp2_nv hdrs[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
			     NV("grpc-status", code), NV("grpc-message", text)};
	return nghttp2_submit_response(s, id, hdrs, 4, NULL);
}

static int respond(nghttp2_session *s, struct stream *st)
{
	char service[128];
	if (!st->health)
		return respond_error(s, st->id, "12", "unknown method");
	if (!request_service(st, service, sizeof(service)))
		return respond_error(s, st->id, "13", "cannot parse the request");
	if (!known_service(service))
		return respond_error(s, st->id, "5", "unknown service");
	/* HealthCheckResponse{status}: field 1, varint */
	uint8_t msg[] = {0, 0, 0, 0, 2, 0x08, (uint8_t)current_status()};
	memcpy(st->resp, msg, sizeof(msg));
	st->resp_len = sizeof(msg);
	nghttp2_nv hdrs[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
	nghttp2_data_provider body = {.source.ptr = st, .read_callback = read_response};
	return nghttp2_submit_response(s, st->id, hdrs, 2, &body);
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct stream *st = find_stream(user, f->hd.stream_id);
	if (st && (f->hd.type == NGHTTP2_DATA || f->hd.type == NGHTTP2_HEADERS) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return respond(s, st) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t error, void *user)
{
	struct conn *c = user;
	for (size_t k = 0; k < sizeof(c->streams) / sizeof(c->streams[0]); k++)
		if (c->streams[k] && c->streams[k]->id == id) {
			free(c->streams[k]);
			c->streams[k] = NULL;
		}
	return 0;
}

static int flush(nghttp2_session *s, int fd)
{
	const uint8_t *data;
	ssize_t n;
	while ((n = nghttp2_session_mem_send(s, &data)) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(fd, data + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			off += w;
		}
	return n < 0 ? -1 : 0;
}

static void serve(int fd)
{
	struct conn c = {.fd = fd};
	nghttp2_session_callbacks *cb;
	nghttp2_session *s;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		return;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	int r = nghttp2_session_server_new(&s, cb, &c);
	nghttp2_session_callbacks_del(cb);
	if (r != 0)
		return;
	struct timeval tv = {.tv_sec = IDLE_SECONDS};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0) == 0 && flush(s, fd) == 0) {
		uint8_t buf[4096];
		ssize_t n;
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR))
			if (n > 0 &&
			    (nghttp2_session_mem_recv(s, buf, (size_t)n) < 0 || flush(s, fd) < 0))
				break;
	}
	nghttp2_session_del(s);
	for (size_t k = 0; k < sizeof(c.streams) / sizeof(c.streams[0]); k++)
		free(c.streams[k]);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s PORT STATUS_FILE [SERVICE...]\n", argv[0]);
		return 2;
	}
	status_file = argv[2];
	services = argv + 3;
	n_services = argc - 3;
	signal(SIGPIPE, SIG_IGN);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)atoi(argv[1])),
				.sin_addr.s_addr = htonl(INADDR_ANY)};
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0) {
		perror("grpc-health-server: listen");
		return 1;
	}
	for (;;) {
		int fd = accept(l, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("grpc-health-server: accept");
			return 1;
		}
		serve(fd);
		close(fd);
	}
}
