#!/bin/bash
# uplink_chain.sh - the whole chain on one machine, over real TLS: one
# hashwatch.conf for the scanner and the uplink, the device enrolled from
# the scanner's own device.pub, a listed file dropped into a watched
# folder, and the receiver storing that alert with the scanner's fields
# and signature; the scanner's heartbeat reaches the fleet view with its
# list and an audit chain head that verifies against the laptop's log;
# both audit logs tell the same story (queued by the scanner, delivered by
# the uplink).
. "$(dirname "$0")/uplink.lib"

[ -x "$HW" ] && [ -x "$HWD" ] || fail "$HW or $HWD not built"
HWD_PID=
trap '[ -n "$HWD_PID" ] && kill -9 "$HWD_PID" 2>/dev/null; cleanup' EXIT

mk_certs
srv_start --standin # only to learn a free port; the real receiver follows
srv_stop

# A signed list with one entry: the SHA-256 of a file we will "find";
# one configuration file for both programs.
head -c 4096 /dev/urandom >"$T/listed.bin"
chain_list chain-test 3 "$T/listed.bin"
chain_conf
"$UPL" --check-config --config "$T/uplink.conf" >/dev/null || fail "the uplink refuses the shared file"

"$HWD" --config "$T/uplink.conf" --foreground >>"$T/daemon.log" 2>&1 &
HWD_PID=$!
wait_for 30 '[ -s "$STATE/device.pub" ] && [ -f "$SPOOL/heartbeat" ]' ||
	fail "hashwatchd did not start: $(tail -5 "$T/daemon.log")"
ok "hashwatchd runs on the shared configuration and wrote device.pub and a heartbeat"

# The response team enrolls the laptop from the file the scanner wrote.
cp "$STATE/device.pub" "$T/dev.pub"
srv_start
uplink_start
cp "$T/listed.bin" "$T/home/alice/Pictures/found.jpg"
wait_for 30 '[ -n "$(srv_stored)" ]' || fail "no alert reached the receiver: $(tail -5 "$T/uplink.log")"
wait_for 10 '[ "$(spooled)" -eq 0 ]' || fail "the delivered alert is still in the spool"
"$RCV" alerts --db "$T/receiver.db" --json >"$T/stored"
[ "$(wc -l <"$T/stored")" -eq 1 ] || fail "the receiver holds $(wc -l <"$T/stored") alerts, expected 1"
jq -e --arg sha "$(sha256sum "$T/listed.bin" | cut -d' ' -f1)" --arg dev "$DEVICE" \
	'.file_sha256 == $sha and .device_id == $dev and .list_id == "chain-test" and
	 .list_version == 3 and .entry_id == "E-0001" and .model == "sha256" and .distance == 0 and
	 .region == "whole" and .box == null' \
	"$T/stored" >/dev/null || fail "stored alert: $(cat "$T/stored")"
id=$(jq -r .alert_id "$T/stored")
ok "alert $id: found by the scanner, delivered by the uplink, stored by the receiver"

# The heartbeat: the fleet view shows the list and the scanner's chain.
wait_for 20 '"$RCV" devices --db "$T/receiver.db" --json | jq -e "select(.lists != null)" >/dev/null' ||
	fail "no heartbeat in the fleet view"
"$RCV" devices --db "$T/receiver.db" --json >"$T/fleet"
jq -e '.lists[0].id == "chain-test" and .lists[0].version == 3 and .audit_seq > 0 and
	(.audit_head | length) == 64' "$T/fleet" >/dev/null || fail "fleet view: $(cat "$T/fleet")"
seq=$(jq -r .audit_seq "$T/fleet")
"$HW" audit verify --seq "$seq" --head "$(jq -r .audit_head "$T/fleet")" "$STATE/audit.log" >/dev/null ||
	fail "the chain head the receiver holds does not verify against the scanner's log"
ok "heartbeat in the fleet view: list chain-test v3, audit seq $seq, head verified against the laptop's log"

# Both audit logs (read once both programs have stopped writing them):
# queued by the scanner, delivered by the uplink.
uplink_stop
kill "$HWD_PID"; wait "$HWD_PID" 2>/dev/null; HWD_PID=
jq -s -e --arg id "$id" 'any(.[]; .type == "alert_queued" and .fields.alert_id == $id)' \
	"$STATE/audit.log" >/dev/null || fail "the scanner's audit log has no alert_queued for $id"
jq -s -e --arg id "$id" 'any(.[]; .type == "alert_delivered" and .fields.alert_id == $id)' \
	"$USTATE/uplink-audit.log" >/dev/null || fail "the uplink's audit log has no delivery of $id"
"$HW" audit summary --json "$USTATE/uplink-audit.log" |
	jq -e --arg id "$id" 'any(.alerts[]; .alert_id == $id and .status == "delivered")' >/dev/null ||
	fail "hashwatch audit summary does not list $id as delivered"
ok "the scanner's audit log queued it, the uplink's delivered it"
