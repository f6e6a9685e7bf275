/* One upgraded stream connection, in a child of the server of its own
 * (stream_server.c): the 101 answer, then SPDY/3.1 frames (spdy.h) both
 * ways, the streams the client opens by their "streamtype" header, and
 * what they carry: a command's stdio (exec), the container's (attach), or
 * connections into the pod's network namespace (port-forward). The
 * protocols are kubelet's (k8s.io/kubelet pkg/cri/streaming, read for
 * what they say, nothing copied): v4/v3/v2.channel.k8s.io and
 * portforward.k8s.io. Blocking I/O with poll: one connection per process. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cri/cri_internal.h"
#include "cri/spdy.h"
#include "ops/exec.h"
#include "ops/logs.h"
#include "ops/reach.h"
#include "runtime/exec.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/netns.h"
#include "util/proc.h"

/* kubelet's: how long the client has to open its streams. */
#define STREAM_CREATION_MS (30 * 1000)
/* How long a tty's first size may take to come before the command starts
 * (it starts with the size it was given, so `stty size` sees it). */
#define FIRST_RESIZE_MS 300
/* After the end was sent: the client closes; we wait this long at most. */
#define LINGER_MS (10 * 1000)
/* The command's exit, then its output read this long more at most (a
 * process it left behind may hold the pipes). */
#define DRAIN_MS 1000
#define MAX_STREAMS 512
#define CHUNK 32768
#define RESIZE_BUF 4096

enum stype { ST_UNKNOWN, ST_ERROR, ST_STDIN, ST_STDOUT, ST_STDERR, ST_RESIZE, ST_DATA };

struct stream {
	uint32_t id;
	enum stype type;
	int port;
	char *request_id;
	bool remote_fin, local_fin, reset;
	/* port-forward: a data stream's connection in the pod, and its pair */
	int sock;
	bool connected;
	struct stream *pair;
};

struct sess {
	int fd;
	struct pp_spdy *spdy;
	struct pp_spdy_buf in, out;
	bool gone; /* the peer closed, or sent GOAWAY */
	const struct cri_stream_req *req;
	int version; /* 2, 3, 4; 0: port-forward */
	struct stream *streams[MAX_STREAMS];
	size_t n_streams;
	struct stream *s_error, *s_stdin, *s_stdout, *s_stderr, *s_resize;
	/* exec, attach */
	int in_fd;		       /* the process's stdin or terminal, -1 */
	int tty_fd;		       /* the terminal to resize, -1 */
	bool in_is_pty;		       /* attach: a terminal's EOF is its VEOF character */
	struct pp_spdy_buf pending_in; /* stdin come before the process */
	char resize[RESIZE_BUF];
	size_t resize_len;
	bool sized;
	unsigned short rows, cols;
	/* port-forward */
	struct pp_netns_visit visit;
	int netns;
};

static const char *const stype_names[] = {
    [ST_ERROR] = "error",   [ST_STDIN] = "stdin",   [ST_STDOUT] = "stdout",
    [ST_STDERR] = "stderr", [ST_RESIZE] = "resize", [ST_DATA] = "data"};

static void send_all(struct sess *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0 && !s->gone) {
		ssize_t w = send(s->fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->gone = true;
			return;
		}
		p += w;
		len -= (size_t)w;
	}
}

static void flush(struct sess *s)
{
	send_all(s, s->out.data, s->out.len);
	s->out.len = 0;
}

static void write_fd(int fd, const void *data, size_t len)
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

static struct stream *stream_find(struct sess *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_streams; i++)
		if (s->streams[i]->id == id)
			return s->streams[i];
	return NULL;
}

/* Data to the peer on st (nothing once it is closed our way or reset). */
static void stream_write(struct sess *s, struct stream *st, const void *data, size_t len)
{
	if (st == NULL || st->local_fin || st->reset)
		return;
	const uint8_t *p = data;
	while (len > 0) {
		size_t n = len > CHUNK ? CHUNK : len;
		pp_spdy_put_data(&s->out, st->id, p, n, false);
		p += n;
		len -= n;
	}
	flush(s);
}

static void stream_close(struct sess *s, struct stream *st)
{
	if (st == NULL || st->local_fin || st->reset)
		return;
	pp_spdy_put_data(&s->out, st->id, NULL, 0, true);
	st->local_fin = true;
	flush(s);
}

/* ---- exec and attach: what the client's streams carry to us */

static void close_in(struct sess *s)
{
	if (s->in_fd < 0)
		return;
	if (s->in_is_pty) { /* a terminal has no EOF of its own: its ^D */
		struct termios t;
		char veof = tcgetattr(s->in_fd, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
		write_fd(s->in_fd, &veof, 1);
	}
	if (s->in_fd != s->tty_fd)
		close(s->in_fd);
	s->in_fd = -1;
}

/* {"Width":W,"Height":H} objects, one after the other (kubelet's
 * TerminalSize, as Go's json.Encoder writes them). */
static void resize_data(struct sess *s, const uint8_t *data, size_t len)
{
	if (s->resize_len + len > sizeof(s->resize))
		s->resize_len = 0; /* not JSON we can follow: dropped */
	if (len > sizeof(s->resize))
		return;
	memcpy(s->resize + s->resize_len, data, len);
	s->resize_len += len;
	size_t off = 0;
	while (off < s->resize_len) {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *o =
		    json_tokener_parse_ex(tok, s->resize + off, (int)(s->resize_len - off));
		enum json_tokener_error e = json_tokener_get_error(tok);
		size_t used = json_tokener_get_parse_end(tok);
		json_tokener_free(tok);
		if (e == json_tokener_continue)
			break;
		if (o == NULL) {
			off = s->resize_len;
			break;
		}
		struct json_object *w = NULL, *h = NULL;
		if (json_object_object_get_ex(o, "Width", &w) &&
		    json_object_object_get_ex(o, "Height", &h)) {
			s->cols = (unsigned short)json_object_get_int(w);
			s->rows = (unsigned short)json_object_get_int(h);
			s->sized = true;
			struct winsize ws = {.ws_row = s->rows, .ws_col = s->cols};
			if (s->tty_fd >= 0)
				(void)ioctl(s->tty_fd, TIOCSWINSZ, &ws);
		}
		json_object_put(o);
		off += used ? used : 1;
	}
	memmove(s->resize, s->resize + off, s->resize_len - off);
	s->resize_len -= off;
}

static void pf_data(struct sess *s, struct stream *st, const uint8_t *data, size_t len, bool fin);
static void pf_stream_reset(struct sess *s, struct stream *st);

static void on_data(struct sess *s, const struct pp_spdy_frame *f)
{
	struct stream *st = stream_find(s, f->stream_id);
	if (st == NULL || st->reset)
		return;
	bool fin = f->flags & PP_SPDY_FLAG_FIN;
	if (fin)
		st->remote_fin = true;
	switch (st->type) {
	case ST_STDIN:
		if (s->in_fd >= 0)
			write_fd(s->in_fd, f->data, f->len);
		else if (!fin || f->len)
			pp_spdy_buf_append(&s->pending_in, f->data, f->len);
		if (fin && s->in_fd >= 0)
			close_in(s);
		break;
	case ST_RESIZE:
		resize_data(s, f->data, f->len);
		break;
	case ST_DATA:
		pf_data(s, st, f->data, f->len, fin);
		break;
	default:
		break;
	}
}

static void on_syn_stream(struct sess *s, const struct pp_spdy_frame *f)
{
	if (s->n_streams >= MAX_STREAMS || stream_find(s, f->stream_id) || f->stream_id == 0) {
		pp_spdy_put_rst(&s->out, f->stream_id, PP_SPDY_REFUSED_STREAM);
		flush(s);
		return;
	}
	struct stream *st = xmalloc(sizeof(*st));
	*st = (struct stream){.id = f->stream_id, .sock = -1};
	const char *type = pp_spdy_header_get(f, "streamtype");
	for (size_t i = 1; type && i < sizeof(stype_names) / sizeof(stype_names[0]); i++)
		if (strcmp(type, stype_names[i]) == 0)
			st->type = (enum stype)i;
	const char *port = pp_spdy_header_get(f, "port");
	st->port = port ? atoi(port) : 0;
	const char *rid = pp_spdy_header_get(f, "requestid");
	st->request_id = rid ? xstrdup(rid) : NULL;
	st->remote_fin = f->flags & PP_SPDY_FLAG_FIN;
	s->streams[s->n_streams++] = st;
	pp_spdy_put_syn_reply(s->spdy, &s->out, st->id, NULL, 0, false);
	flush(s);
	if (s->version == 0)
		return;
	struct stream **slot[] = {[ST_ERROR] = &s->s_error,
				  [ST_STDIN] = &s->s_stdin,
				  [ST_STDOUT] = &s->s_stdout,
				  [ST_STDERR] = &s->s_stderr,
				  [ST_RESIZE] = &s->s_resize};
	if (st->type >= ST_ERROR && st->type <= ST_RESIZE && *slot[st->type] == NULL)
		*slot[st->type] = st;
}

static void on_frame(struct sess *s, const struct pp_spdy_frame *f)
{
	struct stream *st;
	switch (f->type) {
	case PP_SPDY_SYN_STREAM:
		on_syn_stream(s, f);
		break;
	case PP_SPDY_DATA:
		on_data(s, f);
		break;
	case PP_SPDY_RST_STREAM:
		st = stream_find(s, f->stream_id);
		if (st == NULL)
			break;
		st->reset = true;
		if (st == s->s_stdin)
			close_in(s);
		if (st->type == ST_DATA || st->type == ST_ERROR)
			pf_stream_reset(s, st);
		break;
	case PP_SPDY_PING:
		pp_spdy_put_ping(&s->out, f->value); /* the client's: back as it came */
		flush(s);
		break;
	case PP_SPDY_GOAWAY:
		s->gone = true;
		break;
	default:
		break; /* SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do */
	}
}

/* Handles the whole frames s->in holds. */
static void handle_frames(struct sess *s)
{
	size_t off = 0;
	while (!s->gone) {
		struct pp_spdy_frame f;
		size_t used = 0;
		cleanup_error struct pp_error *err = NULL;
		int r = pp_spdy_parse(s->spdy, s->in.data + off, s->in.len - off, &f, &used, &err);
		if (r < 0) {
			pp_spdy_put_goaway(&s->out, 0, PP_SPDY_PROTOCOL_ERROR);
			flush(s);
			s->gone = true;
		}
		if (r <= 0)
			break;
		on_frame(s, &f);
		off += used;
	}
	pp_spdy_buf_consume(&s->in, off);
}

/* Reads what the peer sent and handles its frames; false once it is gone
 * (closed, GOAWAY, a protocol error). */
static bool read_frames(struct sess *s)
{
	uint8_t buf[CHUNK];
	ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		s->gone = true;
		return false;
	}
	pp_spdy_buf_append(&s->in, buf, (size_t)n);
	handle_frames(s);
	return !s->gone;
}

/* Waits for the peer's frames until cond holds, the deadline passes or the
 * peer goes: whether cond held. */
static bool wait_for(struct sess *s, bool (*cond)(struct sess *), int64_t deadline)
{
	while (!cond(s)) {
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		int n = poll(&p, 1, pp_ms_left(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || !read_frames(s))
			return cond(s);
	}
	return true;
}

/* The streams the request makes the client open (kubelet's count). */
static bool streams_ready(struct sess *s)
{
	const struct cri_stream_req *r = s->req;
	return s->s_error && (!r->in || s->s_stdin) && (!r->out || s->s_stdout) &&
	       (!r->err || r->tty || s->s_stderr) && (!r->tty || s->version < 3 || s->s_resize);
}

static bool sized(struct sess *s)
{
	return s->sized;
}

static bool peer_gone(struct sess *s)
{
	return s->gone;
}

/* The end of an exec or attach: the outputs closed, the error stream
 * carrying the outcome (v4: a metav1.Status; v2, v3: the error's text). */
static void finish(struct sess *s, int exit_code, const char *failure)
{
	stream_close(s, s->s_stdout);
	stream_close(s, s->s_stderr);
	cleanup_free char *msg = NULL;
	if (failure)
		msg = xstrdup(failure);
	else if (exit_code != 0)
		msg = xasprintf("command terminated with non-zero exit code: exit status %d",
				exit_code);
	if (s->version >= 4) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "metadata", json_object_new_object());
		json_object_object_add(o, "status",
				       json_object_new_string(msg ? "Failure" : "Success"));
		if (msg) {
			json_object_object_add(o, "message", json_object_new_string(msg));
			json_object_object_add(
			    o, "reason",
			    json_object_new_string(failure ? "InternalError" : "NonZeroExitCode"));
		}
		if (msg && !failure) {
			struct json_object *cause = json_object_new_object();
			json_object_object_add(cause, "reason", json_object_new_string("ExitCode"));
			cleanup_free char *code = xasprintf("%d", exit_code);
			json_object_object_add(cause, "message", json_object_new_string(code));
			struct json_object *causes = json_object_new_array();
			json_object_array_add(causes, cause);
			struct json_object *details = json_object_new_object();
			json_object_object_add(details, "causes", causes);
			json_object_object_add(o, "details", details);
		}
		const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		stream_write(s, s->s_error, text, strlen(text));
		json_object_put(o);
	} else if (msg) {
		stream_write(s, s->s_error, msg, strlen(msg));
	}
	stream_close(s, s->s_error);
	/* The client reads it all, then closes: leaving first could reset
	 * the connection under what it has not read yet. */
	wait_for(s, peer_gone, pp_monotonic_ms() + LINGER_MS);
}

/* ---- exec */

struct outs {
	int fd[2]; /* stdout (or the terminal), stderr; -1: done */
	struct stream *to[2];
};

/* Copies what fd i has to its stream; false at its end. */
static bool copy_out(struct sess *s, struct outs *o, int i)
{
	uint8_t buf[CHUNK];
	ssize_t n = read(o->fd[i], buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) /* a terminal's master says EIO once every slave closed */
		return false;
	stream_write(s, o->to[i], buf, (size_t)n);
	return true;
}

/* Relays until the command has exited and its output is read (or the
 * peer goes: the command is killed). */
static int exec_relay(struct sess *s, struct pp_exec_process *p, struct outs *o)
{
	bool exited = false;
	int64_t drain_until = 0;
	while (!s->gone && (o->fd[0] >= 0 || o->fd[1] >= 0 || !exited)) {
		struct pollfd fds[4] = {{.fd = s->fd, .events = POLLIN},
					{.fd = o->fd[0], .events = POLLIN},
					{.fd = o->fd[1], .events = POLLIN},
					{.fd = exited ? -1 : p->pidfd, .events = POLLIN}};
		int n = poll(fds, 4, exited ? pp_ms_left(drain_until) : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (fds[0].revents)
			read_frames(s);
		for (int i = 0; i < 2; i++)
			if (fds[i + 1].revents && !copy_out(s, o, i)) {
				if (o->fd[i] != s->tty_fd)
					close(o->fd[i]);
				o->fd[i] = -1;
			}
		if (fds[3].revents) {
			exited = true;
			drain_until = pp_monotonic_ms() + DRAIN_MS;
		}
	}
	if (s->gone && !exited) { /* and its process group (not reaped yet: still its) */
		kill(-p->pid, SIGKILL);
		pp_pidfd_send_signal(p->pidfd, SIGKILL);
	}
	return pp_exec_wait(p);
}

static int session_exec(struct sess *s)
{
	const struct cri_stream_req *r = s->req;
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	if (!r->tty &&
	    ((r->in && pipe2(pin, O_CLOEXEC) < 0) || (r->out && pipe2(pout, O_CLOEXEC) < 0) ||
	     (r->err && pipe2(perr, O_CLOEXEC) < 0))) {
		finish(s, 0, "cannot make the command's pipes");
		return 1;
	}
	struct pp_pod_exec_opts o = {.ns = r->ns, .name = r->name, .container = r->container};
	struct pp_pod_exec_io io = {.in = pin[0],
				    .out = pout[1],
				    .errfd = perr[1],
				    .tty = r->tty,
				    .rows = s->rows,
				    .cols = s->cols};
	struct pp_exec_process p;
	cleanup_error struct pp_error *err = NULL;
	int started = pp_pod_exec_start(&o, r->cmd, &io, &p, &err);
	if (pin[0] >= 0)
		close(pin[0]);
	if (pout[1] >= 0)
		close(pout[1]);
	if (perr[1] >= 0)
		close(perr[1]);
	if (started < 0) {
		finish(s, 0, err ? err->msg : "the command could not start");
		return 1;
	}
	if (started > 0) { /* 126, 127: as runc's exit codes say it */
		cleanup_free char *m = xasprintf("%s\n", err ? err->msg : "cannot run the command");
		stream_write(s, r->tty ? s->s_stdout : s->s_stderr, m, strlen(m));
		finish(s, started, NULL);
		return 0;
	}
	struct outs out = {.fd = {pout[0], perr[0]}, .to = {s->s_stdout, s->s_stderr}};
	if (r->tty) {
		s->tty_fd = p.pty_master;
		out.fd[0] = p.pty_master;
		s->in_fd = r->in ? p.pty_master : -1;
	} else {
		s->in_fd = pin[1];
	}
	if (s->in_fd >= 0 && s->pending_in.len > 0)
		write_fd(s->in_fd, s->pending_in.data, s->pending_in.len);
	if (s->s_stdin && s->s_stdin->remote_fin)
		close_in(s);
	int code = exec_relay(s, &p, &out);
	close_in(s);
	for (int i = 0; i < 2; i++)
		if (out.fd[i] >= 0 && out.fd[i] != s->tty_fd)
			close(out.fd[i]);
	if (s->tty_fd >= 0)
		close(s->tty_fd);
	if (!s->gone)
		finish(s, code, NULL);
	return 0;
}

/* ---- attach: the container's output as its log has it, its stdin from
 * its supervisor */

static int attach_record(void *ctx, const char *container, const struct pp_log_record *rec)
{
	struct sess *s = ctx;
	(void)container;
	struct stream *to = rec->stream == PP_LOG_STDERR && s->s_stderr ? s->s_stderr : s->s_stdout;
	stream_write(s, to, rec->text, rec->len);
	if (!rec->partial)
		stream_write(s, to, "\n", 1);
	return 0;
}

static int attach_fd(void *ctx)
{
	const struct sess *s = ctx;
	return s->fd;
}

static void attach_ready(void *ctx)
{
	struct sess *s = ctx;
	if (!read_frames(s))
		_exit(0); /* the client went: nothing of ours to undo */
}

static int session_attach(struct sess *s)
{
	const struct cri_stream_req *r = s->req;
	cleanup_error struct pp_error *err = NULL;
	struct pp_log_target t;
	if (pp_pod_log_target(r->ns, r->name, r->container, false, &t, &err) < 0) {
		pp_log_target_free(&t);
		finish(s, 0, err->msg);
		return 1;
	}
	if (r->in) {
		bool is_pty = false;
		if (pp_pod_attach_stdin(t.uid, t.container, &s->in_fd, &is_pty, &err) < 0) {
			pp_log_target_free(&t);
			finish(s, 0, err->msg);
			return 1;
		}
		s->in_is_pty = is_pty;
		if (is_pty)
			s->tty_fd = s->in_fd;
		if (is_pty && s->sized) {
			struct winsize ws = {.ws_row = s->rows, .ws_col = s->cols};
			(void)ioctl(s->tty_fd, TIOCSWINSZ, &ws);
		}
		if (s->pending_in.len > 0)
			write_fd(s->in_fd, s->pending_in.data, s->pending_in.len);
		if (s->s_stdin && s->s_stdin->remote_fin)
			close_in(s);
	}
	struct pp_log_read_opts ro = {.tail = 0};
	struct pp_logs_follow_io io = {.fd = attach_fd, .ready = attach_ready, .ctx = s};
	int rc = pp_pod_logs_follow(&t, &ro, attach_record, s, &io, &err);
	pp_log_target_free(&t);
	int tty = s->tty_fd;
	close_in(s);
	if (tty >= 0 && tty != s->in_fd)
		close(tty);
	finish(s, 0, rc < 0 ? err->msg : NULL);
	return 0;
}

/* ---- port-forward: pairs of streams (error, data) by requestid, each a
 * connection to 127.0.0.1:port (else [::1]:port) in the pod */

static struct stream *pf_partner(struct sess *s, struct stream *st)
{
	for (size_t i = 0; i < s->n_streams; i++) {
		struct stream *o = s->streams[i];
		if (o == st || o->type == st->type || o->reset)
			continue;
		if (st->request_id && o->request_id && strcmp(st->request_id, o->request_id) == 0)
			return o;
		/* clients without requestid: the data stream follows its error
		 * stream (ids 2 apart) */
		if (!st->request_id && !o->request_id &&
		    (st->type == ST_DATA ? o->id + 2 == st->id : st->id + 2 == o->id))
			return o;
	}
	return NULL;
}

static int pf_connect(struct sess *s, int port, char **why)
{
	static const char *const targets[] = {"127.0.0.1", "::1"};
	int e = ECONNREFUSED;
	cleanup_error struct pp_error *err = NULL;
	for (size_t i = 0; i < 2 && s->netns >= 0; i++) {
		union {
			struct sockaddr sa;
			struct sockaddr_in v4;
			struct sockaddr_in6 v6;
		} a = {0};
		socklen_t len;
		if (i == 0) {
			a.v4.sin_family = AF_INET;
			a.v4.sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, targets[i], &a.v4.sin_addr);
			len = sizeof(a.v4);
		} else {
			a.v6.sin6_family = AF_INET6;
			a.v6.sin6_port = htons((uint16_t)port);
			inet_pton(AF_INET6, targets[i], &a.v6.sin6_addr);
			len = sizeof(a.v6);
		}
		if (pp_netns_enter(&s->visit, s->netns, &err) < 0)
			break;
		int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		e = errno;
		pp_netns_leave(&s->visit);
		if (fd < 0)
			continue;
		if (connect(fd, &a.sa, len) == 0)
			return fd;
		e = errno;
		close(fd);
	}
	if (s->netns < 0 || err)
		*why =
		    xasprintf("the pod's network namespace: %s", err ? err->msg : "not reachable");
	else
		*why = xasprintf("connect to port %d in the pod: %s", port, strerror(e));
	return -1;
}

/* Both of a pair are there: the connection made, or its error said. */
static void pf_pair_ready(struct sess *s, struct stream *data, struct stream *error)
{
	data->pair = error;
	error->pair = data;
	cleanup_free char *why = NULL;
	if (data->port <= 0 || data->port > 65535)
		why = xasprintf("invalid port \"%d\"", data->port);
	else
		data->sock = pf_connect(s, data->port, &why);
	if (data->sock >= 0) {
		data->connected = true;
		return;
	}
	cleanup_free char *msg = xasprintf("error forwarding port %d to pod %s/%s: %s", data->port,
					   s->req->ns, s->req->name, why);
	stream_write(s, error, msg, strlen(msg));
	stream_close(s, error);
	stream_close(s, data);
}

static void pf_pairs_check(struct sess *s)
{
	for (size_t i = 0; i < s->n_streams; i++) {
		struct stream *st = s->streams[i];
		if (st->type != ST_DATA || st->pair || st->reset)
			continue;
		struct stream *e = pf_partner(s, st);
		if (e && e->type == ST_ERROR)
			pf_pair_ready(s, st, e);
	}
}

static void pf_data(struct sess *s, struct stream *st, const uint8_t *data, size_t len, bool fin)
{
	if (st->sock < 0)
		return;
	if (len)
		write_fd(st->sock, data, len);
	if (fin)
		shutdown(st->sock, SHUT_WR);
}

static void pf_done(struct sess *s, struct stream *data)
{
	if (data->sock >= 0)
		close(data->sock);
	data->sock = -1;
	data->connected = false;
	stream_close(s, data);
	stream_close(s, data->pair);
}

static void pf_stream_reset(struct sess *s, struct stream *st)
{
	struct stream *data = st->type == ST_DATA ? st : st->pair;
	if (data && data->sock >= 0) {
		close(data->sock);
		data->sock = -1;
		data->connected = false;
	}
	(void)s;
}

static int session_portforward(struct sess *s)
{
	struct pp_container_reach reach;
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_reach(s->req->ns, s->req->name, &reach, &err) == 0) {
		s->netns = pp_container_reach_open(&reach, "ns/net", O_RDONLY, &err);
		pp_container_reach_free(&reach);
	}
	while (!s->gone) {
		pf_pairs_check(s);
		struct pollfd fds[MAX_STREAMS + 1] = {{.fd = s->fd, .events = POLLIN}};
		struct stream *who[MAX_STREAMS + 1] = {NULL};
		nfds_t n = 1;
		for (size_t i = 0; i < s->n_streams; i++)
			if (s->streams[i]->sock >= 0) {
				who[n] = s->streams[i];
				fds[n++] =
				    (struct pollfd){.fd = s->streams[i]->sock, .events = POLLIN};
			}
		int r = poll(fds, n, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (nfds_t i = 1; i < n; i++) {
			if (!fds[i].revents || who[i]->sock < 0)
				continue;
			uint8_t buf[CHUNK];
			ssize_t got = read(who[i]->sock, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				pf_done(s, who[i]);
			else
				stream_write(s, who[i], buf, (size_t)got);
		}
		if (fds[0].revents)
			read_frames(s);
	}
	for (size_t i = 0; i < s->n_streams; i++)
		if (s->streams[i]->sock >= 0)
			close(s->streams[i]->sock);
	pp_netns_visit_end(&s->visit);
	cleanup_closep(&s->netns);
	return 0;
}

static void upgrade_answer(struct sess *s, const char *protocol)
{
	cleanup_free char *head = xasprintf("HTTP/1.1 101 Switching Protocols\r\n"
					    "Connection: Upgrade\r\n"
					    "Upgrade: SPDY/3.1\r\n"
					    "X-Stream-Protocol-Version: %s\r\n\r\n",
					    protocol);
	send_all(s, head, strlen(head));
}

int cri_stream_session(int fd, const struct cri_stream_req *req, const char *protocol,
		       const uint8_t *early, size_t n_early)
{
	struct sess s = {.fd = fd,
			 .req = req,
			 .in_fd = -1,
			 .tty_fd = -1,
			 .netns = -1,
			 .visit = PP_NETNS_VISIT_INIT};
	s.spdy = pp_spdy_new();
	if (s.spdy == NULL)
		return 1;
	if (strncmp(protocol, "v", 1) == 0)
		s.version = protocol[1] - '0';
	upgrade_answer(&s, protocol);
	if (n_early > 0) { /* frames sent right behind the request */
		pp_spdy_buf_append(&s.in, early, n_early);
		handle_frames(&s);
	}
	int rc = 0;
	if (req->kind == CRI_STREAM_PORTFORWARD) {
		rc = session_portforward(&s);
	} else if (!wait_for(&s, streams_ready, pp_monotonic_ms() + STREAM_CREATION_MS)) {
		if (!s.gone && s.s_error)
			finish(&s, 0, "timed out waiting for the client to create its streams");
		rc = 1;
	} else {
		if (req->tty && s.s_resize)
			wait_for(&s, sized, pp_monotonic_ms() + FIRST_RESIZE_MS);
		rc = req->kind == CRI_STREAM_EXEC ? session_exec(&s) : session_attach(&s);
	}
	close(fd);
	return rc;
}
