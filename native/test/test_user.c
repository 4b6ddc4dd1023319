/* User resolution against temp passwd/group files, with Docker's (runc's) semantics. */
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "user.h"

static char passwd_path[] = "/tmp/bt-passwd-XXXXXX";
static char group_path[] = "/tmp/bt-group-XXXXXX";

static void write_tmp(char *path, const char *content) {
  int fd = mkstemp(path);
  (void)!write(fd, content, strlen(content));
  close(fd);
}

static int has_group(const bt_user *u, gid_t g) {
  for (size_t i = 0; i < u->group_count; i++)
    if (u->groups[i] == g)
      return 1;
  return 0;
}

int main(void) {
  write_tmp(passwd_path, "# comment\n"
                         "root:x:0:0:root:/root:/bin/sh\n"
                         "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                         "app:x:1000:1000:App:/home/app:/bin/sh\n"
                         "nohome:x:1001:1001:::/bin/sh\n"
                         "broken line without colons\n");
  write_tmp(group_path, "root:x:0:\n"
                        "wheel:x:10:root,app\n"
                        "app:x:1000:\n"
                        "staff:x:50:app, daemon\n"
                        "docker:x:999:\n");
  bt_user u;
  bt_error *err = NULL;

  ok(bt_resolve_user("", passwd_path, group_path, &u, &err) == 0 && u.uid == 0 && u.gid == 0,
     "empty spec -> root");
  is_str(u.home, "/root", "root's HOME from passwd");
  ok(u.group_count == 1 && has_group(&u, 10), "root gets wheel as a supplementary group");

  ok(bt_resolve_user("app", passwd_path, group_path, &u, &err) == 0 && u.uid == 1000 &&
         u.gid == 1000,
     "name -> uid/gid from passwd");
  is_str(u.home, "/home/app", "HOME from passwd");
  ok(u.group_count == 2 && has_group(&u, 10) && has_group(&u, 50),
     "supplementary groups from membership lists (spaces tolerated)");

  ok(bt_resolve_user("1000", passwd_path, group_path, &u, &err) == 0 && u.uid == 1000 &&
         u.gid == 1000 && u.group_count == 2,
     "numeric uid found in passwd behaves like its name");

  ok(bt_resolve_user("4242", passwd_path, group_path, &u, &err) == 0 && u.uid == 4242 &&
         u.gid == 0 && u.group_count == 0,
     "numeric uid without an entry: allowed, gid 0, no groups");
  is_str(u.home, "/", "HOME defaults to /");

  ok(bt_resolve_user("app:staff", passwd_path, group_path, &u, &err) == 0 && u.uid == 1000 &&
         u.gid == 50 && u.group_count == 0,
     "name:group -> that gid, no supplementary groups");
  ok(bt_resolve_user("app:4343", passwd_path, group_path, &u, &err) == 0 && u.gid == 4343,
     "name:gid without a group entry: allowed");
  ok(bt_resolve_user("4242:999", passwd_path, group_path, &u, &err) == 0 && u.uid == 4242 &&
         u.gid == 999,
     "uid:gid");
  ok(bt_resolve_user("nohome", passwd_path, group_path, &u, &err) == 0 && strcmp(u.home, "/") == 0,
     "empty home field -> /");

  ok(bt_resolve_user("ghost", passwd_path, group_path, &u, &err) < 0 && err != NULL,
     "unknown name fails");
  if (err)
    is_str(err->message, "unable to find user ghost: no matching entries in passwd file",
           "Docker's message for an unknown user");
  bt_error_release(&err);
  ok(bt_resolve_user("app:ghosts", passwd_path, group_path, &u, &err) < 0 && err != NULL,
     "unknown group name fails");
  if (err)
    is_str(err->message, "unable to find group ghosts: no matching entries in group file",
           "Docker's message for an unknown group");
  bt_error_release(&err);

  ok(bt_resolve_user("123", "/nonexistent/passwd", "/nonexistent/group", &u, &err) == 0 &&
         u.uid == 123,
     "missing passwd file: numeric ids still work");
  ok(bt_resolve_user("app", "/nonexistent/passwd", "/nonexistent/group", &u, &err) < 0,
     "missing passwd file: names fail");
  bt_error_release(&err);

  unlink(passwd_path);
  unlink(group_path);
  return tap_done();
}
