/* A terminal relay for the CLI (`exec -t`): the local terminal to a pty
 * master and back, as kubectl's client does it. */
#ifndef PEAPOD_PTY_H
#define PEAPOD_PTY_H

#include "util/error.h"

/* Copies in_fd to master and master to out_fd until the master side hangs
 * up (every slave closed, its output drained): returns 0, or -1 and err.
 * When in_fd is a terminal it is put in raw mode (restored before
 * returning, on error too) and its window size is copied to master at once
 * and on every SIGWINCH (blocked meanwhile, read through a signalfd). EOF on
 * in_fd sends the terminal's EOF character (VEOF, ^D) once instead of
 * closing anything; in_fd < 0 is no input at all (`exec -t` without -i).
 * master is non-blocking for the time of the call. SIGPIPE on out_fd is the
 * caller's to ignore. */
int pp_pty_relay(int master, int in_fd, int out_fd, struct pp_error **err);

#endif
