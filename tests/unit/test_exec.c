/* pp_exec_start on the real kernel: each test starts a container running
 * `sleep 1000` (its own PID namespace, the net/ipc/uts namespaces of an
 * infra process, a throwaway cgroup when cgroup2 is there) and execs into
 * it. After every test the container and the infra are killed and reaped,
 * and the fixture checks that no child, mount or temp dir is left. */
#include "container_fixture.h"

#include <dirent.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "runtime/exec.h"
#include "util/proc.h"
#include "util/pty.h"

#define READ_TIMEOUT_MS 5000
#define CGROUP_NAME_FMT "pp-exec-test-%d"

struct exec_fixture {
	struct fixture *f;
	struct infra infra;
	struct pp_container_process ctr;
	char *cgroup_dir; /* NULL without cgroup2 */
	int cgroup_fd;
	struct pp_exec_config cfg;
};

static void start_sleeper(struct pp_container_config *cfg, struct pp_container_process *proc)
{
	struct pp_error *err = NULL;
	char buf[512];
	cfg->argv = ARGV("sleep", "1000");
	if (pp_container_start(cfg, proc, &err) < 0)
		fail_msg("container start: %s", pp_error_text(err, buf, sizeof(buf)));
}

static void stop_sleeper(struct pp_container_process *proc)
{
	pp_pidfd_kill_and_reap(proc->pidfd);
	close(proc->pidfd);
}

static int exec_setup(void **state)
{
	setup(state);
	struct exec_fixture *x = xmalloc(sizeof(*x));
	struct stat st;
	x->f = *state;
	x->infra = infra_start();
	x->cgroup_fd = -1;
	if (stat(CGROUP2_ROOT, &st) == 0) {
		x->cgroup_dir = xasprintf("%s/" CGROUP_NAME_FMT, CGROUP2_ROOT, (int)getpid());
		assert_int_equal(mkdir(x->cgroup_dir, 0755), 0);
		/* as pp_cgroup_procs_fds gives it: the directory, which clone3
		 * creates the process in (CLONE_INTO_CGROUP) */
		x->cgroup_fd = open(x->cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(x->cgroup_fd >= 0);
	}
	struct pp_container_config *c = &x->f->cfg;
	c->ns_pidfd = x->infra.pidfd;
	c->join_ns = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC;
	c->new_pid_ns = true;
	c->cgroup_procs_fds = &x->cgroup_fd;
	c->n_cgroup_procs_fds = x->cgroup_fd >= 0 ? 1 : 0;
	start_sleeper(c, &x->ctr);
	x->cfg = (struct pp_exec_config){
	    .container_pidfd = x->ctr.pidfd,
	    .envp = test_env,
	    .cgroup_procs_fds = c->cgroup_procs_fds,
	    .n_cgroup_procs_fds = c->n_cgroup_procs_fds,
	    .stdin_fd = -1,
	    .stdout_fd = -1,
	    .stderr_fd = STDERR_FILENO,
	};
	*state = x;
	return 0;
}

static int exec_teardown(void **state)
{
	struct exec_fixture *x = *state;
	stop_sleeper(&x->ctr);
	infra_stop(&x->infra);
	if (x->cgroup_fd >= 0)
		close(x->cgroup_fd);
	if (x->cgroup_dir != NULL) {
		/* Reaped, so the cgroup is empty; its removal may lag a moment. */
		assert_true(rmdir_cgroup(x->cgroup_dir));
		free(x->cgroup_dir);
	}
	*state = x->f;
	free(x);
	return teardown(state);
}

/* Runs argv with stdout on a pipe; returns its exit status (or -1 when it
 * did not start, with *err). *out gets what it printed. */
static int run_exec(struct pp_exec_config *cfg, char *const *argv, char **out,
		    struct pp_error **err)
{
	int p[2];
	struct pp_exec_process proc;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	cfg->argv = argv;
	cfg->stdout_fd = p[1];
	int r = pp_exec_start(cfg, &proc, err);
	close(p[1]);
	cfg->stdout_fd = -1;
	*out = NULL;
	if (r < 0) {
		close(p[0]);
		return -1;
	}
	assert_int_equal(proc.pty_master, -1);
	size_t len;
	struct pp_error *rerr = NULL;
	assert_int_equal(pp_read_fd(p[0], OUTPUT_MAX, out, &len, &rerr), 0);
	close(p[0]);
	return pp_exec_wait(&proc);
}

static void assert_exec(struct pp_exec_config *cfg, char *const *argv, int status,
			const char *expected)
{
	struct pp_error *err = NULL;
	cleanup_free char *out = NULL;
	char buf[512];
	int r = run_exec(cfg, argv, &out, &err);
	if (r < 0)
		fail_msg("exec %s failed: %s", argv[0], pp_error_text(err, buf, sizeof(buf)));
	assert_int_equal(r, status);
	assert_string_equal(out, expected);
}

/* Starts argv, which must fail; returns the error (its status in *status). */
static char *exec_error(struct pp_exec_config *cfg, char *const *argv, int *status)
{
	struct pp_error *err = NULL;
	cleanup_free char *out = NULL;
	assert_int_equal(run_exec(cfg, argv, &out, &err), -1);
	assert_non_null(err);
	*status = err->status;
	char *msg = xstrdup(err->msg);
	pp_error_free(&err);
	return msg;
}

static char *ns_link(pid_t pid, const char *name)
{
	char buf[128];
	cleanup_free char *path = pid > 0 ? xasprintf("/proc/%d/ns/%s", (int)pid, name)
					  : xasprintf("/proc/self/ns/%s", name);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	return xasprintf("%s\n", buf);
}

static void test_output_and_status(void **state)
{
	struct exec_fixture *x = *state;
	assert_exec(&x->cfg, ARGV("echo", "hello"), 0, "hello\n");
	assert_exec(&x->cfg, SH("exit 3"), 3, "");
	assert_exec(&x->cfg, SH("echo out; kill -9 $$"), 128 + SIGKILL, "out\n");
	/* stdout and stderr may be the same fd. */
	int p[2];
	struct pp_error *err = NULL;
	struct pp_exec_process proc;
	char buf[64] = {0};
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	x->cfg.argv = SH("echo a; echo b >&2");
	x->cfg.stdout_fd = p[1];
	x->cfg.stderr_fd = p[1];
	assert_int_equal(pp_exec_start(&x->cfg, &proc, &err), 0);
	close(p[1]);
	assert_int_equal(pp_exec_wait(&proc), 0);
	assert_int_equal(proc.pidfd, -1);
	assert_int_equal(read(p[0], buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "a\nb\n");
	close(p[0]);
}

/* It is in every namespace of the container: the PID namespace where
 * `sleep` is PID 1, the infra's net/ipc/uts, the container's mounts. */
static void test_namespaces(void **state)
{
	struct exec_fixture *x = *state;
	static const char *const names[] = {"mnt", "net", "ipc", "uts", "pid", "pid_for_children"};
	assert_exec(&x->cfg, ARGV("hostname"), 0, INFRA_HOSTNAME "\n");
	assert_exec(&x->cfg, ARGV("cat", "/proc/1/comm"), 0, "sleep\n");
	struct pp_error *err = NULL;
	cleanup_free char *pid = NULL;
	assert_int_equal(run_exec(&x->cfg, SH("echo $$"), &pid, &err), 0);
	assert_true(atoi(pid) > 1 && atoi(pid) < 10);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cleanup_free char *theirs = ns_link(x->ctr.pid, names[i]);
		cleanup_free char *path = xasprintf("/proc/self/ns/%s", names[i]);
		assert_exec(&x->cfg, ARGV("readlink", path), 0, theirs);
	}
}

static void test_rootfs_cwd_env(void **state)
{
	struct exec_fixture *x = *state;
	/* A file of the image only; what it writes goes to the container's upper dir. */
	assert_exec(&x->cfg, SH("cat /etc/lowerfile; echo w > /written"), 0, "lower\n");
	cleanup_free char *written = xasprintf("%s/written", x->f->upper);
	assert_true(exists(written));
	assert_false(exists("/written"));
	assert_exec(&x->cfg, ARGV("pwd"), 0, "/\n");
	x->cfg.identity.cwd = "/etc";
	assert_exec(&x->cfg, SH("pwd; cat lowerfile"), 0, "/etc\nlower\n");
	x->cfg.identity.cwd = NULL;
	char *const env[] = {"PATH=/bin", "FOO=bar baz", NULL};
	x->cfg.envp = env;
	assert_exec(&x->cfg, SH("echo \"$FOO\""), 0, "bar baz\n");
	/* No env: no variables, the default PATH. */
	x->cfg.envp = NULL;
	assert_exec(&x->cfg, ARGV("env"), 0, "");
}

static void test_user(void **state)
{
	struct exec_fixture *x = *state;
	x->cfg.identity.user = "app";
	assert_exec(&x->cfg, SH("id -u; id -g; id -G"), 0, "1000\n1000\n1000 1001\n");
	x->cfg.identity.extra_gids[0] = 3000;
	x->cfg.identity.n_extra_gids = 1;
	x->cfg.identity.has_uid = true;
	x->cfg.identity.uid = 65534;
	assert_exec(&x->cfg, SH("id -u; id -g; id -G"), 0, "65534\n65534\n65534 3000\n");
	x->cfg.identity.has_gid = true;
	x->cfg.identity.gid = 7;
	x->cfg.identity.n_extra_gids = 0;
	assert_exec(&x->cfg, SH("id -u; id -g; id -G"), 0, "65534\n7\n7\n");
	x->cfg.identity.has_uid = x->cfg.identity.has_gid = false;
	x->cfg.identity.user = "ghost";
	int status;
	cleanup_free char *e = exec_error(&x->cfg, ARGV("true"), &status);
	assert_string_equal(e, "unable to find user ghost: no matching entries in passwd file");
}

static void test_cgroup(void **state)
{
	struct exec_fixture *x = *state;
	if (x->cgroup_dir == NULL) {
		skip();
		return;
	}
	cleanup_free char *expected = xasprintf("0::/" CGROUP_NAME_FMT "\n", (int)getpid());
	assert_exec(&x->cfg, SH("grep ^0:: /proc/self/cgroup"), 0, expected);
	/* A cgroup.procs file (or v1's tasks) instead: the child writes itself
	 * in. */
	cleanup_free char *procs = xasprintf("%s/cgroup.procs", x->cgroup_dir);
	cleanup_close int procs_fd = open(procs, O_WRONLY | O_CLOEXEC);
	assert_true(procs_fd >= 0);
	x->cfg.cgroup_procs_fds = &procs_fd;
	assert_exec(&x->cfg, SH("grep ^0:: /proc/self/cgroup"), 0, expected);
	/* Without the fds it stays in ours. */
	cleanup_free char *ours = NULL;
	cleanup_free char *self = read_text("/proc/self/cgroup");
	assert_non_null(self);
	x->cfg.n_cgroup_procs_fds = 0;
	struct pp_error *err = NULL;
	assert_int_equal(run_exec(&x->cfg, SH("grep ^0:: /proc/self/cgroup"), &ours, &err), 0);
	assert_non_null(strstr(self, ours));
}

/* Our children's pids, " 12 34 ", in /proc order (no CONFIG_PROC_CHILDREN here). */
static char *children(void)
{
	cleanup_free char *list = xstrdup(" ");
	DIR *d = opendir("/proc");
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		cleanup_free char *path = xasprintf("/proc/%s/stat", e->d_name);
		cleanup_free char *stat_line = read_text(path);
		char *end = stat_line != NULL ? strrchr(stat_line, ')') : NULL;
		int ppid;
		if (end == NULL || sscanf(end, ") %*c %d", &ppid) != 1 || ppid != getpid())
			continue;
		char *longer = xasprintf("%s%s ", list, e->d_name);
		free(list);
		list = longer;
	}
	closedir(d);
	return steal_ptr(&list);
}

static void test_errors(void **state)
{
	struct exec_fixture *x = *state;
	int status;
	cleanup_free char *before = children();
	cleanup_free char *ctr_pid = xasprintf(" %d ", (int)x->ctr.pid);
	assert_non_null(strstr(before, ctr_pid));
	cleanup_free char *e1 = exec_error(&x->cfg, ARGV("nosuchcmd"), &status);
	assert_string_equal(e1, "exec: \"nosuchcmd\": executable file not found in $PATH");
	assert_int_equal(status, ENOENT);
	cleanup_free char *e2 = exec_error(&x->cfg, ARGV("/bin/nosuch"), &status);
	assert_string_equal(e2, "exec: \"/bin/nosuch\"");
	assert_int_equal(status, ENOENT);
	x->cfg.identity.cwd = "/nonexistent";
	cleanup_free char *e3 = exec_error(&x->cfg, ARGV("true"), &status);
	assert_string_equal(e3, "chdir to working directory /nonexistent");
	assert_int_equal(status, ENOENT);
	x->cfg.identity.cwd = NULL;
	x->cfg.argv = NULL;
	struct pp_exec_process proc;
	struct pp_error *err = NULL;
	assert_int_equal(pp_exec_start(&x->cfg, &proc, &err), -1);
	assert_int_equal(err->status, EINVAL);
	pp_error_free(&err);
	/* Nothing left running: our children and the container's cgroup are
	 * as they were (the teardown checks for zombies). */
	cleanup_free char *after = children();
	assert_string_equal(before, after);
	if (x->cgroup_dir != NULL) {
		cleanup_free char *procs = xasprintf("%s/cgroup.procs", x->cgroup_dir);
		cleanup_free char *members = read_text(procs);
		cleanup_free char *only = xasprintf("%d\n", (int)x->ctr.pid);
		assert_string_equal(members, only);
	}
}

/* A container that is gone: an error, nothing started. */
static void test_container_gone(void **state)
{
	struct exec_fixture *x = *state;
	int status;
	pp_pidfd_kill_and_reap(x->ctr.pidfd); /* its pidfd stays open */
	cleanup_free char *e = exec_error(&x->cfg, ARGV("true"), &status);
	assert_int_equal(status, ESRCH);
	assert_string_equal(e, "the container is not running");
	close(x->ctr.pidfd);
	start_sleeper(&x->f->cfg, &x->ctr); /* for the teardown */
}

struct caller_state {
	char *ns[7];
	char *cgroup;
	char cwd[256];
	struct stat root;
};

static void caller_state_get(struct caller_state *s)
{
	static const char *const names[] = {"mnt",   "net", "ipc", "uts", "pid", "pid_for_children",
					    "cgroup"};
	for (size_t i = 0; i < 7; i++)
		s->ns[i] = ns_link(0, names[i]);
	s->cgroup = read_text("/proc/self/cgroup");
	assert_non_null(getcwd(s->cwd, sizeof(s->cwd)));
	assert_int_equal(stat("/", &s->root), 0);
}

static void caller_state_check_and_free(struct caller_state *before)
{
	struct caller_state now;
	caller_state_get(&now);
	for (size_t i = 0; i < 7; i++) {
		assert_string_equal(before->ns[i], now.ns[i]);
		free(before->ns[i]);
		free(now.ns[i]);
	}
	assert_string_equal(before->cgroup, now.cgroup);
	assert_string_equal(before->cwd, now.cwd);
	assert_int_equal(before->root.st_dev, now.root.st_dev);
	assert_int_equal(before->root.st_ino, now.root.st_ino);
	free(before->cgroup);
	free(now.cgroup);
}

static void test_caller_unchanged(void **state)
{
	struct exec_fixture *x = *state;
	struct caller_state before;
	int status;
	caller_state_get(&before);
	x->cfg.identity.cwd = "/etc";
	x->cfg.identity.user = "app";
	assert_exec(&x->cfg, ARGV("pwd"), 0, "/etc\n");
	free(exec_error(&x->cfg, ARGV("nosuchcmd"), &status));
	caller_state_check_and_free(&before);
}

/* A container sharing our network namespace (hostNetwork): the exec stays
 * in it and still joins the others. */
static void test_shared_host_namespace(void **state)
{
	struct exec_fixture *x = *state;
	struct pp_container_config c = x->f->cfg;
	struct pp_container_process ctr;
	cleanup_free char *upper = xasprintf("%s/upper2", x->f->base);
	cleanup_free char *work = xasprintf("%s/work2", x->f->base);
	cleanup_free char *rootfs = xasprintf("%s/rootfs2", x->f->base);
	assert_int_equal(mkdir(upper, 0755), 0);
	assert_int_equal(mkdir(work, 0755), 0);
	assert_int_equal(mkdir(rootfs, 0755), 0);
	c.upper_dir = upper;
	c.work_dir = work;
	c.rootfs_dir = rootfs;
	c.join_ns = CLONE_NEWUTS | CLONE_NEWIPC;
	start_sleeper(&c, &ctr);
	x->cfg.container_pidfd = ctr.pidfd;
	cleanup_free char *our_net = ns_link(0, "net");
	cleanup_free char *their_mnt = ns_link(ctr.pid, "mnt");
	assert_exec(&x->cfg, ARGV("readlink", "/proc/self/ns/net"), 0, our_net);
	assert_exec(&x->cfg, ARGV("readlink", "/proc/self/ns/mnt"), 0, their_mnt);
	assert_exec(&x->cfg, ARGV("hostname"), 0, INFRA_HOSTNAME "\n");
	stop_sleeper(&ctr);
}

/* Everything the master has until the slave side hangs up. */
static char *read_master(int master)
{
	size_t len = 0;
	char *out = xmalloc(OUTPUT_MAX);
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		assert_true(poll(&p, 1, READ_TIMEOUT_MS) == 1);
		ssize_t n = read(master, out + len, OUTPUT_MAX - 1 - len);
		if (n < 0 && errno == EIO)
			break;
		assert_true(n > 0);
		len += (size_t)n;
	}
	out[len] = '\0';
	return out;
}

/* Reads fd until expected shows up in what was read (or EOF). */
static char *read_until(int fd, const char *expected)
{
	size_t len = 0;
	char *out = xmalloc(OUTPUT_MAX);
	while (expected == NULL || strstr(out, expected) == NULL) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_true(poll(&p, 1, READ_TIMEOUT_MS) == 1);
		ssize_t n = read(fd, out + len, OUTPUT_MAX - 1 - len);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
		out[len] = '\0';
	}
	return out;
}

static void test_tty(void **state)
{
	struct exec_fixture *x = *state;
	struct pp_error *err = NULL;
	struct pp_exec_process proc;
	char buf[512];
	x->cfg.tty = true;
	x->cfg.rows = 24;
	x->cfg.cols = 80;
	x->cfg.stdout_fd = STDOUT_FILENO; /* ignored with a tty */
	x->cfg.identity.has_uid = true;
	x->cfg.identity.uid = 1000;
	x->cfg.argv = SH("tty; stty size; stat -c %u $(tty); test -t 0 && test -t 2 && echo t;"
			 "read line; echo got:$line");
	if (pp_exec_start(&x->cfg, &proc, &err) < 0)
		fail_msg("exec: %s", pp_error_text(err, buf, sizeof(buf)));
	assert_true(proc.pty_master >= 0);
	/* Input only once the first part is out: its echo could land in it. */
	cleanup_free char *first = read_until(proc.pty_master, "t\r\n");
	assert_string_equal(first, "/dev/pts/0\r\n24 80\r\n1000\r\nt\r\n");
	assert_int_equal(write(proc.pty_master, "hello\n", 6), 6);
	cleanup_free char *rest = read_master(proc.pty_master);
	assert_int_equal(pp_exec_wait(&proc), 0);
	close(proc.pty_master);
	/* the terminal's echo of the line, then the shell's */
	assert_string_equal(rest, "hello\r\ngot:hello\r\n");
}

/* The relay with pipes: input, then EOF turned into ^D that ends `cat`. */
static void test_pty_relay_pipes(void **state)
{
	struct exec_fixture *x = *state;
	struct pp_error *err = NULL;
	struct pp_exec_process proc;
	int in[2], out[2];
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(write(in[1], "hello\n", 6), 6);
	close(in[1]);
	x->cfg.tty = true;
	x->cfg.argv = ARGV("cat");
	assert_int_equal(pp_exec_start(&x->cfg, &proc, &err), 0);
	assert_int_equal(pp_pty_relay(proc.pty_master, in[0], out[1], &err), 0);
	close(out[1]);
	close(in[0]);
	assert_int_equal(pp_exec_wait(&proc), 0);
	close(proc.pty_master);
	cleanup_free char *text = NULL;
	size_t len;
	assert_int_equal(pp_read_fd(out[0], OUTPUT_MAX, &text, &len, &err), 0);
	close(out[0]);
	/* the terminal's echo, then cat's copy */
	assert_string_equal(text, "hello\r\nhello\r\n");

	/* No input at all: nothing is sent, output still relayed. */
	free(steal_ptr(&text));
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	x->cfg.argv = ARGV("echo", "no input");
	assert_int_equal(pp_exec_start(&x->cfg, &proc, &err), 0);
	assert_int_equal(pp_pty_relay(proc.pty_master, -1, out[1], &err), 0);
	close(out[1]);
	assert_int_equal(pp_exec_wait(&proc), 0);
	close(proc.pty_master);
	assert_int_equal(pp_read_fd(out[0], OUTPUT_MAX, &text, &len, &err), 0);
	close(out[0]);
	assert_string_equal(text, "no input\r\n");
}

/* The relay with a terminal as input: raw mode while it runs, restored
 * after; the window size copied at once and on SIGWINCH. The relay runs in
 * a child of ours, which gets the SIGWINCH. */
static void test_pty_relay_terminal(void **state)
{
	struct exec_fixture *x = *state;
	struct pp_error *err = NULL;
	struct pp_exec_process proc;
	struct termios before, during, after;
	int out[2], status;
	int tm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(tm >= 0);
	assert_int_equal(unlockpt(tm), 0);
	int ts = ioctl(tm, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(ts >= 0);
	struct winsize ws = {.ws_row = 30, .ws_col = 100};
	assert_int_equal(ioctl(ts, TIOCSWINSZ, &ws), 0);
	assert_int_equal(tcgetattr(ts, &before), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	x->cfg.tty = true;
	x->cfg.rows = 10;
	x->cfg.cols = 20;
	x->cfg.argv = SH("read a; stty size; read b; stty size");
	assert_int_equal(pp_exec_start(&x->cfg, &proc, &err), 0);
	pid_t relay = fork();
	assert_true(relay >= 0);
	if (relay == 0)
		_exit(pp_pty_relay(proc.pty_master, ts, out[1], &err) == 0 ? 0 : 1);
	close(out[1]);
	close(proc.pty_master);
	assert_int_equal(write(tm, "a\n", 2), 2);
	cleanup_free char *first = read_until(out[0], "30 100\r\n");
	assert_null(strstr(first, "10 20")); /* ours, not the one asked for */
	assert_int_equal(tcgetattr(ts, &during), 0);
	assert_int_equal(during.c_lflag & (ICANON | ECHO), 0);
	ws = (struct winsize){.ws_row = 40, .ws_col = 120};
	assert_int_equal(ioctl(ts, TIOCSWINSZ, &ws), 0);
	assert_int_equal(kill(relay, SIGWINCH), 0);
	assert_int_equal(write(tm, "b\n", 2), 2);
	cleanup_free char *second = read_until(out[0], NULL);
	assert_non_null(strstr(second, "40 120\r\n"));
	assert_int_equal(waitpid(relay, &status, 0), relay);
	assert_int_equal(status, 0);
	assert_int_equal(pp_exec_wait(&proc), 0);
	assert_int_equal(tcgetattr(ts, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
	assert_int_equal(after.c_iflag, before.c_iflag);
	assert_int_equal(after.c_oflag, before.c_oflag);
	close(out[0]);
	close(ts);
	close(tm);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* A target kept by the caller (as the supervisor does for probes): the
 * same process every time, nothing left open or running between execs,
 * errors as without it; and it outlives nothing: closing it is idempotent. */
static void test_kept_target(void **state)
{
	struct exec_fixture *x = *state;
	struct pp_exec_target t;
	struct pp_error *err = NULL;
	int status;
	assert_int_equal(pp_exec_target_open(x->ctr.pidfd, &t, &err), 0);
	assert_true(t.root_fd >= 0);
	x->cfg.target = &t;
	assert_exec(&x->cfg, ARGV("hostname"), 0, INFRA_HOSTNAME "\n");
	int fds = open_fds();
	for (int k = 0; k < 20; k++)
		assert_exec(&x->cfg, ARGV("cat", "/proc/1/comm"), 0, "sleep\n");
	cleanup_free char *e = exec_error(&x->cfg, ARGV("nosuchcmd"), &status);
	assert_string_equal(e, "exec: \"nosuchcmd\": executable file not found in $PATH");
	assert_int_equal(status, ENOENT);
	assert_int_equal(open_fds(), fds);
	x->cfg.target = NULL;
	pp_exec_target_close(&t);
	assert_int_equal(t.root_fd, -1);
	pp_exec_target_close(&t);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_exec: skipped, needs root\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_output_and_status, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_namespaces, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_rootfs_cwd_env, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_user, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_errors, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_kept_target, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_container_gone, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_caller_unchanged, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_shared_host_namespace, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_tty, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_pty_relay_pipes, exec_setup, exec_teardown),
	    cmocka_unit_test_setup_teardown(test_pty_relay_terminal, exec_setup, exec_teardown),
	};
	return cmocka_run_group_tests(tests, build_image, remove_image);
}
