#!/bin/bash
# receiver_intake.sh - the receiver's device endpoints over real TLS on
# 127.0.0.1: a signed alert is stored once with every field; redelivery is
# idempotent; forged, altered, unknown-device, revoked-device, conflicting
# replays, oversized, malformed and wrongly typed requests are refused with
# the right 4xx and store nothing; heartbeats update the fleet and a device
# whose audit chain goes backwards or forks is flagged; logs hold ids only.
. "$(dirname "$0")/receiver.lib"

rcv_certs
dev_key dev1 ASSET-0001; dev_key dev2 ASSET-0002; dev_key other; dev_key rogue ASSET-0009
"$RCV" enroll --db "$DB" ASSET-0001 "$T/dev1.pub" >/dev/null || fail "enroll"
"$RCV" enroll --db "$DB" ASSET-0002 "$T/dev2.pub" >/dev/null || fail "enroll 2"
"$RCV" enroll --db "$DB" ASSET-0001 "$T/other.pub" 2>/dev/null && fail "enrolled an id twice"
"$RCV" enroll --db "$DB" ASSET-0003 "$T/dev1.pub" 2>/dev/null && fail "enrolled ASSET-0001's key file as ASSET-0003"
"$RCV" enroll --db "$DB" ASSET-0003 /etc/hostname 2>/dev/null && fail "enrolled a non-key"
{ echo "# bare hex key"; openssl pkey -in "$T/other.pem" -pubout -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n'; echo; } >"$T/hex.pub"
"$RCV" enroll --db "$DB" ASSET-0004 "$T/hex.pub" >/dev/null || fail "enroll a hex key"
rcv_start

# expect STATUS ERRORCODE PATH BODYFILE [ctype]
expect() {
	local want=$1 code=$2; shift 2
	local got; got=$(post "$@")
	[ "$got" = "$want" ] || fail "$1 $(basename "$2"): HTTP $got, expected $want: $(cat "$T/resp")"
	if [ "$code" != - ]; then
		[ "$(jq -r '.error // .status' "$T/resp")" = "$code" ] || fail "expected '$code', got $(cat "$T/resp")"
	fi
}

# 1. A valid alert is stored with every field.
ID=$(rand_id)
alert_json ASSET-0001 "$ID" >"$T/a1"
envelope alert "$T/a1" dev1 >"$T/b1"
expect 201 stored /v1/alerts "$T/b1"
[ "$(alert_count)" = 1 ] || fail "expected 1 stored alert"
"$RCV" alerts --db "$DB" --json >"$T/stored"
for k in $(jq -r 'keys[]' "$T/a1"); do
	[ "$(jq -c ".$k" "$T/a1")" = "$(jq -c ".$k" "$T/stored")" ] || fail "field $k differs: $(jq -c ".$k" "$T/stored")"
done
[ "$(jq -r .status "$T/stored")" = new ] || fail "status is not new"
ok "valid alert stored with all $(jq -r 'keys|length' "$T/a1") fields"

# 2. Redelivery, byte-identical and with a re-spaced envelope: duplicate.
expect 200 duplicate /v1/alerts "$T/b1"
printf '{ "sig" : "%s",\n  "payload": "%s",\n  "format": "hashwatch-alert/1" }\n' "$(sign dev1 "$T/a1")" "$(base64 -w0 <"$T/a1")" >"$T/b1b"
expect 200 duplicate /v1/alerts "$T/b1b"
[ "$(alert_count)" = 1 ] || fail "redelivery stored a second alert"
ok "redelivery is idempotent"

# 3. Refusals; nothing may be stored by any of them.
ID2=$(rand_id)
alert_json ASSET-0001 "$ID2" >"$T/a2"
envelope alert "$T/a2" other >"$T/forged"
expect 403 bad_signature /v1/alerts "$T/forged"
jq -c 'del(.device_pub)' "$T/forged" >"$T/forged2"
expect 403 bad_signature /v1/alerts "$T/forged2"
alert_json ASSET-0001 "$ID2" '.distance = 2' >"$T/a2x"
envelope alert "$T/a2" dev1 | jq -c --arg p "$(base64 -w0 <"$T/a2x")" '.payload = $p' >"$T/altered"
expect 403 bad_signature /v1/alerts "$T/altered"
alert_json ASSET-0009 "$ID2" >"$T/a9"
envelope alert "$T/a9" rogue >"$T/unknown"
expect 403 unknown_device /v1/alerts "$T/unknown"
alert_json ASSET-0002 "$ID2" >"$T/a6"
envelope alert "$T/a6" dev1 >"$T/otherdev"
expect 403 bad_signature /v1/alerts "$T/otherdev"
alert_json ASSET-0001 "$ID" '.file_sha256 = "'"$(printf 'e%.0s' $(seq 64))"'"' >"$T/a1x"
envelope alert "$T/a1x" dev1 >"$T/conflict"
expect 409 conflict /v1/alerts "$T/conflict"
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big"
expect 413 too_large /v1/alerts "$T/big"
printf '{"format": "hashwatch-alert/1", "payload": "' >"$T/trunc"
expect 400 bad_json /v1/alerts "$T/trunc"
printf '{"alert_id": "%s",' "$ID2" >"$T/half"
envelope alert "$T/half" dev1 >"$T/badpayload"
expect 400 bad_json /v1/alerts "$T/badpayload"
jq -c '.format = "hashwatch-heartbeat/1"' "$T/b1" >"$T/wrongformat"
expect 400 bad_format /v1/alerts "$T/wrongformat"
expect 415 content_type /v1/alerts "$T/b1" text/plain
alert_json ASSET-0001 "$ID2" 'del(.file_sha256)' >"$T/a3"
envelope alert "$T/a3" dev1 >"$T/missing"
expect 400 bad_schema /v1/alerts "$T/missing"
alert_json ASSET-0001 "$ID2" '.distance = "12"' >"$T/a5"
envelope alert "$T/a5" dev1 >"$T/typed"
expect 400 bad_schema /v1/alerts "$T/typed"
alert_json ASSET-0001 "$ID2" '.detected_at = "yesterday"' >"$T/a5t"
envelope alert "$T/a5t" dev1 >"$T/badtime"
expect 400 bad_schema /v1/alerts "$T/badtime"
"$RCV" revoke --db "$DB" ASSET-0002 >/dev/null || fail "revoke"
alert_json ASSET-0002 "$ID2" >"$T/a7"
envelope alert "$T/a7" dev2 >"$T/revoked"
expect 403 revoked_device /v1/alerts "$T/revoked"
"$RCV" revoke --db "$DB" ASSET-0002 2>/dev/null && fail "revoked twice"
code=$(curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' "$URL/v1/alerts")
[ "$code" = 405 ] || fail "GET /v1/alerts gave $code"
code=$(post /v1/nothing "$T/b1")
[ "$code" = 404 ] || fail "POST /v1/nothing gave $code"
[ "$(alert_count)" = 1 ] || fail "a refused request stored something"
# The scanner may write an alert again with a newer match_count: same match,
# so a duplicate, and the first copy stays.
jq -c '.match_count = 2' "$T/a1" >"$T/a1again"
envelope alert "$T/a1again" dev1 >"$T/again"
expect 200 duplicate /v1/alerts "$T/again"
[ "$("$RCV" alerts --db "$DB" --json | jq .match_count)" = 1 ] || fail "the rewrite replaced the first copy"
# Fields a newer scanner may add are ignored (docs/alert-format.md).
ID3=$(rand_id)
alert_json ASSET-0001 "$ID3" '.future_field = "x"' >"$T/a8"
envelope alert "$T/a8" dev1 >"$T/newer"
expect 201 stored /v1/alerts "$T/newer"
"$RCV" alerts --db "$DB" --json | jq -se --arg id "$ID3" 'map(select(.alert_id == $id)) |
	length == 1 and (.[0] | has("future_field") | not)' >/dev/null || fail "an unknown field became a column"
ok "forged, altered, unknown, revoked, conflicting, oversized, malformed, mistyped: refused; rewrites are duplicates; new fields ignored"

# 4. Heartbeats: fleet state; replay refused; chain regression and fork flagged.
hb() { # DEVICE KEY SEQ HEAD TIME
	jq -cn --arg dev "$1" --argjson seq "$3" --arg head "$4" --arg t "$(now_utc "$5")" '{
		v: 1, device_id: $dev, time: $t, scanner_version: "0.1.0",
		lists: [{id: "district-demo", version: 7, digest: "aabbccddeeff00112233445566778899"}],
		spool_depth: 0, audit_seq: $seq, audit_head: $head}' | tr -d '\n' >"$T/hb"
	envelope heartbeat "$T/hb" "$2" >"$T/hbbody"
}
H1=$(printf 'a%.0s' $(seq 64)); H2=$(printf 'b%.0s' $(seq 64)); H3=$(printf 'c%.0s' $(seq 64))
t0=$(( $(date +%s) + 5 ))
hb ASSET-0001 dev1 50 "$H1" $t0; cp "$T/hbbody" "$T/hb-old"
expect 200 stored /v1/heartbeats "$T/hbbody"
hb ASSET-0001 dev1 60 "$H2" $((t0 + 60))
expect 200 stored /v1/heartbeats "$T/hbbody"
expect 409 stale_heartbeat /v1/heartbeats "$T/hb-old"
"$RCV" devices --db "$DB" --json >"$T/dev"
[ "$(jq -r 'select(.device_id=="ASSET-0001") | .audit_seq' "$T/dev")" = 60 ] || fail "fleet seq not updated"
[ "$(jq -r 'select(.device_id=="ASSET-0001") | .lists[0].version' "$T/dev")" = 7 ] || fail "fleet lists not stored"
[ "$(jq -r 'select(.device_id=="ASSET-0001") | .chain_flags | length' "$T/dev")" = 0 ] || fail "flag raised on a healthy chain"
hb ASSET-0001 dev1 45 "$H3" $((t0 + 120))
expect 200 stored /v1/heartbeats "$T/hbbody"
[ "$(jq -r .chain_flag "$T/resp")" = regression ] || fail "regression not reported: $(cat "$T/resp")"
"$RCV" devices --db "$DB" --json >"$T/dev"
[ "$(jq -r 'select(.device_id=="ASSET-0001") | .chain_flags[0].kind' "$T/dev")" = regression ] || fail "regression not flagged"
hb ASSET-0001 dev1 60 "$H3" $((t0 + 180))
expect 200 stored /v1/heartbeats "$T/hbbody"
[ "$(jq -r .chain_flag "$T/resp")" = fork ] || fail "fork not reported: $(cat "$T/resp")"
"$RCV" devices --db "$DB" --json >"$T/dev"
[ "$(jq -r '[select(.device_id=="ASSET-0001") | .chain_flags[].kind] | sort | join(",")' "$T/dev")" = fork,regression ] || fail "fork not flagged"
hb ASSET-0001 other 70 "$H3" $((t0 + 240))
expect 403 bad_signature /v1/heartbeats "$T/hbbody"
hb ASSET-0001 dev1 80 "$H3" $((t0 + 3 * 86400))
expect 400 bad_time /v1/heartbeats "$T/hbbody"
ok "heartbeats: fleet updated, replay refused, regression and fork flagged"

# 4b. Where in the image the match was found: an alert of a picture found
# inside a frame stores and returns its region and box; an alert of an
# older scanner (no region) is stored as the whole image; a region the
# schema does not know, a box that is not [x, y, w, h] in pixels, and a
# box without an inner region (or the reverse) are refused.
ID5=$(rand_id)
alert_json ASSET-0001 "$ID5" '.region = "inner" | .box = [160, 100, 1600, 1004]' >"$T/a5"
envelope alert "$T/a5" dev1 >"$T/b5"
expect 201 stored /v1/alerts "$T/b5"
"$RCV" alerts --db "$DB" --json | jq -c --arg id "$ID5" 'select(.alert_id == $id)' >"$T/stored5"
jq -e '.region == "inner" and .box == [160, 100, 1600, 1004]' "$T/stored5" >/dev/null ||
	fail "inner region not stored: $(cat "$T/stored5")"
"$RCV" alerts --db "$DB" --json | jq -c --arg id "$ID" 'select(.alert_id == $id)' >"$T/stored1"
jq -e '.region == "whole" and .box == null' "$T/stored1" >/dev/null ||
	fail "an alert without a region is not stored as the whole image: $(cat "$T/stored1")"
n=0
for bad in '.region = "outer" | .box = [1, 2, 3, 4]' '.region = 3' \
	'.region = "inner" | .box = [1, 2, 3]' '.region = "inner" | .box = [1, 2, 0, 4]' \
	'.region = "inner" | .box = [-1, 2, 3, 4]' '.region = "inner" | .box = [1, 2, 3.5, 4]' \
	'.region = "inner" | .box = [1, 2, 3, 4000000000]' '.region = "inner"' \
	'.region = "whole" | .box = [1, 2, 3, 4]' '.box = [1, 2, 3, 4]'; do
	n=$((n + 1))
	alert_json ASSET-0001 "$(rand_id)" "$bad" >"$T/abad"
	envelope alert "$T/abad" dev1 >"$T/bbad"
	expect 400 bad_schema /v1/alerts "$T/bbad"
done
[ "$(alert_count)" = 3 ] || fail "$(alert_count) alerts stored after the region refusals, expected 3"
ok "region and box stored and returned; an alert without them is the whole image; $n bad ones refused"

# 5. The log names ids only: no alert field values.
for v in E-000042 take-it-down csam 9f86d081884c7d659a2f district-demo; do
	grep -q -- "$v" "$T/server.log" && fail "the server log contains alert data ($v)"
done
grep -q "$ID" "$T/server.log" || fail "the server log does not name the alert id"
ok "log holds ids only"

# 6. The database file is private.
[ "$(stat -c %a "$DB")" = 600 ] || fail "database mode is $(stat -c %a "$DB")"
echo "PASS"
