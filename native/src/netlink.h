/* rtnetlink: links, addresses and routes of the network namespace the calling thread is in, and
 * named network namespaces (bind mounts of an nsfs file, as `ip netns add` makes them).
 *
 * Every call opens nothing global: a bt_nl handle is one NETLINK_ROUTE socket, bound to the
 * namespace that was current when it was opened. After a setns the caller opens a new handle.
 * Requests are synchronous: one message, one ACK (the kernel's answer carries the errno). */
#ifndef BT_NETLINK_H
#define BT_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct bt_nl {
  int fd;
  uint32_t seq;
} bt_nl;

/* An IPv4 or IPv6 address with a prefix length (the prefix is 0..32 or 0..128). */
typedef struct bt_cidr {
  int family; /* AF_INET or AF_INET6 */
  unsigned char addr[16];
  int prefix;
} bt_cidr;

/* "10.1.2.3/24", "fd00::2/64", or an address alone (prefix = full length). */
int bt_cidr_parse(const char *text, bt_cidr *out, bt_error **err);

int bt_nl_open(bt_nl *nl, bt_error **err);
void bt_nl_close(bt_nl *nl);

/* ifindex of a link of the current namespace. */
int bt_nl_ifindex(const char *name, int *index, bt_error **err);

/* Creates a bridge (fails with EEXIST when one of that name exists). mtu 0 keeps the default. */
int bt_nl_bridge_add(bt_nl *nl, const char *name, unsigned mtu, bt_error **err);
/* Creates a veth pair: `name` here, `peer` in the namespace `peer_ns_fd` refers to (-1: here),
 * with the MAC address `peer_mac` (NULL: a random one). */
int bt_nl_veth_add(bt_nl *nl, const char *name, const char *peer, int peer_ns_fd, unsigned mtu,
                   const char *peer_mac, bt_error **err);
int bt_nl_link_del(bt_nl *nl, const char *name, bt_error **err);
int bt_nl_link_up(bt_nl *nl, const char *name, bt_error **err);
int bt_nl_link_master(bt_nl *nl, const char *name, const char *master, bt_error **err);
/* "02:42:ac:11:00:02" */
int bt_nl_link_mac(bt_nl *nl, const char *name, const char *mac, bt_error **err);
int bt_nl_addr_add(bt_nl *nl, const char *name, const bt_cidr *cidr, bt_error **err);
/* dst NULL or "default": the default route of gw's family. gw NULL: a link-scope route. */
int bt_nl_route_add(bt_nl *nl, const char *dst, const char *gw, const char *dev, bt_error **err);

/* A named network namespace: a new one, with lo up, bind-mounted on `path` (a file that is
 * created). The calling thread ends up back in the namespace it started in. */
int bt_netns_create(const char *path, bt_error **err);
/* Unmounts (detached) and unlinks `path`. The namespace itself dies with its last user. */
int bt_netns_delete(const char *path, bt_error **err);
/* setns into the namespace `path` is bound on (or any /proc/<pid>/ns/net). */
int bt_netns_enter(const char *path, bt_error **err);

#endif
