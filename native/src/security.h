/* Privileges of the container process: rlimits, capabilities, no_new_privs, and the switch to
 * the container user. Called in the child just before exec, in the order spawn.c decides. */
#ifndef BT_SECURITY_H
#define BT_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "error.h"

int bt_set_rlimit(int resource, const char *name, rlim_t soft, rlim_t hard, bt_error **err);

/* Drop from the bounding set every capability not in keep[] (every number 0..63: no file of the
 * container is consulted), clear the
 * ambient set and the inheritable set. Effective/permitted are left alone: the process still
 * needs CAP_SETUID/CAP_SETGID to switch user; execve then recomputes them from the bounding set
 * (for uid 0) or clears them (for any other uid). */
int bt_drop_capabilities(const int *keep, size_t keep_count, bt_error **err);

/* setgroups(groups), setgid(gid), setuid(uid), in that order (groups and gid need the
 * privilege that setuid gives up). */
int bt_switch_user(uid_t uid, gid_t gid, const gid_t *groups, size_t group_count,
                   bt_error **err);

int bt_set_no_new_privs(bt_error **err);

#endif
