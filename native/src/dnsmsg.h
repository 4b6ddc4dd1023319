/* DNS messages, the little of RFC 1035 the embedded resolver needs: read a query's question,
 * write an answer with A/AAAA records or an error code. Pure: buffers in, buffers out. */
#ifndef BT_DNSMSG_H
#define BT_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  BT_DNS_A = 1,
  BT_DNS_AAAA = 28,
  BT_DNS_CLASS_IN = 1,
  BT_DNS_NOERROR = 0,
  BT_DNS_FORMERR = 1,
  BT_DNS_SERVFAIL = 2,
  BT_DNS_NXDOMAIN = 3,
  BT_DNS_NOTIMP = 4,
  BT_DNS_REFUSED = 5,
  BT_DNS_HEADER = 12,
  BT_DNS_NAME_MAX = 255,
};

typedef struct bt_dns_query {
  uint16_t id;
  uint8_t opcode;
  bool rd;                       /* recursion desired: echoed in the answer */
  char name[BT_DNS_NAME_MAX + 1]; /* lower case, labels joined by '.', no trailing dot; "" = root */
  uint16_t qtype, qclass;
  size_t question_end;           /* offset just past the question: the answer copies [12, end) */
} bt_dns_query;

/* One address to answer with. */
typedef struct bt_dns_addr {
  int family; /* AF_INET or AF_INET6 */
  uint8_t bytes[16];
} bt_dns_addr;

/* Reads the header and the one question of a query. -1 when it is not a well-formed standard
 * query with exactly one question (the caller answers FORMERR when at least the header is there).
 * Compression pointers are refused in a question (no resolver sends them there). */
int bt_dns_parse_query(const uint8_t *msg, size_t len, bt_dns_query *q);

/* Writes an answer to `q` (whose raw bytes are `query`): the question copied, then one record per
 * address whose family matches the question's type, with `ttl`. When they do not fit in `cap`,
 * as many as fit are written and TC is set (the client retries over TCP). Returns the length,
 * or 0 when not even the header and question fit. */
size_t bt_dns_answer(const uint8_t *query, const bt_dns_query *q, int rcode,
                     const bt_dns_addr *addrs, size_t count, uint32_t ttl, uint8_t *out,
                     size_t cap);

/* An error answer to a message whose header could be read (FORMERR for garbage): header only,
 * or with the question when `q` is non-NULL. Returns the length (0 if len < 12). */
size_t bt_dns_error(const uint8_t *msg, size_t len, const bt_dns_query *q, int rcode, uint8_t *out,
                    size_t cap);

/* The id of a message (first two bytes), for matching a forwarded answer. */
uint16_t bt_dns_id(const uint8_t *msg);

#endif
