/* Namespaces: the cgroup namespace, the UTS hostname, the loopback of the new network namespace,
 * and joining a running container's namespaces for `exec`. (The other namespaces are created
 * by clone flags in spawn.c.) */
#ifndef BT_NAMESPACES_H
#define BT_NAMESPACES_H

#include <sys/types.h>

#include "error.h"

/* unshare(CLONE_NEWCGROUP): the caller's current cgroup becomes the root of its cgroup view.
 * Must run after the process has been moved into the container's cgroup. */
int bt_unshare_cgroupns(bt_error **err);

int bt_set_hostname(const char *name, bt_error **err);

/* The UTS domain name (setdomainname) of the container's own UTS namespace. */
int bt_set_domainname(const char *name, bt_error **err);

/* Bring `lo` up (IFF_UP) in the current network namespace: a new netns has lo down. */
int bt_loopback_up(bt_error **err);

/* Join the ipc, uts, net, pid, cgroup and mnt namespaces of pid. The pid namespace only applies
 * to children created afterwards. */
int bt_join_namespaces(pid_t pid, bt_error **err);

/* After /proc is the container's: write value to /proc/sys/<name with '.' as '/'>. Namespaced
 * sysctls only (net.*, kernel.shm*, ...): the TypeScript side refuses the others. */
int bt_set_sysctl(const char *name, const char *value, bt_error **err);

#endif
