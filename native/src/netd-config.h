/* berth-netd's input: one endpoint file per container sandbox (written by
 * src/network/netd.ts renderEndpoint, format 1), and the name lookup across all of them. Pure:
 * text in, structures out; the lookup reads only its arguments. */
#ifndef BT_NETD_CONFIG_H
#define BT_NETD_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsmsg.h"
#include "error.h"

#define BT_NETD_FORMAT 1

typedef struct bt_netd_name {
  char *net;  /* network id */
  char *name; /* lower case */
} bt_netd_name;

typedef struct bt_netd_addr {
  char *net;
  bt_dns_addr addr;
} bt_netd_addr;

typedef struct bt_netd_port {
  int protocol;  /* IPPROTO_TCP / IPPROTO_UDP */
  int family;    /* of the host address */
  uint8_t host[16];
  uint16_t port;
  /* proxies only: where connections go */
  int target_family;
  uint8_t target[16];
  uint16_t target_port;
} bt_netd_port;

typedef struct bt_netd_endpoint {
  char *id;    /* the file's name: the container id */
  char *netns; /* where 127.0.0.11:53 is served */
  struct sockaddr_storage upstreams[8];
  socklen_t upstream_lens[8];
  size_t upstream_count;
  char **search;
  size_t search_count;
  char **members; /* network ids */
  size_t member_count;
  bt_netd_name *names;
  size_t name_count;
  bt_netd_addr *addrs;
  size_t addr_count;
  bt_netd_port *holds;
  size_t hold_count;
  bt_netd_port *proxies;
  size_t proxy_count;
} bt_netd_endpoint;

int bt_netd_endpoint_parse(const char *id, const char *text, size_t len, bt_netd_endpoint *out,
                           bt_error **err);
void bt_netd_endpoint_free(bt_netd_endpoint *e);

/* The addresses a name has for the asking endpoint: those of every endpoint sharing a network
 * with it that answers to the name on that network. A name of the form "<berth name>.<one of the
 * asker's search domains>" is looked up as "<berth name>" (docker/compose#12676: a search domain
 * with a wildcard record must not win over a service name). Fills up to `cap` addresses, returns
 * how many there were in all (0: not a berth name; the caller forwards it). */
size_t bt_netd_lookup(const bt_netd_endpoint *all, size_t count, size_t asker, const char *name,
                      bt_dns_addr *out, size_t cap);

#endif
