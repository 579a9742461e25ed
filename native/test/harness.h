/**
 * Test harness for shim_test: a tiny CHECK macro and pass/fail tally, and a
 * test-side ring wrapper that drives the shim exactly as the TypeScript
 * runtime does (write command words, call rr_step, read event words).
 */
#ifndef RINGRPC_TEST_HARNESS_H
#define RINGRPC_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>

#include "ringrpc.h"

extern int test_failed; /* set by CHECK in the running test */

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      printf("    %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
      test_failed = 1;                                                               \
    }                                                                                \
  } while (0)

#define CHECK_EQ(a, b)                                                                        \
  do {                                                                                        \
    long long a_ = (long long)(a), b_ = (long long)(b);                                       \
    if (a_ != b_) {                                                                           \
      printf("    %s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, __LINE__, \
              #a, a_, #b, b_);                                                                \
      test_failed = 1;                                                                        \
    }                                                                                         \
  } while (0)

/* Like CHECK, but stops the test (leaking what it opened) when it fails. */
#define REQUIRE(cond)      \
  do {                     \
    CHECK(cond);           \
    if (test_failed) return; \
  } while (0)

struct evt {
  int32_t ud, res, flags, buf_off;
};

#define BACKLOG_CAP 8192

struct tring {
  int h;
  uint32_t cmd_cap, evt_cap, arena_bytes, buf_count, buf_size;
  int feats; /* rr_ring_setup_flags */
  int32_t *cmds, *evts;
  uint8_t *arena, *bufs;
  int ncmds;
  /* Events reaped but not yet claimed by wait_evt. */
  struct evt backlog[BACKLOG_CAP];
  int nbacklog;
};

/* Creates the ring and wraps its memory; returns rr_ring_create's result. */
int tr_open(struct tring *t, uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap, uint32_t arena,
            uint32_t buf_count, uint32_t buf_size);
/* tr_open with only the first buf_initial provided buffers handed to the kernel. */
int tr_open_bufs(struct tring *t, uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap, uint32_t arena,
                 uint32_t buf_count, uint32_t buf_size, uint32_t buf_initial);
/* tr_open_bufs in ring mode `mode` (RR_RING_*, with RR_WHOLE_BUFS or not). */
int tr_open_mode(struct tring *t, uint32_t entries, uint32_t cmd_cap, uint32_t evt_cap, uint32_t arena,
                 uint32_t buf_count, uint32_t buf_size, uint32_t buf_initial, int mode);
void tr_cmd(struct tring *t, int op, int fd, int ud, int off, int len, int arg);
/* One rr_step with the queued commands; reaped events go to the backlog. */
int tr_step(struct tring *t, int wait_nr);
/* Steps until an event for ud arrives (removed from the backlog into out)
 * or timeout_ms passes. 1 when found, 0 on timeout. */
int tr_wait(struct tring *t, int ud, struct evt *out, int timeout_ms);
/* Steps for ms milliseconds, collecting everything into the backlog. */
void tr_settle(struct tring *t, int ms);
/* Where the data of a recv event is: its buffer, at its offset. */
uint8_t *tr_chunk(struct tring *t, const struct evt *e);

int count_fds(void);
double now_ms(void);
void sleep_ms(int ms);
/* A listening TCP socket on 127.0.0.1 port 0; its port goes to *port. */
int listen_local(int *port);
/* Connects client fd to 127.0.0.1:port through the ring (CONNECT) while an
 * ACCEPT_MULTI with accept_ud is armed; returns the accepted fd or -1. */
int ring_connect_pair(struct tring *t, int lfd, int port, int cfd, int accept_ud);

#endif
