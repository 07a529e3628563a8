#!/bin/bash
# daemon_basic.sh - hashwatchd end to end with real inotify and a real
# notification socket: READY=1 and STATUS=; listed files planted in every
# way a student's files arrive (copied, moved in, written slowly, in a
# folder created a moment before, in a fresh tree of folders made by one
# mkdir -p, in a folder tree moved in, hard-linked) each give exactly one
# signed alert; unlisted files give none; renaming, touching and moving an
# alerted file or its folder inside the tree gives no second alert; a
# restart gives no duplicate; a new list version on SIGHUP finds a listed
# file that was already there; files planted while a reload runs are not
# lost.  Lists are exact SHA-256 digests, so this test needs only the list
# tools, not the image decoder.
. "$(dirname "$0")/daemon_lib/common.sh"
setup

P=$T/home/alice/Pictures
n=0; for i in 1 2 3 4 5 6 7 8 9 A B; do n=$((n + 1)); noise "$T/listed$i.bin" $((3000 + n)); done
noise "$T/later.bin"
make_list district 1 "$T"/listed?.bin
write_conf

# --help, --check-config
"$HWD" --help | grep -q -- '--check-config' || fail "--help does not list --check-config"
"$HWD" --config "$T/hw.conf" --check-config > "$T/check.out" || fail "--check-config: $(cat "$T/check.out")"
grep -q "usable" "$T/check.out" || fail "--check-config does not report the list"
"$HWD" --config "$T/hw.conf" --check-config --json | jq -e '.valid and (.lists[0].usable)' >/dev/null ||
	fail "--check-config --json"

# a file that is already there before the start is found by the crawl
cp "$T/listed1.bin" "$P/already.jpg"
noise "$P/unlisted0.jpg"
start_daemon
grep -q '^READY=1.*STATUS=watching: queued=' "$T/notify.log" || fail "READY=1 without STATUS"
wait_crawled 1
wait_for 10 "[ \$(count_alerts) -ge 1 ]" || fail "file present at start not alerted"

# copied in
cp "$T/listed2.bin" "$P/copied.jpg"
# moved in from outside the watched tree
cp "$T/listed3.bin" "$T/outside/moved.jpg"; mv "$T/outside/moved.jpg" "$P/"
# written slowly: four pieces, longer apart than settle_ms
( for off in 0 1000 2000 3000; do
	dd if="$T/listed4.bin" bs=1000 skip=$((off / 1000)) count=1 2>/dev/null; sleep 0.3
  done ) > "$P/slow.jpg"
# inside a folder created a moment earlier
mkdir "$P/new" && cp "$T/listed5.bin" "$P/new/fast.jpg"
# three levels of folders made at once, the file at the bottom at once
mkdir -p "$P/n1/n2/n3" && cp "$T/listedA.bin" "$P/n1/n2/n3/deeper.jpg"
# inside a folder tree moved in
mkdir -p "$T/outside/tree/a/b" && cp "$T/listed6.bin" "$T/outside/tree/a/b/deep.jpg" &&
	cp "$T/listed7.bin" "$T/outside/tree/top.jpg" && mv "$T/outside/tree" "$P/tree"
# hard link (no close-after-write event at all)
cp "$T/listed8.bin" "$T/outside/h.bin"; ln "$T/outside/h.bin" "$P/linked.jpg"
# unlisted files, including in new folders
noise "$P/unlisted1.jpg"; mkdir "$P/new2"; noise "$P/new2/unlisted2.jpg"
# a symlink to a listed file and a FIFO: never followed, never opened
ln -s "$T/listed1.bin" "$P/symlink.jpg"; mkfifo "$P/fifo.jpg"

expect_alerts 9 20
for i in 2 3 4 5 6 7 8 A; do
	[ "$(alerts_for "$T/listed$i.bin")" -eq 1 ] || fail "listed$i: $(alerts_for "$T/listed$i.bin") alerts, expected 1"
done
[ "$(alerts_for "$T/listed1.bin")" -eq 1 ] || fail "listed1 (present at start, and symlinked): $(alerts_for "$T/listed1.bin") alerts"

# the same files renamed, touched, moved to another folder, their folder
# renamed: each is hashed again (new name, new mtime) but the same file and
# entry never alert twice
mv "$P/copied.jpg" "$P/copied-renamed.jpg"
touch "$P/slow.jpg"
mv "$P/moved.jpg" "$P/n1/moved-here.jpg"
mv "$P/new" "$P/new-renamed"
sleep 2
[ "$(count_alerts)" -eq 9 ] || fail "renaming or touching alerted files gave $(count_alerts) alerts, expected 9"

# a new account: its Pictures folder is found (the glob is expanded again
# from the events at /home and /home/bob) and watched
mkdir -p "$T/home/bob/Pictures"
sleep 0.5
cp "$T/listed9.bin" "$T/home/bob/Pictures/new-account.jpg"
expect_alerts 10 20

# every alert verifies with the device key; fields are right
for f in "$T"/state/spool/*.json; do
	verify_alert "$f" || fail "signature of $f does not verify"
done
alerts_json | jq -e -s 'all(.device_id == "TEST-0001" and .list_id == "district" and
	.list_version == 1 and .model == "sha256" and .confirmed == false and
	(.alert_id | test("^[0-9a-f]{32}$")) and (has("path") | not))' >/dev/null ||
	fail "alert fields: $(alerts_json | head -1)"
# a tampered payload does not verify
f=$(ls "$T"/state/spool/*.json | head -1)
jq '.payload |= (@base64d | sub("TEST-0001"; "TEST-0002") | @base64)' "$f" > "$T/tampered.json"
verify_alert "$T/tampered.json" && fail "a tampered alert verified"

# STATUS= counts what happened
wait_for 5 "tail -1 '$T/notify.log' | grep -q 'matched=10 alerts=10'" ||
	fail "STATUS does not show 10 matches: $(tail -1 "$T/notify.log")"
# ... and the watches: at least one per folder under home (more: anchors)
w=$(tail -1 "$T/notify.log" | sed -n 's/.* watches=\([0-9]*\).*/\1/p')
[ "${w:-0}" -ge "$(find "$T/home" -type d | wc -l)" ] ||
	fail "STATUS shows watches=${w:-none} for $(find "$T/home" -type d | wc -l) folders"

# no path or hash of an unlisted file anywhere in the state folder
for u in "$P"/unlisted0.jpg "$P"/unlisted1.jpg "$P"/new2/unlisted2.jpg; do
	sha=$(sha256sum "$u" | cut -d' ' -f1)
	grep -rq "$sha" "$T/state" && fail "the SHA-256 of $u is in the state folder"
	grep -rqF "$(basename "$u")" "$T/state" && fail "the name of $u is in the state folder"
done

# restart: nothing alerted twice, nothing hashed again
stop_daemon
start_daemon
wait_crawled 2
sleep 1
[ "$(count_alerts)" -eq 10 ] || fail "restart: $(count_alerts) alerts, expected 10"
grep -q 'crawl (startup) done: .* 0 to hash' "$T/daemon.log" ||
	fail "restart rehashed files: $(grep 'crawl (startup) done' "$T/daemon.log" | tail -1)"

# new list version on SIGHUP: a file already on disk is found
cp "$T/later.bin" "$P/later.jpg"
sleep 0.5
[ "$(alerts_for "$T/later.bin")" -eq 0 ] || fail "later.bin alerted before it was listed"
make_list district 2 "$T"/listed?.bin "$T/later.bin"
: > "$T/notify.log"
kill -HUP "$DPID"
wait_for 10 "grep -q '^READY=1' '$T/notify.log'" || fail "no READY=1 after SIGHUP"
grep -q '^RELOADING=1 | MONOTONIC_USEC=' "$T/notify.log" || fail "no RELOADING=1 before READY=1"
wait_for 20 "[ \$(alerts_for '$T/later.bin') -eq 1 ]" || fail "the new list version did not find later.jpg"
sleep 1
[ "$(count_alerts)" -eq 11 ] || fail "after the new list: $(count_alerts) alerts, expected 11"
alerts_json | jq -e -s 'map(select(.list_version == 2)) | length == 1' >/dev/null ||
	fail "the new alert does not carry list version 2"

# a reload that changes nothing (so no crawl follows it): files planted
# while it runs are found from their events, which are not lost
crawls=$(grep -c 'crawl (.*) done' "$T/daemon.log")
: > "$T/notify.log"
kill -HUP "$DPID"
cp "$T/listedB.bin" "$P/during-reload1.jpg"
sleep 0.02
cp "$T/listedB.bin" "$P/during-reload2.jpg"
wait_for 10 "grep -q '^READY=1' '$T/notify.log'" || fail "no READY=1 after the second SIGHUP"
expect_alerts 13 20
[ "$(alerts_for "$T/listedB.bin")" -eq 2 ] || fail "files planted during a reload: $(alerts_for "$T/listedB.bin") alerts, expected 2"
[ "$(grep -c 'crawl (.*) done' "$T/daemon.log")" -eq "$crawls" ] ||
	fail "a reload without changes started a crawl, so it would hide lost events"

stop_daemon
grep -q "error" "$T/daemon.log" && { grep error "$T/daemon.log"; fail "errors in the log"; }

# the audit log: an intact chain; one match and one alert_queued record per
# alert, carrying the alert's id, sequence number and chain head
if [ -f "$T/state/audit.log" ]; then
	"$HW" audit verify --log "$T/state/audit.log" >/dev/null || fail "audit verify failed"
	"$HW" audit show --json --log "$T/state/audit.log" > "$T/audit.json" || fail "audit show"
	for f in "$T"/state/spool/*.json; do
		a=$(jq -r .payload "$f" | base64 -d)
		id=$(jq -r .alert_id <<< "$a"); seq=$(jq -r .audit_seq <<< "$a"); head=$(jq -r .audit_head <<< "$a")
		jq -e -s --arg id "$id" --argjson seq "$seq" \
			'map(select(.type == "match" and .fields.alert_id == $id and .seq == $seq)) | length == 1' \
			"$T/audit.json" >/dev/null || fail "no match record $seq for alert $id"
		jq -e -s --arg id "$id" --arg head "$head" \
			'map(select(.type == "alert_queued" and .fields.alert_id == $id and .fields.audit_head == $head)) | length == 1' \
			"$T/audit.json" >/dev/null || fail "no alert_queued record for alert $id"
	done
	for t in start config list_loaded crawl_start crawl_done stop; do
		jq -e -s --arg t "$t" 'any(.type == $t)' "$T/audit.json" >/dev/null || fail "no $t record"
	done
else
	note "no audit log in this build: audit checks not run"
fi
echo "PASS: 13 alerts, each exactly once, signatures verified"
