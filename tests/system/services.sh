#!/bin/bash
# services.sh - the packages from a clean install to a delivered alert, in
# a Debian 12 root with a real systemd: users, folders and modes as the
# packages say; each daemon active (running) with every hardening
# directive of its unit in force; hashwatchd's STATUS= line in
# `systemctl status`; a listed image dropped into a student's folder gives
# a signed alert in the spool, which the uplink delivers to the receiver.
# Usage: services.sh DEBDIR
. "$(dirname "$0")/lib.sh"
DEBS=$(cd "${1:?usage: services.sh DEBDIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TESTDATA=${HASHWATCH_TESTDATA:-$SRC/../shared/testdata}
IMAGE=$TESTDATA/pdq/images/bridge-mods/aaa-orig.jpg
[ -f "$IMAGE" ] || skip "no test image $IMAGE (set HASHWATCH_TESTDATA)"
have_pkg "$DEBS" hashwatch || skip "no hashwatch package in $DEBS ('make deb')"

root_boot
# The root shares the host's network: the receiver must not take the
# default port 8443 of this machine, so its configuration is in place
# before the package (dpkg keeps it: --force-confold).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if have_pkg "$DEBS" hashwatch-receiver; then
	mkdir -p "$MNT/etc/hashwatch"
	dpkg-deb --fsys-tarfile "$(ls "$DEBS"/hashwatch-receiver_*.deb)" | tar -xOf - ./etc/hashwatch/receiver.conf |
		sed "s/^listen = .*/listen = 127.0.0.1:$PORT/" > "$MNT/etc/hashwatch/receiver.conf"
fi
install_debs "$DEBS" || fail "apt-get install of the packages"
pass "packages installed: $(ls "$DEBS"/*.deb | grep -vc dbgsym) (with their dependencies from the mirror)"

# --- users, groups, folders ---------------------------------------------------
in_root getent passwd hashwatch hashwatch-uplink >/dev/null || fail "system users missing"
in_root id -nG hashwatch-uplink | grep -qw hashwatch-spool || fail "hashwatch-uplink is not in hashwatch-spool"
check_mode() {  # PATH MODE OWNER:GROUP
	local got
	got=$(in_root stat -c '%a %U:%G' "$1") || fail "$1 missing"
	[ "$got" = "$2 $3" ] || fail "$1 is '$got', expected '$2 $3'"
}
check_mode /var/lib/hashwatch 710 hashwatch:hashwatch
check_mode /var/lib/hashwatch/spool 2770 hashwatch:hashwatch-spool
check_mode /var/lib/hashwatch/spool/receipts 2770 hashwatch:hashwatch-spool
check_mode /var/lib/hashwatch/lists 750 root:hashwatch
check_mode /var/lib/hashwatch-uplink 750 hashwatch-uplink:hashwatch-uplink
pass "users and state folders as sysusers.d/tmpfiles.d say"

HAVE_D=0 HAVE_UP=0 HAVE_RX=0
in_root test -x /usr/sbin/hashwatchd && HAVE_D=1
in_root test -x /usr/sbin/hashwatch-uplink && HAVE_UP=1
in_root test -x /usr/sbin/hashwatch-receiver && HAVE_RX=1
note "components: hashwatchd=$HAVE_D hashwatch-uplink=$HAVE_UP hashwatch-receiver=$HAVE_RX"
for u in $( [ $HAVE_D = 1 ] && echo hashwatchd) $( [ $HAVE_UP = 1 ] && echo hashwatch-uplink) $( [ $HAVE_RX = 1 ] && echo hashwatch-receiver); do
	in_root systemctl is-enabled "$u" >/dev/null || fail "$u.service is not enabled"
	in_root systemd-analyze verify --man=no "/lib/systemd/system/$u.service" >"$T/verify" 2>&1 ||
		{ cat "$T/verify"; fail "systemd-analyze verify $u.service in the root"; }
done
pass "units enabled and verified in the root"

# No list yet: the scanner waits (condition), it does not fail.
in_root systemctl is-failed hashwatchd >/dev/null && fail "hashwatchd failed without lists"

# --- receiver -------------------------------------------------------------------
if [ $HAVE_RX = 1 ]; then
	wait_until 20 "systemctl status hashwatch-receiver | grep -q 'active (running)'" ||
		fail "hashwatch-receiver is not active (running)"
	pass "hashwatch-receiver active (running) on 127.0.0.1:$PORT"
	check_unit_props hashwatch-receiver
	rpid=$(in_root systemctl show -P MainPID hashwatch-receiver)
	in_root grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$rpid/status" >"$T/rproc"
	grep -q 'CapEff:.*0000000000000000' "$T/rproc" && grep -q 'CapBnd:.*0000000000000000' "$T/rproc" &&
		grep -q 'NoNewPrivs:.*1' "$T/rproc" && grep -q 'Seccomp:.*2' "$T/rproc" ||
		{ cat "$T/rproc"; fail "hashwatch-receiver's process has capabilities, or no no_new_privs or seccomp"; }
	pass "hashwatch-receiver's process: no capabilities, no_new_privs, seccomp, user $(in_root stat -c %U "/proc/$rpid")"
fi
[ "$HAVE_D" -eq 1 ] || skip "hashwatchd is not in the package (daemon/scanner not in this tree); the install and receiver checks passed"

# --- the district's setup: signing key, list, configuration --------------------
district_setup "$IMAGE"
if [ $HAVE_UP = 1 ] && [ $HAVE_RX = 1 ]; then
	# The laptop trusts the receiver's self-signed certificate.
	in_root install -m 0644 /etc/hashwatch/receiver-tls/cert.pem /etc/hashwatch/receiver-ca.pem
	# The sample's [uplink] keys, filled in as district IT would.
	in_root sed -i -e "s|^;url = .*|url = https://localhost:$PORT|" \
		-e 's|^;ca_file = .*|ca_file = /etc/hashwatch/receiver-ca.pem|' \
		-e 's|^;retry_min = .*|retry_min = 1|' -e 's|^;retry_max = .*|retry_max = 2|' \
		/etc/hashwatch/hashwatch.conf
	in_root hashwatch-uplink --check-config >"$T/check" 2>&1 || { cat "$T/check"; fail "hashwatch-uplink --check-config"; }
fi
in_root hashwatchd --check-config >"$T/check" 2>&1 || { cat "$T/check"; fail "hashwatchd --check-config"; }

in_root systemctl restart hashwatchd || fail "hashwatchd did not start"
wait_until 30 "systemctl status hashwatchd | grep -q 'active (running)'" || fail "hashwatchd is not active (running)"
pass "hashwatchd active (running)"
in_root systemctl status --no-pager hashwatchd >"$T/status" 2>&1
grep -q 'Status: "' "$T/status" || { cat "$T/status"; fail "systemctl status hashwatchd shows no Status: line"; }
pass "systemctl status hashwatchd: $(grep 'Status: ' "$T/status" | sed 's/^ *//')"

# --- every hardening directive in force ---------------------------------------
check_unit_props hashwatchd
# And from the kernel's side: the process's capabilities, user, seccomp.
mainpid=$(in_root systemctl show -P MainPID hashwatchd)
in_root grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$mainpid/status" >"$T/proc"
grep -q 'CapEff:.*0000000000000004' "$T/proc" || { cat "$T/proc"; fail "hashwatchd's effective capabilities are not CAP_DAC_READ_SEARCH alone"; }
grep -q 'CapBnd:.*0000000000000004' "$T/proc" || { cat "$T/proc"; fail "hashwatchd's bounding set is not CAP_DAC_READ_SEARCH alone"; }
grep -q 'NoNewPrivs:.*1' "$T/proc" || fail "hashwatchd without no_new_privs"
grep -q 'Seccomp:.*2' "$T/proc" || fail "hashwatchd without a seccomp filter"
# Its own network namespace, holding nothing but lo.
[ "$(in_root readlink "/proc/$mainpid/ns/net")" != "$(in_root readlink /proc/1/ns/net)" ] ||
	fail "hashwatchd shares the host's network namespace"
ifaces=$(in_root cat "/proc/$mainpid/net/dev" | tail -n +3 | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')
[ "$ifaces" = "lo " ] || fail "hashwatchd's network namespace has interfaces '$ifaces', expected lo alone"
pass "hashwatchd's process: CAP_DAC_READ_SEARCH only, no_new_privs, seccomp, network: lo alone, user $(in_root ps -o user= -p "$mainpid" 2>/dev/null || in_root stat -c %U "/proc/$mainpid")"

# --- a listed image in a student's folder --------------------------------------
drop_listed holiday.jpg
if [ $HAVE_UP = 1 ] && [ $HAVE_RX = 1 ]; then
	# As the response team would: device.pub copied over from the laptop.
	in_root_sh 'install -m 0644 /var/lib/hashwatch/device.pub /tmp/TEST-0001.pub &&
		runuser -u hashwatch-receiver -- hashwatch-receiver enroll --db /var/lib/hashwatch-receiver/receiver.db TEST-0001 /tmp/TEST-0001.pub' \
		>"$T/enroll" 2>&1 || { cat "$T/enroll"; fail "enrolling the device with the receiver"; }
	in_root systemctl restart hashwatch-uplink || fail "hashwatch-uplink did not start"
	wait_until 20 "systemctl status hashwatch-uplink | grep -q 'active (running)'" ||
		fail "hashwatch-uplink is not active (running)"
	pass "hashwatch-uplink active (running)"
	check_unit_props hashwatch-uplink
	# The uplink sees the spool, and nothing else of the scanner's state.
	upid=$(in_root systemctl show -P MainPID hashwatch-uplink)
	in_root nsenter -t "$upid" -m ls -A /var/lib/hashwatch >"$T/uplink-view"
	[ "$(cat "$T/uplink-view")" = spool ] || { cat "$T/uplink-view"; fail "the uplink sees more than spool/ of /var/lib/hashwatch"; }
	in_root nsenter -t "$upid" -m sh -c 'ls /home/student' >/dev/null 2>&1 && fail "the uplink can see /home"
	pass "the uplink's view of /var/lib/hashwatch is spool/ alone, and it has no /home"
	wait_until 60 "runuser -u hashwatch-receiver -- hashwatch-receiver alerts --db /var/lib/hashwatch-receiver/receiver.db --json | grep -q TEST-0001" ||
		fail "no alert reached the receiver within 60 s"
	in_root_sh 'runuser -u hashwatch-receiver -- hashwatch-receiver alerts --db /var/lib/hashwatch-receiver/receiver.db --json' | head -3
	pass "the listed image's alert was delivered to the receiver"
	# Through both sandboxes: the uplink (group hashwatch-spool) writes its
	# receipt into spool/receipts/, the scanner (owner) records and deletes it.
	wait_until 30 "hashwatch audit summary --json /var/lib/hashwatch/audit.log | grep -q '\"status\": *\"delivered\"'" ||
		fail "the scanner's audit log does not show the alert delivered (receipts/: $(in_root ls -la /var/lib/hashwatch/spool/receipts))"
	wait_until 10 "[ -z \"\$(ls -A /var/lib/hashwatch/spool/receipts)\" ]" || fail "a receipt was left in spool/receipts/"
	pass "the uplink's receipt became an alert_delivered record in the scanner's audit log"
else
	wait_until 60 "ls /var/lib/hashwatch/spool/*.json" || fail "no alert (*.json) in the spool within 60 s"
	pass "the listed image produced an alert in the spool: $(in_root_sh "ls /var/lib/hashwatch/spool/*.json" | head -1)"
fi
in_root hashwatch audit verify /var/lib/hashwatch/audit.log >"$T/verify" 2>&1 ||
	{ cat "$T/verify"; fail "hashwatch audit verify"; }
pass "the audit log verifies"

# --- lists that do not fit the memory limits are reported --------------------
# The daemon needs ~256 MB besides its lists: with a drop-in setting
# MemoryHigh=200M, the journal must say so after the restart, with the fix.
cg=$(in_root systemctl show -P ControlGroup hashwatchd)
if in_root test -f "/sys/fs/cgroup$cg/memory.high"; then
	in_root mkdir -p /etc/systemd/system/hashwatchd.service.d
	in_root_sh 'printf "[Service]\nMemoryHigh=200M\n" >/etc/systemd/system/hashwatchd.service.d/memory.conf'
	in_root systemctl daemon-reload
	in_root systemctl restart hashwatchd || fail "hashwatchd did not restart with MemoryHigh=200M"
	wait_until 30 "journalctl -u hashwatchd --no-pager -o cat | grep -q \"service's MemoryHigh is 200 MiB\"" ||
		fail "no memory warning in the journal with MemoryHigh=200M"
	pass "with MemoryHigh=200M the journal says: $(in_root journalctl -u hashwatchd --no-pager -o cat |
		grep -o "the lists and the scanner need.*MemoryHigh=[0-9]*M" | tail -1)"
	in_root rm /etc/systemd/system/hashwatchd.service.d/memory.conf
	in_root systemctl daemon-reload
else
	note "SKIP the memory-limit warning: hashwatchd has no cgroup v2 memory controller in this root ($cg)"
fi
echo "PASS"
