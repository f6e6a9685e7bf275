/* The fixture of the runtime tests (test_container, test_exec), included by
 * each: a throwaway busybox image shared by a group of tests, per-test
 * upper/work/rootfs directories with a container config filled in, the
 * checks after every test (every child reaped, no mount of the test left on
 * the host, the temp dir gone), and an infra-like process holding pod
 * namespaces. Must run as root. */
#ifndef PEAPOD_TEST_CONTAINER_FIXTURE_H
#define PEAPOD_TEST_CONTAINER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"

#define BUSYBOX "/bin/busybox"
#define INFRA_HOSTNAME "podhost"
#define INFRA_STACK_SIZE (256 * 1024)
#define OUTPUT_MAX (1 << 20)
#define CGROUP2_ROOT "/sys/fs/cgroup/unified"
/* A reaped process leaves its cgroup asynchronously, later on a loaded
 * machine: a test cgroup's rmdir waits up to this long (rmdir_cgroup). */
#define CGROUP_RMDIR_WAIT_MS 10000

static const char *const applets[] = {"sh",   "echo", "cat", "id",	 "hostname", "touch",
				      "stat", "pwd",  "ls",  "readlink", "true",     "sleep",
				      "grep", "test", "tty", "stty",	 "env",	     "kill"};

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "app:x:1000:1000:app:/home/app:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\n"
			    "app:x:1000:\n"
			    "staff:x:1001:other,app\n"
			    "audio:x:1002:other\n"
			    "nogroup:x:65534:\n";

static char *image;	 /* the lower dir, shared by all tests */
static char *image_base; /* its temp dir */

struct fixture {
	char *base, *upper, *work, *rootfs;
	struct pp_container_config cfg;
	char *cgroup_dir; /* a test's own cgroup: teardown removes it, after a failure too */
};

/* rmdir of a test cgroup whose processes were reaped: true once it is gone. */
static bool rmdir_cgroup(const char *dir)
{
	for (int waited = 0; rmdir(dir) < 0; waited++) {
		if (errno == ENOENT)
			return true;
		if (errno != EBUSY || waited >= CGROUP_RMDIR_WAIT_MS)
			return false;
		usleep(1000);
	}
	return true;
}

static char *const test_env[] = {"PATH=/bin", NULL};

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static char *read_text(const char *path)
{
	struct pp_error *err = NULL;
	char *s = NULL;
	size_t len;
	if (pp_read_file(path, OUTPUT_MAX, &s, &len, &err) < 0) {
		pp_error_free(&err);
		return NULL;
	}
	return s;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int build_image(void **state)
{
	char tmpl[] = "/tmp/pp-rt-img.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	image_base = xstrdup(tmpl);
	image = xasprintf("%s/lower", image_base);
	cleanup_free char *bin = xasprintf("%s/bin", image);
	cleanup_free char *etc = xasprintf("%s/etc", image);
	assert_int_equal(mkdir(image, 0755), 0);
	assert_int_equal(mkdir(bin, 0755), 0);
	assert_int_equal(mkdir(etc, 0755), 0);
	cleanup_free char *cmd = xasprintf("cp %s %s/busybox", BUSYBOX, bin);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		cleanup_free char *link = xasprintf("%s/%s", bin, applets[i]);
		assert_int_equal(symlink("busybox", link), 0);
	}
	cleanup_free char *pw = xasprintf("%s/passwd", etc);
	cleanup_free char *gr = xasprintf("%s/group", etc);
	cleanup_free char *lf = xasprintf("%s/lowerfile", etc);
	write_file(pw, passwd);
	write_file(gr, group);
	write_file(lf, "lower\n");
	return 0;
}

static int remove_image(void **state)
{
	struct pp_error *err = NULL;
	assert_int_equal(pp_rm_rf(image_base, &err), 0);
	free(image);
	free(image_base);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = xmalloc(sizeof(*f));
	char tmpl[] = "/tmp/pp-rt.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	f->base = xstrdup(tmpl);
	f->cgroup_dir = NULL;
	f->upper = xasprintf("%s/upper", f->base);
	f->work = xasprintf("%s/work", f->base);
	f->rootfs = xasprintf("%s/rootfs", f->base);
	assert_int_equal(mkdir(f->upper, 0755), 0);
	assert_int_equal(mkdir(f->work, 0755), 0);
	assert_int_equal(mkdir(f->rootfs, 0755), 0);
	f->cfg = (struct pp_container_config){
	    .name = "t",
	    .lower_dirs = (const char *const *)&image,
	    .n_lower_dirs = 1,
	    .upper_dir = f->upper,
	    .work_dir = f->work,
	    .rootfs_dir = f->rootfs,
	    .ns_pidfd = -1,
	    .new_pid_ns = true,
	    .envp = test_env,
	    .stdin_fd = -1,
	    .stdout_fd = -1,
	    .stderr_fd = STDERR_FILENO,
	};
	*state = f;
	return 0;
}

/* No line of the host's mountinfo may mention the test's directory. */
static void assert_no_mounts_below(const char *dir)
{
	cleanup_free char *mi = read_text("/proc/self/mountinfo");
	assert_non_null(mi);
	if (strstr(mi, dir) != NULL)
		fail_msg("a mount under %s leaked to the host", dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct pp_error *err = NULL;
	/* Every child was reaped. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	if (f->cgroup_dir != NULL) {
		assert_true(rmdir_cgroup(f->cgroup_dir));
		free(f->cgroup_dir);
	}
	assert_no_mounts_below(f->base);
	assert_int_equal(pp_rm_rf(f->base, &err), 0);
	assert_false(exists(f->base));
	free(f->base);
	free(f->upper);
	free(f->work);
	free(f->rootfs);
	free(f);
	return 0;
}

#define ARGV(...) ((char *const[]){__VA_ARGS__, NULL})
#define SH(script) ARGV("sh", "-c", script)

struct infra {
	pid_t pid;
	int pidfd;
};

static int infra_main(void *arg)
{
	int ready = *(int *)arg;
	if (sethostname(INFRA_HOSTNAME, strlen(INFRA_HOSTNAME)) < 0)
		_exit(1);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* An infra-like process holding new net, uts, ipc and pid namespaces. */
static struct infra infra_start(void)
{
	static char *stack;
	int p[2];
	char c;
	if (stack == NULL)
		stack = xmalloc(INFRA_STACK_SIZE);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct infra in;
	in.pid = clone(infra_main, stack + INFRA_STACK_SIZE,
		       CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | SIGCHLD, &p[1]);
	assert_true(in.pid > 0);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	in.pidfd = pidfd_open(in.pid, 0);
	assert_true(in.pidfd >= 0);
	return in;
}

static void infra_stop(struct infra *in)
{
	assert_int_equal(pidfd_send_signal(in->pidfd, SIGKILL, NULL, 0), 0);
	assert_int_equal(waitpid(in->pid, NULL, 0), in->pid);
	close(in->pidfd);
}

#endif
