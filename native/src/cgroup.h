/* Joining the cgroup(s) berth prepared. The TypeScript side creates them and writes the limits;
 * the shim only moves a process in. v1 has one directory per controller hierarchy, v2 one. */
#ifndef BT_CGROUP_H
#define BT_CGROUP_H

#include <sys/types.h>

#include "error.h"

/* Write pid to <dir>/cgroup.procs (dirfd-relative, so the path is resolved once). */
int bt_cgroup_join(const char *dir, pid_t pid, bt_error **err);

/* For clone3(CLONE_INTO_CGROUP): a descriptor of <dir> when it is a cgroup v2 directory, else -1
 * in *fd_out (v1: the child's pid is written into each hierarchy after clone instead). */
int bt_cgroup_v2_dir(const char *dir, int *fd_out, bt_error **err);

/* The same in two steps, for `exec`: open <dir>/cgroup.procs while the host's cgroupfs is still
 * visible (before setns into the container's mount namespace), write the pid later. */
int bt_cgroup_open_procs(const char *dir, int *fd_out, bt_error **err);
int bt_cgroup_write_pid(int procs_fd, const char *dir, pid_t pid, bt_error **err);

#endif
