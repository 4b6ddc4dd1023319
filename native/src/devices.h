/* /dev for the container: a fresh tmpfs with the standard device nodes, a private devpts
 * instance, /dev/shm, /dev/mqueue and the /proc/self/fd symlinks. */
#ifndef BT_DEVICES_H
#define BT_DEVICES_H

#include "error.h"

/* Populate <rootfs>/dev (rootfd: O_PATH descriptor of the rootfs, before pivot_root).
 * shm_size: bytes for the /dev/shm tmpfs (0: the kernel default). */
int bt_setup_dev(int rootfd, unsigned long long shm_size, bt_error **err);

/* Before pivot_root, after bt_setup_dev: a device node at path (under /dev) in the rootfs,
 * with exactly mode/uid/gid (--device, devices:). */
int bt_make_device_node(int rootfd, const char *path, char type, unsigned major, unsigned minor,
                        unsigned mode, unsigned uid, unsigned gid, bt_error **err);

/* After pivot_root: open a new pty pair from the container's own devpts (/dev/ptmx).
 * *master and *slave are O_CLOEXEC descriptors. */
int bt_open_pty(int *master, int *slave, bt_error **err);

#endif
