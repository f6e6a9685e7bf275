/* Unit tests of the layered image store (src/image/store.h): layers shared
 * between images and stored once, concurrent adders of one layer, adds
 * killed midway, removal and collection, the legacy layout of imports made
 * before it. Layers come from a test unpacker that writes a few files, named
 * by a fake but well-formed diff ID (the sha256 of the layer's name). */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "image/image.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"

/* How long the slow unpacker sleeps: long enough for the second adder to
 * reach the layer's lock while the first holds it. */
#define SLOW_UNPACK_MS 300

struct fixture {
	char *dir;
	char *root;
	struct pp_image_store *store;
};

/* What the test unpacker writes, and where it counts its calls. */
struct layer_src {
	const char *name;
	const char *count_file; /* one byte appended per unpack, or NULL */
	int slow_ms;		/* sleep before finishing */
	int ready_fd;		/* written to, then pause() forever; -1: not */
	const char *claim;	/* the diff ID the unpacker reports, or NULL */
};

static int write_at(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, text, strlen(text));
	close(fd);
	return w == (ssize_t)strlen(text) ? 0 : -1;
}

/* <name>.txt and common.txt, both holding the name. */
static int test_unpack(void *ctx, int fd, int dst_dirfd, const char *dst,
		       char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	const struct layer_src *l = ctx;
	(void)fd;
	cleanup_free char *own = xasprintf("%s.txt", l->name);
	if (write_at(dst_dirfd, own, l->name) < 0 || write_at(dst_dirfd, "common.txt", l->name) < 0)
		return pp_error_set(err, errno, "write in %s", dst);
	if (l->count_file != NULL) {
		int cfd = open(l->count_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		assert_true(cfd >= 0);
		assert_int_equal(write(cfd, "x", 1), 1);
		close(cfd);
	}
	if (l->slow_ms > 0) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)l->slow_ms * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (l->ready_fd >= 0) {
		assert_int_equal(write(l->ready_fd, "r", 1), 1);
		for (;;)
			pause();
	}
	if (l->claim != NULL)
		snprintf(diff_id, PP_DIGEST_STRING_MAX, "%s", l->claim);
	return 0;
}

static void fake_digest(const char *text, char out[PP_DIGEST_STRING_MAX])
{
	char hex[PP_SHA256_HEX_LEN + 1];
	assert_int_equal(pp_digest_hex(PP_DIGEST_SHA256, text, strlen(text), hex, NULL), 0);
	snprintf(out, PP_DIGEST_STRING_MAX, "sha256:%s", hex);
}

static int add_layer(struct pp_image_add *add, struct layer_src *l, struct pp_error **err)
{
	char diff_id[PP_DIGEST_STRING_MAX];
	fake_digest(l->name, diff_id);
	return pp_image_add_layer(add, diff_id, NULL, -1, test_unpack, l, err);
}

/* Commits with a config blob naming the tag (so each image has its own id). */
static void commit(struct pp_image_add *add, const char *tag, char **id)
{
	cleanup_free char *config = xasprintf("{\"tag\":\"%s\"}", tag);
	char digest[PP_DIGEST_STRING_MAX];
	fake_digest(config, digest);
	struct pp_error *err = NULL;
	const char *tags[] = {tag, NULL};
	struct pp_image_add_names names = {.tags = tags};
	if (pp_image_add_blob(add, digest, config, strlen(config), &err) < 0 ||
	    pp_image_add_commit(add, digest, NULL, &names, id, &err) < 0)
		fail_msg("commit %s: %s", tag, err->msg);
}

/* An image of the layers named, lowest first. */
static void add_image(struct fixture *f, const char *tag, const char *const *layers,
		      const char *count_file)
{
	struct pp_image_add *add = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
	for (; *layers; layers++) {
		struct layer_src l = {.name = *layers, .count_file = count_file, .ready_fd = -1};
		if (add_layer(add, &l, &err) < 0)
			fail_msg("layer %s: %s", *layers, err->msg);
	}
	commit(add, tag, NULL);
	pp_image_add_free(add);
}

/* Layer directories under layers/sha256 (not temporaries, not locks). */
static int count_layers(struct fixture *f)
{
	cleanup_free char *path = xasprintf("%s/layers/sha256", f->root);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' && strchr(de->d_name, '.') == NULL;
	closedir(d);
	return n;
}

static int count_tmp(struct fixture *f)
{
	cleanup_free char *path = xasprintf("%s/layers/sha256", f->root);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, ".tmp-", strlen(".tmp-")) == 0;
	closedir(d);
	return n;
}

static char *layer_tree(struct fixture *f, const char *name)
{
	char diff_id[PP_DIGEST_STRING_MAX];
	fake_digest(name, diff_id);
	return xasprintf("%s/layers/sha256/%s/diff", f->root, diff_id + strlen("sha256:"));
}

static char *read_text(const char *dir, const char *name)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	char *text = NULL;
	if (pp_read_file(path, 4096, &text, NULL, NULL) < 0)
		return NULL;
	return text;
}

static int setup(void **state)
{
	struct fixture *f = xmalloc(sizeof(*f));
	f->dir = xstrdup("/tmp/peapod-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->root = xasprintf("%s/store", f->dir);
	assert_int_equal(pp_image_store_open(f->root, &f->store, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pp_image_store_free(f->store);
	assert_int_equal(pp_rm_rf(f->dir, NULL), 0);
	free(f->root);
	free(f->dir);
	free(f);
	return 0;
}

static void test_shared_layer_stored_once(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *count = xasprintf("%s/count", f->dir);
	const char *a[] = {"base", "a", NULL}, *b[] = {"base", "b", NULL};
	add_image(f, "a:1", a, count);
	add_image(f, "b:1", b, count);
	assert_int_equal(count_layers(f), 3);
	cleanup_free char *calls = read_text(f->dir, "count");
	assert_string_equal(calls, "xxx"); /* base unpacked once */
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_get(f->store, "b:1", &img, NULL), 0);
	cleanup_free char *base = layer_tree(f, "base");
	cleanup_free char *top = layer_tree(f, "b");
	/* topmost first, as overlay stacks them */
	assert_string_equal(img->layers[0], top);
	assert_string_equal(img->layers[1], base);
	assert_null(img->layers[2]);
	assert_true(img->size > 0);
	pp_image_free(img);
}

static void test_rm_keeps_shared_layer(void **state)
{
	struct fixture *f = *state;
	const char *a[] = {"base", "a", NULL}, *b[] = {"base", "b", NULL};
	add_image(f, "a:1", a, NULL);
	add_image(f, "b:1", b, NULL);
	assert_int_equal(pp_image_remove(f->store, "a:1", NULL), 0);
	assert_int_equal(count_layers(f), 2);
	cleanup_free char *base = layer_tree(f, "base");
	cleanup_free char *only_a = layer_tree(f, "a");
	assert_int_equal(access(base, F_OK), 0);
	assert_int_equal(access(only_a, F_OK), -1);
	assert_int_equal(pp_image_remove(f->store, "b:1", NULL), 0);
	assert_int_equal(count_layers(f), 0);
	/* the config blobs went with their images */
	cleanup_free char *blobs = xasprintf("%s/blobs/sha256", f->root);
	cleanup_free char *cmd = xasprintf("test -z \"$(ls -A %s)\"", blobs);
	assert_int_equal(system(cmd), 0);
}

/* An untagged image committed dangling (image load of an unnamed image):
 * collections keep it, image ls lists it without a ref, prune removes it;
 * committed untagged otherwise, the next collection removes it. */
static void test_dangling(void **state)
{
	struct fixture *f = *state;
	struct pp_error *err = NULL;
	for (int dangling = 0; dangling <= 1; dangling++) {
		struct pp_image_add *add = NULL;
		assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
		struct layer_src l = {.name = "d", .ready_fd = -1};
		if (add_layer(add, &l, &err) < 0)
			fail_msg("%s", err->msg);
		const char *config = "{\"untagged\":1}";
		char digest[PP_DIGEST_STRING_MAX];
		fake_digest(config, digest);
		struct pp_image_add_names names = {.dangling = dangling};
		cleanup_free char *id = NULL;
		if (pp_image_add_blob(add, digest, config, strlen(config), &err) < 0 ||
		    pp_image_add_commit(add, digest, NULL, &names, &id, &err) < 0)
			fail_msg("%s", err->msg);
		pp_image_add_free(add);
		assert_int_equal(pp_image_store_gc(f->store, NULL), 0);
		struct pp_image **imgs = NULL;
		size_t n = 0;
		assert_int_equal(pp_image_list(f->store, &imgs, &n, NULL), 0);
		assert_int_equal(n, (size_t)dangling);
		if (dangling) {
			assert_null(imgs[0]->ref);
			assert_string_equal(imgs[0]->id, id);
		}
		pp_image_list_free(imgs, n);
		assert_int_equal(count_layers(f), dangling);
	}
	assert_int_equal(pp_image_store_prune(f->store, NULL), 0);
	assert_int_equal(count_layers(f), 0);
	cleanup_free char *file = xasprintf("%s/dangling.json", f->root);
	assert_int_equal(access(file, F_OK), -1);
}

/* system df's numbers: a shared layer counted once in the totals, as
 * shared in each image that has it; a pinned image's layers are not
 * reclaimable. */
static void test_usage_counts_shared_once(void **state)
{
	struct fixture *f = *state;
	const char *a[] = {"base", "a", NULL}, *b[] = {"base", "b", NULL};
	add_image(f, "a:1", a, NULL);
	add_image(f, "b:1", b, NULL);
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_get(f->store, "a:1", &img, NULL), 0);
	assert_non_null(img->diff_ids);
	assert_non_null(img->diff_ids[1]);
	assert_null(img->diff_ids[2]);
	assert_string_equal(img->tags[0], "a:1");
	assert_null(img->tags[1]);
	assert_int_equal(pp_image_pin(f->store, "pod-uid", "default/p", &img, 1, NULL), 0);
	pp_image_free(img);

	struct pp_image_usage u;
	assert_int_equal(pp_image_store_usage(f->store, &u, NULL), 0);
	assert_int_equal(u.n_images, 2);
	assert_int_equal(u.n_active, 1);
	assert_int_equal(u.n_layers, 3);
	assert_int_equal(u.n_shared_layers, 1);
	/* each layer holds "<name>.txt" and "common.txt", both its name */
	int64_t base = 2 * (int64_t)strlen("base"), la = 2 * (int64_t)strlen("a"),
		lb = 2 * (int64_t)strlen("b");
	assert_int_equal(u.size, base + la + lb);
	assert_int_equal(u.shared_size, base);
	assert_int_equal(u.reclaimable, lb); /* a:1 runs */
	for (size_t i = 0; i < u.n_images; i++) {
		assert_int_equal(u.images[i].shared_size, base);
		assert_int_equal(u.images[i].n_pods, strcmp(u.images[i].tags[0], "a:1") == 0);
	}
	pp_image_usage_clear(&u);
}

/* tag: a second name; moving a tag collects the image it left; bad
 * targets refused. */
static void test_tag(void **state)
{
	struct fixture *f = *state;
	const char *a[] = {"a", NULL}, *b[] = {"b", NULL};
	add_image(f, "a:1", a, NULL);
	add_image(f, "b:1", b, NULL);
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_tag(f->store, "a:1", "docker.io/library/x:2", NULL), 0);
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_get(f->store, "x:2", &img, NULL), 0);
	assert_string_equal(img->tags[0], "a:1");
	assert_string_equal(img->tags[1], "x:2");
	pp_image_free(img);
	/* b:1 moves to a's image: b's image and layer go */
	assert_int_equal(pp_image_tag(f->store, "x:2", "b:1", NULL), 0);
	assert_int_equal(count_layers(f), 1);
	assert_int_equal(pp_image_tag(f->store, "a:1", "Bad", &err), -1);
	assert_non_null(strstr(err->msg, "invalid image reference"));
	pp_error_free(&err);
	assert_int_equal(pp_image_tag(f->store, "nope:1", "c:1", &err), -1);
	assert_non_null(strstr(err->msg, "not found"));
	pp_error_free(&err);
}

/* A pod's pin keeps a forcibly removed image's layers until the pod ends. */
static void test_force_rm_pinned(void **state)
{
	struct fixture *f = *state;
	const char *layers[] = {"pinned", NULL};
	add_image(f, "pin:1", layers, NULL);
	struct pp_image *img = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_get(f->store, "pin:1", &img, NULL), 0);
	assert_int_equal(pp_image_pin(f->store, "pod-uid", "default/p", &img, 1, NULL), 0);
	assert_int_equal(pp_image_remove(f->store, "pin:1", &err), -1);
	assert_non_null(strstr(err->msg, "in use by a running pod"));
	pp_error_free(&err);
	assert_int_equal(pp_image_remove_force(f->store, "pin:1", NULL), 0);
	struct pp_image *gone = NULL;
	assert_int_equal(pp_image_get(f->store, "pin:1", &gone, &err), -1);
	pp_error_free(&err);
	assert_int_equal(access(img->layers[0], F_OK), 0);
	/* the pod ends: its data directory (and pin) goes */
	cleanup_free char *pod_dir = xasprintf("%s/pods/pod-uid", f->root);
	assert_int_equal(pp_rm_rf(pod_dir, NULL), 0);
	assert_int_equal(pp_image_store_gc(f->store, NULL), 0);
	assert_int_equal(access(img->layers[0], F_OK), -1);
	assert_int_equal(count_layers(f), 0);
	pp_image_free(img);
}

/* A layer twice in one image: once, at its topmost place. */
static void test_repeated_layer(void **state)
{
	struct fixture *f = *state;
	const char *layers[] = {"x", "y", "x", NULL};
	add_image(f, "rep:1", layers, NULL);
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_get(f->store, "rep:1", &img, NULL), 0);
	cleanup_free char *x = layer_tree(f, "x");
	cleanup_free char *y = layer_tree(f, "y");
	assert_string_equal(img->layers[0], x);
	assert_string_equal(img->layers[1], y);
	assert_null(img->layers[2]);
	pp_image_free(img);
}

struct slot_job {
	struct pp_image_add *add;
	size_t index;
	struct layer_src src;
	int ret;
	struct pp_error *err;
};

static void *fill_slot(void *arg)
{
	struct slot_job *j = arg;
	char diff_id[PP_DIGEST_STRING_MAX];
	fake_digest(j->src.name, diff_id);
	j->ret = pp_image_add_layer_at(j->add, j->index, diff_id, NULL, -1, test_unpack, &j->src,
				       &j->err);
	return NULL;
}

/* A pull's layers: reserved slots filled by threads at once, in any order;
 * one diff ID in two slots unpacked once; the chain in slot order; an empty
 * slot fails the commit. */
static void test_slots_in_parallel(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *count = xasprintf("%s/count", f->dir);
	const char *names[] = {"p0", "p1", "p0", "p3"};
	struct slot_job jobs[4];
	pthread_t threads[4];
	struct pp_image_add *add = NULL;
	assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
	assert_int_equal(pp_image_add_reserve(add, 4), 0);
	for (int i = 3; i >= 0; i--) {
		jobs[i] = (struct slot_job){
		    .add = add,
		    .index = (size_t)i,
		    .src = {.name = names[i], .count_file = count, .slow_ms = 100, .ready_fd = -1}};
		assert_int_equal(pthread_create(&threads[i], NULL, fill_slot, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		if (jobs[i].ret < 0)
			fail_msg("slot %d: %s", i, jobs[i].err->msg);
	}
	cleanup_free char *unpacks = read_text(f->dir, "count");
	assert_string_equal(unpacks, "xxx"); /* p0 once */
	commit(add, "slots:1", NULL);
	pp_image_add_free(add);
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_get(f->store, "slots:1", &img, NULL), 0);
	cleanup_free char *p0 = layer_tree(f, "p0");
	cleanup_free char *p1 = layer_tree(f, "p1");
	cleanup_free char *p3 = layer_tree(f, "p3");
	/* topmost first, a repeated layer at its topmost place */
	assert_string_equal(img->layers[0], p3);
	assert_string_equal(img->layers[1], p0);
	assert_string_equal(img->layers[2], p1);
	assert_null(img->layers[3]);
	pp_image_free(img);

	/* a slot never filled, or filled twice */
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
	assert_int_equal(pp_image_add_reserve(add, 2), 0);
	jobs[0] = (struct slot_job){.add = add, .index = 1, .src = {.name = "p1", .ready_fd = -1}};
	fill_slot(&jobs[0]);
	assert_int_equal(jobs[0].ret, 0);
	fill_slot(&jobs[0]);
	assert_int_equal(jobs[0].ret, -1);
	pp_error_free(&jobs[0].err);
	const char *config = "{\"tag\":\"gap\"}";
	char digest[PP_DIGEST_STRING_MAX];
	fake_digest(config, digest);
	assert_int_equal(pp_image_add_blob(add, digest, config, strlen(config), NULL), 0);
	assert_int_equal(pp_image_add_commit(add, digest, NULL, NULL, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "layer 0 was not added"));
	pp_error_free(&err);
	pp_image_add_free(add);
}

/* Child of the concurrency test: adds base (slowly) and its own top. */
static void concurrent_adder(struct fixture *f, const char *tag, const char *count)
{
	struct pp_image_add *add = NULL;
	struct pp_error *err = NULL;
	struct layer_src base = {
	    .name = "base", .count_file = count, .slow_ms = SLOW_UNPACK_MS, .ready_fd = -1};
	struct layer_src top = {.name = tag, .ready_fd = -1};
	if (pp_image_add_begin(f->store, &add, &err) < 0 || add_layer(add, &base, &err) < 0 ||
	    add_layer(add, &top, &err) < 0) {
		fprintf(stderr, "%s: %s\n", tag, err->msg);
		_exit(1);
	}
	commit(add, tag, NULL);
	pp_image_add_free(add);
	_exit(0);
}

static void test_concurrent_adders(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *count = xasprintf("%s/count", f->dir);
	const char *tags[] = {"one:1", "two:1"};
	pid_t pids[2];
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			concurrent_adder(f, tags[i], count);
	}
	for (int i = 0; i < 2; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	cleanup_free char *calls = read_text(f->dir, "count");
	assert_string_equal(calls, "x"); /* the second adder found it */
	assert_int_equal(count_layers(f), 3);
	assert_int_equal(count_tmp(f), 0);
	struct pp_image **imgs = NULL;
	size_t n = 0;
	assert_int_equal(pp_image_list(f->store, &imgs, &n, NULL), 0);
	assert_int_equal(n, 2);
	pp_image_list_free(imgs, n);
}

enum kill_point {
	KILL_MID_UNPACK,   /* inside the unpacker of the second layer */
	KILL_BEFORE_COMMIT /* layers in place, no record */
};

/* Forks an adder of "kept" + "doomed" and SIGKILLs it at point. */
static void killed_add(struct fixture *f, enum kill_point point)
{
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		struct pp_image_add *add = NULL;
		struct layer_src a = {.name = "kept", .ready_fd = -1};
		struct layer_src b = {.name = "doomed",
				      .ready_fd = point == KILL_MID_UNPACK ? pipefd[1] : -1};
		if (pp_image_add_begin(f->store, &add, NULL) < 0 || add_layer(add, &a, NULL) < 0 ||
		    add_layer(add, &b, NULL) < 0)
			_exit(1);
		assert_int_equal(write(pipefd[1], "r", 1), 1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_killed_mid_unpack(void **state)
{
	struct fixture *f = *state;
	killed_add(f, KILL_MID_UNPACK);
	/* "kept" is complete (renamed into place), "doomed" only a temporary */
	cleanup_free char *doomed = layer_tree(f, "doomed");
	assert_int_equal(access(doomed, F_OK), -1);
	assert_int_equal(count_tmp(f), 1);
	assert_int_equal(count_layers(f), 1);
	/* the next add removes the temporary; the collection the layer */
	struct pp_image_add *add = NULL;
	assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
	assert_int_equal(count_tmp(f), 0);
	pp_image_add_free(add);
	struct pp_image **imgs = NULL;
	size_t n = 0;
	assert_int_equal(pp_image_list(f->store, &imgs, &n, NULL), 0);
	assert_int_equal(n, 0);
	pp_image_list_free(imgs, n);
	assert_int_equal(pp_image_store_gc(f->store, NULL), 0);
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(count_layers(f), 0);
	/* and the layer can be added again */
	const char *layers[] = {"doomed", NULL};
	add_image(f, "again:1", layers, NULL);
	cleanup_free char *text = read_text(doomed, "doomed.txt");
	assert_string_equal(text, "doomed");
}

static void test_killed_before_commit(void **state)
{
	struct fixture *f = *state;
	killed_add(f, KILL_BEFORE_COMMIT);
	assert_int_equal(count_layers(f), 2);
	assert_int_equal(count_tmp(f), 0);
	struct pp_image *img = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_get(f->store, "kept:1", &img, &err), -1);
	pp_error_free(&err);
	assert_int_equal(pp_image_store_gc(f->store, NULL), 0);
	assert_int_equal(count_layers(f), 0);
}

/* A collection while an add runs leaves the add's layers alone. */
static void test_gc_spares_running_add(void **state)
{
	struct fixture *f = *state;
	struct pp_image_add *add = NULL;
	struct layer_src l = {.name = "fresh", .ready_fd = -1};
	assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
	assert_int_equal(add_layer(add, &l, NULL), 0);
	assert_int_equal(pp_image_store_gc(f->store, NULL), 0);
	assert_int_equal(count_layers(f), 1);
	commit(add, "fresh:1", NULL);
	pp_image_add_free(add);
	assert_int_equal(pp_image_store_gc(f->store, NULL), 0);
	assert_int_equal(count_layers(f), 1);
}

static void test_bad_digests(void **state)
{
	struct fixture *f = *state;
	struct pp_image_add *add = NULL;
	struct pp_error *err = NULL;
	assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
	char wrong[PP_DIGEST_STRING_MAX];
	fake_digest("something else", wrong);
	assert_int_equal(pp_image_add_blob(add, wrong, "{}", 2, &err), -1);
	assert_int_equal(err->status, EBADMSG);
	pp_error_free(&err);
	assert_int_equal(pp_image_add_blob(add, "md5:abcd", "{}", 2, &err), -1);
	pp_error_free(&err);
	/* the unpacker hashed a tar that is not the announced layer */
	struct layer_src l = {.name = "liar", .ready_fd = -1, .claim = wrong};
	assert_int_equal(add_layer(add, &l, &err), -1);
	assert_int_equal(err->status, EBADMSG);
	pp_error_free(&err);
	assert_int_equal(count_layers(f), 0);
	assert_int_equal(count_tmp(f), 0);
	/* a commit without layers, or without its config blob */
	assert_int_equal(pp_image_add_commit(add, wrong, NULL, NULL, NULL, &err), -1);
	pp_error_free(&err);
	struct layer_src ok = {.name = "ok", .ready_fd = -1};
	assert_int_equal(add_layer(add, &ok, NULL), 0);
	assert_int_equal(pp_image_add_commit(add, wrong, NULL, NULL, NULL, &err), -1);
	pp_error_free(&err);
	pp_image_add_free(add);
}

/* What `image import` wrote before the layered store: layers/<id>/, a
 * record without "version", rootfs.layers topmost first. */
static void test_legacy_layout(void **state)
{
	struct fixture *f = *state;
	const char *layer_id = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *img_id = "2222222222222222222222222222222222222222222222222222222222222222";
	cleanup_free char *layer = xasprintf("%s/layers/%s", f->root, layer_id);
	assert_int_equal(mkdir(layer, 0755), 0);
	cleanup_free char *file = xasprintf("%s/hello.txt", layer);
	assert_int_equal(pp_write_file_atomic(file, "old\n", 4, 0644, NULL), 0);
	cleanup_free char *record =
	    xasprintf("{\"created\": \"2026-01-01T00:00:00Z\", \"config\": {\"Cmd\": [\"sh\"]},"
		      " \"rootfs\": {\"type\": \"layers\", \"layers\": [\"%s\"]}, \"size\": 4}",
		      layer_id);
	cleanup_free char *rec_path = xasprintf("%s/images/%s.json", f->root, img_id);
	assert_int_equal(pp_write_file_atomic(rec_path, record, strlen(record), 0600, NULL), 0);
	cleanup_free char *repos = xasprintf("{\"old:1\": \"%s\"}", img_id);
	cleanup_free char *repos_path = xasprintf("%s/repositories.json", f->root);
	assert_int_equal(pp_write_file_atomic(repos_path, repos, strlen(repos), 0600, NULL), 0);
	/* a new image beside it, then a collection: the old one stays */
	const char *layers[] = {"new", NULL};
	add_image(f, "new:1", layers, NULL);
	assert_int_equal(pp_image_store_gc(f->store, NULL), 0);
	struct pp_image *img = NULL;
	assert_int_equal(pp_image_get(f->store, "old:1", &img, NULL), 0);
	assert_string_equal(img->id, img_id);
	assert_string_equal(img->layers[0], layer);
	assert_null(img->layers[1]);
	assert_string_equal(img->config.cmd[0], "sh");
	assert_int_equal(img->size, 4);
	pp_image_free(img);
	struct pp_image **imgs = NULL;
	size_t n = 0;
	assert_int_equal(pp_image_list(f->store, &imgs, &n, NULL), 0);
	assert_int_equal(n, 2);
	pp_image_list_free(imgs, n);
	assert_int_equal(pp_image_remove(f->store, "old:1", NULL), 0);
	assert_int_equal(access(layer, F_OK), -1);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(count_layers(f), 1);
}

/* import of several directories: one layer each, lowest first. */
static void test_import_layers(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *low = xasprintf("%s/low", f->dir);
	cleanup_free char *high = xasprintf("%s/high", f->dir);
	assert_int_equal(mkdir(low, 0755), 0);
	assert_int_equal(mkdir(high, 0755), 0);
	cleanup_free char *l1 = xasprintf("%s/who", low);
	cleanup_free char *h1 = xasprintf("%s/who", high);
	assert_int_equal(pp_write_file_atomic(l1, "low", 3, 0644, NULL), 0);
	assert_int_equal(pp_write_file_atomic(h1, "high", 4, 0644, NULL), 0);
	const char *srcs[] = {low, high};
	struct pp_image *img = NULL;
	struct pp_error *err = NULL;
	if (pp_image_import_layers(f->store, srcs, 2, "two:1", NULL, &img, &err) < 0)
		fail_msg("import: %s", err->msg);
	assert_non_null(img->layers[1]);
	assert_null(img->layers[2]);
	cleanup_free char *top = read_text(img->layers[0], "who");
	cleanup_free char *bottom = read_text(img->layers[1], "who");
	assert_string_equal(top, "high");
	assert_string_equal(bottom, "low");
	pp_image_free(img);
	assert_int_equal(count_layers(f), 2);
}

/* What a pull commits from an image config comes back from the record:
 * the fields a pod runs with and Volumes, ExposedPorts, Labels. */
static void test_config_round_trip(void **state)
{
	struct fixture *f = *state;
	char *entrypoint[] = {"/bin/sh", "-c", NULL};
	char *env[] = {"PATH=/bin", "A=b", NULL};
	char *volumes[] = {"/data", "/var/cache", NULL};
	char *ports[] = {"53/udp", "80/tcp", NULL};
	struct pp_image_label labels[] = {{"a.b", "x=y"}, {"version", "1"}};
	struct pp_image_config cfg = {.entrypoint = entrypoint,
				      .env = env,
				      .working_dir = "/app",
				      .user = "app",
				      .stop_signal = "SIGQUIT",
				      .volumes = volumes,
				      .exposed_ports = ports,
				      .labels = labels,
				      .n_labels = 2};
	struct pp_image_add *add = NULL;
	struct pp_error *err = NULL;
	struct layer_src l = {.name = "cfg", .ready_fd = -1};
	assert_int_equal(pp_image_add_begin(f->store, &add, NULL), 0);
	assert_int_equal(add_layer(add, &l, &err), 0);
	const char *config = "{\"cfg\":1}";
	char digest[PP_DIGEST_STRING_MAX];
	fake_digest(config, digest);
	const char *tags[] = {"cfg:1", NULL};
	struct pp_image_add_names names = {.tags = tags};
	if (pp_image_add_blob(add, digest, config, strlen(config), &err) < 0 ||
	    pp_image_add_commit(add, digest, &cfg, &names, NULL, &err) < 0)
		fail_msg("commit: %s", err->msg);
	pp_image_add_free(add);
	struct pp_image *img = NULL;
	if (pp_image_get(f->store, "cfg:1", &img, &err) < 0)
		fail_msg("get: %s", err->msg);
	const struct pp_image_config *c = &img->config;
	assert_string_equal(c->entrypoint[1], "-c");
	assert_null(c->cmd);
	assert_string_equal(c->env[1], "A=b");
	assert_string_equal(c->working_dir, "/app");
	assert_string_equal(c->user, "app");
	assert_string_equal(c->stop_signal, "SIGQUIT");
	assert_string_equal(c->volumes[0], "/data");
	assert_string_equal(c->volumes[1], "/var/cache");
	assert_null(c->volumes[2]);
	assert_string_equal(c->exposed_ports[0], "53/udp");
	assert_null(c->exposed_ports[2]);
	assert_int_equal(c->n_labels, 2);
	assert_string_equal(c->labels[0].key, "a.b");
	assert_string_equal(c->labels[0].value, "x=y");
	assert_string_equal(c->labels[1].key, "version");
	pp_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_shared_layer_stored_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dangling, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rm_keeps_shared_layer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repeated_layer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_force_rm_pinned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_usage_counts_shared_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_adders, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slots_in_parallel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_mid_unpack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_before_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gc_spares_running_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_digests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_layers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_round_trip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
