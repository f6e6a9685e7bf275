/* The static pods: what the manifest directory asks for (wanted), what the
 * pods' annotations say was made from it (made), and the actions that
 * make the second match the first. */
#include <ctype.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "manifest/manifest.h"
#include "manifest/yaml_tree.h"
#include "node/node_internal.h"
#include "ops/apply.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fault.h"
#include "util/dir.h"
#include "util/fs.h"

#define MANIFEST_MAX (4 << 20)

struct made {
	char *ns, *name, *uid, *file, *hash;
	bool alive, finished;
};

struct pass {
	struct wanted *w;
	size_t n_w;
	char **broken; /* files that did not parse: their pods are kept */
	size_t n_broken;
	struct made *m;
	size_t n_m;
};

/* ---- messages said once ---- */

static bool strv_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void say_once(struct node_sync *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say_once(struct node_sync *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	struct node_said *d = &s->said;
	if (!strv_has(d->prev, d->n_prev, msg))
		s->log(s->log_ctx, "%s", msg);
	d->cur = xrealloc(d->cur, (d->n_cur + 1) * sizeof(*d->cur));
	d->cur[d->n_cur++] = msg;
}

static void said_turn(struct node_said *d)
{
	for (size_t i = 0; i < d->n_prev; i++)
		free(d->prev[i]);
	free(d->prev);
	d->prev = d->cur;
	d->n_prev = d->n_cur;
	d->cur = NULL;
	d->n_cur = 0;
}

static const char *err_text(const struct pp_error *e, char *buf, unsigned len)
{
	return e ? pp_error_text(e, buf, len) : "unknown error";
}

/* ---- wanted: the directory ---- */

static const struct wanted *find_wanted(const struct pass *p, const char *ns, const char *name)
{
	for (size_t i = 0; i < p->n_w; i++)
		if (strcmp(p->w[i].ns, ns) == 0 && strcmp(p->w[i].name, name) == 0)
			return &p->w[i];
	return NULL;
}

static void now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

/* All of a file's pods, or none (the file is then broken). */
static int read_file(struct node_sync *s, struct pass *p, const char *file, struct pp_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0, n = 0;
	struct wanted *w = NULL;
	char seen[64];
	now_rfc3339(seen, sizeof(seen));
	if (pp_read_file(file, MANIFEST_MAX, &buf, &len, err) < 0 ||
	    node_file_parse(file, buf, len, s->host, seen, &w, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct wanted *other = find_wanted(p, w[i].ns, w[i].name);
		if (other != NULL) {
			say_once(s, "%s: metadata.name: pod %s/%s is already defined by %s", file,
				 w[i].ns, w[i].name, other->file);
			node_wanted_free(&w[i]);
			continue;
		}
		p->w = xrealloc(p->w, (p->n_w + 1) * sizeof(*p->w));
		p->w[p->n_w++] = w[i];
	}
	free(w);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void read_dir(struct node_sync *s, struct pass *p)
{
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	cleanup_error struct pp_error *err = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	if (access(s->dir, F_OK) < 0)
		say_once(s, "%s: %s: no static pods until it exists", s->dir, strerror(errno));
	if (pp_dir_open(&d, s->dir, PP_DIR_MISSING_OK, &err) < 0) {
		char buf[512];
		say_once(s, "%s: %s", s->dir, err_text(err, buf, sizeof(buf)));
		return;
	}
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (!node_manifest_name(de->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xasprintf("%s/%s", s->dir, de->d_name);
	}
	if (n > 1) /* qsort wants an array, even of none */
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		/* a config map's files are symlinks: stat follows them */
		if (stat(names[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		cleanup_error struct pp_error *ferr = NULL;
		if (read_file(s, p, names[i], &ferr) < 0) {
			char buf[1024];
			say_once(s, "%s (its pods are left as they are)",
				 err_text(ferr, buf, sizeof(buf)));
			p->broken = xrealloc(p->broken, (p->n_broken + 1) * sizeof(*p->broken));
			p->broken[p->n_broken++] = xstrdup(names[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- made: the pods' annotations ---- */

bool node_pod_alive(const char *uid)
{
	cleanup_free char *path = pp_state_file(uid, PP_STATE_LOCK);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

static const char *json_str(struct json_object *o, const char *a, const char *b, const char *c)
{
	const char *keys[] = {a, b, c};
	for (size_t i = 0; i < 3 && o != NULL; i++)
		if (keys[i] != NULL && !json_object_object_get_ex(o, keys[i], &o))
			return NULL;
	return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

static void read_made_one(struct pass *p, const struct pp_pod_ref *ref)
{
	cleanup_free char *path = pp_state_file(ref->uid, PP_STATE_MANIFEST);
	cleanup_free char *text = NULL;
	size_t len;
	if (pp_read_file(path, MANIFEST_MAX, &text, &len, NULL) < 0)
		return;
	struct json_object *j = json_tokener_parse(text); /* ours are JSON */
	const char *src = json_str(j, "metadata", "annotations", PP_ANN_CONFIG_SOURCE);
	const char *file = json_str(j, "metadata", "annotations", PP_ANN_CONFIG_FILE);
	const char *hash = json_str(j, "metadata", "annotations", PP_ANN_CONFIG_HASH);
	if (src && strcmp(src, "file") == 0 && file && hash) {
		struct made m = {.ns = xstrdup(ref->ns),
				 .name = xstrdup(ref->name),
				 .uid = xstrdup(ref->uid),
				 .file = xstrdup(file),
				 .hash = xstrdup(hash)};
		m.alive = node_pod_alive(ref->uid);
		struct json_object *st = NULL, *fin = NULL, *pp = NULL;
		if (pp_state_read_status(ref->uid, &st, NULL) == 0 &&
		    json_object_object_get_ex(st, "peapod", &pp) &&
		    json_object_object_get_ex(pp, "finished", &fin))
			m.finished = json_object_get_boolean(fin);
		json_object_put(st);
		p->m = xrealloc(p->m, (p->n_m + 1) * sizeof(*p->m));
		p->m[p->n_m++] = m;
	}
	json_object_put(j);
}

static void read_made(struct node_sync *s, struct pass *p)
{
	struct pp_pod_ref *refs = NULL;
	size_t n = 0;
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_list(NULL, &refs, &n, &err) < 0) {
		char buf[512];
		say_once(s, "listing the pods: %s", err_text(err, buf, sizeof(buf)));
		return;
	}
	for (size_t i = 0; i < n; i++)
		read_made_one(p, &refs[i]);
	pp_pod_refs_free(refs, n);
}

static const struct made *find_made(const struct pass *p, const char *ns, const char *name)
{
	for (size_t i = 0; i < p->n_m; i++)
		if (strcmp(p->m[i].ns, ns) == 0 && strcmp(p->m[i].name, name) == 0)
			return &p->m[i];
	return NULL;
}

/* ---- actions ---- */

static int delete_pod(struct node_sync *s, const char *ns, const char *name, const char *why)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_delete_opts o = {.grace_s = -1, .timeout_ms = -1};
	if ((pp_fault("node pod delete", &err) < 0 || pp_pod_delete(ns, name, &o, &err) < 0) &&
	    (err == NULL || err->status != ENOENT)) {
		char buf[512];
		say_once(s, "pod %s/%s: delete failed: %s", ns, name,
			 err_text(err, buf, sizeof(buf)));
		return -1;
	}
	s->log(s->log_ctx, "pod %s/%s deleted (%s)", ns, name, why);
	return 0;
}

/* Returns once the pod is up (its images pulled, as apply): the loop
 * waits meanwhile. Fine for the directory alone; a server sharing the loop
 * (the CRI's, issue #19) will want it in a child reporting on a pipe. */
static int create_pod(struct node_sync *s, struct wanted *w, const char *verb)
{
	cleanup_error struct pp_error *err = NULL;
	cleanup_free char *uid = NULL;
	struct pp_apply_opts o = {
	    .store_root = s->store_root, .manifest = w->text, .manifest_len = w->len};
	if (pp_fault("node pod apply", &err) < 0 ||
	    pp_pod_apply(steal_ptr(&w->pod), &o, &uid, &err) < 0) {
		char buf[1024];
		say_once(s, "pod %s/%s from %s: %s", w->ns, w->name, w->file,
			 err_text(err, buf, sizeof(buf)));
		return -1;
	}
	s->log(s->log_ctx, "pod %s/%s %s from %s (uid %s)", w->ns, w->name, verb, w->file, uid);
	return 0;
}

static bool is_broken(const struct pass *p, const char *file)
{
	return strv_has(p->broken, p->n_broken, file);
}

/* The made pods the directory no longer has (a delete that failed: tried
 * again after the retry's back-off). */
static void remove_stale(struct node_sync *s, struct pass *p, bool *acted, bool *failed)
{
	for (size_t i = 0; i < p->n_m; i++) {
		const struct made *m = &p->m[i];
		if (is_broken(p, m->file))
			continue;
		const struct wanted *w = find_wanted(p, m->ns, m->name);
		if (w != NULL && strcmp(w->file, m->file) == 0)
			continue;
		*acted = true;
		if (delete_pod(s, m->ns, m->name,
			       access(m->file, F_OK) < 0 ? "its file was removed"
							 : "its file no longer defines it") < 0)
			*failed = true;
	}
}

static void make_wanted(struct node_sync *s, struct pass *p, bool *acted, bool *failed)
{
	for (size_t i = 0; i < p->n_w; i++) {
		struct wanted *w = &p->w[i];
		const struct made *m = find_made(p, w->ns, w->name);
		const char *verb = "created";
		if (m == NULL) {
			cleanup_free char *uid = NULL;
			if (pp_name_lookup(w->ns, w->name, &uid, NULL) == 0) {
				say_once(
				    s,
				    "%s: pod %s/%s exists and was not made from a file: left alone",
				    w->file, w->ns, w->name);
				continue;
			}
		} else if (strcmp(m->file, w->file) != 0) {
			continue; /* another file's (itself broken): kept as it is */
		} else if (strcmp(m->hash, w->hash) != 0) {
			verb = "replaced (its manifest changed)";
		} else if (!m->alive && !m->finished) {
			verb = "created again (its supervisor was gone)";
		} else {
			continue; /* unchanged: left alone */
		}
		*acted = true;
		if (m != NULL && delete_pod(s, w->ns, w->name, "to be made anew") < 0) {
			*failed = true;
			continue;
		}
		if (create_pod(s, w, verb) < 0)
			*failed = true;
	}
}

static void pass_free(struct pass *p)
{
	for (size_t i = 0; i < p->n_w; i++)
		node_wanted_free(&p->w[i]);
	free(p->w);
	for (size_t i = 0; i < p->n_broken; i++)
		free(p->broken[i]);
	free(p->broken);
	for (size_t i = 0; i < p->n_m; i++) {
		struct made *m = &p->m[i];
		free(m->ns);
		free(m->name);
		free(m->uid);
		free(m->file);
		free(m->hash);
	}
	free(p->m);
}

void node_sync_pass(struct node_sync *s, bool *acted, bool *failed)
{
	struct pass p = {0};
	*acted = *failed = false;
	read_dir(s, &p);
	read_made(s, &p);
	remove_stale(s, &p, acted, failed);
	make_wanted(s, &p, acted, failed);
	pass_free(&p);
	said_turn(&s->said);
}

void node_sync_free(struct node_sync *s)
{
	said_turn(&s->said);
	said_turn(&s->said);
	free(s->host);
	free(s->dir);
}
