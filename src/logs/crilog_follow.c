/* The follower: `logs -f` over inotify. Events only wake the caller; each
 * pp_log_follow_read drains them and then looks at every followed container
 * afresh (new data, a rotation, a restart, a directory that appeared), so a
 * lost or merged event (or a queue overflow) cannot lose records: whatever is
 * written after the events are drained queues a new event. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logs/crilog_internal.h"
#include "util/cleanup.h"
#include "util/dir.h"
#include "util/proc.h"

/* One mask for every watch: a directory can be watched for two containers
 * (the parent of both), and inotify_add_watch on it replaces the mask. */
#define WATCH_MASK                                                                                 \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_DELETE | IN_DELETE_SELF |        \
	 IN_MOVE_SELF | IN_ONLYDIR)
#define EVENT_BUF_SIZE 65536
#define MAX_WATCH_TRIES 8

struct watch {
	int wd;
	int refs;
};

struct followed {
	char *dir;
	char *container;
	int restart;
	struct pp_log_read_opts opts; /* tail applies to the first files opened */
	bool started;		      /* the files of restart are open */
	int wd;			      /* on dir, or on its nearest ancestor while it is missing */
	bool on_dir;
	int dirfd;
	/* Files to read in order: all are complete but the last, which is
	 * <restart>.log as it was when opened (the live one). */
	struct crilog_srcs srcs;
	struct crilog_linebuf lb; /* read from srcs.v[0], not delivered yet */
};

struct pp_log_follow {
	int ifd;
	/* A pipe watched through /proc/self/fd: writing to it makes ifd readable,
	 * for the records already there after an add or a stop by fn. */
	int kick[2];
	int kick_wd;
	struct watch *watches;
	size_t nwatches, capwatches;
	struct followed **c;
	size_t n, cap;
};

static void kick(struct pp_log_follow *f)
{
	if (f->kick_wd >= 0 && write(f->kick[1], "x", 1) < 0) {
		/* EAGAIN: the pipe is full, so an event is pending anyway */
	}
}

static void drain_kick(struct pp_log_follow *f)
{
	char buf[256];
	while (f->kick[0] >= 0 && read(f->kick[0], buf, sizeof(buf)) > 0) {
	}
}

int pp_log_follow_new(struct pp_log_follow **out, struct pp_error **err)
{
	struct pp_log_follow *f = xmalloc(sizeof(*f));
	f->kick[0] = f->kick[1] = f->kick_wd = -1;
	f->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (f->ifd < 0) {
		pp_error_set(err, errno, "inotify_init1");
		free(f);
		return -1;
	}
	if (pipe2(f->kick, O_CLOEXEC | O_NONBLOCK) < 0) {
		pp_error_set(err, errno, "pipe2");
		pp_log_follow_free(f);
		return -1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->kick[1]);
	/* Without /proc there is no kick: callers then find the records
	 * already there on their first pp_log_follow_read, not by waiting. */
	f->kick_wd = inotify_add_watch(f->ifd, path, IN_MODIFY);
	*out = f;
	return 0;
}

int pp_log_follow_fd(const struct pp_log_follow *f)
{
	return f->ifd;
}

/* ---- watches, counted: one inode has one wd, shared by containers ---- */

static void watch_hold(struct pp_log_follow *f, struct followed *c, int wd)
{
	if (c->wd == wd)
		return;
	size_t i;
	for (i = 0; i < f->nwatches && f->watches[i].wd != wd; i++) {
	}
	if (i == f->nwatches) {
		if (f->nwatches == f->capwatches) {
			f->capwatches = f->capwatches ? f->capwatches * 2 : 8;
			f->watches = xrealloc(f->watches, f->capwatches * sizeof(*f->watches));
		}
		f->watches[f->nwatches++] = (struct watch){.wd = wd, .refs = 0};
	}
	f->watches[i].refs++;
	int old = c->wd;
	c->wd = wd;
	if (old < 0)
		return;
	for (i = 0; i < f->nwatches && f->watches[i].wd != old; i++) {
	}
	if (i < f->nwatches && --f->watches[i].refs == 0) {
		inotify_rm_watch(f->ifd, old);
		f->watches[i] = f->watches[--f->nwatches];
	}
}

static void watch_release(struct pp_log_follow *f, struct followed *c)
{
	c->on_dir = false;
	cleanup_closep(&c->dirfd);
	if (c->wd < 0)
		return;
	for (size_t i = 0; i < f->nwatches; i++) {
		if (f->watches[i].wd == c->wd && --f->watches[i].refs == 0) {
			inotify_rm_watch(f->ifd, c->wd);
			f->watches[i] = f->watches[--f->nwatches];
			break;
		}
	}
	c->wd = -1;
}

/* The kernel dropped wd (its directory was removed): whoever used it looks
 * for its directory again. */
static void watch_gone(struct pp_log_follow *f, int wd)
{
	for (size_t i = 0; i < f->nwatches; i++) {
		if (f->watches[i].wd == wd) {
			f->watches[i] = f->watches[--f->nwatches];
			break;
		}
	}
	for (size_t i = 0; i < f->n; i++) {
		if (f->c[i]->wd == wd) {
			f->c[i]->wd = -1;
			f->c[i]->on_dir = false;
			cleanup_closep(&f->c[i]->dirfd);
		}
	}
}

/* Watches the nearest existing ancestor of dir. */
static int watch_ancestor(struct pp_log_follow *f, struct followed *c, struct pp_error **err)
{
	cleanup_free char *p = xstrdup(c->dir);
	for (;;) {
		char *slash = strrchr(p, '/');
		if (slash == NULL)
			strcpy(p, ".");
		else if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
		int wd = inotify_add_watch(f->ifd, p, WATCH_MASK);
		if (wd >= 0) {
			watch_hold(f, c, wd);
			return 0;
		}
		if ((errno != ENOENT && errno != ENOTDIR) || strcmp(p, ".") == 0 ||
		    strcmp(p, "/") == 0)
			return pp_error_set(err, errno, "watch %s", p);
	}
}

/* Returns 1 when dir is watched and open, 0 while it does not exist. */
static int ensure_dir(struct pp_log_follow *f, struct followed *c, struct pp_error **err)
{
	for (int i = 0; !c->on_dir && i < MAX_WATCH_TRIES; i++) {
		int wd = inotify_add_watch(f->ifd, c->dir, WATCH_MASK);
		if (wd >= 0) {
			watch_hold(f, c, wd);
			c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (c->dirfd >= 0) {
				c->on_dir = true;
				return 1;
			}
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return pp_error_set(err, errno, "watch %s", c->dir);
		if (watch_ancestor(f, c, err) < 0)
			return -1;
		/* Created before the ancestor was watched: no event will tell. */
		if (access(c->dir, F_OK) < 0)
			return 0;
	}
	return c->on_dir;
}

/* ---- one container ---- */

static bool log_exists(int dirfd, int restart)
{
	char name[32];
	snprintf(name, sizeof(name), "%d.log", restart);
	return faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The smallest N > restart with an N.log, or -1. */
static int next_restart(int dirfd, int restart)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (fd < 0 || pp_dir_open_fd(&d, fd, "log directory", NULL) < 0)
		return -1;
	int best = -1;
	struct dirent *de;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		int n, len = 0;
		if (sscanf(de->d_name, "%9d.log%n", &n, &len) == 1 && de->d_name[len] == '\0' &&
		    n > restart && (best < 0 || n < best))
			best = n;
	}
	return best;
}

/* Opens the first files, applying the read options to what is there. */
static int start(struct followed *c, struct pp_error **err)
{
	int r = crilog_open_chain(c->dirfd, c->restart, 0, &c->srcs, err);
	if (r == 0) {
		/* Followed from a restart whose log is gone: the next one there is. */
		int next = next_restart(c->dirfd, c->restart);
		if (next < 0)
			return 0;
		c->restart = next;
		r = crilog_open_chain(c->dirfd, c->restart, 0, &c->srcs, err);
	}
	if (r <= 0)
		return r;
	if (crilog_seek_tail(&c->srcs, c->opts.tail, c->opts.since_ns, err) < 0)
		return -1;
	c->started = true;
	return 1;
}

/* When <restart>.log is no longer the live file, queues the files rotated
 * since, then the new current one. Returns 1 when it did. */
static int follow_rotation(struct followed *c, struct pp_error **err)
{
	char name[32];
	struct stat st;
	const struct crilog_src *live = &c->srcs.v[c->srcs.n - 1];
	snprintf(name, sizeof(name), "%d.log", c->restart);
	if (fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* renamed, its successor not created yet */
	if (st.st_ino == live->ino && st.st_dev == live->dev)
		return 0;
	return crilog_open_chain(c->dirfd, c->restart, live->ino, &c->srcs, err);
}

static int file_size(const struct crilog_src *src, int64_t *size, struct pp_error **err)
{
	struct stat st;
	if (fstat(src->fd, &st) < 0)
		return pp_error_set(err, errno, "stat log file");
	*size = st.st_size;
	return 0;
}

/* Reads what is new; 1 when fn stopped it. */
static int step(struct pp_log_follow *f, struct followed *c, struct crilog_deliver *d,
		struct pp_error **err)
{
	int r = ensure_dir(f, c, err);
	if (r <= 0)
		return r;
	if (!c->started && (r = start(c, err)) <= 0)
		return r;
	for (;;) {
		struct crilog_src *src = &c->srcs.v[0];
		bool live = c->srcs.n == 1;
		/* Checked first: the writer of restart N is closed before N+1.log
		 * is created, so when it exists what is read below is all of N. */
		bool next = live && log_exists(c->dirfd, c->restart + 1);
		int64_t end = 0;
		if (file_size(src, &end, err) < 0)
			return -1;
		r = crilog_read_lines(src, end, &c->lb, crilog_deliver_line, d, err);
		if (r != 0)
			return r;
		if (!live) {
			/* Complete: a partial last line will never end. */
			crilog_srcs_shift(&c->srcs);
			crilog_linebuf_reset(&c->lb);
			continue;
		}
		r = follow_rotation(c, err);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (!next)
			return 0;
		r = crilog_open_chain(c->dirfd, c->restart + 1, 0, &c->srcs, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		c->restart++;
	}
}

/* ---- the follower ---- */

static void drain_events(struct pp_log_follow *f)
{
	char buf[EVENT_BUF_SIZE] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(f->ifd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_IGNORED) && ev->wd != f->kick_wd)
				watch_gone(f, ev->wd);
			p += sizeof(*ev) + ev->len;
		}
	}
	drain_kick(f);
}

int pp_log_follow_read(struct pp_log_follow *f, pp_log_record_fn fn, void *ctx,
		       struct pp_error **err)
{
	drain_events(f);
	for (size_t i = 0; i < f->n; i++) {
		struct followed *c = f->c[i];
		struct crilog_deliver d = {
		    .container = c->container, .since_ns = c->opts.since_ns, .fn = fn, .ctx = ctx};
		int r = step(f, c, &d, err);
		if (r < 0)
			return pp_error_wrap(err, "logs of %s", c->container);
		if (r > 0) {
			/* Stopped by fn: the rest is read on the next call. */
			kick(f);
			return 0;
		}
	}
	return 0;
}

int pp_log_follow_add(struct pp_log_follow *f, const char *dir, int restart, const char *container,
		      const struct pp_log_read_opts *opts, struct pp_error **err)
{
	struct followed *c = xmalloc(sizeof(*c));
	c->dir = xstrdup(dir);
	c->container = xstrdup(container);
	c->restart = restart;
	c->opts = opts ? *opts : (struct pp_log_read_opts){.tail = -1, .since_ns = 0};
	c->wd = c->dirfd = -1;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4;
		f->c = xrealloc(f->c, f->cap * sizeof(*f->c));
	}
	f->c[f->n++] = c;
	if (ensure_dir(f, c, err) < 0) {
		f->n--;
		watch_release(f, c);
		free(c->dir);
		free(c->container);
		free(c);
		return pp_error_wrap(err, "follow logs of %s", container);
	}
	kick(f); /* what is already there is read on the next pp_log_follow_read */
	return 0;
}

void pp_log_follow_free(struct pp_log_follow *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		struct followed *c = f->c[i];
		cleanup_closep(&c->dirfd);
		crilog_srcs_clear(&c->srcs);
		crilog_linebuf_free(&c->lb);
		free(c->dir);
		free(c->container);
		free(c);
	}
	free(f->c);
	free(f->watches);
	cleanup_closep(&f->kick[0]);
	cleanup_closep(&f->kick[1]);
	/* The inotify instance's close waits for an SRCU grace period: `run`
	 * and `logs -f` would take ~15 ms longer to return. */
	pp_close_detached(f->ifd);
	free(f);
}
