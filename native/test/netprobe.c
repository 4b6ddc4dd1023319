/* berth-probe (native/test/netprobe.c): a static multi-call helper that tests copy into container images, for what
 * busybox cannot do. Applets:
 *   probe udp-echo PORT     answer every UDP datagram on 0.0.0.0:PORT with the same bytes
 *   probe tcp-echo PORT     echo every TCP connection on 0.0.0.0:PORT (one at a time)
 *   probe tcp-sink PORT     read and discard every TCP connection on 0.0.0.0:PORT
 *   probe tcp-source HOST PORT MIB   send MIB MiB to HOST:PORT, print "<MiB/s>"
 *   probe dns-tcp SERVER NAME   two A queries for NAME back to back on one TCP connection;
 *                           print the answer count of each ("N N")
 *   probe dns-bench SERVER NAME COUNT   COUNT A queries for NAME, one at a time; print the
 *                           median and p99 round trip in microseconds and the answer count
 * libc only, like berth-init: it runs inside containers whose libc is unknown. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>
#include <poll.h>

static int bound(int type, int port) {
  int fd = socket(AF_INET, type, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("probe: bind");
    exit(1);
  }
  return fd;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *host, int port, int type) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int family = strchr(host, ':') ? AF_INET6 : AF_INET;
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, host, &a->sin_addr);
    len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((unsigned short)port);
    inet_pton(AF_INET6, host, &a->sin6_addr);
    len = sizeof *a;
  }
  int fd = socket(family, type, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
    perror("probe: connect");
    exit(1);
  }
  return fd;
}

/* A standard query for NAME's A record (RD set, id 0) into out; returns its length. */
static size_t build_query(unsigned char *out, const char *name) {
  size_t at = 12;
  memset(out, 0, 12);
  out[2] = 1; /* RD */
  out[5] = 1; /* QDCOUNT */
  for (const char *p = name; *p;) {
    const char *dot = strchr(p, '.');
    size_t l = dot ? (size_t)(dot - p) : strlen(p);
    out[at++] = (unsigned char)l;
    memcpy(out + at, p, l);
    at += l;
    p += l + (dot ? 1 : 0);
  }
  out[at++] = 0;
  out[at++] = 0;
  out[at++] = 1; /* A */
  out[at++] = 0;
  out[at++] = 1; /* IN */
  return at;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "tcp-sink") == 0) {
    int fd = bound(SOCK_STREAM, atoi(argv[2]));
    listen(fd, 16);
    static char buf[1 << 20];
    for (;;) {
      int c = accept(fd, NULL, NULL);
      while (c >= 0 && read(c, buf, sizeof buf) > 0)
        ;
      if (c >= 0)
        close(c);
    }
  }
  if (argc == 5 && strcmp(argv[1], "tcp-source") == 0) {
    int fd = connect_to(argv[2], atoi(argv[3]), SOCK_STREAM);
    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    long mib = atol(argv[4]);
    double start = now_s();
    for (long i = 0; i < mib; i++)
      for (size_t off = 0; off < sizeof buf;) {
        ssize_t n = write(fd, buf + off, sizeof buf - off);
        if (n <= 0) {
          perror("probe: write");
          return 1;
        }
        off += (size_t)n;
      }
    shutdown(fd, SHUT_WR);
    while (read(fd, buf, sizeof buf) > 0)
      ; /* the sink closes after reading everything */
    printf("%.1f\n", (double)mib / (now_s() - start));
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "dns-tcp") == 0) {
    int fd = connect_to(argv[2], 53, SOCK_STREAM);
    unsigned char q[514];
    size_t at = 2 + build_query(q + 2, argv[3]);
    q[0] = (unsigned char)((at - 2) >> 8);
    q[1] = (unsigned char)(at - 2);
    if (write(fd, q, at) != (ssize_t)at || write(fd, q, at) != (ssize_t)at) {
      perror("probe: write");
      return 1;
    }
    for (int i = 0; i < 2; i++) {
      unsigned char len[2], a[65536];
      if (read(fd, len, 2) != 2)
        return 1;
      size_t n = ((size_t)len[0] << 8) | len[1], got = 0;
      while (got < n) {
        ssize_t r = read(fd, a + got, n - got);
        if (r <= 0)
          return 1;
        got += (size_t)r;
      }
      printf(i ? " %d\n" : "%d", (a[6] << 8) | a[7]);
    }
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "dns-bench") == 0) {
    int fd = connect_to(argv[2], 53, SOCK_DGRAM);
    int count = atoi(argv[4]);
    double *rtt = calloc((size_t)count, sizeof *rtt);
    unsigned char q[512], a[512];
    size_t at = build_query(q, argv[3]);
    int answers = -1;
    for (int i = 0; i < count; i++) {
      q[0] = (unsigned char)(i >> 8);
      q[1] = (unsigned char)i;
      double t0 = now_s();
      send(fd, q, at, 0);
      struct pollfd pfd = {fd, POLLIN, 0};
      if (poll(&pfd, 1, 2000) != 1) {
        fprintf(stderr, "probe: no answer to query %d\n", i);
        return 1;
      }
      ssize_t n = recv(fd, a, sizeof a, 0);
      rtt[i] = (now_s() - t0) * 1e6;
      if (n >= 12)
        answers = (a[6] << 8) | a[7];
    }
    qsort(rtt, (size_t)count, sizeof *rtt, cmp_double);
    printf("%.0f %.0f %d\n", rtt[count / 2], rtt[(count * 99) / 100], answers);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "udp-echo") == 0) {
    int fd = bound(SOCK_DGRAM, atoi(argv[2]));
    for (;;) {
      char buf[65536];
      struct sockaddr_storage from;
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
      if (n >= 0)
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
  }
  if (argc == 3 && strcmp(argv[1], "tcp-echo") == 0) {
    int fd = bound(SOCK_STREAM, atoi(argv[2]));
    listen(fd, 16);
    for (;;) {
      int c = accept(fd, NULL, NULL);
      if (c < 0)
        continue;
      char buf[65536];
      ssize_t n;
      while ((n = read(c, buf, sizeof buf)) > 0)
        if (write(c, buf, (size_t)n) != n)
          break;
      close(c);
    }
  }
  fprintf(stderr, "usage: probe udp-echo PORT | tcp-echo PORT | tcp-sink PORT | tcp-source HOST PORT MIB | dns-bench SERVER NAME COUNT\n");
  return 2;
}
