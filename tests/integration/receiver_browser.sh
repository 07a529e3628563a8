#!/bin/bash
# receiver_browser.sh - the dashboard in headless Chromium (Debian's
# chromium, driven by playwright-core from npm, installed into
# $BUILD/npm on first use): log in, see the alert, acknowledge it, export
# it, log out; then an admin disables another user's login from the staff
# page; screenshots go to $BUILD/screenshots.
. "$(dirname "$0")/receiver.lib"

[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium is not installed (make deps installs it)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node and npm are not installed (make deps)"; exit 77; }
NPM=$PWD/$BUILD/npm
if [ ! -d "$NPM/node_modules/playwright-core" ]; then
	mkdir -p "$NPM"
	npm install --silent --no-audit --no-fund --prefix "$NPM" playwright-core@1.65.1 >/dev/null 2>&1 ||
		{ echo "SKIP: cannot install playwright-core from the npm registry"; exit 77; }
fi

rcv_certs
dev_key dev1 ASSET-0001
"$RCV" enroll --db "$DB" ASSET-0001 "$T/dev1.pub" >/dev/null || fail "enroll"
echo 'correct horse battery' | "$RCV" user add --db "$DB" --role responder alice >/dev/null || fail "user add"
echo 'head of safeguarding 1' | "$RCV" user add --db "$DB" --role admin head >/dev/null || fail "user add admin"
echo 'bob password number 2' | "$RCV" user add --db "$DB" --role responder bob >/dev/null || fail "user add bob"
rcv_start
ID=$(rand_id)
alert_json ASSET-0001 "$ID" >"$T/a1"; envelope alert "$T/a1" dev1 >"$T/b1"
[ "$(post /v1/alerts "$T/b1")" = 201 ] || fail "alert not stored"
H=$(printf 'a%.0s' $(seq 64))
jq -cn --arg t "$(now_utc)" --arg h "$H" '{v: 1, device_id: "ASSET-0001", time: $t, scanner_version: "0.1.0",
	lists: [{id: "district-demo", version: 7, digest: "aabbccddeeff00112233445566778899"}],
	spool_depth: 0, audit_seq: 60, audit_head: $h}' | tr -d '\n' >"$T/hb"
envelope heartbeat "$T/hb" dev1 >"$T/hbb"
[ "$(post /v1/heartbeats "$T/hbb")" = 200 ] || fail "heartbeat not stored"

mkdir -p "$BUILD/screenshots"
cp "$(dirname "$0")/receiver_browser.mjs" "$NPM/"
timeout 120 node "$NPM/receiver_browser.mjs" "$URL" "$ID" alice 'correct horse battery' "$PWD/$BUILD/screenshots" \
	head 'head of safeguarding 1' bob || fail "browser test"
"$RCV" alerts --db "$DB" --json | jq -e '.status == "acknowledged" and .acknowledged_by == "alice"' >/dev/null || fail "acknowledgement not stored"
"$RCV" user list --db "$DB" --json | jq -se '.[] | select(.name == "bob") | .disabled and .disabled_by == "head"' >/dev/null ||
	fail "bob was not disabled by head: $("$RCV" user list --db "$DB" --json)"
