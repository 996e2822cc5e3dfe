#!/bin/sh
# Test-image stand-in for apt-get, apt and apk: no package index is
# reachable from a test. It succeeds for the usual subcommands and leaves
# behind what the real tool leaves (package lists, caches) as files of
# incompressible bytes, so a cleanup or a cache mount changes the
# measured image size the way it would for a real image.
set -e
me=${0##*/}
junk() { mkdir -p "${1%/*}" && head -c "$2" /dev/urandom >"$1"; }

sub= pkgs= nocache=
for a in "$@"; do
	case $a in
	--no-cache) nocache=1 ;;
	-*) ;;
	*) if [ -z "$sub" ]; then sub=$a; else pkgs="$pkgs $a"; fi ;;
	esac
done
echo "$me (test stand-in) $sub$pkgs"
case $me:$sub in
apt*:update) junk /var/lib/apt/lists/deb.debian.org_dists_main_Packages 262144 ;;
apt*:install | apt*:upgrade | apt*:dist-upgrade)
	[ -n "$(ls /var/lib/apt/lists 2>/dev/null)" ] || { echo "E: Unable to locate package${pkgs}" >&2; exit 100; }
	for p in $pkgs; do
		p=${p%%=*}
		junk "/var/cache/apt/archives/$p.deb" 65536
		junk "/usr/share/doc/$p/copyright" 4096
	done ;;
apt*:clean) rm -rf /var/cache/apt/archives/* ;;
apt*:*) ;;
apk:update) junk /var/cache/apk/APKINDEX.tar.gz 131072 ;;
apk:add)
	[ -n "$nocache" ] || junk /var/cache/apk/APKINDEX.tar.gz 131072
	for p in $pkgs; do
		p=${p%%=*}
		junk "/usr/share/doc/$p/copyright" 4096
	done ;;
apk:*) ;;
esac
