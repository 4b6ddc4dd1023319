/* Exit codes with shell/Docker conventions and the exit record's inputs. */
#ifndef BT_EXITCODE_H
#define BT_EXITCODE_H

#include <stdbool.h>

#include "error.h"

#define BT_EXIT_SETUP 125      /* the shim (or the container setup) failed */
#define BT_EXIT_CANNOT_EXEC 126 /* found but not executable / permission denied */
#define BT_EXIT_NOT_FOUND 127  /* command not found */

/* waitpid status -> exit code: the status when exited normally, 128+n when killed by signal n.
 * *signal receives n (0 for a normal exit). */
int bt_exit_code_from_status(int wait_status, int *signal);

/* errno of a failed execve (or PATH lookup) -> 127 for "not found" (ENOENT, ENOTDIR), 126 for
 * "cannot execute" (EACCES, EPERM, ENOEXEC, EISDIR, ETXTBSY), else 125. Docker's mapping. */
int bt_exit_code_from_exec_errno(int errnum);

/* Read `file` and find the line "<key> N"; *killed = N > 0. A missing file or key is not an
 * error (the cgroup may already be gone, or the kernel too old): *killed = false. */
int bt_read_oom_killed(const char *file, const char *key, bool *killed, bt_error **err);

#endif
