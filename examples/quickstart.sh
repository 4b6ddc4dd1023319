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

# A whole stack: examples/hello-stack (a health-checked worker and a web service after it).
stack="$here/hello-stack/compose.yaml"
echo "+ berth up -d -f examples/hello-stack/compose.yaml"; "$berth" up -d -f "$stack"
echo "+ berth compose -f examples/hello-stack/compose.yaml ps"; "$berth" compose -f "$stack" ps
sleep 2
echo "+ berth compose -f examples/hello-stack/compose.yaml logs --tail 2"; "$berth" compose -f "$stack" logs --tail 2
echo "+ berth down -f examples/hello-stack/compose.yaml"; "$berth" down -f "$stack" -t 2

# Services talking over the project's network: web reaches db by name, the host reaches web's
# port published on 127.0.0.1:8080 (examples/web-db).
webdb="$here/web-db/compose.yaml"
echo "+ berth up -d -f examples/web-db/compose.yaml"; "$berth" up -d -f "$webdb"
echo "+ berth compose -f examples/web-db/compose.yaml exec web nc db 5432"
for _ in $(seq 20); do "$berth" compose -f "$webdb" exec web nc db 5432 </dev/null && break; sleep 0.2; done   # db may still be starting
echo "+ berth compose -f examples/web-db/compose.yaml port web 80"; "$berth" compose -f "$webdb" port web 80
echo "+ berth network ls"; "$berth" network ls
echo "+ berth down -f examples/web-db/compose.yaml"; "$berth" down -f "$webdb" -t 2
