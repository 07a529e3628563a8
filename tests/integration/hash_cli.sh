#!/bin/bash
# hash_cli.sh - `hashwatch hash` as scripts use it: --json gives one object
# per file with every default model in the documented format (digests equal
# to coreutils' md5sum/sha1sum/sha256sum), --models pdq without --json is
# Meta's pdq-photo-hasher format byte for byte (hash,quality,path; with
# --exact the hash and quality of the reference's cpp_pdq.csv), --dihedral
# gives the reference's 8 variants, folders are walked, a file that cannot
# be hashed (text named .jpg, empty file, missing path) gives an object with
# "error" while the other files are still hashed and the exit status is 1,
# and usage errors (unknown model, no files, bad option) exit 2 with a
# message that says what to do.
set -u
BUILD=${BUILD:-build}
H=$PWD/$BUILD/hashwatch
DATA=${HASHWATCH_TESTDATA:-../shared/testdata}/pdq
IMG=$DATA/images/bridge-mods/aaa-orig.jpg
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$H" ] || fail "build $H first (make)"
command -v jq >/dev/null || { echo "SKIP: jq is needed to read --json output (apt-get install jq)"; exit 77; }
[ -r "$IMG" ] || { echo "SKIP: test image $IMG not found (set HASHWATCH_TESTDATA)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# --help and usage errors
"$H" hash --help >"$T/help" || fail "--help exited $?"
grep -q '^Usage: hashwatch hash' "$T/help" || fail "--help has no usage line"
grep -q 'Exit status' "$T/help" || fail "--help does not document the exit status"
"$H" hash -m nosuch "$IMG" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "unknown model exited $rc, expected 2"
grep -q "unknown model 'nosuch'.*--list-models" "$T/err" || fail "unknown model message: $(cat "$T/err")"
"$H" hash >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "no files exited $rc, expected 2"
grep -q -- "--help" "$T/err" || fail "no-files message does not point to --help"
"$H" hash --no-such-option "$IMG" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "a bad option exited $rc, expected 2"
"$H" hash --list-models >"$T/models" || fail "--list-models exited $?"
for m in pdq phash dhash ahash md5 sha1 sha256; do
	grep -q "^ *$m\b" "$T/models" || fail "--list-models lacks $m"
done
echo "ok: --help, --list-models and usage errors (exit 2)"

# --json: every default model, hex of the right length, digests as coreutils
cp "$IMG" "$T/a.jpg"
"$H" hash --json -q "$T/a.jpg" >"$T/a.json" || fail "--json exited $?"
[ "$(wc -l <"$T/a.json")" = 1 ] || fail "--json printed $(wc -l <"$T/a.json") lines for one file"
jq -e --arg p "$T/a.jpg" '.path == $p and (.pdq | test("^[0-9a-f]{64}$")) and
	(.pdq_quality | type == "number" and . >= 0 and . <= 100) and
	(.phash | test("^[0-9a-f]{16}$")) and (.dhash | test("^[0-9a-f]{16}$")) and
	(.ahash | test("^[0-9a-f]{16}$")) and (has("error") | not)' "$T/a.json" >/dev/null ||
	fail "--json object malformed: $(cat "$T/a.json")"
for d in md5 sha1 sha256; do
	want=$(${d}sum "$T/a.jpg" | cut -d' ' -f1)
	got=$(jq -r ".$d" "$T/a.json")
	[ "$got" = "$want" ] || fail "$d is $got, ${d}sum says $want"
done
echo "ok: --json has every default model; md5/sha1/sha256 equal coreutils'"

# pdq-photo-hasher format, exact decode: the reference's own hash and quality
ref=$(awk -F, '$3 == "images/bridge-mods/aaa-orig.jpg" {print $1 "," $2}' \
	"$DATA/expected/measured/cpp_pdq.csv")
[ -n "$ref" ] || fail "aaa-orig.jpg not in cpp_pdq.csv"
"$H" hash --exact -m pdq "$T/a.jpg" >"$T/pdq" || fail "--models pdq exited $?"
[ "$(cat "$T/pdq")" = "$ref,$T/a.jpg" ] ||
	fail "pdq-photo-hasher format: got '$(cat "$T/pdq")', want '$ref,$T/a.jpg'"
echo "ok: --models pdq prints hash,quality,path as the reference does"

# --dihedral: the reference's 8 variants, in its order
want=$(awk -F, '$10 == "images/bridge-mods/aaa-orig.jpg" {print $1,$2,$3,$4,$5,$6,$7,$8; exit}' \
	"$DATA/expected/measured/cpp_pdqdih_across.csv")
got=$("$H" hash --exact --dihedral --json -q -m pdq "$T/a.jpg" | jq -r '.pdq_dihedral | join(" ")')
[ -n "$want" ] && [ "$got" = "$want" ] || fail "dihedral variants: got '$got', want '$want'"
echo "ok: --dihedral gives the reference's 8 variants"

# bad files among good ones: an error object each, the rest hashed, exit 1
mkdir -p "$T/dir/sub"
cp "$IMG" "$T/dir/sub/b.jpg"
printf 'not an image\n' >"$T/dir/text.jpg"
: >"$T/dir/empty.png"
"$H" hash --json -q "$T/dir" "$T/missing.jpg" >"$T/mix.json" 2>"$T/mix.err"; rc=$?
[ $rc = 1 ] || fail "a run with bad files exited $rc, expected 1"
[ "$(wc -l <"$T/mix.json")" = 4 ] || fail "expected 4 objects, got: $(cat "$T/mix.json")"
jq -e -s --arg d "$T/dir" --arg m "$T/missing.jpg" '
	(map(select(.path == $d + "/sub/b.jpg" and (.pdq | length) == 64 and (has("error") | not))) | length) == 1 and
	(map(select(.path == $d + "/text.jpg" and (.error | test("not an image")) and has("sha256"))) | length) == 1 and
	(map(select(.path == $d + "/empty.png" and (.error | length) > 0)) | length) == 1 and
	(map(select(.path == $m and (.error | test("No such file")))) | length) == 1' \
	"$T/mix.json" >/dev/null || fail "error objects: $(cat "$T/mix.json")"
[ ! -s "$T/mix.err" ] || fail "--json also wrote to stderr: $(cat "$T/mix.err")"
"$H" hash -q "$T/dir/text.jpg" >/dev/null 2>"$T/text.err"; rc=$?
[ $rc = 1 ] || fail "text mode, bad file: exit $rc, expected 1"
grep -q "text.jpg: not an image" "$T/text.err" || fail "text mode error: $(cat "$T/text.err")"
echo "ok: unhashable files give an error object each, the others are hashed, exit 1"

# an OpenCV model without the module: a clear error naming the package
HASHWATCH_OPENCV_MODULE=/nonexistent/hashwatch-opencv.so "$H" hash -q -m cv_phash "$T/a.jpg" \
	>/dev/null 2>"$T/cv.err"; rc=$?
[ $rc = 1 ] || fail "cv_phash without the module exited $rc, expected 1"
grep -q "hashwatch-opencv" "$T/cv.err" || fail "the error does not name the package: $(cat "$T/cv.err")"
echo "ok: an OpenCV model without its module is a clear error"
echo PASS
