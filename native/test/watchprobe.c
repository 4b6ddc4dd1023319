/* watch-probe DIR: a process inside a container that watches its own files, as a dev server's
 * reloader does. It prints "watching DIR" once its inotify watch is in place, then one line per
 * event on DIR: "<event>\t<name>" with event one of create, modify, close_write, delete,
 * moved_from, moved_to, attrib. Static, libc only (it runs in test images); Debian's busybox-static
 * has no inotifyd. Used by test/integration/watch.test.ts. */
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static void say(const char *line) {
  size_t len = strlen(line);
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, line, len);
    if (n <= 0)
      return;
    line += n;
    len -= (size_t)n;
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    say("usage: watch-probe DIR\n");
    return 2;
  }
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch(fd, argv[1], IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB) < 0) {
    perror("watch-probe");
    return 1;
  }
  char line[4096 + 64];
  snprintf(line, sizeof line, "watching %s\n", argv[1]);
  say(line);
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0)
      return 1;
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *e = (const struct inotify_event *)p;
      static const struct { unsigned mask; const char *name; } kinds[] = {
          {IN_CREATE, "create"}, {IN_MODIFY, "modify"}, {IN_CLOSE_WRITE, "close_write"}, {IN_DELETE, "delete"},
          {IN_MOVED_FROM, "moved_from"}, {IN_MOVED_TO, "moved_to"}, {IN_ATTRIB, "attrib"},
      };
      for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (e->mask & kinds[i].mask) {
          snprintf(line, sizeof line, "%s\t%s\n", kinds[i].name, e->len > 0 ? e->name : "");
          say(line);
        }
      }
      p += sizeof(struct inotify_event) + e->len;
    }
  }
}
