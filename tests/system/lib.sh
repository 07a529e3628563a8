# lib.sh - shared by tests/system/*.sh: a clean Debian 12 root with a real
# systemd as its PID 1, to install the built packages in and check them
# there.  The debootstrap'd root is made once and cached in $ROOT_CACHE
# (keyed by ROOT_VERSION: bump it when root_prepare changes); each test
# boots a fresh overlay of it, so that no test sees another's changes.
# systemd runs in its own PID, mount, UTS and IPC namespaces after a
# pivot_root into the overlay (systemd's sandboxing needs a real root, not
# a chroot; systemd-nspawn does not work on these machines).  It shares the
# host's network, so the receiver listens on a free high port.
set -u
ROOT_CACHE=${ROOT_CACHE:-/var/cache/hashwatch-test-root}
ROOT_VERSION=2
LOWER=$ROOT_CACHE/bookworm-$ROOT_VERSION
T=$(mktemp -d /tmp/hw-system.XXXXXX)
MNT=$T/root
SD_PID=
fail() { echo "FAIL: $*"; root_diag; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "# $*"; }
pass() { echo "ok - $*"; }

# The cached root: debootstrap minbase + systemd + dbus, with the units
# that only wait for hardware masked (a 90 s timeout for a serial console).
root_prepare() {
	[ -f "$LOWER/.hashwatch-root-version" ] && return 0
	mkdir -p "$ROOT_CACHE"
	# One creator at a time; a second run waits and then finds the root.
	exec 9>"$ROOT_CACHE/.lock"
	flock 9
	[ -f "$LOWER/.hashwatch-root-version" ] && { exec 9>&-; return 0; }
	command -v debootstrap >/dev/null || skip "debootstrap is missing ('make deps')"
	local tmp=$LOWER.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	note "creating the Debian 12 root in $LOWER (once; a few minutes)"
	debootstrap --variant=minbase --include=systemd,dbus bookworm "$tmp" http://deb.debian.org/debian \
		>"$T/debootstrap.log" 2>&1 ||
		{ tail -20 "$T/debootstrap.log"; skip "debootstrap could not reach the Debian mirror"; }
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	# Package lists, for the dependencies of the packages under test.
	chroot "$tmp" apt-get update -qq >"$T/root-apt.log" 2>&1 ||
		{ tail -20 "$T/root-apt.log"; fail "apt-get update in the root"; }
	chroot "$tmp" systemctl mask e2scrub_reap.service systemd-logind.service getty@tty1.service \
		serial-getty@ttyS0.service console-getty.service getty.target >/dev/null 2>&1
	echo "$ROOT_VERSION" > "$tmp/.hashwatch-root-version"
	mv "$tmp" "$LOWER"
	exec 9>&-
}

# Boot a fresh overlay of the cached root; sets SD_PID (the host PID of its
# systemd).
root_boot() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (unshare, mount, pivot_root)"
	root_prepare
	mkdir -p "$T/upper" "$T/work" "$MNT"
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$T/upper,workdir=$T/work" "$MNT" ||
		skip "cannot mount an overlay file system here"
	setsid unshare --pid --fork --mount --uts --ipc bash -c '
		R=$1
		mount --make-rprivate /
		mount --bind "$R" "$R"
		mount -t proc proc "$R/proc"; mount --rbind /sys "$R/sys"
		mount -t tmpfs tmpfs "$R/run"; mount --rbind /dev "$R/dev"
		cd "$R" && mkdir -p .oldroot && pivot_root . .oldroot && umount -l /.oldroot
		exec /lib/systemd/systemd --system --unit=multi-user.target' _ "$MNT" \
		>"$T/boot.log" 2>&1 </dev/null &
	local launcher=$! i p
	# systemd is the launcher's child (unshare --fork) or grandchild (when
	# setsid had to fork): find it by its parent, never by name, since
	# other roots may be booted on this machine.
	for i in $(seq 100); do
		for p in $(pgrep -P "$launcher") $(pgrep -P "$(pgrep -P "$launcher" | head -1)" 2>/dev/null); do
			[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$MNT/lib/systemd/systemd" ] ||
				[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "/lib/systemd/systemd --system --unit=multi-user.target " ] ||
				continue
			SD_PID=$p
		done
		[ -n "$SD_PID" ] && break
		sleep 0.1
	done
	[ -n "$SD_PID" ] || { cat "$T/boot.log"; fail "systemd did not start in the root"; }
	local st
	for i in $(seq 300); do
		st=$(in_root systemctl is-system-running 2>/dev/null || true)
		case $st in running|degraded) note "root booted (systemd PID $SD_PID, $st)"; return 0 ;; esac
		sleep 0.2
	done
	fail "the root's systemd did not finish booting (state '$st')"
}

# in_root CMD...: run CMD inside the booted root (as root there).
in_root() { nsenter -t "$SD_PID" -m -p -u -i "$@"; }
# in_root_sh 'shell code'
in_root_sh() { nsenter -t "$SD_PID" -m -p -u -i sh -c "$1"; }

root_stop() {
	if [ -n "$SD_PID" ]; then
		kill -9 "$SD_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$SD_PID" 2>/dev/null || break; sleep 0.1; done
		SD_PID=
	fi
	if mountpoint -q "$MNT" 2>/dev/null; then
		umount -l "$MNT"
		# Keep downloaded packages for the next run (the cache is ours);
		# a lower layer may only change while no overlay uses it.
		grep -q "lowerdir=$LOWER[,: ]" /proc/mounts ||
			cp -n "$T"/upper/var/cache/apt/archives/*.deb "$LOWER/var/cache/apt/archives/" 2>/dev/null
	fi
}
cleanup() { root_stop; rm -rf "$T"; }
trap cleanup EXIT

# What went wrong, from inside the root.
root_diag() {
	[ -n "$SD_PID" ] || return 0
	echo "--- systemctl --failed; hashwatch units; journal:"
	in_root systemctl --failed --no-pager 2>&1 | head -20
	in_root systemctl status --no-pager -l 'hashwatch*' 2>&1 | head -60
	in_root journalctl --no-pager -n 80 -o cat -u 'hashwatch*' 2>&1
}

# install_debs DIR [PKG...]: apt-get install the packages (all of DIR's
# non-debug .debs by default) with their dependencies from the mirror.
install_debs() {
	local dir=$1; shift
	local pkgs=("$@") f
	[ ${#pkgs[@]} -gt 0 ] || for f in "$dir"/*.deb; do
		case $f in *-dbgsym_*) continue ;; esac
		pkgs+=("$(dpkg-deb -f "$f" Package)")
	done
	mkdir -p "$MNT/tmp/debs"
	rm -f "$MNT"/tmp/debs/*.deb
	local args=()
	for p in "${pkgs[@]}"; do
		f=$(ls "$dir"/"${p}"_*.deb | grep -v dbgsym | head -1)
		cp "$f" "$MNT/tmp/debs/"
		args+=("/tmp/debs/$(basename "$f")")
	done
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "${args[@]}" \
		>"$T/apt.log" 2>&1 && return 0
	# Stale package lists in the cached root: refresh once and retry.
	grep -q '404' "$T/apt.log" && in_root apt-get update -qq >/dev/null 2>&1 &&
		in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "${args[@]}" \
		>"$T/apt.log" 2>&1 && return 0
	tail -30 "$T/apt.log"
	return 1
}

# district_setup IMAGE: what district IT does on a laptop (see
# docs/district-it-guide.md): a list-signing key, a signed list holding
# IMAGE's SHA-256, the public key in /etc/hashwatch/keys, the list in
# /var/lib/hashwatch/lists, a student with a watched Pictures folder and
# the device id in the configuration.  IMAGE is left as /root/listed.jpg.
district_setup() {
	cp "$1" "$MNT/root/listed.jpg"
	in_root_sh '
	set -e
	cd /root
	hashwatch db keygen signer.key >/dev/null
	cp signer.key.pub /etc/hashwatch/keys/district.pub
	{ echo "algorithm,hash,id,category,source"
	  echo "sha256,$(sha256sum listed.jpg | cut -d" " -f1),E-1,test,system-test"; } > list.csv
	hashwatch db build --list-id system-test --version 1 -o test.hwdb list.csv >/dev/null
	hashwatch db sign --key signer.key test.hwdb >/dev/null
	install -m 0640 -o root -g hashwatch test.hwdb /var/lib/hashwatch/lists/system-test.hwdb
	useradd -m student
	install -d -o student -g student -m 0700 /home/student/Pictures
	conf=/etc/hashwatch/hashwatch.conf
	sed -i -e "s|^watch = .*|watch = /home/*/Pictures|" -e "s|^id = ASSET-0000|id = TEST-0001|" $conf
	' >"$T/setup.log" 2>&1 || { cat "$T/setup.log"; fail "setting up the list and the configuration in the root"; }
}

# drop_listed NAME: the listed image into the student's folder, 0600 and
# the student's: only CAP_DAC_READ_SEARCH lets the scanner read it.
drop_listed() {
	in_root install -o student -g student -m 0600 /root/listed.jpg "/home/student/Pictures/$1"
}

# show_is UNIT PROPERTY VALUE: the running unit's property as systemd sees it.
# Compared without case and word order (capability and family lists).
show_is() {
	local got norm
	norm() { tr 'A-Z ' 'a-z\n' | sort | tr '\n' ' '; }
	got=$(in_root systemctl show -P "$2" "$1")
	[ "$(echo "$got" | norm)" = "$(echo "$3" | norm)" ] || fail "$1: $2 is '$got', expected '$3'"
}
# Every directive the unit file sets, compared with `systemctl show`.
check_unit_props() {
	local unit=$1 file=$MNT/lib/systemd/system/$1.service
	local n=0 key val
	while IFS='=' read -r key val; do
		case $key in
		NoNewPrivileges|PrivateNetwork|PrivateTmp|PrivateDevices|PrivateMounts|PrivateIPC|\
		ProtectKernelTunables|ProtectKernelModules|ProtectKernelLogs|ProtectControlGroups|\
		ProtectClock|ProtectHostname|RestrictNamespaces|RestrictRealtime|RestrictSUIDSGID|\
		LockPersonality|MemoryDenyWriteExecute|RemoveIPC)
			[ "$val" = yes ] && val=yes
			show_is "$unit" "$key" "$val" ;;
		ProtectSystem|ProtectHome|ProtectProc|ProcSubset|DevicePolicy|KeyringMode|User|Group|\
		UMask|Nice|IOSchedulingClass|CPUWeight|IOWeight|TasksMax|NotifyAccess|Type|\
		SystemCallErrorNumber|SystemCallArchitectures)
			[ "$key" = IOSchedulingClass ] && [ "$val" = idle ] && val=3
			[ "$key" = SystemCallErrorNumber ] && val=1
			[ "$key" = SystemCallArchitectures ] && val=native
			show_is "$unit" "$key" "$val" ;;
		MemoryMax|MemoryHigh)
			show_is "$unit" "$key" "$(numfmt --from=iec "$val")" ;;
		CapabilityBoundingSet|AmbientCapabilities)
			show_is "$unit" "$key" "$val" ;;
		RestrictAddressFamilies)
			show_is "$unit" "$key" "$val" ;;
		SupplementaryGroups|StateDirectory|StateDirectoryMode|WatchdogSec|ReadWritePaths|\
		TemporaryFileSystem|BindPaths|IPAddressDeny)
			local got prop=$key
			[ "$key" = WatchdogSec ] && prop=WatchdogUSec
			got=$(in_root systemctl show -P "$prop" "$unit")
			[ -n "$got" ] && [ "$got" != 0 ] || fail "$unit: $prop is empty" ;;
		SystemCallFilter)
			in_root systemctl show -P SystemCallFilter "$unit" | grep -qw read ||
				fail "$unit: no system call filter in force" ;;
		*) continue ;;
		esac
		n=$((n + 1))
	done < <(grep -E '^[A-Za-z]+=' "$file")
	pass "$unit: $n hardening and resource directives in force (systemctl show)"
}

have_pkg() { ls "$1"/"$2"_*.deb >/dev/null 2>&1; }
deb_has() { dpkg-deb -c "$(ls "$1"/"$2"_*.deb | grep -v dbgsym | head -1)" | grep -q " \./$3\$"; }

# wait_until SECONDS 'shell code run inside the root'
wait_until() {
	local i
	for i in $(seq $(($1 * 5))); do
		in_root_sh "$2" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# unit_active UNIT: active (running) per systemctl status.
unit_running() {
	in_root systemctl status --no-pager "$1" 2>/dev/null | grep -q 'Active: active (running)'
}
