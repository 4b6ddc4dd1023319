#include "hold.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { WAITING = 0, WENT = 1, CANCELLED = 2 };

/* The page shared with the container's process (fork keeps MAP_SHARED mappings shared; clone
 * without CLONE_VM is a fork). Only `state` is raced on; `deadline` is written before the fork,
 * `ready_at` and `went_at` by the waiting process before anyone reads them (after its execve). */
typedef struct gate {
  _Atomic int state;
  struct timespec deadline;
  struct timespec ready_at; /* the process began to wait (written before it sleeps) */
  struct timespec went_at;
} gate;

static gate *shared = NULL;
static int cancel_fd = -1;
static int ready_fd = -1;

int bt_hold_parse_deadline(const char *text, struct timespec *out, bt_error **err) {
  const char *dot = strchr(text, '.');
  char *end = NULL;
  errno = 0;
  long long sec = strtoll(text, &end, 10);
  if (errno != 0 || end == text || sec < 0 || (dot != NULL ? end != dot : *end != '\0'))
    return bt_error_make(err, EINVAL, "hold deadline \"%s\": expected SECONDS.NANOSECONDS", text);
  long nsec = 0;
  if (dot != NULL) {
    size_t digits = strlen(dot + 1);
    if (digits == 0 || digits > 9 || strspn(dot + 1, "0123456789") != digits)
      return bt_error_make(err, EINVAL, "hold deadline \"%s\": expected SECONDS.NANOSECONDS", text);
    nsec = strtol(dot + 1, NULL, 10);
    for (size_t i = digits; i < 9; i++)
      nsec *= 10;
  }
  out->tv_sec = (time_t)sec;
  out->tv_nsec = nsec;
  return 0;
}

int bt_hold_configure(int cancel, int ready, const struct timespec *deadline, bt_error **err) {
  void *p = mmap(NULL, sizeof(gate), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return bt_error_sys(err, "hold: map the shared gate");
  shared = p;
  atomic_init(&shared->state, WAITING);
  shared->deadline = *deadline;
  cancel_fd = cancel;
  ready_fd = ready;
  return 0;
}

bool bt_hold_active(void) { return shared != NULL; }

bool bt_hold_sleep_and_go(void) {
  clock_gettime(CLOCK_REALTIME, &shared->ready_at);
  /* EINTR: a signal (none is expected: the child's are default, and a fatal one ends it) --
   * sleep again towards the same absolute time. */
  while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &shared->deadline, NULL) == EINTR)
    ;
  int expected = WAITING;
  if (!atomic_compare_exchange_strong(&shared->state, &expected, WENT))
    return false;
  clock_gettime(CLOCK_REALTIME, &shared->went_at);
  return true;
}

int bt_hold_wait(int sock, bt_error **err) {
  if (write(ready_fd, "R", 1) != 1)
    return bt_error_sys(err, "report the held start ready");
  for (;;) {
    struct pollfd fds[2] = {{.fd = sock, .events = POLLIN},
                            {.fd = cancel_fd, .events = cancel_fd >= 0 ? POLLIN : 0}};
    int n = poll(fds, cancel_fd >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return bt_error_sys(err, "wait for the held start");
    if (fds[0].revents != 0) {
      /* went (execve closed the socket) or reports an error, which the caller reads: nothing is
       * left to cancel */
      if (cancel_fd >= 0)
        close(cancel_fd);
      cancel_fd = -1;
      return 0;
    }
    if (fds[1].revents == 0)
      continue;
    /* The engine cancels: a byte or EOF, either way (what the byte says does not matter). */
    int expected = WAITING;
    if (atomic_compare_exchange_strong(&shared->state, &expected, CANCELLED))
      return bt_error_make(err, ECANCELED, "the held start was cancelled");
    /* The deadline won: the process is going. The pipe is of no further use. */
    close(cancel_fd);
    cancel_fd = -1;
  }
}

bool bt_hold_went(struct timespec *at, struct timespec *ready) {
  if (shared == NULL || atomic_load(&shared->state) != WENT)
    return false;
  *at = shared->went_at;
  *ready = shared->ready_at;
  return true;
}
