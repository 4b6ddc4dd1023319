#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* vasprintf allocates; on allocation failure we keep a static message rather than abort, because
 * an error path must not itself be the reason the process dies. */
static char out_of_memory[] = "out of memory while reporting an error";

static void release_message(char *message) {
  if (message != out_of_memory)
    free(message);
}

static int store(bt_error **err, int errnum, const char *fmt, va_list ap) {
  char *message = NULL;
  if (vasprintf(&message, fmt, ap) < 0)
    message = out_of_memory;
  if (err == NULL) {
    release_message(message);
    return -1;
  }
  if (*err == NULL) {
    *err = calloc(1, sizeof **err);
    if (*err == NULL) {
      /* No memory for the record either: there is nothing left to report with. */
      abort();
    }
  } else {
    release_message((*err)->message);
  }
  (*err)->errnum = errnum;
  (*err)->message = message;
  return -1;
}

int bt_error_make(bt_error **err, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  store(err, errnum, fmt, ap);
  va_end(ap);
  return -1;
}

int bt_error_sys(bt_error **err, const char *fmt, ...) {
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  store(err, saved, fmt, ap);
  va_end(ap);
  return -1;
}

int bt_error_wrap(bt_error **err, const char *fmt, ...) {
  if (err == NULL || *err == NULL)
    return -1;
  char *context = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&context, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1; /* keep the inner message: better than nothing */
  char *joined = NULL;
  if (asprintf(&joined, "%s: %s", context, (*err)->message) >= 0) {
    release_message((*err)->message);
    (*err)->message = joined;
  }
  free(context);
  return -1;
}

void bt_error_format(const bt_error *err, char *buf, size_t size) {
  if (size == 0)
    return;
  if (err == NULL) {
    snprintf(buf, size, "unknown error");
  } else if (err->errnum != 0) {
    snprintf(buf, size, "%s: %s", err->message, strerror(err->errnum));
  } else {
    snprintf(buf, size, "%s", err->message);
  }
}

void bt_error_release(bt_error **err) {
  if (err == NULL || *err == NULL)
    return;
  release_message((*err)->message);
  free(*err);
  *err = NULL;
}

void bt_report(const char *fmt, ...) {
  char line[1200];
  int n = snprintf(line, sizeof line, "berth-shim: ");
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m < sizeof line - (size_t)n - 1 ? (size_t)m : sizeof line - (size_t)n - 2);
  line[len++] = '\n';
  /* one write: lines of concurrent processes never interleave */
  (void)!write(2, line, len);
}

void bt_error_report_release(bt_error **err) {
  if (err == NULL || *err == NULL)
    return;
  char msg[1024];
  bt_error_format(*err, msg, sizeof msg);
  bt_report("%s", msg);
  bt_error_release(err);
}
