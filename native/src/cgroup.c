#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

int bt_cgroup_join(const char *dir, pid_t pid, bt_error **err) {
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return bt_error_sys(err, "open cgroup %s", dir);
  cleanup_close int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "open %s/cgroup.procs", dir);
  char buf[16];
  int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  /* One write: cgroupfs parses each write() as one pid. */
  if (write(fd, buf, (size_t)n) != n)
    return bt_error_sys(err, "write pid %d to %s/cgroup.procs", (int)pid, dir);
  return 0;
}

int bt_cgroup_v2_dir(const char *dir, int *fd_out, bt_error **err) {
  *fd_out = -1;
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return bt_error_sys(err, "open cgroup %s", dir);
  struct statfs st;
  if (fstatfs(dirfd, &st) < 0)
    return bt_error_sys(err, "statfs cgroup %s", dir);
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    *fd_out = take_fd(&dirfd);
  return 0;
}

int bt_cgroup_open_procs(const char *dir, int *fd_out, bt_error **err) {
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return bt_error_sys(err, "open cgroup %s", dir);
  *fd_out = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (*fd_out < 0)
    return bt_error_sys(err, "open %s/cgroup.procs", dir);
  return 0;
}

int bt_cgroup_write_pid(int procs_fd, const char *dir, pid_t pid, bt_error **err) {
  char buf[16];
  int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  if (write(procs_fd, buf, (size_t)n) != n)
    return bt_error_sys(err, "write pid %d to %s/cgroup.procs", (int)pid, dir);
  return 0;
}
