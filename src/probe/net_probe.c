/* tcpSocket and httpGet (HTTP and HTTPS) probes in a child in the pod's
 * network namespace, and the HTTP pieces a caller with its own connection
 * uses. */
#include <ctype.h>
#include <netdb.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "probe/net_probe.h"
#include "probe/tls.h"
#include "util/cleanup.h"
#include "util/proc.h"

#define PROBE_USER_AGENT "kube-probe/1.30"

enum { EXIT_OK = 0, EXIT_FAILED = 1 };

int pp_http_status_code(const char *buf, size_t len)
{
	/* "HTTP/1.x NNN" and then a space, CR or the end of what was read */
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' || buf[7] > '9' ||
	    buf[8] != ' ')
		return -1;
	int code = 0;
	for (size_t k = 9; k < 12; k++) {
		if (buf[k] < '0' || buf[k] > '9')
			return -1;
		code = code * 10 + (buf[k] - '0');
	}
	if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -1;
	return code < 100 ? -1 : code;
}

bool pp_http_status_ok(int code)
{
	return code >= 200 && code < 400;
}

/* Go's wording, as kubelet's messages have it: "connection refused". */
const char *pp_net_probe_errstr(int e)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static bool has_header(const struct pp_net_probe *p, const char *name)
{
	for (size_t k = 0; k < p->n_headers; k++)
		if (strcasecmp(p->headers[k].key, name) == 0)
			return true;
	return false;
}

static const char *req_path(const struct pp_net_probe *p)
{
	return p->path && p->path[0] ? p->path : "/";
}

char *pp_http_probe_request(const struct pp_net_probe *p, size_t *len)
{
	const char *path = req_path(p);
	char *req = NULL;
	FILE *f = open_memstream(&req, len);
	if (f == NULL)
		return NULL;
	fprintf(f, "GET %s%s HTTP/1.1\r\n", path[0] == '/' ? "" : "/", path);
	if (!has_header(p, "Host"))
		fprintf(f, "Host: %s:%d\r\n", p->host, p->port);
	if (!has_header(p, "User-Agent"))
		fprintf(f, "User-Agent: %s\r\n", PROBE_USER_AGENT);
	if (!has_header(p, "Accept"))
		fprintf(f, "Accept: */*\r\n");
	for (size_t k = 0; k < p->n_headers; k++)
		fprintf(f, "%s: %s\r\n", p->headers[k].key, p->headers[k].value);
	fprintf(f, "Connection: close\r\n\r\n");
	if (fclose(f) != 0) {
		free(req);
		return NULL;
	}
	return req;
}

static const char *scheme(const struct pp_net_probe *p)
{
	return p->https ? "https" : "http";
}

void pp_http_probe_send_failed(const struct pp_net_probe *p, int e, char *msg, size_t size)
{
	pp_http_probe_failed(p, pp_net_probe_errstr(e), msg, size);
}

void pp_http_probe_failed(const struct pp_net_probe *p, const char *text, char *msg, size_t size)
{
	const char *path = req_path(p);
	snprintf(msg, size, "Get \"%s://%s:%d%s%s\": %s", scheme(p), p->host, p->port,
		 path[0] == '/' ? "" : "/", path, text);
}

void pp_tcp_probe_connect_failed(const struct pp_net_probe *p, int e, char *msg, size_t size)
{
	snprintf(msg, size, "dial tcp %s:%d: connect: %s", p->host, p->port,
		 pp_net_probe_errstr(e));
}

int pp_http_probe_check(const struct pp_net_probe *p, const char *buf, size_t len, char *msg,
			size_t size)
{
	int code = pp_http_status_code(buf, len);
	if (code < 0) {
		pp_http_probe_failed(p, "malformed HTTP response", msg, size);
		return -1;
	}
	if (!pp_http_status_ok(code)) {
		snprintf(msg, size, "HTTP probe failed with statuscode: %d", code);
		return -1;
	}
	return 0;
}

/* A TLS call on the (blocking, with timeouts) socket: wanting to read or
 * write again means the timeout passed. */
static ssize_t tls_done(struct pp_tls *t, ssize_t r, const char **why)
{
	if (r == PP_TLS_WANT_READ || r == PP_TLS_WANT_WRITE)
		*why = "i/o timeout";
	else if (r == PP_TLS_ERROR)
		*why = pp_tls_error(t);
	return r < 0 ? -1 : r;
}

/* Sends all of buf; -1 with why. */
static int send_all(int fd, struct pp_tls *t, const char *buf, size_t len, const char **why)
{
	while (len > 0) {
		ssize_t w = t ? tls_done(t, pp_tls_write(t, buf, len), why)
			      : send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && !t && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!t)
				*why = pp_net_probe_errstr(w < 0 ? errno : EPIPE);
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static ssize_t recv_some(int fd, struct pp_tls *t, char *buf, size_t len)
{
	const char *why;
	for (;;) {
		ssize_t r = t ? tls_done(t, pp_tls_read(t, buf, len), &why) : recv(fd, buf, len, 0);
		if (r < 0 && !t && errno == EINTR)
			continue;
		return r;
	}
}

/* One request and its response: a PP_HTTP_* verdict, its message (if
 * any) written to msg. */
static int http_exchange(const struct pp_net_probe *p, int fd, FILE *msg, int redirects,
			 struct pp_http_target *next)
{
	char text[PP_NET_PROBE_MSG_MAX];
	size_t req_len = 0;
	cleanup_free char *req = pp_http_probe_request(p, &req_len);
	cleanup_error struct pp_error *err = NULL;
	struct pp_tls *t = NULL;
	const char *why = "";
	if (req == NULL)
		return PP_HTTP_FAILED;
	if (p->https &&
	    (pp_tls_new(fd, p->host, &t, &err) < 0 || tls_done(t, pp_tls_handshake(t), &why) < 0)) {
		pp_http_probe_failed(p, t ? why : err->msg, text, sizeof(text));
		fputs(text, msg);
		pp_tls_free(t);
		return PP_HTTP_FAILED;
	}
	if (send_all(fd, t, req, req_len, &why) < 0) {
		pp_http_probe_failed(p, why, text, sizeof(text));
		fputs(text, msg);
		pp_tls_free(t);
		return PP_HTTP_FAILED;
	}
	char buf[PP_HTTP_RESPONSE_MAX] = {0};
	size_t len = 0;
	while (len < sizeof(buf) && pp_http_response_incomplete(buf, len)) {
		ssize_t r = recv_some(fd, t, buf + len, sizeof(buf) - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	pp_tls_free(t);
	int v = pp_http_probe_verdict(p, buf, len, redirects, next, text, sizeof(text));
	if (v == PP_HTTP_FAILED || v == PP_HTTP_WARNING)
		fputs(text, msg);
	return v;
}

/* A connected socket to p's host and port, or -1 with the message. */
static int connect_to(const struct pp_net_probe *p, FILE *msg)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", p->port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int r = getaddrinfo(p->host, port, &hints, &ai);
	if (r != 0) {
		fprintf(msg, "dial tcp: lookup %s: %s", p->host, gai_strerror(r));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = p->timeout_s};
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		char text[PP_NET_PROBE_MSG_MAX];
		pp_tcp_probe_connect_failed(p, errno, text, sizeof(text));
		fputs(text, msg);
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Exit status 0 success (a message: a warning), 1 failure. */
static int probe_child(const struct pp_net_probe *p, FILE *msg)
{
	if (p->netns_pidfd >= 0 && setns(p->netns_pidfd, CLONE_NEWNET) < 0) {
		fprintf(msg, "cannot enter the pod's network namespace: %s",
			pp_net_probe_errstr(errno));
		return EXIT_FAILED;
	}
	struct pp_net_probe at = *p;
	cleanup_free char *path = NULL;
	for (int redirects = 0;; redirects++) {
		int fd = connect_to(&at, msg);
		if (fd < 0)
			return EXIT_FAILED;
		struct pp_http_target next = {0};
		int v = at.http ? http_exchange(&at, fd, msg, redirects, &next) : PP_HTTP_OK;
		close(fd);
		if (v != PP_HTTP_REDIRECT)
			return v == PP_HTTP_FAILED ? EXIT_FAILED : EXIT_OK;
		free(path);
		path = next.path;
		at.path = path;
		at.port = next.port;
		at.https = next.https;
	}
}

int pp_net_probe_start(const struct pp_net_probe *p, int msg_fd, pid_t *pid, int *pidfd,
		       struct pp_error **err)
{
	pid_t child = pp_clone3(CLONE_PIDFD, pidfd);
	if (child < 0)
		return pp_error_set(err, errno, "probe: clone3");
	if (child == 0) {
		/* Dies with its parent; its signals are the default ones. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pp_reset_signals();
		FILE *msg = fdopen(msg_fd, "w");
		int r = msg ? probe_child(p, msg) : EXIT_FAILED;
		if (msg)
			fflush(msg);
		_exit(r);
	}
	*pid = child;
	return 0;
}
