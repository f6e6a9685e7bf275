/* The CRI socket, its connections and the epoll set the caller's loop
 * watches (cri.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cri/cri.h"
#include "cri/cri_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "image/store.h"
#include "util/settings.h"

/* Bytes read from a connection at a time. */
#define READ_CHUNK 16384
/* Events taken from the server's epoll set per pp_cri_server_on_ready. */
#define EVENTS_PER_CALL 32
#define LISTEN_BACKLOG 64

/* What an epoll event's pointer is (the listening socket: NULL). */
enum watched { WATCH_CONN = 1, WATCH_JOB, WATCH_STREAM = CRI_WATCH_STREAM };

struct conn {
	enum watched kind;
	int fd;
	struct pp_grpc_conn *grpc;
	bool want_out; /* EPOLLOUT asked: output is waiting for room */
	struct conn *next;
};

/* A deferred call's child (cri_job_start). */
struct job {
	enum watched kind;
	int fd; /* the pipe's read end */
	pid_t pid;
	struct pp_grpc_call *call;
	cri_job_done done;
	char *out;
	size_t len, cap;
	struct job *next;
};

struct pp_cri_server {
	int listen_fd;
	int epfd;
	int lock_fd;
	char *path;
	char *lock_path;
	struct conn *conns;
	size_t n_conns;
	struct job *jobs;
	struct pp_cri_service svc;
};

char *pp_cri_default_socket(void)
{
	return xasprintf("%s/%s", pp_settings()->run_dir, PP_CRI_SOCKET_NAME);
}

/* path".lock", locked for the server's life. F_SETLK (not flock nor OFD
 * locks): a record lock belongs to the process, so a child forked from the
 * server (a pod's supervisor) does not keep it after the server dies. */
static int take_lock(struct pp_cri_server *srv, struct pp_error **err)
{
	srv->lock_path = xasprintf("%s.lock", srv->path);
	srv->lock_fd = open(srv->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (srv->lock_fd < 0)
		return pp_error_set(err, errno, "CRI socket %s: cannot open its lock %s", srv->path,
				    srv->lock_path);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(srv->lock_fd, F_SETLK, &fl) == 0)
		return 0;
	int e = errno;
	if (e != EAGAIN && e != EACCES)
		return pp_error_set(err, e, "CRI socket %s: cannot lock %s", srv->path,
				    srv->lock_path);
	struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(srv->lock_fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
		return pp_error_set(err, EADDRINUSE,
				    "CRI socket %s: another peapod CRI server (pid %d) serves it",
				    srv->path, (int)who.l_pid);
	return pp_error_set(err, EADDRINUSE, "CRI socket %s: another peapod CRI server serves it",
			    srv->path);
}

static int fill_addr(const char *path, struct sockaddr_un *a, struct pp_error **err)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return pp_error_set(err, ENAMETOOLONG,
				    "CRI socket %s: the path is longer than %zu bytes", path,
				    sizeof(a->sun_path) - 1);
	strcpy(a->sun_path, path);
	return 0;
}

/* A socket file already there: someone answering on it keeps it (not a
 * peapod server, which would hold the lock: another runtime); a dead one
 * is removed. */
static int clear_stale(const char *path, const struct sockaddr_un *a, struct pp_error **err)
{
	struct stat sb;
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "CRI socket %s", path);
	if (!S_ISSOCK(sb.st_mode))
		return pp_error_set(err, EEXIST,
				    "CRI socket %s: a file that is not a socket is there", path);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pp_error_set(err, errno, "CRI socket %s: socket", path);
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0)
		return pp_error_set(err, EADDRINUSE,
				    "CRI socket %s: another process is listening on it", path);
	if (errno != ECONNREFUSED)
		return pp_error_set(err, errno, "CRI socket %s: cannot tell whether it is in use",
				    path);
	if (unlink(path) < 0 && errno != ENOENT)
		return pp_error_set(err, errno, "CRI socket %s: cannot remove the stale socket",
				    path);
	return 0;
}

static int make_socket(struct pp_cri_server *srv, struct pp_error **err)
{
	struct sockaddr_un a;
	if (fill_addr(srv->path, &a, err) < 0 || clear_stale(srv->path, &a, err) < 0)
		return -1;
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		return pp_error_set(err, errno, "CRI socket %s: socket", srv->path);
	/* Made with no access, then opened to PP_CRI_SOCKET_MODE: no window
	 * where a client outside the group could connect. */
	if (fchmod(srv->listen_fd, 0) < 0 && errno != EINVAL)
		return pp_error_set(err, errno, "CRI socket %s: fchmod", srv->path);
	mode_t old = umask(0777);
	int r = bind(srv->listen_fd, (const struct sockaddr *)&a, sizeof(a));
	int e = errno;
	umask(old);
	if (r < 0)
		return pp_error_set(err, e, "CRI socket %s: bind", srv->path);
	if (chmod(srv->path, PP_CRI_SOCKET_MODE) < 0 ||
	    listen(srv->listen_fd, LISTEN_BACKLOG) < 0) {
		e = errno;
		unlink(srv->path);
		return pp_error_set(err, e, "CRI socket %s: chmod, listen", srv->path);
	}
	return 0;
}

static int watch(struct pp_cri_server *srv, int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};
	return epoll_ctl(srv->epfd, op, fd, &ev);
}

int pp_cri_server_open(const char *path, struct pp_cri_server **out, struct pp_error **err)
{
	struct pp_cri_server *srv = xmalloc(sizeof(*srv));
	memset(srv, 0, sizeof(*srv));
	srv->listen_fd = srv->epfd = srv->lock_fd = -1;
	srv->path = path ? xstrdup(path) : pp_cri_default_socket();
	cleanup_free char *dir_copy = xstrdup(srv->path);
	const char *dir = dirname(dir_copy);
	bool bound = false;
	if (pp_mkdir_p(dir, 0755, err) < 0) {
		pp_error_wrap(err, "CRI socket %s", srv->path);
		goto fail;
	}
	if (take_lock(srv, err) < 0 || make_socket(srv, err) < 0)
		goto fail;
	bound = true;
	if (pp_image_store_open(NULL, &srv->svc.store, err) < 0) {
		pp_error_wrap(err, "CRI server");
		goto fail;
	}
	srv->svc.socket_path = xstrdup(srv->path);
	srv->svc.server = srv;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0 || watch(srv, EPOLL_CTL_ADD, srv->listen_fd, EPOLLIN, NULL) < 0) {
		pp_error_set(err, errno, "CRI server: epoll");
		goto fail;
	}
	if (cri_stream_open(&srv->svc, srv->epfd, err) < 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	if (bound)
		unlink(srv->path);
	pp_cri_server_forget(srv);
	return -1;
}

int pp_cri_server_fd(const struct pp_cri_server *srv)
{
	return srv->epfd;
}

static void conn_close(struct pp_cri_server *srv, struct conn *c)
{
	for (struct conn **p = &srv->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (srv->epfd >= 0)
		epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	pp_grpc_conn_free(c->grpc);
	free(c);
	srv->n_conns--;
}

static void accept_all(struct pp_cri_server *srv)
{
	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a client gone before we took it */
		struct pp_grpc_conn *g = NULL;
		if (srv->n_conns >= PP_CRI_MAX_CONNS ||
		    (g = pp_grpc_conn_new(pp_cri_methods, &srv->svc)) == NULL) {
			close(fd);
			continue;
		}
		struct conn *c = xmalloc(sizeof(*c));
		*c = (struct conn){.kind = WATCH_CONN, .fd = fd, .grpc = g, .next = srv->conns};
		if (watch(srv, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT, c) < 0) {
			pp_grpc_conn_free(g);
			free(c);
			close(fd);
			continue;
		}
		c->want_out = true;
		srv->conns = c;
		srv->n_conns++;
	}
}

/* Writes what the session has; false when the connection is to go. */
static bool conn_flush(struct pp_cri_server *srv, struct conn *c)
{
	const uint8_t *data;
	size_t n;
	while ((n = pp_grpc_conn_output(c->grpc, &data)) > 0) {
		ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return false;
		pp_grpc_conn_consumed(c->grpc, (size_t)w);
	}
	bool want_out = n > 0;
	if (want_out != c->want_out &&
	    watch(srv, EPOLL_CTL_MOD, c->fd, EPOLLIN | (want_out ? EPOLLOUT : 0), c) == 0)
		c->want_out = want_out;
	return !pp_grpc_conn_done(c->grpc);
}

/* Reads what the peer sent; false when the connection is to go. */
static bool conn_read(struct conn *c)
{
	uint8_t buf[READ_CHUNK];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false; /* closed by the peer, mid-request or not */
		if (pp_grpc_conn_recv(c->grpc, buf, (size_t)n) < 0)
			return true; /* the GOAWAY goes out, then done() ends it */
	}
}

static void conn_event(struct pp_cri_server *srv, struct conn *c, uint32_t events)
{
	bool keep = true;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		keep = conn_read(c);
	if (keep)
		keep = conn_flush(srv, c);
	if (!keep)
		conn_close(srv, c);
}

/* In a job's child: every descriptor of the server closed (the epoll set
 * without EPOLL_CTL_DEL: it is the server's too). */
void cri_server_close_in_child(struct pp_cri_server *srv)
{
	cri_stream_close_in_child(srv->svc.stream);
	close(srv->epfd);
	close(srv->listen_fd);
	close(srv->lock_fd);
	for (struct conn *c = srv->conns; c; c = c->next)
		close(c->fd);
	for (struct job *j = srv->jobs; j; j = j->next)
		close(j->fd);
}

int cri_job_start(struct pp_cri_service *svc, struct pp_grpc_call *call, cri_job_fn fn, void *arg,
		  cri_job_done done, struct pp_error **err)
{
	struct pp_cri_server *srv = svc->server;
	if (srv == NULL)
		return pp_error_set(err, ENOTSUP, "no server to run the job");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return pp_error_set(err, e, "fork");
	}
	if (pid == 0) {
		/* Dies with the server; signals as a fresh process has them. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		close(p[0]);
		cri_server_close_in_child(srv);
		_exit(fn(svc, arg, p[1]));
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	struct job *j = xmalloc(sizeof(*j));
	*j = (struct job){.kind = WATCH_JOB, .fd = p[0], .pid = pid, .call = call, .done = done};
	if (watch(srv, EPOLL_CTL_ADD, j->fd, EPOLLIN, j) < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(j->fd);
		free(j);
		return pp_error_set(err, e, "epoll");
	}
	j->next = srv->jobs;
	srv->jobs = j;
	return 0;
}

static void job_unlink(struct pp_cri_server *srv, struct job *j)
{
	for (struct job **p = &srv->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (srv->epfd >= 0)
		epoll_ctl(srv->epfd, EPOLL_CTL_DEL, j->fd, NULL);
	close(j->fd);
}

/* Reads the child's result; at its end (the child closed the pipe by
 * exiting) reaps it and answers the call. */
static void job_event(struct pp_cri_server *srv, struct job *j)
{
	for (;;) {
		if (j->len + READ_CHUNK > j->cap) {
			j->cap = j->len + READ_CHUNK * 2;
			j->out = xrealloc(j->out, j->cap);
		}
		ssize_t n = read(j->fd, j->out + j->len, j->cap - j->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		j->len += (size_t)n;
	}
	job_unlink(srv, j);
	int st = 0;
	while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR)
		;
	j->out[j->len] = '\0';
	j->done(&srv->svc, j->call, j->out, j->len, st);
	free(j->out);
	free(j);
	/* The answer is queued on its connection: out it goes. */
	for (struct conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (!conn_flush(srv, c))
			conn_close(srv, c);
	}
}

int pp_cri_server_on_ready(struct pp_cri_server *srv, int fd, uint32_t events,
			   struct pp_error **err)
{
	struct epoll_event evs[EVENTS_PER_CALL];
	int n = epoll_wait(srv->epfd, evs, EVENTS_PER_CALL, 0);
	if (n < 0)
		return errno == EINTR ? 0 : pp_error_set(err, errno, "CRI server: epoll_wait");
	for (int k = 0; k < n; k++) {
		enum watched *kind = evs[k].data.ptr;
		if (kind == NULL)
			accept_all(srv);
		else if (*kind == WATCH_JOB)
			job_event(srv, evs[k].data.ptr);
		else if (*kind == WATCH_STREAM)
			cri_stream_event(&srv->svc, evs[k].data.ptr, evs[k].events);
		else
			conn_event(srv, evs[k].data.ptr, evs[k].events);
	}
	return 0;
}

void pp_cri_server_forget(struct pp_cri_server *srv)
{
	if (srv == NULL)
		return;
	/* The epoll set first: in a forked child it is the parent's too, and
	 * conn_close's EPOLL_CTL_DEL on it would take the parent's
	 * connections out of its set. */
	if (srv->epfd >= 0)
		close(srv->epfd);
	srv->epfd = -1;
	while (srv->conns)
		conn_close(srv, srv->conns);
	/* Their connections are gone: the calls are only freed. */
	while (srv->jobs) {
		struct job *j = srv->jobs;
		job_unlink(srv, j);
		struct pp_grpc_reply none = {0};
		pp_grpc_call_finish(j->call, &none);
		free(j->out);
		free(j);
	}
	cri_stream_free(srv->svc.stream, false);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->lock_fd >= 0)
		close(srv->lock_fd);
	pp_image_store_free(srv->svc.store);
	free(srv->svc.socket_path);
	free(srv->svc.pod_cidr);
	cri_stats_cache_free(srv->svc.stats);
	free(srv->path);
	free(srv->lock_path);
	free(srv);
}

void pp_cri_server_close(struct pp_cri_server *srv)
{
	if (srv == NULL)
		return;
	/* The socket goes while the lock is held: a server starting now
	 * cannot have made its own socket there yet. */
	if (srv->listen_fd >= 0)
		unlink(srv->path);
	/* The streams' children end with it. */
	cri_stream_free(srv->svc.stream, true);
	/* The jobs' children end with the server; what a killed pull had
	 * stored (blobs, layers under way) is collected now. */
	for (struct job *j = srv->jobs; j; j = j->next) {
		kill(j->pid, SIGKILL);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (srv->jobs && srv->svc.store) {
		struct pp_error *err = NULL;
		pp_image_store_gc(srv->svc.store, &err);
		pp_error_free(&err);
	}
	pp_cri_server_forget(srv);
}
