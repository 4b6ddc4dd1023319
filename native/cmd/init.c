/* berth-init: a minimal PID 1 for containers (the `init` directive, bound at /dev/init).
 *
 *   /dev/init -- command [args...]
 *
 * Why a container needs one: PID 1 of a pid namespace is special. (1) Orphans are reparented to
 * it, so something must wait() for them or they stay zombies forever. (2) The kernel does not
 * apply default signal actions to PID 1 for signals it has no handler for, so a plain program as
 * PID 1 ignores SIGTERM/SIGINT. berth-init forks the real command, forwards signals to it, reaps
 * every zombie, and exits with the command's status (128+n when a signal n killed it).
 *
 * Standalone on purpose: libc only, linked statically, because it is bind-mounted into images
 * whose libc (if any) is unknown. The file reads in lifecycle order. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NAME "berth-init"

/* Signals that are raised by the process's own faults: blocking them would make the kernel kill
 * us outright on a fault instead of delivering them, and they make no sense to forward. */
static const int synchronous[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS};

static void usage(void) {
  fprintf(stderr, "usage: " NAME " -- command [args...]\n");
}

/* 1. Parse: everything after "--" (or after our name when there is no "--") is the command. */
static char **command_from_args(int argc, char **argv) {
  int i = 1;
  if (i < argc && strcmp(argv[i], "--") == 0)
    i++;
  if (i >= argc)
    return NULL;
  return argv + i;
}

/* 2. Signals: block all asynchronous signals and consume them with sigtimedwait in the main
 *    loop (synchronous handling: no handler ever interrupts a waitpid). The child restores the
 *    original mask before exec, so the command starts with the mask its parent intended. */
static void block_signals(sigset_t *blocked, sigset_t *original) {
  sigfillset(blocked);
  for (size_t i = 0; i < sizeof synchronous / sizeof synchronous[0]; i++)
    sigdelset(blocked, synchronous[i]);
  sigprocmask(SIG_SETMASK, blocked, original);
  /* Background-process-group terminal signals: if we ever touch the terminal while not in the
   * foreground group, we must not be stopped (there is nobody to continue PID 1). */
  signal(SIGTTIN, SIG_IGN);
  signal(SIGTTOU, SIG_IGN);
}

/* 3. Start the command in its own process group, in the foreground of the terminal if there
 *    is one: then ^C on a tty reaches the command (and only the command), as it would in a
 *    shell, instead of reaching it twice (once from the tty, once forwarded by us). */
static pid_t spawn(char **command, const sigset_t *original) {
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, NAME ": fork: %s\n", strerror(errno));
    return -1;
  }
  if (pid > 0)
    return pid;

  setpgid(0, 0);
  /* SIGTTOU is still ignored here (inherited), so tcsetpgrp from a background group works.
   * ENOTTY: no terminal, nothing to do. */
  if (tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO &&
      errno != EBADF)
    fprintf(stderr, NAME ": warning: tcsetpgrp: %s\n", strerror(errno));
  signal(SIGTTIN, SIG_DFL);
  signal(SIGTTOU, SIG_DFL);
  sigprocmask(SIG_SETMASK, original, NULL);

  /* The PATH of the container's environment applies: execvp searches it. */
  execvp(command[0], command);
  int saved = errno;
  fprintf(stderr, NAME ": exec %s: %s\n", command[0], strerror(saved));
  /* Shell conventions: 127 not found, 126 found but not executable. */
  _exit(saved == ENOENT || saved == ENOTDIR ? 127 : 126);
}

/* 4. Forward one signal to the command. ESRCH: it has already exited; fine. */
static void forward(pid_t child, int sig) {
  if (kill(child, sig) < 0 && errno != ESRCH)
    fprintf(stderr, NAME ": forward signal %d: %s\n", sig, strerror(errno));
}

/* 5. Reap every zombie that is ready: ours and orphans reparented to us. Returns true once the
 *    command itself has been reaped, with its status in *status. */
static int reap(pid_t child, int *status, int *child_done) {
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid > 0) {
      if (pid == child) {
        *status = st;
        *child_done = 1;
      }
      continue;
    }
    if (pid == 0 || errno == ECHILD)
      return 0; /* nothing more ready now / no children at all */
    if (errno == EINTR)
      continue;
    fprintf(stderr, NAME ": waitpid: %s\n", strerror(errno));
    return -1;
  }
}

/* 6. Exit status of the command, shell-style. */
static int exit_code(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 1;
}

int main(int argc, char **argv) {
  /* The shim runs us from a sealed memfd with execveat, which names the process after the
   * descriptor ("5"); `ps` and /proc/1/comm should say what we are, as they did when we were
   * exec'd by the path /dev/init. */
  prctl(PR_SET_NAME, "init", 0, 0, 0);
  char **command = command_from_args(argc, argv);
  if (command == NULL) {
    usage();
    return 1;
  }

  /* Not PID 1 (e.g. run by hand, or under another init)? Then orphans would go to the real
   * PID 1; registering as a child subreaper makes them come to us instead, so the reaping
   * behaviour is the same either way. */
  if (getpid() != 1)
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  sigset_t blocked, original;
  block_signals(&blocked, &original);

  pid_t child = spawn(command, &original);
  if (child < 0)
    return 1;

  int status = 0, child_done = 0;
  for (;;) {
    /* Wake at least once a second even without signals, to reap in any case (a SIGCHLD that
     * arrived while another was pending is merged into one). */
    struct timespec timeout = {.tv_sec = 1, .tv_nsec = 0};
    siginfo_t info;
    int sig = sigtimedwait(&blocked, &info, &timeout);
    if (sig < 0 && errno != EAGAIN && errno != EINTR) {
      fprintf(stderr, NAME ": sigtimedwait: %s\n", strerror(errno));
      return 1;
    }
    if (sig > 0 && sig != SIGCHLD)
      forward(child, sig);
    if (reap(child, &status, &child_done) < 0)
      return 1;
    /* Exit as soon as the command is gone. When we are PID 1 of the namespace, our exit makes
     * the kernel SIGKILL every remaining process in it, so nothing is left behind. */
    if (child_done)
      return exit_code(status);
  }
}
