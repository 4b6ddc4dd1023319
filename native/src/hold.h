/* The held start (`berth-shim run --detach --hold`): everything of a start is done -- overlay,
 * namespaces, cgroups, mounts, pivot_root, the user looked up -- and the container's process
 * waits just before its seccomp filter, capabilities and execve until the engine says go. The
 * engine starts a policy restart this way at the beginning of its back-off, so that once the
 * back-off is over only the execve remains (docs/restart-reaction.md).
 *
 * The gate is two descriptors of the supervisor: `go` (the engine's pipe, the shim's stdin) and
 * `ready` (the detach notification pipe). Nothing here is used by `exec` or an attached `run`. */
#ifndef BT_HOLD_H
#define BT_HOLD_H

#include <stdbool.h>

#include "error.h"

/* Set once, in the supervisor, before the container is spawned; -1, -1 (the default): no hold. */
void bt_hold_configure(int go_fd, int ready_fd);

/* Whether this start is held (read by the container's process too: it is a fork of ours). */
bool bt_hold_active(void);

/* In the supervisor, once the container's process is ready: says "R" on the ready descriptor and
 * waits for the engine's go byte. 0: go; -1 with errnum ECANCELED when the engine closed the pipe
 * instead (the restart was cancelled, or the engine is gone). Either way the gate is closed
 * afterwards: a second call returns 0 at once. */
int bt_hold_wait_go(bt_error **err);

#endif
