#!/bin/bash
# uplink_tls.sh - the uplink delivers only to the receiver it was told to
# trust: a certificate from another CA, the system store instead of the
# district's CA, a host name the certificate does not carry, or a public
# key that does not match pin each stop delivery with a message saying
# which, keep every alert in the spool (nothing set aside: the fault is not
# the alert's) and exit 2; the right pin delivers.
. "$(dirname "$0")/uplink.lib"

mk_certs
mk_device
srv_start
mk_alerts 3

# refused NAME TEXT CONF-LINES...: --once must fail with TEXT, alerts kept.
refused() {
	local name=$1 text=$2; shift 2
	write_conf "$@"
	"$UPL" --config "$T/uplink.conf" --once >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] || fail "$name: exit $rc, expected 2: $(cat "$T/err")"
	grep -q -- "$text" "$T/err" || fail "$name: message lacks '$text': $(cat "$T/err")"
	[ "$(spooled)" -eq 3 ] || fail "$name: $(spooled) alerts left in the spool, expected 3"
	[ ! -d "$SPOOL/rejected" ] || [ -z "$(ls "$SPOOL/rejected")" ] || fail "$name: alerts were set aside"
	[ -z "$(srv_stored)" ] || fail "$name: the receiver stored an alert"
	ok "$name: refused ($(grep -o -- "$text[^;]*" "$T/err" | head -1 | cut -c1-110))"
}

refused "certificate from another CA" "certificate was not accepted" "ca_file = $T/other-ca.pem"
refused "system CA store (no ca_file)" "certificate was not accepted\|cannot use ca_file" -ca_file
refused "host name not in the certificate" "certificate was not accepted" "url = https://localhost:$PORT"
refused "wrong pin" "public key does not match pin" "pin = $(pin_of "$T/other-ca.pem")"

write_conf "pin = $(pin_of "$T/server.pem")"
"$UPL" --config "$T/uplink.conf" --once --json >"$T/out" 2>>"$T/uplink.log" || fail "right pin: $(cat "$T/out")"
[ "$(jq .delivered "$T/out")" -eq 3 ] || fail "right pin: $(cat "$T/out")"
check_exactly_once
ok "right pin (and CA): 3 alerts delivered to the receiver"
grep -q "certificate was not accepted" "$USTATE/uplink-audit.log" || fail "the TLS failures are not in the audit log"
ok "the TLS failures are in the uplink's audit log"
