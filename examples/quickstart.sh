#!/usr/bin/env bash
# The README's quick start, runnable offline as root after `npm ci`: build a busybox image from
# Debian's busybox-static, import it, run a few containers, and clean up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
berth="$here/../bin/berth"
tarball=$(mktemp --suffix=.tar)
trap 'rm -f "$tarball"' EXIT

"$here/busybox/make-rootfs.sh" "$tarball" >/dev/null
echo "+ berth import busybox.tar busybox:latest"; "$berth" import "$tarball" busybox:latest
echo "+ berth images"; "$berth" images
echo "+ berth run --rm busybox echo hello from berth"; "$berth" run --rm busybox echo hello from berth
echo "+ berth run -d --name quickstart-web -m 64m busybox sh -c 'while true; do date; sleep 1; done'"
"$berth" run -d --name quickstart-web -m 64m busybox sh -c 'while true; do date; sleep 1; done'
sleep 2
echo "+ berth ps"; "$berth" ps
echo "+ berth logs --tail 2 quickstart-web"; "$berth" logs --tail 2 quickstart-web
echo "+ berth exec quickstart-web ps"; "$berth" exec quickstart-web ps
echo "+ berth stop -t 1 quickstart-web"; "$berth" stop -t 1 quickstart-web
echo "+ berth rm quickstart-web"; "$berth" rm quickstart-web
