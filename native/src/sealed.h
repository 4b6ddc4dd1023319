/* The shim runs from a sealed in-memory copy of itself, never from its file on the host.
 *
 * Every process the shim starts in a container is, until its execve, the shim's own image; and
 * a container process can reach that image through /proc/<pid>/exe -- or make the kernel run it
 * again inside the container with a `#!/proc/self/exe` script that `exec` starts. Opened for
 * writing once no shim runs it any more (only "text file busy" stops it while one does), the
 * host's berth-shim would run the container's code as root on the host at the next start: the
 * class of CVE-2019-5736 (runc). As runc does, the shim re-executes itself from a memfd copy
 * sealed against any write, shrink or growth before it does anything else: /proc/<pid>/exe of
 * every shim process then names that copy, and the host file is never reachable from one. */
#ifndef BT_SEALED_H
#define BT_SEALED_H

#include "error.h"

/* If this process already runs from a sealed copy, return 0. Otherwise copy /proc/self/exe into
 * a sealed memfd and execute it with the same argv and environment (no return on success). */
int bt_run_from_sealed_copy(char **argv, bt_error **err);

/* A sealed memfd copy (named `name`, close-on-exec) of the file open at src (read from its
 * current offset to its size). */
int bt_sealed_copy(int src, const char *name, int *out, bt_error **err);

/* The same for a regular file opened by path on the host (berth-init): the shim runs the
 * container's PID 1 from this copy with execveat, so /proc/1/exe in the container names the
 * sealed copy and never the host's berth-init (no bind of the host file is left to remount
 * writable either). */
int bt_sealed_copy_of_path(const char *path, const char *name, int *out, bt_error **err);

#endif
