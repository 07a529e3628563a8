#!/bin/bash
# units_security.sh - the three systemd units: `systemd-analyze verify`
# clean, and `systemd-analyze security --offline=yes` exposure within the
# limits of issue 7 (scanner <= 1.0, uplink <= 1.5, receiver <= 2.0; the
# upstream ClamAV units score 9.6).  The units are checked as `make install`
# writes them, in a scratch root where their programs exist.
set -u
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed"; exit 77; }
systemd-analyze security --help 2>/dev/null | grep -q -- '--offline' ||
	{ echo "SKIP: this systemd-analyze has no --offline (systemd < 250)"; exit 77; }
UNITS=packaging/systemd
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# limit per unit, in exposure points
declare -A LIMIT=([hashwatchd]=1.0 [hashwatch-uplink]=1.5 [hashwatch-receiver]=2.0)

# A root holding the units and stand-ins for the programs they start, so
# that verify checks the units, not whether this tree built every program.
for p in hashwatchd hashwatch-uplink hashwatch-receiver; do
	install -D -m 0755 /bin/true "$T/root/usr/sbin/$p"
done
install -D -m 0755 /bin/kill "$T/root/bin/kill" 2>/dev/null || install -D -m 0755 /bin/true "$T/root/bin/kill"
# The host's own units (targets the units name) next to ours.
mkdir -p "$T/root/lib/systemd"
cp -a "$(readlink -f /lib/systemd/system)" "$T/root/lib/systemd/system"
for u in "${!LIMIT[@]}"; do
	f=$UNITS/$u.service
	[ -f "$f" ] || { echo "FAIL: $f is missing"; fail=1; continue; }
	cp "$f" "$T/root/lib/systemd/system/"
	# Only messages about our unit count (the host's units may have their own).
	systemd-analyze verify --man=no --root="$T/root" "/lib/systemd/system/$u.service" \
		>"$T/$u.verify" 2>&1
	if grep -qF "$u.service" "$T/$u.verify"; then
		echo "FAIL: systemd-analyze verify $u.service:"; sed 's/^/    /' "$T/$u.verify"; fail=1
	fi
	systemd-analyze security --offline=yes --root="$T/root" "$u.service" >"$T/$u.sec" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/$u.sec")
	if [ -z "$score" ]; then
		echo "FAIL: no exposure level for $u.service:"; tail -5 "$T/$u.sec"; fail=1; continue
	fi
	ok=$(awk -v s="$score" -v l="${LIMIT[$u]}" 'BEGIN { print (s <= l) ? 1 : 0 }')
	printf '%-20s exposure %s (limit %s)%s\n' "$u" "$score" "${LIMIT[$u]}" "$([ "$ok" = 1 ] || echo '  TOO HIGH')"
	if [ "$ok" != 1 ]; then
		grep '✗' "$T/$u.sec" | sed 's/^/    /'
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "PASS: units verified, exposure within limits"
exit "$fail"
