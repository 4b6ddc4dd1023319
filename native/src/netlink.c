/* rtnetlink requests, built by hand: a request is one nlmsghdr, its fixed header (ifinfomsg,
 * ifaddrmsg or rtmsg) and a list of attributes, some nested. The kernel answers every request
 * with NLM_F_ACK by an NLMSG_ERROR message whose error field is 0 or -errno. */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

/* Requests are small: a veth with its nested peer is under 200 bytes. */
enum { REQ_SIZE = 1024 };

typedef struct req {
  union {
    struct nlmsghdr h;
    char align[REQ_SIZE];
  } u;
} req;

static void *req_tail(req *r) { return (char *)&r->u + NLMSG_ALIGN(r->u.h.nlmsg_len); }

static void req_init(req *r, uint16_t type, uint16_t flags, const void *fixed, size_t len) {
  memset(r, 0, sizeof *r);
  r->u.h.nlmsg_len = NLMSG_LENGTH(len);
  r->u.h.nlmsg_type = type;
  r->u.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  memcpy(NLMSG_DATA(&r->u.h), fixed, len);
}

/* Appends an attribute; returns it (for nesting). Aborts on overflow: sizes are static here. */
static struct rtattr *put(req *r, uint16_t type, const void *data, size_t len) {
  size_t need = NLMSG_ALIGN(r->u.h.nlmsg_len) + RTA_SPACE(len);
  if (need > REQ_SIZE)
    abort();
  struct rtattr *a = req_tail(r);
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len > 0)
    memcpy(RTA_DATA(a), data, len);
  r->u.h.nlmsg_len = need;
  return a;
}

static struct rtattr *put_str(req *r, uint16_t type, const char *s) {
  return put(r, type, s, strlen(s) + 1);
}

static struct rtattr *nest_begin(req *r, uint16_t type) { return put(r, type, NULL, 0); }

static void nest_end(req *r, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)req_tail(r) - (char *)nest);
}

int bt_nl_open(bt_nl *nl, bt_error **err) {
  nl->seq = 0;
  nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl->fd < 0)
    return bt_error_sys(err, "netlink socket");
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(nl->fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int rc = bt_error_sys(err, "bind netlink socket");
    bt_nl_close(nl);
    return rc;
  }
  return 0;
}

void bt_nl_close(bt_nl *nl) {
  if (nl->fd >= 0)
    close(nl->fd);
  nl->fd = -1;
}

/* Sends the request and waits for its ACK. Returns 0, or -1 with errno set from the kernel. */
static int transact(bt_nl *nl, req *r) {
  r->u.h.nlmsg_seq = ++nl->seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do
    n = sendto(nl->fd, &r->u, r->u.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (;;) {
    do
      n = recv(nl->fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
      return -1;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != nl->seq || h->nlmsg_type != NLMSG_ERROR)
        continue;
      const struct nlmsgerr *e = NLMSG_DATA(h);
      if (e->error == 0)
        return 0;
      errno = -e->error;
      return -1;
    }
  }
}

int bt_nl_ifindex(const char *name, int *index, bt_error **err) {
  unsigned i = if_nametoindex(name);
  if (i == 0)
    return bt_error_sys(err, "no link %s", name);
  *index = (int)i;
  return 0;
}

static int link_create(bt_nl *nl, const char *name, const char *kind, unsigned mtu,
                       const char *peer, int peer_ns_fd, const unsigned char *peer_mac) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  req r;
  req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  put_str(&r, IFLA_IFNAME, name);
  if (mtu > 0)
    put(&r, IFLA_MTU, &mtu, sizeof mtu);
  struct rtattr *info = nest_begin(&r, IFLA_LINKINFO);
  put_str(&r, IFLA_INFO_KIND, kind);
  if (peer != NULL) {
    /* veth: the peer is described by its own ifinfomsg followed by its attributes, inside
     * IFLA_INFO_DATA/VETH_INFO_PEER. Creating it directly in the target namespace saves the
     * move (and never lets a second name exist on the host, even for a moment). */
    struct rtattr *data = nest_begin(&r, IFLA_INFO_DATA);
    struct rtattr *p = nest_begin(&r, VETH_INFO_PEER);
    struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
    size_t at = NLMSG_ALIGN(r.u.h.nlmsg_len);
    if (at + sizeof peer_ifi > REQ_SIZE)
      abort();
    memcpy((char *)&r.u + at, &peer_ifi, sizeof peer_ifi);
    r.u.h.nlmsg_len = at + NLMSG_ALIGN(sizeof peer_ifi);
    put_str(&r, IFLA_IFNAME, peer);
    if (mtu > 0)
      put(&r, IFLA_MTU, &mtu, sizeof mtu);
    if (peer_mac != NULL)
      put(&r, IFLA_ADDRESS, peer_mac, 6);
    if (peer_ns_fd >= 0) {
      uint32_t fd = (uint32_t)peer_ns_fd;
      put(&r, IFLA_NET_NS_FD, &fd, sizeof fd);
    }
    nest_end(&r, p);
    nest_end(&r, data);
  }
  nest_end(&r, info);
  return transact(nl, &r);
}

int bt_nl_bridge_add(bt_nl *nl, const char *name, unsigned mtu, bt_error **err) {
  if (link_create(nl, name, "bridge", mtu, NULL, -1, NULL) < 0)
    return bt_error_sys(err, "create bridge %s", name);
  return 0;
}

static int parse_mac(const char *mac, unsigned char b[6], bt_error **err) {
  unsigned v[6];
  char extra;
  if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
             &extra) != 6)
    return bt_error_make(err, EINVAL, "malformed MAC address %s", mac);
  for (int i = 0; i < 6; i++)
    b[i] = (unsigned char)v[i];
  return 0;
}

int bt_nl_veth_add(bt_nl *nl, const char *name, const char *peer, int peer_ns_fd, unsigned mtu,
                   const char *peer_mac, bt_error **err) {
  unsigned char mac[6];
  if (peer_mac != NULL && parse_mac(peer_mac, mac, err) < 0)
    return -1;
  if (link_create(nl, name, "veth", mtu, peer, peer_ns_fd, peer_mac != NULL ? mac : NULL) < 0)
    return bt_error_sys(err, "create veth %s (peer %s)", name, peer);
  return 0;
}

/* A RTM_NEWLINK on an existing index changes it; `fill` adds what to change. */
static int link_change(bt_nl *nl, const char *name, unsigned flags, unsigned change,
                       uint16_t attr, const void *data, size_t len, bt_error **err,
                       const char *what) {
  int index = 0;
  if (bt_nl_ifindex(name, &index, err) < 0)
    return -1;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = flags,
                          .ifi_change = change};
  req r;
  req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (attr != 0)
    put(&r, attr, data, len);
  if (transact(nl, &r) < 0)
    return bt_error_sys(err, "%s %s", what, name);
  return 0;
}

int bt_nl_link_up(bt_nl *nl, const char *name, bt_error **err) {
  return link_change(nl, name, IFF_UP, IFF_UP, 0, NULL, 0, err, "set up");
}

int bt_nl_link_master(bt_nl *nl, const char *name, const char *master, bt_error **err) {
  int m = 0;
  if (bt_nl_ifindex(master, &m, err) < 0)
    return -1;
  uint32_t index = (uint32_t)m;
  return link_change(nl, name, 0, 0, IFLA_MASTER, &index, sizeof index, err, "set master of");
}

int bt_nl_link_mac(bt_nl *nl, const char *name, const char *mac, bt_error **err) {
  unsigned char b[6];
  if (parse_mac(mac, b, err) < 0)
    return -1;
  return link_change(nl, name, 0, 0, IFLA_ADDRESS, b, sizeof b, err, "set MAC address of");
}

int bt_nl_link_del(bt_nl *nl, const char *name, bt_error **err) {
  int index = 0;
  if (bt_nl_ifindex(name, &index, err) < 0)
    return -1;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  req r;
  req_init(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
  if (transact(nl, &r) < 0)
    return bt_error_sys(err, "delete link %s", name);
  return 0;
}

int bt_cidr_parse(const char *text, bt_cidr *out, bt_error **err) {
  char buf[64];
  if (strlen(text) >= sizeof buf)
    return bt_error_make(err, EINVAL, "malformed address %s", text);
  strcpy(buf, text);
  char *slash = strchr(buf, '/');
  if (slash != NULL)
    *slash = '\0';
  memset(out, 0, sizeof *out);
  out->family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
  int max = out->family == AF_INET ? 32 : 128;
  if (inet_pton(out->family, buf, out->addr) != 1)
    return bt_error_make(err, EINVAL, "malformed address %s", text);
  out->prefix = max;
  if (slash != NULL) {
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (*end != '\0' || end == slash + 1 || p < 0 || p > max)
      return bt_error_make(err, EINVAL, "malformed prefix length in %s", text);
    out->prefix = (int)p;
  }
  return 0;
}

static size_t addr_len(int family) { return family == AF_INET ? 4 : 16; }

int bt_nl_addr_add(bt_nl *nl, const char *name, const bt_cidr *cidr, bt_error **err) {
  int index = 0;
  if (bt_nl_ifindex(name, &index, err) < 0)
    return -1;
  struct ifaddrmsg ifa = {.ifa_family = (unsigned char)cidr->family,
                          .ifa_prefixlen = (unsigned char)cidr->prefix,
                          .ifa_scope = RT_SCOPE_UNIVERSE,
                          .ifa_index = (unsigned)index};
  req r;
  req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  put(&r, IFA_LOCAL, cidr->addr, addr_len(cidr->family));
  put(&r, IFA_ADDRESS, cidr->addr, addr_len(cidr->family));
  if (cidr->family == AF_INET && cidr->prefix < 31) {
    /* the broadcast address, as `ip addr add ... brd +` computes it */
    unsigned char brd[4];
    memcpy(brd, cidr->addr, 4);
    uint32_t host_mask = cidr->prefix == 0 ? 0xffffffffu : (0xffffffffu >> cidr->prefix);
    uint32_t v;
    memcpy(&v, brd, 4);
    v = htonl(ntohl(v) | host_mask);
    put(&r, IFA_BROADCAST, &v, 4);
  }
  if (cidr->family == AF_INET6) {
    /* no duplicate address detection: the address comes from berth's IPAM, and DAD would
     * leave it "tentative" (unusable) for a second after the link comes up */
    uint32_t flags = IFA_F_NODAD;
    put(&r, IFA_FLAGS, &flags, sizeof flags);
  }
  if (transact(nl, &r) < 0)
    return bt_error_sys(err, "add address to %s", name);
  return 0;
}

int bt_nl_route_add(bt_nl *nl, const char *dst, const char *gw, const char *dev, bt_error **err) {
  bt_cidr d = {0}, g = {0};
  bool is_default = dst == NULL || strcmp(dst, "default") == 0;
  if (!is_default && bt_cidr_parse(dst, &d, err) < 0)
    return -1;
  if (gw != NULL && bt_cidr_parse(gw, &g, err) < 0)
    return -1;
  int family = is_default ? (gw != NULL ? g.family : AF_INET) : d.family;
  struct rtmsg rt = {.rtm_family = (unsigned char)family,
                     .rtm_dst_len = is_default ? 0 : (unsigned char)d.prefix,
                     .rtm_table = RT_TABLE_MAIN,
                     .rtm_protocol = RTPROT_BOOT,
                     .rtm_scope = gw != NULL ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
                     .rtm_type = RTN_UNICAST};
  req r;
  req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
  if (!is_default)
    put(&r, RTA_DST, d.addr, addr_len(family));
  if (gw != NULL)
    put(&r, RTA_GATEWAY, g.addr, addr_len(family));
  if (dev != NULL) {
    int index = 0;
    if (bt_nl_ifindex(dev, &index, err) < 0)
      return -1;
    uint32_t oif = (uint32_t)index;
    put(&r, RTA_OIF, &oif, sizeof oif);
  }
  if (transact(nl, &r) < 0)
    return bt_error_sys(err, "add route %s via %s dev %s", is_default ? "default" : dst,
                        gw ? gw : "-", dev ? dev : "-");
  return 0;
}

int bt_netns_enter(const char *path, bt_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "open network namespace %s", path);
  if (setns(fd, CLONE_NEWNET) < 0)
    return bt_error_sys(err, "setns %s", path);
  return 0;
}

int bt_netns_create(const char *path, bt_error **err) {
  cleanup_close int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0)
    return bt_error_sys(err, "open own network namespace");
  /* The mount point: an empty file. O_EXCL: a path already in use is the caller's bug (or a
   * crash leftover, which repair deletes first). */
  cleanup_close int target = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (target < 0)
    return bt_error_sys(err, "create %s", path);
  if (unshare(CLONE_NEWNET) < 0) {
    int rc = bt_error_sys(err, "unshare network namespace");
    unlink(path);
    return rc;
  }
  int rc = 0;
  if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
    rc = bt_error_sys(err, "bind network namespace on %s", path);
  if (rc == 0) {
    bt_nl nl;
    rc = bt_nl_open(&nl, err);
    if (rc == 0) {
      rc = bt_nl_link_up(&nl, "lo", err);
      bt_nl_close(&nl);
    }
    if (rc < 0)
      umount2(path, MNT_DETACH);
  }
  if (rc < 0)
    unlink(path);
  /* Back home whatever happened: the caller's next step expects its own namespace. */
  if (setns(home, CLONE_NEWNET) < 0 && rc == 0)
    rc = bt_error_sys(err, "return to own network namespace");
  return rc;
}

int bt_netns_delete(const char *path, bt_error **err) {
  if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return bt_error_sys(err, "unmount %s", path);
  if (unlink(path) < 0 && errno != ENOENT)
    return bt_error_sys(err, "remove %s", path);
  return 0;
}
