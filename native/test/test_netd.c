/* berth-netd's pure parts: the endpoint file (the sample src/network/netd.test.ts renders too),
 * the name lookup across endpoints, and DNS messages. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "netd-config.h"
#include "tap.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return NULL;
  static char buf[8192];
  *len = fread(buf, 1, sizeof buf - 1, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

static bt_netd_endpoint parse(const char *id, const char *text) {
  bt_netd_endpoint e;
  bt_error *err = NULL;
  if (bt_netd_endpoint_parse(id, text, strlen(text), &e, &err) < 0) {
    char msg[256];
    bt_error_format(err, msg, sizeof msg);
    printf("# parse failed: %s\n", msg);
    exit(1);
  }
  return e;
}

static size_t build_query(uint8_t *out, uint16_t id, const char *name, uint16_t qtype) {
  memset(out, 0, 12);
  out[0] = (uint8_t)(id >> 8);
  out[1] = (uint8_t)id;
  out[2] = 0x01; /* RD */
  out[5] = 1;    /* QDCOUNT */
  size_t at = 12;
  const char *p = name;
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t l = dot ? (size_t)(dot - p) : strlen(p);
    out[at++] = (uint8_t)l;
    memcpy(out + at, p, l);
    at += l;
    p += l + (dot ? 1 : 0);
  }
  out[at++] = 0;
  out[at++] = 0;
  out[at++] = (uint8_t)qtype;
  out[at++] = 0;
  out[at++] = 1;
  return at;
}

int main(void) {
  size_t len;
  const char *text = slurp("sample.endpoint", &len);
  ok(text != NULL, "read the shared sample");
  bt_netd_endpoint e = parse("c1", text);
  is_str(e.netns, "/run/berth/network/netns/0123", "netns");
  ok(e.upstream_count == 2 && e.upstreams[0].ss_family == AF_INET &&
         e.upstreams[1].ss_family == AF_INET6,
     "two upstreams, v4 then v6");
  ok(ntohs(((struct sockaddr_in *)&e.upstreams[0])->sin_port) == 53, "upstreams on port 53");
  ok(e.search_count == 1 && strcmp(e.search[0], "corp.example") == 0, "search domain");
  ok(e.member_count == 2 && e.name_count == 3 && e.addr_count == 3, "members, names, addresses");
  ok(e.hold_count == 2 && e.holds[0].port == 8080 && e.holds[1].family == AF_INET6, "holds");
  ok(e.proxy_count == 1 && e.proxies[0].target_port == 80 &&
         e.proxies[0].target_family == AF_INET,
     "proxy");
  bt_netd_endpoint_free(&e);

  bt_error *err = NULL;
  bt_netd_endpoint bad;
  ok(bt_netd_endpoint_parse("x", "berth-netd\t2\nnetns\t/n\n", 24, &bad, &err) < 0,
     "another format is refused");
  bt_error_release(&err);
  const char *unknown = "berth-netd\t1\nnetns\t/n\nwhat\tever\n";
  ok(bt_netd_endpoint_parse("x", unknown, strlen(unknown), &bad, &err) < 0 && err != NULL &&
         strstr(err->message, "line 3") != NULL,
     "an unknown record is refused with its line");
  bt_error_release(&err);

  /* lookups: a and b share net1; c is only on net2 with another "db" */
  bt_netd_endpoint all[3] = {
      parse("a", "berth-netd\t1\nnetns\t/a\nsearch\tcorp.example\nmember\tnet1\nname\tnet1\tweb\n"
                 "addr\tnet1\t10.0.0.2\n"),
      parse("b", "berth-netd\t1\nnetns\t/b\nmember\tnet1\nname\tnet1\tweb\nname\tnet1\tdb\n"
                 "addr\tnet1\t10.0.0.3\naddr\tnet1\tfd00::3\n"),
      parse("c", "berth-netd\t1\nnetns\t/c\nmember\tnet2\nname\tnet2\tdb\naddr\tnet2\t10.9.0.9\n"),
  };
  bt_dns_addr got[8];
  ok(bt_netd_lookup(all, 3, 0, "web", got, 8) == 3, "a service name: every replica on a shared network (both families)");
  ok(bt_netd_lookup(all, 3, 0, "db", got, 8) == 2 && got[0].family == AF_INET &&
         got[1].family == AF_INET6,
     "db from a: b's addresses only (c is on another network)");
  ok(bt_netd_lookup(all, 3, 2, "web", got, 8) == 0, "web from c: not a name on its network");
  ok(bt_netd_lookup(all, 3, 2, "db", got, 8) == 1 && got[0].bytes[1] == 9, "db from c: c itself");
  ok(bt_netd_lookup(all, 3, 0, "db.corp.example", got, 8) == 2,
     "<name>.<search domain> is the berth name (compose#12676)");
  ok(bt_netd_lookup(all, 3, 1, "db.corp.example", got, 8) == 0,
     "only for the asker's own search domains");
  ok(bt_netd_lookup(all, 3, 0, "corp.example", got, 8) == 0, "the search domain alone is not a name");
  for (int i = 0; i < 3; i++)
    bt_netd_endpoint_free(&all[i]);

  /* DNS messages */
  uint8_t q[512], out[512];
  size_t qlen = build_query(q, 0xbeef, "Web.Example", BT_DNS_A);
  bt_dns_query parsed;
  ok(bt_dns_parse_query(q, qlen, &parsed) == 0, "a query parses");
  is_str(parsed.name, "web.example", "names are lower-cased and dotted");
  ok(parsed.id == 0xbeef && parsed.qtype == BT_DNS_A && parsed.rd, "id, type, RD");
  bt_dns_addr addrs[3] = {{AF_INET, {10, 0, 0, 2}}, {AF_INET6, {0xfd}}, {AF_INET, {10, 0, 0, 3}}};
  size_t n = bt_dns_answer(q, &parsed, BT_DNS_NOERROR, addrs, 3, 5, out, sizeof out);
  ok(n == qlen + 2 * 16, "two A records (the AAAA skipped)");
  ok(out[0] == 0xbe && out[1] == 0xef && (out[2] & 0x80) && (out[2] & 0x01) && (out[3] & 0x80) &&
         (out[3] & 0xf) == 0,
     "id echoed, QR, RD, RA, NOERROR");
  ok(out[7] == 2 && out[qlen] == 0xc0 && out[qlen + 1] == 12 && out[qlen + 12] == 10,
     "ANCOUNT 2; the name points at the question; the address follows");
  n = bt_dns_answer(q, &parsed, BT_DNS_NOERROR, addrs, 3, 5, out, qlen + 16);
  ok(n == qlen + 16 && (out[2] & 0x02) && out[7] == 1, "what does not fit sets TC");
  n = bt_dns_error(q, qlen, &parsed, BT_DNS_REFUSED, out, sizeof out);
  ok(n == qlen && (out[3] & 0xf) == BT_DNS_REFUSED && out[5] == 1 && out[7] == 0,
     "an error answer carries the question");
  ok(bt_dns_parse_query(q, 11, &parsed) < 0, "a short message is refused");
  q[2] |= 0x80;
  ok(bt_dns_parse_query(q, qlen, &parsed) < 0, "a response is not a query");
  q[2] &= 0x7f;
  q[12] = 0xc0;
  ok(bt_dns_parse_query(q, qlen, &parsed) < 0, "a compression pointer in the question is refused");
  return tap_done();
}
