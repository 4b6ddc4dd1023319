#!/usr/bin/env bash
# Builds a busybox root filesystem tarball from Debian's busybox-static, offline:
#   examples/busybox/make-rootfs.sh OUT.tar
# The result is what `berth import OUT.tar busybox:latest` turns into an image.
set -euo pipefail
out=${1:?usage: make-rootfs.sh OUT.tar}
busybox=/bin/busybox
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-rootfs: $busybox is missing: apt-get install busybox-static" >&2
  exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/app,var,proc,sys,dev}
chmod 1777 "$dir/tmp"
cp "$busybox" "$dir/bin/busybox"
chmod 755 "$dir"
# One symlink per applet, pointing at /bin/busybox (resolved inside the container).
for applet in $("$busybox" --list-full); do
  [ -e "$dir/$applet" ] || [ -L "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
done
cat >"$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$dir/etc/group" <<'GROUP'
root:x:0:
wheel:x:10:app
app:x:1000:
nogroup:x:65534:
GROUP
chown -R 1000:1000 "$dir/home/app"
tar --numeric-owner -C "$dir" -cf "$out" .
echo "$out"
