#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

static int write_map(pid_t pid, const char *file, unsigned start, unsigned count, bt_error **err) {
  char path[64], line[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int len = snprintf(line, sizeof line, "0 %u %u\n", start, count);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "open %s", path);
  /* one write: the kernel takes the whole map from a single write(2) */
  if (write(fd, line, (size_t)len) != len)
    return bt_error_sys(err, "write %s (%u %u)", path, start, count);
  return 0;
}

int bt_userns_create(const bt_idmap *m, int *fd, pid_t *helper, bt_error **err) {
  *fd = -1;
  *helper = -1;
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0)
    return bt_error_sys(err, "pipe for the user namespace helper");
  cleanup_close int release = sync[1];
  pid_t pid = sys_clone_fork(CLONE_NEWUSER | SIGCHLD);
  if (pid < 0) {
    close(sync[0]);
    return bt_error_sys(err, "clone a user namespace");
  }
  if (pid == 0) {
    /* The helper: hold the namespace until the shim has its descriptor, then go. EOF (the shim
     * released us, or died) is the only thing that can come. */
    close(sync[1]);
    char c;
    while (read(sync[0], &c, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(sync[0]);
  *helper = pid;
  /* gid_map written by a process with CAP_SETGID in the parent namespace: setgroups(2) stays
   * allowed inside, which the user switch (supplementary groups) needs. */
  if (write_map(pid, "uid_map", m->uid, m->count, err) < 0 ||
      write_map(pid, "gid_map", m->gid, m->count, err) < 0)
    return -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return bt_error_sys(err, "open %s", path);
  return 0; /* `release` closes here: the helper reads EOF and exits */
}

void bt_userns_reap(pid_t *helper) {
  if (*helper <= 0)
    return;
  kill(*helper, SIGKILL); /* harmless when it has exited already */
  while (waitpid(*helper, NULL, 0) < 0 && errno == EINTR)
    ;
  *helper = -1;
}

int bt_userns_enter(int fd, bt_error **err) {
  if (setns(fd, CLONE_NEWUSER) < 0)
    return bt_error_sys(err, "enter the container's user namespace");
  /* Until now our ids are the host's root, unmapped inside (shown as the overflow id). Becoming
   * the namespace's root keeps the full set setns gave (euid becomes the namespace's root). */
  if (setresgid(0, 0, 0) < 0)
    return bt_error_sys(err, "setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0)
    return bt_error_sys(err, "setresuid 0 in the user namespace");
  if (setgroups(0, NULL) < 0)
    return bt_error_sys(err, "setgroups in the user namespace");
  return 0;
}

static bool same_ns(int fd, const struct stat *ours) {
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_dev == ours->st_dev && st.st_ino == ours->st_ino;
}

int bt_userns_of(pid_t pid, int *fd, bt_error **err) {
  *fd = -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0)
    return bt_error_sys(err, "open %s", path);
  struct stat ours;
  if (stat("/proc/self/ns/user", &ours) < 0)
    return bt_error_sys(err, "stat /proc/self/ns/user");
  if (same_ns(ns, &ours))
    return bt_error_make(err, EINVAL, "pid %d is not in a remapped user namespace", (int)pid);
  /* up from pid's namespace until the parent is ours (user namespaces nest at most 32 deep) */
  for (int depth = 0; depth < 33; depth++) {
    cleanup_close int parent = ioctl(ns, NS_GET_PARENT);
    if (parent < 0)
      return bt_error_sys(err, "parent of the user namespace of pid %d", (int)pid);
    if (same_ns(parent, &ours)) {
      *fd = take_fd(&ns);
      return 0;
    }
    close(ns);
    ns = take_fd(&parent);
  }
  return bt_error_make(err, ELOOP, "user namespaces of pid %d nest too deep", (int)pid);
}

/* An idmapped, detached clone of the directory dirfd/path. */
static int idmapped_clone(int dirfd, const char *path, int userns_fd, int *out, bt_error **err) {
  cleanup_close int tree = open_tree(dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return bt_error_sys(err, "clone layer %s", path);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns_fd};
  if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return bt_error_sys(err, "idmap layer %s (the filesystem of the image store must support idmapped mounts)", path);
  *out = take_fd(&tree);
  return 0;
}

static int config_string(int fs, const char *key, const char *value, bt_error **err) {
  if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
    return bt_error_sys(err, "overlay option %s=%s", key, value);
  return 0;
}

/* The layers' detached mounts: each must stay open until the overlay is created (closing the
 * descriptor of a detached mount unmounts it, and overlayfs takes its private clones of the
 * layers only at FSCONFIG_CMD_CREATE). */
enum { MAX_LAYERS = 500 }; /* overlayfs's own limit */
typedef struct layer_fds {
  int fds[MAX_LAYERS];
  size_t count;
} layer_fds;

static void close_layers(layer_fds *l) {
  while (l->count > 0)
    close(l->fds[--l->count]);
}

int bt_overlay_mount_idmapped(const char *mountpoint, const char *options, const char *chdir_dir,
                              int userns_fd, const bt_idmap *m, bt_error **err) {
  cleanup_close int base = open(chdir_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base < 0)
    return bt_error_sys(err, "open %s", chdir_dir);
  cleanup_close int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return bt_error_sys(err, "fsopen overlay");
  __attribute__((cleanup(close_layers))) layer_fds layers = {.count = 0};
  cleanup_free char *copy = xstrdup(options);
  char *save = NULL;
  for (char *opt = strtok_r(copy, ",", &save); opt != NULL; opt = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(opt, '=');
    if (eq == NULL)
      return bt_error_make(err, EINVAL, "overlay option without a value: %s", opt);
    *eq = '\0';
    const char *key = opt, *value = eq + 1;
    if (strcmp(key, "lowerdir") == 0) {
      /* top-most first, as in lowerdir=: each `lowerdir+` adds the next layer below */
      char *save2 = NULL;
      for (char *dir = strtok_r((char *)value, ":", &save2); dir != NULL; dir = strtok_r(NULL, ":", &save2)) {
        if (layers.count == MAX_LAYERS)
          return bt_error_make(err, E2BIG, "more than %d image layers", MAX_LAYERS);
        int layer = -1;
        if (idmapped_clone(base, dir, userns_fd, &layer, err) < 0)
          return -1;
        layers.fds[layers.count++] = layer;
        if (fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, layer) < 0) {
          if (errno == EINVAL)
            return bt_error_make(err, EINVAL, "userns_mode: remap needs Linux 6.13 or later "
                                              "(overlayfs layers given by descriptor)");
          return bt_error_sys(err, "overlay layer %s", dir);
        }
      }
      continue;
    }
    char path[PATH_MAX];
    if (strcmp(key, "upperdir") == 0 || strcmp(key, "workdir") == 0) {
      if (snprintf(path, sizeof path, "%s%s%s", value[0] == '/' ? "" : chdir_dir,
                   value[0] == '/' ? "" : "/", value) >= (int)sizeof path)
        return bt_error_make(err, ENAMETOOLONG, "overlay %s", key);
      /* The root of the container's filesystem is the upper directory's root: owned by the
       * range's root, so that container root may create files in /. */
      if (strcmp(key, "upperdir") == 0 && chown(path, m->uid, m->gid) < 0)
        return bt_error_sys(err, "chown %s", path);
      value = path;
    }
    if (config_string(fs, key, value, err) < 0)
      return -1;
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return bt_error_sys(err, "create the overlay for %s", mountpoint);
  cleanup_close int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    return bt_error_sys(err, "fsmount overlay");
  if (move_mount(mnt, "", AT_FDCWD, mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return bt_error_sys(err, "mount overlay at %s", mountpoint);
  return 0;
}

int bt_chown_in_root(int rootfd, const char *path, unsigned uid, unsigned gid, bt_error **err) {
  cleanup_close int fd = sys_openat2(rootfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                                     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0)
    return bt_error_sys(err, "open %s in rootfs", path);
  if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
    return bt_error_sys(err, "chown %s", path);
  return 0;
}
