/* The container's filesystem view: the overlay (host side, before clone), mount propagation,
 * /proc and /sys, bind mounts, pivot_root, masked and read-only paths, the working directory.
 *
 * Paths inside the rootfs are resolved with openat2(RESOLVE_IN_ROOT) relative to a descriptor of
 * the rootfs, so a symlink planted in an image ("/etc -> /host/etc") resolves inside the rootfs
 * and can never make a mount land on the host. Mounts then target "/proc/self/fd/N": mount(2)
 * follows that magic link to exactly the directory we opened. */
#ifndef BT_ROOTFS_H
#define BT_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* chdir(chdir_dir), then mount("overlay", mountpoint, "overlay", 0, options). The options name
 * the lower dirs by short relative links (l/XXXX) so that the whole option string fits in the
 * one page mount(2) accepts; they are resolved against the cwd, hence the chdir. */
int bt_overlay_mount(const char *mountpoint, const char *options, const char *chdir_dir,
                     bt_error **err);
/* umount2(MNT_DETACH); an already-unmounted mountpoint is not an error. */
int bt_overlay_umount(const char *mountpoint, bt_error **err);

/* Make every mount of our (new) mount namespace private, recursively, so that nothing we mount
 * propagates back to the host, and so pivot_root accepts the tree (it refuses shared mounts). */
int bt_make_mounts_private(bt_error **err);

/* Bind the rootfs onto itself (pivot_root needs the new root to be a mount point) and return an
 * O_PATH descriptor of the result in *rootfd. */
int bt_rootfs_bind_self(const char *rootfs, int *rootfd, bt_error **err);

/* Open path (absolute, read as relative to the rootfs) inside the rootfs, creating missing
 * directories; with leaf_is_file, the last component is created as an empty file. Returns an
 * O_PATH descriptor in *fd. */
int bt_open_in_root(int rootfd, const char *path, bool create, bool leaf_is_file, int *fd,
                    bt_error **err);

/* mount(source, <path in root>, fstype, flags, data), creating the directory if missing. */
int bt_mount_in_root(int rootfd, const char *path, const char *source, const char *fstype,
                     unsigned long flags, const char *data, bt_error **err);

/* Bind a host file or directory at target inside the rootfs (mount point created to match the
 * source's kind); readonly remounts it read-only. */
int bt_bind_in_root(int rootfd, const char *source, const char *target, bool readonly,
                    bt_error **err);

/* What a user mount (a `bind` or `tmpfs` launch directive) asks for besides its source/target. */
typedef struct bt_mount_opts {
  bool readonly;             /* recursively read-only (every submount of a bind too) */
  unsigned long attrs;       /* MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC */
  unsigned long propagation; /* 0 = as created, else MS_PRIVATE, MS_SLAVE or MS_SHARED */
  bool propagation_recursive;
  bool nonrecursive;         /* bind: the source without its submounts */
  bool toponly;              /* bind: attributes (ro…) set on the top mount only, not on its submounts */
  const char *subpath;       /* bind: a relative path resolved beneath source; NULL = source itself */
} bt_mount_opts;

/* Bind a host file or directory at target inside the rootfs with the options above. With a
 * subpath, the source directory is opened first and the subpath resolved beneath it
 * (RESOLVE_BENEATH: a symlink or ".." that would leave it is an error), and exactly the object
 * found is bound: nothing can be swapped in between the check and the mount. */
int bt_bind_in_root_opts(int rootfd, const char *source, const char *target,
                         const bt_mount_opts *opts, bt_error **err);

/* A tmpfs at target inside the rootfs: size in bytes (0 = the kernel's default, half of RAM), the
 * mode of its root, and the options' flags. */
int bt_tmpfs_in_root(int rootfd, const char *target, unsigned long long size, unsigned int mode,
                     const bt_mount_opts *opts, bt_error **err);

/* Read-only, nosuid/nodev/noexec and propagation of the mount now on top of `target`, through
 * mount_setattr(2); with `tree` (AT_RECURSIVE) a bind's submounts too, so that a read-only bind of
 * a tree holding mounts is read-only all the way down (Docker's default on kernels >= 5.12). */
int bt_mount_setattr_in_root(int rootfd, const char *target, const bt_mount_opts *opts, bool tree,
                             bt_error **err);

/* Instead of bt_make_mounts_private when a bind asks for slave or shared propagation: every
 * mount of our namespace becomes a slave (mount events from the host still arrive; nothing
 * mounted in the container ever propagates back). */
int bt_make_mounts_slave(bt_error **err);

/* Switch the root to rootfd's directory and detach the old root. */
int bt_pivot_root(int rootfd, bt_error **err);

/* After pivot_root: hide path (/dev/null over a file, an empty read-only tmpfs over a
 * directory). A missing path is skipped. */
int bt_mask_path(const char *path, bt_error **err);
/* After pivot_root: bind path onto itself and remount it read-only. A missing path is skipped. */
int bt_readonly_path(const char *path, bt_error **err);

/* After pivot_root and every other mount: remount "/" read-only (read_only: true). Mounts below
 * it (/dev, /proc, /sys, binds, /dev/shm) keep their own flags. */
int bt_readonly_root(bt_error **err);

/* Before pivot_root, after /sys: the container's view of its cgroups under /sys/fs/cgroup,
 * read-only. fstypes[i] "cgroup" (v1: a tmpfs at /sys/fs/cgroup, one hierarchy per subdir) or
 * "cgroup2" (v2: the unified hierarchy at /sys/fs/cgroup). The cgroup namespace the child
 * entered makes the root of each the container's own cgroup. */
int bt_mount_cgroupfs(int rootfd, char *const *fstypes, char *const *options, char *const *subdirs,
                      size_t count, bt_error **err);

/* After pivot_root: chdir(cwd), creating it (mode 0755) if missing, as Docker does. */
int bt_enter_cwd(const char *cwd, bt_error **err);

#endif
