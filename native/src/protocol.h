/* The launch file (native/PROTOCOL.md, version 1) and the records the shim writes into the
 * bundle. Mirrors src/runtime/shim/protocol.ts: one message type definition per side. */
#ifndef BT_PROTOCOL_H
#define BT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "error.h"

#define BT_PROTOCOL_VERSION 1

/* A growable list of owned strings, in directive order. */
typedef struct bt_strv {
  char **items;
  size_t count;
} bt_strv;

typedef struct bt_rlimit {
  int resource;     /* RLIMIT_* value */
  char *name;       /* as written, without the RLIMIT_ prefix */
  rlim_t soft, hard; /* RLIM_INFINITY for "unlimited" */
} bt_rlimit;

/* A mount the launch file asks for inside the rootfs, in directive order (`bind` and `tmpfs` lines
 * share one list so that a mount below another is made after it). */
enum { BT_MOUNT_BIND = 0, BT_MOUNT_TMPFS = 1 };

typedef struct bt_bind {
  int kind;      /* BT_MOUNT_BIND or BT_MOUNT_TMPFS */
  char *source;  /* bind: host path; tmpfs: NULL */
  char *target;  /* path inside the container (resolved inside the rootfs) */
  bool readonly;
  char *options; /* the options field as written: ro|rw[,nosuid][,nodev][,noexec][,norecursive]
                    [,private|rprivate|slave|rslave|shared|rshared] */
  unsigned long attrs;       /* MOUNT_ATTR_NOSUID | _NODEV | _NOEXEC from options */
  unsigned long propagation; /* 0 (left as is), MS_PRIVATE, MS_SLAVE or MS_SHARED */
  bool propagation_recursive;
  bool nonrecursive;         /* bind: without the source's submounts */
  bool toponly;              /* bind: ro and the other attributes on the top mount only (submounts keep theirs) */
  char *subpath;             /* bind: resolved beneath source (never leaving it); NULL = none */
  unsigned long long size;   /* tmpfs: bytes, 0 = the kernel's default */
  unsigned int mode;         /* tmpfs: mode of its root */
} bt_bind;

/* seccomp: the resolved filter (src/runtime/seccomp/ applies Docker's profile conditions). */
typedef enum {
  BT_SCMP_ALLOW, BT_SCMP_ERRNO, BT_SCMP_KILL_THREAD, BT_SCMP_KILL_PROCESS, BT_SCMP_TRAP,
  BT_SCMP_LOG, BT_SCMP_TRACE,
} bt_seccomp_action_kind;

typedef struct bt_seccomp_action {
  bt_seccomp_action_kind kind;
  unsigned errnum; /* errno for ERRNO, message for TRACE */
} bt_seccomp_action;

typedef enum { BT_CMP_NE, BT_CMP_LT, BT_CMP_LE, BT_CMP_EQ, BT_CMP_GE, BT_CMP_GT, BT_CMP_MASKED_EQ } bt_cmp_op;

typedef struct bt_seccomp_arg {
  unsigned index; /* 0..5 */
  bt_cmp_op op;
  unsigned long long value, value_two;
} bt_seccomp_arg;

typedef struct bt_seccomp_rule {
  bt_seccomp_action action;
  char *syscall;
  bt_seccomp_arg args[6];
  unsigned arg_count;
} bt_seccomp_rule;

typedef struct bt_seccomp {
  bool enabled; /* no `seccomp` directive: no filter (unconfined, privileged) */
  bt_seccomp_action default_action;
  bt_strv arches; /* extra architectures by libseccomp name ("x86", "x32"); the native one is implied */
  bt_seccomp_rule *rules;
  size_t rule_count;
  /* Where compiled programs are kept, and this filter's key there (a hash of the rules, made by
   * the TypeScript side); both NULL: compiled every time. */
  char *cache_dir, *cache_key;
} bt_seccomp;

typedef struct bt_sysctl {
  char *name;  /* dotted, as sysctl(8): net.ipv4.ip_unprivileged_port_start */
  char *value;
} bt_sysctl;

/* A device node created in the container's /dev (and allowed by the device policy the TypeScript
 * side installed in the cgroup). */
typedef struct bt_device_node {
  char *path;   /* absolute, under /dev */
  char type;    /* 'c' or 'b' */
  unsigned major, minor;
  unsigned mode; /* permission bits */
  unsigned uid, gid;
} bt_device_node;

/* A filesystem mounted under /sys/fs/cgroup inside the container, read-only. With the cgroup
 * namespace its root is the container's own cgroup, so the files show the container's limits. */
typedef struct bt_cgroupfs {
  char *fstype;  /* "cgroup" (v1) or "cgroup2" */
  char *options; /* v1: the controllers of the hierarchy ("cpu,cpuacct"); v2: empty */
  char *subdir;  /* "" for /sys/fs/cgroup itself (v2), else the directory under it (v1) */
} bt_cgroupfs;

/* Everything the launch (run) and exec files can carry; a `run` file uses the first group, an
 * `exec` file the directives listed in PROTOCOL.md under `exec` (pid, cgroup, arg, env, cwd, user,
 * cap, no_new_privs, tty, stdin). Absent optional strings are NULL. */
typedef struct bt_launch {
  char *id;
  char *bundle;
  /* overlay: all three NULL when the rootfs is used as it is */
  char *overlay_mountpoint, *overlay_options, *overlay_chdir;
  char *rootfs;
  char *hostname;
  /* the UTS domain name (compose `domainname`); NULL: left empty */
  char *domainname;
  /* a network namespace to join (a bind-mounted nsfs file or /proc/<pid>/ns/net) instead of a
   * new one; NULL: a new namespace with lo only */
  char *netns;
  bt_strv args; /* argv; at least one */
  bt_strv env;
  char *cwd;  /* NULL or "" means "/" */
  char *user; /* NULL or "" means the image default (root) */
  bt_strv cgroups;
  char *oom_file, *oom_key; /* both NULL when absent */
  /* Capabilities kept in the bounding set. No `cap` line at all means an empty list: every
   * capability is dropped (what cap_drop: [ALL] produces). */
  int *caps;
  size_t cap_count;
  bool no_new_privs;
  bt_rlimit *rlimits;
  size_t rlimit_count;
  bool has_shm_size;
  unsigned long long shm_size;
  bt_strv masked;
  bt_strv readonly;
  bt_bind *binds;
  size_t bind_count;
  char *init; /* host path of berth-init, bound at /dev/init */
  bool tty;
  bool stdin_open;
  char *log;
  bt_strv on_exit;
  pid_t pid; /* exec only: the container's PID 1 as the host sees it; 0 when absent */
  bt_seccomp seccomp;
  bt_strv group_add;    /* supplementary groups added to the user's: names (container /etc/group) or gids */
  bool readonly_rootfs; /* the rootfs is remounted read-only (binds, /dev, /proc... keep their own) */
  bool sysfs_rw;        /* /sys mounted read-write (privileged) */
  bt_sysctl *sysctls;
  size_t sysctl_count;
  bt_device_node *devices;
  size_t device_count;
  bt_cgroupfs *cgroupfs;
  size_t cgroupfs_count;
  unsigned long long log_max_size; /* json-file rotation: bytes per file, 0 = unbounded */
  unsigned log_max_files;          /* files kept, the current one included (>= 1) */
  /* `userns`: a remapped user namespace (userns.h): container ids 0..count-1 are host
   * uid..uid+count-1 / gid..gid+count-1. false: the host's user namespace, as by default. */
  bool userns;
  unsigned userns_uid, userns_gid, userns_count;
} bt_launch;

/* Parse the text of a launch file. On error the message names the line ("line 7: ..."). */
int bt_launch_parse(const char *text, size_t len, bt_launch *out, bt_error **err);
int bt_launch_read(const char *path, bt_launch *out, bt_error **err);
void bt_launch_free(bt_launch *launch);

/* What each command needs: `run` needs rootfs, bundle and an arg; `exec` needs pid and an arg. */
int bt_launch_validate_run(const bt_launch *launch, bt_error **err);
int bt_launch_validate_exec(const bt_launch *launch, bt_error **err);

/* Serialize in the canonical directive order of protocol.ts launchDirectives(); used by the
 * round-trip test. Returns a malloc'd NUL-terminated string. */
char *bt_launch_serialize(const bt_launch *launch);

/* Field escaping: "\\" -> backslash, "\t" -> TAB, "\n" -> newline; any other "\x" -> x (as
 * protocol.ts unescapeField does). */
char *bt_field_unescape(const char *field, size_t len);
char *bt_field_escape(const char *field);

/* Map "NOFILE" to RLIMIT_NOFILE etc.; -1 if unknown. */
int bt_rlimit_from_name(const char *name);

/* Atomic file write into dir: write <dir>/.<name>.tmp, fsync, rename over <dir>/<name>, fsync
 * the directory. Either the old file or the complete new one exists at every moment. */
int bt_write_atomic(const char *dir, const char *name, const char *data, size_t len,
                    bt_error **err);

/* started: {"pid":N,"shimPid":M,"startedAt":"<time>"} */
int bt_write_started(const char *bundle, pid_t pid, pid_t shim_pid, const char *started_at,
                     bt_error **err);
/* exited: {"exitCode":N,"signal":S,"oomKilled":B,"finishedAt":"<time>"} */
int bt_write_exited(const char *bundle, int exit_code, int signal, bool oom_killed,
                    const char *finished_at, bt_error **err);
/* error: one line, the message */
int bt_write_error(const char *bundle, const char *message, bt_error **err);

#endif
