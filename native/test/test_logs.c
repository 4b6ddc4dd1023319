/* json-file log: Docker's escaping, line splitting at 16 KiB, RFC3339Nano times. */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logs.h"
#include "tap.h"

static char *escape(const char *s, size_t len) {
  char *out = calloc(1, 6 * len + 1);
  bt_json_escape(s, len, out);
  return out;
}

#define ESC(lit, want, name)                                                                       \
  do {                                                                                             \
    char *e_ = escape(lit, sizeof lit - 1);                                                        \
    is_str(e_, want, name);                                                                        \
    free(e_);                                                                                      \
  } while (0)

static char *slurp_fd(int fd) {
  lseek(fd, 0, SEEK_SET);
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  ssize_t n;
  while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
    len += (size_t)n;
  buf[len] = '\0';
  return buf;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

int main(void) {
  /* escaping */
  ESC("plain text", "plain text", "printable ASCII unchanged");
  ESC("a\"b\\c", "a\\\"b\\\\c", "quote and backslash");
  ESC("\n\r", "\\n\\r", "newline and CR get short escapes");
  ESC("\t", "\\u0009", "TAB is \\u0009 (Docker has no short form for it)");
  ESC("\x01\x1f", "\\u0001\\u001f", "control characters");
  ESC("<a&b>", "\\u003ca\\u0026b\\u003e", "HTML-sensitive characters escaped as Go does");
  ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3",
      "valid UTF-8 passes through");
  ESC("a\xff" "b", "a\\ufffdb", "invalid byte -> \\ufffd");
  ESC("\xc3", "\\ufffd", "truncated sequence -> \\ufffd");
  ESC("\xc0\xaf", "\\ufffd\\ufffd", "overlong encoding: each byte replaced");
  ESC("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd", "UTF-16 surrogate rejected");
  ESC("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd", "above U+10FFFF rejected");
  ESC("\xe2\x80\xa8\xe2\x80\xa9", "\\u2028\\u2029", "U+2028/U+2029 escaped");

  /* time */
  char t[BT_TIME_MAX];
  struct timespec ts = {.tv_sec = 1795505408, .tv_nsec = 123456789};
  bt_format_time(&ts, t);
  is_str(t, "2026-11-24T07:30:08.123456789Z", "RFC3339Nano with 9 digits");
  ts.tv_nsec = 120000000;
  bt_format_time(&ts, t);
  is_str(t, "2026-11-24T07:30:08.12Z", "trailing zeros trimmed, as Go does");
  ts.tv_nsec = 0;
  bt_format_time(&ts, t);
  is_str(t, "2026-11-24T07:30:08Z", "no fraction at all for whole seconds");

  /* records */
  char path[] = "/tmp/bt-log-XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  bt_error *err = NULL;
  ok(bt_log_write_record(fd, "stdout", "hi", 2, true, "2026-11-24T07:30:08.1Z", &err) == 0,
     "write a record");
  char *got = slurp_fd(fd);
  is_str(got, "{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-24T07:30:08.1Z\"}\n",
         "record format is Docker's");
  free(got);
  close(fd);

  /* line splitting through a stream */
  bt_log log;
  char path2[] = "/tmp/bt-log-XXXXXX";
  close(mkstemp(path2));
  ok(bt_log_open(&log, path2, 0, 1, &err) == 0, "open log");
  bt_log_feed(&log, &log.out, "one\ntw", 6, &err);
  bt_log_feed(&log, &log.out, "o\nthree", 7, &err);
  bt_log_feed(&log, &log.err, "oops\n", 5, &err);
  bt_log_flush(&log, &log.out, &err);
  int rfd = open(path2, O_RDONLY);
  got = slurp_fd(rfd);
  close(rfd);
  ok(count_lines(got) == 4, "4 records for one, two, oops, three");
  ok(strstr(got, "{\"log\":\"one\\n\",\"stream\":\"stdout\"") != NULL, "first line");
  ok(strstr(got, "{\"log\":\"two\\n\",\"stream\":\"stdout\"") != NULL,
     "a line split across reads is joined");
  ok(strstr(got, "{\"log\":\"oops\\n\",\"stream\":\"stderr\"") != NULL, "stderr stream");
  ok(strstr(got, "{\"log\":\"three\\n\",\"stream\":\"stdout\"") != NULL,
     "pending text flushed at EOF with a newline (Docker's copier)");
  free(got);

  /* a 40000-byte line: 16384 + 16384 partial records, then 7232 bytes + newline */
  char *big = malloc(40001);
  memset(big, 'x', 40000);
  big[40000] = '\n';
  truncate(path2, 0);
  bt_log_feed(&log, &log.out, big, 40001, &err);
  rfd = open(path2, O_RDONLY);
  got = slurp_fd(rfd);
  close(rfd);
  ok(count_lines(got) == 3, "a 40000-byte line is three records");
  char *first_end = strstr(got, "\",\"stream\"");
  ok(first_end != NULL && first_end - (got + 8) == 16384 && first_end[-1] == 'x',
     "first record holds exactly 16384 bytes, no newline");
  char *last = strrchr(got, '{');
  char *last_end = strstr(last, "\",\"stream\"");
  ok(last_end - (last + 8) == 7232 + 2 && strncmp(last_end - 2, "\\n", 2) == 0,
     "last record: the remaining 7232 bytes and the newline");
  free(got);
  free(big);
  bt_log_close(&log);
  unlink(path2);

  /* no log: feeding is a no-op */
  ok(bt_log_open(&log, NULL, 0, 1, &err) == 0 && bt_log_feed(&log, &log.out, "x\n", 2, &err) == 0,
     "without a log path, feeding does nothing");

  /* rotation: 100-byte records into files of at most 250 bytes, 3 files kept */
  char path3[] = "/tmp/bt-rot-XXXXXX";
  close(mkstemp(path3));
  ok(bt_log_open(&log, path3, 250, 3, &err) == 0, "open a rotating log");
  for (int i = 0; i < 10; i++)
    bt_log_feed(&log, &log.out, "0123456789\n", 11, &err);
  bt_log_close(&log);
  char rot[64];
  struct stat st;
  int files = 0;
  off_t total = 0;
  for (int i = 0; i < 5; i++) {
    if (i == 0) snprintf(rot, sizeof rot, "%s", path3);
    else snprintf(rot, sizeof rot, "%s.%d", path3, i);
    if (stat(rot, &st) == 0) {
      files++;
      total += st.st_size;
      ok(st.st_size <= 250, "%s holds at most max-size bytes (%lld)", rot, (long long)st.st_size);
      unlink(rot);
    }
  }
  ok(files == 3, "max-file files kept: path, .1, .2 (%d)", files);
  ok(total > 250 * 2, "the kept files are filled up to their size (%lld bytes)", (long long)total);

  /* max-file 1: truncated in place */
  char path4[] = "/tmp/bt-trunc-XXXXXX";
  close(mkstemp(path4));
  ok(bt_log_open(&log, path4, 250, 1, &err) == 0, "open a truncating log");
  for (int i = 0; i < 10; i++)
    bt_log_feed(&log, &log.out, "0123456789\n", 11, &err);
  bt_log_close(&log);
  ok(stat(path4, &st) == 0 && st.st_size <= 250 && st.st_size > 0, "one file, at most max-size bytes");
  snprintf(rot, sizeof rot, "%s.1", path4);
  ok(stat(rot, &st) < 0, "no rotated file with max-file 1");
  unlink(path4);
  return tap_done();
}
