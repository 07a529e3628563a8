#!/bin/bash
# bench_receiver.sh - `make bench` for the receiver: 100 simulated laptops
# deliver 10 signed alerts each, concurrently over HTTPS on 127.0.0.1, to a
# receiver with a fresh database (WAL, synchronous=FULL); prints sustained
# alerts/s and p50/p99 latency.  Bounded: at most 120 s of sending.
. "$(dirname "$0")/../integration/receiver.lib"
BENCH=$PWD/$BUILD/bench/bench_receiver
DEVICES=${BENCH_DEVICES:-100} ALERTS=${BENCH_ALERTS:-10}
rcv_certs
mkdir -p "$T/keys"
"$BENCH" keys "$T/keys" "$DEVICES" || fail "keys"
for i in $(seq -f %04g "$DEVICES"); do
	"$RCV" enroll --db "$DB" "BENCH-$i" "$T/keys/dev-$i.pub" >/dev/null || fail "enroll $i"
done
rcv_start --threads 4
"$BENCH" send --url "$URL" --cacert "$T/ca.pem" --keys "$T/keys" --devices "$DEVICES" \
	--alerts "$ALERTS" --salt "bench-$$" --max-seconds 120 --log "$T/log"
rc=$?
echo "bench_receiver: stored $(alert_count) alerts"
exit $rc
