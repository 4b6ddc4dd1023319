#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

/* A claim is one short line: the launch file's path is the only long field. */
#define CLAIM_MAX 8192
#define CLAIM_FDS 3

/* Reads the claim line. The descriptors ride on its first byte, so the first recvmsg asks for one
 * byte only (ancillary data never spans two reads); the rest is read byte by byte up to the LF, so
 * that nothing after the claim -- the container's stdin, when the control socket stays stdin --
 * is consumed here. Returns the line's length, 0 on EOF before any byte, -1 on error. */
static ssize_t read_claim(char *line, int fds[CLAIM_FDS], int *nfds, bt_error **err) {
  *nfds = 0;
  char control[CMSG_SPACE(sizeof(int) * CLAIM_FDS)];
  struct iovec iov = {.iov_base = line, .iov_len = 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = sizeof control};
  ssize_t n;
  while ((n = recvmsg(0, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
    ;
  if (n < 0)
    return bt_error_sys(err, "slot: read the claim");
  if (n == 0)
    return 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (*nfds < CLAIM_FDS)
        fds[(*nfds)++] = fd;
      else
        close(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC)
    return bt_error_make(err, 0, "slot: more than %d descriptors came with the claim", CLAIM_FDS);
  size_t len = 1;
  while (line[len - 1] != '\n') {
    if (len == CLAIM_MAX - 1)
      return bt_error_make(err, 0, "slot: the claim is longer than %d bytes", CLAIM_MAX);
    while ((n = read(0, line + len, 1)) < 0 && errno == EINTR)
      ;
    if (n < 0)
      return bt_error_sys(err, "slot: read the claim");
    if (n == 0)
      return bt_error_make(err, 0, "slot: the claim ended before its line did");
    len++;
  }
  line[len - 1] = '\0';
  return (ssize_t)len;
}

/* Splits at TABs in place: exactly `want` fields, the last may hold anything but a TAB. */
static int split(char *line, char **fields, int want) {
  int n = 0;
  for (char *p = line;; p++) {
    if (n == want)
      return -1;
    fields[n++] = p;
    p = strchr(p, '\t');
    if (p == NULL)
      break;
    *p = '\0';
  }
  return n == want ? 0 : -1;
}

/* Puts descriptor `target` (0, 1, 2) in place as the field says. */
static int place(const char *how, int target, const int *fds, int nfds, int *used, bt_error **err) {
  if (strcmp(how, "keep") == 0)
    return 0;
  int from;
  cleanup_close int null = -1;
  if (strcmp(how, "null") == 0) {
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
      return bt_error_sys(err, "slot: open /dev/null");
    from = null;
  } else if (strcmp(how, "fd") == 0) {
    if (*used >= nfds)
      return bt_error_make(err, 0, "slot: the claim names more descriptors than it sent");
    from = fds[(*used)++];
  } else {
    return bt_error_make(err, 0, "slot: unknown stdio field '%s' in the claim", how);
  }
  if (dup2(from, target) < 0)
    return bt_error_sys(err, "slot: dup2 onto %d", target);
  return 0;
}

int bt_slot_wait_and_become(const char *self, bt_error **err) {
  static char line[CLAIM_MAX];
  int fds[CLAIM_FDS];
  int nfds = 0;
  ssize_t n = read_claim(line, fds, &nfds, err);
  if (n <= 0) {
    for (int i = 0; i < nfds; i++)
      close(fds[i]);
    return (int)n;
  }
  char *f[6];
  int rc = -1;
  int used = 0;
  if (split(line, f, 6) < 0 || strcmp(f[0], "claim") != 0) {
    bt_error_make(err, 0, "slot: malformed claim");
    goto out;
  }
  bool detach = strcmp(f[1], "detached") == 0;
  if (!detach && strcmp(f[1], "attached") != 0) {
    bt_error_make(err, 0, "slot: unknown mode '%s' in the claim", f[1]);
    goto out;
  }
  if (f[5][0] != '/') {
    bt_error_make(err, 0, "slot: the launch file must be an absolute path");
    goto out;
  }
  for (int i = 0; i < 3; i++)
    if (place(f[2 + i], i, fds, nfds, &used, err) < 0)
      goto out;
  if (used != nfds) {
    bt_error_make(err, 0, "slot: the claim sent descriptors it does not name");
    goto out;
  }
  for (int i = 0; i < nfds; i++)
    close(fds[i]);
  nfds = 0;
  /* The same image (this process's sealed copy: bt_run_from_sealed_copy sees the seals and goes
   * on without copying), so that argv, /proc/<pid>/cmdline and everything after are a cold
   * shim's. */
  char *argv[] = {(char *)self, "run", detach ? "--detach" : f[5], detach ? f[5] : NULL, NULL};
  execv("/proc/self/exe", argv);
  bt_error_sys(err, "slot: exec the claimed shim");
out:
  for (int i = 0; i < nfds; i++)
    close(fds[i]);
  return rc;
}
