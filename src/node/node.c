/* The node process: the lock, the boot path (gc, then every pod of the
 * directory), and the loop: inotify on the manifest directory and on the
 * pods' records, a signalfd, a debounce timer and a retry timer. A change
 * arms the debounce timer; when it fires, one pass (static_pods.c) makes
 * the pods match the directory. No polling: a pass runs only after an
 * event, or after a failed pass's back-off.
 *
 * A pass runs in a child process of its own (one at a time; a change
 * while it runs asks for another after it): it waits for a static pod's
 * start, or a deleted one's grace period, while the loop serves what else
 * it carries (the CRI). The child sends back, over a pipe, whether it acted, whether
 * it failed, and the messages it said (said once, across passes). */
#include "node/node.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "controller/controller.h"
#include "node/loop.h"
#include "node/node_internal.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fault.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/settings.h"

/* Editors write, rename and delete in bursts: one pass after them. */
#define DEBOUNCE_MS 100
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS (60 * 1000)
/* the lock of a node that is gone, held a moment by its dying children */
#define DEAD_HOLDER_WAIT_MS 5000
#define LOCK_RETRY_MS 10
#define INOTIFY_BUF 8192
#define DIR_MASK                                                                                   \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF |   \
	 IN_MOVE_SELF)
/* the directory's parent: the directory made, removed, or (a symlink)
 * pointed elsewhere */
#define PARENT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR)
#define NAMES_MASK (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR)

struct node {
	struct pp_loop *loop;
	struct node_sync sync;
	int dir_fd;	/* inotify: the manifest directory and its parent */
	int records_fd; /* inotify: the names index, the pods' locks */
	int dir_wd;
	int sig_fd;
	struct pp_loop_timer *debounce, *retry;
	int64_t retry_ms;
	/* the pass under way: its process, the pipe it answers on, what it
	 * has sent so far; another pass asked for meanwhile */
	pid_t pass_pid;
	int pass_fd;
	char *pass_out;
	size_t pass_len;
	bool pass_again;
	bool ready; /* the first passes are done: "ready" said */
};

/* ---- the watches ---- */

static void watch_dir(struct node *n)
{
	/* again at each pass: the path may resolve to another directory now
	 * (a symlink moved, the directory made anew); the same one keeps its
	 * watch (no window without one) */
	int wd = inotify_add_watch(n->dir_fd, n->sync.dir, DIR_MASK);
	if (n->dir_wd >= 0 && wd != n->dir_wd)
		(void)inotify_rm_watch(n->dir_fd, n->dir_wd); /* the directory it was */
	n->dir_wd = wd;
	cleanup_free char *parent = xstrdup(n->sync.dir);
	char *slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent)
		*slash = '\0';
	else if (slash == parent)
		parent[1] = '\0';
	(void)inotify_add_watch(n->dir_fd, parent, PARENT_MASK);
}

/* The names index (a pod deleted) and every pod's lock: the supervisor's
 * is the last write-open of it, so its IN_CLOSE_WRITE is the supervisor
 * gone. */
static void watch_records(struct node *n)
{
	const char *run = pp_run_dir();
	cleanup_free char *names = xasprintf("%s/names", run);
	(void)inotify_add_watch(n->records_fd, run, NAMES_MASK);
	(void)inotify_add_watch(n->records_fd, names, NAMES_MASK);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	if (pp_dir_open(&d, names, PP_DIR_MISSING_OK, NULL) == 0)
		while (pp_dir_next(&d, &de, NULL) > 0) {
			cleanup_free char *sub = xasprintf("%s/%s", names, de->d_name);
			(void)inotify_add_watch(n->records_fd, sub, NAMES_MASK);
		}
	struct pp_pod_ref *refs = NULL;
	size_t nr = 0;
	if (pp_pod_list(NULL, &refs, &nr, NULL) < 0)
		return;
	for (size_t i = 0; i < nr; i++) {
		cleanup_free char *lock = pp_state_file(refs[i].uid, PP_STATE_LOCK);
		(void)inotify_add_watch(n->records_fd, lock, IN_CLOSE_WRITE);
	}
	pp_pod_refs_free(refs, nr);
}

static void drain(int fd)
{
	char buf[INOTIFY_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- the pass ---- */

static void pass_done(struct node *n, bool acted, bool failed);
static void sd_notify_ready(void);

/* In the pass's child: the pass, then its outcome on fd ("A F\n": acted,
 * failed as 0/1, then each message said, NUL-terminated). */
static __attribute__((noreturn)) void pass_child(struct node *n, int fd)
{
	bool acted = false, failed = false;
	node_sync_pass(&n->sync, &acted, &failed);
	FILE *f = fdopen(fd, "w");
	if (f == NULL)
		_exit(1);
	fprintf(f, "%d %d\n", acted, failed);
	for (size_t i = 0; i < n->sync.said.n_prev; i++)
		fwrite(n->sync.said.prev[i], 1, strlen(n->sync.said.prev[i]) + 1, f);
	_exit(fclose(f) == 0 ? 0 : 1);
}

/* What the child sent, parsed: the messages become the ones said. */
static bool pass_parse(struct node *n, bool *acted, bool *failed)
{
	int a, f, used = 0;
	if (n->pass_out == NULL || sscanf(n->pass_out, "%d %d\n%n", &a, &f, &used) != 2 ||
	    used == 0)
		return false;
	*acted = a != 0;
	*failed = f != 0;
	struct node_said *d = &n->sync.said;
	for (size_t i = 0; i < d->n_prev; i++)
		free(d->prev[i]);
	free(d->prev);
	d->prev = NULL;
	d->n_prev = 0;
	for (size_t off = (size_t)used; off < n->pass_len;) {
		size_t l = strnlen(n->pass_out + off, n->pass_len - off);
		d->prev = xrealloc(d->prev, (d->n_prev + 1) * sizeof(*d->prev));
		char *m = xmalloc(l + 1);
		memcpy(m, n->pass_out + off, l);
		m[l] = '\0';
		d->prev[d->n_prev++] = m;
		off += l + 1;
	}
	return true;
}

static void on_pass_out(struct pp_loop *l, int fd, uint32_t events, void *ctx)
{
	struct node *n = ctx;
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		n->pass_out = xrealloc(n->pass_out, n->pass_len + (size_t)r + 1);
		memcpy(n->pass_out + n->pass_len, buf, (size_t)r);
		n->pass_len += (size_t)r;
		n->pass_out[n->pass_len] = '\0';
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* the end: the child has closed its pipe and is exiting */
	pp_loop_remove(l, fd);
	cleanup_closep(&n->pass_fd);
	int st = 0;
	while (waitpid(n->pass_pid, &st, 0) < 0 && errno == EINTR)
		;
	n->pass_pid = 0;
	bool acted = false, failed = true;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !pass_parse(n, &acted, &failed)) {
		n->sync.log(n->sync.log_ctx,
			    "a pass's process ended (%s %d) before it said how it went",
			    WIFSIGNALED(st) ? "signal" : "exit code",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		acted = false;
		failed = true;
	}
	free(n->pass_out);
	n->pass_out = NULL;
	n->pass_len = 0;
	pass_done(n, acted, failed);
}

/* A pass started in a child of its own; one under way already: another
 * once it ends. */
static void run_pass(struct node *n)
{
	if (n->pass_pid > 0) {
		n->pass_again = true;
		return;
	}
	n->pass_again = false;
	watch_dir(n);
	int p[2];
	pid_t parent = getpid();
	pid_t pid = -1;
	if (pipe2(p, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid == 0) {
			/* nothing of the node's (the CRI's socket, its
			 * connections) held here; gone with the node */
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			if (getppid() != parent)
				_exit(1);
			pp_close_fds_except(p[1]);
			pass_child(n, p[1]);
		}
		close(p[1]);
		if (pid < 0)
			close(p[0]);
	}
	cleanup_error struct pp_error *err = NULL;
	if (pid > 0 && (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 ||
			pp_loop_add(n->loop, p[0], EPOLLIN, on_pass_out, n, &err) < 0)) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(p[0]);
		pid = -1;
	}
	if (pid < 0) {
		char buf[512];
		n->sync.log(n->sync.log_ctx, "a pass could not start: %s",
			    err ? pp_error_text(err, buf, sizeof(buf)) : strerror(errno));
		pass_done(n, false, true);
		return;
	}
	n->pass_pid = pid;
	n->pass_fd = p[0];
}

static void pass_done(struct node *n, bool acted, bool failed)
{
	/* what the pass itself did (pods made and deleted, their locks
	 * opened) woke the records' watch: not news */
	drain(n->records_fd);
	watch_records(n);
	if ((acted && !failed) || n->pass_again) {
		/* once more: a pod that died while we acted would be missed */
		run_pass(n);
		return;
	}
	if (failed) {
		n->retry_ms = n->retry_ms ? n->retry_ms * 2 : RETRY_MIN_MS;
		if (n->retry_ms > RETRY_MAX_MS)
			n->retry_ms = RETRY_MAX_MS;
		pp_loop_timer_arm(n->retry, n->retry_ms);
	} else {
		n->retry_ms = 0;
		pp_loop_timer_arm(n->retry, 0);
	}
	if (!n->ready) {
		n->ready = true;
		n->sync.log(n->sync.log_ctx, "ready: the directory's pods are made");
		sd_notify_ready();
	}
}

static void on_debounce(struct pp_loop *l, void *ctx)
{
	run_pass(ctx);
}

static void wake(struct node *n)
{
	if (!pp_loop_timer_armed(n->debounce))
		pp_loop_timer_arm(n->debounce, DEBOUNCE_MS);
}

static void on_records(struct pp_loop *l, int fd, uint32_t events, void *ctx)
{
	drain(fd);
	wake(ctx);
}

/* Whether an event of the directory's watches is news: its parent's only
 * for the directory's own name; a file's IN_CREATE only for a symlink
 * (a regular file is news when it is closed, not while written). */
static bool dir_event_matters(struct node *n, const struct inotify_event *ev)
{
	if (ev->wd != n->dir_wd) {
		const char *base = strrchr(n->sync.dir, '/');
		base = base ? base + 1 : n->sync.dir;
		return ev->len > 0 && strcmp(ev->name, base) == 0;
	}
	if ((ev->mask & IN_CREATE) && !(ev->mask & IN_ISDIR) && ev->len > 0) {
		cleanup_free char *path = xasprintf("%s/%s", n->sync.dir, ev->name);
		struct stat st;
		return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
	}
	return true;
}

static void on_dir(struct pp_loop *l, int fd, uint32_t events, void *ctx)
{
	struct node *n = ctx;
	char buf[INOTIFY_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;
	bool news = false;
	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			news = news || dir_event_matters(n, ev);
			p += sizeof(*ev) + ev->len;
		}
	if (news)
		wake(n);
}

static void on_signal(struct pp_loop *l, int fd, uint32_t events, void *ctx)
{
	struct node *n = ctx;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			n->sync.log(n->sync.log_ctx, "SIGHUP: a full resync");
			run_pass(n);
		} else {
			n->sync.log(n->sync.log_ctx, "%s: exiting, the pods keep running",
				    strsignal((int)si.ssi_signo));
			pp_loop_stop(l);
		}
	}
}

/* ---- the process ---- */

int pp_node_lock(int *out, pid_t *holder, struct pp_error **err)
{
	*holder = 0;
	if (pp_mkdir_p(pp_run_dir(), 0755, err) < 0)
		return -1;
	cleanup_free char *path = xasprintf("%s/%s", pp_run_dir(), PP_NODE_LOCK_FILE);
	cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += LOCK_RETRY_MS) {
		int e = errno;
		char buf[32] = {0};
		if (pread(fd, buf, sizeof(buf) - 1, 0) > 0)
			*holder = (pid_t)atoi(buf);
		/* a node killed a moment ago: its children (a pass, the CRI's
		 * jobs) die with it (PR_SET_PDEATHSIG) and let go of the lock
		 * they inherited in a moment */
		bool gone = *holder > 0 && kill(*holder, 0) < 0 && errno == ESRCH;
		if (e != EWOULDBLOCK || !gone || waited >= DEAD_HOLDER_WAIT_MS)
			return pp_error_set(err, e,
					    "%s is locked by pid %d: a node process runs already",
					    path, (int)*holder);
		usleep(LOCK_RETRY_MS * 1000);
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
		return pp_error_set(err, errno, "write %s", path);
	*out = steal_fd(&fd);
	return 0;
}

/* systemd's Type=notify, without libsystemd: one datagram to
 * $NOTIFY_SOCKET ("@..." is in the abstract namespace). */
static void sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(((struct sockaddr_un){0}).sun_path))
		return;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	cleanup_close int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	static const char msg[] = "READY=1";
	if (fd >= 0)
		(void)sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
}

static char *node_name(void)
{
	char host[256] = {0};
	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	for (char *c = host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return xstrdup(host);
}

/* The directory as the pods' annotations name their files: absolute (the
 * same whatever the working directory of a later start), no trailing
 * slash; symlinks kept, so that a symlinked directory can be re-pointed. */
static char *absolute_dir(const char *dir)
{
	char cwd[PATH_MAX];
	char *abs = dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL
			? xstrdup(dir)
			: xasprintf("%s/%s", cwd, dir);
	for (size_t l = strlen(abs); l > 1 && abs[l - 1] == '/'; l--)
		abs[l - 1] = '\0';
	return abs;
}

static int node_setup(struct node *n, const struct pp_node_opts *o, struct pp_error **err)
{
	n->sync = (struct node_sync){
	    .dir = absolute_dir(o->manifest_dir ? o->manifest_dir : pp_settings()->manifest_dir),
	    .store_root = o->store_root,
	    .host = node_name(),
	    .log = o->log,
	    .log_ctx = o->log_ctx,
	};
	n->dir_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	n->records_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (n->dir_fd < 0 || n->records_fd < 0)
		return pp_error_set(err, errno, "inotify_init1");
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	/* blocked for good: they come through the signalfd (a supervisor
	 * forked from here sets its own mask, children reset theirs) */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	n->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (n->sig_fd < 0)
		return pp_error_set(err, errno, "signalfd");
	if (pp_loop_new(&n->loop, err) < 0 ||
	    pp_loop_add(n->loop, n->sig_fd, EPOLLIN, on_signal, n, err) < 0 ||
	    pp_loop_add(n->loop, n->dir_fd, EPOLLIN, on_dir, n, err) < 0 ||
	    pp_loop_add(n->loop, n->records_fd, EPOLLIN, on_records, n, err) < 0 ||
	    pp_loop_timer_new(n->loop, on_debounce, n, &n->debounce, err) < 0 ||
	    pp_loop_timer_new(n->loop, on_debounce, n, &n->retry, err) < 0)
		return -1;
	return 0;
}

static void node_teardown(struct node *n)
{
	if (n->pass_pid > 0) {
		/* the pods it made keep running; one half made is gc's */
		kill(n->pass_pid, SIGKILL);
		while (waitpid(n->pass_pid, NULL, 0) < 0 && errno == EINTR)
			;
		n->pass_pid = 0;
	}
	cleanup_closep(&n->pass_fd);
	free(n->pass_out);
	pp_loop_free(n->loop);
	cleanup_closep(&n->dir_fd);
	cleanup_closep(&n->records_fd);
	cleanup_closep(&n->sig_fd);
	node_sync_free(&n->sync);
}

int pp_node_run(const struct pp_node_opts *o, struct pp_error **err)
{
	pid_t holder;
	cleanup_close int lock = -1;
	if (pp_node_lock(&lock, &holder, err) < 0)
		return -1;
	(void)prctl(PR_SET_NAME, PP_NODE_COMM, 0, 0, 0);
	struct node n = {.dir_fd = -1, .records_fd = -1, .sig_fd = -1, .dir_wd = -1, .pass_fd = -1};
	int r = node_setup(&n, o, err);
	if (r == 0) {
		/* Boot: what a reboot (or a crash) left goes first. */
		int removed = 0;
		cleanup_error struct pp_error *gerr = NULL;
		if (pp_fault("node gc", &gerr) < 0 ||
		    pp_pod_gc(o->store_root, &removed, &gerr) < 0) {
			char buf[512];
			o->log(o->log_ctx, "gc: %s", pp_error_text(gerr, buf, sizeof(buf)));
		}
		o->log(o->log_ctx,
		       "started (pid %d), manifests in %s, node name %s; gc: %d pod%s cleaned up",
		       (int)getpid(), n.sync.dir, n.sync.host, removed, removed == 1 ? "" : "s");
		run_pass(&n);
		/* the workloads' controllers, which a reboot stopped too */
		cleanup_error struct pp_error *werr = NULL;
		if (pp_fault("node resume", &werr) < 0 || pp_workloads_resume(&werr) < 0) {
			char buf[512];
			o->log(o->log_ctx, "workloads: %s", pp_error_text(werr, buf, sizeof(buf)));
		}
		if (o->attach != NULL)
			r = o->attach(n.loop, o->attach_ctx, err);
	}
	if (r == 0)
		r = pp_loop_run(n.loop, err); /* "ready" once the first passes end */
	node_teardown(&n);
	return r;
}
