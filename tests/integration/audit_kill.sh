#!/bin/bash
# audit_kill.sh - kill -9 of the real hashwatchd, 50 times, at random
# moments while it starts, crawls, hashes and appends: before each start a
# few images are planted (some listed); one kill in four comes at a random
# moment of the start-up, the others 0-0.3 s after READY=1.  After each
# kill `hashwatch audit verify` must pass on the log as the kill left it,
# and no broken log may have been set aside.  kill -9 cannot cut a
# write() in half, a power cut can: every fifth time the test adds the
# torn start of a next record, which verify must report as a partial
# tail (not a broken chain) and the next start must drop.  A last clean
# run then checks that no alert was lost or duplicated across the
# restarts: every planted listed image has exactly one alert in the
# spool, every alert has its match and alert_queued records (same id, seq
# and head as the alert carries), nothing in the log was "matched, never
# queued", and `hashwatch audit summary` lists exactly the spool's alerts.
. "$(dirname "$0")/daemon_lib/common.sh"
MKIMAGES=$PWD/$BUILD/tests/tools/mkimages
[ -x "$MKIMAGES" ] || fail "$MKIMAGES not built (make tests-build)"
command -v jq >/dev/null || skip "jq is not installed (make deps)"
setup
KILLS=${AUDIT_KILLS:-50}
ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
P=$T/home/alice/Pictures
t0=$(ms)

# A pool: 60 listed images (each planted at most once, so each must give
# exactly one alert) and 300 unlisted ones; listed by PDQ and SHA-256, so
# workers decode and hash every image.
mkdir -p "$T/pool/listed" "$T/pool/plain"
"$MKIMAGES" "$T/pool/listed" 60 11 l 128 > "$T/listed.txt" || fail "mkimages"
"$MKIMAGES" "$T/pool/plain" 300 12 p 128 > "$T/plain.txt" || fail "mkimages"
{
	echo "algorithm,hash,id,category,source"
	"$HW" hash -q -j -m pdq,sha256 "$T/pool/listed" |
		jq -r '(.path | sub(".*/"; "")) as $n | "pdq,\(.pdq),E-\($n),test,kill", "sha256,\(.sha256),E-\($n),test,kill"'
} > "$T/list.csv"
"$HW" db build --list-id kill --version 1 -o "$T/lists/kill.hwdb" "$T/list.csv" >/dev/null || fail "db build"
"$HW" db sign --key "$T/signer.key" "$T/lists/kill.hwdb" >/dev/null || fail "db sign"
write_conf

mapfile -t LISTED < "$T/listed.txt"
mapfile -t PLAIN < "$T/plain.txt"
kill_ms=0 sleep_ms=0 nl=0 np=0 nolog=0 partial=0 torn=0 verified=0 killed_ready=0 planted_listed=()
# plant K N: copy N pool images into a new folder of the watched tree
# (one cp), about one in five a listed one while any is left.  The loop
# uses shell builtins wherever it can: on a busy machine every process
# started costs a tenth of a second.
plant() {
	local dir=$P/batch$1 i src=()
	for ((i = 0; i < $2; i++)); do
		if ((RANDOM % 5 == 0 && nl < ${#LISTED[@]})); then
			src+=("${LISTED[nl]}"); planted_listed+=("${LISTED[nl]}"); ((nl++))
		else
			src+=("${PLAIN[np % ${#PLAIN[@]}]}"); ((np++))
		fi
	done
	mkdir "$dir" && cp "${src[@]}" "$dir/" || fail "cannot plant files in $dir"
}

for ((k = 1; k <= KILLS; k++)); do
	: > "$T/notify.log"
	NOTIFY_SOCKET=$T/notify.sock "$HWD" --config "$T/hw.conf" --foreground >> "$T/daemon.log" 2>&1 &
	DPID=$!
	if [ -z "$NPID" ]; then
		python3 "$LIB/notify_listen.py" "$T/notify.sock" "$T/notify.log" &
		NPID=$!
	fi
	plant "$k" $((2 + RANDOM % 6))
	# One kill in four at a random moment of the start-up; the others a
	# random moment (0-0.3 s) after READY=1, while it crawls and hashes.
	ta=${EPOCHREALTIME/./}
	if ((RANDOM % 4)); then
		for ((w = 0; w < 300; w++)); do
			mapfile -t msgs < "$T/notify.log"
			[[ " ${msgs[*]} " == *" READY=1"* ]] && break
			sleep 0.02
		done
	fi
	printf -v nap '0.%03d' $((RANDOM % 300))
	sleep "$nap"
	mapfile -t msgs < "$T/notify.log"
	[[ " ${msgs[*]} " == *" READY=1"* ]] && ((killed_ready++))
	tb=${EPOCHREALTIME/./}
	kill -KILL "$DPID" 2>/dev/null || fail "kill $k: hashwatchd had exited by itself"
	wait "$DPID" 2>/dev/null
	DPID=
	tc=${EPOCHREALTIME/./}
	((kill_ms += (tc - tb) / 1000, sleep_ms += (tb - ta) / 1000))
	if [ ! -f "$T/state/audit.log" ]; then
		nolog=$((nolog + 1)) # killed before it opened the log
		continue
	fi
	# every fifth time, the torn start of a next record, as a power cut
	# would leave it (the next start must drop it)
	# (not on a torn line left by a run killed before it opened the log)
	if ((k % 5 == 0)) && [ -z "$(tail -c 1 "$T/state/audit.log")" ]; then
		last=$(tail -n 1 "$T/state/audit.log" | jq -r .seq)
		printf '{"seq":%d,"time":"20' $((last + 1)) >> "$T/state/audit.log"
		((torn++))
	fi
	# verify this very state, in the background (the CLI's start-up is
	# most of its time on a busy machine) while the next run goes on
	cp "$T/state/audit.log" "$T/snap.$k"
	compgen -G "$T/state/audit.log.broken-*" >/dev/null &&
		fail "kill $k: a broken log was set aside: $(ls "$T"/state/audit.log.broken-*)"
	{ "$HW" audit verify --json "$T/snap.$k" > "$T/verify.$k"; echo $? > "$T/rc.$k"; } &
done
wait_for 30 "[ \$(ls '$T'/rc.* 2>/dev/null | wc -l) -eq \$(ls '$T'/snap.* | wc -l) ]" ||
	fail "the verifications did not finish"
for rc in "$T"/rc.*; do
	k=${rc##*.}
	[ "$(cat "$rc")" -eq 0 ] || fail "after kill $k: audit verify failed: $(cat "$T/verify.$k")"
	jq -e '.partial_tail_bytes // 0 | . > 0' "$T/verify.$k" >/dev/null && partial=$((partial + 1))
	verified=$((verified + 1))
done
# a run killed before it opened the log leaves a torn line for the next
# snapshot too: at least every torn line is reported
[ "$partial" -ge "$torn" ] || fail "verify reported $partial cut last lines, $torn were made"
loop_ms=$(($(ms) - t0))

# The last run, undisturbed: everything planted is checked.
start_daemon
total=$(find "$P" -type f | wc -l)
wait_for 60 "tail -1 '$T/notify.log' | grep -q 'queued=0 ' && [ \$(count_alerts) -ge ${#planted_listed[@]} ]" ||
	fail "after the kills: $(count_alerts) of ${#planted_listed[@]} alerts; $(tail -1 "$T/notify.log")"
sleep 1
stop_daemon

"$HW" audit verify --json --log "$T/state/audit.log" > "$T/verify.json" || fail "final verify: $(cat "$T/verify.json")"
"$HW" audit show --json --log "$T/state/audit.log" > "$T/audit.jsonl" || fail "audit show"
starts=$(jq -s 'map(select(.type == "start")) | length' "$T/audit.jsonl")
# a kill can come before the start record (not before the log exists,
# after the first kills): at most one start record per run
[ "$starts" -le $((KILLS + 1)) ] && [ "$starts" -ge $((KILLS / 2)) ] ||
	fail "$starts start records for $((KILLS + 1)) runs"
dropped=$(jq -s 'map(select(.type == "start" and .fields.log_partial_bytes > 0)) | length' "$T/audit.jsonl")
# each torn line is dropped by the next run that opens the log; a run
# killed after the drop but before its start record leaves no trace of it
[ "$dropped" -ge 1 ] && [ "$dropped" -le "$torn" ] || fail "$dropped start records report a dropped line; $torn were made"

# Alerts: one per planted listed image and none for anything else; each
# with its match record (at the seq the alert carries) and at least one
# alert_queued record with its head (a kill between that record and the
# match state line repeats the record, for the same alert id); the audit
# summary lists exactly the spool's alerts, all queued (no uplink here),
# none "matched, never queued".  One python3 for all of it: a process per
# check costs most of a minute on a busy machine.
printf '%s\n' "${planted_listed[@]}" > "$T/planted.txt"
"$HW" audit summary --json --log "$T/state/audit.log" > "$T/summary.json" || fail "audit summary"
python3 - "$T" > "$T/requeued" <<'PY' || fail "alerts and audit records disagree (above)"
import base64, glob, hashlib, json, sys
T = sys.argv[1]
bad = []
alerts = [json.loads(base64.b64decode(json.load(open(f))["payload"]))
          for f in glob.glob(f"{T}/state/spool/*.json")]
recs = [json.loads(l) for l in open(f"{T}/audit.jsonl")]
planted = [l.strip() for l in open(f"{T}/planted.txt") if l.strip()]
by_sha = {}
for a in alerts:
    by_sha.setdefault(a["file_sha256"], []).append(a)
for p in planted:
    n = len(by_sha.pop(hashlib.sha256(open(p, "rb").read()).hexdigest(), []))
    if n != 1:
        bad.append(f"{p}: {n} alerts, expected 1")
for sha, extra in by_sha.items():
    bad.append(f"{len(extra)} alert(s) for a file that was not planted listed: {sha}")
requeued = 0
for a in alerts:
    i = a["alert_id"]
    if not any(r["type"] == "match" and r["fields"].get("alert_id") == i and
               r["seq"] == a["audit_seq"] for r in recs):
        bad.append(f"alert {i}: no match record at seq {a['audit_seq']}")
    q = [r for r in recs if r["type"] == "alert_queued" and r["fields"].get("alert_id") == i
         and r["fields"].get("audit_head") == a["audit_head"]]
    if not q:
        bad.append(f"alert {i}: no alert_queued record with its head")
    requeued += len(q) > 1
summary = json.load(open(f"{T}/summary.json"))["alerts"]
if sorted(x["alert_id"] for x in summary) != sorted(a["alert_id"] for a in alerts):
    bad.append("the audit summary's alerts are not the spool's")
for x in summary:
    if x["status"] != "queued, not delivered":
        bad.append(f"summary: alert {x['alert_id']} is '{x['status']}'")
for b in bad[:20]:
    print(b, file=sys.stderr)
print(requeued)
sys.exit(1 if bad else 0)
PY
requeued=$(cat "$T/requeued")
total_ms=$(($(ms) - t0))
echo "PASS: $KILLS kill -9 ($killed_ready after READY, $nolog before the log existed), verify passed after each of $verified ($partial with a cut last line reported; $dropped dropped by the next start); $starts start records; $total files planted, ${#planted_listed[@]} listed -> ${#planted_listed[@]} alerts, none lost or doubled ($requeued alert(s) with a repeated alert_queued record); $(jq -s length "$T/audit.jsonl") records; loop ${loop_ms} ms (waiting to kill ${sleep_ms} ms, waiting for the killed daemon to end ${kill_ms} ms), total ${total_ms} ms"
