/**
 * Per-thread helpers for Workers: pin the calling thread to a CPU and read
 * its kernel thread id. Nothing here touches rings or sockets.
 */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ringrpc.h"

int rr_pin_cpu(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  /* pid 0 is the calling thread, not the whole process. */
  return sched_setaffinity(0, sizeof set, &set) < 0 ? -errno : 0;
}

int rr_gettid(void) {
  return (int)syscall(SYS_gettid);
}
