/**
 * Idle-connection holder for the memory-per-connection measurement: opens N
 * TCP connections to one server (non-blocking connects, at most --batch in
 * flight at once), completes the docs/PROTOCOL.md HELLO exchange on each
 * (sends the client HELLO, waits for the server's HELLO frame), then holds
 * them all open and idle. Prints one JSON line once every connection is
 * either ready or failed, then keeps holding until stdin reaches EOF or it
 * gets SIGTERM/SIGINT, and prints a second JSON line with how many
 * connections the server dropped while held. It owns no measuring of the
 * server: the runner reads the server's RSS while this holds the connections.
 *   idle_holder --port P [--host 127.0.0.1] [--conns 10000] [--batch 256] [--timeout 60]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* docs/PROTOCOL.md section 2: [1, 0, 1, 4194304, 1000, 64, 8192]. */
static const uint8_t client_hello[] = { 0x00, 0x00, 0x00, 0x10, 0x97, 0x01, 0x00, 0x01, 0xce, 0x00,
					0x40, 0x00, 0x00, 0xcd, 0x03, 0xe8, 0x40, 0xcd, 0x20, 0x00 };

#define HELLO_BUF 64u
#define MAX_EVENTS 512
#define STDIN_TAG UINT32_MAX

enum state { S_UNUSED, S_CONNECTING, S_AWAIT_HELLO, S_READY, S_FAILED, S_DROPPED };

struct conn {
	int fd;
	enum state state;
	uint8_t in_len;
	uint8_t in[HELLO_BUF];
};

static struct conn *conns;
static uint32_t n_conns = 10000, batch = 256;
static double timeout_s = 60;
static const char *host = "127.0.0.1";
static int port;
static int epfd;
static uint32_t ready, failed, dropped, pending;
static char first_error[256];
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_error(const char *fmt, ...)
{
	if (first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(first_error, sizeof(first_error), fmt, ap);
	va_end(ap);
}

static void conn_fail(struct conn *c, const char *why, int err)
{
	if (err)
		note_error("%s: %s", why, strerror(err));
	else
		note_error("%s", why);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->state == S_READY) {
		ready--;
		dropped++;
		c->state = S_DROPPED;
		return;
	}
	pending--;
	failed++;
	c->state = S_FAILED;
}

static int conn_open(uint32_t i, const struct sockaddr_in *addr)
{
	struct conn *c = &conns[i];
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		note_error("socket: %s (ulimit -n is %ld)", strerror(errno), (long)sysconf(_SC_OPEN_MAX));
		c->state = S_FAILED;
		failed++;
		return -1;
	}
	c->state = S_CONNECTING;
	pending++;
	if (connect(c->fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 && errno != EINPROGRESS) {
		conn_fail(c, "connect", errno);
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = i };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_fail(c, "epoll_ctl", errno);
		return -1;
	}
	return 0;
}

static void on_connected(struct conn *c, uint32_t i)
{
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		conn_fail(c, "connect", err);
		return;
	}
	/* 20 bytes into an empty socket buffer: one write takes it all. */
	ssize_t n = write(c->fd, client_hello, sizeof(client_hello));
	if (n != (ssize_t)sizeof(client_hello)) {
		conn_fail(c, "write HELLO", n < 0 ? errno : EAGAIN);
		return;
	}
	c->state = S_AWAIT_HELLO;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = i };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		conn_fail(c, "epoll_ctl", errno);
}

/* The server's first frame must be HELLO: a msgpack array whose first element is 1. */
static void on_readable(struct conn *c)
{
	for (;;) {
		uint8_t scratch[512];
		uint8_t *dst = c->state == S_AWAIT_HELLO ? c->in + c->in_len : scratch;
		size_t room = c->state == S_AWAIT_HELLO ? HELLO_BUF - c->in_len : sizeof(scratch);
		if (room == 0) {
			dst = scratch;
			room = sizeof(scratch);
		}
		ssize_t n = read(c->fd, dst, room);
		if (n == 0) {
			conn_fail(c, c->state == S_READY ? "server closed a held connection" : "server closed before its HELLO", 0);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_fail(c, "read", errno);
			return;
		}
		if (c->state != S_AWAIT_HELLO || dst == scratch)
			continue;
		c->in_len = (uint8_t)(c->in_len + n);
		if (c->in_len < 6)
			continue;
		uint32_t body = (uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 | (uint32_t)c->in[2] << 8 | c->in[3];
		int is_array = (c->in[4] & 0xf0) == 0x90 || c->in[4] == 0xdc;
		int type_at = c->in[4] == 0xdc ? 7 : 5;
		if (c->in_len <= type_at)
			continue;
		if (body == 0 || !is_array || c->in[type_at] != 0x01) {
			char why[96];
			snprintf(why, sizeof(why), "server's first frame is not HELLO (length %u, bytes %02x %02x)", body, c->in[4],
				 c->in[type_at]);
			conn_fail(c, why, 0);
			return;
		}
		c->state = S_READY;
		pending--;
		ready++;
	}
}

static int parse(int argc, char **argv)
{
	static const struct option longs[] = { { "host", required_argument, 0, 'h' },  { "port", required_argument, 0, 'p' },
					       { "conns", required_argument, 0, 'c' }, { "batch", required_argument, 0, 'b' },
					       { "timeout", required_argument, 0, 't' }, { 0, 0, 0, 0 } };
	int ch;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': n_conns = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'b': batch = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 't': timeout_s = atof(optarg); break;
		default: return -1;
		}
	}
	if (port <= 0 || port > 65535 || n_conns == 0 || batch == 0 || timeout_s <= 0) {
		fprintf(stderr, "idle_holder: --port 1..65535 is required; --conns, --batch and --timeout must be > 0\n");
		return -1;
	}
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void print_json_error(void)
{
	putchar('"');
	for (const char *s = first_error; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	if (parse(argc, argv) < 0) {
		fprintf(stderr, "usage: idle_holder --port P [--host 127.0.0.1] [--conns 10000] [--batch 256] [--timeout 60]\n");
		return 2;
	}
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "idle_holder: --host must be an IPv4 address, got '%s'\n", host);
		return 2;
	}
	conns = calloc(n_conns, sizeof(*conns));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || epfd < 0) {
		perror("idle_holder: setup");
		return 1;
	}
	struct epoll_event sev = { .events = EPOLLIN, .data.u32 = STDIN_TAG };
	int watch_stdin = epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &sev) == 0;

	double start = now_s(), deadline = start + timeout_s;
	uint32_t next = 0;
	struct epoll_event events[MAX_EVENTS];
	int reported = 0, stdin_closed = 0;
	while (!stop_requested && !stdin_closed) {
		while (!reported && next < n_conns && pending < batch)
			conn_open(next++, &addr);
		if (!reported && next == n_conns && pending == 0) {
			printf("{\"tool\":\"idle_holder\",\"requested\":%u,\"ready\":%u,\"failed\":%u,\"elapsed_ms\":%.0f,\"error\":", n_conns,
			       ready, failed, (now_s() - start) * 1000);
			if (first_error[0])
				print_json_error();
			else
				fputs("null", stdout);
			puts("}");
			fflush(stdout);
			reported = 1;
		}
		if (!reported && now_s() > deadline) {
			for (uint32_t i = 0; i < next; i++)
				if (conns[i].state == S_CONNECTING || conns[i].state == S_AWAIT_HELLO)
					conn_fail(&conns[i], "timed out waiting for connect or the server's HELLO", 0);
			for (; next < n_conns; next++) {
				conns[next].state = S_FAILED;
				failed++;
			}
			continue;
		}
		int n = epoll_wait(epfd, events, MAX_EVENTS, reported ? 1000 : 100);
		for (int k = 0; k < n; k++) {
			uint32_t i = events[k].data.u32;
			if (i == STDIN_TAG) {
				char b[64];
				if (read(STDIN_FILENO, b, sizeof(b)) <= 0)
					stdin_closed = 1;
				continue;
			}
			struct conn *c = &conns[i];
			if (c->state == S_CONNECTING)
				on_connected(c, i);
			else if (c->state == S_AWAIT_HELLO || c->state == S_READY)
				on_readable(c);
		}
		(void)watch_stdin;
	}
	printf("{\"tool\":\"idle_holder\",\"held\":%u,\"dropped\":%u}\n", ready, dropped);
	fflush(stdout);
	return 0;
}
