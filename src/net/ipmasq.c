/* The bridge plugin's masquerade chain of a pod: naming, adding (fast path),
 * removing what the plugin left. */
#include "net/ipmasq.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/sha512.h"

#define CHAIN_PREFIX "CNI-"
#define MAX_TOOL_OUTPUT (64 * 1024 * 1024)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define REMOVE_TRIES 3

void pp_ipmasq_chain(const char *network, const char *container_id,
		     char chain[PP_IPMASQ_CHAIN_LEN + 1])
{
	cleanup_free char *s = xasprintf("%s%s", network, container_id);
	uint8_t sum[PP_SHA512_LEN];
	pp_sha512(s, strlen(s), sum);
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(CHAIN_PREFIX);
	memcpy(chain, CHAIN_PREFIX, n);
	for (size_t i = 0; n < PP_IPMASQ_CHAIN_LEN; i++) {
		chain[n++] = hex[sum[i / 2] >> (i % 2 ? 0 : 4) & 0xf];
	}
	chain[n] = '\0';
}

/* Go's %q for the printable ASCII our names are made of: quotes and
 * backslashes escaped. */
static void go_quote(char **out, size_t *len, const char *s)
{
	FILE *f = open_memstream(out, len);
	if (f == NULL)
		abort();
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
	fclose(f);
}

char *pp_ipmasq_comment(const char *network, const char *container_id)
{
	cleanup_free char *n = NULL;
	cleanup_free char *i = NULL;
	size_t l = 0;
	go_quote(&n, &l, network);
	go_quote(&i, &l, container_id);
	return xasprintf("name: %s id: %s", n, i);
}

bool pp_ipmasq_wanted(struct json_object *conflist)
{
	struct json_object *plugins = NULL, *v = NULL;
	if (!json_object_object_get_ex(conflist, "plugins", &plugins) ||
	    !json_object_is_type(plugins, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(plugins); i++) {
		struct json_object *p = json_object_array_get_idx(plugins, i);
		if (json_object_object_get_ex(p, "type", &v) &&
		    strcmp(json_object_get_string(v), "bridge") == 0 &&
		    json_object_object_get_ex(p, "ipMasq", &v) && json_object_get_boolean(v))
			return true;
	}
	return false;
}

/* Runs argv[0] (found in PATH) with input on stdin; *output (may be NULL)
 * gets its stdout. */
static int run_tool(char *const argv[], const char *input, char **output, struct pp_error **err)
{
	cleanup_close int in = memfd_create("iptables-in", MFD_CLOEXEC);
	cleanup_close int out = memfd_create("iptables-out", MFD_CLOEXEC);
	cleanup_close int errfd = memfd_create("iptables-err", MFD_CLOEXEC);
	if (in < 0 || out < 0 || errfd < 0)
		return pp_error_set(err, errno, "memfd_create");
	size_t len = input ? strlen(input) : 0;
	if (len > 0 && write(in, input, len) != (ssize_t)len)
		return pp_error_set(err, errno, "write %s input", argv[0]);
	lseek(in, 0, SEEK_SET);
	const char *path = getenv("PATH");
	pid_t pid = fork();
	if (pid < 0)
		return pp_error_set(err, errno, "fork for %s", argv[0]);
	if (pid == 0) {
		pp_reset_signals();
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
			_exit(127);
		pp_close_fds_except(-1);
		if (path == NULL || *path == '\0')
			setenv("PATH", DEFAULT_PATH, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cleanup_free char *etext = NULL;
		lseek(errfd, 0, SEEK_SET);
		if (pp_read_fd(errfd, MAX_TOOL_OUTPUT, &etext, NULL, NULL) < 0)
			etext = xstrdup("");
		size_t n = strcspn(etext, "\n");
		return pp_error_set(err, EIO, "%s: exit status %d%s%.*s", argv[0],
				    WIFEXITED(status) ? WEXITSTATUS(status)
						      : 128 + WTERMSIG(status),
				    n ? ": " : "", (int)n, etext);
	}
	if (output != NULL) {
		lseek(out, 0, SEEK_SET);
		if (pp_read_fd(out, MAX_TOOL_OUTPUT, output, NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* The restore input for one address: add (the chain, its rules, the jump)
 * or delete (the jump, the chain). */
static char *rules_for(const char *network, const char *container_id, const char *address, bool add)
{
	char chain[PP_IPMASQ_CHAIN_LEN + 1];
	pp_ipmasq_chain(network, container_id, chain);
	cleanup_free char *comment = pp_ipmasq_comment(network, container_id);
	bool v6 = strchr(address, ':') != NULL;
	int iplen = (int)strcspn(address, "/");
	/* iptables-restore's quoting is iptables-save's: \" inside "...". */
	cleanup_free char *c = NULL;
	size_t l = 0;
	go_quote(&c, &l, comment);
	if (!add)
		return xasprintf("*nat\n"
				 "-D POSTROUTING -s %.*s -j %s -m comment --comment %s\n"
				 "-F %s\n"
				 "-X %s\n"
				 "COMMIT\n",
				 iplen, address, chain, c, chain, chain);
	return xasprintf("*nat\n"
			 ":%s - [0:0]\n"
			 "-A %s -d %s -j ACCEPT -m comment --comment %s\n"
			 "-A %s ! -d %s -j MASQUERADE -m comment --comment %s\n"
			 "-A POSTROUTING -s %.*s -j %s -m comment --comment %s\n"
			 "COMMIT\n",
			 chain, chain, address, c, chain, v6 ? "ff00::/8" : "224.0.0.0/4", c, iplen,
			 address, chain, c);
}

static int restore(bool v6, const char *rules, struct pp_error **err)
{
	char *argv[] = {v6 ? "ip6tables-restore" : "iptables-restore", "-w", "--noflush", NULL};
	return run_tool(argv, rules, NULL, err);
}

int pp_ipmasq_add(const char *network, const char *container_id, const char *address,
		  struct pp_error **err)
{
	cleanup_free char *rules = rules_for(network, container_id, address, true);
	if (restore(strchr(address, ':') != NULL, rules, err) < 0)
		return pp_error_wrap(err, "masquerade for %s", address);
	return 0;
}

/* Whether line has the token tok (space-separated, or at the end). */
static bool has_token(const char *line, size_t len, const char *tok)
{
	size_t n = strlen(tok);
	for (const char *p = line; p + n <= line + len; p++) {
		p = memmem(p, (size_t)(line + len - p), tok, n);
		if (p == NULL)
			return false;
		if (p + n == line + len || p[n] == ' ')
			return true;
	}
	return false;
}

/* One pass over `iptables-save -t nat`: 1 when something was removed or
 * nothing was there, 0 when the removal raced another change (try again). */
static int remove_family(const char *chain, bool v6, struct pp_error **err)
{
	char *save[] = {v6 ? "ip6tables-save" : "iptables-save", "-t", "nat", NULL};
	cleanup_free char *text = NULL;
	if (run_tool(save, NULL, &text, err) < 0)
		return -1;
	cleanup_free char *decl = xasprintf(":%s ", chain);
	cleanup_free char *jump = xasprintf("-j %s", chain);
	char *cmds = NULL;
	size_t clen = 0;
	FILE *f = open_memstream(&cmds, &clen);
	if (f == NULL)
		abort();
	bool found = false, declared = false;
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		if (strncmp(line, decl, strlen(decl)) == 0)
			declared = found = true;
		else if (strncmp(line, "-A POSTROUTING ", strlen("-A POSTROUTING ")) == 0 &&
			 has_token(line, n, jump)) {
			fprintf(f, "-D%.*s\n", (int)(n - 2), line + 2);
			found = true;
		}
		line += n + (line[n] == '\n');
	}
	if (declared)
		fprintf(f, "-F %s\n-X %s\n", chain, chain);
	fclose(f);
	cleanup_free char *input = xasprintf("*nat\n%sCOMMIT\n", cmds);
	free(cmds);
	if (!found)
		return 1;
	cleanup_error struct pp_error *e = NULL;
	return restore(v6, input, &e) < 0 ? 0 : 1;
}

int pp_ipmasq_remove(const char *network, const char *container_id, bool v6, struct pp_error **err)
{
	char chain[PP_IPMASQ_CHAIN_LEN + 1];
	pp_ipmasq_chain(network, container_id, chain);
	for (int fam = 0; fam < (v6 ? 2 : 1); fam++) {
		int r = 0;
		for (int t = 0; t < REMOVE_TRIES && r == 0; t++)
			if ((r = remove_family(chain, fam == 1, err)) < 0)
				return pp_error_wrap(err, "remove chain %s", chain);
		if (r == 0)
			return pp_error_set(err, EAGAIN,
					    "remove chain %s: the nat table kept changing", chain);
	}
	return 0;
}

int pp_ipmasq_del(const char *network, const char *container_id, const char *address,
		  struct pp_error **err)
{
	cleanup_free char *rules = rules_for(network, container_id, address, false);
	cleanup_error struct pp_error *e = NULL;
	bool v6 = strchr(address, ':') != NULL;
	if (restore(v6, rules, &e) == 0)
		return 0;
	return pp_ipmasq_remove(network, container_id, v6, err);
}
