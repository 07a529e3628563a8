#!/bin/bash
# daemon_flood.sh - the kernel's inotify queue overflows and nothing is
# lost: with hashwatchd stopped by SIGSTOP, 20,000 files are created (six
# of them listed, some in new folders); after SIGCONT the daemon sees
# IN_Q_OVERFLOW, rescans, and alerts every listed file exactly once.
. "$(dirname "$0")/daemon_lib/common.sh"
setup

P=$T/home/alice/Pictures
for i in $(seq 1 6); do noise "$T/listed$i.bin" $((2000 + i)); done
make_list flood 1 "$T"/listed?.bin
# a small queue, so that the rescan also runs into a full scan queue
write_conf "" "queue_length = 512"
start_daemon
wait_crawled 1

max_events=$(cat /proc/sys/fs/inotify/max_queued_events)
mkdir "$P/a" "$P/b"
sleep 0.3 # watched before the stop
kill -STOP "$DPID"
# two events per file (create, close-after-write): far beyond max_queued_events
for d in "$P" "$P/a" "$P/b"; do
	( cd "$d" && seq 1 6667 | xargs -n 500 sh -c 'for i; do : > "f$i.jpg"; echo x >> "f$i.jpg"; done' _ )
done
cp "$T/listed1.bin" "$P/l1.jpg"; cp "$T/listed2.bin" "$P/a/l2.jpg"; cp "$T/listed3.bin" "$P/b/l3.jpg"
mkdir -p "$P/c/d"; cp "$T/listed4.bin" "$P/c/d/l4.jpg"
for i in 5 6; do cp "$T/listed$i.bin" "$P/f$((i * 1000)).jpg"; done  # overwrite flood files
n=$(find "$P" -type f | wc -l)
note "$n files created while stopped (max_queued_events $max_events)"
[ "$n" -ge 20000 ] || fail "only $n files"
kill -CONT "$DPID"

wait_for 100 "[ \$(count_alerts) -ge 6 ]" || fail "only $(count_alerts) of 6 alerts after the flood"
grep -q 'inotify queue overflow' "$T/daemon.log" || fail "no overflow was reported"
wait_for 60 "tail -1 '$T/notify.log' | grep -q 'queued=0 '" || fail "the queue did not drain"
expect_alerts 6 1
for i in $(seq 1 6); do
	[ "$(alerts_for "$T/listed$i.bin")" -eq 1 ] || fail "listed$i: $(alerts_for "$T/listed$i.bin") alerts"
done
kill -0 "$DPID" || fail "the daemon died"
# still watching the folders created during the flood
cp "$T/listed1.bin" "$P/c/d/again.jpg"
wait_for 10 "[ \$(count_alerts) -eq 7 ]" || fail "a folder made during the flood is not watched"
stop_daemon
echo "PASS: $n files, overflow reported, 6 + 1 alerts"
