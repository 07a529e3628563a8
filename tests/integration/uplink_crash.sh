#!/bin/bash
# uplink_crash.sh - kill -9 of the uplink at random points while it
# delivers (20 rounds): no alert is lost, none is stored twice, at most one
# alert per kill is sent again (the one in flight when it died, which the
# receiver answers as a duplicate), nothing is set aside, and the uplink's
# audit log stays a valid chain (an unfinished last record is dropped on
# the next start).
. "$(dirname "$0")/uplink.lib"

ROUNDS=20
PER_ROUND=40
mk_certs
mk_device
srv_start
write_conf

killed_busy=0
for round in $(seq $ROUNDS); do
	mk_alerts $PER_ROUND
	before=$(spooled)
	uplink_start
	if [ $((round % 2)) -eq 1 ]; then
		# 20..320 ms after the start: anywhere from reading the
		# configuration to the middle of the batch.
		sleep "0.$(printf '%03d' $((20 + RANDOM % 300)))"
	else
		# once 1..PER_ROUND-10 of the round's alerts are delivered: by
		# progress, not by time, so that a fast receiver (group commit,
		# an idle machine: a batch of 10 took under the 50 ms a timed
		# wait polls at) and a slow one (sanitizers, a loaded machine)
		# are both killed mid-batch.  Polled without a sleep.
		k=$((1 + RANDOM % (PER_ROUND - 10)))
		end=$(($(date +%s) + 20))
		while [ "$(spooled)" -gt $((before - k)) ]; do
			[ "$(date +%s)" -lt "$end" ] || fail "round $round: $k alerts not delivered in 20 s"
		done
	fi
	kill -9 "$UPL_PID"
	wait "$UPL_PID" 2>/dev/null
	UPL_PID=
	after=$(spooled)
	[ "$after" -lt "$before" ] && [ "$after" -gt 0 ] && killed_busy=$((killed_busy + 1))
	[ "$after" -le "$before" ] || fail "round $round: the spool grew ($before -> $after)"
done
[ "$killed_busy" -ge $((ROUNDS / 4)) ] || fail "only $killed_busy of $ROUNDS kills hit a delivery in progress; the test proves little"
ok "$ROUNDS kill -9 rounds, $killed_busy of them in the middle of delivering"

"$UPL" --config "$T/uplink.conf" --once --json >"$T/out" 2>>"$T/uplink.log" || fail "final --once: $(cat "$T/out")"
[ "$(spooled)" -eq 0 ] || fail "$(spooled) alerts left after the final run"
[ ! -d "$SPOOL/rejected" ] || [ -z "$(ls "$SPOOL/rejected")" ] || fail "alerts were set aside: $(ls "$SPOOL/rejected")"
check_exactly_once
resent=$(grep -c "was a redelivery" "$T/server.log")
[ "$resent" -le "$ROUNDS" ] || fail "$resent alerts were sent twice; at most one per kill ($ROUNDS) may be"
ok "$((ROUNDS * PER_ROUND)) alerts stored exactly once by the receiver; $resent sent again after a kill"

AUD=$USTATE/uplink-audit.log
n=$(jq -r 'select(.type == "alert_delivered") | .fields.alert_id' "$AUD" | sort -u | wc -l)
# A kill between the receiver's answer and the audit record loses that
# record, and the redelivery writes it; so every alert has one.
[ "$n" -eq $((ROUNDS * PER_ROUND)) ] || fail "the audit log names $n delivered alerts, expected $((ROUNDS * PER_ROUND))"
if "$PWD/$BUILD/hashwatch" audit verify --help >/dev/null 2>&1; then
	"$PWD/$BUILD/hashwatch" audit verify "$AUD" >"$T/verify" 2>&1 || fail "audit verify: $(cat "$T/verify")"
	ok "the uplink's audit log verifies after $ROUNDS kills"
fi
