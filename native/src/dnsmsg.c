#include "dnsmsg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

uint16_t bt_dns_id(const uint8_t *msg) { return get16(msg); }

int bt_dns_parse_query(const uint8_t *msg, size_t len, bt_dns_query *q) {
  memset(q, 0, sizeof *q);
  if (len < BT_DNS_HEADER)
    return -1;
  q->id = get16(msg);
  uint16_t flags = get16(msg + 2);
  q->opcode = (uint8_t)((flags >> 11) & 0xf);
  q->rd = (flags & 0x0100) != 0;
  if ((flags & 0x8000) != 0) /* a response, not a query */
    return -1;
  if (get16(msg + 4) != 1) /* QDCOUNT: exactly one question, as every resolver sends */
    return -1;
  size_t at = BT_DNS_HEADER, out = 0;
  for (;;) {
    if (at >= len)
      return -1;
    uint8_t label = msg[at++];
    if (label == 0)
      break;
    if ((label & 0xc0) != 0 || at + label > len)
      return -1;
    if (out + label + 1 > BT_DNS_NAME_MAX)
      return -1;
    if (out > 0)
      q->name[out++] = '.';
    for (uint8_t i = 0; i < label; i++) {
      uint8_t c = msg[at + i];
      /* '.' inside a label or a NUL would make the dotted form ambiguous: not a name we serve,
       * but still forwardable, so keep it distinguishable with a placeholder */
      q->name[out++] = (c == '.' || c == 0) ? '\x01' : (char)tolower(c);
    }
    at += label;
  }
  q->name[out] = '\0';
  if (at + 4 > len)
    return -1;
  q->qtype = get16(msg + at);
  q->qclass = get16(msg + at + 2);
  q->question_end = at + 4;
  return 0;
}

static size_t header(uint8_t *out, uint16_t id, uint8_t opcode, bool rd, int rcode,
                     uint16_t qd, uint16_t an, bool tc) {
  /* QR=1, AA=0 (Docker's resolver is not authoritative either), RA=1 */
  uint16_t flags = (uint16_t)(0x8000 | (opcode << 11) | (tc ? 0x0200 : 0) | (rd ? 0x0100 : 0) |
                              0x0080 | (rcode & 0xf));
  put16(out, id);
  put16(out + 2, flags);
  put16(out + 4, qd);
  put16(out + 6, an);
  put16(out + 8, 0);
  put16(out + 10, 0);
  return BT_DNS_HEADER;
}

size_t bt_dns_answer(const uint8_t *query, const bt_dns_query *q, int rcode,
                     const bt_dns_addr *addrs, size_t count, uint32_t ttl, uint8_t *out,
                     size_t cap) {
  size_t qlen = q->question_end - BT_DNS_HEADER;
  if (cap < BT_DNS_HEADER + qlen)
    return 0;
  memcpy(out + BT_DNS_HEADER, query + BT_DNS_HEADER, qlen);
  size_t at = BT_DNS_HEADER + qlen;
  uint16_t an = 0;
  bool tc = false;
  int want = q->qtype == BT_DNS_A ? AF_INET : q->qtype == BT_DNS_AAAA ? AF_INET6 : 0;
  for (size_t i = 0; i < count && want != 0; i++) {
    if (addrs[i].family != want)
      continue;
    size_t alen = want == AF_INET ? 4 : 16;
    if (at + 12 + alen > cap) {
      tc = true;
      break;
    }
    put16(out + at, 0xc000 | BT_DNS_HEADER); /* the name: a pointer to the question's */
    put16(out + at + 2, q->qtype);
    put16(out + at + 4, BT_DNS_CLASS_IN);
    put16(out + at + 6, (uint16_t)(ttl >> 16));
    put16(out + at + 8, (uint16_t)ttl);
    put16(out + at + 10, (uint16_t)alen);
    memcpy(out + at + 12, addrs[i].bytes, alen);
    at += 12 + alen;
    an++;
  }
  header(out, q->id, q->opcode, q->rd, rcode, 1, an, tc);
  return at;
}

size_t bt_dns_error(const uint8_t *msg, size_t len, const bt_dns_query *q, int rcode, uint8_t *out,
                    size_t cap) {
  if (len < BT_DNS_HEADER || cap < BT_DNS_HEADER)
    return 0;
  uint16_t flags = get16(msg + 2);
  if (q != NULL && q->question_end > 0)
    return bt_dns_answer(msg, q, rcode, NULL, 0, 0, out, cap);
  return header(out, get16(msg), (uint8_t)((flags >> 11) & 0xf), (flags & 0x0100) != 0, rcode, 0,
                0, false);
}
