#!/bin/bash
# uplink_retry.sh - when the receiver is busy or failing, the uplink keeps
# the alert and tries again: never earlier than a Retry-After asks (in
# seconds on a 503, as an HTTP date on a 429), and otherwise after an
# exponential back-off with jitter (each delay in [d/2, d], d doubling from
# retry_min).  Times are the receiver's arrival times of each attempt.
# The stand-in receiver is used: the real one cannot be made to answer 503
# or 429 on demand.  One uplink and one receiver serve the three cases in
# turn (a success between them resets the back-off).
. "$(dirname "$0")/uplink.lib"

mk_certs
mk_device
# Requests 1-2: 503 then the alert; 3-4: 429 then the alert; 5-8: three 500
# then the alert.  No heartbeat file exists, so every request is an alert.
srv_start --standin --plan "503/2,ok,429/http-date+3,ok,500,500,500,ok"
write_conf "retry_min = 1" "retry_max = 4"
uplink_start

# next_case: one new alert, delivered through the failures the plan holds
# for it; the seconds between its attempts in $T/gaps.
next_case() {
	mk_alerts 1
	wait_for 20 '[ "$(spooled)" -eq 0 ]' || fail "$1: the alert was not delivered after the failures"
	[ ! -d "$SPOOL/rejected" ] || [ -z "$(ls "$SPOOL/rejected")" ] || fail "$1: the alert was set aside"
	jq -r --arg id "$(tail -1 "$T/ids")" 'select(.alert_id == $id) | .t' "$T/requests.log" |
		awk 'NR > 1 { printf "%.3f\n", $1 - prev } { prev = $1 }' >"$T/gaps"
}

# gap N LOW HIGH: the N-th gap is in [LOW, HIGH].
gap() {
	local g
	g=$(sed -n "${1}p" "$T/gaps")
	[ -n "$g" ] && awk -v g="$g" -v lo="$2" -v hi="$3" 'BEGIN { exit !(g >= lo && g <= hi) }'
}

next_case "503 + Retry-After: 2"
[ "$(wc -l <"$T/gaps")" -eq 1 ] || fail "503: expected 2 attempts, gaps: $(cat "$T/gaps")"
# The back-off alone would wait 0.5..1 s; Retry-After must win.
gap 1 2.0 3.5 || fail "503 with Retry-After: 2: next attempt after $(cat "$T/gaps") s"
ok "503 with Retry-After: 2 -> next attempt after $(cat "$T/gaps") s"

next_case "429 + Retry-After date"
# The date has whole seconds: now + 3 s rounded down is at least 2 s away.
gap 1 2.0 4.5 || fail "429 with a Retry-After date 3 s ahead: next attempt after $(cat "$T/gaps") s"
ok "429 with Retry-After as an HTTP date 3 s ahead -> next attempt after $(cat "$T/gaps") s"

next_case "500 x3, back-off"
[ "$(wc -l <"$T/gaps")" -eq 3 ] || fail "500: expected 4 attempts, gaps: $(tr '\n' ' ' <"$T/gaps")"
# d = 1, 2, 4 s: the delays lie in [0.5, 1], [1, 2], [2, 4] (+0.3 s for a
# loaded machine's scheduling; never earlier).
gap 1 0.5 1.3 || fail "first back-off $(sed -n 1p "$T/gaps") s, expected 0.5..1"
gap 2 1.0 2.3 || fail "second back-off $(sed -n 2p "$T/gaps") s, expected 1..2"
gap 3 2.0 4.3 || fail "third back-off $(sed -n 3p "$T/gaps") s, expected 2..4"
ok "500 three times: back-off $(tr '\n' ' ' <"$T/gaps")s (exponential, jittered)"

uplink_stop
check_exactly_once
ok "each alert stored once after its failures"
conns=$(jq -r .port "$T/requests.log" | sort -u | wc -l)
[ "$conns" -eq 1 ] || fail "$(wc -l <"$T/requests.log") requests used $conns TLS connections; one is reused"
ok "one TLS connection carried all $(wc -l <"$T/requests.log") requests, across the waits"
