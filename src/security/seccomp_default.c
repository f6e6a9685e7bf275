/* The default seccomp profile: the allow-list containerd and runc ship
 * (moby's profiles/seccomp/default.json), for x86_64 and its 32-bit
 * compatibility mode. Everything not listed fails with EPERM (ENOSYS when
 * newer than every syscall listed, see pp_seccomp_compile). Absent on
 * purpose, as there: keyctl, add_key, request_key, kexec_*, *_module, bpf,
 * perf_event_open, mount and the new mount API, unshare, setns, ptrace
 * (before 4.8 semantics), reboot, swapon, userfaultfd, ... */
#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>

#include "security/seccomp.h"

#define CAP(c) PP_CAP_BIT(CAP_##c)

static const char *const allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
    "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents",
    "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
    "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv",
    "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep",
    "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
    "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
    "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
    "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
    "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
    "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
    "wait4", "waitid", "waitpid", "write", "writev",
    /* the kernel checks ptrace access itself since 4.8 */
    "process_vm_readv", "process_vm_writev", "ptrace",
    /* x86 only */
    "arch_prctl", "modify_ldt", NULL};

static const char *const socket_[] = {"socket", NULL};
static const char *const personality[] = {"personality", NULL};
static const char *const clone_[] = {"clone", NULL};
static const char *const clone3[] = {"clone3", NULL};
static const char *const with_sys_admin[] = {"bpf",	      "clone",		 "clone3",
					     "fanotify_init", "fsconfig",	 "fsmount",
					     "fsopen",	      "fspick",		 "lookup_dcookie",
					     "mount",	      "mount_setattr",	 "move_mount",
					     "open_tree",     "perf_event_open", "quotactl",
					     "quotactl_fd",   "setdomainname",	 "sethostname",
					     "setns",	      "syslog",		 "umount",
					     "umount2",	      "unshare",	 NULL};
static const char *const with_dac_read_search[] = {"open_by_handle_at", NULL};
static const char *const with_sys_boot[] = {"reboot", NULL};
static const char *const with_sys_chroot[] = {"chroot", NULL};
static const char *const with_sys_module[] = {"delete_module", "init_module", "finit_module", NULL};
static const char *const with_sys_pacct[] = {"acct", NULL};
static const char *const with_sys_ptrace[] = {
    "kcmp",   "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
    "ptrace", NULL};
static const char *const with_sys_rawio[] = {"iopl", "ioperm", NULL};
static const char *const with_sys_time[] = {"settimeofday", "stime", "clock_settime",
					    "clock_settime64", NULL};
static const char *const with_sys_tty_config[] = {"vhangup", NULL};
static const char *const with_sys_nice[] = {"get_mempolicy", "mbind", "set_mempolicy",
					    "set_mempolicy_home_node", NULL};
static const char *const with_syslog[] = {"syslog", NULL};
static const char *const with_bpf[] = {"bpf", NULL};
static const char *const with_perfmon[] = {"perf_event_open", NULL};

#define ALLOW_IF(list, cap)                                                                        \
	{                                                                                          \
		.names = list, .action = SCMP_ACT_ALLOW, .caps_include = CAP(cap)                  \
	}
#define PERSONALITY(v)                                                                             \
	{                                                                                          \
		.names = personality, .action = SCMP_ACT_ALLOW,                                    \
		.args = {{.index = 0, .op = SCMP_CMP_EQ, .value = (v)}}, .n_args = 1               \
	}
/* The namespace flags of clone: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
 * NEWUSER, NEWPID, NEWNET. */
#define CLONE_NS_FLAGS 0x7E020000ULL
#define AF_VSOCK_ 40

static const struct pp_seccomp_rule rules[] = {
    {.names = allowed, .action = SCMP_ACT_ALLOW},
    /* any socket family but AF_VSOCK (host-guest sockets) */
    {.names = socket_,
     .action = SCMP_ACT_ALLOW,
     .args = {{.index = 0, .op = SCMP_CMP_NE, .value = AF_VSOCK_}},
     .n_args = 1},
    /* PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and the query 0xffffffff */
    PERSONALITY(0x0),
    PERSONALITY(0x8),
    PERSONALITY(0x20000),
    PERSONALITY(0x20008),
    PERSONALITY(0xffffffff),
    ALLOW_IF(with_sys_admin, SYS_ADMIN),
    /* clone without namespace flags; clone3 hides its flags in memory a
     * filter cannot read, so it gets ENOSYS and libc falls back to clone. */
    {.names = clone_,
     .action = SCMP_ACT_ALLOW,
     .args = {{.index = 0, .op = SCMP_CMP_MASKED_EQ, .value = CLONE_NS_FLAGS, .value_two = 0}},
     .n_args = 1,
     .caps_exclude = CAP(SYS_ADMIN)},
    {.names = clone3, .action = SCMP_ACT_ERRNO(ENOSYS), .caps_exclude = CAP(SYS_ADMIN)},
    ALLOW_IF(with_dac_read_search, DAC_READ_SEARCH),
    ALLOW_IF(with_sys_boot, SYS_BOOT),
    ALLOW_IF(with_sys_chroot, SYS_CHROOT),
    ALLOW_IF(with_sys_module, SYS_MODULE),
    ALLOW_IF(with_sys_pacct, SYS_PACCT),
    ALLOW_IF(with_sys_ptrace, SYS_PTRACE),
    ALLOW_IF(with_sys_rawio, SYS_RAWIO),
    ALLOW_IF(with_sys_time, SYS_TIME),
    ALLOW_IF(with_sys_tty_config, SYS_TTY_CONFIG),
    ALLOW_IF(with_sys_nice, SYS_NICE),
    ALLOW_IF(with_syslog, SYSLOG),
    ALLOW_IF(with_bpf, BPF),
    ALLOW_IF(with_perfmon, PERFMON),
};

static const struct pp_seccomp_profile default_profile = {
    .default_action = SCMP_ACT_ERRNO(EPERM),
    .rules = rules,
    .n_rules = sizeof(rules) / sizeof(rules[0]),
};

const struct pp_seccomp_profile *pp_seccomp_default_profile(void)
{
	return &default_profile;
}
