/* Extraction of a tar archive into a new layer. libarchive extracts relative
 * to the current directory, so the work happens in a forked child that
 * chdirs into the layer: the caller's cwd (process-wide) is never touched.
 * The child reports its error text back over a pipe. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image/archive_api.h"
#include "image/image_internal.h"
#include "util/child_report.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

/* libarchive, loaded by image_extract_tar before it forks. */
static const struct pp_archive_api *A;

#define TAR_BLOCK_SIZE 10240
#define TAR_ERR_MAX 4096

/* Numeric owners (no name lookup on the host), exact modes, and the three
 * guards against entries escaping the layer. */
static const int extract_flags =
    ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_ACL |
    ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

/* Bounds on one archive (a tar bomb stops there): bytes of file content
 * (PEAPOD_IMAGE_MAX_BYTES) and entries. */
#define TAR_MAX_ENTRIES 1000000

static long long max_bytes(void)
{
	return (long long)pp_settings()->image_max_bytes;
}

/* What an image layer may not hold: device nodes (a block device in a
 * layer would open the host's disk to whoever can read the node), and more
 * than the bounds. Returns 0, or -1 with msg. */
static int check_entry(struct archive_entry *entry, long long *bytes, int entries, char *msg,
		       size_t msg_len)
{
	const char *name = A->archive_entry_pathname(entry);
	unsigned type = (unsigned)A->archive_entry_filetype(entry);
	if (type == AE_IFBLK || type == AE_IFCHR) {
		snprintf(msg, msg_len, "%s: device nodes are not allowed in an image", name);
		return -1;
	}
	la_int64_t size = A->archive_entry_size(entry);
	*bytes += size > 0 ? size : 0;
	if (*bytes > max_bytes()) {
		snprintf(msg, msg_len, "%s: the archive holds more than %lld bytes", name,
			 max_bytes());
		return -1;
	}
	if (entries >= TAR_MAX_ENTRIES) {
		snprintf(msg, msg_len, "the archive has more than %d entries", TAR_MAX_ENTRIES);
		return -1;
	}
	return 0;
}

static int copy_entry_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	while ((r = A->archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
		if (A->archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
			return -1;
	return r == ARCHIVE_EOF ? 0 : -1;
}

/* Runs in the child, in the layer directory. Fills msg on failure. */
static int extract_here(int archive_fd, char *msg, size_t msg_len)
{
	struct archive *in = A->archive_read_new(), *out = A->archive_write_disk_new();
	struct archive_entry *entry;
	int ret = -1, r, entries = 0;
	long long bytes = 0;
	A->archive_read_support_filter_all(in);
	/* tar only: format_all would also take mtree, whose text entries can
	 * name host files ("contents=/etc/shadow") and pull them into the layer. */
	A->archive_read_support_format_tar(in);
	A->archive_read_support_format_gnutar(in);
	A->archive_write_disk_set_options(out, extract_flags);
	if (A->archive_read_open_fd(in, archive_fd, TAR_BLOCK_SIZE) != ARCHIVE_OK) {
		snprintf(msg, msg_len, "%s", A->archive_error_string(in));
		goto out;
	}
	while ((r = A->archive_read_next_header(in, &entry)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			snprintf(msg, msg_len, "%s", A->archive_error_string(in));
			goto out;
		}
		const char *name = A->archive_entry_pathname(entry);
		if (check_entry(entry, &bytes, entries, msg, msg_len) < 0)
			goto out;
		if (A->archive_write_header(out, entry) < ARCHIVE_WARN ||
		    (A->archive_entry_size(entry) > 0 && copy_entry_data(in, out) < 0) ||
		    A->archive_write_finish_entry(out) < ARCHIVE_WARN) {
			const char *e = A->archive_error_string(out) ? A->archive_error_string(out)
								     : A->archive_error_string(in);
			snprintf(msg, msg_len, "%s: %s", name, e ? e : "extraction failed");
			goto out;
		}
		entries++;
	}
	if (entries == 0)
		snprintf(msg, msg_len, "the archive has no entries");
	else
		ret = A->archive_write_close(out) == ARCHIVE_OK ? 0 : -1;
	if (ret < 0 && entries > 0)
		snprintf(msg, msg_len, "%s", A->archive_error_string(out));
out:
	A->archive_read_free(in);
	A->archive_write_free(out);
	return ret;
}

static __attribute__((noreturn)) void child_main(int archive_fd, const char *dst, int report_fd)
{
	char msg[TAR_ERR_MAX] = "";
	if (chdir(dst) < 0) {
		snprintf(msg, sizeof(msg), "chdir %s", dst);
		pp_child_report_errno(report_fd, errno, msg);
	}
	if (extract_here(archive_fd, msg, sizeof(msg)) == 0)
		_exit(0);
	if (msg[0] == '\0')
		_exit(PP_CHILD_SETUP_FAILED); /* the parent says what it can */
	pp_child_report_errno(report_fd, 0, msg);
}

static int wait_child(pid_t pid, int report_fd, const char *archive, struct pp_error **err)
{
	int status;
	int rd = pp_child_report_read(report_fd, false, err);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return pp_error_set(err, errno, "waitpid");
	if (rd < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return pp_error_set(err, 0, "extracting %s failed (wait status %d)", archive, status);
}

int image_extract_tar(const char *archive, const char *dst, struct pp_error **err)
{
	if (pp_archive_api(&A, err) < 0)
		return -1;
	cleanup_close int fd = open(archive, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", archive);
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return pp_error_set(err, e, "fork");
	}
	if (pid == 0) {
		close(pipefd[0]);
		child_main(fd, dst, pipefd[1]);
	}
	close(pipefd[1]);
	int ret = wait_child(pid, pipefd[0], archive, err);
	close(pipefd[0]);
	return ret;
}
