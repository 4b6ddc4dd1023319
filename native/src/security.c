#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

int bt_set_rlimit(int resource, const char *name, rlim_t soft, rlim_t hard, bt_error **err) {
  struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};
  if (setrlimit(resource, &rl) < 0)
    return bt_error_sys(err, "setrlimit %s", name);
  return 0;
}

/* Capability numbers are below 64 in every kernel ABI (the capability sets are 2 x 32 bits). */
#define BT_CAP_NUMBERS 64

int bt_drop_capabilities(const int *keep, size_t keep_count, bt_error **err) {
  /* Every number the ABI can express is dropped unless kept; the kernel answers EINVAL for the
   * ones it does not know. Nothing is read from a file: this runs inside the container's mount
   * namespace (after pivot_root for `run`, after setns for `exec`), where /proc/sys is whatever
   * the container made it. An earlier version read /proc/sys/kernel/cap_last_cap here, and a
   * container that bound a fake one ("0") over /proc/sys kept every capability in each exec. */
  for (int cap = 0; cap < BT_CAP_NUMBERS; cap++) {
    bool kept = false;
    for (size_t i = 0; i < keep_count; i++)
      if (keep[i] == cap)
        kept = true;
    if (kept)
      continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      return bt_error_sys(err, "drop capability %d from the bounding set", cap);
  }
  /* Ambient capabilities survive execve for unprivileged users: clear them. EINVAL means a
   * kernel without ambient capabilities (< 4.3): nothing to clear. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return bt_error_sys(err, "clear ambient capabilities");

  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (sys_capget(&header, data) < 0)
    return bt_error_sys(err, "capget");
  data[0].inheritable = 0;
  data[1].inheritable = 0;
  if (sys_capset(&header, data) < 0)
    return bt_error_sys(err, "clear inheritable capabilities");
  return 0;
}

int bt_switch_user(uid_t uid, gid_t gid, const gid_t *groups, size_t group_count,
                   bt_error **err) {
  /* Always call setgroups, even with an empty list: otherwise the host's supplementary groups
   * of the shim (root's, typically) would leak into the container. */
  if (setgroups(group_count, groups) < 0)
    return bt_error_sys(err, "setgroups");
  if (setgid(gid) < 0)
    return bt_error_sys(err, "setgid %d", (int)gid);
  if (setuid(uid) < 0)
    return bt_error_sys(err, "setuid %d", (int)uid);
  return 0;
}

int bt_set_no_new_privs(bt_error **err) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return bt_error_sys(err, "prctl(PR_SET_NO_NEW_PRIVS)");
  return 0;
}
