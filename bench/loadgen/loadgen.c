/**
 * Native load generator for the echo and RPC benchmarks: one thread,
 * optionally pinned to one CPU, epoll over non-blocking TCP connections.
 * Closed loop by default (each connection keeps --depth requests in flight);
 * with --rate it sends on a fixed schedule and measures latency from the
 * intended send time, so a stalled server cannot hide its stall (no
 * coordinated omission). Prints one JSON line with throughput, latency
 * percentiles, its own CPU use and errors. It owns sockets, timing and
 * statistics; the bytes on the wire belong to protocol_<mode>.c.
 */
#define _GNU_SOURCE
#include "histogram.h"
#include "protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF 65536u
#define MAX_DONE 4096u
#define MAX_EVENTS 256

struct options {
	const char *host;
	int port;
	uint32_t conns;
	uint32_t size;
	uint32_t depth;
	double duration_s;
	double warmup_s;
	double rate; /* total requests/s over all connections; 0 = closed loop */
	int cpu;     /* -1 = not pinned */
	const char *mode;
	const char *method; /* rpc mode: echo|text|add|order */
};

struct conn {
	int fd;
	int dead;
	int want_write;
	uint32_t index;
	void *proto;
	uint64_t next_seq;   /* next request number to issue */
	uint32_t inflight;
	uint64_t next_due;   /* rate mode: intended send time of next_seq */
	uint64_t *sent_ns;   /* send (or intended) time by seq & slot_mask */
	uint64_t slot_mask;
	uint8_t *out;
	size_t out_cap, out_len, out_off;
	uint8_t *in;
	size_t in_len;
};

enum phase { PHASE_WARMUP, PHASE_MEASURE };

static struct options opt = {
	.host = "127.0.0.1", .port = 0, .conns = 16, .size = 64, .depth = 1,
	.duration_s = 5, .warmup_s = 1, .rate = 0, .cpu = -1, .mode = "echo", .method = "echo",
};
static const struct protocol *proto;
static struct conn *conns;
static int epfd;
static enum phase phase = PHASE_WARMUP;
static struct histogram hist;
static uint64_t measured_requests;
static uint64_t errors;
static char first_error[512];
static uint32_t live_conns;
static uint64_t interval_ns; /* rate mode, per connection */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void record_error(const char *fmt, ...)
{
	errors++;
	if (first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(first_error, sizeof(first_error), fmt, ap);
	va_end(ap);
}

static void conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	live_conns--;
}

static void set_want_write(struct conn *c, int want)
{
	if (c->want_write == want)
		return;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = c->index };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_write = want;
}

static void conn_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_want_write(c, 1);
			return;
		}
		record_error("connection %u: write failed: %s", c->index, strerror(errno));
		conn_kill(c);
		return;
	}
	c->out_off = c->out_len = 0;
	set_want_write(c, 0);
}

/* Queue one request with the given start time; 0 when the output buffer is full. */
static int conn_issue(struct conn *c, uint64_t start_ns)
{
	size_t n = proto->encode(c->proto, c->next_seq, c->out + c->out_len, c->out_cap - c->out_len);
	if (n == 0) {
		if (c->out_off > 0 && c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		n = proto->encode(c->proto, c->next_seq, c->out + c->out_len, c->out_cap - c->out_len);
		if (n == 0)
			return 0;
	}
	c->out_len += n;
	c->sent_ns[c->next_seq & c->slot_mask] = start_ns;
	c->next_seq++;
	c->inflight++;
	return 1;
}

static void conn_issue_due(struct conn *c, uint64_t now)
{
	while (!c->dead && c->inflight < opt.depth && c->next_due <= now) {
		if (!conn_issue(c, c->next_due))
			break;
		c->next_due += interval_ns;
	}
}

static void conn_complete(struct conn *c, const uint64_t *done, uint32_t ndone, uint64_t now)
{
	for (uint32_t i = 0; i < ndone; i++) {
		uint64_t seq = done[i];
		if (seq >= c->next_seq) {
			record_error("connection %u: reply for request %llu that was never sent", c->index,
				     (unsigned long long)seq);
			conn_kill(c);
			return;
		}
		c->inflight--;
		if (phase == PHASE_MEASURE) {
			uint64_t sent = c->sent_ns[seq & c->slot_mask];
			histogram_record(&hist, now > sent ? now - sent : 0);
			measured_requests++;
		}
	}
	if (opt.rate == 0) {
		for (uint32_t i = 0; i < ndone && c->inflight < opt.depth; i++)
			if (!conn_issue(c, now))
				break;
	} else {
		conn_issue_due(c, now);
	}
}

static void conn_readable(struct conn *c)
{
	ssize_t n = read(c->fd, c->in + c->in_len, READ_BUF);
	if (n == 0) {
		record_error("connection %u: server closed the connection with %u requests in flight", c->index,
			     c->inflight);
		conn_kill(c);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		record_error("connection %u: read failed: %s", c->index, strerror(errno));
		conn_kill(c);
		return;
	}
	uint64_t now = now_ns();
	c->in_len += (size_t)n;
	size_t pos = 0;
	static uint64_t done[MAX_DONE];
	while (pos < c->in_len) {
		uint32_t ndone = 0;
		char err[256] = "";
		long used = proto->decode(c->proto, c->in + pos, c->in_len - pos, done, MAX_DONE, &ndone, err,
					  sizeof(err));
		if (used < 0) {
			record_error("connection %u: %s", c->index, err);
			conn_kill(c);
			return;
		}
		pos += (size_t)used;
		conn_complete(c, done, ndone, now);
		if (c->dead)
			return;
		if (used == 0 && ndone == 0)
			break; /* partial frame: keep it for the next read */
	}
	if (pos > 0) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
	if (c->in_len > PROTOCOL_MAX_REPLY_FRAME) {
		record_error("connection %u: a reply frame is larger than %u bytes", c->index, PROTOCOL_MAX_REPLY_FRAME);
		conn_kill(c);
		return;
	}
	conn_flush(c);
}

/*
 * The protocol's preface (rpc: HELLO both ways), done blocking before the
 * clock starts; bytes after the server's preface stay in c->in.
 */
static int conn_handshake(struct conn *c)
{
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t n = proto->hello(c->proto, c->out, c->out_cap);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(c->fd, c->out + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			record_error("connection %u: sending the preface failed: %s", c->index, strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	for (;;) {
		char err[256] = "";
		long used = proto->hello_reply(c->proto, c->in, c->in_len, err, sizeof(err));
		if (used < 0) {
			record_error("connection %u: %s", c->index, err);
			return -1;
		}
		if (used > 0) {
			memmove(c->in, c->in + used, c->in_len - (size_t)used);
			c->in_len -= (size_t)used;
			break;
		}
		if (c->in_len >= READ_BUF) {
			record_error("connection %u: the server's preface is over %u bytes", c->index, READ_BUF);
			return -1;
		}
		ssize_t r = read(c->fd, c->in + c->in_len, READ_BUF - c->in_len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			record_error("connection %u: no preface from the server (%s)", c->index,
				     r == 0 ? "it closed the connection" : errno == EAGAIN ? "timed out after 5 s" : strerror(errno));
			return -1;
		}
		c->in_len += (size_t)r;
	}
	tv.tv_sec = 0;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

static int conn_open(struct conn *c, uint32_t index, const struct sockaddr_in *addr)
{
	memset(c, 0, sizeof(*c));
	c->index = index;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		record_error("socket failed: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		record_error("connect to %s:%d failed: %s (is the server listening?)", opt.host, opt.port,
			     strerror(errno));
		close(c->fd);
		return -1;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	struct protocol_options po = { .payload_size = opt.size, .depth = opt.depth, .method = opt.method };
	c->proto = proto->conn_new(&po, index);
	uint64_t slots = protocol_slots(opt.depth);
	c->slot_mask = slots - 1;
	c->sent_ns = calloc(slots, sizeof(uint64_t));
	c->out_cap = (size_t)opt.depth * (opt.size + 256u);
	if (c->out_cap < READ_BUF)
		c->out_cap = READ_BUF;
	c->out = malloc(c->out_cap);
	c->in = malloc(PROTOCOL_MAX_REPLY_FRAME + READ_BUF);
	if (!c->proto || !c->sent_ns || !c->out || !c->in) {
		record_error("out of memory setting up connection %u", index);
		return -1;
	}
	if (proto->hello && conn_handshake(c) < 0)
		return -1;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = index };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		record_error("epoll_ctl failed: %s", strerror(errno));
		return -1;
	}
	live_conns++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loadgen --port P [--host 127.0.0.1] [--conns 16] [--size 64] [--depth 1]\n"
		"               [--duration 5] [--warmup 1] [--rate R] [--cpu N] [--mode echo|rpc]\n"
		"               [--method echo|text|add|order]\n"
		"  --mode   echo: raw bytes echoed back; rpc: docs/PROTOCOL.md calls to bench.v1.Bench\n"
		"  --method rpc mode: which unary method (--size = payload bytes for echo and text)\n"
		"  --depth  requests kept in flight per connection (closed loop) or the cap on them (--rate)\n"
		"  --rate   total requests/s on a fixed schedule; latency counts from the intended send time\n"
		"  --cpu    pin the generator to this CPU with sched_setaffinity\n");
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, 0, 'h' },	   { "port", required_argument, 0, 'p' },
		{ "conns", required_argument, 0, 'c' },	   { "size", required_argument, 0, 's' },
		{ "depth", required_argument, 0, 'd' },	   { "duration", required_argument, 0, 't' },
		{ "warmup", required_argument, 0, 'w' },   { "rate", required_argument, 0, 'r' },
		{ "cpu", required_argument, 0, 'C' },	   { "mode", required_argument, 0, 'm' },
		{ "method", required_argument, 0, 'M' }, { "help", no_argument, 0, 'H' },
		{ 0, 0, 0, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'c': opt.conns = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': opt.size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'd': opt.depth = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 't': opt.duration_s = atof(optarg); break;
		case 'w': opt.warmup_s = atof(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'C': opt.cpu = atoi(optarg); break;
		case 'm': opt.mode = optarg; break;
		case 'M': opt.method = optarg; break;
		case 'H': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (opt.port <= 0 || opt.port > 65535) {
		fprintf(stderr, "loadgen: --port must be 1..65535\n");
		return -1;
	}
	if (opt.conns == 0 || opt.conns > 10000 || opt.depth == 0 || opt.depth > MAX_DONE) {
		fprintf(stderr, "loadgen: --conns must be 1..10000 and --depth 1..%u\n", MAX_DONE);
		return -1;
	}
	if (opt.size == 0 || opt.size > 65536) {
		fprintf(stderr, "loadgen: --size must be 1..65536 bytes\n");
		return -1;
	}
	if (opt.duration_s <= 0 || opt.warmup_s < 0 || opt.rate < 0) {
		fprintf(stderr, "loadgen: --duration must be > 0, --warmup and --rate >= 0\n");
		return -1;
	}
	if (strcmp(opt.mode, "echo") == 0) {
		proto = &protocol_echo;
	} else if (strcmp(opt.mode, "rpc") == 0) {
		proto = &protocol_rpc;
		if (strcmp(opt.method, "echo") && strcmp(opt.method, "text") && strcmp(opt.method, "add") &&
		    strcmp(opt.method, "order")) {
			fprintf(stderr, "loadgen: unknown --method '%s' (supported: echo, text, add, order)\n", opt.method);
			return -1;
		}
		if (opt.size > 65000) {
			fprintf(stderr, "loadgen: --size must be at most 65000 bytes in rpc mode (replies must fit %u bytes)\n",
				PROTOCOL_MAX_REPLY_FRAME);
			return -1;
		}
	} else {
		fprintf(stderr, "loadgen: unknown --mode '%s' (supported: echo, rpc)\n", opt.mode);
		return -1;
	}
	return 0;
}

static void report(double elapsed_s, double cpu_pct)
{
	FILE *f = stdout;
	double us = 1e-3;
	fprintf(f, "{\"tool\":\"loadgen\",\"mode\":\"%s\",", opt.mode);
	if (proto == &protocol_rpc)
		fprintf(f, "\"method\":\"%s\",", opt.method);
	fputs("\"host\":", f);
	json_string(f, opt.host);
	fprintf(f, ",\"port\":%d,\"conns\":%u,\"size\":%u,\"depth\":%u,\"rate\":%.0f,\"cpu\":%d", opt.port,
		opt.conns, opt.size, opt.depth, opt.rate, opt.cpu);
	fprintf(f, ",\"duration_s\":%.3f,\"warmup_s\":%.3f,\"elapsed_s\":%.3f", opt.duration_s, opt.warmup_s,
		elapsed_s);
	fprintf(f, ",\"requests\":%llu,\"rps\":%.1f", (unsigned long long)measured_requests,
		elapsed_s > 0 ? (double)measured_requests / elapsed_s : 0.0);
	fprintf(f,
		",\"latency_us\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f,\"mean\":%.2f}",
		(double)histogram_quantile(&hist, 0.50) * us, (double)histogram_quantile(&hist, 0.90) * us,
		(double)histogram_quantile(&hist, 0.99) * us, (double)histogram_quantile(&hist, 0.999) * us,
		(double)hist.max_ns * us, hist.count ? (double)hist.sum_ns / (double)hist.count * us : 0.0);
	fprintf(f, ",\"loadgen_cpu_pct\":%.1f,\"errors\":%llu,\"error\":", cpu_pct, (unsigned long long)errors);
	if (first_error[0])
		json_string(f, first_error);
	else
		fputs("null", f);
	fputs("}\n", f);
	fflush(f);
}

int main(int argc, char **argv)
{
	if (parse_options(argc, argv) < 0)
		return 2;
	if (opt.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "loadgen: cannot pin to CPU %d: %s\n", opt.cpu, strerror(errno));
			return 2;
		}
	}
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) {
		fprintf(stderr, "loadgen: --host must be an IPv4 address, got '%s'\n", opt.host);
		return 2;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	conns = calloc(opt.conns, sizeof(*conns));
	if (epfd < 0 || !conns) {
		fprintf(stderr, "loadgen: setup failed: %s\n", strerror(errno));
		return 2;
	}
	for (uint32_t i = 0; i < opt.conns; i++) {
		if (conn_open(&conns[i], i, &addr) < 0) {
			report(0, 0);
			return 1;
		}
	}

	uint64_t start = now_ns();
	uint64_t measure_start = start + (uint64_t)(opt.warmup_s * 1e9);
	uint64_t measure_end = measure_start + (uint64_t)(opt.duration_s * 1e9);
	uint64_t cpu_start = cpu_ns();
	if (opt.rate > 0) {
		interval_ns = (uint64_t)(1e9 * opt.conns / opt.rate);
		if (interval_ns == 0)
			interval_ns = 1;
		/* spread the connections' schedules over one interval */
		for (uint32_t i = 0; i < opt.conns; i++)
			conns[i].next_due = start + interval_ns * i / opt.conns;
	} else {
		for (uint32_t i = 0; i < opt.conns; i++) {
			for (uint32_t d = 0; d < opt.depth; d++)
				conn_issue(&conns[i], start);
			conn_flush(&conns[i]);
		}
	}
	if (measure_start == start) {
		phase = PHASE_MEASURE;
	}

	struct epoll_event events[MAX_EVENTS];
	uint64_t now = start;
	for (;;) {
		now = now_ns();
		if (phase == PHASE_WARMUP && now >= measure_start) {
			phase = PHASE_MEASURE;
			histogram_reset(&hist);
			measured_requests = 0;
			cpu_start = cpu_ns();
			measure_start = now;
		}
		if (now >= measure_end || live_conns == 0)
			break;
		uint64_t wake = phase == PHASE_WARMUP ? measure_start : measure_end;
		if (opt.rate > 0) {
			for (uint32_t i = 0; i < opt.conns; i++) {
				struct conn *c = &conns[i];
				if (c->dead)
					continue;
				conn_issue_due(c, now);
				if (c->out_len > c->out_off)
					conn_flush(c);
				if (!c->dead && c->inflight < opt.depth && c->next_due < wake)
					wake = c->next_due;
			}
		}
		uint64_t wait = wake > now ? wake - now : 0;
		struct timespec ts = { .tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull) };
		int n = epoll_pwait2(epfd, events, MAX_EVENTS, &ts, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			record_error("epoll_pwait2 failed: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = &conns[events[i].data.u32];
			if (c->dead)
				continue;
			if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_readable(c);
			if (!c->dead && (events[i].events & EPOLLOUT))
				conn_flush(c);
		}
	}
	uint64_t end = now_ns();
	uint64_t cpu_end = cpu_ns();
	double elapsed = phase == PHASE_MEASURE ? (double)(end - measure_start) / 1e9 : 0;
	double cpu_pct = elapsed > 0 ? (double)(cpu_end - cpu_start) / 1e9 / elapsed * 100.0 : 0;
	report(elapsed, cpu_pct);
	for (uint32_t i = 0; i < opt.conns; i++) {
		conn_kill(&conns[i]);
		if (conns[i].proto)
			proto->conn_free(conns[i].proto);
	}
	return errors ? 1 : 0;
}
