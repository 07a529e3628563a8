#!/bin/bash
# audit_cli.sh - `hashwatch audit verify|show|summary` on logs written by
# the real library (build/tests/test_auditlog --write/--loop): exit codes,
# --json output, tampering caught, rotated files read as one chain, text
# from a record never reaching the terminal raw, and kill -9 of a writer
# leaving a log that verifies.
set -u
BUILD=${BUILD:-build}
H=$BUILD/hashwatch
MK=$BUILD/tests/test_auditlog
command -v jq >/dev/null || { echo "SKIP: jq is needed to read --json output (apt-get install jq)"; exit 77; }
[ -x "$H" ] && [ -x "$MK" ] || { echo "FAIL: build $H and $MK first (make tests-build)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
# run WANT CMD...: run, keep stdout in $tmp/out, check the exit status.
run() {
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		sed 's/^/  out| /' "$tmp/out"; sed 's/^/  err| /' "$tmp/err"
		fail "exit $rc, wanted $want: $*"
	fi
}
# check FILTER WANT [FILTER WANT...]: each jq FILTER on the JSON in
# $tmp/out must print WANT (strings raw, anything else as compact JSON).
check() {
	while [ $# -ge 2 ]; do
		local got
		got=$(jq -cr "$1" "$tmp/out") || fail "--json output is not JSON"
		[ "$got" = "$2" ] || fail "$1 is '$got', wanted '$2'"
		shift 2
	done
}

Z=0000000000000000000000000000000000000000000000000000000000000000
cat >"$tmp/records" <<EOF
2024-05-01T08:00:00.000Z start {"version":"0.1.0","pid":812,"log_partial_bytes":0}
2024-05-01T08:00:00.010Z config {"path":"/etc/hashwatch/hashwatch.conf","digest":"5f1d$Z"}
2024-05-01T08:00:00.100Z list_loaded {"list_id":"district","version":41,"digest":"aa$Z","signers":["k1","k2"],"entries":120000}
2024-05-01T08:00:00.200Z crawl_start {"reason":"startup","roots":2}
2024-05-01T08:03:00.000Z crawl_done {"reason":"startup","seen":5000,"hashed":4800,"skipped":{"too_large":150}}
2024-05-01T08:10:00.000Z scan_counts {"period_s":600,"seen":5100,"hashed":4850,"cached":0,"skipped":{"too_large":150,"unsupported":100},"errors":0}
2024-05-01T08:12:00.000Z match {"alert_id":"a-1","list_id":"district","list_version":41,"entry_id":"e-7","model":"pdq","distance":12,"confirmed":true}
2024-05-01T08:12:00.050Z alert_queued {"alert_id":"a-1","matches":1,"audit_seq":7,"audit_head":"$Z"}
2024-05-01T08:12:30.000Z alert_delivered {"alert_id":"a-1","receiver":"ert.example"}
2024-05-02T09:00:00.000Z list_loaded {"list_id":"district","version":42,"digest":"bb$Z","signers":["k1","k2"],"entries":121000}
2024-05-02T09:00:01.000Z list_refused {"path":"/var/lib/hashwatch/lists/old.hwdb","reason":"version 40 is older than 42"}
2024-05-02T10:00:00.000Z scan_counts {"period_s":600,"seen":20,"hashed":18,"cached":2,"skipped":{"queue_full":2},"errors":1}
2024-05-02T10:05:00.000Z error {"where":"decoder","message":"bad \u001b[31m text"}
2024-05-02T10:06:00.000Z match {"alert_id":"a-2","list_id":"district","list_version":42,"entry_id":"e-9","model":"phash","distance":6,"confirmed":false}
2024-05-02T10:06:00.050Z alert_queued {"alert_id":"a-2","matches":1,"audit_seq":14,"audit_head":"$Z"}
2024-05-02T11:00:00.000Z heartbeat {"receiver":"ert.example","reported_seq":15,"reported_head":"$Z","ok":true}
2024-05-02T12:00:00.000Z stop {"reason":"SIGTERM","uptime_s":100000}
EOF
log=$tmp/audit.log
read -r seq head < <("$MK" --write "$log" <"$tmp/records") || fail "could not write the log"
[ "$seq" = 17 ] || fail "the writer says seq $seq, wanted 17"

echo "== verify: intact, chain head, anchors"
run 0 "$H" audit verify --log "$log"
grep -q "chain head: $head" "$tmp/out" || fail "verify does not print the chain head"
run 0 "$H" audit verify --json "$log"
check .intact true .last_seq 17 .head "$head" .problem null
run 0 "$H" audit verify --head "$(echo "$head" | tr a-f A-F)" --seq 17 "$log"
grep -q "anchor found" "$tmp/out" || fail "verify does not confirm the anchor"

echo "== show: table, filters, records passed through byte for byte"
run 0 "$H" audit show "$log"
grep -q "MATCH with list district version 41 entry e-7: pdq distance 12" "$tmp/out" ||
	fail "show lacks the match sentence"
grep -q $'\x1b' "$tmp/out" && fail "show printed a raw escape character from a record"
grep -q 'bad \\x1b\[31m text' "$tmp/out" || fail "show did not escape the control character"
run 0 "$H" audit show --type match,alert_queued --since 2024-05-02 "$log"
[ "$(grep -c '^2024' "$tmp/out")" = 2 ] || fail "--type/--since should leave 2 rows"
grep -q ' 14  match ' "$tmp/out" || fail "--since 2024-05-02 should keep the match seq 14"
run 0 "$H" audit show --json "$log"
cmp -s "$tmp/out" "$log" || fail "show --json is not the log byte for byte"
run 0 "$H" audit show --until 2024-05-01T08:05 --json "$log"
[ "$(wc -l <"$tmp/out")" = 5 ] || fail "--until 08:05 should keep 5 records"

echo "== summary: lists over the period, counts, alerts and delivery"
run 0 "$H" audit summary --json "$log"
check '.lists | length' 2 \
	'.lists[0] | "\(.version) \(.until)"' "41 2024-05-02T09:00:00.000Z" \
	'.lists[1].until' "2024-05-02T12:00:00.000Z" \
	'.matches | length' 2 \
	'[.alerts[] | [.alert_id, .status]]' '[["a-1","delivered"],["a-2","queued, not delivered"]]' \
	.alerts_not_delivered 1 \
	.files.seen 5120 \
	.files.skipped '{"too_large":150,"unsupported":100,"queue_full":2}' \
	.chain.intact true \
	.config_digests "[\"5f1d$Z\"]"
# A list loaded before the period and still in use in it is listed.
run 0 "$H" audit summary --json --since 2024-05-02 "$log"
check '[.lists[].version]' '[41,42]' \
	'"\(.files.seen) \(.matches | length) \(.alerts[0].alert_id)"' "20 1 a-2" \
	.config_digests "[\"5f1d$Z\"]"
run 0 "$H" audit summary --json --since 2024-05-03 "$log"
check '.lists | length' 0 .period.records 0
run 0 "$H" audit summary --since 2024-05-01 "$log"
grep -q "a-2: queued, not delivered" "$tmp/out" || fail "summary text lacks the undelivered alert"
grep -q "of which 1 NOT delivered" "$tmp/out" || fail "summary text lacks the count"

echo "== tampering"
t=$tmp/t.log
head -n 15 "$log" >"$t"
run 0 "$H" audit verify "$t"
run 1 "$H" audit verify --json --head "$head" "$t"
check .intact false .problem.kind anchor_missing
run 1 "$H" audit verify --seq 17 "$t"
grep -q "truncated" "$tmp/out" || fail "a truncated log is not called so"
sed 's/"distance":12/"distance":30/' "$log" >"$t"
run 1 "$H" audit verify --json "$t"
check .problem.kind prev_mismatch .problem.line 8 .last_seq 7
run 1 "$H" audit show "$t"
grep -q '^2024-05-01T08:12:00.000Z !      7  match' "$tmp/out" ||
	fail "show does not mark the altered record"
grep -q "WARNING: the chain is broken" "$tmp/err" || fail "show does not warn"
run 1 "$H" audit summary --json "$t"
check .chain.intact false .chain.problem.kind prev_mismatch
sed 4d "$log" >"$t"
run 1 "$H" audit verify --json "$t"
check .problem.kind seq_gap .problem.seq 5
# A crash in mid-write: the unfinished line is reported, not a failure.
cp "$log" "$t"
printf '{"seq":18,"time":"2024-05-02T12:0' >>"$t"
run 0 "$H" audit verify --json --head "$head" "$t"
check .partial_tail_bytes 33 .last_seq 17

echo "== rotation: --log reads the rotated files as one chain"
r=$tmp/rot/audit.log
mkdir -p "$tmp/rot"
printf -v pad '%1000s' ''
for i in $(seq 0 399); do
	printf '2024-06-01T00:%02d:%02d.000Z scan_counts {"seen":%d,"pad":"%s"}\n' \
		$((i / 60)) $((i % 60)) "$i" "${pad// /x}"
done >"$tmp/many"
read -r rseq rhead < <("$MK" --write "$r" 131072 2 <"$tmp/many") || fail "rotating writer failed"
[ -f "$r.2" ] && [ ! -f "$r.3" ] || fail "keep=2 should leave audit.log.1 and .2 only"
run 0 "$H" audit verify --json --log "$r" --head "$rhead" --seq "$rseq"
check '.files | length' 3 .last_seq "$rseq" .starts_after_rotation true
run 0 "$H" audit show --log "$r" --type rotate
[ "$(grep -c ' rotate ' "$tmp/out")" = 3 ] || fail "each file should start with a rotate record"
# A missing middle file breaks the link.
cp -a "$tmp/rot" "$tmp/rot2"
rm "$tmp/rot2/audit.log.1"
run 1 "$H" audit verify --json --log "$tmp/rot2/audit.log"
check .problem.kind seq_gap
# A rotation interrupted after its renames (keep=2: .1 became .2, audit.log
# became .1, no new audit.log yet): intact, and the writer goes on.
rm "$r.2"; mv "$r.1" "$r.2"; mv "$r" "$r.1"
run 0 "$H" audit verify --log "$r"
grep -q "itself is missing: a rotation was interrupted" "$tmp/out" ||
	fail "verify does not explain the missing current file"
read -r s2 h2 < <(echo '2024-06-02T00:00:00.000Z heartbeat {}' | "$MK" --write "$r" 131072 2)
[ "$s2" = $((rseq + 2)) ] || fail "after the interrupted rotation: seq $s2, wanted a rotate record and seq $((rseq + 2))"
run 0 "$H" audit verify --json --log "$r" --head "$h2" --seq "$s2"
check '.files | length' 3

echo "== usage errors"
run 2 "$H" audit verify --log "$tmp/nonexistent.log"
grep -q "No such file" "$tmp/err" || fail "a missing log is not explained"
run 2 "$H" audit bogus
run 2 "$H" audit show --since yesterday-ish "$log"
run 2 "$H" audit verify --head 1234 "$log"
run 2 "$H" audit summary --type match "$log"
run 0 "$H" audit --help
run 0 "$H" audit verify --help

echo "== kill -9 of a writer, 10 times: every complete record verifies"
k=$tmp/kill/audit.log
mkdir -p "$tmp/kill"
last=0
for i in $(seq 1 10); do
	"$MK" --loop "$k" &
	pid=$!
	for _ in $(seq 200); do [ -e "$k" ] && break; sleep 0.01; done
	sleep "0.0$((RANDOM % 9 + 1))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	run 0 "$H" audit verify --json --log "$k"
	n=$(sed -n 's/.*"last_seq":\([0-9]*\).*/\1/p' "$tmp/out")
	[ "$n" -ge "$last" ] || fail "round $i: the log went back from seq $last to $n"
	last=$n
done
[ "$last" -gt 0 ] || fail "the writer never wrote"
echo "ok: $last records after 10 kills"
