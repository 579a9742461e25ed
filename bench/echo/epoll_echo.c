/**
 * Baseline echo server for the raw echo benchmark: one thread, level-triggered
 * epoll, non-blocking sockets, writes back what it reads. Replies that do not
 * fit in the socket buffer are kept per connection and the connection stops
 * reading until they are flushed (backpressure). It owns nothing else.
 * Usage: epoll_echo --port P [--cpu N]; prints "listening on 127.0.0.1:P".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 256

struct conn {
	int fd;
	size_t pending_off, pending_len; /* unsent reply bytes in buf */
	unsigned char buf[BUF_SIZE];
};

static int epfd;

static void conn_close(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static void watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Returns 0 when everything pending went out, 1 when the socket is full, -1 on error. */
static int flush_pending(struct conn *c)
{
	while (c->pending_off < c->pending_len) {
		ssize_t n = write(c->fd, c->buf + c->pending_off, c->pending_len - c->pending_off);
		if (n > 0) {
			c->pending_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		} else {
			return -1;
		}
	}
	c->pending_off = c->pending_len = 0;
	return 0;
}

static void on_readable(struct conn *c)
{
	ssize_t n = read(c->fd, c->buf, BUF_SIZE);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n < 0)
		return;
	c->pending_off = 0;
	c->pending_len = (size_t)n;
	int r = flush_pending(c);
	if (r < 0)
		conn_close(c);
	else if (r > 0)
		watch(c, EPOLLOUT); /* stop reading until the reply is out */
}

static void on_writable(struct conn *c)
{
	int r = flush_pending(c);
	if (r < 0)
		conn_close(c);
	else if (r == 0)
		watch(c, EPOLLIN);
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "epoll_echo: accept failed: %s\n", strerror(errno));
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->pending_off = c->pending_len = 0;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

int main(int argc, char **argv)
{
	int port = 0, cpu = -1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--cpu") == 0)
			cpu = atoi(argv[i + 1]);
	}
	if (port < 0 || port > 65535) {
		fprintf(stderr, "usage: epoll_echo --port P [--cpu N]  (P in 0..65535, 0 = any free port)\n");
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "epoll_echo: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 1024) < 0) {
		fprintf(stderr, "epoll_echo: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	socklen_t len = sizeof(addr);
	getsockname(lfd, (struct sockaddr *)&addr, &len);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
	printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
	fflush(stdout);

	struct epoll_event events[MAX_EVENTS];
	for (;;) {
		int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "epoll_echo: epoll_wait failed: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			if (!c)
				on_accept(lfd);
			else if (events[i].events & EPOLLOUT)
				on_writable(c);
			else
				on_readable(c);
		}
	}
}
