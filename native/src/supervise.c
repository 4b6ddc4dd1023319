/* Supervision: one poll loop over a signalfd and the stdio descriptors.
 *
 * Signals are blocked before the container is spawned and read from a signalfd, so a SIGCHLD
 * can never arrive between "check" and "sleep" and be lost, and no handler runs at an awkward
 * moment. SIGPIPE and SIGHUP are ignored: a vanished reader of our stdout (EPIPE) or a closed
 * terminal (SIGHUP) must stop the copy, never the supervisor or the log. */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "exitcode.h"
#include "hold.h"
#include "logs.h"
#include "spawn.h"

/* Signals relayed to the container (Docker's sig-proxy). */

/* Detached processes (the supervisor, on_exit hooks) keep no stdio of whoever started them. */
static void stdio_to_devnull(void) {
  int null = open("/dev/null", O_RDWR);
  if (null < 0)
    return;
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  if (null > 2)
    close(null);
}
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};


/* ---- one relay: a container output stream -> log + our own stdout/stderr ---------------- */

typedef struct relay {
  int from;              /* container side, -1 once at EOF */
  int to;                /* our stdout/stderr, -1 when not copying (detached, broken pipe) */
  bt_log_stream *stream; /* NULL when not logging (exec) */
} relay;

/* Large enough to drain a pipe in few reads; static so the stack stays small. */
static char io_buffer[16384];

static void relay_read(relay *r, bt_log *log) {
  ssize_t n = read(r->from, io_buffer, sizeof io_buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    /* EOF, or EIO from a pty master once every slave descriptor is closed. */
    close(r->from);
    r->from = -1;
    return;
  }
  if (r->stream != NULL) {
    bt_error *err = NULL;
    if (bt_log_feed(log, r->stream, io_buffer, (size_t)n, &err) < 0)
      bt_error_report_release(&err);
  }
  if (r->to >= 0 && bt_write_all(r->to, io_buffer, (size_t)n) < 0)
    r->to = -1; /* EPIPE/EIO: the reader went away; keep logging, stop copying */
}

/* ---- stdin: our stdin -> the container, never blocking the loop --------------------------- */

typedef struct input {
  int from;       /* our stdin, -1 when not copying */
  int to;         /* container stdin (pipe write end or pty master, O_NONBLOCK), -1 when gone */
  bool close_on_eof; /* pipe: closing it is the container's EOF; a pty master stays open */
  char buf[4096];
  size_t len, off; /* pending bytes buf[off..len) */
} input;

static void input_read(input *in) {
  ssize_t n = read(in->from, in->buf, sizeof in->buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    in->from = -1;
    if (in->close_on_eof && in->to >= 0) {
      close(in->to);
      in->to = -1;
    }
    return;
  }
  in->len = (size_t)n;
  in->off = 0;
}

static void input_write(input *in) {
  ssize_t n = write(in->to, in->buf + in->off, in->len - in->off);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN)
      return;
    /* EPIPE: the container closed its stdin. Stop reading ours. */
    in->len = in->off = 0;
    in->from = -1;
    if (in->close_on_eof) {
      close(in->to);
      in->to = -1;
    }
    return;
  }
  in->off += (size_t)n;
  if (in->off == in->len)
    in->len = in->off = 0;
}

/* ---- the terminal ------------------------------------------------------------------------ */

static struct termios saved_termios;
static bool termios_saved;

static void terminal_raw(void) {
  if (tcgetattr(0, &saved_termios) < 0)
    return;
  struct termios raw = saved_termios;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSANOW, &raw) == 0)
    termios_saved = true;
}

static void terminal_restore(void) {
  if (termios_saved)
    tcsetattr(0, TCSANOW, &saved_termios);
  termios_saved = false;
}

static void copy_window_size(int master) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* ---- the loop ---------------------------------------------------------------------------- */

typedef struct loop_options {
  bool attached;      /* copy to our stdout/stderr and from our stdin */
  bool forward;       /* sig-proxy */
  bool follow_winsize;
  bt_log *log;        /* NULL: nothing is logged (exec) */
} loop_options;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long output is still drained after the process exited. A container's other processes
 * die with its PID 1, so its pipes reach EOF at once; an `exec`'d process may leave a
 * background child holding them, and the shim must not wait for that forever. */
#define DRAIN_MS 1000

/* Relay until the process has exited and its output is drained. Returns the wait status;
 * *finished receives the time of the exit. */
static int loop(bt_process *p, int sigfd, const bt_launch *l, const loop_options *o,
                char finished[BT_TIME_MAX]) {
  bt_log_stream *out_stream = o->log ? &o->log->out : NULL;
  bt_log_stream *err_stream = o->log ? &o->log->err : NULL;
  relay relays[2] = {
      {.from = l->tty ? p->pty_master : p->stdout_fd, .to = o->attached ? 1 : -1,
       .stream = out_stream},
      {.from = l->tty ? -1 : p->stderr_fd, .to = o->attached ? 2 : -1, .stream = err_stream},
  };
  static input in;
  in.from = (o->attached && l->stdin_open) ? 0 : -1;
  in.to = l->tty ? (l->stdin_open ? dup(p->pty_master) : -1) : p->stdin_fd;
  in.close_on_eof = !l->tty;
  in.len = in.off = 0;
  if (in.to >= 0)
    fcntl(in.to, F_SETFL, fcntl(in.to, F_GETFL) | O_NONBLOCK);
  if (in.to < 0)
    in.from = -1;

  int status = 0;
  bool exited = false;
  long long deadline = 0;
  for (;;) {
    if (exited && (relays[0].from < 0 && relays[1].from < 0))
      break;
    if (exited && now_ms() >= deadline)
      break;
    struct pollfd fds[5];
    int n = 0;
    fds[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    int r0 = -1, r1 = -1, iread = -1, iwrite = -1;
    if (relays[0].from >= 0) { r0 = n; fds[n++] = (struct pollfd){.fd = relays[0].from, .events = POLLIN}; }
    if (relays[1].from >= 0) { r1 = n; fds[n++] = (struct pollfd){.fd = relays[1].from, .events = POLLIN}; }
    if (in.len == 0 && in.from >= 0 && !exited) {
      iread = n;
      fds[n++] = (struct pollfd){.fd = in.from, .events = POLLIN};
    } else if (in.len > 0 && in.to >= 0) {
      iwrite = n;
      fds[n++] = (struct pollfd){.fd = in.to, .events = POLLOUT};
    }
    int timeout = exited ? (int)(deadline - now_ms()) : -1;
    if (exited && timeout < 0)
      timeout = 0;
    int ready = poll(fds, (nfds_t)n, timeout);
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      bt_report("poll failed");
      break;
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
          int st;
          pid_t w;
          /* Reap whatever is waitable; only our process's status matters. */
          while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            if (w == p->pid && !exited) {
              status = st;
              exited = true;
              bt_now(finished);
              deadline = now_ms() + DRAIN_MS;
            }
          }
        } else if (sig == SIGWINCH) {
          if (o->follow_winsize && p->pty_master >= 0)
            copy_window_size(p->pty_master);
        } else if (o->forward && !exited) {
          kill(p->pid, sig);
        }
      }
    }
    if (r0 >= 0 && (fds[r0].revents & (POLLIN | POLLHUP | POLLERR)))
      relay_read(&relays[0], o->log);
    if (r1 >= 0 && (fds[r1].revents & (POLLIN | POLLHUP | POLLERR)))
      relay_read(&relays[1], o->log);
    if (iread >= 0 && (fds[iread].revents & (POLLIN | POLLHUP | POLLERR)))
      input_read(&in);
    if (iwrite >= 0 && (fds[iwrite].revents & (POLLOUT | POLLERR | POLLHUP)))
      input_write(&in);
    if (in.len > 0 && in.to >= 0 && iwrite < 0)
      input_write(&in); /* try at once; poll only when the pipe is full */
  }
  for (int i = 0; i < 2; i++)
    if (relays[i].from >= 0)
      close(relays[i].from);
  if (in.to >= 0) /* the stdin pipe, or our dup of the pty master */
    close(in.to);
  p->pty_master = p->stdout_fd = p->stderr_fd = p->stdin_fd = -1;
  return status;
}

/* Block the signals the loop reads from a signalfd; ignore SIGPIPE (and SIGHUP when it is not
 * forwarded). Returns the signalfd. */
static int setup_signals(bool forward_hup, bt_error **err) {
  signal(SIGPIPE, SIG_IGN);
  if (!forward_hup)
    signal(SIGHUP, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGWINCH);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    if (forwarded[i] != SIGHUP || forward_hup)
      sigaddset(&set, forwarded[i]);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return bt_error_sys(err, "block signals");
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0)
    return bt_error_sys(err, "signalfd");
  return fd;
}

/* on_exit: run detached -- double fork so the hook is reparented away from us at once, setsid so
 * no terminal or process-group signal of ours reaches it, stdio on /dev/null. */
static void run_on_exit(const bt_launch *l) {
  if (l->on_exit.count == 0)
    return;
  pid_t pid = fork();
  if (pid < 0) {
    bt_report("on_exit: fork failed");
    return;
  }
  if (pid == 0) {
    setsid();
    if (fork() != 0)
      _exit(0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    stdio_to_devnull();
    execvp(l->on_exit.items[0], l->on_exit.items);
    _exit(127);
  }
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* One of the last run's records (`exited`, `error`), gone once a held start went; absent is fine. */
static void remove_run_record(const char *bundle, const char *name) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", bundle, name) < sizeof path)
    (void)unlink(path);
}

/* Report a failure: stderr (or the detach pipe), and the bundle's `error` file. */
static void fail_start(const bt_launch *l, int notify_fd, int code, bt_error *err) {
  char msg[1024], line[1100];
  bt_error_format(err, msg, sizeof msg);
  snprintf(line, sizeof line, "berth-shim: %s", msg);
  /* A cancelled held start is no failure of the container's: its records stay as they were. */
  if (l->bundle != NULL && !(err != NULL && err->errnum == ECANCELED)) {
    bt_error *werr = NULL;
    if (bt_write_error(l->bundle, line, &werr) < 0)
      bt_error_release(&werr);
  }
  if (notify_fd >= 0 && err != NULL && err->errnum == ECANCELED) {
    (void)!write(notify_fd, "C", 1); /* a held start cancelled: no failure, no message */
  } else if (notify_fd >= 0) {
    char rec[1200];
    int n = snprintf(rec, sizeof rec, "%d %s", code, line);
    (void)!write(notify_fd, rec, (size_t)n < sizeof rec ? (size_t)n : sizeof rec - 1);
  } else {
    bt_report("%s", msg);
  }
}

/* The supervisor proper. notify_fd >= 0 in detached mode: "0" once started, "<code> <line>"
 * on failure. */
static int supervise_run(const bt_launch *l, bool attached, int notify_fd) {
  bt_error *err = NULL;
  /* SIGHUP is forwarded unless a terminal is involved: with a tty it means our terminal went
   * away, which must not stop the container. The other signals are always forwarded: without a
   * tty that is Docker's sig-proxy; with one (raw mode: ^C arrives as a byte, not a signal) a
   * signal can only come from kill(1), and passing it on beats ignoring it or dying with the
   * terminal left raw. */
  int sigfd = setup_signals(!l->tty, &err);
  if (sigfd < 0) {
    fail_start(l, notify_fd, BT_EXIT_SETUP, err);
    bt_error_release(&err);
    return BT_EXIT_SETUP;
  }
  static bt_log log;
  if (bt_log_open(&log, l->log, l->log_max_size, l->log_max_files, &err) < 0) {
    fail_start(l, notify_fd, BT_EXIT_SETUP, err);
    bt_error_release(&err);
    return BT_EXIT_SETUP;
  }

  bt_process p;
  int code = 0;
  if (bt_spawn_container(l, &p, &code, &err) < 0) {
    fail_start(l, notify_fd, code, err);
    bt_error_release(&err);
    bt_log_close(&log);
    return code;
  }
  char started[BT_TIME_MAX];
  bt_now(started);
  if (bt_write_started(l->bundle, p.pid, getpid(), started, &err) < 0) {
    /* The container runs but nobody could know: stop it rather than leave it untracked. */
    kill(p.pid, SIGKILL);
    waitpid(p.pid, NULL, 0);
    bt_spawn_cleanup(l, &p, NULL);
    fail_start(l, notify_fd, BT_EXIT_SETUP, err);
    bt_error_release(&err);
    return BT_EXIT_SETUP;
  }
  /* A held start that went: the last run's records go now, after the new `started` (renamed
   * over the old one), `exited` last -- until then the container still reads as exited, never as
   * a half-made run. The engine is told when the process woke. */
  struct timespec went, ready;
  bool held = bt_hold_went(&went, &ready);
  if (held) {
    remove_run_record(l->bundle, "error");
    remove_run_record(l->bundle, "exited");
  }
  if (notify_fd >= 0) {
    char rec[32 + 2 * BT_TIME_MAX] = "0";
    if (held) {
      char at[BT_TIME_MAX], ready_at[BT_TIME_MAX];
      bt_format_time(&went, at);
      bt_format_time(&ready, ready_at);
      snprintf(rec, sizeof rec, "0 went %s ready %s", at, ready_at);
    }
    (void)!write(notify_fd, rec, strlen(rec));
    close(notify_fd);
  }

  bool raw = attached && l->tty && l->stdin_open && isatty(0);
  if (raw)
    terminal_raw();
  if (attached && l->tty && isatty(0))
    copy_window_size(p.pty_master);
  /* Detached with stdin: nothing will ever write, but the pipe stays open so the container's
   * stdin does not see EOF (docker run -di). */
  int keep_stdin = (!attached && l->stdin_open && !l->tty) ? p.stdin_fd : -1;
  if (keep_stdin >= 0)
    p.stdin_fd = -1;

  loop_options o = {.attached = attached, .forward = true,
                    .follow_winsize = attached && l->tty, .log = &log};
  char finished[BT_TIME_MAX];
  int status = loop(&p, sigfd, l, &o, finished);
  terminal_restore();
  if (keep_stdin >= 0)
    close(keep_stdin);

  if (bt_log_flush(&log, &log.out, &err) < 0 || bt_log_flush(&log, &log.err, &err) < 0)
    bt_error_report_release(&err);
  bt_log_close(&log);

  int signal_number = 0;
  int exit_code = bt_exit_code_from_status(status, &signal_number);
  bool oom = false;
  if (l->oom_file != NULL && bt_read_oom_killed(l->oom_file, l->oom_key, &oom, &err) < 0) {
    bt_error_release(&err);
    oom = false;
  }
  /* Unmount before `exited` appears: whoever reacts to `exited` (removing the container) must
   * find the overlay already gone. */
  if (bt_spawn_cleanup(l, &p, &err) < 0)
    bt_error_report_release(&err);
  if (bt_write_exited(l->bundle, exit_code, signal_number, oom, finished, &err) < 0)
    bt_error_report_release(&err);
  run_on_exit(l);
  close(sigfd);
  return exit_code;
}

int bt_run(const bt_launch *l, bool detach, const struct timespec *hold_until) {
  if (!detach)
    return supervise_run(l, true, -1);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    bt_report("detach: pipe failed");
    return BT_EXIT_SETUP;
  }
  pid_t pid = fork();
  if (pid < 0) {
    bt_report("detach: fork failed");
    return BT_EXIT_SETUP;
  }
  if (pid == 0) {
    /* The supervisor: its own session (no terminal, no signals from the caller's process group)
     * and stdio on /dev/null, so that whoever started us (node, with pipes on our stdio) sees
     * them close when the first process exits. */
    close(pipefd[0]);
    setsid();
    /* held (hold.h): the engine's cancellation arrives on our stdin, kept past the /dev/null
     * below */
    if (hold_until != NULL) {
      bt_error *err = NULL;
      int cancel = fcntl(0, F_DUPFD_CLOEXEC, 3);
      if (cancel < 0 || bt_hold_configure(cancel, pipefd[1], hold_until, &err) < 0) {
        bt_error_release(&err);
        (void)!write(pipefd[1], "125 berth-shim: hold: set up the gate failed", 44);
        _exit(BT_EXIT_SETUP);
      }
    }
    stdio_to_devnull();
    _exit(supervise_run(l, false, pipefd[1]));
  }
  close(pipefd[1]);
  char buf[1200];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(pipefd[0], buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    /* a held start's "R" (ready) comes first, alone: passed on to whoever waits on our stdout */
    if (len == 0 && buf[0] == 'R') {
      (void)!write(1, "ready\n", 6);
      memmove(buf, buf + 1, (size_t)n - 1);
      n--;
    }
    len += (size_t)n;
    if (len == sizeof buf - 1)
      break;
  }
  close(pipefd[0]);
  buf[len] = '\0';
  if (len == 0) {
    bt_report("detach: the supervisor exited before the container started");
    return BT_EXIT_SETUP;
  }
  if (strcmp(buf, "0") == 0)
    return 0;
  /* a held start: "0 went <time> ready <time>" (it went, at that time; it was ready to at the
   * second) or "C" (cancelled before its deadline) */
  if (strncmp(buf, "0 ", 2) == 0) {
    (void)!write(1, buf + 2, strlen(buf + 2));
    (void)!write(1, "\n", 1);
    return 0;
  }
  if (strcmp(buf, "C") == 0) {
    (void)!write(1, "cancelled\n", 10);
    return BT_EXIT_SETUP;
  }
  char *space = strchr(buf, ' ');
  int code = atoi(buf);
  if (space != NULL) {
    (void)!write(2, space + 1, strlen(space + 1));
    (void)!write(2, "\n", 1);
  }
  return code ? code : BT_EXIT_SETUP;
}

int bt_exec(const bt_launch *l) {
  bt_error *err = NULL;
  int sigfd = setup_signals(!l->tty, &err);
  if (sigfd < 0) {
    bt_error_report_release(&err);
    return BT_EXIT_SETUP;
  }
  bt_process p;
  int code = 0;
  if (bt_spawn_exec(l, &p, &code, &err) < 0) {
    bt_error_report_release(&err);
    return code;
  }
  bool raw = l->tty && l->stdin_open && isatty(0);
  if (raw)
    terminal_raw();
  if (l->tty && isatty(0))
    copy_window_size(p.pty_master);
  loop_options o = {.attached = true, .forward = true, .follow_winsize = l->tty, .log = NULL};
  char finished[BT_TIME_MAX];
  int status = loop(&p, sigfd, l, &o, finished);
  terminal_restore();
  close(sigfd);
  int signal_number;
  return bt_exit_code_from_status(status, &signal_number);
}
