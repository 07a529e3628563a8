#!/bin/bash
# demo.sh - the README's quick start, `make demo`, run without a terminal
# (so it stops by itself) and, when the test runs as root, as the
# unprivileged user nobody: it must finish with status 0, having printed an
# alert for the listed image as the receiver stored it (every field of the
# scanner's record), one for the blurred copy and none for the unlisted
# image; the dashboard login it printed must have worked; every process it
# started must be gone and its temporary folder removed.  Then Ctrl-C in the
# middle of a run (SIGINT to its process group, as a terminal sends it):
# everything stops and is removed too.
set -u
BUILD=${BUILD:-build}
T=$(mktemp -d /tmp/hw-demo-test.XXXXXX)
SID=
cleanup() {
	# Only if the test failed half-way: the demo's process group (it has the
	# session's id).
	[ -n "$SID" ] && kill -KILL -- -"$SID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/out" ] && sed 's/^/  | /' "$T/out" | tail -40; exit 1; }
ok() { echo "ok: $*"; }

for tool in openssl jq curl setsid; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (make deps)"; exit 77; }
done
IMG=${HASHWATCH_TESTDATA:-../shared/testdata}/pdq/images/bridge-mods/aaa-orig.jpg
[ -f "$IMG" ] || { echo "SKIP: no sample images ($IMG)"; exit 77; }
mkdir -p "$T/tmp"
chmod 1777 "$T" "$T/tmp"

# As root, run the demo as nobody: it must not need root.  make has nothing
# to rebuild (the binaries are built by now), so nobody needs no write access
# to the tree, only read access: a checkout inside a folder only root may
# enter (mktemp -d makes them 0700) cannot be run as nobody, and the demo
# then runs as root (the note says so).
AS=()
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	make -s BUILD="$BUILD" all >/dev/null || fail "make all"
	NOBODY=(setpriv --reuid nobody --regid nogroup --clear-groups)
	if "${NOBODY[@]}" test -r "$PWD/Makefile" -a -x "$PWD/$BUILD/hashwatch"; then
		AS=("${NOBODY[@]}")
	else
		echo "# nobody cannot read this checkout ($PWD): the demo runs as $(id -un)"
	fi
fi

# run_demo COMMAND...: in its own session (so that every process it starts
# can be found afterwards), as $AS, without a terminal; SID is the session.
run_demo() {
	# A background job starts with SIGINT ignored, and a shell cannot trap
	# a signal ignored on entry: give it back its default, as on a terminal.
	setsid "${AS[@]}" env --default-signal=INT TMPDIR="$T/tmp" HOME="$T" BUILD="$BUILD" "$@" \
		</dev/null >"$T/out" 2>&1 &
	SID=$!
}

# Every PID the demo printed is gone, so is every process of its session,
# and its folder.
check_stopped() {
	local pid left sids
	for pid in $(grep -o 'pid [0-9]*' "$T/out" | cut -d' ' -f2 | sort -u); do
		kill -0 "$pid" 2>/dev/null && fail "$1: pid $pid is still running: $(ps -o args= -p "$pid")"
	done
	# the demo runs each program in a session of its own (sid = its pid)
	sids=" $SID $(grep -o 'pid [0-9]*' "$T/out" | cut -d' ' -f2 | tr '\n' ' ')"
	left=$(ps -eo sid=,pid=,args= | awk -v s="$sids" 'index(s, " " $1 " ")')
	[ -z "$left" ] || fail "$1: processes of the demo are still running: $left"
	[ -z "$(ls -A "$T/tmp")" ] || fail "$1: the demo left $(ls "$T/tmp")"
	SID=
}

# 1. make demo, no terminal: it stops by itself.
start=$(date +%s)
run_demo timeout 300 make -s demo
rc=0
wait "$SID" || rc=$?
[ "$rc" -eq 0 ] || fail "make demo exited with status $rc"
for name in receiver hashwatchd uplink; do
	grep -q "^ *stopped $name (pid [0-9]*)" "$T/out" || fail "the demo did not report stopping $name"
done
check_stopped "make demo"
ok "make demo finished in $(($(date +%s) - start)) s as $([ ${#AS[@]} -gt 0 ] && echo nobody || id -un); every process stopped, folder removed"

# The alert for the listed image, as the receiver stored it: the JSON
# object the demo printed.
sed -n '/every field as stored/,/^ *}$/p' "$T/out" | sed 1d >"$T/alert.json"
jq -e --arg sha "$(sha256sum "$IMG" | cut -d' ' -f1)" '
	.file_sha256 == $sha and .device_id == "DEMO-LAPTOP-01" and .list_id == "demo-list" and
	.list_version == 1 and .entry_id == "DEMO-0001" and .confirmed == true and
	(.signals | index("sha256")) != null and (.alert_id | test("^[0-9a-f]{32}$")) and
	(.received_at | length) > 0 and .status == "new"' "$T/alert.json" >/dev/null ||
	fail "the stored alert for the listed image: $(cat "$T/alert.json")"
grep -Eq '^ *[0-9a-f]{32}: listed\.jpg, matched by ' "$T/out" || fail "no alert for listed.jpg in the queue"
grep -Eq '^ *[0-9a-f]{32}: listed-blurred\.jpg, matched by pdq' "$T/out" || fail "no alert for the blurred copy"
grep -q 'an unexpected file' "$T/out" && fail "an alert for a file that is not listed"
grep -q 'The receiver holds 2 alerts' "$T/out" || fail "the receiver did not hold exactly 2 alerts"
ok "stored: the listed image (confirmed by SHA-256) and its blurred copy (PDQ); none for the unlisted one"
grep -q "logs in to the dashboard and its API (GET /api/alerts) lists 2 alerts" "$T/out" ||
	fail "the printed login was not checked against the dashboard"
pw=$(sed -n "s/^Login: *user 'demo', password '\([A-Za-z0-9]*\)'$/\1/p" "$T/out")
[ ${#pw} -ge 10 ] || fail "no dashboard login printed"
grep -q '^Dashboard: *https://127\.0\.0\.1:[0-9]*/$' "$T/out" || fail "no dashboard address printed"
ok "dashboard address and login printed; the login worked"

# 2. Ctrl-C half-way (SIGINT to the demo's process group), after the
# receiver and the scanner have started.
run_demo bash tests/demo.sh
for _ in $(seq 600); do grep -q '^\[7/8\]' "$T/out" && break; kill -0 "$SID" 2>/dev/null || break; sleep 0.1; done
grep -q '^\[7/8\]' "$T/out" || fail "the demo did not reach step 7"
kill -INT -- -"$SID" || fail "could not signal the demo"
rc=0
wait "$SID" || rc=$?
[ "$rc" -eq 130 ] || fail "Ctrl-C half-way: exit status $rc, expected 130"
grep -q '^Stopping the demo' "$T/out" || fail "Ctrl-C: the demo did not stop its programs"
for name in receiver hashwatchd uplink; do
	grep -q "^ *stopped $name (pid [0-9]*)" "$T/out" || fail "Ctrl-C: $name was not stopped cleanly"
done
check_stopped "Ctrl-C"
ok "Ctrl-C half-way: exit 130, every program stopped cleanly, folder removed"
