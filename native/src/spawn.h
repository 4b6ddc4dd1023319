/* Starting processes: a new container (`run`) or a process inside a running one (`exec`).
 * This is the one place that knows the order of the setup steps; each step lives in its
 * facility file (namespaces, rootfs, devices, cgroup, security, user). */
#ifndef BT_SPAWN_H
#define BT_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "protocol.h"

/* The host-side ends of a started process. */
typedef struct bt_process {
  pid_t pid;      /* as the host (the shim) sees it */
  int stdin_fd;   /* write end of the process's stdin pipe; -1 without stdin or with a tty */
  int stdout_fd;  /* read end of its stdout pipe; -1 with a tty */
  int stderr_fd;  /* read end of its stderr pipe; -1 with a tty */
  int pty_master; /* the pty master with a tty, else -1 */
  bool overlay_mounted; /* run only: the overlay must be unmounted after the exit */
} bt_process;

/* Mount the overlay, clone the container with its namespaces, put it in its cgroups, and wait
 * until it has exec'd. On failure *exit_code is 125 (setup), 126 (cannot execute) or 127 (not
 * found), err has the message, and everything mounted or started is undone. */
int bt_spawn_container(const bt_launch *launch, bt_process *out, int *exit_code, bt_error **err);

/* Join the cgroups and namespaces of launch->pid, fork, and exec the process in it. The calling
 * process stays in the container's namespaces afterwards (it only relays stdio). */
int bt_spawn_exec(const bt_launch *launch, bt_process *out, int *exit_code, bt_error **err);

/* After the container exited: unmount the overlay (if run mounted one). */
int bt_spawn_cleanup(const bt_launch *launch, bt_process *process, bt_error **err);

#endif
