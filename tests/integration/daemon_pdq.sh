#!/bin/bash
# daemon_pdq.sh - perceptual matches through the real decoder and PDQ in
# the worker processes: a list holding the PDQ hash (and the SHA-256) of
# Meta's bridge test image; the exact copy alerts as a confirmed PDQ match
# (PDQ and SHA-256 agree), a blurred and a shrunk version and a rotation
# (dihedral variant) alert as unconfirmed PDQ matches; other images do not
# alert.  Test images: $HASHWATCH_TESTDATA/pdq/images (Meta's PDQ set).
. "$(dirname "$0")/daemon_lib/common.sh"
DATA=${HASHWATCH_TESTDATA:-../shared/testdata}/pdq/images
ORIG=$DATA/bridge-mods/aaa-orig.jpg
[ -f "$ORIG" ] || skip "test images not found in $DATA"
setup
"$HW" hash --models pdq "$ORIG" >/dev/null 2>&1 ||
	skip "the image decoder is not built yet ('hashwatch hash --models pdq' fails)"

P=$T/home/alice/Pictures
make_pdq_list pdqtest "$ORIG"
write_conf
start_daemon
wait_crawled 1

cp "$ORIG" "$P/copy.jpg"
cp "$DATA/bridge-mods/blur-a-little.jpg" "$P/blurred.jpg"
cp "$DATA/bridge-mods/shrink-a-lot.jpg" "$P/small.jpg"
cp "$DATA/reg-test-input/dih/bridge-2-rotate-90.jpg" "$P/turned.jpg"
cp "$DATA/reg-test-input/pen-and-coaster.png" "$P/other.png"
cp "$DATA/misc-images/small.jpg" "$P/other2.jpg"

expect_alerts 4 30
by_sha() { alerts_json | jq -c --arg s "$(sha256sum "$1" | cut -d' ' -f1)" 'select(.file_sha256 == $s)'; }
by_sha "$P/copy.jpg" | jq -e '.model == "pdq" and .distance == 0 and .confirmed and
	(.signals | sort) == ["pdq", "sha256"] and .quality >= 50 and .dihedral_variant == 0' >/dev/null ||
	fail "exact copy: $(by_sha "$P/copy.jpg")"
for f in blurred small turned; do
	by_sha "$P/$f.jpg" | jq -e '.model == "pdq" and .distance <= 31 and (.confirmed | not)' >/dev/null ||
		fail "$f: $(by_sha "$P/$f.jpg")"
done
by_sha "$P/turned.jpg" | jq -e '.dihedral_variant != 0' >/dev/null ||
	fail "the rotated copy did not match through a dihedral variant: $(by_sha "$P/turned.jpg")"
[ -z "$(by_sha "$P/other.png")$(by_sha "$P/other2.jpg")" ] || fail "an unrelated image alerted"
for f in "$T"/state/spool/*.json; do verify_alert "$f" || fail "signature of $f"; done
stop_daemon
echo "PASS: 4 PDQ alerts (1 confirmed), unrelated images silent"
