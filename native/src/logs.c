/* json-file log writer. See logs.h for the format and its Docker origins. */
#include "logs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

void bt_format_time(const struct timespec *ts, char out[BT_TIME_MAX]) {
  struct tm tm;
  time_t secs = ts->tv_sec;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, BT_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
  long nsec = ts->tv_nsec % 1000000000L;
  if (nsec > 0) {
    char frac[24];
    snprintf(frac, sizeof frac, ".%09ld", nsec);
    size_t f = 10;
    while (frac[f - 1] == '0') /* Go's RFC3339Nano drops trailing zeros */
      f--;
    frac[f] = '\0';
    memcpy(out + n, frac, f);
    n += f;
  }
  out[n++] = 'Z';
  out[n] = '\0';
}

void bt_now(char out[BT_TIME_MAX]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  bt_format_time(&ts, out);
}

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 if the byte at s does not start
 * one. Same rules as Go's utf8.DecodeRune: no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_valid(const unsigned char *s, size_t len) {
  unsigned char c = s[0];
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) need = 2;
  else if (c == 0xE0) { need = 3; lo = 0xA0; }
  else if (c == 0xED) { need = 3; hi = 0x9F; } /* excludes UTF-16 surrogates */
  else if (c >= 0xE1 && c <= 0xEF) need = 3;
  else if (c == 0xF0) { need = 4; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) need = 4;
  else if (c == 0xF4) { need = 4; hi = 0x8F; }
  else return 0;
  if (len < need) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < need; i++)
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  return need;
}

size_t bt_json_escape(const char *str, size_t len, char *out) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    unsigned char b = s[i];
    if (b < 0x80) {
      if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
        out[o++] = (char)b;
      } else if (b == '\\' || b == '"') {
        out[o++] = '\\';
        out[o++] = (char)b;
      } else if (b == '\n') {
        out[o++] = '\\';
        out[o++] = 'n';
      } else if (b == '\r') {
        out[o++] = '\\';
        out[o++] = 'r';
      } else { /* other controls (TAB included) and <, >, & */
        memcpy(out + o, "\\u00", 4);
        o += 4;
        out[o++] = hex[b >> 4];
        out[o++] = hex[b & 0xF];
      }
      i++;
      continue;
    }
    size_t n = utf8_valid(s + i, len - i);
    if (n == 0) {
      memcpy(out + o, "\\ufffd", 6);
      o += 6;
      i++;
      continue;
    }
    /* U+2028 and U+2029 (E2 80 A8 / E2 80 A9) are escaped: they end lines in JavaScript. */
    if (n == 3 && b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
      memcpy(out + o, "\\u202", 5);
      o += 5;
      out[o++] = s[i + 2] == 0xA8 ? '8' : '9';
    } else {
      memcpy(out + o, s + i, n);
      o += n;
    }
    i += n;
  }
  return o;
}

/* The record {"log":...} for data, in a static buffer; returns its length. */
static size_t format_record(const char *stream, const char *data, size_t len, bool add_newline,
                            const char *time_text, const char **out);

int bt_log_write_record(int fd, const char *stream, const char *data, size_t len,
                        bool add_newline, const char *time_text, bt_error **err) {
  if (fd < 0)
    return 0;
  const char *record;
  size_t o = format_record(stream, data, len, add_newline, time_text, &record);
  /* One write() per record on an O_APPEND fd: records of concurrent writers never interleave. */
  if (bt_write_all(fd, record, o) < 0)
    return bt_error_sys(err, "write log");
  return 0;
}

static size_t format_record(const char *stream, const char *data, size_t len, bool add_newline,
                            const char *time_text, const char **out) {
  /* Worst case every byte becomes \u00XX (6 bytes); plus the fixed parts. The buffer is sized for
   * the largest record (16 KiB of data) and lives in static storage so the supervisor's stack
   * stays small; pages are only touched as far as a record actually reaches. */
  static char record[6 * BT_LOG_LINE_MAX + 256];
  size_t o = 0;
  memcpy(record + o, "{\"log\":\"", 8);
  o += 8;
  o += bt_json_escape(data, len, record + o);
  if (add_newline) {
    memcpy(record + o, "\\n", 2);
    o += 2;
  }
  o += (size_t)snprintf(record + o, sizeof record - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                        stream, time_text);
  *out = record;
  return o;
}

static int open_log_file(bt_log *log, bt_error **err) {
  /* O_NOFOLLOW: the bundle is berth's, but a symlink there must never redirect the log. */
  log->fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (log->fd < 0)
    return bt_error_sys(err, "open log %s", log->path);
  struct stat st;
  log->size = fstat(log->fd, &st) == 0 ? (unsigned long long)st.st_size : 0;
  return 0;
}

int bt_log_open(bt_log *log, const char *path, unsigned long long max_size, unsigned max_files,
                bt_error **err) {
  log->fd = -1;
  log->out.name = "stdout";
  log->out.used = 0;
  log->err.name = "stderr";
  log->err.used = 0;
  log->path = path;
  log->max_size = max_size;
  log->max_files = max_files == 0 ? 1 : max_files;
  log->size = 0;
  if (path == NULL)
    return 0;
  return open_log_file(log, err);
}

static int rotate(bt_log *log, bt_error **err) {
  if (log->max_files <= 1) {
    if (ftruncate(log->fd, 0) < 0)
      return bt_error_sys(err, "truncate log %s", log->path);
    log->size = 0;
    return 0;
  }
  char from[PATH_MAX], to[PATH_MAX];
  for (unsigned i = log->max_files - 1; i >= 1; i--) {
    if (i == 1)
      snprintf(from, sizeof from, "%s", log->path);
    else
      snprintf(from, sizeof from, "%s.%u", log->path, i - 1);
    snprintf(to, sizeof to, "%s.%u", log->path, i);
    if (rename(from, to) < 0 && errno != ENOENT)
      return bt_error_sys(err, "rotate log %s", from);
  }
  close(log->fd);
  log->fd = -1;
  return open_log_file(log, err);
}

/* One record into the log, rotating first when it would not fit. */
static int log_write(bt_log *log, const char *stream, const char *data, size_t len,
                     bool add_newline, const char *time_text, bt_error **err) {
  if (log->fd < 0)
    return 0;
  const char *record;
  size_t o = format_record(stream, data, len, add_newline, time_text, &record);
  if (log->max_size > 0 && log->size > 0 && log->size + o > log->max_size && rotate(log, err) < 0)
    return -1;
  if (bt_write_all(log->fd, record, o) < 0)
    return bt_error_sys(err, "write log");
  log->size += o;
  return 0;
}

int bt_log_feed(bt_log *log, bt_log_stream *st, const char *data, size_t len, bt_error **err) {
  char now[BT_TIME_MAX];
  bt_now(now);
  while (len > 0) {
    size_t room = BT_LOG_LINE_MAX - st->used;
    size_t take = len < room ? len : room;
    const char *nl = memchr(data, '\n', take);
    if (nl != NULL) {
      size_t part = (size_t)(nl - data);
      memcpy(st->line + st->used, data, part);
      st->used += part;
      if (log_write(log, st->name, st->line, st->used, true, now, err) < 0)
        return -1;
      st->used = 0;
      data += part + 1;
      len -= part + 1;
      continue;
    }
    memcpy(st->line + st->used, data, take);
    st->used += take;
    data += take;
    len -= take;
    if (st->used == BT_LOG_LINE_MAX) {
      /* A full buffer without a newline: a partial record, written without a newline. */
      if (log_write(log, st->name, st->line, st->used, false, now, err) < 0)
        return -1;
      st->used = 0;
    }
  }
  return 0;
}

int bt_log_flush(bt_log *log, bt_log_stream *st, bt_error **err) {
  if (st->used == 0)
    return 0;
  char now[BT_TIME_MAX];
  bt_now(now);
  int rc = log_write(log, st->name, st->line, st->used, true, now, err);
  st->used = 0;
  return rc;
}

void bt_log_close(bt_log *log) {
  if (log->fd >= 0)
    close(log->fd);
  log->fd = -1;
}
