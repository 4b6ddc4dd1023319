#include "devices.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

/* A directory of the rootfs, opened (created if missing) with the resolution rule of rootfs.c:
 * inside the root, no magic links. Repeated here because facility files do not include each
 * other. */
static int open_dir_in_root(int rootfd, const char *path, int *out, bt_error **err) {
  int fd = sys_openat2(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0 && errno == ENOENT) {
    if (mkdirat(rootfd, path, 0755) < 0 && errno != EEXIST)
      return bt_error_sys(err, "mkdir %s in rootfs", path);
    fd = sys_openat2(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  }
  if (fd < 0)
    return bt_error_sys(err, "open %s in rootfs", path);
  *out = fd;
  return 0;
}

static int mount_on_fd(int fd, const char *source, const char *fstype, unsigned long flags,
                       const char *data, const char *what, bt_error **err) {
  char target[64];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  if (mount(source, target, fstype, flags, data) < 0)
    return bt_error_sys(err, "mount %s", what);
  return 0;
}

static int subdir(int devfd, const char *name, int *out, bt_error **err) {
  if (mkdirat(devfd, name, 0755) < 0 && errno != EEXIST)
    return bt_error_sys(err, "mkdir /dev/%s", name);
  *out = openat(devfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (*out < 0)
    return bt_error_sys(err, "open /dev/%s", name);
  return 0;
}

static const struct {
  const char *name;
  unsigned major, minor;
} nodes[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9},
    {"tty", 5, 0},
};

static const struct {
  const char *name, *target;
} links[] = {
    {"fd", "/proc/self/fd"},          {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},    {"stderr", "/proc/self/fd/2"},
    {"ptmx", "pts/ptmx"},             {"core", "/proc/kcore"},
};

/* Bind the host's node over an empty file: the fallback when mknod is refused (e.g. a devices
 * cgroup or an LSM that forbids it). */
static int bind_host_node(int devfd, const char *name, bt_error **err) {
  int f = openat(devfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (f < 0)
    return bt_error_sys(err, "create /dev/%s", name);
  close(f);
  char host[64], target[64];
  snprintf(host, sizeof host, "/dev/%s", name);
  cleanup_close int fd = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "open /dev/%s", name);
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  if (mount(host, target, NULL, MS_BIND, NULL) < 0)
    return bt_error_sys(err, "bind host %s", host);
  return 0;
}

int bt_setup_dev(int rootfd, unsigned long long shm_size, bt_error **err) {
  {
    cleanup_close int mp = -1;
    if (open_dir_in_root(rootfd, "dev", &mp, err) < 0)
      return -1;
    /* MS_STRICTATIME as Docker; nosuid because nothing in /dev should be setuid; no nodev,
     * obviously. */
    if (mount_on_fd(mp, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
                    "tmpfs on /dev", err) < 0)
      return -1;
  }
  /* Reopen: the descriptor above still names the directory under the new tmpfs. */
  cleanup_close int devfd = -1;
  if (open_dir_in_root(rootfd, "dev", &devfd, err) < 0)
    return -1;

  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    /* The mode is exact: spawn.c runs the setup with umask 0. */
    if (mknodat(devfd, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) <
        0) {
      if (errno != EPERM)
        return bt_error_sys(err, "mknod /dev/%s", nodes[i].name);
      if (bind_host_node(devfd, nodes[i].name, err) < 0)
        return -1;
    }
  }

  {
    cleanup_close int pts = -1;
    if (subdir(devfd, "pts", &pts, err) < 0)
      return -1;
    /* newinstance: a devpts private to the container, so its ptys are numbered from 0 and
     * invisible to the host's /dev/pts. ptmxmode=0666 so everyone can open pts/ptmx (which
     * /dev/ptmx links to); gid=5 (tty) and mode=620 for the slaves, as on a normal system. */
    if (mount_on_fd(pts, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                    "newinstance,ptmxmode=0666,mode=0620,gid=5", "devpts on /dev/pts", err) < 0)
      return -1;
  }
  {
    cleanup_close int shm = -1;
    if (subdir(devfd, "shm", &shm, err) < 0)
      return -1;
    char data[64];
    if (shm_size > 0)
      snprintf(data, sizeof data, "mode=1777,size=%llu", shm_size);
    else
      snprintf(data, sizeof data, "mode=1777");
    if (mount_on_fd(shm, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data,
                    "tmpfs on /dev/shm", err) < 0)
      return -1;
  }
  {
    cleanup_close int mq = -1;
    if (subdir(devfd, "mqueue", &mq, err) < 0)
      return -1;
    /* mqueue shows the queues of the mounting process's IPC namespace: the new one. */
    if (mount_on_fd(mq, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                    "mqueue on /dev/mqueue", err) < 0)
      return -1;
  }
  /* /dev/core -> /proc/kcore only where the kernel has one (CONFIG_PROC_KCORE): a dangling link
   * otherwise. The check reads the host's /proc: this runs before pivot_root, and kcore is the
   * same in every pid namespace. */
  bool kcore = access("/proc/kcore", F_OK) == 0;
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    if (strcmp(links[i].name, "core") == 0 && !kcore)
      continue;
    if (symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
      return bt_error_sys(err, "symlink /dev/%s", links[i].name);
  }
  return 0;
}

int bt_make_device_node(int rootfd, const char *path, char type, unsigned major, unsigned minor,
                        unsigned mode, unsigned uid, unsigned gid, bt_error **err) {
  /* path is "/dev/<name>" or "/dev/<dir>/<name>" (protocol.c checked the prefix and ".."). */
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", path + 1);
  char *slash = strrchr(copy, '/');
  *slash = '\0';
  const char *name = slash + 1;
  cleanup_close int dir = -1;
  if (open_dir_in_root(rootfd, copy, &dir, err) < 0)
    return bt_error_wrap(err, "device %s", path);
  unlinkat(dir, name, 0); /* a node of the same name (e.g. /dev/null given again) is replaced */
  mode_t kind = type == 'b' ? S_IFBLK : S_IFCHR;
  if (mknodat(dir, name, kind | (mode & 07777), makedev(major, minor)) < 0)
    return bt_error_sys(err, "mknod %s", path);
  if (fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return bt_error_sys(err, "chown %s", path);
  return 0;
}

int bt_open_pty(int *master, int *slave, bt_error **err) {
  cleanup_close int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0)
    return bt_error_sys(err, "open /dev/ptmx");
  if (unlockpt(m) < 0)
    return bt_error_sys(err, "unlockpt");
  /* TIOCGPTPEER opens the slave through the master's own devpts instance, without a path
   * lookup that could reach another instance; fall back to the name if the kernel lacks it. */
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) {
    char name[64];
    if (ptsname_r(m, name, sizeof name) != 0)
      return bt_error_sys(err, "ptsname");
    s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0)
      return bt_error_sys(err, "open %s", name);
  }
  *master = take_fd(&m);
  *slave = s;
  return 0;
}
