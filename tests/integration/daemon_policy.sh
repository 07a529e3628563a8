#!/bin/bash
# daemon_policy.sh - the per-category k-of-n threshold end to end: with
# min_matches.watch = 2, a first match is recorded but not alerted, a copy
# of the same file does not count as a second match, a restart keeps the
# count, and the second distinct match alerts every file held back, once.
# Also: report_path = yes puts the path into the alert, and a category
# without its own threshold alerts at once.
. "$(dirname "$0")/daemon_lib/common.sh"
setup
P=$T/home/alice/Pictures
noise "$T/a.bin"; noise "$T/b.bin"; noise "$T/c.bin"
# two categories: "watch" (k = 2) and "test" (default k = 1)
{
	echo "algorithm,hash,id,category,source"
	echo "sha256,$(sha256sum "$T/a.bin" | cut -d' ' -f1),A,watch,integration"
	echo "sha256,$(sha256sum "$T/b.bin" | cut -d' ' -f1),B,watch,integration"
	echo "sha256,$(sha256sum "$T/c.bin" | cut -d' ' -f1),C,test,integration"
} > "$T/k.csv"
"$HW" db build --list-id kofn --version 1 -o "$T/lists/k.hwdb" "$T/k.csv" >/dev/null || fail "build"
"$HW" db sign --key "$T/signer.key" "$T/lists/k.hwdb" >/dev/null || fail "sign"
write_conf
cat >> "$T/hw.conf" <<CONF
[policy]
min_matches.watch = 2
report_path = yes
CONF
start_daemon
wait_crawled 1

cp "$T/a.bin" "$P/a1.jpg"
wait_for 10 "grep -q 'category watch: 1 distinct match(es), alert threshold 2' '$T/daemon.log'" ||
	fail "first match not recorded"
cp "$T/a.bin" "$P/a2.jpg" # the same content: still one distinct match
wait_for 10 "[ \$(grep -c 'entry A ' '$T/daemon.log') -ge 2 ]" || fail "the copy was not matched"
sleep 1
[ "$(count_alerts)" -eq 0 ] || fail "alerted below the threshold"
grep -q 'category watch: 2 distinct' "$T/daemon.log" && fail "a copy counted as a distinct match"

# a category without its own threshold: at once, with the path
cp "$T/c.bin" "$P/c.jpg"
wait_for 10 "[ \$(count_alerts) -eq 1 ]" || fail "category test did not alert at once"
alerts_json | jq -e --arg p "$P/c.jpg" '.path == $p and .threshold == 1' >/dev/null ||
	fail "report_path: $(alerts_json)"

# the count survives a restart
stop_daemon
start_daemon
wait_crawled 2
sleep 1
[ "$(count_alerts)" -eq 1 ] || fail "a restart released the held-back alerts"

# the second distinct match: its alert and the two held back, once each
cp "$T/b.bin" "$P/b.jpg"
expect_alerts 4 10
alerts_json | jq -e -s 'map(select(.entry_category == "watch")) |
	length == 3 and all(.match_count == 2 and .threshold == 2)' >/dev/null ||
	fail "held-back alerts: $(alerts_json | jq -c '{entry_id, match_count, threshold}')"
for f in a1 a2 b; do
	alerts_json | jq -e -s --arg p "$P/$f.jpg" 'map(select(.path == $p)) | length == 1' >/dev/null ||
		fail "$f.jpg: not exactly one alert"
done
stop_daemon
echo "PASS: k-of-n held back 2 alerts across a restart and released them once"
