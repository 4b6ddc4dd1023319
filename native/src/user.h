/* User and group resolution against a container's own /etc/passwd and /etc/group, with Docker's
 * (runc's GetExecUser) semantics. Never the host's NSS: the files are read by path, and the
 * caller passes paths that are already inside the container's root (after pivot_root or setns),
 * so a lookup cannot escape it. */
#ifndef BT_USER_H
#define BT_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define BT_MAX_GROUPS 64

typedef struct bt_user {
  uid_t uid;
  gid_t gid;
  char home[256];           /* from passwd, "/" when the user has no entry */
  gid_t groups[BT_MAX_GROUPS]; /* supplementary groups (only in the implicit-group form) */
  size_t group_count;
} bt_user;

/* spec: "", "name", "uid", "name:group", "uid:gid", "name:gid", "uid:group".
 * - empty user part means uid 0 (its passwd entry, if any, gives gid and home);
 * - a numeric user is always a uid, found in passwd or not;
 * - a name must be in passwd: "unable to find user NAME: no matching entries in passwd file";
 * - an explicit group sets the gid (numeric allowed without an entry, a name must exist:
 *   "unable to find group NAME: no matching entries in group file") and then no supplementary
 *   groups are added;
 * - without an explicit group, the supplementary groups are the groups listing the user's
 *   name as a member. Missing passwd/group files count as empty. */
int bt_resolve_user(const char *spec, const char *passwd_path, const char *group_path,
                    bt_user *out, bt_error **err);

/* Docker's group_add (--group-add): each entry, a gid or a group name looked up in group_path,
 * is added to out's supplementary groups (once). A name that is not there is an error with
 * Docker's message. */
int bt_add_groups(bt_user *out, char *const *groups, size_t count, const char *group_path,
                  bt_error **err);

#endif
