/* Pod records (src/state): state directories and their lock, the names
 * index (one claim wins), listing, removal; the ops layer's honest view of a
 * pod whose supervisor is gone. On a private $PEAPOD_RUN / $PEAPOD_LOG_DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops/ops.h"
#include "state/idrange.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

static char base[] = "/tmp/peapod-state-test.XXXXXX";

static int setup(void **state)
{
	if (mkdtemp(base) == NULL)
		return -1;
	cleanup_free char *run = xasprintf("%s/run", base);
	cleanup_free char *log = xasprintf("%s/log", base);
	setenv("PEAPOD_RUN", run, 1);
	setenv("PEAPOD_LOG_DIR", log, 1);
	pp_settings_load(NULL); /* read once, as at a process start */
	return 0;
}

static int teardown(void **state)
{
	return pp_rm_rf(base, NULL);
}

static void test_create_and_lock(void **state)
{
	struct pp_error *err = NULL;
	int lock = -1;
	assert_int_equal(pp_state_create("uid-1", &lock, &err), 0);
	assert_true(pp_state_is_locked("uid-1"));
	/* A second pod with that uid is refused. */
	int other = -1;
	assert_int_equal(pp_state_create("uid-1", &other, &err), -1);
	assert_non_null(strstr(err->msg, "uid-1"));
	pp_error_free(&err);
	/* Held: a cleanup cannot take it; released: it can. */
	assert_int_equal(pp_state_lock("uid-1", 0, &err), -1);
	assert_int_equal(err->status, EWOULDBLOCK);
	pp_error_free(&err);
	close(lock);
	assert_false(pp_state_is_locked("uid-1"));
	int l2 = pp_state_lock("uid-1", 0, &err);
	assert_true(l2 >= 0);
	close(l2);
	assert_int_equal(pp_state_remove("default", "x", "uid-1", &err), 0);
	cleanup_free char *dir = pp_state_dir("uid-1");
	assert_int_equal(access(dir, F_OK), -1);
}

static void test_lock_survives_fork(void **state)
{
	struct pp_error *err = NULL;
	int lock = -1;
	assert_int_equal(pp_state_create("uid-2", &lock, &err), 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* The supervisor's situation: the creator closes, the child holds. */
		pause();
		_exit(0);
	}
	close(lock);
	assert_true(pp_state_is_locked("uid-2"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_false(pp_state_is_locked("uid-2"));
	assert_int_equal(pp_state_remove("default", "y", "uid-2", &err), 0);
}

static void test_names(void **state)
{
	struct pp_error *err = NULL;
	char *uid = NULL;
	assert_int_equal(pp_name_claim("default", "web", "u1", &err), 0);
	assert_int_equal(pp_name_claim("default", "web", "u2", &err), -1);
	assert_non_null(strstr(err->msg, "already exists"));
	pp_error_free(&err);
	/* Another namespace is another name. */
	assert_int_equal(pp_name_claim("other", "web", "u3", &err), 0);
	assert_int_equal(pp_name_lookup("default", "web", &uid, &err), 0);
	assert_string_equal(uid, "u1");
	free(uid);
	assert_int_equal(pp_name_lookup("default", "nope", &uid, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, "pods \"nope\" not found"));
	pp_error_free(&err);

	struct pp_pod_ref *refs = NULL;
	size_t n = 0;
	assert_int_equal(pp_pod_list(NULL, &refs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(refs[0].ns, "default");
	assert_string_equal(refs[1].ns, "other");
	pp_pod_refs_free(refs, n);
	assert_int_equal(pp_pod_list("other", &refs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(refs[0].uid, "u3");
	pp_pod_refs_free(refs, n);

	/* Release only by the owner. */
	pp_name_release("default", "web", "u2");
	assert_int_equal(pp_name_lookup("default", "web", &uid, &err), 0);
	free(uid);
	pp_name_release("default", "web", "u1");
	pp_name_release("other", "web", "u3");
	assert_int_equal(pp_pod_list(NULL, &refs, &n, &err), 0);
	assert_int_equal(n, 0);
	pp_pod_refs_free(refs, n);
}

static void test_concurrent_claims(void **state)
{
	/* Eight processes claim one name at once: exactly one wins. */
	pid_t pids[8];
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char uid[16];
			snprintf(uid, sizeof(uid), "c%d", i);
			_exit(pp_name_claim("default", "race", uid, NULL) == 0 ? 0 : 1);
		}
	}
	int winners = 0;
	for (int i = 0; i < 8; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		winners += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	assert_int_equal(winners, 1);
	char *uid = NULL;
	assert_int_equal(pp_name_lookup("default", "race", &uid, NULL), 0);
	pp_name_release("default", "race", uid);
	free(uid);
}

static void test_view_of_dead_supervisor(void **state)
{
	struct pp_error *err = NULL;
	int lock = -1;
	assert_int_equal(pp_state_create("uid-3", &lock, &err), 0);
	assert_int_equal(pp_name_claim("default", "dead", "uid-3", &err), 0);
	cleanup_free char *status = pp_state_file("uid-3", PP_STATE_STATUS);
	const char *running =
	    "{\"metadata\":{\"name\":\"dead\"},\"status\":{\"phase\":\"Running\"},"
	    "\"peapod\":{\"finished\":false}}";
	assert_int_equal(pp_write_file_atomic(status, running, strlen(running), 0644, &err), 0);

	struct pp_pod_view v;
	assert_int_equal(pp_pod_view_load("default", "dead", &v, &err), 0);
	assert_true(v.alive);
	assert_string_equal(pp_pod_view_str(&v, "status.phase"), "Running");
	pp_pod_view_free(&v);

	/* The supervisor is gone without finishing: Unknown, not Running. */
	close(lock);
	assert_int_equal(pp_pod_view_load("default", "dead", &v, &err), 0);
	assert_false(v.alive);
	assert_string_equal(pp_pod_view_str(&v, "status.phase"), "Unknown");
	assert_string_equal(pp_pod_view_str(&v, "status.reason"), "SupervisorDied");
	pp_pod_view_free(&v);

	/* A finished pod's record is just that: no supervisor expected. */
	const char *done = "{\"status\":{\"phase\":\"Succeeded\"},\"peapod\":{\"finished\":true}}";
	assert_int_equal(pp_write_file_atomic(status, done, strlen(done), 0644, &err), 0);
	assert_int_equal(pp_pod_view_load("default", "dead", &v, &err), 0);
	assert_true(v.finished);
	assert_string_equal(pp_pod_view_str(&v, "status.phase"), "Succeeded");
	pp_pod_view_free(&v);
	assert_int_equal(pp_state_remove("default", "dead", "uid-3", &err), 0);
	assert_int_equal(pp_pod_view_load("default", "dead", &v, &err), -1);
	pp_error_free(&err);
}

/* User namespace id ranges: the lowest free one, disjoint, freed by pod
 * uid (idempotently), and given again once freed. */
static void test_id_ranges(void **state)
{
	struct pp_error *err = NULL;
	uint32_t a = 0, b = 0, c = 0;
	assert_int_equal(pp_idrange_alloc("pod-a", &a, &err), 0);
	assert_int_equal(pp_idrange_alloc("pod-b", &b, &err), 0);
	assert_int_equal(a, PP_IDRANGE_FIRST_SLOT * PP_IDRANGE_SIZE);
	assert_int_equal(b, a + PP_IDRANGE_SIZE);
	assert_int_equal(pp_idrange_release("pod-a", &err), 0);
	assert_int_equal(pp_idrange_release("pod-a", &err), 0);
	assert_int_equal(pp_idrange_release("never-had-one", &err), 0);
	assert_int_equal(pp_idrange_alloc("pod-c", &c, &err), 0);
	assert_int_equal(c, a);
	assert_int_equal(pp_idrange_release("pod-b", &err), 0);
	assert_int_equal(pp_idrange_release("pod-c", &err), 0);
	/* kubelet's choice (a CRI sandbox's mapping): that slot, once */
	uint32_t k = 7 * PP_IDRANGE_SIZE;
	assert_int_equal(pp_idrange_claim("pod-k", k, &err), 0);
	assert_int_equal(pp_idrange_claim("pod-l", k, &err), -1);
	assert_int_equal(err->status, EEXIST);
	pp_error_free(&err);
	assert_int_equal(pp_idrange_claim("pod-l", k + 1, &err), -1);
	assert_int_equal(err->status, EINVAL);
	pp_error_free(&err);
	assert_int_equal(pp_idrange_claim("pod-l", 0, &err), -1);
	pp_error_free(&err);
	assert_int_equal(pp_idrange_claim("pod-l", PP_IDRANGE_SLOTS * PP_IDRANGE_SIZE, &err), -1);
	pp_error_free(&err);
	/* the allocator passes it by */
	assert_int_equal(pp_idrange_alloc("pod-a", &a, &err), 0);
	assert_int_equal(a, PP_IDRANGE_FIRST_SLOT * PP_IDRANGE_SIZE);
	assert_int_equal(pp_idrange_release("pod-k", &err), 0);
	assert_int_equal(pp_idrange_claim("pod-l", k, &err), 0);
	assert_int_equal(pp_idrange_release("pod-l", &err), 0);
	assert_int_equal(pp_idrange_release("pod-a", &err), 0);
}

/* gc's sweep frees the ranges of pods without a record, and only those. */
static void test_id_range_sweep(void **state)
{
	struct pp_error *err = NULL;
	uint32_t a = 0, b = 0;
	int lock = -1, freed = 0;
	assert_int_equal(pp_state_create("uid-kept", &lock, &err), 0);
	assert_int_equal(pp_idrange_alloc("uid-kept", &a, &err), 0);
	assert_int_equal(pp_idrange_alloc("uid-gone", &b, &err), 0);
	assert_int_equal(pp_idrange_sweep(&freed, &err), 0);
	assert_int_equal(freed, 1);
	/* uid-gone's range is free again, uid-kept's is not. */
	uint32_t c = 0;
	assert_int_equal(pp_idrange_alloc("uid-new", &c, &err), 0);
	assert_int_equal(c, b);
	assert_int_equal(pp_idrange_release("uid-new", &err), 0);
	assert_int_equal(pp_idrange_release("uid-kept", &err), 0);
	close(lock);
	assert_int_equal(pp_state_remove("default", "x", "uid-kept", &err), 0);
}

/* Eight processes allocate at once: eight different ranges. */
static void test_concurrent_id_ranges(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < 8; i++) {
		if (fork() == 0) {
			char uid[16];
			uint32_t first = 0;
			snprintf(uid, sizeof(uid), "r%d", i);
			if (pp_idrange_alloc(uid, &first, NULL) < 0)
				_exit(1);
			_exit(write(p[1], &first, sizeof(first)) == sizeof(first) ? 0 : 1);
		}
	}
	close(p[1]);
	uint32_t got[8];
	for (int i = 0; i < 8; i++) {
		assert_int_equal(read(p[0], &got[i], sizeof(got[i])), sizeof(got[i]));
		for (int j = 0; j < i; j++)
			assert_int_not_equal(got[i], got[j]);
	}
	close(p[0]);
	while (wait(NULL) > 0)
		;
	for (int i = 0; i < 8; i++) {
		char uid[16];
		snprintf(uid, sizeof(uid), "r%d", i);
		assert_int_equal(pp_idrange_release(uid, NULL), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_and_lock),
	    cmocka_unit_test(test_lock_survives_fork),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_concurrent_claims),
	    cmocka_unit_test(test_view_of_dead_supervisor),
	    cmocka_unit_test(test_id_ranges),
	    cmocka_unit_test(test_concurrent_id_ranges),
	    cmocka_unit_test(test_id_range_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
