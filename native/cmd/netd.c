/* berth-netd: the embedded DNS resolver (127.0.0.11:53 in every container on a berth network)
 * and the keeper of published ports, in a process of its own so that both go on while no
 * engine runs (an engine SIGKILL or upgrade leaves names resolving and ports reserved, as the
 * containers keep running).
 *
 *   berth-netd <dir>
 *
 * Input: <dir>/endpoints/<container id>, one file per sandbox, written atomically by the engine
 * (src/network/netd.ts; format in native/src/netd-config.h). The directory is followed with
 * inotify; every change reloads all files (they are small) and reconciles the sockets:
 *   - per endpoint, a UDP and a TCP socket on 127.0.0.11:53 created inside the endpoint's
 *     network namespace (setns there, socket, setns back: a socket stays in the namespace it was
 *     made in, so one process serves every container);
 *   - per `hold`, a socket bound to the published host port (not listening: berth's NAT rules
 *     carry the traffic; the bind keeps other processes and other berth roots off the port);
 *   - per `proxy`, a listening socket on an IPv6 host address relaying to the container's IPv4
 *     address (IPv6 cannot be DNATed from ::1 the way route_localnet allows for 127.0.0.1).
 * Output: <dir>/netd.pid once listening; <dir>/serving (the ids served, sorted, comma-separated)
 * after each reload, so that the engine can wait for its records to be live.
 *
 * Names not berth's are forwarded from this process's namespace (the host's): a loopback resolver
 * on the host such as systemd-resolved's 127.0.0.53 is reachable from here, unlike from inside a
 * container. An endpoint with no upstream (only on internal networks) gets REFUSED for them.
 *
 * Lifetime: it exits when no endpoint file is left; <dir>/netd.lock (flock) makes sure only one
 * daemon serves a directory: a second one started meanwhile waits for the lock and takes over. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "dnsmsg.h"
#include "error.h"
#include "netd-config.h"

enum {
  TTL = 5,                /* seconds: short, so that names follow recreated containers */
  UPSTREAM_TIMEOUT_MS = 2000,
  TCP_IDLE_MS = 10000,
  MAX_PENDING = 512,
  MAX_ANSWER_ADDRS = 256,
  UDP_MAX = 512,          /* no EDNS: classic UDP size; larger answers set TC */
  PROXY_BUF = 65536,
};

typedef enum { K_INOTIFY, K_TIMER, K_SIGNAL, K_DNS_UDP, K_DNS_TCP, K_DNS_CONN, K_UPSTREAM,
               K_PROXY_LISTEN, K_PROXY_UDP, K_PROXY_END, K_PROXY_UDP_SESSION } kind;

/* Every epoll registration starts with this, so the event's pointer tells what it is. */
typedef struct io {
  kind k;
  int fd;
} io;

typedef struct served {
  char *id, *netns;
  io udp, tcp;
  bool seen;
  struct served *next;
} served;

typedef struct dns_conn {
  io io;
  served *ep;
  uint8_t buf[2 + 65535];
  size_t have;
  uint64_t deadline;
  struct dns_conn *next;
} dns_conn;

typedef struct pending {
  io io; /* the upstream socket (connected, its own random source port) */
  served *ep;
  dns_conn *conn; /* a TCP client, else UDP to `client` through ep->udp */
  struct sockaddr_storage client;
  socklen_t client_len;
  uint8_t query[UDP_MAX];
  size_t query_len;
  size_t upstream; /* index into the endpoint's upstreams */
  uint64_t deadline;
  struct pending *next;
} pending;

typedef struct port {
  io io;
  bt_netd_port spec;
  bool proxy, seen;
  struct port *next;
} port;

typedef struct proxy_end {
  io io;
  struct proxy_conn *pc;
  uint8_t *buf; /* bytes read from this end, not yet written to the other */
  size_t len;
  bool eof;     /* this end sent EOF */
} proxy_end;

typedef struct proxy_conn {
  proxy_end a, b; /* a: the client, b: the container */
  bool connecting;
  struct proxy_conn *next;
} proxy_conn;

typedef struct udp_session {
  io io; /* connected to the target */
  port *listener;
  struct sockaddr_storage client;
  socklen_t client_len;
  uint64_t last;
  struct udp_session *next;
} udp_session;

static struct {
  const char *dir;
  int epfd, home, endpoints_dir;
  io inotify, timer, signal;
  bt_netd_endpoint *cfg;
  size_t cfg_count;
  served *served;
  dns_conn *conns;
  pending *pending;
  size_t pending_count;
  port *ports;
  proxy_conn *proxies;
  udp_session *sessions;
  bool pid_written;
} g;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "berth-netd: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

static void log_error(bt_error **err) {
  char msg[512];
  bt_error_format(*err, msg, sizeof msg);
  logf_("%s", msg);
  bt_error_release(err);
}

static int watch(io *x, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = x};
  return epoll_ctl(g.epfd, EPOLL_CTL_ADD, x->fd, &ev);
}

static void rewatch(io *x, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = x};
  epoll_ctl(g.epfd, EPOLL_CTL_MOD, x->fd, &ev);
}

static void close_io(io *x) {
  if (x->fd >= 0) {
    epoll_ctl(g.epfd, EPOLL_CTL_DEL, x->fd, NULL);
    close(x->fd);
  }
  x->fd = -1;
}

/* ── files ──────────────────────────────────────────────────────────────────────────────── */

static int write_file_atomic(const char *name, const char *data) {
  char tmp[4096], path[4096];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", g.dir, name);
  snprintf(path, sizeof path, "%s/%s", g.dir, name);
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -1;
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len)
    return -1;
  return rename(tmp, path);
}

static char *read_all(int dirfd, const char *name, size_t *len) {
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
    return NULL;
  char *buf = xmalloc((size_t)st.st_size + 1);
  ssize_t n = read(fd, buf, (size_t)st.st_size);
  if (n < 0) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

/* ── sockets in a namespace ─────────────────────────────────────────────────────────────── */

static int socket_in(const char *netns, int family, int type, bt_error **err) {
  cleanup_close int nsfd = -1;
  if (netns != NULL) {
    nsfd = open(netns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
      return bt_error_sys(err, "open %s", netns);
    if (setns(nsfd, CLONE_NEWNET) < 0)
      return bt_error_sys(err, "setns %s", netns);
  }
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int saved = errno;
  if (netns != NULL && setns(g.home, CLONE_NEWNET) < 0) {
    /* never go on serving from the wrong namespace */
    logf_("cannot return to the host's network namespace: %s", strerror(errno));
    _exit(1);
  }
  if (fd < 0) {
    errno = saved;
    return bt_error_sys(err, "socket in %s", netns ? netns : "host");
  }
  return fd;
}

static void fill_addr(struct sockaddr_storage *ss, socklen_t *len, int family, const uint8_t *ip,
                      uint16_t port) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    memcpy(&s->sin_addr, ip, 4);
    *len = sizeof *s;
  } else {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    memcpy(&s->sin6_addr, ip, 16);
    *len = sizeof *s;
  }
}

static int bound_socket(const char *netns, int family, int type, const uint8_t *ip, uint16_t port,
                        bool listening, bt_error **err) {
  int fd = socket_in(netns, family, type, err);
  if (fd < 0)
    return -1;
  int one = 1;
  if (family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (type == SOCK_STREAM && listening)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_storage ss;
  socklen_t len;
  fill_addr(&ss, &len, family, ip, port);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (listening && listen(fd, 128) < 0)) {
    int rc = bt_error_sys(err, "bind port %u", port);
    close(fd);
    return rc;
  }
  return fd;
}

/* ── the endpoint table ─────────────────────────────────────────────────────────────────── */

static ssize_t cfg_index(const served *s) {
  for (size_t i = 0; i < g.cfg_count; i++)
    if (strcmp(g.cfg[i].id, s->id) == 0)
      return (ssize_t)i;
  return -1;
}

static void cancel_pending_of(served *s, dns_conn *c) {
  for (pending **pp = &g.pending; *pp != NULL;) {
    pending *p = *pp;
    if ((s != NULL && p->ep == s) || (c != NULL && p->conn == c)) {
      *pp = p->next;
      close_io(&p->io);
      free(p);
      g.pending_count--;
    } else {
      pp = &p->next;
    }
  }
}

static void close_conn(dns_conn *c) {
  cancel_pending_of(NULL, c);
  for (dns_conn **pp = &g.conns; *pp != NULL; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  close_io(&c->io);
  free(c);
}

static void drop_served(served *s) {
  cancel_pending_of(s, NULL);
  for (dns_conn *c = g.conns, *next; c != NULL; c = next) {
    next = c->next;
    if (c->ep == s)
      close_conn(c);
  }
  close_io(&s->udp);
  close_io(&s->tcp);
  free(s->id);
  free(s->netns);
  free(s);
}

static const uint8_t EMBEDDED[4] = {127, 0, 0, 11};

static served *serve(const bt_netd_endpoint *e, bt_error **err) {
  served *s = xcalloc(1, sizeof *s);
  s->udp = (io){K_DNS_UDP, -1};
  s->tcp = (io){K_DNS_TCP, -1};
  s->id = xstrdup(e->id);
  s->netns = xstrdup(e->netns);
  s->udp.fd = bound_socket(e->netns, AF_INET, SOCK_DGRAM, EMBEDDED, 53, false, err);
  if (s->udp.fd >= 0)
    s->tcp.fd = bound_socket(e->netns, AF_INET, SOCK_STREAM, EMBEDDED, 53, true, err);
  if (s->udp.fd < 0 || s->tcp.fd < 0 || watch(&s->udp, EPOLLIN) < 0 || watch(&s->tcp, EPOLLIN) < 0) {
    if (*err == NULL)
      bt_error_sys(err, "epoll");
    bt_error_wrap(err, "serve %s", e->id);
    drop_served(s);
    return NULL;
  }
  return s;
}

static bool same_port(const bt_netd_port *a, const bt_netd_port *b) {
  return a->protocol == b->protocol && a->family == b->family && a->port == b->port &&
         memcmp(a->host, b->host, 16) == 0 && a->target_family == b->target_family &&
         a->target_port == b->target_port && memcmp(a->target, b->target, 16) == 0;
}

static void drop_port(port *p) {
  for (udp_session **pp = &g.sessions; *pp != NULL;) {
    udp_session *u = *pp;
    if (u->listener == p) {
      *pp = u->next;
      close_io(&u->io);
      free(u);
    } else {
      pp = &u->next;
    }
  }
  close_io(&p->io);
  free(p);
}

static void keep_port(const bt_netd_port *spec, bool proxy) {
  for (port *p = g.ports; p != NULL; p = p->next)
    if (p->proxy == proxy && same_port(&p->spec, spec)) {
      p->seen = true;
      return;
    }
  bt_error *err = NULL;
  port *p = xcalloc(1, sizeof *p);
  p->spec = *spec;
  p->proxy = proxy;
  p->seen = true;
  bool tcp = spec->protocol == IPPROTO_TCP;
  p->io.k = !proxy ? K_PROXY_LISTEN : tcp ? K_PROXY_LISTEN : K_PROXY_UDP;
  p->io.fd = bound_socket(NULL, spec->family, tcp ? SOCK_STREAM : SOCK_DGRAM, spec->host,
                          spec->port, proxy && tcp, &err);
  if (p->io.fd < 0) {
    log_error(&err);
    free(p);
    return;
  }
  if (proxy)
    watch(&p->io, EPOLLIN);
  p->next = g.ports;
  g.ports = p;
}

static void write_serving(void) {
  /* ids sorted (byte order, like JavaScript's default sort for these hex ids) */
  size_t n = 0;
  for (served *s = g.served; s != NULL; s = s->next)
    n++;
  char **ids = xcalloc(n, sizeof *ids);
  size_t i = 0;
  for (served *s = g.served; s != NULL; s = s->next)
    ids[i++] = s->id;
  for (size_t a = 1; a < n; a++)
    for (size_t b = a; b > 0 && strcmp(ids[b - 1], ids[b]) > 0; b--) {
      char *t = ids[b];
      ids[b] = ids[b - 1];
      ids[b - 1] = t;
    }
  /* sized from the ids themselves: a pre-made sandbox's id ("pool-" + 64 hex) is longer than a
   * container's */
  size_t size = 2;
  for (i = 0; i < n; i++)
    size += strlen(ids[i]) + 1;
  cleanup_free char *text = xcalloc(size, 1);
  for (i = 0; i < n; i++) {
    if (i > 0)
      strcat(text, ",");
    strcat(text, ids[i]);
  }
  strcat(text, "\n");
  free(ids);
  if (write_file_atomic("serving", text) < 0)
    logf_("write serving: %s", strerror(errno));
}

/* Re-reads every endpoint file and reconciles sockets. Returns the number of endpoints. */
static size_t reload(void) {
  for (size_t i = 0; i < g.cfg_count; i++)
    bt_netd_endpoint_free(&g.cfg[i]);
  free(g.cfg);
  g.cfg = NULL;
  g.cfg_count = 0;
  cleanup_close int dfd = dup(g.endpoints_dir);
  DIR *d = dfd >= 0 ? fdopendir(take_fd(&dfd)) : NULL;
  if (d != NULL) {
    rewinddir(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
      if (de->d_name[0] == '.')
        continue;
      size_t len = 0;
      cleanup_free char *text = read_all(g.endpoints_dir, de->d_name, &len);
      if (text == NULL)
        continue; /* removed meanwhile */
      bt_netd_endpoint e;
      bt_error *err = NULL;
      if (bt_netd_endpoint_parse(de->d_name, text, len, &e, &err) < 0) {
        log_error(&err);
        continue;
      }
      g.cfg = xrealloc(g.cfg, (g.cfg_count + 1) * sizeof *g.cfg);
      g.cfg[g.cfg_count++] = e;
    }
    closedir(d);
  }
  /* listeners: keep those whose id and namespace are unchanged, open new ones, close the rest */
  for (served *s = g.served; s != NULL; s = s->next)
    s->seen = false;
  cleanup_free bool *matched = xcalloc(g.cfg_count + 1, sizeof *matched);
  for (size_t i = 0; i < g.cfg_count; i++)
    for (served *s = g.served; s != NULL; s = s->next)
      if (!s->seen && strcmp(s->id, g.cfg[i].id) == 0 && strcmp(s->netns, g.cfg[i].netns) == 0) {
        s->seen = matched[i] = true;
        break;
      }
  for (size_t i = 0; i < g.cfg_count; i++) {
    if (matched[i])
      continue;
    /* An endpoint renamed (a pre-made sandbox's `pool-<id>` becoming its container's id) keeps
     * its sockets: a second pair could not bind 127.0.0.11:53 in the same namespace while the
     * first is open, and the names are live one reload sooner. */
    served *hit = NULL;
    for (served *s = g.served; s != NULL && hit == NULL; s = s->next)
      if (!s->seen && strcmp(s->netns, g.cfg[i].netns) == 0)
        hit = s;
    if (hit != NULL) {
      free(hit->id);
      hit->id = xstrdup(g.cfg[i].id);
    } else {
      bt_error *err = NULL;
      hit = serve(&g.cfg[i], &err);
      if (hit == NULL) {
        log_error(&err);
        continue;
      }
      hit->next = g.served;
      g.served = hit;
    }
    hit->seen = true;
  }
  for (served **pp = &g.served; *pp != NULL;) {
    served *s = *pp;
    if (!s->seen) {
      *pp = s->next;
      drop_served(s);
    } else {
      pp = &s->next;
    }
  }
  /* ports */
  for (port *p = g.ports; p != NULL; p = p->next)
    p->seen = false;
  for (size_t i = 0; i < g.cfg_count; i++) {
    for (size_t j = 0; j < g.cfg[i].hold_count; j++) {
      const bt_netd_port *h = &g.cfg[i].holds[j];
      /* an IPv6 port that a proxy serves is held by the proxy's own socket */
      bool proxied = false;
      for (size_t k = 0; k < g.cfg[i].proxy_count; k++) {
        const bt_netd_port *x = &g.cfg[i].proxies[k];
        proxied |= x->protocol == h->protocol && x->port == h->port && x->family == h->family &&
                   memcmp(x->host, h->host, 16) == 0;
      }
      if (!proxied)
        keep_port(h, false);
    }
    for (size_t j = 0; j < g.cfg[i].proxy_count; j++)
      keep_port(&g.cfg[i].proxies[j], true);
  }
  for (port **pp = &g.ports; *pp != NULL;) {
    port *p = *pp;
    if (!p->seen) {
      *pp = p->next;
      drop_port(p);
    } else {
      pp = &p->next;
    }
  }
  write_serving();
  return g.cfg_count;
}

/* ── DNS ────────────────────────────────────────────────────────────────────────────────── */

static uint64_t rng_state;

static uint64_t rng(void) {
  /* xorshift64*: shuffling answers needs no cryptographic randomness */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static void reply(served *s, dns_conn *c, const struct sockaddr_storage *to, socklen_t to_len,
                  const uint8_t *msg, size_t len) {
  if (len == 0)
    return;
  if (c != NULL) {
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    struct iovec iov[2] = {{hdr, 2}, {(void *)msg, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    if (sendmsg(c->io.fd, &mh, MSG_NOSIGNAL) != (ssize_t)(len + 2))
      close_conn(c);
    return;
  }
  sendto(s->udp.fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)to, to_len);
}

static bool forward(served *s, dns_conn *c, const struct sockaddr_storage *from,
                    socklen_t from_len, const uint8_t *msg, size_t len, size_t upstream);

static void answer(served *s, dns_conn *c, const struct sockaddr_storage *from,
                   socklen_t from_len, const uint8_t *msg, size_t len) {
  uint8_t out[65535];
  size_t cap = c != NULL ? sizeof out : UDP_MAX;
  bt_dns_query q;
  if (bt_dns_parse_query(msg, len, &q) < 0) {
    reply(s, c, from, from_len, out, bt_dns_error(msg, len, NULL, BT_DNS_FORMERR, out, cap));
    return;
  }
  ssize_t me = cfg_index(s);
  if (me < 0)
    return;
  if (q.opcode != 0) {
    reply(s, c, from, from_len, out, bt_dns_error(msg, len, &q, BT_DNS_NOTIMP, out, cap));
    return;
  }
  bt_dns_addr addrs[MAX_ANSWER_ADDRS];
  size_t n = q.qclass == BT_DNS_CLASS_IN
                 ? bt_netd_lookup(g.cfg, g.cfg_count, (size_t)me, q.name, addrs, MAX_ANSWER_ADDRS)
                 : 0;
  if (n > 0) {
    if (n > MAX_ANSWER_ADDRS)
      n = MAX_ANSWER_ADDRS;
    /* all replicas, in a new order each time (Docker shuffles too): naive clients that take
     * the first address spread over the replicas */
    for (size_t i = n - 1; i > 0; i--) {
      size_t j = (size_t)(rng() % (i + 1));
      bt_dns_addr t = addrs[i];
      addrs[i] = addrs[j];
      addrs[j] = t;
    }
    /* a berth name with no address of the asked type: NOERROR and no answer (NODATA), so the
     * client does not go on to search domains for the other type */
    reply(s, c, from, from_len, out, bt_dns_answer(msg, &q, BT_DNS_NOERROR, addrs, n, TTL, out, cap));
    return;
  }
  if (g.cfg[me].upstream_count == 0) {
    reply(s, c, from, from_len, out, bt_dns_error(msg, len, &q, BT_DNS_REFUSED, out, cap));
    return;
  }
  if (!forward(s, c, from, from_len, msg, len, 0))
    reply(s, c, from, from_len, out, bt_dns_error(msg, len, &q, BT_DNS_SERVFAIL, out, cap));
}

static bool forward(served *s, dns_conn *c, const struct sockaddr_storage *from,
                    socklen_t from_len, const uint8_t *msg, size_t len, size_t upstream) {
  ssize_t me = cfg_index(s);
  if (me < 0 || len > UDP_MAX || g.pending_count >= MAX_PENDING)
    return false;
  const bt_netd_endpoint *e = &g.cfg[me];
  for (; upstream < e->upstream_count; upstream++) {
    const struct sockaddr_storage *to = &e->upstreams[upstream];
    bt_error *err = NULL;
    int fd = socket_in(NULL, to->ss_family, SOCK_DGRAM, &err);
    if (fd < 0) {
      log_error(&err);
      return false;
    }
    if (connect(fd, (const struct sockaddr *)to, e->upstream_lens[upstream]) < 0 ||
        send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len) {
      close(fd);
      continue;
    }
    pending *p = xcalloc(1, sizeof *p);
    p->io = (io){K_UPSTREAM, fd};
    p->ep = s;
    p->conn = c;
    if (from != NULL)
      memcpy(&p->client, from, from_len);
    p->client_len = from_len;
    memcpy(p->query, msg, len);
    p->query_len = len;
    p->upstream = upstream;
    p->deadline = now_ms() + UPSTREAM_TIMEOUT_MS;
    p->next = g.pending;
    g.pending = p;
    g.pending_count++;
    watch(&p->io, EPOLLIN);
    return true;
  }
  return false;
}

static void finish_pending(pending *p) {
  for (pending **pp = &g.pending; *pp != NULL; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  close_io(&p->io);
  g.pending_count--;
  free(p);
}

static void on_upstream(pending *p) {
  uint8_t buf[65535];
  ssize_t n = recv(p->io.fd, buf, sizeof buf, 0);
  if (n < BT_DNS_HEADER || bt_dns_id(buf) != bt_dns_id(p->query))
    return; /* not the answer (or an error from a refused port): the deadline handles it */
  if (p->conn == NULL && n > UDP_MAX) {
    n = UDP_MAX; /* the client asked over UDP without EDNS: the truncated bit tells it to retry */
    buf[2] |= 0x02;
  }
  reply(p->ep, p->conn, &p->client, p->client_len, buf, (size_t)n);
  finish_pending(p);
}

static void expire(uint64_t now) {
  for (pending *p = g.pending, *next; p != NULL; p = next) {
    next = p->next;
    if (p->deadline > now)
      continue;
    /* next upstream, else SERVFAIL */
    bool again = forward(p->ep, p->conn, p->conn ? NULL : &p->client, p->client_len, p->query,
                         p->query_len, p->upstream + 1);
    if (!again) {
      uint8_t out[UDP_MAX];
      bt_dns_query q;
      bool ok = bt_dns_parse_query(p->query, p->query_len, &q) == 0;
      reply(p->ep, p->conn, &p->client, p->client_len, out,
            bt_dns_error(p->query, p->query_len, ok ? &q : NULL, BT_DNS_SERVFAIL, out, sizeof out));
    }
    finish_pending(p);
    next = g.pending; /* the list changed under us: start over (expired ones are gone) */
  }
  for (dns_conn *c = g.conns, *next; c != NULL; c = next) {
    next = c->next;
    if (c->deadline <= now)
      close_conn(c);
  }
  for (udp_session **pp = &g.sessions; *pp != NULL;) {
    udp_session *u = *pp;
    if (u->last + 30000 <= now) {
      *pp = u->next;
      close_io(&u->io);
      free(u);
    } else {
      pp = &u->next;
    }
  }
}

static void on_dns_udp(served *s) {
  uint8_t msg[UDP_MAX + 1];
  struct sockaddr_storage from;
  socklen_t from_len = sizeof from;
  ssize_t n = recvfrom(s->udp.fd, msg, sizeof msg, 0, (struct sockaddr *)&from, &from_len);
  if (n <= 0 || n > UDP_MAX)
    return;
  answer(s, NULL, &from, from_len, msg, (size_t)n);
}

static void on_dns_tcp(served *s) {
  int fd = accept4(s->tcp.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  dns_conn *c = xcalloc(1, sizeof *c);
  c->io = (io){K_DNS_CONN, fd};
  c->ep = s;
  c->deadline = now_ms() + TCP_IDLE_MS;
  c->next = g.conns;
  g.conns = c;
  watch(&c->io, EPOLLIN);
}

static void on_dns_conn(dns_conn *c) {
  ssize_t n = read(c->io.fd, c->buf + c->have, sizeof c->buf - c->have);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN)
      return;
    close_conn(c);
    return;
  }
  c->have += (size_t)n;
  c->deadline = now_ms() + TCP_IDLE_MS;
  /* several queries may arrive on one connection (glibc sends A and AAAA back to back) */
  while (c->have >= 2) {
    size_t len = ((size_t)c->buf[0] << 8) | c->buf[1];
    if (c->have < 2 + len)
      return;
    uint8_t msg[65535];
    memcpy(msg, c->buf + 2, len);
    memmove(c->buf, c->buf + 2 + len, c->have - 2 - len);
    c->have -= 2 + len;
    answer(c->ep, c, NULL, 0, msg, len);
    /* answer() may have closed c on a failed write */
    bool alive = false;
    for (dns_conn *x = g.conns; x != NULL; x = x->next)
      alive |= x == c;
    if (!alive)
      return;
  }
}

/* ── the IPv6 userland proxy ───────────────────────────────────────────────────────────── */

static void proxy_close(proxy_conn *pc) {
  for (proxy_conn **pp = &g.proxies; *pp != NULL; pp = &(*pp)->next)
    if (*pp == pc) {
      *pp = pc->next;
      break;
    }
  close_io(&pc->a.io);
  close_io(&pc->b.io);
  free(pc->a.buf);
  free(pc->b.buf);
  free(pc);
}

/* Each end reads while its buffer (bytes for the other end) is empty and writes while the other
 * end's buffer has bytes; level-triggered epoll with the interest recomputed after each step. */
static void proxy_update(proxy_conn *pc) {
  proxy_end *e[2] = {&pc->a, &pc->b};
  for (int i = 0; i < 2; i++) {
    proxy_end *me = e[i], *other = e[1 - i];
    uint32_t ev = 0;
    if (pc->connecting && me == &pc->b)
      ev = EPOLLOUT;
    else {
      if (!me->eof && me->len == 0)
        ev |= EPOLLIN;
      if (other->len > 0)
        ev |= EPOLLOUT;
    }
    rewatch(&me->io, ev);
  }
  if (pc->a.eof && pc->b.eof && pc->a.len == 0 && pc->b.len == 0)
    proxy_close(pc);
}

static void on_proxy_end(proxy_end *me, uint32_t events) {
  proxy_conn *pc = me->pc;
  proxy_end *other = me == &pc->a ? &pc->b : &pc->a;
  if (pc->connecting && me == &pc->b) {
    int soerr = 0;
    socklen_t l = sizeof soerr;
    getsockopt(me->io.fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
    if (soerr != 0) {
      proxy_close(pc);
      return;
    }
    pc->connecting = false;
    proxy_update(pc);
    return;
  }
  if ((events & EPOLLOUT) && other->len > 0) {
    ssize_t n = send(me->io.fd, other->buf, other->len, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      proxy_close(pc);
      return;
    }
    if (n > 0) {
      memmove(other->buf, other->buf + n, other->len - (size_t)n);
      other->len -= (size_t)n;
    }
    if (other->len == 0 && other->eof)
      shutdown(me->io.fd, SHUT_WR);
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && me->len == 0 && !me->eof) {
    ssize_t n = recv(me->io.fd, me->buf, PROXY_BUF, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
      me->eof = true;
      if (n < 0) {
        proxy_close(pc);
        return;
      }
      shutdown(other->io.fd, SHUT_WR);
    } else if (n > 0) {
      me->len = (size_t)n;
    }
  }
  proxy_update(pc);
}

static void on_proxy_listen(port *p) {
  int fd = accept4(p->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  bt_error *err = NULL;
  int up = socket_in(NULL, p->spec.target_family, SOCK_STREAM, &err);
  if (up < 0) {
    log_error(&err);
    close(fd);
    return;
  }
  struct sockaddr_storage to;
  socklen_t to_len;
  fill_addr(&to, &to_len, p->spec.target_family, p->spec.target, p->spec.target_port);
  if (connect(up, (struct sockaddr *)&to, to_len) < 0 && errno != EINPROGRESS) {
    close(fd);
    close(up);
    return;
  }
  proxy_conn *pc = xcalloc(1, sizeof *pc);
  pc->a = (proxy_end){.io = {K_PROXY_END, fd}, .pc = pc, .buf = xmalloc(PROXY_BUF)};
  pc->b = (proxy_end){.io = {K_PROXY_END, up}, .pc = pc, .buf = xmalloc(PROXY_BUF)};
  pc->connecting = true;
  pc->next = g.proxies;
  g.proxies = pc;
  watch(&pc->a.io, 0);
  watch(&pc->b.io, EPOLLOUT);
  proxy_update(pc);
}

static void on_proxy_udp(port *p) {
  uint8_t buf[65535];
  struct sockaddr_storage from;
  socklen_t from_len = sizeof from;
  ssize_t n = recvfrom(p->io.fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
  if (n < 0)
    return;
  udp_session *u = NULL;
  for (udp_session *x = g.sessions; x != NULL; x = x->next)
    if (x->listener == p && x->client_len == from_len && memcmp(&x->client, &from, from_len) == 0)
      u = x;
  if (u == NULL) {
    bt_error *err = NULL;
    int fd = socket_in(NULL, p->spec.target_family, SOCK_DGRAM, &err);
    if (fd < 0) {
      log_error(&err);
      return;
    }
    struct sockaddr_storage to;
    socklen_t to_len;
    fill_addr(&to, &to_len, p->spec.target_family, p->spec.target, p->spec.target_port);
    if (connect(fd, (struct sockaddr *)&to, to_len) < 0) {
      close(fd);
      return;
    }
    u = xcalloc(1, sizeof *u);
    u->io = (io){K_PROXY_UDP_SESSION, fd};
    u->listener = p;
    memcpy(&u->client, &from, from_len);
    u->client_len = from_len;
    u->next = g.sessions;
    g.sessions = u;
    watch(&u->io, EPOLLIN);
  }
  u->last = now_ms();
  send(u->io.fd, buf, (size_t)n, MSG_NOSIGNAL);
}

static void on_proxy_udp_session(udp_session *u) {
  uint8_t buf[65535];
  ssize_t n = recv(u->io.fd, buf, sizeof buf, 0);
  if (n < 0)
    return;
  u->last = now_ms();
  sendto(u->listener->io.fd, buf, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&u->client,
         u->client_len);
}

/* ── main ───────────────────────────────────────────────────────────────────────────────── */

static void shutdown_all(void) {
  while (g.served != NULL) {
    served *s = g.served;
    g.served = s->next;
    drop_served(s);
  }
  while (g.ports != NULL) {
    port *p = g.ports;
    g.ports = p->next;
    drop_port(p);
  }
  while (g.proxies != NULL)
    proxy_close(g.proxies);
}

static void remove_pid_file(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/netd.pid", g.dir);
  unlink(path);
  g.pid_written = false;
}

static void write_pid_file(void) {
  char text[32];
  snprintf(text, sizeof text, "%d\n", (int)getpid());
  if (write_file_atomic("netd.pid", text) == 0)
    g.pid_written = true;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: berth-netd <dir>\n");
    return 2;
  }
  g.dir = argv[1];
  signal(SIGPIPE, SIG_IGN);
  char path[4096];
  snprintf(path, sizeof path, "%s/netd.lock", g.dir);
  int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  /* one daemon per directory: a second waits here until the first exits, then takes over */
  if (lock < 0 || flock(lock, LOCK_EX) < 0) {
    logf_("lock %s: %s", path, strerror(errno));
    return 1;
  }
  snprintf(path, sizeof path, "%s/endpoints", g.dir);
  g.endpoints_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g.home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  g.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (g.endpoints_dir < 0 || g.home < 0 || g.epfd < 0) {
    logf_("start: %s", strerror(errno));
    return 1;
  }
  if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state || rng_state == 0)
    rng_state = (uint64_t)now_ms() | 1;

  g.inotify = (io){K_INOTIFY, inotify_init1(IN_NONBLOCK | IN_CLOEXEC)};
  if (g.inotify.fd < 0 ||
      inotify_add_watch(g.inotify.fd, path,
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0) {
    logf_("inotify %s: %s", path, strerror(errno));
    return 1;
  }
  watch(&g.inotify, EPOLLIN);
  g.timer = (io){K_TIMER, timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
  struct itimerspec its = {.it_interval = {0, 250 * 1000000}, .it_value = {0, 250 * 1000000}};
  timerfd_settime(g.timer.fd, 0, &its, NULL);
  watch(&g.timer, EPOLLIN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  g.signal = (io){K_SIGNAL, signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)};
  watch(&g.signal, EPOLLIN);

  bool changed = true;
  for (;;) {
    if (changed) {
      changed = false;
      if (reload() == 0) {
        /* nothing to serve: go, unless an endpoint arrives between the pid file's removal and a
         * last look (whoever wrote it then finds no pid file and starts a daemon, which waits
         * for our lock) */
        remove_pid_file();
        if (reload() == 0)
          break;
      }
      if (!g.pid_written)
        write_pid_file();
    }
    /* one event per wait: a handler may free registrations that further events of the same
     * batch would point to */
    struct epoll_event evs[1];
    int n = epoll_wait(g.epfd, evs, 1, -1);
    if (n < 0 && errno == EINTR)
      continue;
    for (int i = 0; i < n; i++) {
      io *x = evs[i].data.ptr;
      switch (x->k) {
      case K_INOTIFY: {
        char buf[4096];
        while (read(x->fd, buf, sizeof buf) > 0)
          ;
        changed = true;
        break;
      }
      case K_TIMER: {
        uint64_t ticks;
        (void)!read(x->fd, &ticks, sizeof ticks);
        expire(now_ms());
        break;
      }
      case K_SIGNAL:
        shutdown_all();
        remove_pid_file();
        return 0;
      case K_DNS_UDP:
        on_dns_udp((served *)((char *)x - offsetof(served, udp)));
        break;
      case K_DNS_TCP:
        on_dns_tcp((served *)((char *)x - offsetof(served, tcp)));
        break;
      case K_DNS_CONN:
        on_dns_conn((dns_conn *)x);
        break;
      case K_UPSTREAM:
        on_upstream((pending *)x);
        break;
      case K_PROXY_LISTEN:
        on_proxy_listen((port *)x);
        break;
      case K_PROXY_UDP:
        on_proxy_udp((port *)x);
        break;
      case K_PROXY_END:
        on_proxy_end((proxy_end *)x, evs[i].events);
        break;
      case K_PROXY_UDP_SESSION:
        on_proxy_udp_session((udp_session *)x);
        break;
      }
    }
  }
  shutdown_all();
  return 0;
}
