/* A remapped user namespace for a container (compose `userns_mode: remap`, docs/security.md).
 *
 * Design (docs/decisions/2026-11-30-userns-remap.md): the container's setup (mounts, /dev,
 * sysctls, hostname, pivot_root) runs as today, as root in the host's user namespace, in
 * namespaces the host's user namespace owns; only at the end, before the user switch, the
 * capabilities and seccomp, the process enters a user namespace whose uid/gid maps send
 * container 0..count-1 to an unprivileged host range. The same namespace gives the idmapped
 * mounts of the image's layers their mapping, so the rootfs looks root-owned inside.
 *
 * The namespace is made by a helper process cloned with CLONE_NEWUSER, which blocks on a pipe
 * until the shim has written its uid_map and gid_map (the usual sync-pipe pattern); the shim
 * keeps a descriptor of /proc/<helper>/ns/user and lets the helper go. */
#ifndef BT_USERNS_H
#define BT_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

typedef struct bt_idmap {
  unsigned uid;   /* host uid of the container's uid 0 */
  unsigned gid;   /* host gid of the container's gid 0 */
  unsigned count; /* ids mapped: container 0..count-1 */
} bt_idmap;

/* A user namespace with map m: *fd (O_CLOEXEC) refers to it; *helper is the pid of the helper
 * process, released already and to be reaped with bt_userns_reap (it exits on its own). */
int bt_userns_create(const bt_idmap *m, int *fd, pid_t *helper, bt_error **err);
void bt_userns_reap(pid_t *helper);

/* Enter the user namespace fd and become its root (container uid/gid 0, host m->uid/m->gid),
 * with no supplementary groups and the full capability set of that namespace (dropped later
 * like any container's). Must run after everything that needs the host's privileges. */
int bt_userns_enter(int fd, bt_error **err);

/* exec in a remapped container: *fd = the container's user namespace, the ancestor of pid's user
 * namespace whose parent is ours. Not pid's own: PID 1 may have moved into a nested namespace
 * it made (unshare -U, where seccomp allows it), and an exec must never enter the container's
 * choice of namespace. Error when pid is in our own namespace (not a remapped container).
 * Opened through the host's /proc, before any setns. */
int bt_userns_of(pid_t pid, int *fd, bt_error **err);

/* The overlay of `options` ("lowerdir=a:b,upperdir=u,workdir=w[,more]", paths relative to
 * chdir_dir) mounted at mountpoint with every lower layer an idmapped mount (userns_fd's map):
 * a layer's file owned by 0 shows as m->uid, which is 0 inside the container. The upper layer
 * is not idmapped (overlayfs refuses it): its root is chowned to the range's root, and what the
 * container writes is stored with its host ids (m->uid + n). Needs Linux 6.13 (layers given to
 * overlayfs by descriptor). */
int bt_overlay_mount_idmapped(const char *mountpoint, const char *options, const char *chdir_dir,
                              int userns_fd, const bt_idmap *m, bt_error **err);

/* chown the object at path (resolved inside the root, not following a final symlink) */
int bt_chown_in_root(int rootfd, const char *path, unsigned uid, unsigned gid, bt_error **err);

#endif
