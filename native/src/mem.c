/**
 * Page-granular native memory for regions the kernel reads or writes (arena,
 * provided buffers, buffer ring). Owns only map/unmap; nothing here knows
 * about rings.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* MAP_NORESERVE so a large arena costs nothing until JS touches a page. */
void *map_region(size_t bytes, size_t *mapped) {
  *mapped = 0;
  if (bytes == 0) return NULL;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t len = (bytes + page - 1) & ~(page - 1);
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  *mapped = len;
  return p;
}

void unmap_region(void *p, size_t mapped) {
  if (p && mapped) munmap(p, mapped);
}
