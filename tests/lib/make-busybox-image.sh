#!/bin/sh
# Builds a busybox root filesystem from Debian's static busybox and imports it
# into the peapod image store. Idempotent: re-running replaces the tag.
#   usage: make-busybox-image.sh PEAPOD_BIN REF
# Respects PEAPOD_ROOT. Copies the static test helpers from build/helpers/
# (or $HELPERS_DIR) into /usr/local/bin when they exist.
set -eu

BUSYBOX=${BUSYBOX:-/bin/busybox}
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

if [ $# -ne 2 ]; then
	echo "usage: $0 PEAPOD_BIN REF" >&2
	exit 2
fi
peapod=$1
ref=$2
helpers=${HELPERS_DIR:-$(dirname "$peapod")/helpers}
[ -d "$helpers" ] || helpers=build/helpers

if [ ! -x "$BUSYBOX" ]; then
	echo "$0: $BUSYBOX is missing: apt-get install busybox-static" >&2
	exit 1
fi
if ! "$BUSYBOX" --list >/dev/null 2>&1; then
	echo "$0: $BUSYBOX does not run as busybox: apt-get install busybox-static" >&2
	exit 1
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/peapod-busybox.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT INT TERM
chmod 755 "$rootfs"

mkdir -p "$rootfs/bin" "$rootfs/sbin" "$rootfs/usr/bin" "$rootfs/usr/sbin" \
	"$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/root" "$rootfs/tmp" \
	"$rootfs/var/www" "$rootfs/home/app" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"
chown 1000:1000 "$rootfs/home/app"
cp "$BUSYBOX" "$rootfs/bin/busybox"
chmod 755 "$rootfs/bin/busybox"

# One symlink per applet, where busybox itself would install it (--list-full),
# else in /bin.
applets=$("$BUSYBOX" --list-full 2>/dev/null) || applets=$("$BUSYBOX" --list)
for applet in $applets; do
	case $applet in
	*/*) ;;
	*) applet=bin/$applet ;;
	esac
	[ "$applet" = bin/busybox ] && continue
	[ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
done
[ -e "$rootfs/bin/sh" ] || ln -s busybox "$rootfs/bin/sh"

cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
chmod 644 "$rootfs/etc/passwd" "$rootfs/etc/group"

if [ -d "$helpers" ]; then
	for h in "$helpers"/*; do
		[ -f "$h" ] && [ -x "$h" ] && cp "$h" "$rootfs/usr/local/bin/"
	done
fi

"$peapod" image import "$rootfs" "$ref" --cmd sh --env "PATH=$IMAGE_PATH"
