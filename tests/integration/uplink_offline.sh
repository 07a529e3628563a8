#!/bin/bash
# uplink_offline.sh - a laptop offline for a while: with the receiver down,
# 200 alerts pile up in the spool while the uplink keeps failing, backing
# off and is restarted twice; nothing is lost or set aside.  When the
# receiver is back, all 200 are delivered, each stored exactly once, the
# spool ends empty, and the uplink's audit log records each delivery once.
. "$(dirname "$0")/uplink.lib"

mk_certs
mk_device
srv_start          # once, to learn a free port for the url
srv_stop
write_conf

uplink_start
mk_alerts 120
wait_for 10 'grep -q "cannot connect to the receiver" "$T/uplink.log"' ||
	fail "the uplink did not report the receiver as unreachable"
uplink_stop
uplink_start       # restart 1, still offline
mk_alerts 80
sleep 1
uplink_stop
uplink_start       # restart 2, still offline
wait_for 10 '[ "$(grep -c "cannot connect to the receiver" "$T/uplink.log")" -ge 3 ]' ||
	fail "the restarted uplink did not try again"
[ "$(spooled)" -eq 200 ] || fail "$(spooled) alerts in the spool while offline, expected 200"
[ ! -d "$SPOOL/rejected" ] || [ -z "$(ls "$SPOOL/rejected")" ] || fail "alerts were set aside while offline"
tries=$(grep -c "cannot connect to the receiver" "$T/uplink.log")
ok "offline: 200 alerts kept through 2 restarts ($tries failed attempts, backing off)"

srv_start
start=$(date +%s%N)
wait_for 60 '[ "$(spooled)" -eq 0 ]' || fail "$(spooled) alerts still spooled 60 s after the receiver came back"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
uplink_stop
check_exactly_once
n=$(jq -r 'select(.type == "alert_delivered") | .fields.alert_id' "$USTATE/uplink-audit.log" | sort -u | wc -l)
[ "$n" -eq 200 ] || fail "the audit log records $n delivered alerts, expected 200"
jq -e -s '[.[] | select(.type == "error")] | length >= 1' "$USTATE/uplink-audit.log" >/dev/null ||
	fail "the run of failures is not in the audit log"
ok "receiver back: 200 alerts stored exactly once by the receiver in $ms ms (incl. back-off wait)"
