#!/bin/bash
# daemon_sandbox.sh - the workers' sandbox in the real daemon: every worker
# shows Seccomp: 2, NoNewPrivs: 1, no capabilities and its rlimits in /proc;
# a worker made to call openat(), socket() or execve() while it hashes a
# file (ptrace rewinds it onto its syscall instruction, as an exploited
# decoder would) is killed by SIGSYS, the daemon names the call in the
# journal, an audit "error" record and the scan counts, skips the file with
# that reason, starts a new sandboxed worker and carries on: a listed image
# dropped in afterwards is still alerted.
. "$(dirname "$0")/daemon_lib/common.sh"

[ "$(uname -m)" = x86_64 ] || skip "the call injection (ptrace registers) is written for x86-64"
command -v vips >/dev/null || skip "vips (libvips-tools) is needed to make test images"
setup
PICS=$T/home/alice/Pictures
vips gaussnoise "$T/listed.png" 96 96 || fail "vips"
make_list district 1 "$T/listed.png"
write_conf "" "worker_memory = 768M
worker_files = 100"
# one worker, so that the file dropped in goes to the one being traced
sed -i 's/^workers = 2$/workers = 1/' "$T/hw.conf"
start_daemon
wait_crawled 1

worker_pids() { cat /proc/"$DPID"/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep .; }
# field FILE KEY: a /proc/PID file's value for KEY
field() { awk -v k="$2" 'index($0, k) == 1 { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$1"; }
sanitized=0
ldd "$HWD" | grep -q libasan && sanitized=1

check_sandboxed() {
	local w=$1 st=/proc/$1/status lim=/proc/$1/limits
	# the filter goes on once the worker has initialised and warmed up
	wait_for 10 "[ \"\$(field $st Seccomp:)\" = 2 ]" ||
		fail "worker $w: Seccomp is '$(field "$st" Seccomp:)', not 2"
	[ "$(field "$st" NoNewPrivs:)" = 1 ] || fail "worker $w: NoNewPrivs is not 1"
	[ "$(field "$st" CapEff:)" = 0000000000000000 ] || fail "worker $w: has capabilities"
	[ "$(field "$st" CapAmb:)" = 0000000000000000 ] || fail "worker $w: has ambient capabilities"
	grep -q '^Max core file size *0 ' "$lim" || fail "worker $w: core dumps allowed"
	grep -q '^Max cpu time *[0-9]' "$lim" || fail "worker $w: no CPU time limit"
	local nofile; nofile=$(awk '/^Max open files/ { print $4 }' "$lim")
	[ "$nofile" -le 16 ] || fail "worker $w: may open $nofile descriptors"
	if [ "$sanitized" = 0 ]; then
		grep -q "^Max address space *805306368 " "$lim" || fail "worker $w: RLIMIT_AS is not worker_memory"
		grep -q '^Max file size *0 ' "$lim" || fail "worker $w: may write files"
	fi
}

wait_for 10 '[ -n "$(worker_pids)" ]' || fail "no worker process"
for w in $(worker_pids); do check_sandboxed "$w"; done
note "worker $(worker_pids) is sandboxed (Seccomp: 2, NoNewPrivs: 1, no capabilities, rlimits)"

n=0
for call in openat socket execve; do
	n=$((n + 1))
	w=$(worker_pids | head -1)
	[ -n "$w" ] || fail "no worker before the $call test"
	python3 "$LIB/inject_syscall.py" "$w" "$call" > "$T/inject.out" &
	ipid=$!
	wait_for 10 "grep -q attached '$T/inject.out'" || fail "could not attach to worker $w"
	vips gaussnoise "$PICS/trigger-$call.png" 32 32 || fail "vips"
	wait "$ipid" || fail "could not make worker $w call $call"
	wait_for 10 "grep -q 'killed by seccomp (syscall [0-9]* $call)' '$T/daemon.log'" ||
		fail "no 'killed by seccomp' report for $call"
	wait_for 10 "! kill -0 $w 2>/dev/null" || fail "worker $w still alive after $call"
	grep "trigger-$call.png" "$T/daemon.log" | grep -q "file skipped (worker_failure): worker killed by seccomp (syscall [0-9]* $call)" ||
		fail "trigger-$call.png not logged as skipped with the seccomp reason"
	# a new worker, sandboxed too
	wait_for 10 '[ -n "$(worker_pids)" ] && [ "$(worker_pids | head -1)" != "'"$w"'" ]' ||
		fail "no replacement worker after $call"
	sleep 0.3
	check_sandboxed "$(worker_pids | head -1)"
	note "$call: worker $w killed by SIGSYS and reported; file skipped; replaced by $(worker_pids | head -1)"
done

# the daemon carries on: a listed image is still found
cp "$T/listed.png" "$PICS/found.png"
expect_alerts 1 30
[ "$(alerts_for "$T/listed.png")" -eq 1 ] || fail "the alert is not for the listed image"
kill -0 "$DPID" || fail "the daemon died"
stop_daemon

"$HW" audit show --json --log "$T/state/audit.log" > "$T/audit.json" || fail "audit show"
for call in openat socket execve; do
	jq -e -s --arg c "$call" 'map(select(.type == "error" and .fields.where == "sandbox" and
		(.fields.message | test("killed by seccomp \\(syscall [0-9]+ " + $c + "\\)")))) | length == 1' \
		"$T/audit.json" >/dev/null || fail "no audit error record for $call"
done
jq -e -s '[.[] | select(.type == "scan_counts") | .fields.seccomp_kills // 0] | add == 3' \
	"$T/audit.json" >/dev/null || fail "scan_counts do not add up to 3 seccomp kills"
echo "PASS: daemon_sandbox"
