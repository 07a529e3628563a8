#!/bin/bash
# uplink_retry.sh - when the receiver is busy or failing, the uplink keeps
# the alert and tries again: never earlier than a Retry-After asks (in
# seconds on a 503, as an HTTP date on a 429), and otherwise after an
# exponential back-off with jitter (each delay in [d/2, d], d doubling from
# retry_min).  Times are the receiver's arrival times of each attempt.
# The stand-in receiver is used: the real one cannot be made to answer 503
# or 429 on demand.
. "$(dirname "$0")/uplink.lib"

mk_certs
mk_device

# attempt_gaps: seconds between consecutive attempts of the alert in $T/ids.
attempt_gaps() {
	jq -r --arg id "$(tail -1 "$T/ids")" 'select(.alert_id == $id) | .t' "$T/requests.log" |
		awk 'NR > 1 { printf "%.3f\n", $1 - prev } { prev = $1 }'
}

# run_case NAME STAND-IN-OPTIONS...: one alert through a failing receiver.
run_case() {
	local name=$1; shift
	srv_start --standin "$@"
	write_conf "retry_min = 1" "retry_max = 4"
	mk_alerts 1
	uplink_start
	wait_for 20 '[ "$(spooled)" -eq 0 ]' || fail "$name: the alert was not delivered after the failures"
	uplink_stop
	srv_stop
	[ ! -d "$SPOOL/rejected" ] || [ -z "$(ls "$SPOOL/rejected")" ] || fail "$name: the alert was set aside"
	attempt_gaps >"$T/gaps"
}

# within LOW HIGH: every gap in $T/gaps (one per line) is in [LOW, HIGH].
gaps_within() {
	awk -v lo="$1" -v hi="$2" '$1 < lo || $1 > hi { bad = 1 } END { exit bad }' "$T/gaps"
}

run_case "503 + Retry-After: 2" --fail-first 1 --fail-status 503 --retry-after 2
[ "$(wc -l <"$T/gaps")" -eq 1 ] || fail "503: expected 2 attempts, gaps: $(cat "$T/gaps")"
# The back-off alone would wait 0.5..1 s; Retry-After must win.
gaps_within 2.0 3.5 || fail "503 with Retry-After: 2: next attempt after $(cat "$T/gaps") s"
ok "503 with Retry-After: 2 -> next attempt after $(cat "$T/gaps") s"

run_case "429 + Retry-After date" --fail-first 1 --fail-status 429 --retry-after http-date+3
# The date has whole seconds: now + 3 s rounded down is at least 2 s away.
gaps_within 2.0 4.5 || fail "429 with a Retry-After date 3 s ahead: next attempt after $(cat "$T/gaps") s"
ok "429 with Retry-After as an HTTP date 3 s ahead -> next attempt after $(cat "$T/gaps") s"

run_case "500 x3, back-off" --fail-first 3 --fail-status 500
[ "$(wc -l <"$T/gaps")" -eq 3 ] || fail "500: expected 4 attempts, gaps: $(cat "$T/gaps" | tr '\n' ' ')"
# d = 1, 2, 4 s: the delays lie in [0.5, 1], [1, 2], [2, 4] (+0.3 s for a
# loaded machine's scheduling).
sed -n 1p "$T/gaps" >"$T/g" && awk '$1 < 0.5 || $1 > 1.3 { exit 1 }' "$T/g" || fail "first back-off $(cat "$T/g") s, expected 0.5..1"
sed -n 2p "$T/gaps" >"$T/g" && awk '$1 < 1.0 || $1 > 2.3 { exit 1 }' "$T/g" || fail "second back-off $(cat "$T/g") s, expected 1..2"
sed -n 3p "$T/gaps" >"$T/g" && awk '$1 < 2.0 || $1 > 4.3 { exit 1 }' "$T/g" || fail "third back-off $(cat "$T/g") s, expected 2..4"
ok "500 three times: back-off $(tr '\n' ' ' <"$T/gaps")s (exponential, jittered)"

check_exactly_once
ok "each alert stored once after its failures"
