/* shmtool: IPC probe for tests across containers of one pod (static, runs in
 * a busybox rootfs). Exit status 0 on success, 1 with a message on failure,
 * 2 on bad usage.
 *   shmtool sysv-write KEY TEXT | sysv-read KEY | sysv-rm KEY
 *   shmtool sem-create KEY | sem-exists KEY | sem-rm KEY
 *   shmtool msg-send KEY TEXT | msg-recv KEY | msg-rm KEY
 *   shmtool posix-write NAME TEXT | posix-read NAME | posix-rm NAME
 * KEY is a number (decimal, 0x hex or 0 octal). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEG_SIZE 4096
#define MSG_MAX 4096
#define IPC_MODE 0666
#define SHM_DIR "/dev/shm/"

struct text_msg {
	long mtype;
	char text[MSG_MAX];
};

static int die(const char *what, const char *arg)
{
	fprintf(stderr, "shmtool: %s %s: %s\n", what, arg, strerror(errno));
	return 1;
}

static key_t parse_key(const char *s)
{
	char *end;
	errno = 0;
	long k = strtol(s, &end, 0);
	if (errno != 0 || *end != '\0' || end == s) {
		fprintf(stderr, "shmtool: bad key \"%s\"\n", s);
		exit(2);
	}
	return (key_t)k;
}

static int sysv_write(const char *key, const char *text)
{
	int id = shmget(parse_key(key), SEG_SIZE, IPC_CREAT | IPC_MODE);
	if (id < 0)
		return die("shmget", key);
	char *p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return die("shmat", key);
	snprintf(p, SEG_SIZE, "%s", text);
	shmdt(p);
	return 0;
}

static int sysv_read(const char *key)
{
	int id = shmget(parse_key(key), 0, 0);
	if (id < 0)
		return die("shmget", key);
	char *p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		return die("shmat", key);
	printf("%.*s\n", SEG_SIZE, p);
	shmdt(p);
	return 0;
}

static int sysv_rm(const char *key)
{
	int id = shmget(parse_key(key), 0, 0);
	if (id < 0 || shmctl(id, IPC_RMID, NULL) < 0)
		return die("shm remove", key);
	return 0;
}

static int sem_cmd(const char *cmd, const char *key)
{
	int create = strcmp(cmd, "sem-create") == 0;
	int id = semget(parse_key(key), 1, create ? IPC_CREAT | IPC_MODE : 0);
	if (id < 0)
		return die("semget", key);
	if (strcmp(cmd, "sem-rm") == 0 && semctl(id, 0, IPC_RMID) < 0)
		return die("semctl IPC_RMID", key);
	if (strcmp(cmd, "sem-exists") == 0)
		printf("exists\n");
	return 0;
}

static int msg_send(const char *key, const char *text)
{
	struct text_msg m = {.mtype = 1};
	int id = msgget(parse_key(key), IPC_CREAT | IPC_MODE);
	if (id < 0)
		return die("msgget", key);
	snprintf(m.text, sizeof(m.text), "%s", text);
	if (msgsnd(id, &m, strlen(m.text) + 1, IPC_NOWAIT) < 0)
		return die("msgsnd", key);
	return 0;
}

static int msg_recv(const char *key)
{
	struct text_msg m;
	int id = msgget(parse_key(key), 0);
	if (id < 0)
		return die("msgget", key);
	/* Never block a test: an empty queue is a failure. */
	if (msgrcv(id, &m, sizeof(m.text), 0, IPC_NOWAIT) < 0)
		return die("msgrcv", key);
	m.text[sizeof(m.text) - 1] = '\0';
	printf("%s\n", m.text);
	return 0;
}

static int msg_rm(const char *key)
{
	int id = msgget(parse_key(key), 0);
	if (id < 0 || msgctl(id, IPC_RMID, NULL) < 0)
		return die("msg remove", key);
	return 0;
}

/* POSIX shm is a file in the tmpfs at /dev/shm (what shm_open does); opened
 * directly so the static binary needs nothing from librt. */
static char *shm_path(const char *name)
{
	static char path[256];
	if (strchr(name, '/') != NULL ||
	    snprintf(path, sizeof(path), SHM_DIR "%s", name) >= (int)sizeof(path)) {
		fprintf(stderr, "shmtool: bad name \"%s\"\n", name);
		exit(2);
	}
	return path;
}

static int posix_write(const char *name, const char *text)
{
	int fd =
	    open(shm_path(name), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, IPC_MODE);
	if (fd < 0)
		return die("open", shm_path(name));
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return die("write", shm_path(name));
	}
	close(fd);
	return 0;
}

static int posix_read(const char *name)
{
	char buf[SEG_SIZE];
	int fd = open(shm_path(name), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return die("open", shm_path(name));
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return die("read", shm_path(name));
	printf("%.*s\n", (int)n, buf);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: shmtool sysv-write|sysv-read|sysv-rm|sem-create|sem-exists|sem-rm|"
			"msg-send|msg-recv|msg-rm|posix-write|posix-read|posix-rm ARG [TEXT]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[1], *arg = argv[2], *text = argc > 3 ? argv[3] : NULL;
	int with_text = strcmp(cmd, "sysv-write") == 0 || strcmp(cmd, "msg-send") == 0 ||
			strcmp(cmd, "posix-write") == 0;
	if (argc != (with_text ? 4 : 3))
		return usage();
	if (strcmp(cmd, "sysv-write") == 0)
		return sysv_write(arg, text);
	if (strcmp(cmd, "sysv-read") == 0)
		return sysv_read(arg);
	if (strcmp(cmd, "sysv-rm") == 0)
		return sysv_rm(arg);
	if (strcmp(cmd, "sem-create") == 0 || strcmp(cmd, "sem-exists") == 0 ||
	    strcmp(cmd, "sem-rm") == 0)
		return sem_cmd(cmd, arg);
	if (strcmp(cmd, "msg-send") == 0)
		return msg_send(arg, text);
	if (strcmp(cmd, "msg-recv") == 0)
		return msg_recv(arg);
	if (strcmp(cmd, "msg-rm") == 0)
		return msg_rm(arg);
	if (strcmp(cmd, "posix-write") == 0)
		return posix_write(arg, text);
	if (strcmp(cmd, "posix-read") == 0)
		return posix_read(arg);
	if (strcmp(cmd, "posix-rm") == 0)
		return unlink(shm_path(arg)) < 0 ? die("unlink", shm_path(arg)) : 0;
	return usage();
}
