#!/bin/bash
# daemon_trim.sh - a listed picture that arrives inside a frame is found by
# hashwatchd through the hashes of the region inside the frame (trim = yes,
# the default): the list holds the PDQ hash and SHA-256 of Meta's bridge
# test image; a copy with a solid blue border of 10% per side (PNG) and a
# phone-screenshot-like copy with bars of two colours top and bottom (JPEG)
# alert with region "inner" and a box within a few pixels of where the
# picture was put; the unframed copy alerts with region "whole" and no box.
# A second list holds a padded copy (the picture on a white margin, as a
# listed image may come): that copy framed again in black alerts for it
# with region "inner_outer" (one frame out from the innermost region) and
# its box, and for the first list with region "inner" (the bare picture).
# The audit log's match records say the region too.  Then with trim = no a
# framed copy in another colour gives no alert while a plain copy still
# does.  Images are made here with `vips embed`.
. "$(dirname "$0")/daemon_lib/common.sh"
DATA=${HASHWATCH_TESTDATA:-../shared/testdata}/pdq/images
ORIG=$DATA/bridge-mods/aaa-orig.jpg
[ -f "$ORIG" ] || skip "test images not found in $DATA"
command -v vips >/dev/null || skip "the vips command (libvips-tools) is not installed"
setup
"$HW" hash --models pdq "$ORIG" >/dev/null 2>&1 ||
	skip "the image decoder is not built yet ('hashwatch hash --models pdq' fails)"

P=$T/home/alice/Pictures
read -r W H < <(vipsheader -f width "$ORIG" | tr '\n' ' '; vipsheader -f height "$ORIG")
# padded: the picture on a white margin of 1/12 per side (listed as such);
# nested: that padded picture inside a near-black frame of 10% per side
px=$((W / 12)) py=$((H / 12))
PW=$((W + 2 * px)) PH=$((H + 2 * py))
fx=$((PW / 10)) fy=$((PH / 10))
vips embed "$ORIG" "$T/padded.png" $px $py $PW $PH --extend background --background "255 255 255" &&
	vips embed "$T/padded.png" "$T/nested.png" $fx $fy $((PW + 2 * fx)) $((PH + 2 * fy)) \
		--extend background --background "10 10 10" || fail "vips embed"
make_pdq_list padtest "$T/padded.png"
make_pdq_list trimtest "$ORIG"

# framed: 10% of each side in solid blue around the picture
bx=$((W / 10)) by=$((H / 10))
vips embed "$ORIG" "$T/framed.png" $bx $by $((W + 2 * bx)) $((H + 2 * by)) \
	--extend background --background "30 60 200" || fail "vips embed"
# screenshot-like: a dark status bar of 150 rows, a light bar of 200 below
vips embed "$ORIG" "$T/bar.v" 0 150 "$W" $((H + 150)) --extend background --background "20 20 20" &&
	vips embed "$T/bar.v" "$T/shot.jpg[Q=90]" 0 0 "$W" $((H + 350)) \
		--extend background --background "240 240 240" || fail "vips embed"
# the framed copy must not match as a whole, or this test shows nothing
whole=$("$HW" hash --json --models pdq "$T/framed.png" | jq -r .pdq)
d=$(python3 -c "print(bin(int('$whole',16) ^ int('$PDQ',16)).count('1'))")
note "PDQ distance of the framed copy as a whole: $d"
[ "$d" -gt 31 ] || skip "the framed copy matches as a whole (distance $d): the frame is too thin to test trimming"

write_conf
start_daemon
wait_crawled 1
cp "$ORIG" "$P/plain.jpg"
cp "$T/framed.png" "$P/framed.png"
cp "$T/shot.jpg" "$P/shot.jpg"
cp "$T/nested.png" "$P/nested.png"
expect_alerts 5 30
by_sha() { alerts_json | jq -c --arg s "$(sha256sum "$1" | cut -d' ' -f1)" 'select(.file_sha256 == $s)'; }
by_sha "$P/plain.jpg" | jq -e '.region == "whole" and (has("box") | not) and .distance == 0 and
	.confirmed' >/dev/null || fail "plain copy: $(by_sha "$P/plain.jpg")"
# box error: the largest difference of a coordinate from the truth
box_err() {
	by_sha "$1" | jq -r --argjson t "$2" '[range(4) as $i | (.box[$i] - $t[$i]) | fabs] | max'
}
for f in framed.png:"[$bx,$by,$W,$H]" shot.jpg:"[0,150,$W,$H]"; do
	name=${f%%:*} truth=${f#*:}
	a=$(by_sha "$P/$name")
	echo "$a" | jq -e '.region == "inner" and .model == "pdq" and .distance <= 31 and
		(.box | length) == 4 and (.confirmed | not)' >/dev/null || fail "$name: $a"
	e=$(box_err "$P/$name" "$truth")
	note "$name: box $(echo "$a" | jq -c .box), truth $truth, largest error $e px, PDQ distance $(echo "$a" | jq .distance)"
	[ "$e" -le 4 ] || fail "$name: the box $(echo "$a" | jq -c .box) is $e px from $truth"
done
# nested: the padded picture one frame out, the bare picture inside
a=$(by_sha "$P/nested.png" | jq -c 'select(.region == "inner_outer")')
echo "$a" | jq -e '.list_id == "padtest" and .model == "pdq" and .distance <= 31 and (.box | length) == 4' >/dev/null ||
	fail "nested.png: no inner_outer alert for the padded list: $(by_sha "$P/nested.png")"
e=$(echo "$a" | jq -r --argjson t "[$fx,$fy,$PW,$PH]" '[range(4) as $i | (.box[$i] - $t[$i]) | fabs] | max')
note "nested.png: inner_outer box $(echo "$a" | jq -c .box), truth [$fx,$fy,$PW,$PH], largest error $e px, PDQ distance $(echo "$a" | jq .distance)"
[ "$e" -le 4 ] || fail "nested.png: the inner_outer box $(echo "$a" | jq -c .box) is $e px from [$fx,$fy,$PW,$PH]"
by_sha "$P/nested.png" | jq -e -s 'any(.[]; .region == "inner" and .list_id == "trimtest" and .distance <= 31)' >/dev/null ||
	fail "nested.png: no inner alert for the bare picture: $(by_sha "$P/nested.png")"
for f in "$T"/state/spool/*.json; do verify_alert "$f" || fail "signature of $f"; done
# the audit log's match records say the region (and the box inside a frame)
jq -c 'select(.type == "match") | .fields' "$T/state/audit.log" > "$T/matches.json"
[ "$(jq -s 'map(select(.region == "inner" and (.box | length) == 4)) | length' "$T/matches.json")" -eq 3 ] &&
	[ "$(jq -s 'map(select(.region == "inner_outer" and (.box | length) == 4)) | length' "$T/matches.json")" -eq 1 ] &&
	[ "$(jq -s 'map(select(.region == "whole")) | length' "$T/matches.json")" -eq 1 ] ||
	fail "audit match records: $(cat "$T/matches.json")"
stop_daemon

# trim = no: a framed copy (another colour, so another file) is not found,
# a plain copy still is
vips embed "$ORIG" "$T/framed2.png" $bx $by $((W + 2 * bx)) $((H + 2 * by)) \
	--extend background --background "200 30 30" || fail "vips embed"
write_conf
sed -i 's/^\[lists\]$/[policy]\ntrim = no\n[lists]/' "$T/hw.conf"
start_daemon
wait_crawled 2
cp "$T/framed2.png" "$P/framed2.png"
vips copy "$ORIG" "$P/plain2.png" || fail "vips copy"
expect_alerts 6 30
wait_for 10 "grep -q 'scanned=2 ' '$T/notify.log'" || fail "the two new files were not both hashed: $(tail -1 "$T/notify.log")"
[ -z "$(by_sha "$P/framed2.png")" ] || fail "trim = no, yet the framed copy alerted: $(by_sha "$P/framed2.png")"
by_sha "$P/plain2.png" | jq -e '.region == "whole"' >/dev/null || fail "plain2: $(by_sha "$P/plain2.png")"
stop_daemon
echo "PASS: framed and screenshot copies alert with region inner and a box within 4 px; a framed padded copy alerts with inner_outer; plain copies say whole; trim = no turns it off"
