/* The controller process's life: started (fork, setsid, fork) unless its
 * lock is held, its epoll loop, its end when the workload is deleted; and
 * the resumption of every workload whose controller is gone. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "objects/workload_store.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"

#define CTRL_COMM "peapod-ctrl"
#define DIR_MODE 0755
#define WAIT_STEP_MS 50
#define INOTIFY_BUF 8192
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

static char *lock_dir(enum pp_workload_kind kind, const char *ns)
{
	return xasprintf("%s/workloads/%s/%s", pp_run_dir(), ns,
			 pp_workload_kind_info(kind)->plural);
}

static char *lock_file(enum pp_workload_kind kind, const char *ns, const char *name)
{
	cleanup_free char *d = lock_dir(kind, ns);
	return xasprintf("%s/%s.lock", d, name);
}

struct loop {
	struct pp_ctrl c;
	const struct pp_ctrl_kind *k;
	char *uid;	    /* the workload's, as first seen */
	int64_t backoff_ms; /* after a failed pass: the next try's delay */
	int ino, tfd, sfd, ep;
};

/* One pass: the workload re-read, the kind's sync. 1: the workload is
 * gone (torn down). */
static int pass(struct loop *l)
{
	struct pp_ctrl *c = &l->c;
	cleanup_error struct pp_error *err = NULL;
	pp_workload_free(c->w);
	c->w = NULL;
	json_object_put(c->obj);
	c->obj = NULL;
	int g = pp_workload_get(c->kind, c->ns, c->name, &c->w, &c->obj, &err);
	bool gone = g == PP_OBJECT_NOT_FOUND ||
		    (g == 0 && l->uid != NULL && strcmp(c->w->uid, l->uid) != 0);
	if (gone) {
		/* Cascade: what the old object owned goes with it. */
		if (c->w == NULL) {
			c->w = xmalloc(sizeof(*c->w));
			c->w->kind = c->kind;
		}
		free(c->w->uid);
		c->w->uid = xstrdup(l->uid ? l->uid : "");
		free(c->w->name);
		c->w->name = xstrdup(c->name);
		const char *owners[] = {c->w->uid};
		if (l->uid != NULL && l->k->teardown != NULL)
			l->k->teardown(c, NULL);
		else if (l->uid != NULL && pp_ctrl_load_pods(c, owners, 1, NULL) == 0) {
			struct pp_ctrl_owner o = {c->kind, c->name, l->uid};
			for (size_t i = 0; i < c->n_pods; i++)
				pp_ctrl_pod_delete(c, &o, &c->pods[i], NULL);
		}
		if (g == 0) { /* deleted and made anew: carry on with the new one */
			free(l->uid);
			l->uid = NULL;
			return pass(l);
		}
		return 1;
	}
	if (g < 0)
		return 0; /* a half-written file cannot be: the next change retries */
	if (l->uid == NULL)
		l->uid = xstrdup(c->w->uid);
	c->wake_at_ms = 0;
	if (!l->k->owns_pods_of_children) {
		const char *owners[] = {c->w->uid};
		if (pp_ctrl_load_pods(c, owners, 1, &err) < 0)
			return 0;
	}
	/* a pass that failed (a pod that could not be made) is tried again
	 * after a back-off, as the controllers' rate-limited queues do */
	if (l->k->sync(c, &err) < 0) {
		l->backoff_ms = l->backoff_ms == 0		     ? BACKOFF_MIN_MS
				: l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
								     : l->backoff_ms * 2;
		pp_ctrl_wake_at(c, pp_ctrl_now_ms() + l->backoff_ms);
	} else {
		l->backoff_ms = 0;
	}
	/* Watch each pod's state directory: status.json renamed over, the
	 * supervisor's lock closed at its death. */
	for (size_t i = 0; i < c->n_pods; i++) {
		cleanup_free char *dir = pp_state_dir(c->pods[i].uid);
		inotify_add_watch(l->ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
	}
	struct itimerspec its = {0};
	if (c->wake_at_ms > 0) {
		its.it_value.tv_sec = c->wake_at_ms / 1000;
		its.it_value.tv_nsec = (c->wake_at_ms % 1000) * 1000000;
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	return 0;
}

/* Reads the pending inotify events: whether one of them is a change (not
 * our own look at a pod's lock, nor another object's file). */
static bool drain(struct loop *l, bool ours)
{
	char buf[INOTIFY_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	cleanup_free char *mine = xasprintf("%s.json", l->c.name);
	for (;;) {
		ssize_t n = read(l->ino, buf, sizeof(buf));
		if (n <= 0)
			return changed;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			p += sizeof(*e) + e->len;
			const char *name = e->len ? e->name : "";
			if ((e->mask & IN_CLOSE_WRITE) && strcmp(name, PP_STATE_LOCK) == 0 && ours)
				continue;
			if ((e->mask & IN_CLOSE_WRITE) && strcmp(name, PP_STATE_LOCK) != 0)
				continue; /* a temporary file's: its rename follows */
			if (e->wd == 1 && strcmp(name, mine) != 0)
				continue; /* another object of the kind */
			changed = true;
		}
	}
}

static __attribute__((noreturn)) void ctrl_main(enum pp_workload_kind kind, const char *ns,
						const char *name, const char *uid, int lock_fd)
{
	prctl(PR_SET_NAME, CTRL_COMM, 0, 0, 0);
	pp_close_fds_except_n(&lock_fd, 1);
	signal(SIGPIPE, SIG_IGN);
	pp_stdio_to_devnull();
	if (chdir("/") < 0)
		_exit(1);
	struct loop l = {.c = {.kind = kind, .ns = xstrdup(ns), .name = xstrdup(name)},
			 .k = pp_ctrl_kind_of(kind),
			 .uid = xstrdup(uid)};
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l.ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	l.tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	cleanup_free char *objdir = pp_workload_dir(kind, ns, NULL);
	cleanup_free char *names = xasprintf("%s/names/%s", pp_run_dir(), ns);
	pp_mkdir_p(names, DIR_MODE, NULL);
	/* wd 1: the kind's directory of objects (drain() knows it so) */
	if (l.sfd < 0 || l.ino < 0 || l.tfd < 0 || l.ep < 0 || objdir == NULL ||
	    inotify_add_watch(l.ino, objdir, IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE) != 1 ||
	    inotify_add_watch(l.ino, names, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM) <
		0)
		_exit(1);
	int fds[] = {l.sfd, l.ino, l.tfd};
	for (size_t i = 0; i < 3; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
		epoll_ctl(l.ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	bool dirty = true;
	for (;;) {
		while (dirty) {
			if (pass(&l) == 1)
				goto out;
			dirty = drain(&l, true);
		}
		struct epoll_event evs[4];
		int n = epoll_wait(l.ep, evs, 4, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l.sfd) {
				struct signalfd_siginfo si;
				while (read(l.sfd, &si, sizeof(si)) > 0)
					;
				goto out; /* stopped: the pods stay, a later command resumes */
			}
			if (fd == l.tfd) {
				uint64_t x;
				(void)!read(l.tfd, &x, sizeof(x));
				dirty = true;
			}
			if (fd == l.ino)
				dirty = drain(&l, false) || dirty;
		}
	}
out:;
	/* Gone: its lock and events go too (the lock last: a resume may start
	 * a new controller once it is free). */
	struct pp_workload *w = NULL;
	if (pp_workload_get(kind, ns, name, &w, NULL, NULL) == PP_OBJECT_NOT_FOUND) {
		cleanup_free char *ev = pp_ctrl_events_path(kind, ns, name);
		cleanup_free char *lk = lock_file(kind, ns, name);
		unlink(ev);
		unlink(lk);
	}
	pp_workload_free(w);
	_exit(0);
}

int pp_ctrl_start(enum pp_workload_kind kind, const char *ns, const char *name,
		  struct pp_error **err)
{
	if (pp_ctrl_kind_of(kind) == NULL)
		return pp_error_set(err, 0, "%s: no controller for this kind",
				    pp_workload_kind_info(kind)->kind);
	cleanup_free char *dir = lock_dir(kind, ns);
	if (pp_mkdir_p(dir, DIR_MODE, err) < 0)
		return -1;
	struct pp_workload *w = NULL;
	int g = pp_workload_get(kind, ns, name, &w, NULL, err);
	if (g < 0)
		return g;
	cleanup_free char *uid = xstrdup(w->uid);
	pp_workload_free(w);
	cleanup_free char *path = lock_file(kind, ns, name);
	cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return 0; /* it runs */
		return pp_error_set(err, errno, "lock %s", path);
	}
	pid_t a = fork();
	if (a < 0)
		return pp_error_set(err, errno, "fork");
	if (a == 0) {
		setsid();
		pid_t b = fork();
		if (b != 0)
			_exit(b < 0);
		ctrl_main(kind, ns, name, uid, fd);
	}
	int st = 0;
	while (waitpid(a, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return pp_error_set(err, 0, "could not start the controller of %s/%s",
				    pp_workload_kind_info(kind)->lower, name);
	return 0; /* our fd closes: the controller's (the same open file) holds the lock */
}

int pp_workloads_resume(struct pp_error **err)
{
	char **nss = NULL;
	size_t nn = 0;
	if (pp_workload_namespaces(&nss, &nn, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < nn; i++) {
		for (int k = 0; k < PP_WL_KIND_COUNT; k++) {
			if (pp_ctrl_kind_of(k) == NULL)
				continue;
			struct pp_workload **ws = NULL;
			size_t n = 0;
			cleanup_error struct pp_error *e = NULL;
			if (pp_workload_list(k, nss[i], &ws, NULL, &n, &e) < 0) {
				if (ret == 0 && err != NULL)
					*err = steal_ptr(&e);
				ret = -1;
				continue;
			}
			for (size_t j = 0; j < n; j++) {
				if (ws[j]->owner_uid != NULL)
					continue; /* its owner's controller keeps it */
				if (pp_ctrl_running(k, nss[i], ws[j]->name))
					continue;
				cleanup_error struct pp_error *se = NULL;
				if (pp_ctrl_start(k, nss[i], ws[j]->name, &se) < 0 && ret == 0) {
					if (err != NULL)
						*err = steal_ptr(&se);
					ret = -1;
				}
			}
			pp_workload_list_free(ws, NULL, n);
		}
		free(nss[i]);
	}
	free(nss);
	return ret;
}

int pp_ctrl_wait_gone(enum pp_workload_kind kind, const char *ns, const char *name, int timeout_ms,
		      struct pp_error **err)
{
	for (int waited = 0; pp_ctrl_running(kind, ns, name); waited += WAIT_STEP_MS) {
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return pp_error_set(err, ETIMEDOUT,
					    "timed out waiting for the controller of %s/%s",
					    pp_workload_kind_info(kind)->lower, name);
		poll(NULL, 0, WAIT_STEP_MS);
	}
	return 0;
}
