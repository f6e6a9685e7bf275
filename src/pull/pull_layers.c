/* A pull's layers: PP_PULL_PARALLEL_LAYERS workers (threads), each with
 * its own registry client, take the layers in order; for each, the store's add
 * (pp_image_add_layer_at: the layer's lock, a private directory) calls
 * stream_unpack, which downloads on a second thread into one end of a
 * socket pair while unpacking from the other: download, decompression and
 * extraction overlap, and no temporary file is written. Both digests are
 * checked at the end of the stream (the blob's by the registry client, the
 * diff ID by the unpacker); any failure discards the private directory.
 * The workers' clients are copies of the pull's (pull.c), made on the
 * caller's thread, with the registry's token already.
 *
 * The caller's thread only waits and tells: events queued by the workers
 * and each layer's byte count are handed to the progress callback there,
 * so that the callback never runs on a pull thread. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "image/archive_api.h"
#include "image/layer.h"
#include "pull/pull_internal.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/settings.h"

/* The socket pair's buffers: a few of the unpacker's reads, so that the
 * download runs ahead while a large file is written. */
#define STREAM_BUFFER_BYTES (4 << 20)

struct layers;

struct layer_task {
	struct layers *ls;
	size_t index;
	const struct pp_oci_layer *layer;
	const char *diff_id;
	atomic_llong received;		   /* bytes of the current attempt */
	long long shown;		   /* received when last told (the caller's thread) */
	bool downloaded;		   /* stream_unpack ran: not found in the store */
	bool restart;			   /* the attempt failed in a way a new one may not */
	struct pp_registry_client *client; /* the worker's */
};

/* An event for the caller's thread, its strings owned. */
struct queued_event {
	struct queued_event *next;
	struct layer_task *task;
	enum pp_pull_event_kind kind;
	char *text;
	int64_t done;
};

struct layers {
	struct pull *p;
	struct layer_task *tasks;
	size_t n;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	size_t next;	      /* the next task a worker takes */
	size_t running;	      /* workers not finished */
	atomic_bool failed;   /* a layer failed: the others stop */
	struct pp_error *err; /* the first failure */
	struct queued_event *head, **tail;
};

static void queue_event(struct layer_task *t, enum pp_pull_event_kind kind, const char *text,
			int64_t done)
{
	struct layers *ls = t->ls;
	struct queued_event *e = xmalloc(sizeof(*e));
	*e = (struct queued_event){
	    .task = t, .kind = kind, .text = text ? xstrdup(text) : NULL, .done = done};
	pthread_mutex_lock(&ls->lock);
	*ls->tail = e;
	ls->tail = &e->next;
	pthread_cond_signal(&ls->changed);
	pthread_mutex_unlock(&ls->lock);
}

/* ---- one layer's download, on its own thread ---- */

struct download {
	struct layer_task *t;
	int fd; /* the socket pair's writing end; closed when done */
	bool consumer_gone;
	struct pp_error *err;
};

static int stream_write(void *ctx, const void *data, size_t len, struct pp_error **err)
{
	struct download *d = ctx;
	const char *p = data;
	if (atomic_load_explicit(&d->t->ls->failed, memory_order_relaxed))
		return pp_error_set(err, ECANCELED, "another layer failed");
	while (len > 0) {
		/* MSG_NOSIGNAL: an unpacker that stopped is EPIPE, not SIGPIPE */
		ssize_t w = send(d->fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			d->consumer_gone = errno == EPIPE || errno == ECONNRESET;
			return pp_error_set(err, errno, "hand the layer to its unpacker");
		}
		p += w;
		len -= (size_t)w;
		atomic_fetch_add_explicit(&d->t->received, w, memory_order_relaxed);
	}
	return 0;
}

/* The registry sent the whole blob again to a resumption: what was
 * unpacked cannot be taken back, so the layer starts over. */
static int stream_rewind(void *ctx, struct pp_error **err)
{
	struct download *d = ctx;
	d->t->restart = true;
	return pp_error_set(err, ESPIPE, "the registry could not resume the download");
}

static void *download_main(void *arg)
{
	struct download *d = arg;
	struct layer_task *t = d->t;
	struct pull *p = t->ls->p;
	struct pp_registry_sink sink = {stream_write, stream_rewind, d};
	pp_registry_get_blob(t->client, p->host, p->repo, t->layer->desc.digest,
			     t->layer->desc.size, &sink, &d->err);
	close(d->fd); /* the unpacker sees the end of the stream */
	return NULL;
}

/* ---- one layer's unpacking: the store's unpacker (pp_layer_unpack_fn) ---- */

static int stream_pair(int sv[2], struct pp_error **err)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return pp_error_set(err, errno, "socketpair");
	int size = STREAM_BUFFER_BYTES;
	/* a hint: capped by net.core.[rw]mem_max, which is fine */
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	return 0;
}

static void unpack_warnings(struct layer_task *t, const struct pp_layer_result *res)
{
	for (size_t i = 0; i < res->n_warnings; i++)
		queue_event(t, PP_PULL_EV_WARNING, res->warnings[i], 0);
}

static int stream_unpack(void *ctx, int unused_fd, int dst_dirfd, const char *dst,
			 char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	struct layer_task *t = ctx;
	const struct pp_oci_descriptor *desc = &t->layer->desc;
	if (!t->downloaded)
		queue_event(t, PP_PULL_EV_BLOB, NULL, 0);
	t->downloaded = true;
	atomic_store(&t->received, 0);
	/* the tar-split record, beside the tree (what image save rebuilds
	 * the identical tar from) */
	cleanup_free char *split = pp_image_layer_split_path(dst);
	int sv[2];
	if (stream_pair(sv, err) < 0)
		return -1;
	struct download d = {.t = t, .fd = sv[1]};
	pthread_t thread;
	int r = pthread_create(&thread, NULL, download_main, &d);
	if (r != 0) {
		close(sv[0]);
		close(sv[1]);
		return pp_error_set(err, r, "start the layer's download");
	}
	struct pp_layer_source src = {
	    .fd = sv[0],
	    .compression = t->layer->compression,
	    .digest = desc->digest,
	    .size = desc->size,
	    .diff_id = t->diff_id,
	    .digest_checked = true, /* by the registry client, as the bytes pass */
	    .split_path = split,
	    .limits = {.max_bytes = pp_settings()->image_max_bytes,
		       .max_entries = PP_LAYER_MAX_ENTRIES_DEFAULT},
	};
	struct pp_layer_result res = {0};
	struct pp_error *unpack_err = NULL;
	int ret = pp_layer_unpack(dst_dirfd, &src, &res, &unpack_err);
	/* An unpacker that failed early stops the download (its next send is
	 * EPIPE); one that succeeded read to the end, which the download's
	 * end made. */
	close(sv[0]);
	pthread_join(thread, NULL);
	if (d.err != NULL && !d.consumer_gone) {
		/* the download's own failure (a digest, the network): the
		 * unpacker's is its consequence */
		*err = d.err;
		d.err = NULL;
		ret = -1;
	} else if (ret < 0) {
		*err = unpack_err;
		unpack_err = NULL;
	} else if (d.err != NULL) {
		*err = steal_ptr(&d.err);
		ret = -1;
	}
	if (ret == 0) {
		unpack_warnings(t, &res);
		snprintf(diff_id, PP_DIGEST_STRING_MAX, "%s", res.diff_id);
	}
	pp_error_free(&d.err);
	pp_error_free(&unpack_err);
	pp_layer_result_clear(&res);
	return ret;
}

/* ---- the workers ---- */

/* Adds task's layer, starting over (a fresh private directory) when a
 * download came back whole. */
static int add_layer(struct layer_task *t, struct pp_error **err)
{
	struct pull *p = t->ls->p;
	const struct pp_oci_descriptor *desc = &t->layer->desc;
	for (int attempt = 1;; attempt++) {
		t->restart = false;
		if (pp_image_add_layer_at(p->add, t->index, t->diff_id, desc->digest, -1,
					  stream_unpack, t, err) == 0)
			break;
		if (!t->restart || attempt == PP_PULL_LAYER_ATTEMPTS || atomic_load(&t->ls->failed))
			return pp_error_wrap(err, "layer %zu (%s)", t->index, desc->digest);
		queue_event(t, PP_PULL_EV_BLOB_RESTART, (*err)->msg, 0);
		pp_error_free(err);
	}
	if (t->downloaded)
		queue_event(t, PP_PULL_EV_BLOB_DONE, NULL, atomic_load(&t->received));
	else
		queue_event(t, PP_PULL_EV_BLOB_SKIPPED, NULL, 0);
	return 0;
}

/* A worker and its registry client (made on the caller's thread). */
struct worker {
	struct layers *ls;
	struct pp_registry_client *client;
	pthread_t thread;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct layers *ls = w->ls;
	struct pp_error *err = NULL;
	for (;;) {
		pthread_mutex_lock(&ls->lock);
		size_t i = ls->next < ls->n && !atomic_load(&ls->failed) ? ls->next++ : ls->n;
		pthread_mutex_unlock(&ls->lock);
		if (i == ls->n)
			break;
		struct layer_task *t = &ls->tasks[i];
		t->client = w->client;
		if (add_layer(t, &err) < 0) {
			pthread_mutex_lock(&ls->lock);
			if (ls->err == NULL)
				ls->err = steal_ptr(&err);
			atomic_store(&ls->failed, true);
			pthread_mutex_unlock(&ls->lock);
			pp_error_free(&err);
			break;
		}
	}
	pthread_mutex_lock(&ls->lock);
	ls->running--;
	pthread_cond_signal(&ls->changed);
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

/* ---- the caller's thread ---- */

/* Hands the queued events and the byte counts that moved to the caller.
 * Called with the lock held; drops it around each callback. */
static void tell(struct layers *ls)
{
	struct pull *p = ls->p;
	while (ls->head != NULL) {
		struct queued_event *e = ls->head;
		ls->head = e->next;
		if (ls->head == NULL)
			ls->tail = &ls->head;
		const struct pp_oci_descriptor *d = &e->task->layer->desc;
		if (e->kind == PP_PULL_EV_BLOB_DONE || e->kind == PP_PULL_EV_BLOB_RESTART)
			e->task->shown = e->done; /* no PROGRESS after its end */
		pthread_mutex_unlock(&ls->lock);
		pull_emit(p, e->kind, e->text, d->digest, d->size, e->done);
		free(e->text);
		free(e);
		pthread_mutex_lock(&ls->lock);
	}
	for (size_t i = 0; i < ls->n; i++) {
		struct layer_task *t = &ls->tasks[i];
		long long got = atomic_load_explicit(&t->received, memory_order_relaxed);
		if (got == t->shown)
			continue;
		t->shown = got;
		pthread_mutex_unlock(&ls->lock);
		pull_emit(p, PP_PULL_EV_PROGRESS, NULL, t->layer->desc.digest, t->layer->desc.size,
			  got);
		pthread_mutex_lock(&ls->lock);
	}
}

static void wait_a_tick(struct layers *ls)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	int64_t ns = until.tv_nsec + (int64_t)PP_PULL_PROGRESS_INTERVAL_MS * PP_NSEC_PER_MSEC;
	until.tv_sec += ns / 1000000000;
	until.tv_nsec = ns % 1000000000;
	pthread_cond_timedwait(&ls->changed, &ls->lock, &until);
}

/* What the threads share but would load lazily: loaded here, once. */
static int preload(struct pp_error **err)
{
	const struct pp_archive_api *A;
	(void)pp_settings();
	return pp_archive_api(&A, err);
}

/* Starts want workers (fewer if threads cannot be made, at least one),
 * each with a registry client of its own: a copy of the caller's, which
 * has the registry's token already. */
static int start_workers(struct layers *ls, struct worker *w, size_t want, size_t *started,
			 struct pp_error **err)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ls->changed, &ca);
	pthread_condattr_destroy(&ca);
	*started = 0;
	for (size_t i = 0; i < want; i++) {
		w[i].ls = ls;
		w[i].client = pp_registry_client_clone(ls->p->client);
		pthread_mutex_lock(&ls->lock);
		ls->running++;
		pthread_mutex_unlock(&ls->lock);
		int r = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
		if (r != 0) {
			pthread_mutex_lock(&ls->lock);
			ls->running--;
			pthread_mutex_unlock(&ls->lock);
			if (i == 0)
				return pp_error_set(err, r, "start the layers' downloads");
			break;
		}
		(*started)++;
	}
	return 0;
}

int pull_layers(struct pull *p, const struct pp_oci_manifest *m, const struct pp_oci_config *c,
		struct pp_error **err)
{
	if (preload(err) < 0)
		return -1;
	struct layers ls = {.p = p, .n = m->n_layers, .lock = PTHREAD_MUTEX_INITIALIZER};
	ls.tail = &ls.head;
	ls.tasks = xmalloc((m->n_layers + 1) * sizeof(*ls.tasks));
	size_t first = pp_image_add_reserve(p->add, m->n_layers);
	for (size_t i = 0; i < m->n_layers; i++)
		ls.tasks[i] = (struct layer_task){.ls = &ls,
						  .index = first + i,
						  .layer = &m->layers[i],
						  .diff_id = c->diff_ids[i]};
	size_t want = m->n_layers < PP_PULL_PARALLEL_LAYERS ? m->n_layers : PP_PULL_PARALLEL_LAYERS;
	struct worker workers[PP_PULL_PARALLEL_LAYERS] = {0};
	size_t started = 0;
	int ret = start_workers(&ls, workers, want, &started, err);
	pthread_mutex_lock(&ls.lock);
	while (ls.running > 0) {
		tell(&ls);
		/* tell drops the lock: what changed meanwhile is seen here,
		 * not waited for */
		if (ls.running > 0 && ls.head == NULL)
			wait_a_tick(&ls);
	}
	tell(&ls);
	pthread_mutex_unlock(&ls.lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	for (size_t i = 0; i < want; i++)
		pp_registry_client_free(workers[i].client);
	if (ret == 0 && ls.err != NULL) {
		*err = steal_ptr(&ls.err);
		ret = -1;
	}
	pp_error_free(&ls.err);
	pthread_cond_destroy(&ls.changed);
	pthread_mutex_destroy(&ls.lock);
	free(ls.tasks);
	return ret;
}
