/**
 * Synchronous socket helpers for setup and teardown paths (create, bind and
 * listen, addresses, options, close). The data path goes through rr_step;
 * nothing here touches a ring.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ringrpc.h"

/* Parses a numeric host into a sockaddr of the given family (AF_UNSPEC:
 * whichever parses). Returns the address length or -EINVAL. */
static int fill_sockaddr(int family, const char *host, int port, struct sockaddr_storage *ss) {
  if (!host || port < 0 || port > 65535) return -EINVAL;
  memset(ss, 0, sizeof *ss);
  if (family != AF_INET6) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &a->sin_addr) == 1) {
      a->sin_family = AF_INET;
      a->sin_port = htons((uint16_t)port);
      return sizeof *a;
    }
  }
  if (family != AF_INET) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, host, &a->sin6_addr) == 1) {
      a->sin6_family = AF_INET6;
      a->sin6_port = htons((uint16_t)port);
      return sizeof *a;
    }
  }
  return -EINVAL;
}

static int set_int_opt(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

int rr_socket_tcp(int family) {
  int af = family == 4 ? AF_INET : family == 6 ? AF_INET6 : -1;
  if (af < 0) return -EINVAL;
  int fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  return fd < 0 ? -errno : fd;
}

/* Binds fd to host:port, with SO_REUSEADDR when reuse_addr, SO_REUSEPORT when
 * reuse_port. */
static int bind_to(int fd, const char *host, int port, int reuse_addr, int reuse_port) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) return -errno;
  struct sockaddr_storage ss;
  int alen = fill_sockaddr(domain, host, port, &ss);
  if (alen < 0) return alen;
  int ret = 0;
  if (reuse_addr) ret = set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (ret == 0 && reuse_port) ret = set_int_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  if (ret < 0) return ret;
  return bind(fd, (struct sockaddr *)&ss, (socklen_t)alen) < 0 ? -errno : 0;
}

/* No SO_REUSEADDR here: the kernel lets two SO_REUSEADDR sockets share a port
 * while neither listens, so with it a listener without SO_REUSEPORT could
 * take a reserved port whenever no child is listening on it. */
int rr_socket_bind(int fd, const char *host, int port, int reuse_port) {
  return bind_to(fd, host, port, 0, reuse_port);
}

int rr_socket_listen(int fd, const char *host, int port, int backlog, int reuse_port) {
  int ret = bind_to(fd, host, port, 1, reuse_port);
  if (ret < 0) return ret;
  return listen(fd, backlog) < 0 ? -errno : 0;
}

int rr_socket_local_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
  if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return -EAFNOSUPPORT;
}

int rr_sockaddr(const char *host, int port, uint8_t *out, int cap) {
  struct sockaddr_storage ss;
  int alen = fill_sockaddr(AF_UNSPEC, host, port, &ss);
  if (alen < 0) return alen;
  if (!out || cap < alen) return -ENOSPC;
  memcpy(out, &ss, (size_t)alen);
  return alen;
}

int rr_socket_peer(int fd, char *out, int cap) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
  if (!out || cap <= 0) return -ENOSPC;
  const void *addr;
  int port;
  if (ss.ss_family == AF_INET) {
    addr = &((struct sockaddr_in *)&ss)->sin_addr;
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  } else {
    return -EAFNOSUPPORT;
  }
  if (!inet_ntop(ss.ss_family, addr, out, (socklen_t)cap)) return -errno;
  return port;
}

int rr_socket_nodelay(int fd, int on) {
  return set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, on != 0);
}

int rr_socketpair(int32_t *out) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) return -errno;
  out[0] = fds[0];
  out[1] = fds[1];
  return 0;
}

int rr_close(int fd) {
  if (close(fd) == 0) return 0;
  /* On Linux the fd is gone even when close reports EINTR; retrying could
   * close an fd another thread just got. */
  return errno == EINTR ? 0 : -errno;
}
