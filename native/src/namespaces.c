#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

int bt_unshare_cgroupns(bt_error **err) {
  if (unshare(CLONE_NEWCGROUP) < 0)
    return bt_error_sys(err, "unshare cgroup namespace");
  return 0;
}

int bt_set_hostname(const char *name, bt_error **err) {
  if (sethostname(name, strlen(name)) < 0)
    return bt_error_sys(err, "sethostname %s", name);
  return 0;
}

int bt_set_domainname(const char *name, bt_error **err) {
  /* the NIS domain name of the new UTS namespace: what `domainname` and uname's domainname show,
   * and what `hostname -d`/`--fqdn` fall back to (the FQDN itself comes from /etc/hosts) */
  if (setdomainname(name, strlen(name)) < 0)
    return bt_error_sys(err, "setdomainname %s", name);
  return 0;
}

int bt_loopback_up(bt_error **err) {
  /* Any socket of the namespace will do for interface ioctls. */
  cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return bt_error_sys(err, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
    return bt_error_sys(err, "get flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
    return bt_error_sys(err, "bring lo up");
  return 0;
}

int bt_join_namespaces(pid_t pid, bt_error **err) {
  /* Order: every namespace file is opened first, through the host's /proc, because joining the
   * mount namespace replaces our root and /proc with the container's, where `pid` means another
   * process (or nothing). Then setns in this order:
   *   ipc, uts, net: independent;
   *   pid: only affects children forked afterwards (our own pid never changes);
   *   cgroup: after the caller has joined the container's cgroups, so the view matches;
   *   mnt: last, because it changes root and cwd, and setns(mnt) needs CAP_SYS_CHROOT, which
   *   nothing before drops. */
  static const struct {
    const char *name;
    int type;
  } order[] = {
      {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
      {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
  };
  enum { COUNT = sizeof order / sizeof order[0] };
  int fds[COUNT];
  for (size_t i = 0; i < COUNT; i++)
    fds[i] = -1;
  int rc = 0;
  for (size_t i = 0; i < COUNT && rc == 0; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, order[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0)
      rc = bt_error_sys(err, "open %s", path);
  }
  for (size_t i = 0; i < COUNT && rc == 0; i++) {
    if (setns(fds[i], order[i].type) < 0)
      rc = bt_error_sys(err, "setns %s of pid %d", order[i].name, (int)pid);
  }
  for (size_t i = 0; i < COUNT; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  return rc;
}

int bt_set_sysctl(const char *name, const char *value, bt_error **err) {
  char path[256];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", name);
  if (n < 0 || (size_t)n >= sizeof path)
    return bt_error_make(err, ENAMETOOLONG, "sysctl %s", name);
  for (char *p = path + 10; *p; p++)
    if (*p == '.')
      *p = '/';
  cleanup_close int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "sysctl %s", name);
  size_t len = strlen(value);
  if (write(fd, value, len) != (ssize_t)len)
    return bt_error_sys(err, "sysctl %s=%s", name, value);
  return 0;
}
