#!/bin/bash
# daemon_journal.sh - what hashwatchd sends to the journal when systemd
# connected its stderr there (JOURNAL_STREAM): native entries with
# MESSAGE_ID, PRIORITY and SYSLOG_IDENTIFIER; HASHWATCH_PATH for the match
# (and an error) but for no file that was only checked; the alert id as a
# field.  journald is replaced by a listener on its socket path inside a
# private mount namespace.
. "$(dirname "$0")/daemon_lib/common.sh"
unshare -m true 2>/dev/null || skip "cannot make a mount namespace here"
setup
P=$T/home/alice/Pictures
noise "$T/listed.bin"
make_list j 1 "$T/listed.bin"
write_conf
for i in 1 2 3; do noise "$P/plain$i.jpg"; done
mkfifo "$T/go"

start_daemon_journal "$T/stderr.log"
wait_for 30 "grep -q 'crawl (startup) done' '$T/journal.jsonl'" || fail "no crawl message in the journal"
cp "$T/listed.bin" "$P/match.jpg"
wait_for 10 "[ \$(count_alerts) -eq 1 ]" || fail "no alert"
wait_for 5 "grep -q '\"MESSAGE_ID\": \"57e041536d1e4e1f9f5660f72c398b93\"' '$T/journal.jsonl'" ||
	fail "no alert_queued entry"
stop_daemon

J=$T/journal.jsonl
[ -s "$J" ] || fail "nothing reached the journal socket"
[ -s "$T/stderr.log" ] && fail "messages went to stderr although the journal was there: $(head -3 "$T/stderr.log")"
jq -e -s 'all(.SYSLOG_IDENTIFIER == "hashwatchd" and (.PRIORITY | test("^[0-7]$")) and (.MESSAGE | length > 0))' \
	"$J" >/dev/null || fail "an entry lacks SYSLOG_IDENTIFIER, PRIORITY or MESSAGE"
jq -e -s --arg p "$P/match.jpg" 'map(select(.MESSAGE_ID == "761062aae9684e479b702eafb1a2695a")) |
	length == 1 and .[0].HASHWATCH_PATH == $p and .[0].HASHWATCH_LIST_ID == "j" and
	.[0].HASHWATCH_MODEL == "sha256"' "$J" >/dev/null || fail "match entry: $(grep 761062 "$J")"
id=$(alerts_json | jq -r .alert_id)
jq -e -s --arg id "$id" 'any(.MESSAGE_ID == "57e041536d1e4e1f9f5660f72c398b93" and .HASHWATCH_ALERT_ID == $id)' \
	"$J" >/dev/null || fail "alert entry without HASHWATCH_ALERT_ID $id"
for m in 6975354515374c70836959dc905735a0 127ba7dc892047a69fa0a3b50bf2f0d4 eb6d2b826f16477595aefca66fc90504 e03f76d6dc49400e9b9e902c0fd167bb; do
	jq -e -s --arg m "$m" 'any(.MESSAGE_ID == $m)' "$J" >/dev/null || fail "no entry with MESSAGE_ID $m"
done
# no path of a file that was only checked, in any field
for i in 1 2 3; do
	grep -q "plain$i.jpg" "$J" && fail "plain$i.jpg (not matched) is named in the journal"
done
echo "PASS: $(wc -l < "$J") structured journal entries, paths only for the match"
