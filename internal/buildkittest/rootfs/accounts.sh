#!/bin/sh
# Test-image stand-in for adduser, addgroup, useradd and groupadd: Debian's
# busybox-static has none of them. It accepts the flags real Dockerfiles
# pass (Alpine's busybox short flags and Debian's long ones) and edits
# /etc/passwd and /etc/group the way the real tools would.
set -e
me=${0##*/}

die() { echo "$me: $*" >&2; exit 1; }
has_user() { grep -q "^$1:" /etc/passwd; }
has_group() { grep -q "^$1:" /etc/group; }
gid_of() {
	case $1 in
	*[!0-9]*) awk -F: -v n="$1" '$1 == n { print $3; f = 1 } END { exit !f }' /etc/group ;;
	*) echo "$1" ;;
	esac
}
next_id() { # file min max
	awk -F: -v lo="$2" -v hi="$3" 'BEGIN { m = lo - 1 } $3 >= lo && $3 <= hi && $3 > m { m = $3 } END { print m + 1 }' "$1"
}
id_taken() { awk -F: -v id="$2" '$3 == id { f = 1 } END { exit !f }' "$1"; }
add_member() { # user group
	has_group "$2" || die "group '$2' does not exist"
	awk -F: -v OFS=: -v u="$1" -v g="$2" '$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' /etc/group >/etc/group.new
	cat /etc/group.new >/etc/group && rm -f /etc/group.new
}
make_group() { # name gid system
	if [ -z "$2" ]; then
		if [ -n "$3" ]; then set -- "$1" "$(next_id /etc/group 100 999)"; else set -- "$1" "$(next_id /etc/group 1000 59999)"; fi
	fi
	echo "$1:x:$2:" >>/etc/group
}

uid= gid= group= groups= home= shell=/bin/sh gecos= system= mkhome= nohome= usergroup= force=
case $me in
useradd) usergroup=1 ;;
adduser) mkhome=1 usergroup=1 ;;
esac
while [ $# -gt 0 ]; do
	opt=$1 val=
	case $opt in
	--*=*) val=${opt#*=} opt=${opt%%=*} ;;
	esac
	case $opt in
	-u | --uid | -g | --gid | -G | --groups | --ingroup | -s | --shell | -d | --home | --home-dir | -h | -c | --comment | --gecos | -k | --skel | -K | -p | --password | -e | --firstuid | --lastuid)
		[ -n "$val" ] || { [ $# -ge 2 ] || die "option $opt needs a value"; val=$2; shift; } ;;
	esac
	case $opt in
	-u | --uid) uid=$val ;;
	-g | --gid)
		# addgroup/groupadd: the new group's id; useradd: the primary group;
		# busybox adduser: the GECOS field.
		case $me in
		addgroup | groupadd) gid=$val ;;
		useradd) group=$val ;;
		adduser) if [ "$opt" = --gid ]; then group=$val; else gecos=$val; fi ;;
		esac ;;
	-G | --groups) if [ "$me" = adduser ]; then group=$val; else groups=$val; fi ;;
	--ingroup) group=$val ;;
	-s | --shell) shell=$val ;;
	-d | --home | --home-dir | -h) home=$val ;;
	-c | --comment | --gecos) gecos=$val ;;
	-k | --skel | -K | -p | --password | -e | --firstuid | --lastuid) ;;
	-S | -r | --system) system=1 ;;
	-m | --create-home) mkhome=1 ;;
	-M | -H | --no-create-home) nohome=1 ;;
	-U | --user-group | --group) usergroup=1 ;;
	-N | --no-user-group) usergroup= ;;
	-D | --disabled-password | --disabled-login | -l | --no-log-init | -o | --non-unique | -q | --quiet) ;;
	-f | --force)
		# useradd -f takes the inactive days; groupadd -f means "fine if it exists".
		if [ "$me" = useradd ]; then shift; else force=1; fi ;;
	--) shift; break ;;
	-*) die "unsupported option $opt" ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || die "missing name"
name=$1

case $me in
addgroup | groupadd)
	if [ $# -ge 2 ] && [ "$me" = addgroup ]; then
		add_member "$1" "$2"
		exit 0
	fi
	if has_group "$name"; then
		[ -n "$force" ] && exit 0
		die "group '$name' already exists"
	fi
	[ -z "$gid" ] || ! id_taken /etc/group "$gid" || die "gid '$gid' already exists"
	make_group "$name" "$gid" "$system"
	;;
adduser | useradd)
	if [ $# -ge 2 ] && [ "$me" = adduser ]; then
		has_user "$1" || die "user '$1' does not exist"
		add_member "$1" "$2"
		exit 0
	fi
	has_user "$name" && die "user '$name' already exists"
	if [ -z "$uid" ]; then
		if [ -n "$system" ]; then uid=$(next_id /etc/passwd 100 999); else uid=$(next_id /etc/passwd 1000 59999); fi
	fi
	id_taken /etc/passwd "$uid" && die "uid '$uid' already exists"
	if [ -n "$group" ]; then
		gid=$(gid_of "$group") || die "group '$group' does not exist"
	elif [ -n "$usergroup" ] && ! has_group "$name"; then
		if id_taken /etc/group "$uid"; then make_group "$name" "" "$system"; else make_group "$name" "$uid"; fi
		gid=$(gid_of "$name")
	elif has_group "$name"; then
		gid=$(gid_of "$name")
	else
		gid=100
	fi
	[ -n "$home" ] || home=/home/$name
	echo "$name:x:$uid:$gid:$gecos:$home:$shell" >>/etc/passwd
	if [ -n "$mkhome" ] && [ -z "$nohome" ] && [ ! -e "$home" ]; then
		mkdir -p "$home"
		chown "$uid:$gid" "$home"
	fi
	old_ifs=$IFS IFS=,
	for g in $groups; do add_member "$name" "$g"; done
	IFS=$old_ifs
	;;
*) die "unknown command" ;;
esac
