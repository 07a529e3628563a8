#!/bin/bash
# daemon_idle.sh - an idle hashwatchd does not wake up: over a quiet
# period its main process makes no context switch at all (read from
# /proc/PID/status), and with WatchdogSec= set the only wake-ups are the
# WATCHDOG=1 pings; the workers sleep as well, at nice 10 or more.
# HASHWATCH_IDLE_SECONDS sets the quiet period (20 s in
# make check; the issue's measure is a minute).
. "$(dirname "$0")/daemon_lib/common.sh"
setup
QUIET=${HASHWATCH_IDLE_SECONDS:-20}
P=$T/home/alice/Pictures
noise "$T/listed.bin"
for i in $(seq 1 50); do noise "$P/photo$i.jpg"; done
make_list idle 1 "$T/listed.bin"
write_conf

switches() {
	awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ {s += $2} END {print s}' \
		"/proc/$1/status"
}

# some activity first: the crawl, a match, a few events; then quiet
start_daemon
wait_crawled 1
cp "$T/listed.bin" "$P/match.jpg"
wait_for 10 "[ \$(count_alerts) -eq 1 ]" || fail "no alert"
sleep 3 # let the coalesced STATUS= update go out
a=$(switches "$DPID"); sleep "$QUIET"; b=$(switches "$DPID")
note "main process: $((b - a)) context switches in $QUIET quiet seconds"
[ "$b" -eq "$a" ] || fail "$((b - a)) context switches in $QUIET s of idleness (expected 0)"
# the workers sleep too, and hash at low CPU priority (nice 10 or more:
# the student's programs go first)
for w in $(pgrep -P "$DPID"); do
	wa=$(switches "$w"); sleep 2; wb=$(switches "$w")
	[ "$wa" -eq "$wb" ] || fail "worker $w woke up $((wb - wa)) times while idle"
	ni=$(ps -o ni= -p "$w" | tr -d ' ')
	[ "$ni" -ge 10 ] || fail "worker $w runs at nice $ni, expected 10 or more"
done
stop_daemon

# with a watchdog of 4 s: sd-event pings every 2 to 3 s, and nothing else
# wakes the process (a ping may cost a few switches when other processes
# preempt it on a busy machine; any polling would cost dozens)
start_daemon WATCHDOG_USEC=4000000
wait_crawled 2
sleep 3
n0=$(grep -c '^WATCHDOG=1' "$T/notify.log")
a=$(switches "$DPID"); sleep 10; b=$(switches "$DPID")
n1=$(grep -c '^WATCHDOG=1' "$T/notify.log")
pings=$((n1 - n0))
note "watchdog: $pings pings, $((b - a)) context switches in 10 s"
[ "$pings" -ge 3 ] && [ "$pings" -le 6 ] || fail "$pings WATCHDOG=1 pings in 10 s with WatchdogSec=4"
[ $((b - a)) -le $((3 * pings + 2)) ] || fail "$((b - a)) context switches for $pings watchdog pings"
stop_daemon
echo "PASS: no wake-up in $QUIET s; $pings watchdog pings and $((b - a)) switches in 10 s"
