/* berth-probe: a static multi-call helper that tests copy into container images, for what
 * busybox cannot do. Applets:
 *   probe udp-echo PORT     answer every UDP datagram on 0.0.0.0:PORT with the same bytes
 *   probe tcp-echo PORT     echo every TCP connection on 0.0.0.0:PORT (one at a time)
 * libc only, like berth-init: it runs inside containers whose libc is unknown. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int main(int argc, char **argv) {
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
  fprintf(stderr, "usage: probe udp-echo PORT | tcp-echo PORT\n");
  return 2;
}
