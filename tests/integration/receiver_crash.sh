#!/bin/bash
# receiver_crash.sh - kill -9 of the receiver during bursts of deliveries
# from simulated laptops (tests/bench/bench_receiver), three rounds: after
# each restart every alert that was acknowledged with a 2xx is stored and
# the database passes SQLite's integrity check; the senders then redeliver
# everything (as the uplink does for what it did not get a 2xx for) and in
# the end every alert is stored exactly once.
. "$(dirname "$0")/receiver.lib"

BENCH=$PWD/$BUILD/bench/bench_receiver
[ -x "$BENCH" ] || fail "$BENCH not built (make tests-build)"
DEVICES=4 ALERTS=${RECEIVER_CRASH_ALERTS:-150}
N=$((DEVICES * ALERTS))
rcv_certs
mkdir -p "$T/keys"
"$BENCH" keys "$T/keys" $DEVICES || fail "keys"
for i in $(seq -f %04g $DEVICES); do
	"$RCV" enroll --db "$DB" "BENCH-$i" "$T/keys/dev-$i.pub" >/dev/null || fail "enroll"
done
send() { "$BENCH" send --url "$URL" --cacert "$T/ca.pem" --keys "$T/keys" --devices $DEVICES \
	--alerts "$ALERTS" --salt "crash-$$" --max-seconds 60 --log "$T/results" 2>>"$T/bench.log"; }
acked() { awk '$2 ~ /^20[01]$/ {print $1}' "$T/results" | sort -u; }

for round in 1 2 3; do
	rcv_start
	: >"$T/results"
	send &
	sender=$!
	# Kill after a random number (1..60) of new alerts of this round were
	# acknowledged: by progress, not by time (with group commit the
	# receiver stores a whole burst within one sleep), and few enough that
	# every round still has new alerts to take (the first answers of a
	# round are redeliveries of what is already stored).
	want=$((1 + RANDOM % 60))
	for _ in $(seq 2000); do
		[ "$(grep -c ' 201$' "$T/results")" -ge "$want" ] && break
		kill -0 "$sender" 2>/dev/null || break
		sleep 0.005
	done
	kill -9 "$RCV_PID"; wait "$RCV_PID" 2>/dev/null; RCV_PID=
	wait "$sender"
	python3 -c "import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0]; sys.exit(r != 'ok')" "$DB" ||
		fail "round $round: integrity check failed"
	"$RCV" alerts --db "$DB" --json | jq -r .alert_id | sort >"$T/stored"
	missing=$(acked | comm -23 - "$T/stored")
	[ -z "$missing" ] || fail "round $round: acknowledged but not stored: $missing"
	new=$(awk '$2 == 201' "$T/results" | wc -l)
	echo "ok: round $round: killed after $new new alerts were acknowledged ($(wc -l <"$T/stored") of $N stored); none lost"
	[ "$new" -gt 0 ] || fail "round $round: the kill came before any delivery"
done

rcv_start
: >"$T/results"
send || fail "redelivery: $(tail -1 "$T/bench.log")"
[ "$(awk '$2 != 200 && $2 != 201' "$T/results" | wc -l)" = 0 ] || fail "some redeliveries were refused"
[ "$(alert_count)" = "$N" ] || fail "stored $(alert_count) alerts, expected exactly $N"
[ "$("$RCV" alerts --db "$DB" --json | jq -r .alert_id | sort -u | wc -l)" = "$N" ] || fail "duplicates"
echo "ok: after redelivery all $N alerts are stored exactly once ($(awk '$2 == 200' "$T/results" | wc -l) were duplicates)"
echo PASS
