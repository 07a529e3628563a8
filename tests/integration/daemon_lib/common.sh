# common.sh - shared by tests/integration/daemon_*.sh: a temporary state,
# keys, signed lists, a configuration, hashwatchd started in the foreground
# with a real notification socket, and helpers to wait for and count alerts.
# Everything lives under $T and is removed on exit; every process started
# here is stopped by its PID.

set -u
BUILD=${BUILD:-build}
HW=$PWD/$BUILD/hashwatch
HWD=$PWD/$BUILD/hashwatchd
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/hwd-test.XXXXXX)
DPID=
NPID=
MOUNTS=()

cleanup() {
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$T/daemon.log" ] && { echo "--- daemon log:"; tail -40 "$T/daemon.log"; }; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "# $*"; }

# The hash list tools must exist (they came from the hwdb work).
require_lists() {
	[ -x "$HW" ] && [ -x "$HWD" ] || skip "$HW or $HWD not built"
	"$HW" db keygen "$T/probe.key" >/dev/null 2>&1 ||
		skip "hashwatch db keygen is not available yet (the hash list module is not on this branch)"
	rm -f "$T/probe.key" "$T/probe.key.pub"
}

# keys and folders
setup() {
	require_lists
	mkdir -p "$T/keys" "$T/lists" "$T/state" "$T/home/alice/Pictures" "$T/outside"
	"$HW" db keygen "$T/signer.key" >/dev/null || fail "keygen"
	cp "$T/signer.key.pub" "$T/keys/"
}

# make_list ID VERSION FILE...: a signed list of the files' SHA-256 digests
# (entry ids E-<basename>, category test), written to $T/lists/ID.hwdb.
make_list() {
	local id=$1 ver=$2; shift 2
	local csv=$T/$id-$ver.csv
	echo "algorithm,hash,id,category,source" > "$csv"
	for f in "$@"; do
		echo "sha256,$(sha256sum "$f" | cut -d' ' -f1),E-$(basename "$f"),test,integration" >> "$csv"
	done
	"$HW" db build --list-id "$id" --version "$ver" -o "$T/$id.hwdb.new" "$csv" >/dev/null ||
		fail "db build"
	"$HW" db sign --key "$T/signer.key" "$T/$id.hwdb.new" >/dev/null || fail "db sign"
	mv "$T/$id.hwdb.new" "$T/lists/$id.hwdb"
}

# make_pdq_list ID FILE: a signed list $T/lists/ID.hwdb with one entry
# (id "bridge", category test) holding FILE's PDQ hash with its SHA-256 as
# the entry's exact digest; the PDQ hash is left in $PDQ.
make_pdq_list() {
	local id=$1 file=$2 sha
	read -r PDQ sha < <("$HW" hash --json --models pdq,sha256 "$file" | jq -r '"\(.pdq) \(.sha256)"')
	{
		echo "algorithm,hash,id,category,source,sha256"
		echo "pdq,$PDQ,bridge,test,meta-pdq-testdata,$sha"
	} > "$T/$id.csv"
	"$HW" db build --list-id "$id" --version 1 -o "$T/lists/$id.hwdb" "$T/$id.csv" >/dev/null ||
		fail "db build"
	"$HW" db sign --key "$T/signer.key" "$T/lists/$id.hwdb" >/dev/null || fail "db sign"
}

# write_conf [extra lines for [scan]]
write_conf() {
	cat > "$T/hw.conf" <<CONF
[scan]
watch = $T/home/*/Pictures
settle_ms = 50
${1:-}
[lists]
dir = $T/lists
trusted_keys = $T/keys
[limits]
workers = 2
${2:-}
[state]
dir = $T/state
[device]
id = TEST-0001
CONF
}

# start_daemon [ENV=VALUE... | COMMAND...]: run hashwatchd --foreground
# (DAEMON_FLAGS replaces --foreground) with a notify socket, through env
# and whatever command is given; wait for READY=1 (fails after 30 s).
start_daemon() {
	: > "$T/notify.log"
	if [ -z "$NPID" ]; then
		python3 "$LIB/notify_listen.py" "$T/notify.sock" "$T/notify.log" &
		NPID=$!
		for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
	fi
	env NOTIFY_SOCKET="$T/notify.sock" "$@" "$HWD" --config "$T/hw.conf" ${DAEMON_FLAGS---foreground} \
		>> "$T/daemon.log" 2>&1 &
	DPID=$!
	wait_for 30 "grep -q '^READY=1' '$T/notify.log'" || fail "no READY=1 within 30 s"
}

stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID"
	local rc=0
	wait "$DPID" || rc=$?
	DPID=
	[ "$rc" -eq 0 ] || fail "hashwatchd exited with status $rc on SIGTERM"
}

# wait_for SECONDS 'shell condition'
wait_for() {
	local secs=$1 cond=$2 i
	for i in $(seq $((secs * 10))); do
		eval "$cond" && return 0
		kill -0 "${DPID:-$$}" 2>/dev/null || { eval "$cond"; return; }
		sleep 0.1
	done
	return 1
}

# The crawl that follows READY has finished (N: how many crawls so far).
wait_crawled() {
	local n=${1:-1}
	wait_for 60 "[ \$(grep -c 'crawl (.*) done' '$T/daemon.log') -ge $n ]" ||
		fail "crawl $n did not finish"
}

# expect_alerts N SECONDS: N alerts come within SECONDS, and no more come
# in the second after (a duplicate would)
expect_alerts() {
	local n=$1 secs=$2
	wait_for "$secs" "[ \$(count_alerts) -ge $n ]" || fail "only $(count_alerts) of $n alerts"
	sleep 1.5
	[ "$(count_alerts)" -eq "$n" ] || fail "expected $n alerts, got $(count_alerts)"
}

# the decoded payloads of all alert files, one JSON object per line
alerts_json() {
	local files=("$T"/state/spool/*.json)
	[ -f "${files[0]}" ] || return 0
	jq -c '.payload | @base64d | fromjson' "${files[@]}"
}
count_alerts() { ls "$T"/state/spool/*.json 2>/dev/null | wc -l; }
# alerts_for FILE: alerts whose file_sha256 is that file's SHA-256
alerts_for() {
	local sha; sha=$(sha256sum "$1" | cut -d' ' -f1)
	alerts_json | jq -c "select(.file_sha256 == \"$sha\")" | wc -l
}

# verify_alert FILE: the Ed25519 signature over the payload checks out
# with the device's public key (openssl, independent of our code).
verify_alert() {
	local f=$1 pub
	pub=$(awk '{print $2}' "$T/state/device.pub")
	[ "$(jq -r .device_pub "$f")" = "$pub" ] || return 1
	# DER SubjectPublicKeyInfo prefix for Ed25519, then the raw key
	{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; echo "$pub" | base64 -d; } \
		> "$T/pub.der"
	openssl pkey -pubin -inform DER -in "$T/pub.der" -out "$T/pub.pem" 2>/dev/null || return 1
	jq -r .payload "$f" | base64 -d > "$T/payload.bin"
	jq -r .sig "$f" | base64 -d > "$T/sig.bin"
	openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -rawin -in "$T/payload.bin" \
		-sigfile "$T/sig.bin" >/dev/null 2>&1
}

# random bytes that no list holds
noise() { head -c "${2:-4096}" /dev/urandom > "$1"; }

# start_daemon_journal STDERR_FILE: start_daemon as systemd would with its
# output connected to the journal: inside a private mount namespace, a
# tmpfs on /run holds a listener on journald's socket path (entries as JSON
# lines in $T/journal.jsonl) and the daemon runs with JOURNAL_STREAM naming
# its stderr (STDERR_FILE).  The caller checks `unshare -m true` first.
start_daemon_journal() {
	cat > "$T/run.sh" <<RUN
mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal || exit 1
python3 "$LIB/journal_listen.py" /run/systemd/journal/socket "$T/journal.jsonl" &
for _ in \$(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
exec 2>>"$1"
export JOURNAL_STREAM=\$(stat -L -c '%d:%i' /proc/self/fd/2)
exec "\$@"
RUN
	: > "$T/journal.jsonl"
	DAEMON_FLAGS="" start_daemon unshare -m --propagation private sh "$T/run.sh"
}
