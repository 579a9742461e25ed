/**
 * rr_ktls_probe: whether this kernel can do TLS record encryption itself
 * (kTLS), found by trying it on a throw-away loopback TCP connection. The
 * "tls" upper-layer protocol attaches only to an established TCP socket,
 * so the probe connects a pair over 127.0.0.1 (port 0: nothing is taken),
 * sets TCP_ULP "tls" on one end and, when that works, installs a zero
 * TLS 1.2 AES-GCM-128 transmit key (TLS_TX) the way a TLS library would
 * after its handshake. Nothing is ever sent; every fd is closed again.
 * ringrpc does not use kTLS (Bun exposes no handshake for a raw fd); the
 * answer is for `ringrpc doctor`, the startup line and docs/DEPLOY.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ringrpc.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* A connected loopback pair: *lfd listens, *cfd connected, *afd accepted. */
static int loopback_pair(int *lfd, int *cfd, int *afd) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*lfd < 0) return -errno;
  if (bind(*lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(*lfd, 1) < 0) return -errno;
  if (getsockname(*lfd, (struct sockaddr *)&a, &alen) < 0) return -errno;
  *cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*cfd < 0) return -errno;
  if (connect(*cfd, (struct sockaddr *)&a, sizeof a) < 0) return -errno;
  *afd = accept4(*lfd, NULL, NULL, SOCK_CLOEXEC);
  return *afd < 0 ? -errno : 0;
}

int rr_ktls_probe(void) {
  int lfd = -1, cfd = -1, afd = -1;
  int ret = loopback_pair(&lfd, &cfd, &afd);
  /* ENOENT here: no "tls" ULP registered (CONFIG_TLS off, or the module is
   * not loaded and cannot be: the kernel tries request_module itself). */
  if (ret == 0 && setsockopt(cfd, SOL_TCP, TCP_ULP, "tls", sizeof "tls") < 0) ret = -errno;
  if (ret == 0) {
    struct tls12_crypto_info_aes_gcm_128 info;
    memset(&info, 0, sizeof info);
    info.info.version = TLS_1_2_VERSION;
    info.info.cipher_type = TLS_CIPHER_AES_GCM_128;
    if (setsockopt(cfd, SOL_TLS, TLS_TX, &info, sizeof info) < 0) ret = -errno;
  }
  if (afd >= 0) close(afd);
  if (cfd >= 0) close(cfd);
  if (lfd >= 0) close(lfd);
  return ret;
}
