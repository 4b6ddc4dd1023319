/* Launch-file parsing: the shared sample (the TypeScript side reads the same file), escapes,
 * the round trip through the serializer, and the errors. Run from native/test. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sys/mount.h>

#include "protocol.h"
#include "tap.h"

static char *read_all(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return NULL;
  char *buf = malloc(1 << 16);
  ssize_t n = read(fd, buf, (1 << 16) - 1);
  close(fd);
  if (n < 0)
    n = 0;
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

static int parse_fails(const char *text, const char *needle) {
  bt_launch l;
  bt_error *err = NULL;
  int rc = bt_launch_parse(text, strlen(text), &l, &err);
  int matched = rc < 0 && err != NULL && strstr(err->message, needle) != NULL;
  if (rc < 0 && !matched)
    printf("#   message: %s\n", err ? err->message : "(none)");
  if (rc == 0)
    bt_launch_free(&l);
  bt_error_release(&err);
  return matched;
}

int main(void) {
  size_t len = 0;
  char *text = read_all("sample.launch", &len);
  ok(text != NULL && len > 0, "sample.launch is readable");
  if (text == NULL)
    return tap_done();

  bt_launch l;
  bt_error *err = NULL;
  int rc = bt_launch_parse(text, len, &l, &err);
  ok(rc == 0, "sample parses%s%s", err ? ": " : "", err ? err->message : "");
  if (rc != 0)
    return tap_done();

  is_str(l.id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "id");
  is_str(l.bundle, "/var/lib/berth/containers/0123456789ab", "bundle");
  is_str(l.overlay_mountpoint, "/var/lib/berth/containers/0123456789ab/merged", "overlay mountpoint");
  ok(l.overlay_options && strncmp(l.overlay_options, "lowerdir=l/AAAA:l/BBBB,", 23) == 0,
     "overlay options keep relative lowerdirs");
  is_str(l.overlay_chdir, "/var/lib/berth/overlay", "overlay chdir");
  is_str(l.rootfs, "/var/lib/berth/containers/0123456789ab/merged", "rootfs");
  is_str(l.hostname, "web-1", "hostname");
  is_str(l.domainname, "example.internal", "domainname");
  is_str(l.netns, "/run/berth/netns/0123456789ab", "netns");
  ok(l.args.count == 3 && l.args.items[3] == NULL, "three args, NULL-terminated argv");
  is_str(l.args.items[2], "printf 'a\\tb\\n'\techo \"tab\\\\tafter\"\nexit 3",
         "arg escapes: \\\\ -> backslash, \\t -> TAB, \\n -> newline");
  ok(l.env.count == 3, "three env entries");
  is_str(l.env.items[1], "GREETING=hello\tworld", "env with an escaped TAB");
  is_str(l.env.items[2], "EMPTY=", "empty env value kept");
  is_str(l.cwd, "/srv/app", "cwd");
  is_str(l.user, "app:staff", "user");
  ok(l.cgroups.count == 2, "two cgroups");
  is_str(l.oom_file, "/sys/fs/cgroup/memory/berth/0123456789ab/memory.oom_control", "oom file");
  is_str(l.oom_key, "oom_kill", "oom key");
  ok(l.cap_count == 3 && l.caps[0] == 0 && l.caps[1] == 1 && l.caps[2] == 21, "caps 0 1 21");
  ok(l.no_new_privs, "no_new_privs");
  ok(l.rlimit_count == 2 && l.rlimits[0].resource == RLIMIT_NOFILE && l.rlimits[0].soft == 1024 &&
         l.rlimits[0].hard == 4096,
     "rlimit NOFILE 1024 4096");
  ok(l.rlimit_count == 2 && l.rlimits[1].resource == RLIMIT_CORE && l.rlimits[1].soft == 0 &&
         l.rlimits[1].hard == RLIM_INFINITY,
     "rlimit CORE 0 unlimited");
  ok(l.has_shm_size && l.shm_size == 67108864ULL, "shm_size");
  ok(l.masked.count == 2 && l.readonly.count == 1, "mask and readonly lists");
  ok(l.bind_count == 5 && !l.binds[0].readonly && l.binds[1].readonly, "binds rw then ro");
  ok(!l.binds[0].toponly && l.binds[1].toponly && !l.binds[1].nonrecursive, "toponly: ro on the top mount only");
  is_str(l.binds[1].target, "/etc/hosts", "bind target");
  ok(l.binds[2].kind == BT_MOUNT_BIND && l.binds[2].attrs == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) &&
         l.binds[2].propagation == MS_SLAVE && l.binds[2].propagation_recursive,
     "bind options: nosuid, nodev, rslave");
  is_str(l.binds[2].subpath, "sub/dir", "bind subpath");
  ok(l.binds[3].kind == BT_MOUNT_TMPFS && l.binds[3].size == 67108864ULL && l.binds[3].mode == 01777 &&
         l.binds[3].attrs == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) && !l.binds[3].readonly,
     "tmpfs /run 64 MiB 1777 nosuid,nodev,noexec");
  ok(l.binds[4].kind == BT_MOUNT_TMPFS && l.binds[4].size == 0 && l.binds[4].mode == 0755 &&
         l.binds[4].attrs == 0,
     "tmpfs without size or flags");
  is_str(l.init, "/usr/lib/berth/berth-init", "init");
  ok(!l.tty && l.stdin_open, "tty 0, stdin 1");
  is_str(l.log, "/var/lib/berth/containers/0123456789ab/json.log", "log");
  ok(l.on_exit.count == 4, "on_exit argv");
  ok(l.userns && l.userns_uid == 2000000000U && l.userns_gid == 2000000001U && l.userns_count == 65536,
     "userns range");
  ok(l.pid == 0, "no pid in a run file");
  ok(bt_launch_validate_run(&l, &err) == 0, "valid for run");
  ok(bt_launch_validate_exec(&l, &err) < 0, "not valid for exec (no pid)");
  bt_error_release(&err);

  /* The serializer writes protocol.ts's canonical order, the order the sample is written in. */
  char *again = bt_launch_serialize(&l);
  is_str(again, text, "serialize(parse(sample)) == sample");
  free(again);
  bt_launch_free(&l);

  /* exec files */
  const char *exec_text = "berth-launch\t1\npid\t4242\narg\tls\ncwd\t\nuser\t1000:1000\n"
                          "no_new_privs\t0\ntty\t1\nstdin\t1\n";
  rc = bt_launch_parse(exec_text, strlen(exec_text), &l, &err);
  ok(rc == 0 && l.pid == 4242 && l.tty && l.cap_count == 0, "exec file parses, no caps = none kept");
  ok(rc == 0 && bt_launch_validate_exec(&l, &err) == 0, "valid for exec");
  if (rc == 0)
    bt_launch_free(&l);

  /* errors */
  ok(parse_fails("berth-launch\t2\n", "not a version 1"), "wrong version rejected");
  ok(parse_fails("hello\n", "not a version 1"), "missing header rejected");
  ok(parse_fails("", "empty"), "empty file rejected");
  ok(parse_fails("berth-launch\t1\nfrobnicate\tx\n", "line 2: unknown directive frobnicate"),
     "unknown directive rejected with its line");
  ok(parse_fails("berth-launch\t1\nrootfs\t/a\trootfs\n", "takes 1 field"), "field count checked");
  ok(parse_fails("berth-launch\t1\nrootfs\t/a\nrootfs\t/b\n", "repeated"), "single directive repeated");
  ok(parse_fails("berth-launch\t1\ntty\tyes\n", "expected 0 or 1"), "booleans are 0/1");
  ok(parse_fails("berth-launch\t1\nrlimit\tFOO\t1\t2\n", "unknown resource"), "rlimit name checked");
  ok(parse_fails("berth-launch\t1\ncap\t-1\n", "not a capability"), "cap number checked");
  ok(parse_fails("berth-launch\t1\nbind\t/a\trel\tro\n", "absolute"), "bind target absolute");
  ok(parse_fails("berth-launch\t1\nbind\t/a\t/b\tnosuid\n", "expected ro or rw"), "bind options start with ro or rw");
  ok(parse_fails("berth-launch\t1\nbind\t/a\t/b\tro,bogus\n", "unknown mount option bogus"), "bind option checked");
  ok(parse_fails("berth-launch\t1\nbind\t/a\t/b\tro\t/abs\n", "subpath must be relative"), "bind subpath relative");
  ok(parse_fails("berth-launch\t1\ntmpfs\t/t\tbig\t1777\t\n", "not a number of bytes"), "tmpfs size checked");
  ok(parse_fails("berth-launch\t1\ntmpfs\t/t\t0\t9\t\n", "not an octal mode"), "tmpfs mode checked");
  ok(parse_fails("berth-launch\t1\ntmpfs\t/t\t0\t755\trslave\n", "unknown mount option"), "no propagation on tmpfs");
  ok(parse_fails("berth-launch\t1\nuserns\t0\t100000\t65536\n", "host root must not be mapped"),
     "userns never maps the host's root");
  ok(parse_fails("berth-launch\t1\nuserns\t4294967295\t1\t2\n", "bad range"), "userns range below 2^32");
  ok(parse_fails("berth-launch\t1\nuserns\t1\t1\t0\n", "bad range"), "userns count above 0");

  /* escapes on their own */
  char *e = bt_field_escape("a\\b\tc\nd");
  is_str(e, "a\\\\b\\tc\\nd", "escape");
  char *u = bt_field_unescape(e, strlen(e));
  is_str(u, "a\\b\tc\nd", "unescape(escape(x)) == x");
  free(e);
  free(u);
  u = bt_field_unescape("x\\qy\\", 5);
  is_str(u, "xqy\\", "unknown escape keeps the char, trailing backslash kept (as protocol.ts)");
  free(u);

  free(text);
  return tap_done();
}
