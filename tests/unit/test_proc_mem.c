/* Process and memory primitives on the real kernel: clone3 onto a stack of
 * the child's own sharing our memory (pp_clone3_vm), clone3 into a cgroup2
 * cgroup (pp_clone3_into), the supervisor's release of its start-up code
 * pages (pp_mem_release_file_pages), and a last close left to a child
 * (pp_close_detached). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/mem.h"
#include "util/proc.h"

#define CGROUP2_ROOT "/sys/fs/cgroup/unified"
#define STACK_SIZE (64 * 1024)

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct shared {
	int seen;
	pid_t pid;
};

static int child_fn(void *arg)
{
	struct shared *s = arg;
	s->seen = 42; /* our memory: the parent sees it */
	s->pid = getpid();
	return 7;
}

static int wait_exit(int pidfd)
{
	siginfo_t info;
	memset(&info, 0, sizeof(info));
	assert_int_equal(waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED), 0);
	assert_int_equal(info.si_code, CLD_EXITED);
	return info.si_status;
}

/* The child runs fn on its own stack in our memory and exits with what it
 * returns; CLONE_VFORK: we resume once it has. */
static void test_clone3_vm(void **state)
{
	if (!pp_clone3_vm_supported()) {
		skip();
		return;
	}
	void *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	assert_true(stack != MAP_FAILED);
	struct shared s = {0};
	int pidfd = -1;
	pid_t pid =
	    pp_clone3_vm(CLONE_VFORK | CLONE_PIDFD, &pidfd, -1, stack, STACK_SIZE, child_fn, &s);
	assert_true(pid > 0);
	assert_true(pidfd >= 0);
	assert_int_equal(s.seen, 42);
	assert_int_equal(s.pid, pid);
	assert_int_equal(wait_exit(pidfd), 7);
	close(pidfd);
	munmap(stack, STACK_SIZE);
}

static char *cgroup_of_self(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "0::", 3) == 0)
			return xstrdup(line + 3);
	return NULL;
}

static struct shared in_cgroup;
static char in_cgroup_path[512];

static int report_cgroup(void *arg)
{
	cleanup_free char *cg = cgroup_of_self();
	snprintf(in_cgroup_path, sizeof(in_cgroup_path), "%s", cg != NULL ? cg : "");
	return 0;
}

/* Both clone3 paths create the child in the cgroup2 cgroup of the fd, our
 * own cgroup untouched. */
static void test_clone3_into_cgroup(void **state)
{
	struct stat st;
	if (stat(CGROUP2_ROOT, &st) < 0) {
		skip();
		return;
	}
	cleanup_free char *name = xasprintf("pp-clone-test-%d", (int)getpid());
	cleanup_free char *dir = xasprintf("%s/%s", CGROUP2_ROOT, name);
	cleanup_free char *expected = xasprintf("/%s\n", name);
	cleanup_free char *ours = cgroup_of_self();
	assert_int_equal(mkdir(dir, 0755), 0);
	int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(cg >= 0);

	int pipefd[2];
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	int pidfd = -1;
	pid_t pid = pp_clone3_into(CLONE_PIDFD, &pidfd, cg);
	assert_true(pid >= 0);
	if (pid == 0) {
		cleanup_free char *mine = cgroup_of_self();
		ssize_t n = write(pipefd[1], mine, mine ? strlen(mine) : 0);
		_exit(n > 0 ? 0 : 1);
	}
	close(pipefd[1]);
	char buf[512] = "";
	ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
	close(pipefd[0]);
	assert_true(n > 0);
	assert_string_equal(buf, expected);
	assert_int_equal(wait_exit(pidfd), 0);
	close(pidfd);

	if (pp_clone3_vm_supported()) {
		void *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		assert_true(stack != MAP_FAILED);
		pid = pp_clone3_vm(CLONE_VFORK | CLONE_PIDFD, &pidfd, cg, stack, STACK_SIZE,
				   report_cgroup, &in_cgroup);
		assert_true(pid > 0);
		assert_int_equal(wait_exit(pidfd), 0);
		close(pidfd);
		munmap(stack, STACK_SIZE);
		assert_string_equal(in_cgroup_path, expected);
	}
	cleanup_free char *still = cgroup_of_self();
	assert_string_equal(still, ours);
	close(cg);
	/* Reaped, so the cgroup is empty; its removal may lag a moment. */
	int tries = 0;
	while (rmdir(dir) < 0 && errno == EBUSY && tries++ < 1000)
		usleep(1000);
	assert_int_equal(access(dir, F_OK), -1);
}

/* kB resident in the mappings pp_mem_release_file_pages releases:
 * private, not writable, file-backed, no anonymous page. */
static long releasable_kb(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/smaps", "re");
	assert_non_null(f);
	char line[512];
	long total = 0, rss = 0, anon = -1, kb;
	int candidate = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char perms[8];
		int at = 0;
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &a, &b, perms, &at) == 3) {
			if (candidate && anon == 0)
				total += rss;
			candidate = at > 0 && line[at] == '/' && perms[1] != 'w' && perms[3] == 'p';
			rss = 0;
			anon = -1;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			rss = kb;
		} else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) {
			anon = kb;
		}
	}
	if (candidate && anon == 0)
		total += rss;
	return total;
}

/* Relocated at load (PIE): in .data.rel.ro, a read-only private mapping
 * with copy-on-write pages, which must survive. */
static const char *const relocated[] = {"alpha", "beta"};

static void test_release_file_pages(void **state)
{
	long before = releasable_kb();
	assert_true(before > 0);
	int n = pp_mem_release_file_pages();
	assert_true(n > 0);
	long after = releasable_kb();
	/* What reading smaps ran again came back, not the rest. */
	assert_true(after < before);
	/* Code, constants and relocated pointers all still there. */
	assert_string_equal(relocated[1], "beta");
	cleanup_free char *s = xasprintf("%s-%d", relocated[0], 3);
	assert_string_equal(s, "alpha-3");
	/* Idempotent. */
	assert_true(pp_mem_release_file_pages() >= 0);
	assert_string_equal(relocated[0], "alpha");
}

/* The last close of an inotify instance goes to a child: ours returns at
 * once with the fd closed, and the child exits on its own. */
static void test_close_detached(void **state)
{
	int fd = inotify_init1(IN_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(inotify_add_watch(fd, "/", IN_CREATE) >= 0);
	pp_close_detached(fd);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	int status = -1;
	pid_t pid = waitpid(-1, &status, 0);
	assert_true(pid > 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Nothing else of ours. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clone3_vm),
	    cmocka_unit_test(test_clone3_into_cgroup),
	    cmocka_unit_test(test_release_file_pages),
	    cmocka_unit_test(test_close_detached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
