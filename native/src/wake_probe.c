/**
 * Wake-up probes for the runtime's self-test and tests: a monotonic clock
 * readable from JS without a BigInt, and a one-shot sender thread that
 * writes its own send time into a socket after a delay, from a thread that
 * is not the ring's owner, as a peer's packet would arrive. Touches no ring.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ringrpc.h"

double rr_clock_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

struct send_job {
  int fd;
  int delay_us;
};

static void *send_later(void *arg) {
  struct send_job job = *(struct send_job *)arg;
  free(arg);
  struct timespec d = {.tv_sec = job.delay_us / 1000000, .tv_nsec = (long)(job.delay_us % 1000000) * 1000};
  while (nanosleep(&d, &d) != 0 && errno == EINTR) {
  }
  /* The payload is the send time itself, so the reader needs no shared
   * state to know how long the completion took to reach it. */
  double sent = rr_clock_ms();
  (void)!send(job.fd, &sent, sizeof sent, MSG_NOSIGNAL);
  return NULL;
}

int rr_send_clock_after(int fd, int delay_us) {
  if (fd < 0 || delay_us < 0) return -EINVAL;
  struct send_job *job = malloc(sizeof *job);
  if (!job) return -ENOMEM;
  job->fd = fd;
  job->delay_us = delay_us;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 << 10);
  pthread_t t;
  int ret = pthread_create(&t, &attr, send_later, job);
  pthread_attr_destroy(&attr);
  if (ret != 0) {
    free(job);
    return -ret;
  }
  return 0;
}
