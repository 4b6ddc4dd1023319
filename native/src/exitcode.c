#include "exitcode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

int bt_exit_code_from_status(int wait_status, int *signal) {
  if (WIFSIGNALED(wait_status)) {
    *signal = WTERMSIG(wait_status);
    return 128 + *signal;
  }
  *signal = 0;
  if (WIFEXITED(wait_status))
    return WEXITSTATUS(wait_status);
  return BT_EXIT_SETUP; /* stopped/continued are not terminal states; callers never pass them */
}

int bt_exit_code_from_exec_errno(int errnum) {
  switch (errnum) {
  case ENOENT:
  case ENOTDIR:
    return BT_EXIT_NOT_FOUND;
  case EACCES:
  case EPERM:
  case ENOEXEC:
  case EISDIR:
  case ETXTBSY:
    return BT_EXIT_CANNOT_EXEC;
  default:
    return BT_EXIT_SETUP;
  }
}

int bt_read_oom_killed(const char *file, const char *key, bool *killed, bt_error **err) {
  *killed = false;
  cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return bt_error_sys(err, "open %s", file);
  }
  char buf[4096];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return bt_error_sys(err, "read %s", file);
    }
    if (n == 0 || len + (size_t)n == sizeof buf - 1) {
      len += (size_t)n;
      break;
    }
    len += (size_t)n;
  }
  buf[len] = '\0';
  size_t key_len = strlen(key);
  for (char *line = buf; line != NULL && *line != '\0';) {
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (strncmp(line, key, key_len) == 0 && line[key_len] == ' ') {
      *killed = strtoull(line + key_len + 1, NULL, 10) > 0;
      return 0;
    }
    line = next;
  }
  return 0;
}
