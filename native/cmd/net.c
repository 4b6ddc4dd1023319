/* berth-net: carries out a batch of network steps in one process, through rtnetlink.
 *
 *   berth-net < steps
 *
 * One step per line, fields separated by one TAB (no escapes: names, addresses and berth's own
 * paths never hold a TAB or a newline; a field that does is rejected by the TypeScript side).
 * A step prefixed with `?` tolerates "already so" errors (EEXIST, ENODEV, ENOENT, ESRCH,
 * EADDRNOTAVAIL): repair and removal replay steps that a crash may have done half of.
 *
 *   netns_create  <path>                 a new network namespace with lo up, bound on path
 *   netns_delete  <path>
 *   ns            <path>|-               later steps act in that namespace (- = the one we started in)
 *   bridge        <name> <mtu|0>
 *   veth          <name> <peer> <peer-ns-path|-> <mtu|0> <peer-mac|->
 *   master        <dev> <bridge>
 *   up            <dev>
 *   mac           <dev> <aa:bb:cc:dd:ee:ff>
 *   addr          <dev> <cidr>
 *   route         <dst-cidr|default> <gateway|-> <dev|->
 *   del           <dev>
 *   write         <file> <value>          e.g. a /proc/sys file of the current namespace
 *
 * The steps stop at the first failure: exit 1 with `berth-net: line N: <step>: <error>` on stderr.
 * Why one process for many steps: spawning `ip` per step costs ~2 ms each (docs/networking.md).
 * Why not netlink from Node: setns changes the calling thread's namespace, and Node's main thread
 * must stay in the host's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "netlink.h"

enum { MAX_FIELDS = 6, MAX_INPUT = 1 << 20 };

typedef struct ctx {
  int home;    /* the namespace we started in */
  bt_nl nl;    /* a socket of the current namespace */
} ctx;

static int reopen(ctx *c, bt_error **err) {
  bt_nl_close(&c->nl);
  return bt_nl_open(&c->nl, err);
}

static const char *opt(const char *f) { return strcmp(f, "-") == 0 ? NULL : f; }

static unsigned parse_mtu(const char *f) { return (unsigned)strtoul(f, NULL, 10); }

static int write_file(const char *path, const char *value, bt_error **err) {
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "open %s", path);
  size_t len = strlen(value);
  if (write(fd, value, len) != (ssize_t)len)
    return bt_error_sys(err, "write %s", path);
  return 0;
}

/* Runs one step. f[0] is the step name; n counts the fields including it. */
static int step(ctx *c, char **f, int n, bt_error **err) {
  const char *s = f[0];
#define NEED(k)                                                                                    \
  if (n != (k) + 1)                                                                                \
  return bt_error_make(err, EINVAL, "%s takes %d fields, got %d", s, (k), n - 1)
  if (strcmp(s, "netns_create") == 0) {
    NEED(1);
    return bt_netns_create(f[1], err);
  }
  if (strcmp(s, "netns_delete") == 0) {
    NEED(1);
    return bt_netns_delete(f[1], err);
  }
  if (strcmp(s, "ns") == 0) {
    NEED(1);
    if (opt(f[1]) == NULL) {
      if (setns(c->home, CLONE_NEWNET) < 0)
        return bt_error_sys(err, "return to own network namespace");
    } else if (bt_netns_enter(f[1], err) < 0) {
      return -1;
    }
    return reopen(c, err);
  }
  if (strcmp(s, "bridge") == 0) {
    NEED(2);
    return bt_nl_bridge_add(&c->nl, f[1], parse_mtu(f[2]), err);
  }
  if (strcmp(s, "veth") == 0) {
    NEED(5);
    cleanup_close int nsfd = -1;
    if (opt(f[3]) != NULL) {
      nsfd = open(f[3], O_RDONLY | O_CLOEXEC);
      if (nsfd < 0)
        return bt_error_sys(err, "open network namespace %s", f[3]);
    }
    return bt_nl_veth_add(&c->nl, f[1], f[2], nsfd, parse_mtu(f[4]), opt(f[5]), err);
  }
  if (strcmp(s, "master") == 0) {
    NEED(2);
    return bt_nl_link_master(&c->nl, f[1], f[2], err);
  }
  if (strcmp(s, "up") == 0) {
    NEED(1);
    return bt_nl_link_up(&c->nl, f[1], err);
  }
  if (strcmp(s, "mac") == 0) {
    NEED(2);
    return bt_nl_link_mac(&c->nl, f[1], f[2], err);
  }
  if (strcmp(s, "addr") == 0) {
    NEED(2);
    bt_cidr cidr;
    if (bt_cidr_parse(f[2], &cidr, err) < 0)
      return -1;
    return bt_nl_addr_add(&c->nl, f[1], &cidr, err);
  }
  if (strcmp(s, "route") == 0) {
    NEED(3);
    return bt_nl_route_add(&c->nl, f[1], opt(f[2]), opt(f[3]), err);
  }
  if (strcmp(s, "del") == 0) {
    NEED(1);
    return bt_nl_link_del(&c->nl, f[1], err);
  }
  if (strcmp(s, "write") == 0) {
    NEED(2);
    return write_file(f[1], f[2], err);
  }
#undef NEED
  return bt_error_make(err, EINVAL, "unknown step %s", s);
}

static bool tolerable(int errnum) {
  return errnum == EEXIST || errnum == ENODEV || errnum == ENOENT || errnum == ESRCH ||
         errnum == EADDRNOTAVAIL;
}

int main(void) {
  static char input[MAX_INPUT + 1];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(0, input + len, MAX_INPUT - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      perror("berth-net: read steps");
      return 1;
    }
    if (n == 0)
      break;
    len += (size_t)n;
    if (len == MAX_INPUT) {
      fprintf(stderr, "berth-net: more than %d bytes of steps\n", MAX_INPUT);
      return 1;
    }
  }
  input[len] = '\0';

  ctx c = {.home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), .nl = {.fd = -1}};
  bt_error *err = NULL;
  if (c.home < 0 || bt_nl_open(&c.nl, &err) < 0) {
    if (err == NULL)
      bt_error_sys(&err, "open own network namespace");
    char msg[512];
    bt_error_format(err, msg, sizeof msg);
    fprintf(stderr, "berth-net: %s\n", msg);
    return 1;
  }
  int line_no = 0;
  for (char *line = input, *next; line != NULL && *line != '\0'; line = next) {
    line_no++;
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (*line == '\0' || *line == '#')
      continue;
    bool lenient = *line == '?';
    if (lenient)
      line++;
    char *f[MAX_FIELDS + 1];
    int n = 0;
    for (char *p = line; p != NULL && n <= MAX_FIELDS;) {
      f[n++] = p;
      p = strchr(p, '\t');
      if (p != NULL)
        *p++ = '\0';
    }
    if (step(&c, f, n, &err) < 0) {
      if (lenient && tolerable(err->errnum)) {
        bt_error_release(&err);
        continue;
      }
      char msg[512];
      bt_error_format(err, msg, sizeof msg);
      fprintf(stderr, "berth-net: line %d: %s: %s\n", line_no, f[0], msg);
      bt_error_release(&err);
      return 1;
    }
  }
  bt_nl_close(&c.nl);
  return 0;
}
