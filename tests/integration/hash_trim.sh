#!/bin/bash
# hash_trim.sh - `hashwatch hash --trim`: a PDQ test picture put inside a
# white border (vips embed) gets an "inner" object whose box is where the
# picture is and whose PDQ is within 31 bits of the picture's own; without
# --trim, or for the unbordered picture, there is none; the
# pdq-photo-hasher text format stays exactly hash,quality,path.
set -u
BUILD=${BUILD:-build}
H=$BUILD/hashwatch
TD=${HASHWATCH_TESTDATA:-../shared/testdata}
SRC=$TD/pdq/images/bridge-mods/aaa-orig.jpg
command -v jq >/dev/null || { echo "SKIP: jq is needed to read --json output (apt-get install jq)"; exit 77; }
command -v vips >/dev/null || { echo "SKIP: the vips command is needed to make a bordered image (apt-get install libvips-tools)"; exit 77; }
[ -r "$SRC" ] || { echo "SKIP: test data $SRC not found"; exit 77; }
[ -x "$H" ] || { echo "FAIL: build $H first (make)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$H" hash --json -q -m pdq "$SRC" >"$tmp/orig" 2>"$tmp/err"
if grep -q 'not built yet\|Function not implemented' "$tmp/orig" "$tmp/err"; then
	echo "SKIP: the decoder or PDQ is still the placeholder on this branch"
	exit 77
fi
orig=$(jq -r .pdq "$tmp/orig") || fail "no JSON for $SRC"
[ "$(jq -r 'has("inner")' "$tmp/orig")" = false ] || fail "hash without --trim printed an inner region"

# 1600x1004 picture at (120, 80) on a 1900x1200 white canvas
vips embed "$SRC" "$tmp/framed.png" 120 80 1900 1200 --extend background \
	--background "255 255 255" || fail "vips embed failed"

"$H" hash --json -q -m pdq,phash "$tmp/framed.png" >"$tmp/out" || fail "hash exited $?"
[ "$(jq -r 'has("inner")' "$tmp/out")" = false ] || fail "inner region without --trim"

"$H" hash --json -q --trim -m pdq,phash "$tmp/framed.png" >"$tmp/out" || fail "hash --trim exited $?"
box=$(jq -c .inner.box "$tmp/out")
inner=$(jq -r .inner.pdq "$tmp/out")
[ "$inner" != null ] || fail "no inner PDQ: $(cat "$tmp/out")"
[ "$(jq -r '.inner | has("phash") and has("pdq_quality")' "$tmp/out")" = true ] ||
	fail "inner region lacks phash or pdq_quality: $(cat "$tmp/out")"
# The decoder shrinks a PNG of this size by 4; the box is scaled back, so
# allow a few pixels.
python3 - "$box" <<'EOF' || fail "inner box $box is not about [120,80,1600,1004]"
import json, sys
got = json.loads(sys.argv[1])
want = [120, 80, 1600, 1004]
sys.exit(0 if all(abs(g - w) <= 8 for g, w in zip(got, want)) else 1)
EOF
d=$(python3 -c "import sys; print(bin(int(sys.argv[1], 16) ^ int(sys.argv[2], 16)).count('1'))" "$orig" "$inner")
w=$(python3 -c "import sys; print(bin(int(sys.argv[1], 16) ^ int(sys.argv[2], 16)).count('1'))" "$orig" "$(jq -r .pdq "$tmp/out")")
echo "PDQ distance to the unframed picture: whole image $w, inner region $d"
[ "$d" -le 31 ] || fail "inner PDQ is $d bits from the picture's"
[ "$w" -gt 31 ] || fail "the whole framed image already matches ($w bits): the test proves nothing"

# Text mode prints the inner region with a prefix, and the pdq-only format
# stays Meta's three fields.
"$H" hash --trim -q -m pdq,phash "$tmp/framed.png" >"$tmp/out" || fail "text mode exited $?"
grep -q "inner_box=[0-9]*,[0-9]*,[0-9]*,[0-9]* inner_pdq=[0-9a-f]\{64\} " "$tmp/out" ||
	fail "text mode has no inner_box/inner_pdq: $(cat "$tmp/out")"
"$H" hash --trim -q -m pdq "$tmp/framed.png" >"$tmp/out" || fail "pdq format exited $?"
[ "$(awk -F, '{print NF}' "$tmp/out")" = 3 ] || fail "pdq-photo-hasher format changed: $(cat "$tmp/out")"
echo "ok"
