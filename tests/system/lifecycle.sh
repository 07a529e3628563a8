#!/bin/bash
# lifecycle.sh - install, upgrade, remove and purge of the hashwatch
# package in a Debian 12 root with a real systemd.  The upgrade (to the
# same tree built one version higher) must keep the spool, the audit log,
# the device key and the lists, and restart the scanner; remove must stop
# the units and keep the state; purge must say what it removes and then
# remove exactly that.  Without hashwatchd in the package the state is
# written by hand, so that the packaging's promises are still checked.
# Usage: lifecycle.sh OLD_DEBDIR NEW_DEBDIR
. "$(dirname "$0")/lib.sh"
OLD=$(cd "${1:?usage: lifecycle.sh OLD_DEBDIR NEW_DEBDIR}" && pwd)
NEW=$(cd "${2:?usage: lifecycle.sh OLD_DEBDIR NEW_DEBDIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TESTDATA=${HASHWATCH_TESTDATA:-$SRC/../shared/testdata}
IMAGE=$TESTDATA/pdq/images/bridge-mods/aaa-orig.jpg
have_pkg "$OLD" hashwatch && have_pkg "$NEW" hashwatch || skip "no hashwatch packages in $OLD and $NEW"
old_ver=$(dpkg-deb -f "$(ls "$OLD"/hashwatch_*.deb)" Version)
new_ver=$(dpkg-deb -f "$(ls "$NEW"/hashwatch_*.deb)" Version)
dpkg --compare-versions "$new_ver" gt "$old_ver" || fail "$new_ver is not newer than $old_ver"
PKGS=(hashwatch)
have_pkg "$OLD" hashwatch-opencv && PKGS+=(hashwatch-opencv)

root_boot
install_debs "$OLD" "${PKGS[@]}" || fail "installing $old_ver"
pass "installed ${PKGS[*]} $old_ver"
grep -q '^hashwatch: next: set \[device\] id' "$T/apt.log" || { cat "$T/apt.log"; fail "the install did not say what to do next"; }

HAVE_D=0
in_root test -x /usr/sbin/hashwatchd && HAVE_D=1
if [ $HAVE_D = 1 ]; then
	[ -f "$IMAGE" ] || skip "no test image $IMAGE (set HASHWATCH_TESTDATA)"
	district_setup "$IMAGE"
	in_root systemctl restart hashwatchd || fail "hashwatchd did not start"
	wait_until 30 "systemctl status hashwatchd | grep -q 'active (running)'" || fail "hashwatchd is not active (running)"
	drop_listed before-upgrade.jpg
	# No [uplink] url: the uplink is skipped and the alert stays queued.
	wait_until 60 "ls /var/lib/hashwatch/spool | grep -q ." || fail "no alert in the spool"
	in_root systemctl is-failed hashwatch-uplink >/dev/null && fail "the unconfigured uplink is failed, not skipped"
	pass "an alert is queued in the spool, the uplink (not configured) skipped, not failed"
else
	note "no hashwatchd in the package: the state is written by hand"
	in_root_sh 'echo "{}" > /var/lib/hashwatch/spool/queued.json && echo "record" > /var/lib/hashwatch/audit.log &&
		echo key > /var/lib/hashwatch/device.key && chown -R hashwatch /var/lib/hashwatch/spool/queued.json' ||
		fail "writing the state by hand"
fi

# What must survive the upgrade, fingerprinted.
fingerprint() {
	in_root_sh 'cd /var/lib/hashwatch && for f in spool/* device.key device.pub lists/*; do
		[ -f "$f" ] && echo "$(sha256sum < "$f" | cut -c1-16) $(stat -c "%a %U:%G" "$f") $f"; done'
}
fingerprint > "$T/before"
in_root_sh 'cat /var/lib/hashwatch/audit.log' > "$T/audit-before"
[ -s "$T/audit-before" ] || fail "no audit log before the upgrade"
pid_before=$(in_root systemctl show -P MainPID hashwatchd 2>/dev/null || echo 0)

install_debs "$NEW" "${PKGS[@]}" || fail "upgrading to $new_ver"
got=$(in_root dpkg-query -W -f '${Version}' hashwatch)
[ "$got" = "$new_ver" ] || fail "after the upgrade hashwatch is $got, not $new_ver"
fingerprint > "$T/after"
if [ $HAVE_D = 1 ]; then
	grep -q "^hashwatch:   ed25519 [A-Za-z0-9+/=]* TEST-0001\$" "$T/apt.log" ||
		{ cat "$T/apt.log"; fail "the upgrade did not print the device's enrollment line"; }
	pass "the upgrade printed the enrollment line: $(grep -m1 '^hashwatch:   ed25519' "$T/apt.log" | cut -c1-60)..."
fi
diff "$T/before" "$T/after" || fail "the spool, device key or lists changed in the upgrade"
in_root_sh 'cat /var/lib/hashwatch/audit.log' > "$T/audit-after"
cmp -n "$(stat -c %s "$T/audit-before")" "$T/audit-before" "$T/audit-after" ||
	fail "the audit log's old records changed in the upgrade"
pass "upgrade $old_ver -> $new_ver kept $(wc -l < "$T/before") state files unchanged and the audit log's $(wc -l < "$T/audit-before") records"
if [ $HAVE_D = 1 ]; then
	wait_until 30 "systemctl status hashwatchd | grep -q 'active (running)'" ||
		fail "hashwatchd is not active (running) after the upgrade"
	pid_after=$(in_root systemctl show -P MainPID hashwatchd)
	[ "$pid_after" != "$pid_before" ] || fail "hashwatchd was not restarted by the upgrade"
	in_root journalctl -u hashwatchd --no-pager -o cat | grep -q "hashwatchd .* stopp\|stopping\|Stopped\|Deactivated" ||
		note "no stop message seen in the journal"
	[ "$(wc -l < "$T/audit-after")" -gt "$(wc -l < "$T/audit-before")" ] ||
		fail "the restarted scanner wrote nothing to the audit log"
	in_root hashwatch audit verify /var/lib/hashwatch/audit.log >"$T/verify" 2>&1 ||
		{ cat "$T/verify"; fail "hashwatch audit verify after the upgrade"; }
	pass "hashwatchd restarted cleanly (PID $pid_before -> $pid_after), the audit log verifies across the upgrade"
fi

# --- remove: units stopped, state kept ------------------------------------------
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "${PKGS[@]}" >"$T/remove.log" 2>&1 ||
	{ cat "$T/remove.log"; fail "apt-get remove"; }
if [ $HAVE_D = 1 ]; then
	in_root systemctl is-active hashwatchd >/dev/null && fail "hashwatchd still active after remove"
	in_root pgrep -x hashwatchd >/dev/null && fail "a hashwatchd process survived remove"
fi
fingerprint > "$T/removed"
diff "$T/before" "$T/removed" >/dev/null || fail "remove changed the state (it must keep it)"
pass "remove stopped the units and kept the state"

# --- purge: says what it removes, then removes exactly that -----------------------
in_root dpkg --purge hashwatch >"$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "dpkg --purge"; }
sed 's/^/    | /' "$T/purge.log"
said=$(grep -oE '^hashwatch:   /[^ ]+' "$T/purge.log" | awk '{print $2}')
[ -n "$said" ] || fail "purge did not list what it removes"
for p in $said; do
	in_root test -e "$p" && fail "purge said it removes $p, but $p is still there"
done
for p in /var/lib/hashwatch /var/lib/hashwatch-uplink; do
	echo "$said" | grep -qx "$p" || fail "purge did not announce $p"
done
in_root test -e /etc/hashwatch/hashwatch.conf && fail "purge left the configuration file"
pass "purge announced and removed: $(echo $said)"
echo PASS
