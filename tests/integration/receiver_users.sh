#!/bin/bash
# receiver_users.sh - an admin disables and enables staff logins on the
# command line while the receiver runs over real TLS: a disabled user's
# login is refused like a wrong password (the log says why), their live
# session and API token stop working at once, enabling brings the login
# back (not the old token), the last enabled admin cannot be disabled, and
# each action is in the staff action log with who (cli:OS-USER) and when;
# then the same through the dashboard's API as an admin.
# Then the idle session timeout (--session-idle 4s): a session slides on
# use, ends after the idle time, and an API token is not affected.
# Also: a version-2 database (before this schema step) is migrated.
. "$(dirname "$0")/receiver.lib"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

rcv_certs
ME=cli:$(id -un)
echo 'correct horse battery' | "$RCV" user add --db "$DB" --role responder alice >/dev/null || fail "user add"
echo 'admin password 12' | "$RCV" user add --db "$DB" --role admin root1 >/dev/null || fail "user add admin"
echo 'admin password 34' | "$RCV" user add --db "$DB" --role admin root2 >/dev/null || fail "user add admin 2"
echo 'auditor password 1' | "$RCV" user add --db "$DB" --role auditor olga >/dev/null || fail "user add auditor"

# 0. A database from before this schema step (version 2: no disabled_at,
# no last_used) is brought up to date on open.
python3 - "$DB" <<'PY' || fail "could not make a version-2 database"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("ALTER TABLE users DROP COLUMN disabled_at")
db.execute("ALTER TABLE users DROP COLUMN disabled_by")
db.execute("ALTER TABLE credentials DROP COLUMN last_used")
db.execute("PRAGMA user_version = 2")
db.commit()
PY
"$RCV" user list --db "$DB" --json >"$T/users" || fail "user list on a version-2 database"
[ "$(jq -s '[.[] | select(.disabled == false)] | length' "$T/users")" = 4 ] || fail "users after migration: $(cat "$T/users")"
[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$DB")" = 3 ] ||
	fail "the schema was not migrated to version 3"
ok "a version-2 database is migrated"

ALICE_TOKEN=$("$RCV" token add --db "$DB" alice) || fail "token add alice"
AUDIT_TOKEN=$("$RCV" token add --db "$DB" --label siem olga) || fail "token add olga"
rcv_start --session-idle 4s

C="curl -sS --cacert $T/ca.pem"
# login USER PASSWORD: status; the cookie in $T/jar.USER, the body in $T/out.
login() {
	$C -c "$T/jar.$1" -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$(jq -cn --arg u "$1" --arg p "$2" '{user: $u, password: $p}')" "$URL/api/login"
}
# with_cookie USER PATH / with_token TOKEN PATH: status.
with_cookie() { $C -b "$T/jar.$1" -o "$T/out" -w '%{http_code}' "$URL$2"; }
with_token() { $C -H "Authorization: Bearer $1" -o "$T/out" -w '%{http_code}' "$URL$2"; }

# 1. A live session and token end the moment the user is disabled.
[ "$(login alice 'correct horse battery')" = 200 ] || fail "login: $(cat "$T/out")"
[ "$(with_cookie alice /api/session)" = 200 ] || fail "fresh session refused"
[ "$(with_token "$ALICE_TOKEN" /api/alerts)" = 200 ] || fail "token refused"
"$RCV" user disable --db "$DB" alice >"$T/msg" || fail "user disable"
[ "$(with_cookie alice /api/session)" = 401 ] || fail "a disabled user's session still works"
[ "$(with_cookie alice /)" = 302 ] || fail "a disabled user's session still opens pages"
[ "$(with_token "$ALICE_TOKEN" /api/alerts)" = 401 ] || fail "a disabled user's token still works"
"$RCV" user list --db "$DB" | grep -Eq '^alice +responder +disabled ' || fail "user list: $("$RCV" user list --db "$DB")"
"$RCV" user list --db "$DB" --json | jq -se --arg me "$ME" '.[] | select(.name == "alice") |
	.disabled == true and .disabled_by == $me and (.disabled_at | test("^20"))' >/dev/null ||
	fail "user list --json: $("$RCV" user list --db "$DB" --json)"
"$RCV" user disable --db "$DB" alice | grep -q 'already disabled' || fail "disabling twice"
"$RCV" token add --db "$DB" alice >/dev/null 2>"$T/err" && fail "made a token for a disabled user"
grep -q 'disabled' "$T/err" || fail "token add for a disabled user: $(cat "$T/err")"
ok "disable: session and token refused at once; user list shows it"

# 2. The disabled user's login (right password) is refused exactly like a
# wrong password; the server's log says the account is disabled.
[ "$(login alice 'wrong password 99')" = 401 ] || fail "wrong password"
cp "$T/out" "$T/wrong"
[ "$(login alice 'correct horse battery')" = 401 ] || fail "a disabled user logged in"
cmp -s "$T/out" "$T/wrong" || fail "the refusal differs from a wrong password: $(cat "$T/out")"
grep -q 'alice.*account disabled\|account disabled.*alice' "$T/server.log" || fail "the log does not say the account is disabled"
ok "disabled login refused like a bad password; logged as disabled"

# 3. Enabling brings the login back, not the old token.
"$RCV" user enable --db "$DB" alice >/dev/null || fail "user enable"
[ "$(login alice 'correct horse battery')" = 200 ] || fail "login after enable: $(cat "$T/out")"
[ "$(with_token "$ALICE_TOKEN" /api/alerts)" = 401 ] || fail "the old token came back with enable"
"$RCV" user list --db "$DB" --json | jq -se '.[] | select(.name == "alice") | .disabled == false' >/dev/null || fail "not enabled"
ok "enable"

# 4. The last enabled admin stays.
"$RCV" user disable --db "$DB" root2 >/dev/null || fail "disable one of two admins"
"$RCV" user disable --db "$DB" root1 >/dev/null 2>"$T/err"
[ $? = 2 ] || fail "disabled the last enabled admin"
grep -q 'last enabled admin' "$T/err" || fail "unclear message: $(cat "$T/err")"
"$RCV" user list --db "$DB" --json | jq -se '.[] | select(.name == "root1") | .disabled == false' >/dev/null || fail "root1 was disabled"
"$RCV" user enable --db "$DB" root2 >/dev/null || fail "enable root2"
"$RCV" user disable --db "$DB" root1 >/dev/null || fail "disable root1 with another admin enabled"
"$RCV" user disable --db "$DB" nobody 2>/dev/null; [ $? = 2 ] || fail "disabled a user that does not exist"
ok "the last enabled admin cannot be disabled"

# 5. Every action is in the staff action log with who and when.
[ "$(with_token "$AUDIT_TOKEN" /api/actions)" = 200 ] || fail "action log"
[ "$(jq -r --arg me "$ME" '[.[] | select(.user == $me and (.at | test("^20")) and
	(.action | test("^user_(en|dis)able$"))) | "\(.action) \(.detail)"] | reverse | join(",")' "$T/out")" = \
	"user_disable alice,user_enable alice,user_disable root2,user_enable root2,user_disable root1" ] ||
	fail "action log: $(jq -c '[.[] | select(.action | test("able"))]' "$T/out")"
jq -e --arg me "$ME" '[.[] | select(.action == "user_add" and .user == $me)] | length == 4' "$T/out" >/dev/null ||
	fail "user add is not in the action log as done by $ME"
ok "actions recorded with who ($ME) and when"

# 5b. The same from the dashboard's API: admins only, with the session's
# CSRF token; an admin cannot disable their own login; errors say which.
# post_as USER PATH [CSRF]: status of a POST with USER's session cookie.
post_as() {
	$C -b "$T/jar.$1" -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' \
		${3:+-H "X-CSRF-Token: $3"} --data-binary '{}' "$URL$2"
}
[ "$(login root2 'admin password 34')" = 200 ] || fail "admin login: $(cat "$T/out")"
CSRF=$(jq -r .csrf "$T/out")
[ "$(login alice 'correct horse battery')" = 200 ] || fail "login: $(cat "$T/out")"
ALICE_CSRF=$(jq -r .csrf "$T/out")
[ "$(post_as alice /api/users/olga/disable "$ALICE_CSRF")" = 403 ] || fail "a responder disabled a user"
[ "$(post_as root2 /api/users/olga/disable)" = 403 ] || fail "no CSRF token, yet: $(cat "$T/out")"
[ "$(with_token "$AUDIT_TOKEN" /api/alerts)" = 200 ] || fail "olga's token refused before"
[ "$(post_as root2 /api/users/olga/disable "$CSRF")" = 200 ] || fail "admin disable: $(cat "$T/out")"
[ "$(with_token "$AUDIT_TOKEN" /api/alerts)" = 401 ] || fail "a user disabled from the dashboard kept their token"
[ "$(post_as root2 /api/users/olga/disable "$CSRF")" = 409 ] && jq -e '.error == "wrong_state"' "$T/out" >/dev/null ||
	fail "disabling twice: $(cat "$T/out")"
[ "$(post_as root2 /api/users/root2/disable "$CSRF")" = 409 ] && jq -e '.error == "own_login"' "$T/out" >/dev/null ||
	fail "an admin disabled their own login: $(cat "$T/out")"
[ "$(post_as root2 /api/users/nobody/disable "$CSRF")" = 404 ] || fail "unknown user: $(cat "$T/out")"
[ "$(post_as root2 /api/users/olga/enable "$CSRF")" = 200 ] || fail "admin enable: $(cat "$T/out")"
[ "$(with_cookie root2 /api/users)" = 200 ] && jq -e '.[] | select(.name == "olga") | .disabled == false' "$T/out" >/dev/null ||
	fail "olga not enabled: $(cat "$T/out")"
[ "$(with_cookie root2 /api/actions)" = 200 ] || fail "action log"
[ "$(jq -r '[.[] | select(.user == "root2" and (.action | test("^user_"))) | "\(.action) \(.detail)"] | reverse | join(",")' "$T/out")" = \
	"user_disable olga,user_enable olga" ] || fail "action log: $(jq -c '[.[] | select(.user == "root2")]' "$T/out")"
ok "dashboard API: an admin disables and enables logins (CSRF, own login and errors checked, logged)"

# 6. Idle timeout (4 s here): a session slides with use (6 s in all, never
# 4 s idle), then ends after 4 s without a request; a token has no idle
# timeout.
TOKEN2=$("$RCV" token add --db "$DB" alice) || fail "token add after enable"
[ "$(login alice 'correct horse battery')" = 200 ] || fail "login: $(cat "$T/out")"
sleep 2
[ "$(with_cookie alice /api/session)" = 200 ] || fail "session refused within the idle time"
sleep 2
[ "$(with_cookie alice /api/session)" = 200 ] || fail "session did not slide with use"
sleep 2
[ "$(with_cookie alice /api/session)" = 200 ] || fail "session did not slide with use (2)"
sleep 5
[ "$(with_cookie alice /api/session)" = 401 ] || fail "session still works after 5 s idle"
[ "$(with_cookie alice /)" = 302 ] || fail "an idle session still opens pages"
[ "$(with_token "$TOKEN2" /api/alerts)" = 200 ] || fail "a token was ended by the idle timeout"
ok "idle timeout: slides with use, ends when idle; tokens unaffected"

"$RCV" serve --session-idle 5x --listen 127.0.0.1:0 --db "$DB" 2>"$T/err"
[ $? = 2 ] && grep -q 'session-idle' "$T/err" || fail "a bad --session-idle was not refused clearly"
echo PASS
