/* The terminal of a container process (tty: true, exec -t): a pty of the
 * container's own devpts, made by the child and its master passed to the
 * parent over a socket, as runc does it (--console-socket). */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"
#include "util/fdpass.h"

int pp_child_open_pty(uid_t uid, unsigned short rows, unsigned short cols, int sock,
		      struct pp_error **err)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return pp_error_set(err, errno, "tty: open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return pp_error_set(err, errno, "tty: unlockpt");
	/* TIOCGPTPEER opens the slave of this very master, with no path lookup. */
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return pp_error_set(err, errno, "tty: open the pty slave");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return pp_error_set(err, errno, "tty: TIOCSCTTY");
	if (rows != 0 || cols != 0) {
		struct winsize ws = {.ws_row = rows, .ws_col = cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return pp_error_set(err, errno, "tty: set the window size");
	}
	if (fchown(slave, uid, (gid_t)-1) < 0)
		return pp_error_set(err, errno, "tty: chown the pty slave");
	if (pp_fd_send(sock, PP_FD_TAG_PTY, master) < 0)
		return pp_error_set(err, errno, "tty: send the pty master");
	return steal_fd(&slave);
}

int pp_receive_pty_master(int sock, struct pp_error **err)
{
	char tag = 0;
	int fd = pp_fd_recv(sock, &tag, MSG_DONTWAIT);
	if (fd >= 0 && tag != PP_FD_TAG_PTY) {
		close(fd);
		fd = -1;
		errno = EPROTO;
	}
	if (fd < 0 && errno == EPROTO)
		return pp_error_set(err, EPROTO, "tty: no pty master from the child");
	if (fd < 0)
		return pp_error_set(err, errno, "tty: receive the pty master");
	return fd;
}
