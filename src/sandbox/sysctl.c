/* Writing a pod's sysctls in its namespaces. */
#include "sandbox/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/netns.h"

#define SYSCTL_PATH_MAX 256

bool pp_sysctl_is_net(const char *name)
{
	return strncmp(name, "net.", 4) == 0 || strncmp(name, "net/", 4) == 0;
}

int pp_sysctl_write(const struct pp_kv *kv)
{
	char path[SYSCTL_PATH_MAX];
	bool slashes = strchr(kv->key, '/') != NULL;
	int n = snprintf(path, sizeof(path), "/proc/sys/%s", kv->key);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + strlen("/proc/sys/"); *p != '\0'; p++)
		if (*p == '.' && !slashes)
			*p = '/';
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, kv->value, strlen(kv->value));
	int saved = errno;
	close(fd);
	if (w == (ssize_t)strlen(kv->value))
		return 0;
	errno = w < 0 ? saved : EIO;
	return -1;
}

int pp_sysctl_write_net(int pidfd, const struct pp_kv *kvs, size_t n, struct pp_error **err)
{
	size_t i = 0;
	while (i < n && !pp_sysctl_is_net(kvs[i].key))
		i++;
	if (i == n)
		return 0;
	cleanup_netns_visit struct pp_netns_visit visit = PP_NETNS_VISIT_INIT;
	if (pp_netns_enter(&visit, pidfd, err) < 0)
		return -1;
	/* /proc/sys/net shows the namespace of the process that opens it. */
	for (; i < n; i++)
		if (pp_sysctl_is_net(kvs[i].key) && pp_sysctl_write(&kvs[i]) < 0)
			return pp_error_set(err, errno, "sysctl %s=%s", kvs[i].key, kvs[i].value);
	return 0;
}
