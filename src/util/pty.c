/* The terminal relay: one poll loop over the pty master, the input and a
 * signalfd for SIGWINCH. Input is read only when what was read before has
 * reached the master, so a process that does not read its terminal stalls
 * our input, never its own output. */
#include "util/pty.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "util/cleanup.h"

#define RELAY_BUF 16384
#define DEFAULT_VEOF 4 /* ^D */

struct relay {
	int master, in_fd, out_fd, sigfd;
	bool in_open; /* in_fd not at EOF yet */
	char in_buf[RELAY_BUF];
	size_t in_len, in_off; /* read from in_fd, not yet written to master */
};

/* Writes all of buf, waiting when fd is non-blocking. */
static int write_out(int fd, const char *buf, size_t len, struct pp_error **err)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			(void)poll(&p, 1, -1);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pp_error_set(err, errno, "pty relay: write to fd %d", fd);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(to, TIOCSWINSZ, &ws);
}

/* The terminal's EOF character, in the pty's own settings. */
static char veof_char(int master)
{
	struct termios t;
	if (tcgetattr(master, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
		return (char)t.c_cc[VEOF];
	return DEFAULT_VEOF;
}

static void input_eof(struct relay *r)
{
	r->in_open = false;
	r->in_buf[0] = veof_char(r->master);
	r->in_off = 0;
	r->in_len = 1;
}

static int read_input(struct relay *r, struct pp_error **err)
{
	ssize_t n = read(r->in_fd, r->in_buf, sizeof(r->in_buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0 && errno != EIO) /* EIO: our own terminal went away, as EOF */
		return pp_error_set(err, errno, "pty relay: read fd %d", r->in_fd);
	if (n <= 0) {
		input_eof(r);
		return 0;
	}
	r->in_off = 0;
	r->in_len = (size_t)n;
	return 0;
}

static int write_input(struct relay *r, struct pp_error **err)
{
	ssize_t n = write(r->master, r->in_buf + r->in_off, r->in_len - r->in_off);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0 && errno == EIO) { /* hung up: the read side ends the relay */
		r->in_off = r->in_len = 0;
		r->in_open = false;
		return 0;
	}
	if (n < 0)
		return pp_error_set(err, errno, "pty relay: write to the pty");
	r->in_off += (size_t)n;
	if (r->in_off == r->in_len)
		r->in_off = r->in_len = 0;
	return 0;
}

/* Copies what the master has to out_fd. Returns 1 once it hung up (the
 * kernel hands out what the slave wrote before reporting EIO), else 0. */
static int drain_master(struct relay *r, bool hup, struct pp_error **err)
{
	char buf[RELAY_BUF];
	for (;;) {
		ssize_t n = read(r->master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return hup ? 1 : 0;
		if (n < 0 && errno == EIO)
			return 1;
		if (n < 0)
			return pp_error_set(err, errno, "pty relay: read the pty");
		if (n == 0)
			return 1;
		if (write_out(r->out_fd, buf, (size_t)n, err) < 0)
			return -1;
	}
}

static void drain_signals(int sigfd)
{
	struct signalfd_siginfo si;
	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

static int relay_loop(struct relay *r, struct pp_error **err)
{
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = r->master, .events = POLLIN | (r->in_len > 0 ? POLLOUT : 0)},
		    {.fd = r->sigfd, .events = POLLIN},
		    /* a negative fd is skipped by poll */
		    {.fd = r->in_open && r->in_len == 0 ? r->in_fd : -1, .events = POLLIN},
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return pp_error_set(err, errno, "pty relay: poll");
		}
		/* A resize first, before input that may depend on it. */
		if (p[1].revents & POLLIN) {
			drain_signals(r->sigfd);
			copy_winsize(r->in_fd, r->master);
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int done = drain_master(r, (p[0].revents & (POLLHUP | POLLERR)) != 0, err);
			if (done != 0)
				return done < 0 ? -1 : 0;
		}
		if (p[0].revents & POLLNVAL)
			return pp_error_set(err, EBADF, "pty relay: pty fd %d", r->master);
		if ((p[0].revents & POLLOUT) && write_input(r, err) < 0)
			return -1;
		if (p[2].revents & POLLNVAL)
			return pp_error_set(err, EBADF, "pty relay: input fd %d", r->in_fd);
		if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) && read_input(r, err) < 0)
			return -1;
	}
}

int pp_pty_relay(int master, int in_fd, int out_fd, struct pp_error **err)
{
	struct relay *r = xmalloc(sizeof(*r)); /* the buffer is too big for a stack */
	struct termios saved, raw;
	sigset_t winch, old_mask;
	bool in_tty = in_fd >= 0 && isatty(in_fd);
	int master_flags = fcntl(master, F_GETFL);
	int ret = -1;

	*r = (struct relay){.master = master, .in_fd = in_fd, .out_fd = out_fd, .sigfd = -1};
	if (master_flags < 0 || fcntl(master, F_SETFL, master_flags | O_NONBLOCK) < 0) {
		pp_error_set(err, errno, "pty relay: pty fd %d", master);
		free(r);
		return -1;
	}
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigprocmask(SIG_BLOCK, &winch, &old_mask);
	if (in_tty && tcgetattr(in_fd, &saved) < 0) {
		pp_error_set(err, errno, "pty relay: terminal settings of fd %d", in_fd);
		in_tty = false;
		goto out;
	}
	if (in_tty) {
		raw = saved;
		cfmakeraw(&raw);
		/* TCSANOW: what was typed ahead is kept, not flushed. */
		if (tcsetattr(in_fd, TCSANOW, &raw) < 0) {
			pp_error_set(err, errno, "pty relay: raw mode on fd %d", in_fd);
			in_tty = false;
			goto out;
		}
		r->sigfd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
		if (r->sigfd < 0) {
			pp_error_set(err, errno, "pty relay: signalfd");
			goto out;
		}
		copy_winsize(in_fd, master);
	}
	r->in_open = in_fd >= 0;
	ret = relay_loop(r, err);
out:
	if (in_tty)
		(void)tcsetattr(in_fd, TCSANOW, &saved);
	if (r->sigfd >= 0)
		close(r->sigfd);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	(void)fcntl(master, F_SETFL, master_flags);
	free(r);
	return ret;
}
