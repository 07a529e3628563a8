#!/bin/bash
# uplink_delivery.sh - hashwatch-uplink against a receiver over real TLS on
# 127.0.0.1: configuration errors name the key; alerts are delivered oldest
# first and deleted after the 2xx; the heartbeat is sent once per version;
# the scanner's temp files are left alone; the daemon picks up new files
# through inotify; the alert of a device not enrolled yet waits in the
# spool until it is; an alert the receiver refuses (signed with another
# key) and a damaged spool file go to spool/rejected/ with the reason,
# never deleted; every delivery is in the uplink's audit log.
. "$(dirname "$0")/uplink.lib"

mk_certs
mk_device
srv_start
write_conf

# 1. Configuration: valid, then each kind of mistake, named.
"$UPL" --check-config --config "$T/uplink.conf" >"$T/out" || fail "--check-config refused a good file: $(cat "$T/out")"
grep -q "127.0.0.1:$PORT" "$T/out" || fail "--check-config does not show the receiver"
bad_conf() { # bad_conf SED-EXPR EXPECTED-TEXT
	sed "$1" "$T/uplink.conf" >"$T/bad.conf"
	"$UPL" --check-config --config "$T/bad.conf" >/dev/null 2>"$T/err"
	local rc=$?
	[ $rc -eq 2 ] || fail "config '$1': exit $rc, expected 2"
	grep -q -- "$2" "$T/err" || fail "config '$1': message lacks '$2': $(cat "$T/err")"
}
bad_conf '/^url/d' '\[uplink\] url is missing'
bad_conf 's|^url = https|url = http|' 'must start with https://'
bad_conf 's|^url = .*|url = https://user:pw@127.0.0.1/|' 'must not contain a user name'
bad_conf 's|^timeout = 5|timeout = 5s|' '\[uplink\] timeout'
bad_conf 's|^retry_max = 2|retry_max = 0|' '\[uplink\] retry_max'
bad_conf '/^timeout/a pin = sha256//notbase64' '\[uplink\] pin'
bad_conf '/^timeout/a verify = no' "unknown key 'verify' in \[uplink\]"
bad_conf '/^timeout/a timeout = 9' 'given twice'
bad_conf 's|^dir = .*|dir = relative/path|' '\[state\] dir'
bad_conf 's|^id = .*|id = no spaces allowed|' '\[device\] id'
"$UPL" --config /nonexistent.conf --once 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "/nonexistent.conf" "$T/err" || fail "missing config file: exit $rc: $(cat "$T/err")"
"$UPL" --help | grep -q -- --once || fail "--help does not list --once"
ok "configuration checked, every mistake named with its key"

# 2. --once: five alerts with distinct ages, a heartbeat, a scanner temp file.
mk_alerts 5
i=0
for id in $(cat "$T/ids"); do
	i=$((i + 1))
	touch -d "@$(( $(date +%s) - 600 + (i * 37 % 5) * 60 ))" "$SPOOL/$id.json"
done
mk_heartbeat 41
for id in $(cat "$T/ids"); do echo "$(stat -c %Y "$SPOOL/$id.json") $id"; done | sort | cut -d' ' -f2 >"$T/by_age"
echo partial >"$SPOOL/$(new_id).json.tmp.AbC123"
"$UPL" --config "$T/uplink.conf" --once --json >"$T/out" 2>>"$T/uplink.log"; rc=$?
[ $rc -eq 0 ] || fail "--once exited $rc: $(cat "$T/out")"
[ "$(jq -c '[.delivered, .rejected, .remaining, .heartbeats]' "$T/out")" = "[5,0,0,1]" ] ||
	fail "--once reported $(cat "$T/out")"
[ "$(spooled)" -eq 0 ] || fail "$(spooled) alert file(s) still in the spool"
ls "$SPOOL"/*.tmp.AbC123 >/dev/null 2>&1 || fail "the scanner's temp file was touched"
[ -f "$SPOOL/heartbeat" ] || fail "the heartbeat file was consumed; it must stay"
check_exactly_once
AUD=$USTATE/uplink-audit.log
jq -r 'select(.type == "alert_delivered") | .fields.alert_id' "$AUD" >"$T/order"
cmp -s "$T/order" "$T/by_age" || fail "not delivered oldest first: $(tr '\n' ' ' <"$T/order")"
jq -e -s '[.[] | select(.type == "heartbeat" and .fields.ok == true and .fields.reported_seq == 41)] | length == 1' \
	"$AUD" >/dev/null || fail "no heartbeat record with reported_seq 41 in the audit log"
ok "--once delivered 5 alerts and the heartbeat; temp file and heartbeat file kept"

# 3. A second --once has nothing to do, and the same heartbeat is sent
# again only because this is a new run (the receiver takes it or says it
# has one as new; either way it is not an error).
"$UPL" --config "$T/uplink.conf" --once --json >"$T/out" 2>>"$T/uplink.log" || fail "idle --once: $(cat "$T/out")"
[ "$(jq -c '[.delivered, .remaining]' "$T/out")" = "[0,0]" ] || fail "idle --once reported $(cat "$T/out")"

# 4. The daemon: new files arrive through inotify (no polling), a new
# heartbeat version is sent once; it tells systemd READY=1, keeps STATUS=
# up to date and feeds the watchdog.
notify_listen
NOTIFY=1 uplink_start
wait_for 10 'grep -q "^READY=1" "$T/notify.log"' || fail "no READY=1: $(cat "$T/notify.log")"
mk_alerts 3
mk_heartbeat 42
wait_for 10 '[ "$(spooled)" -eq 0 ]' || fail "the daemon did not deliver new alerts ($(spooled) left)"
wait_for 10 'jq -e -s "[.[] | select(.type == \"heartbeat\" and .fields.reported_seq == 42)] | length == 1" "$AUD" >/dev/null' ||
	fail "the daemon did not send the new heartbeat"
check_exactly_once
"$RCV" devices --db "$T/receiver.db" --json | jq -e --arg d "$DEVICE" \
	'select(.device_id == $d) | .audit_seq == 42 and .lists[0].id == "district-demo"' >/dev/null ||
	fail "the receiver's fleet view lacks the heartbeat: $("$RCV" devices --db "$T/receiver.db" --json)"
ok "the daemon delivered alerts that arrived while it ran, and the new heartbeat (fleet view: seq 42)"
wait_for 10 'grep -q "STATUS=0 alert(s) in the spool; 3 delivered" "$T/notify.log"' ||
	fail "STATUS does not show the deliveries: $(grep STATUS "$T/notify.log" | tail -1)"
wait_for 5 '[ "$(grep -c "^WATCHDOG=1" "$T/notify.log")" -ge 2 ]' ||
	fail "the watchdog was not fed: $(cat "$T/notify.log")"
ok "READY=1, STATUS ($(grep STATUS "$T/notify.log" | tail -1 | cut -c1-80)...), WATCHDOG=1 sent"

# 5. A laptop the receiver does not know yet: the receiver asks to try
# later, so the alert stays in the spool until the device is enrolled.
mk_device dev2
mk_alerts 1 ASSET-0043 dev2
newcomer=$(cat "$T/ids.ASSET-0043.dev2")
wait_for 10 'grep -q "unknown_device" "$T/uplink.log"' || fail "no attempt for the unenrolled device"
sleep 1
[ -f "$SPOOL/$newcomer.json" ] || fail "the alert of an unenrolled device left the spool"
srv_enroll ASSET-0043 "$T/dev2.pub"
wait_for 15 '[ "$(spooled)" -eq 0 ]' || fail "the alert was not delivered after the device was enrolled"
srv_stored | grep -q "$newcomer" || fail "the receiver does not hold the newly enrolled device's alert"
ok "an unenrolled device's alert waited in the spool and went out once the device was enrolled"

# 6. Refusals: an alert signed with a key that is not the device's, and a
# damaged file.  Both are kept in spool/rejected/ with the reason.
mk_device rogue
mk_alerts 1 "$DEVICE" rogue
forged=$(cat "$T/ids.$DEVICE.rogue")
printf '{"format":"hashwatch-alert/1","payload":"%s"' "$(new_id)" >"$SPOOL/damaged.json"
wait_for 10 '[ "$(spooled)" -eq 0 ]' || fail "refused files were not moved out of the spool"
[ -f "$SPOOL/rejected/$forged.json" ] || fail "the refused alert is not in spool/rejected/"
jq -e '.http_status == 403 and .error == "bad_signature" and .alert_id == "'"$forged"'"' \
	"$SPOOL/rejected/$forged.json.reason" >/dev/null || fail "reason: $(cat "$SPOOL/rejected/$forged.json.reason")"
[ -f "$SPOOL/rejected/damaged.json" ] || fail "the damaged file is not in spool/rejected/"
jq -e '.http_status == 0 and .error == "bad_envelope"' "$SPOOL/rejected/damaged.json.reason" >/dev/null ||
	fail "reason: $(cat "$SPOOL/rejected/damaged.json.reason")"
grep -q "ALERT $forged NOT DELIVERED" "$T/uplink.log" || fail "the refusal was not logged loudly"
# (the uplink may be appending to the log: read it until it parses)
wait_for 5 'jq -e -s "[.[] | select(.type == \"alert_rejected\")] | length == 2" "$AUD" >/dev/null' ||
	fail "the refusals are not in the audit log"
srv_stored | grep -q "$forged" && fail "the receiver stored a forged alert"
ok "refused alert and damaged file kept in spool/rejected/ with the reason"

# 7. Moving a rejected alert back sends it again (here: refused again, and
# kept under a second name; nothing in rejected/ is replaced).
mv "$SPOOL/rejected/$forged.json" "$SPOOL/"
wait_for 10 '[ -f "$SPOOL/rejected/$forged.json.1" ]' || fail "a moved-back alert was not tried again"
[ -f "$SPOOL/rejected/$forged.json.reason" ] || fail "the first reason was replaced"
ok "a refused alert moved back is tried again; nothing in rejected/ replaced"
uplink_stop
jq -e -s '.[-1].type == "uplink_stop"' "$AUD" >/dev/null || fail "no stop record after SIGTERM"
if [ -x "$PWD/$BUILD/hashwatch" ] && "$PWD/$BUILD/hashwatch" audit verify --help >/dev/null 2>&1; then
	"$PWD/$BUILD/hashwatch" audit verify "$AUD" >"$T/verify" 2>&1 || fail "audit verify: $(cat "$T/verify")"
	ok "the uplink's audit log verifies"
fi
