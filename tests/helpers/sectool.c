/* sectool: tries one thing a confined container must not be able to do and
 * prints what the kernel answered: "ok" or the errno name (EPERM, ENOSYS,
 * ...). Static, runs in a busybox rootfs. Exit status 0 whatever the
 * answer (the test compares the printed word), 2 on bad usage.
 *   sectool try NAME [ARG]   NAME: keyctl add_key bpf perf_event_open
 *       kexec_load init_module finit_module delete_module unshare_user
 *       unshare_mount clone_newuser clone3 personality_rie personality_query
 *       socket_vsock socket_inet mount umount_proc swapon reboot setns
 *       acct settimeofday iopl syslog userfaultfd nr:N (raw syscall N)
 *       ptrace_attach:PID open_exe_write:PID open_exe_read:PID
 *       mknod_blk:PATH chroot:DIR
 *   sectool fds              every open fd above 2, "N -> target", one a line
 *   sectool id               the real, effective and saved uids
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *errname(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {{EPERM, "EPERM"},
		 {ENOSYS, "ENOSYS"},
		 {EACCES, "EACCES"},
		 {EINVAL, "EINVAL"},
		 {ENOENT, "ENOENT"},
		 {EROFS, "EROFS"},
		 {ETXTBSY, "ETXTBSY"},
		 {EBADF, "EBADF"},
		 {EFAULT, "EFAULT"},
		 {ESRCH, "ESRCH"},
		 {EAFNOSUPPORT, "EAFNOSUPPORT"},
		 {ENODEV, "ENODEV"},
		 {EBUSY, "EBUSY"},
		 {ENOTDIR, "ENOTDIR"}};
	static char buf[32];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

/* A raw clone that returns in the child like fork. */
static long raw_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long try_one(const char *name, const char *arg)
{
	const char *colon = strchr(name, ':');
	const char *val = colon ? colon + 1 : arg;
	size_t len = colon ? (size_t)(colon - name) : strlen(name);
#define IS(s) (len == strlen(s) && strncmp(name, s, len) == 0)
	if (IS("keyctl"))
		return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
	if (IS("add_key"))
		return syscall(SYS_add_key, "user", "peapod", "x", 1, -3);
	if (IS("bpf"))
		return syscall(SYS_bpf, 0, NULL, 0);
	if (IS("perf_event_open"))
		return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	if (IS("kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (IS("init_module"))
		return syscall(SYS_init_module, NULL, 0, "");
	if (IS("finit_module"))
		return syscall(SYS_finit_module, -1, "", 0);
	if (IS("delete_module"))
		return syscall(SYS_delete_module, "peapod_none", 0);
	if (IS("unshare_user"))
		return unshare(CLONE_NEWUSER);
	if (IS("unshare_mount"))
		return unshare(CLONE_NEWNS);
	if (IS("clone_newuser"))
		return raw_clone(CLONE_NEWUSER);
	if (IS("clone3")) {
		struct clone_args ca = {.exit_signal = SIGCHLD};
		long r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		return r;
	}
	if (IS("personality_rie"))
		return syscall(SYS_personality, READ_IMPLIES_EXEC);
	if (IS("personality_query"))
		return syscall(SYS_personality, 0xffffffffUL) < 0 ? -1 : 0;
	if (IS("socket_vsock") || IS("socket_inet")) {
		int fd = socket(IS("socket_vsock") ? AF_VSOCK : AF_INET, SOCK_STREAM, 0);
		return fd < 0 ? -1 : 0;
	}
	if (IS("mount"))
		return mount("none", "/mnt", "tmpfs", 0, NULL);
	if (IS("umount_proc"))
		return umount2("/proc", MNT_DETACH);
	if (IS("swapon"))
		return swapon("/dev/null", 0);
	if (IS("reboot"))
		return syscall(SYS_reboot, 0, 0, 0, NULL); /* bad magic: EINVAL if allowed */
	if (IS("setns"))
		return setns(-1, 0);
	if (IS("acct"))
		return syscall(SYS_acct, NULL);
	if (IS("settimeofday"))
		return syscall(SYS_settimeofday, NULL, NULL);
	if (IS("iopl"))
		return syscall(SYS_iopl, 3);
	if (IS("syslog"))
		return syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0) < 0 ? -1
											    : 0;
	if (IS("userfaultfd"))
		return syscall(SYS_userfaultfd, 0) < 0 ? -1 : 0;
	if (IS("nr") && val)
		return syscall(atol(val), 0, 0, 0, 0, 0, 0);
	if (IS("ptrace_attach") && val) {
		pid_t pid = (pid_t)atoi(val);
		if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
			return -1;
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return 0;
	}
	if ((IS("open_exe_write") || IS("open_exe_read")) && val) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%s/exe", val);
		int fd = open(path, IS("open_exe_write") ? O_WRONLY : O_RDONLY);
		return fd < 0 ? -1 : 0;
	}
	if (IS("mknod_blk") && val)
		return mknod(val, S_IFBLK | 0600, makedev(7, 0));
	if (IS("chroot") && val)
		return chroot(val);
#undef IS
	fprintf(stderr, "sectool: unknown test %s\n", name);
	exit(2);
}

static int list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 1;
	int own = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd <= 2 || fd == own)
			continue;
		char path[64], target[4096];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf("%d -> %s\n", fd, target);
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "try") == 0) {
		errno = 0;
		long r = try_one(argv[2], argc > 3 ? argv[3] : NULL);
		puts(r < 0 ? errname(errno) : "ok");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "fds") == 0)
		return list_fds();
	if (argc == 2 && strcmp(argv[1], "id") == 0) {
		uid_t r, e, s;
		getresuid(&r, &e, &s);
		printf("%u %u %u\n", r, e, s);
		return 0;
	}
	fprintf(stderr, "usage: sectool try NAME [ARG] | fds | id\n");
	return 2;
}
