#include "netd-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

enum { MAX_FIELDS = 7 };

#define PUSH(arr, count, value)                                                                    \
  do {                                                                                             \
    (arr) = xrealloc((arr), ((count) + 1) * sizeof *(arr));                                        \
    (arr)[(count)++] = (value);                                                                    \
  } while (0)

static int parse_ip(const char *text, int *family, uint8_t out[16]) {
  memset(out, 0, 16);
  *family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
  return inet_pton(*family, text, out) == 1 ? 0 : -1;
}

static int parse_port(const char *text, uint16_t *port) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*end != '\0' || end == text || v < 1 || v > 65535)
    return -1;
  *port = (uint16_t)v;
  return 0;
}

static int parse_protocol(const char *text) {
  return strcmp(text, "tcp") == 0 ? IPPROTO_TCP : strcmp(text, "udp") == 0 ? IPPROTO_UDP : -1;
}

/* One record; f[0] is its kind. */
static int record(bt_netd_endpoint *e, char **f, size_t n, bt_error **err) {
  const char *k = f[0];
#define NEED(c)                                                                                    \
  if (n != (c) + 1)                                                                                \
  return bt_error_make(err, EINVAL, "%s takes %d fields", k, (c))
  if (strcmp(k, "netns") == 0) {
    NEED(1);
    free(e->netns);
    e->netns = xstrdup(f[1]);
  } else if (strcmp(k, "upstream") == 0) {
    NEED(1);
    int family;
    uint8_t ip[16];
    if (parse_ip(f[1], &family, ip) < 0)
      return bt_error_make(err, EINVAL, "bad upstream address %s", f[1]);
    if (e->upstream_count == sizeof e->upstreams / sizeof e->upstreams[0])
      return 0; /* resolv.conf semantics: only the first few are used anyway */
    struct sockaddr_storage *ss = &e->upstreams[e->upstream_count];
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *)ss;
      sin->sin_family = AF_INET;
      sin->sin_port = htons(53);
      memcpy(&sin->sin_addr, ip, 4);
      e->upstream_lens[e->upstream_count++] = sizeof *sin;
    } else {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(53);
      memcpy(&sin6->sin6_addr, ip, 16);
      e->upstream_lens[e->upstream_count++] = sizeof *sin6;
    }
  } else if (strcmp(k, "search") == 0) {
    NEED(1);
    PUSH(e->search, e->search_count, xstrdup(f[1]));
  } else if (strcmp(k, "member") == 0) {
    NEED(1);
    PUSH(e->members, e->member_count, xstrdup(f[1]));
  } else if (strcmp(k, "name") == 0) {
    NEED(2);
    bt_netd_name v = {.net = xstrdup(f[1]), .name = xstrdup(f[2])};
    PUSH(e->names, e->name_count, v);
  } else if (strcmp(k, "addr") == 0) {
    NEED(2);
    bt_netd_addr v = {0};
    if (parse_ip(f[2], &v.addr.family, v.addr.bytes) < 0)
      return bt_error_make(err, EINVAL, "bad address %s", f[2]);
    v.net = xstrdup(f[1]);
    PUSH(e->addrs, e->addr_count, v);
  } else if (strcmp(k, "hold") == 0 || strcmp(k, "proxy") == 0) {
    bool proxy = k[0] == 'p';
    if (n != (proxy ? 6u : 4u))
      return bt_error_make(err, EINVAL, "%s takes %d fields", k, proxy ? 5 : 3);
    bt_netd_port p = {.protocol = parse_protocol(f[1])};
    if (p.protocol < 0 || parse_ip(f[2], &p.family, p.host) < 0 || parse_port(f[3], &p.port) < 0)
      return bt_error_make(err, EINVAL, "bad %s %s %s %s", k, f[1], f[2], f[3]);
    if (proxy) {
      if (parse_ip(f[4], &p.target_family, p.target) < 0 || parse_port(f[5], &p.target_port) < 0)
        return bt_error_make(err, EINVAL, "bad proxy target %s %s", f[4], f[5]);
      PUSH(e->proxies, e->proxy_count, p);
    } else {
      PUSH(e->holds, e->hold_count, p);
    }
  } else {
    return bt_error_make(err, EINVAL, "unknown record %s", k);
  }
#undef NEED
  return 0;
}

int bt_netd_endpoint_parse(const char *id, const char *text, size_t len, bt_netd_endpoint *out,
                           bt_error **err) {
  memset(out, 0, sizeof *out);
  out->id = xstrdup(id);
  cleanup_free char *copy = xmalloc(len + 1);
  memcpy(copy, text, len);
  copy[len] = '\0';
  int line_no = 0;
  for (char *line = copy, *next; line != NULL && *line != '\0'; line = next) {
    line_no++;
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    char *f[MAX_FIELDS + 1];
    size_t n = 0;
    for (char *p = line; p != NULL && n <= MAX_FIELDS;) {
      f[n++] = p;
      p = strchr(p, '\t');
      if (p != NULL)
        *p++ = '\0';
    }
    int rc;
    if (line_no == 1)
      rc = (n == 2 && strcmp(f[0], "berth-netd") == 0 && atoi(f[1]) == BT_NETD_FORMAT)
               ? 0
               : bt_error_make(err, EINVAL, "not a format %d endpoint file", BT_NETD_FORMAT);
    else
      rc = record(out, f, n, err);
    if (rc < 0) {
      bt_error_wrap(err, "%s line %d", id, line_no);
      bt_netd_endpoint_free(out);
      return -1;
    }
  }
  if (line_no == 0 || out->netns == NULL) {
    bt_netd_endpoint_free(out);
    return bt_error_make(err, EINVAL, "%s: no netns record", id);
  }
  return 0;
}

void bt_netd_endpoint_free(bt_netd_endpoint *e) {
  free(e->id);
  free(e->netns);
  for (size_t i = 0; i < e->search_count; i++)
    free(e->search[i]);
  free(e->search);
  for (size_t i = 0; i < e->member_count; i++)
    free(e->members[i]);
  free(e->members);
  for (size_t i = 0; i < e->name_count; i++) {
    free(e->names[i].net);
    free(e->names[i].name);
  }
  free(e->names);
  for (size_t i = 0; i < e->addr_count; i++)
    free(e->addrs[i].net);
  free(e->addrs);
  free(e->holds);
  free(e->proxies);
  memset(e, 0, sizeof *e);
}

static bool member(const bt_netd_endpoint *e, const char *net) {
  for (size_t i = 0; i < e->member_count; i++)
    if (strcmp(e->members[i], net) == 0)
      return true;
  return false;
}

static size_t lookup_exact(const bt_netd_endpoint *all, size_t count, size_t asker,
                           const char *name, size_t name_len, bt_dns_addr *out, size_t cap) {
  const bt_netd_endpoint *a = &all[asker];
  size_t found = 0;
  for (size_t e = 0; e < count; e++) {
    for (size_t i = 0; i < all[e].name_count; i++) {
      const bt_netd_name *nm = &all[e].names[i];
      if (strlen(nm->name) != name_len || memcmp(nm->name, name, name_len) != 0 ||
          !member(a, nm->net))
        continue;
      /* this endpoint answers to the name on a network the asker is on: its addresses there */
      for (size_t j = 0; j < all[e].addr_count; j++) {
        if (strcmp(all[e].addrs[j].net, nm->net) != 0)
          continue;
        if (found < cap)
          out[found] = all[e].addrs[j].addr;
        found++;
      }
    }
  }
  return found;
}

size_t bt_netd_lookup(const bt_netd_endpoint *all, size_t count, size_t asker, const char *name,
                      bt_dns_addr *out, size_t cap) {
  size_t len = strlen(name);
  size_t found = lookup_exact(all, count, asker, name, len, out, cap);
  if (found > 0)
    return found;
  const bt_netd_endpoint *a = &all[asker];
  for (size_t i = 0; i < a->search_count; i++) {
    size_t slen = strlen(a->search[i]);
    if (len <= slen + 1 || name[len - slen - 1] != '.' ||
        memcmp(name + len - slen, a->search[i], slen) != 0)
      continue;
    found = lookup_exact(all, count, asker, name, len - slen - 1, out, cap);
    if (found > 0)
      return found;
  }
  return 0;
}
