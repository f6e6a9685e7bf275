/* The first step of `image load` from a tar file (archive.h): its members
 * extracted into a private directory, every name checked. Only what image
 * archives hold is taken: directories, regular files, symlinks (the older
 * docker-archive links a repeated layer to its first copy; they are
 * resolved inside the directory later, RESOLVE_IN_ROOT) and hardlinks. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/archive_api.h"
#include "image/image_internal.h"
#include "util/cleanup.h"
#include "util/settings.h"

#define EXTRACT_BLOCK_SIZE (64 * 1024)
#define EXTRACT_MAX_ENTRIES 100000
#define EXTRACT_DIR_MODE 0700
#define EXTRACT_FILE_MODE 0600

/* "./a//b/" -> "a/b"; "" for the root. False when unsafe. */
static bool normalize(const char *name, char *out, size_t size)
{
	size_t o = 0;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			/* "." component: dropped */
		} else if (n > 0) {
			if (o + n + 2 > size)
				return false;
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	return name[0] != '/' && (o == 0 || pp_archive_member_name_ok(out));
}

/* Opens (creating them) the directories leading to path's last component,
 * never through a symlink; *base gets that component. */
static int open_parent(int rootfd, char *path, const char **base, struct pp_error **err)
{
	int fd = dup(rootfd);
	char *p = path, *slash;
	while ((slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		if (mkdirat(fd, p, EXTRACT_DIR_MODE) < 0 && errno != EEXIST) {
			close(fd);
			return pp_error_set(err, errno, "mkdir %s", path);
		}
		int next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return pp_error_set(err, errno, "%s: not a directory of the archive", path);
		*slash = '/';
		fd = next;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

static int write_file(const struct pp_archive_api *A, struct archive *a, int fd,
		      struct pp_error **err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	while ((r = A->archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		if (pwrite(fd, buf, len, off) != (ssize_t)len)
			return pp_error_set(err, errno ? errno : EIO, "write");
	}
	if (r != ARCHIVE_EOF)
		return pp_error_set(err, EBADMSG, "%s", A->archive_error_string(a));
	return 0;
}

static int extract_entry(const struct pp_archive_api *A, struct archive *a, struct archive_entry *e,
			 int rootfd, char *path, struct pp_error **err)
{
	const char *base = NULL;
	cleanup_close int dfd = open_parent(rootfd, path, &base, err);
	if (dfd < 0)
		return -1;
	char target[PATH_MAX];
	const char *link = A->archive_entry_hardlink(e);
	if (link != NULL) {
		if (!normalize(link, target, sizeof(target)) || target[0] == '\0')
			return pp_error_set(err, EINVAL, "hardlink to \"%s\" leaves the archive",
					    link);
		/* the target's directories opened as the entry's: never through a
		 * symlink, so the link cannot reach a file outside */
		const char *tbase = NULL;
		cleanup_close int tfd = open_parent(rootfd, target, &tbase, err);
		if (tfd < 0)
			return -1;
		if (linkat(tfd, tbase, dfd, base, 0) < 0)
			return pp_error_set(err, errno, "hardlink to %s", link);
		return 0;
	}
	switch (A->archive_entry_filetype(e)) {
	case AE_IFDIR:
		if (mkdirat(dfd, base, EXTRACT_DIR_MODE) < 0 && errno != EEXIST)
			return pp_error_set(err, errno, "mkdir");
		return 0;
	case AE_IFLNK:
		if (symlinkat(A->archive_entry_symlink(e), dfd, base) < 0)
			return pp_error_set(err, errno, "symlink");
		return 0;
	case AE_IFREG:
		break;
	default:
		return pp_error_set(err, EINVAL, "not a file, directory or link");
	}
	cleanup_close int fd = openat(
	    dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, EXTRACT_FILE_MODE);
	if (fd < 0)
		return pp_error_set(err, errno,
				    errno == EEXIST ? "twice in the archive" : "create");
	return write_file(A, a, fd, err);
}

int image_archive_extract(int in_fd, const char *dst, struct pp_error **err)
{
	const struct pp_archive_api *A;
	if (pp_archive_api(&A, err) < 0)
		return -1;
	cleanup_close int rootfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return pp_error_set(err, errno, "open %s", dst);
	struct archive *a = A->archive_read_new();
	if (a == NULL)
		abort();
	A->archive_read_support_filter_all(a);
	A->archive_read_support_format_tar(a);
	A->archive_read_support_format_gnutar(a);
	int ret = 0;
	if (A->archive_read_open_fd(a, in_fd, EXTRACT_BLOCK_SIZE) != ARCHIVE_OK)
		ret =
		    pp_error_set(err, EBADMSG, "not an image archive (a tar, maybe compressed): %s",
				 A->archive_error_string(a));
	int64_t bytes = 0, entries = 0;
	struct archive_entry *e;
	int r;
	while (ret == 0 && (r = A->archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		char path[PATH_MAX];
		const char *name =
		    r == ARCHIVE_OK || r == ARCHIVE_WARN ? A->archive_entry_pathname(e) : NULL;
		if (name == NULL) {
			ret = pp_error_set(err, EBADMSG,
					   "not an image archive (a tar, maybe compressed): %s",
					   A->archive_error_string(a));
			break;
		}
		bytes += A->archive_entry_size(e) > 0 ? A->archive_entry_size(e) : 0;
		if (++entries > EXTRACT_MAX_ENTRIES || bytes > pp_settings()->image_max_bytes)
			ret = pp_error_set(err, EFBIG, "entry \"%s\": more than the archive bound",
					   name);
		else if (!normalize(name, path, sizeof(path)))
			ret = pp_error_set(err, EINVAL, "entry \"%s\": a path outside the archive",
					   name);
		else if (path[0] != '\0' && extract_entry(A, a, e, rootfd, path, err) < 0)
			ret = pp_error_wrap(err, "entry \"%s\"", name);
	}
	A->archive_read_free(a);
	return ret;
}
