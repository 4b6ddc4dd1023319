/* Scope-bound cleanup, so that error paths are plain `return`s instead of goto ladders.
 *
 *   cleanup_free char *text = NULL;   -> free(text) when text goes out of scope
 *   cleanup_close int fd = -1;        -> close(fd) if fd >= 0
 *   cleanup_error bt_error *err = NULL -> bt_error_release(&err)
 *
 * To hand ownership to the caller, use take_ptr / take_fd, which return the value and reset the
 * variable so the cleanup becomes a no-op. xmalloc and friends abort on OOM: there is no sensible
 * recovery for a container runtime that cannot allocate a few bytes. */
#ifndef BT_CLEANUP_H
#define BT_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static inline void bt_freep(void *p) {
  void **pp = (void **)p;
  free(*pp);
}

static inline void bt_closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno; /* close() in a cleanup must not clobber the errno being reported */
    close(*fd);
    errno = saved;
  }
}

static inline void bt_fclosep(FILE **f) {
  if (*f != NULL)
    fclose(*f);
}

static inline void bt_errorp(bt_error **err) { bt_error_release(err); }

#define cleanup_free __attribute__((cleanup(bt_freep)))
#define cleanup_close __attribute__((cleanup(bt_closep)))
#define cleanup_file __attribute__((cleanup(bt_fclosep)))
#define cleanup_error __attribute__((cleanup(bt_errorp)))

static inline void *bt_take_ptr(void *pp) {
  void **p = (void **)pp;
  void *v = *p;
  *p = NULL;
  return v;
}
#define take_ptr(p) bt_take_ptr(&(p))

static inline int take_fd(int *fd) {
  int v = *fd;
  *fd = -1;
  return v;
}

static inline void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    abort();
  return p;
}

static inline void *xcalloc(size_t count, size_t n) {
  void *p = calloc(count ? count : 1, n ? n : 1);
  if (p == NULL)
    abort();
  return p;
}

static inline void *xrealloc(void *old, size_t n) {
  void *p = realloc(old, n ? n : 1);
  if (p == NULL)
    abort();
  return p;
}

static inline char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (p == NULL)
    abort();
  return p;
}

/* Write all of buf, retrying on EINTR and short writes. Returns 0 or -1 with errno set. */
static inline int bt_write_all(int fd, const void *buf, size_t len) {
  const char *p = (const char *)buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

#endif
