#!/bin/bash
# receiver_staff.sh - the staff side over real TLS: unauthenticated requests
# get 401 (API) or a redirect to /login (pages) and no alert data; login
# with argon2id passwords, session cookie flags, CSRF on every POST, login
# rate limiting; roles (auditor read-only); triage steps recorded with who
# and when; JSON and incident-report export; bearer API tokens for a SIEM;
# security headers; retention purge of closed alerts.
. "$(dirname "$0")/receiver.lib"

rcv_certs
dev_key dev1 ASSET-0001
"$RCV" enroll --db "$DB" ASSET-0001 "$T/dev1.pub" >/dev/null || fail "enroll"
echo 'correct horse battery' | "$RCV" user add --db "$DB" --role responder alice >/dev/null || fail "user add"
echo 'auditor password 1' | "$RCV" user add --db "$DB" --role auditor olga >/dev/null || fail "user add auditor"
echo 'admin password 12' | "$RCV" user add --db "$DB" --role admin root1 >/dev/null || fail "user add admin"
echo 'short' | "$RCV" user add --db "$DB" --role admin bob 2>/dev/null && fail "accepted a short password"
echo 'long enough pw' | "$RCV" user add --db "$DB" --role boss bob 2>/dev/null && fail "accepted an unknown role"
rcv_start --escalate-minutes 0

ID=$(rand_id); ID2=$(rand_id)
alert_json ASSET-0001 "$ID" >"$T/a1"; envelope alert "$T/a1" dev1 >"$T/b1"
alert_json ASSET-0001 "$ID2" '.confirmed = false | .entry_category = "sextortion" |
	.region = "inner" | .box = [160, 100, 1600, 1004]' >"$T/a2"
envelope alert "$T/a2" dev1 >"$T/b2"
[ "$(post /v1/alerts "$T/b1")" = 201 ] || fail "alert 1 not stored"
[ "$(post /v1/alerts "$T/b2")" = 201 ] || fail "alert 2 not stored"

C="curl -sS --cacert $T/ca.pem"
# req METHOD PATH [JSON] [extra curl args...]: status code; body in $T/out,
# headers in $T/hdr.  Uses the cookie jar $JAR and the CSRF token $CSRF.
JAR=$T/jar; CSRF=
req() {
	local m=$1 p=$2 d=${3:-}; shift 3 2>/dev/null || shift $#
	if [ -n "$d" ]; then
		$C -X "$m" -b "$JAR" -c "$JAR" -D "$T/hdr" -o "$T/out" -w '%{http_code}' \
			-H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" --data-binary "$d" "$@" "$URL$p"
	else
		$C -X "$m" -b "$JAR" -c "$JAR" -D "$T/hdr" -o "$T/out" -w '%{http_code}' "$@" "$URL$p"
	fi
}

# 1. Unauthenticated: 401 for the API, 302 to /login for pages; no alert data.
for p in /api/alerts /api/alerts/$ID /api/alerts/$ID/export /api/devices /api/actions /api/session; do
	[ "$(req GET "$p")" = 401 ] || fail "GET $p without login: $(cat "$T/out")"
	grep -q "$ID\|ASSET-0001\|csam" "$T/out" && fail "$p leaked alert data without login"
done
for p in / /index.html /static/app.js /report/$ID; do
	[ "$(req GET "$p")" = 302 ] || fail "GET $p without login did not redirect"
	grep -qi '^location: /login' "$T/hdr" || fail "GET $p redirect is not to /login"
	grep -q "$ID\|ASSET-0001" "$T/out" && fail "$p leaked alert data without login"
done
[ "$(req GET /login)" = 200 ] || fail "the login page needs a login"
[ "$(req POST /api/alerts/$ID/triage '{"step":"acknowledge"}')" = 401 ] || fail "triage without login"
[ "$(req GET /api/alerts '' -H 'Authorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000')" = 401 ] || fail "a made-up token was accepted"
ok "unauthenticated requests: 401 / 302, no data"

# 2. Security headers.
req GET /login >/dev/null
for h in 'content-security-policy: .*script-src .self.' 'x-frame-options: DENY' "frame-ancestors 'none'" \
	'cache-control: no-store' 'x-content-type-options: nosniff' 'strict-transport-security'; do
	grep -qi "$h" "$T/hdr" || fail "missing header: $h"
done
grep -qi "unsafe-inline" "$T/hdr" && fail "CSP allows inline code"
grep -qi '<script>' "$T/out" && fail "the login page has an inline script"
ok "security headers"

# 3. Login: wrong password 401; session cookie flags; rate limit after 5 failures.
[ "$(req POST /api/login '{"user":"alice","password":"wrong password"}')" = 401 ] || fail "wrong password accepted"
[ "$(req POST /api/login '{"user":"nobody","password":"wrong password"}')" = 401 ] || fail "unknown user accepted"
[ "$(req POST /api/login '{"user":"alice","password":"correct horse battery"}')" = 200 ] || fail "login: $(cat "$T/out")"
sc=$(grep -i '^set-cookie:' "$T/hdr")
for flag in HttpOnly Secure SameSite=Strict 'Path=/' '__Host-hw_session='; do
	echo "$sc" | grep -q "$flag" || fail "session cookie lacks $flag: $sc"
done
CSRF=$(jq -r .csrf "$T/out")
[ ${#CSRF} = 64 ] || fail "no CSRF token in the login response"
for i in 1 2 3 4 5; do req POST /api/login '{"user":"olga","password":"bad"}' >/dev/null; done
[ "$(req POST /api/login '{"user":"olga","password":"auditor password 1"}')" = 429 ] || fail "no rate limit after 5 failures"
grep -qi '^retry-after:' "$T/hdr" || fail "429 without Retry-After"
ok "login, cookie flags, rate limit"

# 4. The queue, newest first, with filters; detail with every field.
[ "$(req GET /api/alerts)" = 200 ] || fail "GET /api/alerts: $(cat "$T/out")"
[ "$(jq -r '.[0].alert_id' "$T/out")" = "$ID2" ] || fail "queue is not newest first"
[ "$(jq -r '.[0].overdue' "$T/out")" = true ] || fail "an unacknowledged alert past 0 minutes is not overdue"
[ "$(req POST /api/alerts/search '{"status":"open","category":"sextortion"}')" = 200 ] || fail "search"
[ "$(jq -r 'length' "$T/out")" = 1 ] && [ "$(jq -r '.[0].alert_id' "$T/out")" = "$ID2" ] || fail "category filter"
req POST /api/alerts/search '{"confirmed":"yes","device":"ASSET-0001"}' >/dev/null
[ "$(jq -r 'length' "$T/out")" = 1 ] && [ "$(jq -r '.[0].alert_id' "$T/out")" = "$ID" ] || fail "confirmed filter"
req POST /api/alerts/search '{"device":"ASSET-0404"}' >/dev/null
[ "$(jq -r 'length' "$T/out")" = 0 ] || fail "device filter"
good=$CSRF; CSRF=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
[ "$(req POST /api/alerts/search '{}')" = 403 ] || fail "a wrong CSRF token was accepted"
CSRF=$good
$C -b "$JAR" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data '{}' "$URL/api/alerts/search" >"$T/code"
[ "$(cat "$T/code")" = 403 ] || fail "a POST without a CSRF token was accepted"
[ "$(req GET /api/alerts/$ID)" = 200 ] || fail "detail"
for k in $(jq -r 'keys[]' "$T/a1"); do
	[ "$(jq -c ".$k" "$T/a1")" = "$(jq -c ".$k" "$T/out")" ] || fail "detail field $k differs"
done
req GET /api/fields >/dev/null
for k in $(jq -r 'keys[]' "$T/a1"); do
	jq -e --arg k "$k" '[.[] | select(.name == $k and (.meaning | length > 20))] | length == 1' "$T/out" >/dev/null || fail "field $k has no plain-words meaning"
done
ok "queue, filters, detail"

# 5. Triage by a responder; every step recorded with who and when.
[ "$(req POST /api/alerts/$ID/triage '{"step":"acknowledge"}')" = 200 ] || fail "acknowledge: $(cat "$T/out")"
[ "$(jq -r .status "$T/out")" = acknowledged ] && [ "$(jq -r .acknowledged_by "$T/out")" = alice ] || fail "not acknowledged"
[ "$(req POST /api/alerts/$ID/triage '{"step":"acknowledge"}')" = 409 ] || fail "acknowledged twice"
[ "$(req POST /api/alerts/$ID/triage '{"step":"assign","arg":"root1"}')" = 200 ] || fail "assign"
[ "$(req POST /api/alerts/$ID/triage '{"step":"assign","arg":"olga"}')" = 400 ] || fail "assigned to an auditor"
[ "$(req POST /api/alerts/$ID/triage '{"step":"note","arg":"Called the school safeguarding lead."}')" = 200 ] || fail "note"
[ "$(req POST /api/alerts/$ID2/triage '{"step":"false_positive"}')" = 400 ] || fail "false positive without a reason"
[ "$(req POST /api/alerts/$ID2/triage '{"step":"false_positive","arg":"Family photo; hash collision confirmed by examiner."}')" = 200 ] || fail "false positive"
[ "$(req POST /api/alerts/$ID/triage '{"step":"close","arg":"Referred to police."}')" = 200 ] || fail "close"
req GET /api/alerts/$ID >/dev/null
[ "$(jq -r '[.actions[].action] | join(",")' "$T/out")" = acknowledge,assign,note,close ] || fail "actions: $(jq -c .actions "$T/out")"
[ "$(jq -r '[.actions[] | select(.user == "alice" and (.at | test("^20")))] | length' "$T/out")" = 4 ] || fail "actions lack who/when"
[ "$(jq -r '.notes[0].text' "$T/out")" = "Called the school safeguarding lead." ] || fail "note not stored"
ok "triage steps recorded with who and when"

# 6. Exports: JSON attachment and the printable incident report.
[ "$(req GET /api/alerts/$ID/export)" = 200 ] || fail "export"
grep -qi 'content-disposition: attachment' "$T/hdr" || fail "export is not an attachment"
[ "$(jq -r .alert_id "$T/out")" = "$ID" ] && jq -e .signed_body "$T/out" >/dev/null || fail "export lacks the signed original"
[ "$(jq -r '.signed_body | fromjson | .payload | @base64d | fromjson | .alert_id' "$T/out")" = "$ID" ] || fail "the signed original does not decode"
[ "$(req GET /report/$ID)" = 200 ] || fail "report"
for s in "Incident report" ASSET-0001 "Referred to police." "Called the school safeguarding lead." alice "$ID" "Date and time" "Action taken"; do
	grep -q "$s" "$T/out" || fail "report lacks '$s'"
done
grep -q '<script>' "$T/out" && fail "report has an inline script"
# the region: the whole image for an alert without one, the box of a
# picture found inside a frame in the export and the report
[ "$(req GET /api/alerts/$ID/export)" = 200 ] && jq -e '.region == "whole" and .box == null' "$T/out" >/dev/null ||
	fail "export of an alert without a region: $(jq -c '{region, box}' "$T/out")"
[ "$(req GET /api/alerts/$ID2/export)" = 200 ] &&
	jq -e '.region == "inner" and .box == [160, 100, 1600, 1004]' "$T/out" >/dev/null ||
	fail "export of an inner-region alert: $(jq -c '{region, box}' "$T/out")"
[ "$(req GET /report/$ID2)" = 200 ] && grep -q 'inside a border or frame' "$T/out" &&
	grep -q '1600 &times; 1004 pixels' "$T/out" || fail "the report does not say where the picture was found"
ok "JSON export and incident report"

# 7. Roles: an auditor reads but cannot act; sees the staff action log.
ALICE_CSRF=$CSRF; JAR=$T/jar2; CSRF=
# olga is rate-limited from step 3; root1 is the admin.
[ "$(req POST /api/login '{"user":"root1","password":"admin password 12"}')" = 200 ] || fail "admin login"
CSRF=$(jq -r .csrf "$T/out")
[ "$(req GET /api/actions)" = 200 ] || fail "admin cannot read the action log"
jq -e --arg id "$ID" '[.[] | select(.action == "export_report" and .user == "alice" and .alert_id == $id)] | length == 1' "$T/out" >/dev/null || fail "export not in the action log"
jq -e '[.[] | select(.action == "login")] | length >= 2' "$T/out" >/dev/null || fail "logins not in the action log"
TOKEN=$("$RCV" token add --db "$DB" --label siem olga) || fail "token add"
[ "$($C -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/alerts?status=all")" = 200 ] || fail "bearer token refused"
[ "$(jq length "$T/out")" = 2 ] || fail "token sees $(jq length "$T/out") alerts"
[ "$($C -o "$T/out" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data '{"step":"reopen"}' "$URL/api/alerts/$ID/triage")" = 403 ] || fail "an auditor token could triage"
[ "$($C -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/")" = 302 ] || fail "a token opened a page"
ok "roles and API tokens"

# 8. Logout ends the session.
JAR=$T/jar; CSRF=$ALICE_CSRF
old=$(awk '$6 == "__Host-hw_session" {print $7}' "$T/jar")
[ ${#old} = 64 ] || fail "no session cookie in the jar"
[ "$(req POST /api/logout '{}')" = 200 ] || fail "logout: $(cat "$T/out")"
[ "$($C -o /dev/null -w '%{http_code}' -H "Cookie: __Host-hw_session=$old" "$URL/api/alerts")" = 401 ] || fail "the old session cookie still works after logout"
ok "logout"

# 9. Retention: closed alerts older than N days go, open ones stay.
rcv_stop
"$RCV" purge --db "$DB" 1 | grep -q 'purged 0' || fail "purged fresh alerts"
python3 - "$DB" <<'PY' || fail "could not age the alerts"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE alerts SET closed_at = closed_at - 3 * 86400 WHERE closed_at IS NOT NULL")
db.commit()
PY
"$RCV" purge --db "$DB" 2 | grep -q 'purged 2' || fail "did not purge the two closed alerts"
[ "$(alert_count)" = 0 ] || fail "closed alerts left"
rcv_start --retention-days 30
[ "$(post /v1/alerts "$T/b1")" = 201 ] || fail "an alert purged by retention could not be redelivered"
[ "$(alert_count)" = 1 ] || fail "open alert count"
ok "retention purge"
echo PASS
