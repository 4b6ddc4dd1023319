/* The json-file log, byte-compatible with Docker's json-file driver:
 *   {"log":"text\n","stream":"stdout","time":"2026-11-24T07:30:08.123456789Z"}
 * Output is cut into lines; a line longer than BT_LOG_LINE_MAX is written as records of that
 * size without a trailing newline (Docker's partial messages), and whatever is left when the
 * stream ends is written with a newline appended, as Docker's copier does. */
#ifndef BT_LOGS_H
#define BT_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

#define BT_LOG_LINE_MAX (16 * 1024)
#define BT_TIME_MAX 40

/* RFC3339Nano in UTC as Go formats it: fractional seconds with trailing zeros removed (and no
 * dot at all when the nanoseconds are 0), e.g. "2026-11-24T07:30:08.1234Z". */
void bt_format_time(const struct timespec *ts, char out[BT_TIME_MAX]);
/* The current time (CLOCK_REALTIME) formatted as above. */
void bt_now(char out[BT_TIME_MAX]);

/* Append `len` bytes of `s` JSON-escaped exactly as Docker's jsonlog does: \" \\ \n \r get short
 * escapes; other bytes < 0x20 and < > & become \u00XX; invalid UTF-8 bytes become \ufffd one
 * byte at a time; U+2028/U+2029 become \u2028/\u2029. `out` must hold 6*len bytes; returns the
 * number written. */
size_t bt_json_escape(const char *s, size_t len, char *out);

/* One output stream of the container (stdout or stderr) feeding the log. */
typedef struct bt_log_stream {
  const char *name;              /* "stdout" / "stderr" */
  size_t used;                   /* bytes pending in line (a line not yet terminated) */
  char line[BT_LOG_LINE_MAX];
} bt_log_stream;

typedef struct bt_log {
  int fd; /* the log file, O_APPEND; -1 when no log is kept */
  bt_log_stream out, err;
  const char *path;        /* borrowed from the launch */
  unsigned long long max_size; /* rotate before a record would take the file past this; 0 = never */
  unsigned max_files;      /* files kept: path, path.1 ... path.<max_files-1>; 1 = truncate in place */
  unsigned long long size; /* bytes in the current file */
} bt_log;

/* Open (create, append) the log at path; path NULL means "no log" (writes become no-ops).
 * Rotation as Docker's json-file does it: when a record would take the file past max_size, the
 * file becomes path.1 (path.1 becomes path.2, ..., the oldest beyond max_files is dropped) and a
 * new one is started; with max_files 1 the file is truncated instead. */
int bt_log_open(bt_log *log, const char *path, unsigned long long max_size, unsigned max_files,
                bt_error **err);
/* Feed bytes read from a stream; complete lines (and full 16 KiB chunks) are written. */
int bt_log_feed(bt_log *log, bt_log_stream *stream, const char *data, size_t len, bt_error **err);
/* The stream ended: write what is pending (with a newline appended). */
int bt_log_flush(bt_log *log, bt_log_stream *stream, bt_error **err);
void bt_log_close(bt_log *log);

/* Write one record {"log":<data>,"stream":<name>,"time":<now>} to fd. Exposed for the tests. */
int bt_log_write_record(int fd, const char *stream, const char *data, size_t len,
                        bool add_newline, const char *time_text, bt_error **err);

#endif
