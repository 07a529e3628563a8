#!/bin/bash
# audit_delivered.sh - the delivered status in the scanner's own audit log,
# end to end over real TLS on 127.0.0.1: the real hashwatchd, uplink and
# receiver on one shared hashwatch.conf.  While the receiver is down the
# scanner's `hashwatch audit summary` shows the alerts queued, not
# delivered; once it is up, the uplink's receipts (spool/receipts/) become
# alert_delivered records (receiver, HTTP status, outcome) and heartbeat
# records in the scanner's log, the receipts are gone, and the summary
# shows every alert delivered.  A receipt written while the scanner is
# stopped is recorded when it starts; a file in receipts/ that is not a
# receipt is recorded as an error and removed; the log verifies
# throughout, and the heartbeat's chain head verifies against it.
. "$(dirname "$0")/uplink.lib"

[ -x "$HW" ] && [ -x "$HWD" ] || fail "$HW or $HWD not built"
HWD_PID=
trap '[ -n "$HWD_PID" ] && kill -9 "$HWD_PID" 2>/dev/null; cleanup' EXIT
RECEIPTS=$SPOOL/receipts

mk_certs
srv_start --standin # only to learn a free port; the real receiver follows
srv_stop

# A signed list of four files' SHA-256 digests; one configuration file
# for the scanner and the uplink.
for i in 1 2 3 4; do head -c 3000 /dev/urandom >"$T/listed$i.bin"; done
chain_list delivered 1 "$T"/listed?.bin
chain_conf

hwd_start() {
	"$HWD" --config "$T/uplink.conf" --foreground >>"$T/daemon.log" 2>&1 &
	HWD_PID=$!
	wait_for 30 '[ -s "$STATE/device.pub" ] && [ -d "$RECEIPTS" ] && [ -f "$SPOOL/heartbeat" ]' ||
		fail "hashwatchd did not start: $(tail -5 "$T/daemon.log")"
}
hwd_stop() {
	local rc=0
	kill "$HWD_PID"; wait "$HWD_PID" 2>/dev/null || rc=$?; HWD_PID=
	[ "$rc" -eq 0 ] || fail "hashwatchd exited with status $rc on SIGTERM: $(tail -5 "$T/daemon.log")"
}
summary() { "$HW" audit summary --json "$STATE/audit.log"; }
audit_json() { "$HW" audit show --json "$STATE/audit.log"; }
verify() { "$HW" audit verify "$STATE/audit.log" >/dev/null || fail "the scanner's audit log does not verify"; }
receipts_left() { find "$RECEIPTS" -type f | wc -l; }

hwd_start
[ "$(stat -c %a "$RECEIPTS")" = 770 ] || fail "receipts/ has mode $(stat -c %a "$RECEIPTS"), expected 770"
ok "hashwatchd made $RECEIPTS (mode 770) and watches it"

# Receiver down: two alerts queued, the uplink keeps them.
uplink_start
cp "$T/listed1.bin" "$T/home/alice/Pictures/one.jpg"
cp "$T/listed2.bin" "$T/home/alice/Pictures/two.jpg"
wait_for 20 '[ "$(spooled)" -eq 2 ]' || fail "expected 2 alerts in the spool, have $(spooled)"
wait_for 10 'grep -q "not delivered" "$T/uplink.log"' || fail "the uplink did not try the unreachable receiver"
summary >"$T/sum1"
jq -e '.alerts_not_delivered == 2 and (.alerts | length) == 2 and
	all(.alerts[]; .status == "queued, not delivered" and .delivered == null)' "$T/sum1" >/dev/null ||
	fail "with the receiver down: $(jq -c '{alerts, alerts_not_delivered}' "$T/sum1")"
[ "$(receipts_left)" -eq 0 ] || fail "a receipt without a delivery"
ok "receiver down: the scanner's summary shows 2 alerts queued, not delivered"

# Receiver up: both delivered; the receipts become records and are gone.
cp "$STATE/device.pub" "$T/dev.pub"
srv_start
wait_for 30 '[ "$(srv_stored | wc -l)" -eq 2 ]' || fail "the receiver holds $(srv_stored | wc -l) alerts, expected 2"
wait_for 10 '[ "$(summary | jq .alerts_not_delivered)" -eq 0 ]' ||
	fail "the scanner's summary after delivery: $(summary | jq -c '{alerts, alerts_not_delivered}')"
wait_for 10 '[ "$(receipts_left)" -eq 0 ]' || fail "receipts left: $(ls "$RECEIPTS")"
summary >"$T/sum2"
srv_stored | sort >"$T/stored"
jq -r '.alerts[] | select(.status == "delivered") | .alert_id' "$T/sum2" | sort >"$T/delivered"
cmp -s "$T/stored" "$T/delivered" || fail "delivered in the scanner's log: $(cat "$T/delivered"); stored: $(cat "$T/stored")"
audit_json >"$T/audit.jsonl"
jq -e -s --arg rcv "127.0.0.1:$PORT" '
	. as $all | [.[] | select(.type == "alert_delivered")] as $d |
	($d | length) == 2 and
	all($d[]; .fields.receiver == $rcv and .fields.http_status == 201 and
		.fields.outcome == "stored" and (.fields.delivered_at | test("Z$"))) and
	all($d[]; . as $x | any($all[]; .type == "alert_queued" and
		.fields.alert_id == $x.fields.alert_id and .seq < $x.seq))' "$T/audit.jsonl" >/dev/null ||
	fail "alert_delivered records: $(grep alert_delivered "$T/audit.jsonl")"
verify
ok "receiver up: 2 stored, 2 alert_delivered records (receiver, 201, stored) after their alert_queued, no receipt left"

# A third alert while everything runs.
cp "$T/listed3.bin" "$T/home/alice/Pictures/three.jpg"
wait_for 30 '[ "$(summary | jq "[.alerts[] | select(.status == \"delivered\")] | length")" -eq 3 ]' ||
	fail "the third alert is not delivered in the scanner's log: $(summary | jq -c .alerts)"
ok "a third alert: queued, delivered and recorded within seconds"

# Heartbeats: the uplink's receipt becomes a heartbeat record whose
# reported head verifies against the log.
wait_for 20 'audit_json | jq -e -s "any(.type == \"heartbeat\" and .fields.ok)" >/dev/null' ||
	fail "no heartbeat record in the scanner's log"
audit_json | jq -c -s 'map(select(.type == "heartbeat")) | last' >"$T/hb"
"$HW" audit verify --seq "$(jq -r .fields.reported_seq "$T/hb")" --head "$(jq -r .fields.reported_head "$T/hb")" \
	"$STATE/audit.log" >/dev/null || fail "the heartbeat's reported head does not verify: $(cat "$T/hb")"
ok "heartbeat record: the receiver took seq $(jq -r .fields.reported_seq "$T/hb"), which verifies against the log"

# A delivery while the scanner is stopped: the receipt waits in receipts/
# and is recorded when the scanner starts.  (The scanner is stopped after
# it has queued the alert: the uplink delivers it alone.)
srv_stop
cp "$T/listed4.bin" "$T/home/alice/Pictures/four.jpg"
wait_for 20 '[ "$(spooled)" -eq 1 ]' || fail "the fourth alert was not queued"
hwd_stop
srv_start
wait_for 30 '[ "$(srv_stored | wc -l)" -eq 4 ]' || fail "the fourth alert was not delivered"
wait_for 10 '[ "$(find "$RECEIPTS" -name "*.json" | wc -l)" -eq 1 ]' || fail "no receipt while the scanner is stopped"
summary | jq -e '.alerts_not_delivered == 1' >/dev/null || fail "the stopped scanner's log should show one alert not delivered"
# and something in receipts/ that is not a receipt
printf 'not a receipt' >"$RECEIPTS/bogus.json"
hwd_start
wait_for 10 '[ "$(receipts_left)" -eq 0 ]' || fail "receipts left after the start: $(ls "$RECEIPTS")"
summary >"$T/sum3"
jq -e '.alerts_not_delivered == 0 and ([.alerts[] | select(.status == "delivered")] | length) == 4' "$T/sum3" >/dev/null ||
	fail "after the restart: $(jq -c '{alerts, alerts_not_delivered}' "$T/sum3")"
# the summary's delivery time is the receiver's answer (delivered_at), not
# when the scanner got round to recording it: for the alert delivered while
# the scanner was stopped the two are seconds apart
audit_json >"$T/audit.jsonl"
jq -e -s --slurpfile sum "$T/sum3" '
	[.[] | select(.type == "alert_delivered")] | group_by(.fields.alert_id) | map(.[0]) as $d |
	($d | length) == 4 and
	all($d[]; . as $r | any($sum[0].alerts[]; .alert_id == $r.fields.alert_id and
		.delivered == $r.fields.delivered_at)) and
	any($d[]; .fields.delivered_at < .time)' "$T/audit.jsonl" >/dev/null ||
	fail "summary delivery times: $(jq -c '[.alerts[] | {alert_id, delivered}]' "$T/sum3")"
audit_json | jq -e -s 'any(.type == "error" and .fields.where == "receipts" and
	(.fields.message | test("bogus.json")))' >/dev/null || fail "no error record for the bogus receipt"
grep -q "bogus.json is not a receipt" "$T/daemon.log" || fail "the bogus receipt is not in the daemon's log"
uplink_stop
hwd_stop
verify
! grep -E "Sanitizer|runtime error" "$T/daemon.log" "$T/uplink.log" || fail "sanitizer reports above"
"$HW" audit summary "$STATE/audit.log" >"$T/sum.txt" || fail "audit summary (text)"
grep -q "Alerts: 4, of which 0 NOT delivered" "$T/sum.txt" || fail "text summary: $(grep -i alerts "$T/sum.txt")"
ok "a receipt written while the scanner was stopped is recorded at its start, with the delivery time the uplink saw; a bogus one is an error record; 4 of 4 delivered"
echo "PASS: delivered status end to end: 4 alerts, 4 alert_delivered records, heartbeat head verified"
