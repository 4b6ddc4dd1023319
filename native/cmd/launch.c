/* berth: the launcher, what `bin/berth` runs (docs/warm-cli.md).
 *
 * A verb typed at a shell pays Node's start-up (~50 ms here) before it does anything. The engine
 * is already running, warm, with the CLI's code loaded: this program hands it the command and
 * gets out of the way. Read in lifecycle order:
 *
 *   1. make sure 0, 1 and 2 are open (Node does the same at start-up: /dev/null for a closed one);
 *   2. connect to <BERTH_RUN>/berth-cli.sock. Nothing answers (no engine, an old engine, no
 *      permission): exec the Node CLI (`node <package>/bin/berth.mjs ARGS`), which starts an
 *      engine when none runs and reports errors exactly as it always did. So nothing depends on
 *      this path: it only makes the common one fast;
 *   3. send a HELLO: 8 bytes with our descriptors 0, 1 and 2 attached (SCM_RIGHTS), then argv,
 *      the working directory and the environment as records. The engine learns who we are from
 *      the socket itself (SO_PEERCRED), never from what we send;
 *   4. wait for the engine's frames: STARTED (the command runs: from now on we may not fall back,
 *      it may have acted), FALLBACK (the engine will not run this one here: exec the Node CLI),
 *      EXIT (the command's exit code: exit with it), DIE (the command received a signal it had no
 *      handler for: die of that signal, as the Node CLI process would have);
 *   5. meanwhile forward the signals a user sends a CLI (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 *      SIGUSR1, SIGUSR2) and SIGWINCH as frames. The command in the engine sees them through its
 *      context (cli/context.ts), exactly as the Node CLI sees its process's signals. Ctrl-Z
 *      (SIGTSTP): STOP, and once the engine answers STOPPED (it holds the command's output back),
 *      we stop ourselves as the Node CLI would be stopped; SIGCONT (fg): CONT, the output goes on.
 *   6. whatever happens, the terminal is left as we found it: its termios are saved at start and
 *      restored before we exit (the command may have put it in raw mode, and an engine that dies
 *      mid-command must not leave it raw).
 *
 * The connection closing before STARTED means the engine died before it began: fall back. After
 * STARTED, it is the engine restarting mid-command: say so and exit 125 (berth's own failure),
 * never run the command twice.
 *
 * Frames, both directions: kind (u8), 3 reserved bytes, payload length (u32, big-endian), payload
 * -- the layout of the attach stream (src/api/frames.ts). libc only, static, one file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/* The HELLO's first 8 bytes: magic, protocol version, descriptor count, reserved. */
#define HELLO_MAGIC "BRTH"
#define PROTOCOL_VERSION 1

/* Records of the HELLO body: tag (u8), length (u32, big-endian), bytes. */
enum { REC_ARG = 'A', REC_CWD = 'C', REC_ENV = 'E', REC_END = 'Z' };

/* Frames. launcher -> engine: */
enum { F_SIGNAL = 1, F_WINCH = 2, F_STOP = 3, F_CONT = 4 };
/* engine -> launcher: */
enum { F_STARTED = 10, F_EXIT = 11, F_DIE = 12, F_FALLBACK = 13, F_STOPPED = 14 };

/* How long a Ctrl-Z waits for the engine's STOPPED before the launcher stops anyway (an engine
 * that does not answer must not make the terminal's job control hang). */
#define STOP_ANSWER_MS 1000

#define EXIT_BERTH 125 /* berth's own failure (Docker's convention) */

/* Read from a signalfd: the forwarded signals, SIGWINCH, and job control (SIGTSTP, SIGCONT). */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
                                SIGTSTP, SIGCONT};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

static struct termios saved_termios;
static int termios_fd = -1;

static void save_terminal(void) {
  /* The terminal the command may change is the one on stdin (raw mode for -it). */
  if (isatty(0) && tcgetattr(0, &saved_termios) == 0)
    termios_fd = 0;
}

static void restore_terminal(void) {
  if (termios_fd >= 0)
    tcsetattr(termios_fd, TCSADRAIN, &saved_termios);
}

static void die_with(const char *what) {
  fprintf(stderr, "berth: %s: %s\n", what, strerror(errno));
  exit(EXIT_BERTH);
}

/* 1. A closed standard descriptor would make the next open() take its number. */
static void open_standard_descriptors(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
      continue;
    int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null < 0)
      die_with("open /dev/null");
    if (null != fd) {
      dup2(null, fd);
      close(null);
    }
  }
}

/* The package directory: this binary is <package>/native/build/berth (bin/berth is a symlink to
 * it, and /proc/self/exe names the target). */
static void package_root(char *out, size_t size) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    fprintf(stderr, "berth: cannot find its own binary (/proc/self/exe): %s\n", strerror(errno));
    exit(EXIT_BERTH);
  }
  exe[n] = '\0';
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(exe, '/');
    if (slash == NULL || slash == exe) {
      exe[0] = '/';
      exe[1] = '\0';
      break;
    }
    *slash = '\0';
  }
  snprintf(out, size, "%s", exe);
}

/* The Node CLI, in this process: what `berth` was before the launcher. Never returns. */
static void __attribute__((noreturn)) fall_back(char **argv) {
  restore_terminal();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char root[PATH_MAX], script[PATH_MAX + 32];
  package_root(root, sizeof root);
  snprintf(script, sizeof script, "%s/bin/berth.mjs", root);
  int argc = 0;
  while (argv[argc] != NULL)
    argc++;
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (args == NULL)
    die_with("calloc");
  args[0] = (char *)"node";
  args[1] = script;
  for (int i = 1; i < argc; i++)
    args[i + 1] = argv[i];
  args[argc + 1] = NULL;
  execvp("node", args);
  fprintf(stderr, "berth: cannot run the Node CLI (node %s): %s\n", script, strerror(errno));
  exit(errno == ENOENT ? 127 : 126);
}

/* 2. The engine's CLI socket, or -1 when none answers. */
static int connect_engine(void) {
  const char *run = getenv("BERTH_RUN");
  if (run == NULL || *run == '\0')
    run = "/run/berth";
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/berth-cli.sock", run) >=
      sizeof addr.sun_path)
    return -1; /* too long for a socket address: the Node CLI reports what it reports */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* ---- the HELLO ---------------------------------------------------------------------------- */

typedef struct buffer {
  char *data;
  size_t len, cap;
} buffer;

static void put(buffer *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + len)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL)
      die_with("realloc");
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void put_record(buffer *b, char tag, const char *value, size_t len) {
  unsigned char head[5] = {(unsigned char)tag, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len};
  put(b, head, sizeof head);
  put(b, value, len);
}

static int write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/* 3. Preamble with descriptors 0, 1, 2 (one sendmsg, so the descriptors travel with its bytes),
 *    then the body. */
static int send_hello(int sock, char **argv) {
  unsigned char preamble[8] = {'B', 'R', 'T', 'H', PROTOCOL_VERSION, 3, 0, 0};
  struct iovec iov = {.iov_base = preamble, .iov_len = sizeof preamble};
  union {
    char buf[CMSG_SPACE(3 * sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(3 * sizeof(int));
  int fds[3] = {0, 1, 2};
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof preamble)
    return -1;

  buffer b = {0};
  for (int i = 1; argv[i] != NULL; i++)
    put_record(&b, REC_ARG, argv[i], strlen(argv[i]));
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL)
    return -2; /* a removed working directory: the Node CLI has its own words for that */
  put_record(&b, REC_CWD, cwd, strlen(cwd));
  for (char **e = environ; e != NULL && *e != NULL; e++)
    put_record(&b, REC_ENV, *e, strlen(*e));
  put_record(&b, REC_END, "", 0);
  int rc = write_all(sock, b.data, b.len);
  free(b.data);
  return rc;
}

/* ---- frames ------------------------------------------------------------------------------- */

static int send_frame(int sock, int kind, const void *payload, uint32_t len) {
  unsigned char head[8] = {(unsigned char)kind, 0, 0, 0, (unsigned char)(len >> 24),
                           (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
  if (write_all(sock, (const char *)head, sizeof head) < 0)
    return -1;
  return len > 0 ? write_all(sock, payload, len) : 0;
}

/* What arrived from the engine so far; frames are small (a code, a signal, a reason). */
typedef struct inbox {
  unsigned char data[4096];
  size_t len;
} inbox;

/* Ctrl-Z, as the Node CLI process would take it: stopped by the kernel with SIGTSTP's default
 * action, so the shell sees a job stopped by SIGTSTP and `fg`/`bg` continue it. The terminal is
 * given back in the modes we found it in while we are stopped, and put back as the command had it
 * once we run again (as a full-screen program does). The engine has already stopped writing
 * (STOPPED); SIGCONT is then read from the signalfd and told to it (CONT). */
static void stop_self(void) {
  struct termios command_termios;
  bool restore = termios_fd >= 0 && tcgetattr(termios_fd, &command_termios) == 0;
  restore_terminal();
  signal(SIGTSTP, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, SIGTSTP);
  raise(SIGTSTP); /* pending while blocked: delivered, and we stop, at the unblock */
  sigprocmask(SIG_UNBLOCK, &only, NULL);
  sigprocmask(SIG_BLOCK, &only, NULL);
  if (restore)
    tcsetattr(termios_fd, TCSADRAIN, &command_termios);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int main(int argc, char **argv) {
  (void)argc;
  open_standard_descriptors();
  /* `berth engine` alone runs the engine in the foreground: that is Node's job, never a client's.
   * BERTH_NO_WARM=1 asks for the Node CLI (the tests run the CLI suite both ways). */
  const char *no_warm = getenv("BERTH_NO_WARM");
  if ((argv[1] != NULL && strcmp(argv[1], "engine") == 0 && argv[2] == NULL) ||
      (no_warm != NULL && *no_warm != '\0' && strcmp(no_warm, "0") != 0))
    fall_back(argv);

  int sock = connect_engine();
  if (sock < 0)
    fall_back(argv);

  /* Block what we forward before the engine can start the command: a Ctrl-C from now on is a
   * frame, never our death. SIGPIPE is ignored: a closed socket is an error we report. */
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < NFORWARDED; i++)
    sigaddset(&set, forwarded[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0)
    die_with("signalfd");
  save_terminal();

  int sent = send_hello(sock, argv);
  if (sent < 0) {
    close(sock);
    fall_back(argv);
  }

  bool started = false;
  bool stopping = false; /* STOP sent, waiting for STOPPED */
  inbox in = {.len = 0};
  for (;;) {
    struct pollfd fds[2] = {{.fd = sock, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    int ready = poll(fds, 2, stopping ? STOP_ANSWER_MS : -1);
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      die_with("poll");
    }
    if (ready == 0 && stopping) { /* no answer: stop anyway */
      stopping = false;
      stop_self();
      continue;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
          send_frame(sock, F_WINCH, NULL, 0);
        } else if (si.ssi_signo == SIGTSTP) {
          /* before STARTED nothing runs in the engine: just stop; else ask it to hold the
           * command's output first (tmux's suspend-client: the server lets go of the terminal,
           * then the client stops itself) */
          if (!started)
            stop_self();
          else if (!stopping && send_frame(sock, F_STOP, NULL, 0) == 0)
            stopping = true;
        } else if (si.ssi_signo == SIGCONT) {
          if (started)
            send_frame(sock, F_CONT, NULL, 0);
        } else {
          unsigned char sig = (unsigned char)si.ssi_signo;
          send_frame(sock, F_SIGNAL, &sig, 1);
        }
      }
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    ssize_t n = read(sock, in.data + in.len, sizeof in.data - in.len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      /* The engine went away. Before STARTED nothing ran: the Node CLI does it. After, it may
       * have acted: never run the command twice. */
      close(sock);
      if (!started)
        fall_back(argv);
      restore_terminal();
      fprintf(stderr, "berth: the engine closed the connection before the command finished "
                      "(it stopped or restarted); the command may or may not have taken effect\n");
      return EXIT_BERTH;
    }
    in.len += (size_t)n;
    while (in.len >= 8) {
      uint32_t len = be32(in.data + 4);
      if (len > sizeof in.data - 8) {
        restore_terminal();
        fprintf(stderr, "berth: the engine sent a malformed frame\n");
        return EXIT_BERTH;
      }
      if (in.len < 8 + len)
        break;
      int kind = in.data[0];
      const unsigned char *payload = in.data + 8;
      if (kind == F_STARTED) {
        started = true;
      } else if (kind == F_STOPPED) {
        if (stopping) {
          stopping = false;
          stop_self();
        }
      } else if (kind == F_FALLBACK && !started) {
        close(sock);
        fall_back(argv);
      } else if (kind == F_EXIT && len >= 1) {
        restore_terminal();
        return payload[0];
      } else if (kind == F_DIE && len >= 1) {
        /* No handler in the command for this signal: a Node process dies of it, so do we. */
        restore_terminal();
        int sig = payload[0];
        signal(sig, SIG_DFL);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, sig);
        sigprocmask(SIG_UNBLOCK, &only, NULL);
        raise(sig);
        return 128 + sig;
      }
      memmove(in.data, in.data + 8 + len, in.len - 8 - len);
      in.len -= 8 + len;
    }
  }
}
