#!/bin/sh
# End-to-end test of berth-shim and berth-init against the real kernel, as root (TAP; exit 77
# = skipped when not root). Builds a busybox rootfs in a temp dir, mounts it through the overlay
# directive like berth does, runs real containers, and checks from inside and outside.
# Cleans up every mount, process and cgroup it made, and checks that nothing leaked.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BERTH_NATIVE_BUILD:-$HERE/../build}
SHIM=$BUILD/berth-shim
INIT=$BUILD/berth-init
BUSYBOX=${BUSYBOX:-/bin/busybox}

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 77; fi
if [ ! -x "$BUSYBOX" ]; then echo "1..0 # SKIP no $BUSYBOX"; exit 77; fi
if [ ! -x "$SHIM" ] || [ ! -x "$INIT" ]; then echo "Bail out! build $SHIM and $INIT first"; exit 1; fi

T=$(mktemp -d /tmp/berth-e2e.XXXXXX)
CG_NAME=berth-e2e-$$
N=0
FAILED=0

cleanup() {
  # Processes first (anything still running from a shim we started), then mounts, then files.
  for f in "$T"/c*/bundle/started; do
    [ -f "$f" ] || continue
    for p in $(sed 's/.*"pid":\([0-9]*\).*"shimPid":\([0-9]*\).*/\1 \2/' "$f"); do
      kill -9 "$p" 2>/dev/null
    done
  done
  sleep 0.2
  grep " $T" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  for c in pids memory; do rmdir "/sys/fs/cgroup/$c/$CG_NAME" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT INT TERM

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; }
check() { # check "description" command...
  d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# is "description" got want
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  [$2]
want: [$3]"; fi; }

# ---- the image: a busybox tree, used as the overlay's lower layer --------------------------
BASE=$T/layers/base
mkdir -p "$BASE/bin" "$BASE/etc" "$BASE/proc" "$BASE/sys" "$BASE/dev" "$BASE/tmp" "$BASE/root"
cp "$BUSYBOX" "$BASE/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$BASE/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home/nobody:/bin/false\n' >"$BASE/etc/passwd"
printf 'root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n' >"$BASE/etc/group"
printf 'not a program\n' >"$BASE/etc/notexec"
chmod 0644 "$BASE/etc/notexec"
# berth's overlay layout: short links in l/ so lowerdir options stay within one page.
mkdir -p "$T/overlay/l"
ln -s ../../layers/base "$T/overlay/l/BASE"

HOST_PIDNS=$(readlink /proc/self/ns/pid)

# new_container NAME: a bundle + overlay dirs; prints nothing, sets C
new_container() {
  C=$T/c$1
  mkdir -p "$C/bundle" "$C/diff" "$C/work" "$C/merged"
}

# launch FILE ARG... with extra directives read from stdin (TAB-separated lines)
launch() {
  f=$1; shift
  {
    printf 'berth-launch\t1\n'
    printf 'id\t%s\n' "$(printf '%064d' 0)"
    printf 'bundle\t%s\n' "$C/bundle"
    printf 'overlay\t%s\t%s\t%s\n' "$C/merged" "lowerdir=l/BASE,upperdir=$C/diff,workdir=$C/work" "$T/overlay"
    printf 'rootfs\t%s\n' "$C/merged"
    for a in "$@"; do printf 'arg\t%s\n' "$(printf '%s' "$a" | sed 's/\\/\\\\/g' | awk 'BEGIN{ORS=""} NR>1{print "\\n"} {gsub(/\t/,"\\t"); print}')"; done
    printf 'env\tPATH=/usr/local/bin:/usr/bin:/bin\n'
    printf 'no_new_privs\t1\n'
    printf 'log\t%s\n' "$C/bundle/log.json"
    cat
  } >"$f"
}

# The base directives most tests want: Docker's default caps and masked/read-only paths.
defaults() {
  printf 'hostname\tweb-1\n'
  for c in 0 1 3 4 5 6 7 8 10 13 18 27 29 31; do printf 'cap\t%s\n' $c; done
  # /proc/kcore is absent on some kernels (CONFIG_PROC_KCORE=n): /proc/keys is the file we check.
  printf 'mask\t/proc/kcore\nmask\t/proc/keys\nmask\t/sys/firmware\nmask\t/proc/does-not-exist\n'
  printf 'readonly\t/proc/sys\nreadonly\t/proc/sysrq-trigger\n'
  printf 'shm_size\t%s\n' 1048576
}

wait_for() { # wait_for FILE [tenths]
  i=0
  while [ ! -f "$1" ] && [ $i -lt "${2:-50}" ]; do sleep 0.1; i=$((i + 1)); done
  [ -f "$1" ]
}

gone() { # gone PID: within 3 s, the process is gone (or a zombie its reaper has yet to collect)
  i=0
  while [ $i -lt 30 ]; do
    st=$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)
    [ -z "$st" ] || [ "$st" = Z ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

json_field() { sed -n "s/.*\"$2\":\\([^,}]*\\).*/\\1/p" "$1" | tr -d '"'; }

# ---- 1. a container that reports from inside ------------------------------------------------
new_container 1
defaults | launch "$C/launch" sh -c '
echo "pid=$$"
echo "pidns=$(readlink /proc/self/ns/pid)"
echo "hostname=$(hostname)"
echo "proc=$(awk "\$2==\"/proc\"{print \$3}" /proc/mounts)"
for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo "dev=$d"; done
[ -L /dev/ptmx ] && echo "ptmx=$(readlink /dev/ptmx)"
[ -L /dev/fd ] && echo "fd=$(readlink /dev/fd)"
echo "pts=$(awk "\$2==\"/dev/pts\"{print \$3}" /proc/mounts)"
echo "shm=$(awk "\$2==\"/dev/shm\"{print \$3}" /proc/mounts)"
echo "mqueue=$(awk "\$2==\"/dev/mqueue\"{print \$3}" /proc/mounts)"
echo "sys=$(awk "\$2==\"/sys\"{print \$4}" /proc/mounts | cut -d, -f1)"
echo "keys=$(stat -c %t:%T /proc/keys)"
echo "firmware=$(ls -A /sys/firmware | wc -l)"
touch /sys/firmware/x 2>/dev/null || echo "firmware=ro"
echo "procsys=$(awk "\$2==\"/proc/sys\"{print \$4}" /proc/mounts | cut -d, -f1)"
echo "lo=$(ip link show lo | grep -c "[<,]UP[,>]")"
echo "capbnd=$(grep CapBnd /proc/self/status | cut -f2)"
echo "nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)"
echo "home=$HOME"
echo "cwd=$(pwd)"
echo "rootfs=$(ls / | tr "\n" " ")"
exit 0'
OUT=$("$SHIM" run "$C/launch" 2>"$C/stderr")
RC=$?
is "run: exit code 0" "$RC" 0
is "PID 1 is the command" "$(echo "$OUT" | grep '^pid=')" "pid=1"
PIDNS=$(echo "$OUT" | sed -n 's/^pidns=//p')
check "pid namespace differs from the host's" [ -n "$PIDNS" -a "$PIDNS" != "$HOST_PIDNS" ]
is "hostname set" "$(echo "$OUT" | grep '^hostname=')" "hostname=web-1"
is "/proc mounted (proc)" "$(echo "$OUT" | grep '^proc=')" "proc=proc"
is "/dev nodes present" "$(echo "$OUT" | grep '^dev=' | tr '\n' ' ')" "dev=null dev=zero dev=full dev=random dev=urandom dev=tty "
is "/dev/ptmx -> pts/ptmx" "$(echo "$OUT" | grep '^ptmx=')" "ptmx=pts/ptmx"
is "/dev/fd -> /proc/self/fd" "$(echo "$OUT" | grep '^fd=')" "fd=/proc/self/fd"
is "devpts, shm tmpfs and mqueue mounted" "$(echo "$OUT" | grep -E '^(pts|shm|mqueue)=' | tr '\n' ' ')" "pts=devpts shm=tmpfs mqueue=mqueue "
is "/sys mounted read-only" "$(echo "$OUT" | grep '^sys=')" "sys=ro"
is "masked file /proc/keys is /dev/null (1:3)" "$(echo "$OUT" | grep '^keys=')" "keys=1:3"
is "masked dir /sys/firmware is empty and read-only" "$(echo "$OUT" | grep '^firmware=' | tr '\n' ' ')" "firmware=0 firmware=ro "
is "readonly /proc/sys" "$(echo "$OUT" | grep '^procsys=')" "procsys=ro"
is "lo is up in the new net namespace" "$(echo "$OUT" | grep '^lo=')" "lo=1"
is "bounding set = Docker's default caps" "$(echo "$OUT" | grep '^capbnd=')" "capbnd=00000000a80425fb"
is "no_new_privs set" "$(echo "$OUT" | grep '^nnp=')" "nnp=1"
is "HOME from passwd" "$(echo "$OUT" | grep '^home=')" "home=/root"
is "cwd defaults to /" "$(echo "$OUT" | grep '^cwd=')" "cwd=/"
check "started record written" grep -q '"shimPid":' "$C/bundle/started"
is "exited record: exitCode 0, signal 0" "$(json_field "$C/bundle/exited" exitCode):$(json_field "$C/bundle/exited" signal):$(json_field "$C/bundle/exited" oomKilled)" "0:0:false"
check "finishedAt is RFC3339 UTC" grep -qE '"finishedAt":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z"' "$C/bundle/exited"
check "overlay unmounted after exit" sh -c "! grep -q ' $C/merged ' /proc/mounts"
check "no error file on success" [ ! -e "$C/bundle/error" ]

# ---- 2. exit codes, logs, user, cwd, stdin ---------------------------------------------------
new_container 2
defaults | launch "$C/launch" sh -c 'echo out1; echo "err1 <&>" >&2; printf "tab\there"; exit 3'
OUT=$("$SHIM" run "$C/launch" 2>"$C/stderr")
RC=$?
is "exit code 3" "$RC" 3
is "exited record says 3" "$(json_field "$C/bundle/exited" exitCode)" 3
is "stdout copied to the shim's stdout" "$OUT" "out1
tab	here"
is "stderr copied to the shim's stderr" "$(cat "$C/stderr")" "err1 <&>"
check "log: stdout line in json-file format" grep -qE '^\{"log":"out1\\n","stream":"stdout","time":"[0-9T:.-]+Z"\}$' "$C/bundle/log.json"
check "log: stderr line escaped like Docker" grep -qF '{"log":"err1 \u003c\u0026\u003e\n","stream":"stderr"' "$C/bundle/log.json"
check "log: unterminated last line gets a newline" grep -qF '{"log":"tab\u0009here\n","stream":"stdout"' "$C/bundle/log.json"

new_container 3
{ defaults; printf 'user\tnobody\ncwd\t/work/dir\nstdin\t1\nrlimit\tNOFILE\t123\t456\nenv\tHOME=/custom\n'; } |
  launch "$C/launch" sh -c 'id; pwd; echo "home=$HOME"; ulimit -n; read line; echo "read=$line"; cat /proc/self/status | grep CapEff'
OUT=$(echo "from-stdin" | "$SHIM" run "$C/launch" 2>"$C/stderr")
is "user nobody: uid/gid from the container's passwd" "$(echo "$OUT" | sed -n 1p)" "uid=65534(nobody) gid=65534(nogroup)"
is "cwd created and entered" "$(echo "$OUT" | sed -n 2p)" "/work/dir"
is "HOME from env wins over passwd" "$(echo "$OUT" | sed -n 3p)" "home=/custom"
is "rlimit NOFILE applied" "$(echo "$OUT" | sed -n 4p)" "123"
is "stdin copied to the container" "$(echo "$OUT" | sed -n 5p)" "read=from-stdin"
is "non-root user has no effective caps" "$(echo "$OUT" | sed -n 6p | cut -f2)" "0000000000000000"

new_container 4
defaults | { cat; printf 'user\tghost\n'; } | launch "$C/launch" true
"$SHIM" run "$C/launch" 2>"$C/stderr"
RC=$?
is "unknown user: exit 125" "$RC" 125
is "unknown user: Docker's message" "$(cat "$C/stderr")" "berth-shim: unable to find user ghost: no matching entries in passwd file"
check "error file written" grep -q 'unable to find user ghost' "$C/bundle/error"
check "no started file after a failed start" [ ! -e "$C/bundle/started" ]
check "overlay unmounted after a failed start" sh -c "! grep -q ' $C/merged ' /proc/mounts"

new_container 5
defaults | launch "$C/launch" nope
"$SHIM" run "$C/launch" 2>"$C/stderr"
RC=$?
is "missing command: exit 127" "$RC" 127
is "missing command: message" "$(cat "$C/stderr")" 'berth-shim: exec "nope": executable file not found in $PATH'

new_container 6
defaults | launch "$C/launch" /etc/notexec
"$SHIM" run "$C/launch" 2>"$C/stderr"
RC=$?
is "non-executable file: exit 126" "$RC" 126
check "non-executable file: permission denied message" grep -q 'exec "/etc/notexec": Permission denied' "$C/stderr"

# ---- 3. detached, cgroups, exec, kill ---------------------------------------------------------
new_container 7
mkdir -p "/sys/fs/cgroup/pids/$CG_NAME" "/sys/fs/cgroup/memory/$CG_NAME"
{ defaults; printf 'cgroup\t/sys/fs/cgroup/pids/%s\ncgroup\t/sys/fs/cgroup/memory/%s\n' "$CG_NAME" "$CG_NAME"
  printf 'oom\t/sys/fs/cgroup/memory/%s/memory.oom_control\toom_kill\n' "$CG_NAME"
  printf 'on_exit\t/bin/sh\non_exit\t-c\non_exit\techo hook-ran > %s/hook\n' "$C"; } |
  launch "$C/launch" sleep 60
START=$(date +%s%N)
"$SHIM" run --detach "$C/launch" >"$C/stdout" 2>"$C/stderr"
RC=$?
END=$(date +%s%N)
is "detach: first process exits 0 once started" "$RC" 0
check "detach: started written before the first process returned" [ -f "$C/bundle/started" ]
check "detach: returned quickly (< 2 s)" [ $(((END - START) / 1000000)) -lt 2000 ]
PID=$(json_field "$C/bundle/started" pid)
SHIM_PID=$(json_field "$C/bundle/started" shimPid)
check "container pid is alive" kill -0 "$PID"
check "supervisor is in its own session" [ "$(ps -o sid= -p "$SHIM_PID" | tr -d ' ')" = "$SHIM_PID" ]
check "supervisor stdio is /dev/null" [ "$(readlink /proc/"$SHIM_PID"/fd/1)" = /dev/null ]
check "container pid joined the pids cgroup" grep -qx "$PID" "/sys/fs/cgroup/pids/$CG_NAME/cgroup.procs"
check "container pid joined the memory cgroup" grep -qx "$PID" "/sys/fs/cgroup/memory/$CG_NAME/cgroup.procs"
RSS=$(awk '/^VmRSS/{print $2}' /proc/"$SHIM_PID"/status)
echo "# supervisor VmRSS: ${RSS} kB (pid $SHIM_PID, while 'sleep 60' runs)"
check "supervisor RSS under 1 MiB (${RSS} kB)" [ "$RSS" -lt 1024 ]

printf 'berth-launch\t1\npid\t%s\ncgroup\t/sys/fs/cgroup/pids/%s\narg\tsh\narg\t-c\narg\t%s\nenv\tPATH=/bin\ncwd\t/tmp\nuser\t\ncap\t0\nno_new_privs\t1\ntty\t0\nstdin\t0\n' \
  "$PID" "$CG_NAME" 'echo "pidns=$(readlink /proc/self/ns/pid)"; echo "host=$(hostname)"; echo "cwd=$(pwd)"; echo "one=$(cat /proc/1/cmdline | tr "\\\\0" " ")"; grep pids /proc/self/cgroup; exit 7' >"$C/exec"
OUT=$("$SHIM" exec "$C/exec" 2>"$C/exec.stderr")
RC=$?
is "exec: exit code of the process (7)" "$RC" 7
CPIDNS=$(readlink /proc/"$PID"/ns/pid)
is "exec: same pid namespace as the container" "$(echo "$OUT" | grep '^pidns=')" "pidns=$CPIDNS"
is "exec: same hostname" "$(echo "$OUT" | grep '^host=')" "host=web-1"
is "exec: cwd" "$(echo "$OUT" | grep '^cwd=')" "cwd=/tmp"
is "exec: sees the container's PID 1" "$(echo "$OUT" | grep '^one=')" "one=sleep 60 "
is "exec: cgroup namespace rooted at the container's cgroup" "$(echo "$OUT" | grep ':pids:')" "$(grep ':pids:' /proc/self/cgroup | cut -d: -f1):pids:/"
printf 'berth-launch\t1\npid\t%s\narg\tnope\nenv\tPATH=/bin\n' "$PID" >"$C/exec2"
"$SHIM" exec "$C/exec2" 2>"$C/exec2.stderr"
is "exec: missing command exits 127" "$?" 127

kill -9 "$PID"
wait_for "$C/bundle/exited"
is "SIGKILL: exitCode 137, signal 9" "$(json_field "$C/bundle/exited" exitCode):$(json_field "$C/bundle/exited" signal)" "137:9"
is "oomKilled read from memory.oom_control (false)" "$(json_field "$C/bundle/exited" oomKilled)" false
wait_for "$C/hook" 30
is "on_exit hook ran after exit" "$(cat "$C/hook" 2>/dev/null)" "hook-ran"
sleep 0.2
check "supervisor exited" gone "$SHIM_PID"
check "overlay unmounted" sh -c "! grep -q ' $C/merged ' /proc/mounts"

# ---- 4. signal forwarding (sig-proxy) ---------------------------------------------------------
new_container 8
defaults | launch "$C/launch" sh -c 'trap "echo got-term; exit 42" TERM; while :; do sleep 0.05; done'
"$SHIM" run "$C/launch" >"$C/stdout" 2>&1 &
SP=$!
wait_for "$C/bundle/started"
sleep 0.3
kill -TERM "$SP"
wait "$SP"
RC=$?
is "SIGTERM to the attached shim reaches the container (exit 42)" "$RC" 42
is "the container's trap ran" "$(cat "$C/stdout")" "got-term"

# ---- 5. zombies: without and with init -------------------------------------------------------
zombies() { # count zombies inside the container of $1 (pid) via exec
  printf 'berth-launch\t1\npid\t%s\narg\tsh\narg\t-c\narg\t%s\nenv\tPATH=/bin\ncap\t0\n' "$1" \
    'grep -l "^State:.Z" /proc/[0-9]*/status 2>/dev/null | wc -l' >"$C/zexec"
  "$SHIM" exec "$C/zexec"
}
new_container 9
# An orphan (sleep 0.2) is reparented to PID 1; PID 1 then execs a program that never reaps.
defaults | launch "$C/launch" sh -c '(sleep 0.2 &); exec sleep 30'
"$SHIM" run --detach "$C/launch"
PID=$(json_field "$C/bundle/started" pid)
sleep 0.8
is "without init: the orphan stays a zombie (the test can see zombies)" "$(zombies "$PID" | tr -d ' ')" 1
kill -9 "$PID"; wait_for "$C/bundle/exited"

new_container 10
{ defaults; printf 'init\t%s\n' "$INIT"; } | launch "$C/launch" sh -c '(sleep 0.2 &); exec sleep 30'
"$SHIM" run --detach "$C/launch"
PID=$(json_field "$C/bundle/started" pid)
sleep 0.8
is "with init: no zombies" "$(zombies "$PID" | tr -d ' ')" 0
is "with init: PID 1 is /dev/init" "$(tr '\0' ' ' </proc/"$PID"/cmdline)" "/dev/init -- sh -c (sleep 0.2 &); exec sleep 30 "
kill -TERM "$PID"
wait_for "$C/bundle/exited"
is "with init: SIGTERM forwarded, exit 143" "$(json_field "$C/bundle/exited" exitCode)" 143

new_container 11
{ defaults; printf 'init\t%s\n' "$INIT"; } | launch "$C/launch" sh -c 'exit 5'
"$SHIM" run "$C/launch"
is "with init: the command's exit code (5)" "$?" 5

# ---- 6. binds, tty --------------------------------------------------------------------------
new_container 12
mkdir -p "$T/hostdir"; echo shared >"$T/hostdir/file"; echo hostsfile >"$T/hosts"
{ defaults; printf 'bind\t%s\t/mnt/data\tro\nbind\t%s\t/etc/hosts\trw\n' "$T/hostdir" "$T/hosts"; } |
  launch "$C/launch" sh -c 'cat /mnt/data/file; cat /etc/hosts; touch /mnt/data/x 2>/dev/null || echo ro-ok'
OUT=$("$SHIM" run "$C/launch" 2>&1)
is "binds: dir (created) read-only, file over an existing path" "$OUT" "shared
hostsfile
ro-ok"

new_container 13
{ defaults; printf 'tty\t1\n'; } | launch "$C/launch" sh -c 'tty; echo done'
"$SHIM" run --detach "$C/launch"
wait_for "$C/bundle/exited"
check "tty: the container sees its own devpts slave" grep -qF '{"log":"/dev/pts/0\r\n","stream":"stdout"' "$C/bundle/log.json"

# ---- 7. the held start (hold.h): goes by itself at its deadline; EOF before it cancels ----------
in_seconds() { awk -v t="$(date +%s.%N)" -v d="$1" 'BEGIN{printf "%.9f", t + d}'; }

new_container 14
defaults | launch "$C/launch" sleep 60
printf '{"exitCode":137,"signal":9,"oomKilled":false,"finishedAt":"2026-01-01T00:00:00Z"}\n' >"$C/bundle/exited"
D=$(in_seconds 0.5)
# stdin stays open (its writer is held until the shim returns): only the deadline lets it go
mkfifo "$C/stdin"
sleep 120 >"$C/stdin" &
HOLDER=$!
"$SHIM" run --detach --hold-until="$D" "$C/launch" <"$C/stdin" >"$C/stdout" 2>"$C/stderr"
RC=$?
kill "$HOLDER"
is "hold: went at its deadline, exit 0" "$RC" 0
check "hold: ready, then went (with the times)" grep -Eq '^went [0-9T:.-]+Z ready [0-9T:.-]+Z$' "$C/stdout"
check "hold: the new started written" [ -f "$C/bundle/started" ]
check "hold: the last run's exited removed" [ ! -f "$C/bundle/exited" ]
WENT=$(sed -n 's/^went \([^ ]*\) .*/\1/p' "$C/stdout")
WENT_S=$(date -d "$WENT" +%s.%N)
check "hold: went no earlier than the deadline ($WENT_S >= $D)" awk -v w="$WENT_S" -v d="$D" 'BEGIN{exit !(w >= d)}'
PID=$(json_field "$C/bundle/started" pid)
check "hold: the container runs" kill -0 "$PID"
kill -KILL "$PID"
wait_for "$C/bundle/exited"

new_container 15
defaults | launch "$C/launch" sleep 60
printf '{"exitCode":137,"signal":9,"oomKilled":false,"finishedAt":"2026-01-01T00:00:00Z"}\n' >"$C/bundle/exited"
D=$(in_seconds 30)
# EOF well before the deadline: cancelled
sleep 0.5 | "$SHIM" run --detach --hold-until="$D" "$C/launch" >"$C/stdout" 2>"$C/stderr"
RC=$?
is "hold: cancelled before its deadline, exit 125" "$RC" 125
is "hold: says so" "$(tail -n 1 "$C/stdout")" cancelled
check "hold: no started written" [ ! -f "$C/bundle/started" ]
check "hold: no error written" [ ! -f "$C/bundle/error" ]
check "hold: the last run's exited kept" [ -f "$C/bundle/exited" ]
check "hold: its overlay unmounted" sh -c "! grep -q ' $C/merged ' /proc/mounts"

"$SHIM" run --detach --hold-until=soon "$C/launch" </dev/null >/dev/null 2>"$C/stderr"
is "hold: a malformed deadline is a usage error" "$?" 125

# ---- nothing leaked ---------------------------------------------------------------------------
sleep 0.2
check "no mounts left under the test dir" sh -c "! grep -q ' $T' /proc/mounts"
LEFT=$(ps -eo pid,args | grep -F "$T" | grep -v grep | wc -l)
is "no processes left" "$LEFT" 0

echo "1..$N"
[ "$FAILED" -eq 0 ] || echo "# $FAILED of $N failed"
[ "$FAILED" -eq 0 ]
