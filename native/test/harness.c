/**
 * Implementation of the shim_test harness (see harness.h). Talks only to
 * 127.0.0.1.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int test_failed;

int tr_open(struct tring *t, uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap, uint32_t arena,
            uint32_t buf_count, uint32_t buf_size) {
  return tr_open_bufs(t, entries, cmd_cap, evt_cap, arena, buf_count, buf_size, buf_count);
}

int tr_open_bufs(struct tring *t, uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap, uint32_t arena,
                 uint32_t buf_count, uint32_t buf_size, uint32_t buf_initial) {
  return tr_open_mode(t, entries, cmd_cap, evt_cap, arena, buf_count, buf_size, buf_initial, RR_RING_COOP);
}

int tr_open_mode(struct tring *t, uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap, uint32_t arena,
                 uint32_t buf_count, uint32_t buf_size, uint32_t buf_initial, int mode) {
  memset(t, 0, sizeof *t);
  t->h = rr_ring_create(entries, cmd_cap, evt_cap, arena, buf_count, buf_size, buf_initial, mode);
  if (t->h < 0) return t->h;
  t->feats = rr_ring_setup_flags(t->h);
  t->cmd_cap = cmd_cap;
  t->evt_cap = evt_cap;
  t->arena_bytes = arena;
  t->buf_count = buf_count;
  t->buf_size = buf_size;
  t->cmds = rr_ring_mem(t->h, RR_MEM_CMDS);
  t->evts = rr_ring_mem(t->h, RR_MEM_EVTS);
  t->arena = rr_ring_mem(t->h, RR_MEM_ARENA);
  t->bufs = rr_ring_mem(t->h, RR_MEM_BUFS);
  return t->h;
}

void tr_cmd(struct tring *t, int op, int fd, int ud, int off, int len, int arg) {
  int32_t *c = t->cmds + (size_t)t->ncmds++ * RR_CMD_WORDS;
  c[0] = op;
  c[1] = fd;
  c[2] = ud;
  c[3] = off;
  c[4] = len;
  c[5] = arg;
  c[6] = 0;
  c[7] = 0;
}

int tr_step(struct tring *t, int wait_nr) {
  int n = rr_step(t->h, t->ncmds, wait_nr);
  t->ncmds = 0;
  for (int i = 0; i < n; i++) {
    const int32_t *e = t->evts + (size_t)i * RR_EVT_WORDS;
    if (t->nbacklog == BACKLOG_CAP) {
      printf("    harness: event backlog full\n");
      test_failed = 1;
      break;
    }
    t->backlog[t->nbacklog++] = (struct evt){e[RR_EVT_UD], e[RR_EVT_RES], e[RR_EVT_FLAGS], e[RR_EVT_BUF_OFF]};
  }
  return n;
}

static int take(struct tring *t, int ud, struct evt *out) {
  for (int i = 0; i < t->nbacklog; i++) {
    if (t->backlog[i].ud != ud) continue;
    *out = t->backlog[i];
    memmove(&t->backlog[i], &t->backlog[i + 1], (size_t)(t->nbacklog - i - 1) * sizeof *out);
    t->nbacklog--;
    return 1;
  }
  return 0;
}

int tr_wait(struct tring *t, int ud, struct evt *out, int timeout_ms) {
  double end = now_ms() + timeout_ms;
  for (;;) {
    if (take(t, ud, out)) return 1;
    if (now_ms() > end) return 0;
    if (tr_step(t, 0) <= 0) sleep_ms(1);
  }
}

void tr_settle(struct tring *t, int ms) {
  double end = now_ms() + ms;
  while (now_ms() < end)
    if (tr_step(t, 0) <= 0) sleep_ms(1);
}

uint8_t *tr_chunk(struct tring *t, const struct evt *e) {
  return t->bufs + (size_t)((uint32_t)e->flags >> RR_CQE_BUFFER_SHIFT) * t->buf_size + (uint32_t)e->buf_off;
}

int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int listen_local(int *port) {
  int fd = rr_socket_tcp(4);
  if (fd < 0) return fd;
  int ret = rr_socket_listen(fd, "127.0.0.1", 0, 64, 0);
  if (ret < 0) {
    rr_close(fd);
    return ret;
  }
  *port = rr_socket_local_port(fd);
  return fd;
}

int ring_connect_pair(struct tring *t, int lfd, int port, int cfd, int accept_ud) {
  /* The sockaddr goes at the very end of the arena, out of the way of data. */
  int off = (int)t->arena_bytes - 128;
  int len = rr_sockaddr("127.0.0.1", port, t->arena + off, 128);
  if (len < 0) return -1;
  tr_cmd(t, RR_OP_ACCEPT_MULTI, lfd, accept_ud, 0, 0, 0);
  tr_cmd(t, RR_OP_CONNECT, cfd, accept_ud + 1, off, len, 0);
  struct evt c, a;
  if (!tr_wait(t, accept_ud + 1, &c, 2000) || c.res != 0) return -1;
  if (!tr_wait(t, accept_ud, &a, 2000) || a.res < 0 || !(a.flags & 2)) return -1;
  return a.res;
}
