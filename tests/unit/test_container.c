/* pp_container_start on the real kernel: a throwaway busybox image, real
 * overlay, namespaces and mounts. Must run as root. After every test: the
 * child is reaped, no mount of the test shows on the host, the temp dir is
 * gone. */
#include "container_fixture.h"
#include "sandbox/infra.h"
#include "util/clock.h"

/* Runs the container with stdout on a pipe; returns its exit status (or -1
 * when it did not start, with *err). *out gets what it printed. */
static int run(struct pp_container_config *cfg, char **out, struct pp_error **err)
{
	int p[2];
	struct pp_container_process proc;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	cfg->stdout_fd = p[1];
	int r = pp_container_start(cfg, &proc, err);
	close(p[1]);
	*out = NULL;
	if (r < 0) {
		close(p[0]);
		return -1;
	}
	size_t len;
	struct pp_error *rerr = NULL;
	assert_int_equal(pp_read_fd(p[0], OUTPUT_MAX, out, &len, &rerr), 0);
	close(p[0]);
	int status;
	assert_int_equal(waitpid(proc.pid, &status, 0), proc.pid);
	close(proc.pidfd);
	assert_true(proc.mntns_fd >= 0);
	close(proc.mntns_fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void assert_output(struct pp_container_config *cfg, const char *expected)
{
	struct pp_error *err = NULL;
	cleanup_free char *out = NULL;
	char buf[512];
	int status = run(cfg, &out, &err);
	if (status < 0)
		fail_msg("start failed: %s", pp_error_text(err, buf, sizeof(buf)));
	assert_int_equal(status, 0);
	assert_string_equal(out, expected);
}

/* Starts a container that must fail; returns the error text. */
static char *start_error(struct pp_container_config *cfg)
{
	struct pp_error *err = NULL;
	cleanup_free char *out = NULL;
	char buf[1024];
	assert_int_equal(run(cfg, &out, &err), -1);
	assert_non_null(err);
	char *text = xstrdup(pp_error_text(err, buf, sizeof(buf)));
	pp_error_free(&err);
	return text;
}

static void test_echo(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = ARGV("echo", "hello");
	assert_output(&f->cfg, "hello\n");
}

static void test_pid_namespace(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = SH("echo $$");
	assert_output(&f->cfg, "1\n");

	/* Without a new PID ns, the container sees its pid as we do. */
	struct pp_error *err = NULL;
	struct pp_container_process proc;
	int p[2];
	char buf[32] = {0};
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->cfg.new_pid_ns = false;
	f->cfg.stdout_fd = p[1];
	assert_int_equal(pp_container_start(&f->cfg, &proc, &err), 0);
	close(p[1]);
	assert_true(read(p[0], buf, sizeof(buf) - 1) > 0);
	close(p[0]);
	assert_int_equal(atoi(buf), proc.pid);
	assert_int_equal(waitpid(proc.pid, NULL, 0), proc.pid);
	close(proc.pidfd);
	close(proc.mntns_fd);
}

/* The container's mount namespace comes back with it and outlives its
 * exit: entered after the process is reaped, "/" is still its root. */
static void test_mount_namespace_handed_over(void **state)
{
	struct fixture *f = *state;
	struct pp_error *err = NULL;
	struct pp_container_process proc;
	f->cfg.argv = SH("echo here > /mark");
	assert_int_equal(pp_container_start(&f->cfg, &proc, &err), 0);
	assert_int_equal(waitpid(proc.pid, NULL, 0), proc.pid);
	close(proc.pidfd);
	assert_true(proc.mntns_fd >= 0);
	struct stat ours, theirs;
	assert_int_equal(stat("/proc/self/ns/mnt", &ours), 0);
	assert_int_equal(fstat(proc.mntns_fd, &theirs), 0);
	assert_true(ours.st_ino != theirs.st_ino);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		char buf[16] = {0};
		int fd = setns(proc.mntns_fd, CLONE_NEWNS) == 0 ? open("/mark", O_RDONLY) : -1;
		_exit(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 5 && strcmp(buf, "here\n") == 0
			  ? 0
			  : 1);
	}
	int status = -1;
	assert_int_equal(waitpid(kid, &status, 0), kid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(proc.mntns_fd);
}

static void test_standard_mounts(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = SH("for m in /proc /dev /dev/pts /dev/mqueue /dev/shm /sys; do"
			 "  grep -q \" $m \" /proc/self/mountinfo && echo $m; done;"
			 "touch /sys/x 2>/dev/null || echo sys-ro;"
			 "echo x > /dev/null && stat -c '%a %t,%T' /dev/null /dev/zero /dev/tty;"
			 "readlink /dev/fd; readlink /dev/ptmx; stat -c %a /dev/shm;"
			 "test -c /dev/pts/ptmx && echo ptmx; umask");
	/* /dev's nodes are made with no umask; the container gets ours back */
	mode_t mask = umask(027);
	assert_output(&f->cfg, "/proc\n/dev\n/dev/pts\n/dev/mqueue\n/dev/shm\n/sys\nsys-ro\n"
			       "666 1,3\n666 1,5\n666 5,0\n/proc/self/fd\npts/ptmx\n1777\nptmx\n"
			       "0027\n");
	umask(mask);
}

static void test_overlay_writes_go_to_upper(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = SH("echo new > /newfile; echo more >> /etc/lowerfile; cat /etc/lowerfile");
	assert_output(&f->cfg, "lower\nmore\n");
	cleanup_free char *upper_new = xasprintf("%s/newfile", f->upper);
	cleanup_free char *upper_lf = xasprintf("%s/etc/lowerfile", f->upper);
	cleanup_free char *lower_new = xasprintf("%s/newfile", image);
	cleanup_free char *lower_lf = xasprintf("%s/etc/lowerfile", image);
	cleanup_free char *up = read_text(upper_lf);
	cleanup_free char *low = read_text(lower_lf);
	assert_true(exists(upper_new));
	assert_false(exists(lower_new));
	assert_string_equal(up, "lower\nmore\n");
	assert_string_equal(low, "lower\n");
}

static void test_bind_mounts(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *vol = xasprintf("%s/vol", f->base);
	cleanup_free char *vol_f = xasprintf("%s/vol/f", f->base);
	assert_int_equal(mkdir(vol, 0755), 0);
	write_file(vol_f, "data\n");
	struct pp_mount_spec mounts[] = {
	    {.kind = PP_MOUNT_BIND, .source = vol, .target = "/ro", .read_only = true},
	    {.kind = PP_MOUNT_BIND, .source = vol, .target = "/a/b/rw"},
	    {.kind = PP_MOUNT_BIND, .source = vol_f, .target = "/etc/single"},
	};
	f->cfg.mounts = mounts;
	f->cfg.n_mounts = 3;
	f->cfg.argv = SH("cat /ro/f; touch /ro/g 2>/dev/null && echo writable || echo readonly;"
			 "touch /a/b/rw/h && echo rw-ok; cat /etc/single");
	assert_output(&f->cfg, "data\nreadonly\nrw-ok\ndata\n");
	cleanup_free char *g = xasprintf("%s/g", vol);
	cleanup_free char *h = xasprintf("%s/h", vol);
	assert_false(exists(g));
	assert_true(exists(h));
}

static void test_tmpfs_and_shm_mounts(void **state)
{
	struct fixture *f = *state;
	struct pp_mount_spec mounts[] = {
	    {.kind = PP_MOUNT_TMPFS, .target = "/scratch", .tmpfs_options = "size=1m,mode=1777"},
	    {.kind = PP_MOUNT_TMPFS, .target = "/dev/shm", .tmpfs_options = "mode=700"},
	};
	f->cfg.mounts = mounts;
	f->cfg.n_mounts = 2;
	f->cfg.argv = SH("stat -c %a /scratch /dev/shm; grep -c ' /dev/shm ' /proc/self/mountinfo");
	assert_output(&f->cfg, "1777\n700\n1\n");
}

/* A detached tmpfs made by the caller, cloned into two containers. */
static void test_fd_mount(void **state)
{
	struct fixture *f = *state;
	int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	assert_true(fsfd >= 0);
	assert_int_equal(fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0), 0);
	int mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	assert_true(mntfd >= 0);
	close(fsfd);
	int fd = openat(mntfd, "hello", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "from-fd\n", 8), 8);
	close(fd);
	struct pp_mount_spec mounts[] = {
	    {.kind = PP_MOUNT_FD, .source_fd = mntfd, .target = "/fdvol"}};
	f->cfg.mounts = mounts;
	f->cfg.n_mounts = 1;
	f->cfg.argv = SH("cat /fdvol/hello; echo again > /fdvol/second");
	assert_output(&f->cfg, "from-fd\n");
	f->cfg.argv = SH("cat /fdvol/second");
	assert_output(&f->cfg, "again\n");
	close(mntfd);
}

static void test_subpath(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *vol = xasprintf("%s/vol", f->base);
	cleanup_free char *sub = xasprintf("%s/vol/sub", f->base);
	cleanup_free char *sub_f = xasprintf("%s/vol/sub/f", f->base);
	cleanup_free char *esc = xasprintf("%s/vol/esc", f->base);
	cleanup_free char *up = xasprintf("%s/vol/up", f->base);
	assert_int_equal(mkdir(vol, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file(sub_f, "sub\n");
	assert_int_equal(symlink("/etc", esc), 0);
	assert_int_equal(symlink("../..", up), 0);
	struct pp_mount_spec m = {
	    .kind = PP_MOUNT_BIND, .source = vol, .source_subpath = "sub", .target = "/s"};
	f->cfg.mounts = &m;
	f->cfg.n_mounts = 1;
	f->cfg.argv = SH("cat /s/f");
	assert_output(&f->cfg, "sub\n");

	const char *bad[] = {"esc", "up", "../vol/sub", "sub/../../vol", "missing"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.source_subpath = bad[i];
		cleanup_free char *e = start_error(&f->cfg);
		if (strstr(e, "container \"t\": mount /s: subPath") == NULL)
			fail_msg("subPath %s: %s", bad[i], e);
	}
}

/* Symlinks planted in the image as mount targets resolve inside the root:
 * the mounts land there, never on the host path they name. */
static void test_target_symlink_stays_inside(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *vol = xasprintf("%s/vol", f->base);
	cleanup_free char *vol_f = xasprintf("%s/vol/f", f->base);
	cleanup_free char *host = xasprintf("%s/hostside", f->base);
	cleanup_free char *rel = xasprintf("../../../../../../..%s", host);
	cleanup_free char *l_rel = xasprintf("%s/data", f->upper);
	cleanup_free char *l_abs = xasprintf("%s/abs", f->upper);
	cleanup_free char *l_etc = xasprintf("%s/etclink", f->upper);
	assert_int_equal(mkdir(vol, 0755), 0);
	assert_int_equal(mkdir(host, 0755), 0);
	write_file(vol_f, "vol\n");
	assert_int_equal(symlink(rel, l_rel), 0);
	assert_int_equal(symlink(host, l_abs), 0);
	assert_int_equal(symlink("/../../../etc", l_etc), 0);
	struct pp_mount_spec mounts[] = {
	    {.kind = PP_MOUNT_BIND, .source = vol, .target = "/data"},
	    {.kind = PP_MOUNT_BIND, .source = vol, .target = "/abs/inner"},
	    {.kind = PP_MOUNT_BIND, .source = vol, .target = "/etclink/sub"},
	};
	f->cfg.mounts = mounts;
	f->cfg.n_mounts = 3;
	f->cfg.argv = SH("cat /data/f /abs/inner/f /etc/sub/f");
	assert_output(&f->cfg, "vol\nvol\nvol\n");
	/* Nothing was created or mounted on the host side. */
	cleanup_free char *host_inner = xasprintf("%s/inner", host);
	assert_false(exists(host_inner));
	assert_false(exists("/etc/sub"));
	/* ... but inside the root, that is in the upper dir; /abs/inner went
	 * through /abs to that same directory, where vol was mounted for /data. */
	cleanup_free char *in_root = xasprintf("%s%s", f->upper, host);
	cleanup_free char *vol_inner = xasprintf("%s/inner", vol);
	assert_true(exists(in_root));
	assert_true(exists(vol_inner));
}

static void test_user(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = SH("id -u; id -g; id -G");
	f->cfg.identity.user = "app";
	f->cfg.identity.extra_gids[0] = 3000;
	f->cfg.identity.n_extra_gids = 1;
	assert_output(&f->cfg, "1000\n1000\n1000 1001 3000\n");

	f->cfg.identity.n_extra_gids = 0;
	f->cfg.identity.user = "1000:audio"; /* a named group: no membership groups */
	assert_output(&f->cfg, "1000\n1002\n1002\n");
	f->cfg.identity.user = "4242"; /* not in passwd: gid 0 */
	assert_output(&f->cfg, "4242\n0\n0\n");
	f->cfg.identity.user = NULL;
	assert_output(&f->cfg, "0\n0\n0\n");
	/* runAsUser / runAsGroup override the image's user. */
	f->cfg.identity.user = "app";
	f->cfg.identity.has_uid = true;
	f->cfg.identity.uid = 65534;
	assert_output(&f->cfg, "65534\n65534\n65534\n");
	f->cfg.identity.has_gid = true;
	f->cfg.identity.gid = 7;
	assert_output(&f->cfg, "65534\n7\n7\n");
}

static void test_user_errors(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = ARGV("true");
	f->cfg.identity.user = "ghost";
	cleanup_free char *e1 = start_error(&f->cfg);
	assert_string_equal(
	    e1, "container \"t\": unable to find user ghost: no matching entries in passwd file");
	f->cfg.identity.user = "app:ghosts";
	cleanup_free char *e2 = start_error(&f->cfg);
	assert_string_equal(
	    e2, "container \"t\": unable to find group ghosts: no matching entries in group file");
}

static void test_exec_errors(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = ARGV("nosuchcmd");
	cleanup_free char *e1 = start_error(&f->cfg);
	assert_string_equal(
	    e1, "container \"t\": exec: \"nosuchcmd\": executable file not found in $PATH");
	f->cfg.argv = ARGV("/bin/nosuch");
	cleanup_free char *e2 = start_error(&f->cfg);
	assert_string_equal(e2,
			    "container \"t\": exec: \"/bin/nosuch\": No such file or directory");
	/* PATH comes from envp; none means the default PATH. */
	f->cfg.envp = NULL;
	f->cfg.argv = ARGV("echo", "default-path");
	assert_output(&f->cfg, "default-path\n");
}

static void test_mount_errors(void **state)
{
	struct fixture *f = *state;
	struct pp_mount_spec m = {
	    .kind = PP_MOUNT_BIND, .source = "/nonexistent/vol", .target = "/x"};
	f->cfg.mounts = &m;
	f->cfg.n_mounts = 1;
	f->cfg.argv = ARGV("true");
	cleanup_free char *e = start_error(&f->cfg);
	assert_string_equal(
	    e, "container \"t\": mount /x: clone /nonexistent/vol: No such file or directory");
}

/* mountPropagation: the source's host mount must allow it (containerd's
 * checks), and the container's mount gets rslave, rshared or rprivate. */
static void test_mount_propagation(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *vol = xasprintf("%s/vol", f->base);
	assert_int_equal(mkdir(vol, 0755), 0);
	assert_int_equal(mount(vol, vol, NULL, MS_BIND, NULL), 0);
	assert_int_equal(mount(NULL, vol, NULL, MS_PRIVATE, NULL), 0);
	struct pp_mount_spec m = {
	    .kind = PP_MOUNT_BIND, .source = vol, .target = "/v", .propagation = PP_MOUNT_RSLAVE};
	f->cfg.mounts = &m;
	f->cfg.n_mounts = 1;
	f->cfg.argv = ARGV("true");
	cleanup_free char *e = start_error(&f->cfg);
	cleanup_free char *want = xasprintf("container \"t\": mount /v: path \"%s\" is mounted on "
					    "\"%s\" but it is not a shared or slave mount",
					    vol, vol);
	assert_string_equal(e, want);
	assert_int_equal(mount(NULL, vol, NULL, MS_SHARED, NULL), 0);
	f->cfg.argv = SH("grep ' /v ' /proc/self/mountinfo | grep -c ' master:'");
	assert_output(&f->cfg, "1\n");
	m.propagation = PP_MOUNT_RSHARED;
	f->cfg.argv = SH("grep ' /v ' /proc/self/mountinfo | grep -c ' shared:'");
	assert_output(&f->cfg, "1\n");
	m.propagation = PP_MOUNT_RPRIVATE;
	f->cfg.argv = SH("grep ' /v ' /proc/self/mountinfo | grep -cE 'shared:|master:' || true");
	assert_output(&f->cfg, "0\n");
	assert_int_equal(umount2(vol, MNT_DETACH), 0);
}

static void test_working_dir(void **state)
{
	struct fixture *f = *state;
	f->cfg.argv = ARGV("pwd");
	f->cfg.identity.cwd = "/work/deep/dir";
	f->cfg.identity.user = "app";
	assert_output(&f->cfg, "/work/deep/dir\n");
	cleanup_free char *in_upper = xasprintf("%s/work/deep/dir", f->upper);
	assert_true(exists(in_upper));
	/* A file where a directory is wanted is an error naming it. */
	f->cfg.identity.cwd = "/etc/passwd";
	cleanup_free char *e = start_error(&f->cfg);
	assert_non_null(strstr(e, "working directory /etc/passwd"));
}

static void test_join_pod_namespaces(void **state)
{
	struct fixture *f = *state;
	struct infra in = infra_start();
	f->cfg.ns_pidfd = in.pidfd;
	f->cfg.join_ns = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
	/* PID 1 is the infra; the netns has only lo (also in the sysfs we mounted). */
	f->cfg.argv =
	    SH("hostname; echo $$; ls /sys/class/net; test -d /proc/1 && echo infra-seen");
	assert_output(&f->cfg, INFRA_HOSTNAME "\n2\nlo\ninfra-seen\n");
	/* Our own pid_for_children is back: the next container is born in ours. */
	f->cfg.join_ns = CLONE_NEWUTS;
	f->cfg.new_pid_ns = true;
	f->cfg.argv = SH("hostname; echo $$");
	assert_output(&f->cfg, INFRA_HOSTNAME "\n1\n");
	infra_stop(&in);
}

/* The container is born in the given cgroup, or moves itself there before
 * anything else. A
 * throwaway cgroup of our own on the cgroup2 hierarchy (no controllers
 * needed for membership). */
static void test_cgroup(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	if (stat(CGROUP2_ROOT, &st) < 0) {
		skip();
		return;
	}
	cleanup_free char *name = xasprintf("pp-rt-test-%d", (int)getpid());
	cleanup_free char *dir = xasprintf("%s/%s", CGROUP2_ROOT, name);
	cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
	cleanup_free char *expected = xasprintf("0::/%s\n", name);
	assert_int_equal(mkdir(dir, 0755), 0);
	f->cgroup_dir = xstrdup(dir);
	/* The directory (as pp_cgroup_procs_fds gives a cgroup2 one): clone3
	 * creates the process there. */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	f->cfg.cgroup_procs_fds = &fd;
	f->cfg.n_cgroup_procs_fds = 1;
	f->cfg.argv = SH("grep ^0:: /proc/self/cgroup");
	assert_output(&f->cfg, expected);
	close(fd);
	/* A file to write "0" to (v1's tasks, or cgroup.procs): the process
	 * moves itself. */
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_output(&f->cfg, expected);
	close(fd);
	/* Reaped, so the cgroup is empty; its removal may lag a moment. */
	assert_true(rmdir_cgroup(dir));
}

/* pp_path_open_in_root on its own: creation through dangling symlinks,
 * ".." clamped at the root, symlink loops, files as the last component. */
static void test_path_open_in_root(void **state)
{
	struct fixture *f = *state;
	struct pp_error *err = NULL;
	cleanup_free char *loop_a = xasprintf("%s/a", f->upper);
	cleanup_free char *loop_b = xasprintf("%s/b", f->upper);
	cleanup_free char *dang = xasprintf("%s/dang", f->upper);
	assert_int_equal(symlink("b", loop_a), 0);
	assert_int_equal(symlink("a", loop_b), 0);
	assert_int_equal(symlink("../../x/y", dang), 0);
	int rootfd = open(f->upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);

	int fd = pp_path_open_in_root(rootfd, "/../../../p/q", O_PATH, 0755, false, &err);
	assert_true(fd >= 0);
	close(fd);
	cleanup_free char *pq = xasprintf("%s/p/q", f->upper);
	assert_true(exists(pq));

	fd = pp_path_open_in_root(rootfd, "dang/z", O_PATH, 0755, true, &err);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);
	cleanup_free char *xyz = xasprintf("%s/x/y/z", f->upper);
	assert_true(exists(xyz));

	/* A dangling symlink as the last component, its parent there (the
	 * walk from the parent): its target is made, as a file. */
	cleanup_free char *dang2 = xasprintf("%s/p/dang2", f->upper);
	assert_int_equal(symlink("../../m/n", dang2), 0);
	fd = pp_path_open_in_root(rootfd, "/p/dang2", O_PATH, 0755, true, &err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);
	cleanup_free char *mn = xasprintf("%s/m/n", f->upper);
	assert_true(exists(mn));
	/* Opened with the caller's flags once made. */
	fd = pp_path_open_in_root(rootfd, "/p/r/", O_RDONLY | O_DIRECTORY, 0755, false, &err);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_PATH, 0);
	close(fd);
	/* A file as a parent: not a directory, nothing made. */
	assert_int_equal(pp_path_open_in_root(rootfd, "/m/n/o", O_PATH, 0755, false, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	pp_error_free(&err);
	assert_int_equal(pp_path_open_in_root(rootfd, "/a/c", O_PATH, 0755, false, &err), -1);
	assert_int_equal(err->status, ELOOP);
	pp_error_free(&err);
	/* Without create_mode a missing path is an error. */
	assert_int_equal(pp_path_open_in_root(rootfd, "/missing", O_PATH, 0, false, &err), -1);
	assert_int_equal(err->status, ENOENT);
	pp_error_free(&err);
	/* Magic links are refused. */
	int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(pp_path_open_in_root(procfd, "self/root", O_PATH, 0, false, &err), -1);
	assert_int_equal(err->status, ELOOP);
	pp_error_free(&err);
	close(procfd);
	close(rootfd);
}

/* Without CAP_MKNOD, /dev nodes are bind-mounted from the host. Runs in a
 * forked child, which drops the capability and reaps its container. */
static int start_without_mknod(struct pp_container_config *cfg)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	struct pp_error *err = NULL;
	struct pp_container_process proc;
	int status;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return 1;
	data[0].effective &= ~(1U << CAP_MKNOD);
	data[0].permitted &= ~(1U << CAP_MKNOD);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return 2;
	cfg->argv = SH("echo x > /dev/null && stat -c '%t,%T' /dev/null /dev/tty &&"
		       "grep -c ' /dev/null ' /proc/self/mountinfo");
	if (pp_container_start(cfg, &proc, &err) < 0) {
		char buf[512];
		fprintf(stderr, "%s\n", pp_error_text(err, buf, sizeof(buf)));
		return 3;
	}
	if (waitpid(proc.pid, &status, 0) != proc.pid || status != 0)
		return 4;
	return 0;
}

static void test_dev_without_mknod(void **state)
{
	struct fixture *f = *state;
	int p[2], status;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->cfg.stdout_fd = p[1];
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(start_without_mknod(&f->cfg));
	close(p[1]);
	char *out = NULL;
	size_t len;
	struct pp_error *err = NULL;
	assert_int_equal(pp_read_fd(p[0], OUTPUT_MAX, &out, &len, &err), 0);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	assert_string_equal(out, "1,3\n5,0\n1\n");
	free(out);
}

static double now_ms(void)
{
	return (double)pp_monotonic_ns() / PP_NSEC_PER_MSEC;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Not a pass/fail test: prints the median time of pp_container_start. */
/* Median start time of f->cfg running true (printed, not asserted). */
static double start_time(struct fixture *f, double *min, double *max)
{
	enum { RUNS = 30 };
	struct pp_error *err = NULL;
	double t[RUNS];
	f->cfg.argv = ARGV("true");
	for (int i = 0; i < RUNS; i++) {
		struct pp_container_process proc;
		double t0 = now_ms();
		assert_int_equal(pp_container_start(&f->cfg, &proc, &err), 0);
		t[i] = now_ms() - t0;
		assert_int_equal(waitpid(proc.pid, NULL, 0), proc.pid);
		close(proc.pidfd);
		close(proc.mntns_fd);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	*min = t[0];
	*max = t[RUNS - 1];
	return t[RUNS / 2];
}

/* The default security (capabilities, masked paths, seccomp) against none
 * of it (privileged): what the confinement costs a start. */
static void test_start_time(void **state)
{
	struct fixture *f = *state;
	double min, max, med;
	med = start_time(f, &min, &max);
	printf("pp_container_start(true): median %.2f ms, min %.2f ms, max %.2f ms\n", med, min,
	       max);
	f->cfg.identity.security = (struct pp_security){.privileged = true};
	med = start_time(f, &min, &max);
	printf("pp_container_start(true), privileged: median %.2f ms, min %.2f ms, max %.2f ms\n",
	       med, min, max);
	f->cfg.identity.security = (struct pp_security){0};
}

/* hostUsers: false at the runtime layer: an infra process in a new user
 * namespace (pp_infra_start with an id range) owning the pod's namespaces;
 * the container joins them and the user namespace, the image layer idmapped
 * into it. A range far above any the tests of the pods use. */
#define TEST_ID_BASE (4000u * 65536u)
#define TEST_ID_COUNT 65536u

/* The kernel refuses new user namespaces to a chrooted process (as in
 * ../shared/tools/fresh-machine.sh): those tests skip there. */
static bool userns_possible(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	int status = 0;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static void test_user_namespace(void **state)
{
	if (!userns_possible())
		skip();
	struct fixture *f = *state;
	struct pp_error *err = NULL;
	struct pp_infra_config icfg = {
	    .clone_flags = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID,
	    .hostname = INFRA_HOSTNAME,
	    .id_base = TEST_ID_BASE,
	    .id_count = TEST_ID_COUNT,
	};
	pid_t ipid;
	int ipidfd = -1, userns = -1;
	assert_int_equal(pp_infra_start(&icfg, &ipid, &ipidfd, &userns, &err), 0);
	assert_true(userns >= 0);
	assert_int_equal(chown(f->upper, TEST_ID_BASE, TEST_ID_BASE), 0);
	f->cfg.ns_pidfd = ipidfd;
	f->cfg.join_ns = icfg.clone_flags;
	f->cfg.userns = true;
	f->cfg.userns_fd = userns;
	f->cfg.id_base = TEST_ID_BASE;
	/* Root inside; the image's files (the host's root's) are root's
	 * inside; the host's own ids are nobody; what it writes is its own. */
	f->cfg.argv = SH("id -u; cat /proc/self/uid_map; stat -c %u:%g /bin/busybox /dev; "
			 "hostname; echo $$; touch /newfile");
	char expect[256];
	/* uid_map as the kernel prints it: "%10u %10u %10u" */
	snprintf(expect, sizeof(expect), "0\n%10u %10u %10u\n0:0\n0:0\n%s\n2\n", 0u, TEST_ID_BASE,
		 TEST_ID_COUNT, INFRA_HOSTNAME);
	assert_output(&f->cfg, expect);
	cleanup_free char *made = xasprintf("%s/newfile", f->upper);
	struct stat st;
	assert_int_equal(stat(made, &st), 0);
	assert_int_equal(st.st_uid, TEST_ID_BASE);
	assert_int_equal(st.st_gid, TEST_ID_BASE);

	/* What it costs a container start: joining the user namespace and
	 * idmapping the layer, against the same start without them. */
	double min, max, med;
	f->cfg.join_ns = icfg.clone_flags & ~CLONE_NEWPID;
	med = start_time(f, &min, &max);
	printf("pp_container_start(true), user namespace: median %.2f ms, min %.2f, max %.2f\n",
	       med, min, max);
	f->cfg.userns = false;
	med = start_time(f, &min, &max);
	printf("pp_container_start(true), same pod namespaces, no user namespace: median %.2f ms, "
	       "min %.2f, max %.2f\n",
	       med, min, max);
	close(userns);
	pp_infra_stop(ipidfd);
	close(ipidfd);
}

/* The infra process in two steps (pp_infra_clone, pp_infra_setup): it makes
 * the net, UTS and IPC namespaces itself, after its clone (the PID one
 * comes with the clone); once set up they are the pod's as with
 * pp_infra_start: not ours, the hostname set, lo up, and a container
 * joining them sees the infra as PID 1. With an id range: refused. */
static void test_infra_early(void **state)
{
	struct fixture *f = *state;
	struct pp_error *err = NULL;
	struct pp_infra_config icfg = {
	    .clone_flags = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID,
	    .hostname = INFRA_HOSTNAME,
	};
	pid_t pid;
	int pidfd = -1, ready = -1, proceed = -1;
	assert_int_equal(pp_infra_clone(&icfg, &pid, &pidfd, &ready, &proceed, &err), 0);
	assert_true(pidfd >= 0 && ready >= 0 && proceed >= 0);
	assert_int_equal(pp_infra_setup(&icfg, pid, pidfd, &ready, &err), 0);
	assert_int_equal(ready, -1);
	/* told its cgroups are made (none here): it goes on to run its loop */
	assert_int_equal(pp_infra_cgroups_made(&proceed, &err), 0);
	assert_int_equal(proceed, -1);
	const char *kinds[] = {"net", "uts", "ipc"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		cleanup_free char *ours = xasprintf("/proc/self/ns/%s", kinds[i]);
		cleanup_free char *its = xasprintf("/proc/%d/ns/%s", (int)pid, kinds[i]);
		struct stat a, b;
		assert_int_equal(stat(ours, &a), 0);
		assert_int_equal(stat(its, &b), 0);
		assert_true(a.st_ino != b.st_ino);
	}
	f->cfg.ns_pidfd = pidfd;
	f->cfg.join_ns = icfg.clone_flags;
	/* lo's flags: IFF_UP | IFF_LOOPBACK */
	f->cfg.argv = SH("hostname; echo $$; ls /sys/class/net; cat /sys/class/net/lo/flags");
	assert_output(&f->cfg, INFRA_HOSTNAME "\n2\nlo\n0x9\n");
	pp_infra_stop(pidfd);
	close(pidfd);

	icfg.id_base = TEST_ID_BASE;
	icfg.id_count = TEST_ID_COUNT;
	assert_int_equal(pp_infra_clone(&icfg, &pid, &pidfd, &ready, &proceed, &err), -1);
	assert_int_equal(err->status, EINVAL);
	assert_int_equal(ready, -1);
	assert_int_equal(proceed, -1);
	pp_error_free(&err);
}

/* What a user namespace costs the infra process's start (maps written):
 * one start with, one without, in turn, so both see the same noise. */
static double infra_start_once(uint32_t id_count)
{
	struct pp_infra_config icfg = {
	    .clone_flags = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC,
	    .hostname = INFRA_HOSTNAME,
	    .id_base = TEST_ID_BASE,
	    .id_count = id_count,
	};
	struct pp_error *err = NULL;
	pid_t pid;
	int pidfd = -1, userns = -1;
	double t0 = now_ms();
	assert_int_equal(pp_infra_start(&icfg, &pid, &pidfd, &userns, &err), 0);
	double t = now_ms() - t0;
	if (userns >= 0)
		close(userns);
	pp_infra_stop(pidfd);
	close(pidfd);
	return t;
}

static void test_infra_start_time(void **state)
{
	if (!userns_possible())
		skip();
	enum { RUNS = 30 };
	double with[RUNS], without[RUNS];
	for (int i = 0; i < RUNS; i++) {
		with[i] = infra_start_once(TEST_ID_COUNT);
		without[i] = infra_start_once(0);
	}
	qsort(with, RUNS, sizeof(with[0]), cmp_double);
	qsort(without, RUNS, sizeof(without[0]), cmp_double);
	printf("pp_infra_start: median %.2f ms with a user namespace, %.2f ms without\n",
	       with[RUNS / 2], without[RUNS / 2]);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_container: skipped, needs root\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pid_namespace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_standard_mounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlay_writes_go_to_upper, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bind_mounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tmpfs_and_shm_mounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fd_mount, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subpath, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_target_symlink_stays_inside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mount_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mount_propagation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_working_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_join_pod_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mount_namespace_handed_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_open_in_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dev_without_mknod, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_namespace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_infra_early, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_infra_start_time, setup, teardown),
	};
	return cmocka_run_group_tests(tests, build_image, remove_image);
}
