#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

int bt_overlay_mount(const char *mountpoint, const char *options, const char *chdir_dir,
                     bt_error **err) {
  /* Come back afterwards: the bundle and log paths the caller uses later may be relative to
   * the directory the shim was started in. */
  cleanup_close int back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (back < 0)
    return bt_error_sys(err, "open current directory");
  if (chdir(chdir_dir) < 0)
    return bt_error_sys(err, "chdir %s", chdir_dir);
  int rc = 0;
  if (mount("overlay", mountpoint, "overlay", 0, options) < 0)
    rc = bt_error_sys(err, "mount overlay at %s", mountpoint);
  if (fchdir(back) < 0 && rc == 0) {
    umount2(mountpoint, MNT_DETACH);
    rc = bt_error_sys(err, "return to the previous directory");
  }
  return rc;
}

int bt_overlay_umount(const char *mountpoint, bt_error **err) {
  /* MNT_DETACH: a process that still holds a file open in the rootfs (an `exec` that outlived
   * PID 1, a hook) must not make the unmount fail; the kernel finishes it when the last user
   * goes. EINVAL means "not a mount point": already unmounted. */
  if (umount2(mountpoint, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return bt_error_sys(err, "unmount overlay %s", mountpoint);
  return 0;
}

int bt_make_mounts_private(bt_error **err) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return bt_error_sys(err, "make / rprivate");
  return 0;
}

int bt_make_mounts_slave(bt_error **err) {
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return bt_error_sys(err, "make / rslave");
  return 0;
}

int bt_rootfs_bind_self(const char *rootfs, int *rootfd, bt_error **err) {
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return bt_error_sys(err, "bind rootfs %s onto itself", rootfs);
  /* Opened after the bind, so the descriptor refers to the new mount, not the one below. */
  *rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*rootfd < 0)
    return bt_error_sys(err, "open rootfs %s", rootfs);
  return 0;
}

/* The magic-link path through which mount(2) reaches the object behind fd. */
static void fd_path(int fd, char buf[64]) { snprintf(buf, 64, "/proc/self/fd/%d", fd); }

int bt_open_in_root(int rootfd, const char *path, bool create, bool leaf_is_file, int *out,
                    bt_error **err) {
  char copy[PATH_MAX];
  if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
    return bt_error_make(err, ENAMETOOLONG, "path %s", path);
  const uint64_t resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

  /* Fast path: it exists. */
  int fd = sys_openat2(rootfd, copy, O_PATH | O_CLOEXEC, 0, resolve);
  if (fd >= 0 || errno != ENOENT || !create) {
    if (fd < 0)
      return bt_error_sys(err, "open %s in rootfs", path);
    *out = fd;
    return 0;
  }

  /* Walk component by component, each step resolved inside the root, creating what is missing.
   * Every mkdirat happens in a directory we opened by a resolved path, never by a raw string. */
  cleanup_close int dir = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  if (dir < 0)
    return bt_error_sys(err, "dup rootfs fd");
  char *save = NULL;
  char *component = strtok_r(copy, "/", &save);
  while (component != NULL) {
    char *next = strtok_r(NULL, "/", &save);
    bool leaf = next == NULL;
    int child = sys_openat2(dir, component, O_PATH | O_CLOEXEC, 0, resolve);
    if (child < 0 && errno == ENOENT) {
      if (leaf && leaf_is_file) {
        /* O_PATH cannot create; create the file through a real (read-only) dir fd. */
        cleanup_close int real = sys_openat2(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                                            resolve);
        if (real < 0)
          return bt_error_sys(err, "open parent of %s", path);
        int f = openat(real, component, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                       0644);
        if (f < 0 && errno != EEXIST)
          return bt_error_sys(err, "create %s in rootfs", path);
        if (f >= 0)
          close(f);
      } else {
        cleanup_close int real = sys_openat2(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                                            resolve);
        if (real < 0)
          return bt_error_sys(err, "open parent of %s", path);
        if (mkdirat(real, component, 0755) < 0 && errno != EEXIST)
          return bt_error_sys(err, "mkdir %s in rootfs", path);
      }
      child = sys_openat2(dir, component, O_PATH | O_CLOEXEC, 0, resolve);
    }
    if (child < 0)
      return bt_error_sys(err, "open %s in rootfs", path);
    close(dir);
    dir = child;
    component = next;
  }
  *out = take_fd(&dir);
  return 0;
}

int bt_mount_in_root(int rootfd, const char *path, const char *source, const char *fstype,
                     unsigned long flags, const char *data, bt_error **err) {
  cleanup_close int fd = -1;
  if (bt_open_in_root(rootfd, path, true, false, &fd, err) < 0)
    return -1;
  char target[64];
  fd_path(fd, target);
  if (mount(source, target, fstype, flags, data) < 0)
    return bt_error_sys(err, "mount %s on %s", fstype ? fstype : source, path);
  return 0;
}

/* The flags of the mount at path that a bind remount must repeat (a remount replaces the whole
 * per-mount flag set; dropping nosuid/nodev/noexec silently would weaken the mount). */
static unsigned long kept_flags(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0)
    return 0;
  unsigned long flags = 0;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

int bt_bind_in_root(int rootfd, const char *source, const char *target, bool readonly,
                    bt_error **err) {
  bt_mount_opts opts = {.readonly = readonly};
  return bt_bind_in_root_opts(rootfd, source, target, &opts, err);
}

int bt_mount_setattr_in_root(int rootfd, const char *target, const bt_mount_opts *o, bool tree,
                             bt_error **err) {
  unsigned long set = o->attrs | (o->readonly ? MOUNT_ATTR_RDONLY : 0);
  if (set == 0 && o->propagation == 0)
    return 0;
  /* The descriptor the mount was made on refers to the directory below it: reopen the path to
   * reach the new mount. */
  cleanup_close int fd = -1;
  if (bt_open_in_root(rootfd, target, false, false, &fd, err) < 0)
    return -1;
  if (set != 0) {
    struct mount_attr attr = {.attr_set = set};
    if (mount_setattr(fd, "", AT_EMPTY_PATH | (tree ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
      return bt_error_sys(err, "set mount flags on %s", target);
  }
  if (o->propagation != 0) {
    struct mount_attr attr = {.propagation = o->propagation};
    unsigned int flags = AT_EMPTY_PATH | (o->propagation_recursive ? AT_RECURSIVE : 0);
    if (mount_setattr(fd, "", flags, &attr, sizeof attr) < 0)
      return bt_error_sys(err, "set propagation on %s", target);
  }
  return 0;
}

int bt_bind_in_root_opts(int rootfd, const char *source, const char *target,
                         const bt_mount_opts *o, bt_error **err) {
  /* The source is opened once and everything after goes through that descriptor: the kind of
   * mount point to create and the bind itself refer to the same object. */
  cleanup_close int src = open(source, O_PATH | O_CLOEXEC);
  if (src < 0)
    return bt_error_sys(err, "bind source %s", source);
  if (o->subpath != NULL) {
    int sub = sys_openat2(src, o->subpath, O_PATH | O_CLOEXEC, 0,
                          RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (sub < 0)
      return bt_error_sys(err, "bind source %s: subpath %s", source, o->subpath);
    close(src);
    src = sub;
  }
  struct stat st;
  if (fstat(src, &st) < 0)
    return bt_error_sys(err, "bind source %s", source);
  cleanup_close int fd = -1;
  if (bt_open_in_root(rootfd, target, true, !S_ISDIR(st.st_mode), &fd, err) < 0)
    return bt_error_wrap(err, "bind %s", source);
  char from[64], path[64];
  fd_path(src, from);
  fd_path(fd, path);
  if (mount(from, path, NULL, MS_BIND | (o->nonrecursive ? 0 : MS_REC), NULL) < 0)
    return bt_error_sys(err, "bind %s at %s", source, target);
  /* read-only all the way down unless asked otherwise (compose bind.recursive: writable) */
  return bt_mount_setattr_in_root(rootfd, target, o, !o->nonrecursive && !o->toponly, err);
}

int bt_tmpfs_in_root(int rootfd, const char *target, unsigned long long size, unsigned int mode,
                     const bt_mount_opts *o, bt_error **err) {
  char data[96];
  if (size > 0)
    snprintf(data, sizeof data, "size=%llu,mode=%o", size, mode);
  else
    snprintf(data, sizeof data, "mode=%o", mode);
  cleanup_close int fd = -1;
  if (bt_open_in_root(rootfd, target, true, false, &fd, err) < 0)
    return bt_error_wrap(err, "tmpfs");
  char path[64];
  fd_path(fd, path);
  if (mount("tmpfs", path, "tmpfs", 0, data) < 0)
    return bt_error_sys(err, "mount tmpfs at %s", target);
  return bt_mount_setattr_in_root(rootfd, target, o, false, err);
}

int bt_pivot_root(int rootfd, bt_error **err) {
  if (fchdir(rootfd) < 0)
    return bt_error_sys(err, "chdir to rootfs");
  /* pivot_root(".", "."): the new root and the place to put the old one are the same
   * directory. The old root ends up mounted on top of the new one at "/", so detaching "."
   * (which is now the old root, stacked on top) reveals the new root. This avoids needing a
   * directory for the old root inside the image. */
  if (sys_pivot_root(".", ".") < 0)
    return bt_error_sys(err, "pivot_root");
  if (umount2(".", MNT_DETACH) < 0)
    return bt_error_sys(err, "detach old root");
  if (chdir("/") < 0)
    return bt_error_sys(err, "chdir /");
  return 0;
}

int bt_mask_path(const char *path, bt_error **err) {
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    return bt_error_sys(err, "mask %s", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0") < 0)
      return bt_error_sys(err, "mask %s with an empty tmpfs", path);
  } else {
    if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
      return bt_error_sys(err, "mask %s with /dev/null", path);
  }
  return 0;
}

int bt_readonly_path(const char *path, bt_error **err) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT)
      return 0;
    return bt_error_sys(err, "bind %s onto itself", path);
  }
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(path);
  if (mount(NULL, path, NULL, flags, NULL) < 0)
    return bt_error_sys(err, "remount %s read-only", path);
  return 0;
}

int bt_readonly_root(bt_error **err) {
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags("/");
  if (mount(NULL, "/", NULL, flags, NULL) < 0)
    return bt_error_sys(err, "remount / read-only");
  return 0;
}

int bt_mount_cgroupfs(int rootfd, char *const *fstypes, char *const *options, char *const *subdirs,
                      size_t count, bt_error **err) {
  const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  bool v1 = false;
  for (size_t i = 0; i < count; i++)
    if (strcmp(fstypes[i], "cgroup") == 0)
      v1 = true;
  if (v1 && bt_mount_in_root(rootfd, "/sys/fs/cgroup", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             "mode=755,size=64k", err) < 0)
    return bt_error_wrap(err, "cgroup");
  for (size_t i = 0; i < count; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/sys/fs/cgroup%s%s", *subdirs[i] ? "/" : "", subdirs[i]);
    if (bt_mount_in_root(rootfd, path, "cgroup", fstypes[i], ro, *options[i] ? options[i] : NULL, err) < 0)
      return bt_error_wrap(err, "cgroup");
  }
  if (v1) {
    cleanup_close int fd = -1;
    if (bt_open_in_root(rootfd, "/sys/fs/cgroup", false, false, &fd, err) < 0)
      return -1;
    char target[64];
    fd_path(fd, target);
    if (mount(NULL, target, NULL, MS_REMOUNT | ro, "mode=755,size=64k") < 0)
      return bt_error_sys(err, "remount the /sys/fs/cgroup tmpfs read-only");
  }
  return 0;
}

/* The working directory must be inside the container's root: a cwd reached through a magic link
 * (/proc/self/fd/N, /proc/1/cwd of a process elsewhere) would leave the process outside it.
 * getcwd() reports such a directory as unreachable (ENOENT, or a path not starting with '/'). */
static int check_cwd_inside(const char *cwd, bt_error **err) {
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf) == NULL || buf[0] != '/')
    return bt_error_make(err, EPERM, "working directory %s is outside the container", cwd);
  return 0;
}

int bt_enter_cwd(const char *cwd, bt_error **err) {
  if (cwd == NULL || *cwd == '\0')
    cwd = "/";
  if (chdir(cwd) == 0)
    return check_cwd_inside(cwd, err);
  if (errno != ENOENT)
    return bt_error_sys(err, "chdir %s", cwd);
  /* mkdir -p; we are inside the new root, so absolute paths and symlinks stay in it. */
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", cwd) >= (int)sizeof buf)
    return bt_error_make(err, ENAMETOOLONG, "cwd %s", cwd);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return bt_error_sys(err, "create working directory %s", buf);
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  if (chdir(cwd) < 0)
    return bt_error_sys(err, "chdir %s", cwd);
  return check_cwd_inside(cwd, err);
}
