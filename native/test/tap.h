/* The smallest TAP producer: ok/not ok lines, a plan at the end, exit status 1 on any failure.
 * No framework on purpose. Exit 77 means "skipped" to the Makefile's runner. */
#ifndef BT_TAP_H
#define BT_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...)                                                                              \
  do {                                                                                             \
    int pass_ = (cond) ? 1 : 0;                                                                    \
    tap_count++;                                                                                   \
    if (pass_) {                                                                                    \
      printf("ok %d - ", tap_count);                                                               \
    } else {                                                                                       \
      tap_failed++;                                                                                \
      printf("not ok %d - ", tap_count);                                                           \
    }                                                                                              \
    printf(__VA_ARGS__);                                                                           \
    printf("\n");                                                                                  \
    if (!pass_)                                                                                    \
      printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                              \
  } while (0)

/* Compare strings, printing both on failure. */
#define is_str(got, want, ...)                                                                     \
  do {                                                                                             \
    const char *g_ = (got), *w_ = (want);                                                          \
    int same_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0);                   \
    ok(same_, __VA_ARGS__);                                                                        \
    if (!same_)                                                                                    \
      printf("#   got:  \"%s\"\n#   want: \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");     \
  } while (0)

static inline int tap_done(void) {
  printf("1..%d\n", tap_count);
  if (tap_failed)
    printf("# %d of %d failed\n", tap_failed, tap_count);
  return tap_failed ? 1 : 0;
}

#endif
