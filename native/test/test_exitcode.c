/* Exit-code mapping: wait statuses, exec errnos, the OOM counter. Real processes, no mocks. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "tap.h"

static int status_of(int how) {
  pid_t pid = fork();
  if (pid == 0) {
    if (how >= 0)
      _exit(how);
    signal(-how, SIG_DFL);
    raise(-how);
    _exit(99);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

static const char *write_file(const char *content) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/bt-oom-XXXXXX");
  int fd = mkstemp(path);
  (void)!write(fd, content, strlen(content));
  close(fd);
  return path;
}

int main(void) {
  int sig = -1;
  ok(bt_exit_code_from_status(status_of(0), &sig) == 0 && sig == 0, "exit 0 -> 0");
  ok(bt_exit_code_from_status(status_of(3), &sig) == 3 && sig == 0, "exit 3 -> 3");
  ok(bt_exit_code_from_status(status_of(255), &sig) == 255, "exit 255 -> 255");
  ok(bt_exit_code_from_status(status_of(-SIGKILL), &sig) == 137 && sig == SIGKILL,
     "SIGKILL -> 137, signal 9");
  ok(bt_exit_code_from_status(status_of(-SIGTERM), &sig) == 143 && sig == SIGTERM,
     "SIGTERM -> 143, signal 15");

  ok(bt_exit_code_from_exec_errno(ENOENT) == 127, "ENOENT -> 127");
  ok(bt_exit_code_from_exec_errno(ENOTDIR) == 127, "ENOTDIR -> 127");
  ok(bt_exit_code_from_exec_errno(EACCES) == 126, "EACCES -> 126");
  ok(bt_exit_code_from_exec_errno(ENOEXEC) == 126, "ENOEXEC -> 126");
  ok(bt_exit_code_from_exec_errno(EISDIR) == 126, "EISDIR -> 126");
  ok(bt_exit_code_from_exec_errno(ENOMEM) == 125, "anything else -> 125");

  bool killed = true;
  bt_error *err = NULL;
  const char *v1 = write_file("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  ok(bt_read_oom_killed(v1, "oom_kill", &killed, &err) == 0 && killed,
     "v1 memory.oom_control: oom_kill 2 -> killed (oom_kill_disable not mistaken for it)");
  unlink(v1);
  const char *v2 = write_file("low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\noom_group_kill 0\n");
  ok(bt_read_oom_killed(v2, "oom_kill", &killed, &err) == 0 && !killed,
     "v2 memory.events: oom_kill 0 -> not killed");
  unlink(v2);
  ok(bt_read_oom_killed("/nonexistent/memory.events", "oom_kill", &killed, &err) == 0 && !killed,
     "missing file -> not killed, no error");
  return tap_done();
}
