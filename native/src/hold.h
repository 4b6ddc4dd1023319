/* The held start (`berth-shim run --detach --hold-until=SEC.NSEC`): everything of a start is
 * done -- overlay, namespaces, cgroups, mounts, pivot_root, the user looked up -- and the
 * container's process waits just before its seccomp filter, capabilities and execve until an
 * absolute CLOCK_REALTIME deadline, then goes by itself. The engine starts a policy restart this
 * way during its back-off, with the back-off's end as the deadline, so that once the back-off is
 * over only the execve remains and neither the engine nor the shim has to wake up for it
 * (docs/restart-reaction.md).
 *
 * Cancellation: the engine's pipe (the shim's stdin, kept by the supervisor past its /dev/null
 * stdio) closing, or any byte on it, cancels the start -- unless the deadline came first. The two
 * race on one word of memory shared by the supervisor and the container's process (a MAP_SHARED
 * page made before clone): the waiting process swaps it WAITING -> WENT when it wakes, the
 * supervisor swaps it WAITING -> CANCELLED when the engine cancels. Exactly one swap succeeds, so
 * exactly one of "went" and "cancelled" happens and the engine is told which.
 *
 * CLOCK_REALTIME because the deadline is the engine's: it counts from the exit record's
 * `finishedAt` (this shim's realtime) on the engine's clock (epoch milliseconds). A TIMER_ABSTIME
 * sleep on CLOCK_REALTIME follows a step of the clock (settimeofday), so a deadline is never
 * slept past by more than the step moved it. Nothing here is used by `exec` or an attached `run`. */
#ifndef BT_HOLD_H
#define BT_HOLD_H

#include <stdbool.h>
#include <time.h>

#include "error.h"

/* Parses the deadline "SEC.NSEC" (CLOCK_REALTIME; NSEC 1 to 9 digits). -1 on a malformed value. */
int bt_hold_parse_deadline(const char *text, struct timespec *out, bt_error **err);

/* Set once, in the supervisor, before the container is spawned: the engine's pipe (`cancel`), the
 * detach notification pipe (`ready`) and the deadline. Makes the shared page. Without a call (the
 * default) nothing is held. */
int bt_hold_configure(int cancel_fd, int ready_fd, const struct timespec *deadline, bt_error **err);

/* Whether this start is held (read by the container's process too: it is a fork of ours). */
bool bt_hold_active(void);

/* In the container's process, at the hold point: sleeps until the deadline, then claims the go.
 * true: went (the time it woke is recorded for the supervisor); false: the supervisor cancelled
 * first (the caller exits at once). */
bool bt_hold_sleep_and_go(void);

/* In the supervisor, once the container's process said it is ready: says "R" on the ready
 * descriptor, then waits until either the setup socket `sock` has something to read (the process
 * went: its execve closes the socket, or it reports an error) -- 0 -- or the engine cancels and the
 * swap to CANCELLED wins -- -1 with errnum ECANCELED. A cancellation that lost the race is
 * ignored: the process is going, the start goes on as if none had come. */
int bt_hold_wait(int sock, bt_error **err);

/* Whether the held start went; *at: when the container's process woke, *ready: when it began to
 * wait (CLOCK_REALTIME; ready later than the deadline: the start was not made in time). */
bool bt_hold_went(struct timespec *at, struct timespec *ready);

#endif
