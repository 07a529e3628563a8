#!/bin/bash
# tests/demo.sh - `make demo`: the whole alert chain on this machine, as the
# user who runs it, in a temporary folder: a demo CA and a certificate for
# the receiver, a list-signing key and a signed list holding one sample
# image's hashes, hashwatch-receiver on 127.0.0.1 with the demo laptop
# enrolled and a dashboard login, hashwatchd watching a demo folder and
# hashwatch-uplink delivering its alerts.  A listed image, a changed copy of
# it and an unlisted image are dropped into the folder; the alerts are
# printed as the receiver stored them.  Then it keeps running until Ctrl-C
# (on a terminal) or stops at once (DEMO_KEEP=0, or no terminal).  Every
# process it started is stopped by its PID on any exit, and the folder is
# removed.
#
# Environment: BUILD (the build folder, default build), HASHWATCH_TESTDATA
# (sample images; made with vips when it is missing), DEMO_KEEP (1: run
# until Ctrl-C, 0: stop after the alert; default 1 on a terminal), TMPDIR.
# Exit status: 0 the alerts arrived (and everything stopped cleanly), 1 the
# chain did not deliver or a program did not stop cleanly, 2 a tool is missing.
set -u
BUILD=${BUILD:-build}
B=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "demo: $BUILD not found: run 'make' first" >&2; exit 2; }
HW=$B/hashwatch HWD=$B/hashwatchd UPL=$B/hashwatch-uplink RCV=$B/hashwatch-receiver
DATA=${HASHWATCH_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/testdata}
if [ -z "${DEMO_KEEP:-}" ]; then
	if [ -t 0 ] && [ -t 1 ]; then DEMO_KEEP=1; else DEMO_KEEP=0; fi
fi
DEVICE=DEMO-LAPTOP-01
STAFF=demo
WAIT_S=60

for p in "$HW" "$HWD" "$UPL" "$RCV"; do
	[ -x "$p" ] || { echo "demo: $p is not built: run 'make'" >&2; exit 2; }
done
for tool in openssl jq setsid; do
	command -v $tool >/dev/null || { echo "demo: $tool is missing: run 'make deps' as root" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/hashwatch-demo.XXXXXX") || exit 2
NAMES=() PIDS=() STEP=0 FAILED=0
NSTEPS=8

say() { printf '%s\n' "$*"; }
step() { STEP=$((STEP + 1)); printf '\n[%d/%d] %s\n' "$STEP" "$NSTEPS" "$*"; }
detail() { printf '      %s\n' "$*"; }

# Ask every process we started to stop (SIGTERM; SIGKILL after 10 s),
# newest first, and report one that did not exit with status 0.
stop_all() {
	local i pid name rc
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		pid=${PIDS[i]} name=${NAMES[i]}
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 100); do
			# a child that exited stays a zombie until wait: that counts as gone
			[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
			say "demo: $name (pid $pid) did not stop within 10 s; killing it"
			kill -KILL "$pid" 2>/dev/null
			FAILED=1
		fi
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; then
			say "demo: $name (pid $pid) exited with status $rc; the end of its log:"
			tail -n 15 "$T/logs/$name.log" 2>/dev/null | sed 's/^/      | /'
			FAILED=1
		else
			say "      stopped $name (pid $pid)"
		fi
	done
	PIDS=() NAMES=()
}

on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if [ ${#PIDS[@]} -gt 0 ]; then
		printf '\nStopping the demo\n'
		stop_all
	fi
	rm -rf "$T"
	[ "$rc" -ne 0 ] || [ "$FAILED" -eq 0 ] || rc=1
	case $rc in
	0) say "Demo finished; removed $T." ;;
	130) say "Demo interrupted; removed $T." ;;
	*) say "Demo failed (exit $rc); removed $T." ;;
	esac
	exit "$rc"
}
trap on_exit EXIT
# Ctrl-C ends the demo: normally (0) once it runs until Ctrl-C, as an
# interruption (130) before.
INT_RC=130
trap 'exit $INT_RC' INT
trap 'exit 143' TERM

# die MESSAGE: say what went wrong with the ends of the logs, then exit.
die() {
	say ""
	say "demo: FAILED: $*"
	local f
	for f in "$T"/logs/*.log; do
		[ -s "$f" ] || continue
		say "      --- the end of $(basename "$f"):"
		tail -n 15 "$f" | sed 's/^/      | /'
	done
	exit 1
}

# start NAME COMMAND...: run COMMAND in the background, log in
# $T/logs/NAME.log, and remember its PID for stop_all.  It gets a session
# of its own (setsid execs it in place: same PID) so that Ctrl-C on the
# terminal reaches this script alone, which then stops the programs in
# order and checks that each stopped cleanly.
start() {
	local name=$1; shift
	setsid "$@" >>"$T/logs/$name.log" 2>&1 </dev/null &
	PIDS+=($!) NAMES+=("$name")
}

running() {
	local i
	for i in "${!PIDS[@]}"; do
		kill -0 "${PIDS[i]}" 2>/dev/null || die "${NAMES[i]} exited unexpectedly"
	done
}

# wait_until SECONDS CONDITION...: poll a shell condition while checking
# that everything we started is still running.
wait_until() {
	local end=$(($(date +%s) + $1)); shift
	while ! eval "$*"; do
		running
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

alerts_json() { "$RCV" alerts --db "$T/receiver.db" --json 2>>"$T/logs/cli.log"; }
n_alerts() { alerts_json | wc -l; }

mkdir -p "$T/logs" "$T/keys" "$T/lists" "$T/state" "$T/uplink" "$T/home/student/Pictures" "$T/images"
WATCH=$T/home/student/Pictures
say "hashwatch demo: the scanner, the uplink and the receiver on this machine,"
say "as user $(id -un), in $T (removed at the end)."

# --- 1. TLS for the receiver ------------------------------------------------
step "A demo certificate authority and a certificate for the receiver at 127.0.0.1"
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj '/CN=hashwatch demo CA' -keyout "$T/ca.key" -out "$T/ca.pem" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=127.0.0.1' \
		-keyout "$T/receiver.key" -out "$T/receiver.csr" &&
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		>"$T/receiver.ext" &&
	openssl x509 -req -in "$T/receiver.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/receiver.ext" -out "$T/receiver.pem"
} >>"$T/logs/openssl.log" 2>&1 || die "openssl could not make the demo certificates"
detail "ca.pem: the CA the uplink trusts (ca_file); receiver.pem: the receiver's certificate"

# --- 2. sample images, signing key, signed list ------------------------------
step "A list-signing key and a signed list with the hashes of one image"
PDQ=$DATA/pdq/images
if [ -f "$PDQ/bridge-mods/aaa-orig.jpg" ] && [ -f "$PDQ/bridge-mods/blur-a-lot.jpg" ] &&
	[ -f "$PDQ/reg-test-input/pen-and-coaster.png" ]; then
	LISTED=$T/images/listed.jpg
	cp "$PDQ/bridge-mods/aaa-orig.jpg" "$LISTED"
	cp "$PDQ/bridge-mods/blur-a-lot.jpg" "$T/images/listed-blurred.jpg"
	cp "$PDQ/reg-test-input/pen-and-coaster.png" "$T/images/unlisted.png"
	detail "sample images from $PDQ"
else
	# No sample images: make some.  Blurred noise has the structure PDQ
	# needs for a good quality score.
	LISTED=$T/images/listed.png
	command -v vips >/dev/null || die "no sample images in $DATA and no vips to make some (make deps)"
	{
		vips gaussnoise "$T/n1.v" 480 360 --sigma 60 &&
		vips gaussblur "$T/n1.v" "$T/n1b.v" 4 &&
		vips cast "$T/n1b.v" "$T/images/listed.png" uchar &&
		vips gaussblur "$T/images/listed.png" "$T/images/listed-blurred.jpg[Q=60]" 1.5 &&
		vips gaussnoise "$T/n2.v" 480 360 --sigma 60 &&
		vips gaussblur "$T/n2.v" "$T/n2b.v" 4 &&
		vips cast "$T/n2b.v" "$T/images/unlisted.png" uchar
	} >>"$T/logs/vips.log" 2>&1 || die "vips could not make the sample images"
	detail "no sample images in $DATA: made three with vips"
fi
BLURRED=$T/images/listed-blurred.jpg
UNLISTED=$T/images/unlisted.png
"$HW" db keygen "$T/signer.key" >>"$T/logs/cli.log" 2>&1 || die "hashwatch db keygen failed"
cp "$T/signer.key.pub" "$T/keys/"
"$HW" hash --quiet --json --models pdq,phash,dhash,ahash,md5,sha1,sha256 "$LISTED" >"$T/listed.hashes" \
	2>>"$T/logs/cli.log" || die "hashwatch hash could not hash $LISTED"
# One entry (DEMO-0001): its perceptual hashes, each row also carrying the
# exact digests so that a byte-identical copy is reported as confirmed.
jq -r '["algorithm","hash","id","category","source","md5","sha1","sha256"],
	(. as $h | ("pdq", "phash", "dhash", "ahash") |
	 [., $h[.], "DEMO-0001", "demo", "hashwatch-demo", $h.md5, $h.sha1, $h.sha256]) | @csv' \
	"$T/listed.hashes" >"$T/demo-list.csv" || die "could not write the list's CSV"
"$HW" db build --list-id demo-list --version 1 -o "$T/lists/demo-list.hwdb" "$T/demo-list.csv" \
	>>"$T/logs/cli.log" 2>&1 || die "hashwatch db build failed"
"$HW" db sign --key "$T/signer.key" "$T/lists/demo-list.hwdb" >>"$T/logs/cli.log" 2>&1 ||
	die "hashwatch db sign failed"
detail "signer.key signs; keys/signer.key.pub is what the scanner trusts"
detail "lists/demo-list.hwdb v1: entry DEMO-0001 = PDQ $(jq -r .pdq "$T/listed.hashes" | cut -c1-16)...,"
detail "  pHash, dHash, aHash, MD5, SHA-1 and SHA-256 of $(basename "$LISTED")"

# --- 3. the receiver ---------------------------------------------------------
step "Starting hashwatch-receiver (the response team's server) on 127.0.0.1"
start receiver "$RCV" serve --listen 127.0.0.1:0 --port-file "$T/port" --tls-cert "$T/receiver.pem" \
	--tls-key "$T/receiver.key" --db "$T/receiver.db"
wait_until 20 '[ -s "$T/port" ]' || die "the receiver did not start listening"
PORT=$(cat "$T/port")
URL=https://127.0.0.1:$PORT
detail "pid ${PIDS[-1]}, listening on $URL, database receiver.db"

# --- 4. a dashboard login ----------------------------------------------------
step "A dashboard login for the response team"
PASSWORD=$(openssl rand -base64 12 | tr -d '/+=' | cut -c1-14)
[ ${#PASSWORD} -ge 10 ] || die "could not make a password"
printf '%s\n' "$PASSWORD" | "$RCV" user add --db "$T/receiver.db" --role responder "$STAFF" \
	>>"$T/logs/cli.log" 2>&1 || die "hashwatch-receiver user add failed"
detail "user '$STAFF', role responder, password '$PASSWORD' (stored as an argon2id hash)"

# --- 5. the scanner, and enrolling its key -----------------------------------
step "Starting hashwatchd (the scanner) on a demo folder and enrolling the laptop"
cat >"$T/hashwatch.conf" <<CONF
# hashwatch.conf of the demo laptop: read by hashwatchd and hashwatch-uplink
[scan]
watch = $T/home/*/Pictures
settle_ms = 100
[lists]
dir = $T/lists
trusted_keys = $T/keys
[limits]
workers = 1
[uplink]
url = $URL
ca_file = $T/ca.pem
retry_min = 1
retry_max = 5
state_dir = $T/uplink
[state]
dir = $T/state
[device]
id = $DEVICE
CONF
start hashwatchd "$HWD" --config "$T/hashwatch.conf" --foreground
wait_until 30 '[ -s "$T/state/device.pub" ]' || die "hashwatchd did not start (no state/device.pub)"
detail "pid ${PIDS[-1]}, watching $WATCH"
detail "it made the laptop's signing key; its public half is state/device.pub"
"$RCV" enroll --db "$T/receiver.db" "$DEVICE" "$T/state/device.pub" >>"$T/logs/cli.log" 2>&1 ||
	die "hashwatch-receiver enroll failed"
detail "enrolled $DEVICE at the receiver: hashwatch-receiver enroll $DEVICE state/device.pub"

# --- 6. the uplink -----------------------------------------------------------
step "Starting hashwatch-uplink (delivers the scanner's spool to the receiver)"
start uplink "$UPL" --config "$T/hashwatch.conf"
detail "pid ${PIDS[-1]}, sending to $URL, trusting only ca.pem"

# --- 7. images ---------------------------------------------------------------
step "Dropping three images into $WATCH"
cp "$UNLISTED" "$WATCH/$(basename "$UNLISTED")"
detail "$(basename "$UNLISTED"): not on the list: hashed, nothing is sent or stored"
sleep 0.3
cp "$LISTED" "$WATCH/$(basename "$LISTED")"
detail "$(basename "$LISTED"): the listed image itself"
sleep 0.3
cp "$BLURRED" "$WATCH/$(basename "$BLURRED")"
detail "$(basename "$BLURRED"): the listed image blurred and re-encoded: other bytes, same picture"

# --- 8. the alerts arrive ----------------------------------------------------
step "Waiting for the alerts to reach the receiver"
t0=$(date +%s%N)
wait_until "$WAIT_S" '[ "$(n_alerts)" -ge 2 ]' ||
	die "$(n_alerts) of 2 alerts reached the receiver within $WAIT_S s"
detail "both stored $(( ($(date +%s%N) - t0) / 1000000 )) ms after the last drop; the receiver's queue"
detail "(hashwatch-receiver alerts --db receiver.db):"
"$RCV" alerts --db "$T/receiver.db" 2>>"$T/logs/cli.log" | sed 's/^/        /'
# The alerts name files by SHA-256 only; the demo knows which it dropped.
sha_listed=$(sha256sum "$LISTED" | cut -d' ' -f1)
sha_blurred=$(sha256sum "$BLURRED" | cut -d' ' -f1)
alerts_json | jq -r --arg a "$sha_listed" --arg b "$sha_blurred" --arg na "$(basename "$LISTED")" \
	--arg nb "$(basename "$BLURRED")" '"      \(.alert_id): \(if .file_sha256 == $a then $na
	elif .file_sha256 == $b then $nb else "an unexpected file" end), matched by \(.signals | join(", "))"'
say ""
detail "The alert for $(basename "$LISTED"), every field as stored (hashwatch-receiver alerts --json):"
alerts_json | jq --arg a "$sha_listed" 'select(.file_sha256 == $a)' | sed 's/^/        /'
sleep 1
n=$(n_alerts)
[ "$n" -eq 2 ] || die "the receiver holds $n alerts, expected 2 (the unlisted image must not raise one)"
detail "The receiver holds 2 alerts: the unlisted image raised none.  No pixels, paths or"
detail "hashes of unlisted images left the laptop; only these match records did."

# The login printed below works: the dashboard's JSON API shows the alerts.
if command -v curl >/dev/null; then
	jq -cn --arg u "$STAFF" --arg p "$PASSWORD" '{user: $u, password: $p}' >"$T/login.json"
	code=$(curl -sS --cacert "$T/ca.pem" -c "$T/cookies" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$T/login.json" "$URL/api/login" 2>>"$T/logs/cli.log")
	[ "$code" = 200 ] || die "the dashboard refused the demo login (HTTP $code)"
	seen=$(curl -sS --cacert "$T/ca.pem" -b "$T/cookies" "$URL/api/alerts" 2>>"$T/logs/cli.log" | jq length) ||
		die "the dashboard API did not list the alerts"
	detail "Checked: '$STAFF' logs in to the dashboard and its API (GET /api/alerts) lists $seen alerts."
fi

say ""
say "Dashboard:  $URL/"
say "Login:      user '$STAFF', password '$PASSWORD'"
say "            Your browser will warn about the certificate: it is signed by the demo's"
say "            own CA, which nothing else trusts; accept the warning.  The CA is"
say "            $T/ca.pem (curl --cacert FILE)."
[ "$DEMO_KEEP" = 1 ] || say "The demo stops now (no terminal, or DEMO_KEEP=0); run 'make demo' in a terminal to keep it up."
if [ "$DEMO_KEEP" = 1 ]; then
	say ""
	say "Running until Ctrl-C.  Drop more images into $WATCH;"
	say "new alerts are printed here."
	seen=$n INT_RC=0
	while :; do
		sleep 2
		running
		n=$(n_alerts)
		if [ "$n" -gt "$seen" ]; then
			alerts_json | head -n $((n - seen)) |
				jq -r '"new alert \(.alert_id): entry \(.entry_id), model \(.model), distance \(.distance), confirmed \(.confirmed)"'
			seen=$n
		fi
	done
fi
exit 0
