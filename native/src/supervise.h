/* The shim's two commands, from the launch file to the exit status: start (via spawn.c), relay
 * stdio, log, forward signals, wait, record the exit. Survives the engine: it needs nothing
 * from it once started. */
#ifndef BT_SUPERVISE_H
#define BT_SUPERVISE_H

#include <stdbool.h>
#include <time.h>

#include "protocol.h"

/* `berth-shim run [--detach [--hold-until=SEC.NSEC]]`: returns the shim's exit status (the
 * container's exit code, or 125/126/127 when it could not start; with detach, 0 once started).
 * With hold_until (detach only, hold.h) "ready" is written to stdout once the container waits at
 * its execve; the process goes by itself at that CLOCK_REALTIME time ("went <time>" on stdout,
 * exit 0), unless stdin closes or a byte arrives on it first ("cancelled", exit 125, no record). */
int bt_run(const bt_launch *launch, bool detach, const struct timespec *hold_until);

/* `berth-shim exec`: returns the exec'd process's exit code (or 125/126/127). */
int bt_exec(const bt_launch *launch);

#endif
