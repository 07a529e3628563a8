#!/bin/bash
# tests/integration/db_cli.sh - `hashwatch db` and `hashwatch scan` end to
# end, as district IT would use them: make two signing keys, build lists
# from each text format, sign with both keys, verify (two signers
# required), read `db info --json`, look hashes up, refuse altered, unsigned
# and rolled-back lists, and scan folders with a planted file (exit 1) and
# without (exit 0).  With the PDQ test images present, the scan also finds
# a planted photo, rotated, through the PDQ dihedral variants.
set -u
BUILD=${BUILD:-build}
HW=$PWD/$BUILD/hashwatch
DATA=${HASHWATCH_TESTDATA:-$PWD/../shared/testdata}
command -v jq >/dev/null || { echo "SKIP: jq is needed to read the JSON output (apt install jq)"; exit 77; }
command -v vips >/dev/null || { echo "SKIP: vips (libvips-tools) is needed to turn a test photo"; exit 77; }
[ -x "$HW" ] || { echo "FAIL: $HW not built"; exit 1; }

# lists are written with fsync; keep the scratch folder in memory if possible
T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# run EXPECTED_EXIT CMD... : run, keep stdout/stderr in out/err, check exit
run() {
	local want=$1; shift
	"$@" >out 2>err
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "'$*' exited $rc, expected $want"
		sed 's/^/    out| /' out | head -20
		sed 's/^/    err| /' err | head -20
		return 1
	fi
	return 0
}
# json FILE FILTER : a jq filter over the JSON (Lines) in FILE, raw output
json() { jq -r "$2" "$1"; }
has() { grep -q -- "$2" "$1" || { fail "$1 lacks '$2'"; sed 's/^/    | /' "$1" | head -10; }; }

# ---- keys -----------------------------------------------------------------
run 0 "$HW" db keygen it-key && ok "keygen" 
run 0 "$HW" db keygen --json second-key
[ "$(stat -c %a it-key)" = 600 ] || fail "secret key mode is $(stat -c %a it-key), not 600"
[ "$(stat -c %a it-key.pub)" = 644 ] || fail "public key mode is not 644"
grep -q '^ed25519-public ' it-key.pub || fail "public key file format"
[ "$(json out .public_key)" = "$(awk '/^ed25519-public/{print $2}' second-key.pub)" ] ||
	fail "keygen --json public key differs from the .pub file"
run 2 "$HW" db keygen it-key && has err "already exists"
chmod 644 it-key
run 2 "$HW" db sign --key it-key nothing.hwdb && has err "chmod 600"
chmod 600 it-key
run 2 "$HW" db sign --key it-key.pub nothing.hwdb && has err "public key, not a secret key"

# ---- items to find ----------------------------------------------------------
mkdir -p clean/sub infected/deep/er
printf 'an ordinary file\n' >clean/a.txt
printf 'another\n' >clean/sub/b.txt
cp clean/a.txt clean/sub/b.txt infected/
printf 'pretend this is known harmful content\n' >infected/deep/er/planted.bin
BAD_MD5=$(md5sum infected/deep/er/planted.bin | cut -c1-32)
BAD_SHA256=$(sha256sum infected/deep/er/planted.bin | cut -c1-64)
PDQ1=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
PDQ1_NEAR=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2d

# ---- build from each format ------------------------------------------------
cat >list.csv <<EOF
id,algorithm,hash,category,source,sha256
case-1,pdq,$PDQ1,"ncii, reported",stopncii,
case-2,md5,$BAD_MD5,csam,ncmec,$BAD_SHA256
EOF
run 0 "$HW" db build --list-id district-demo --version 2 --created 1700000000 \
	--threshold pdq=30 -o csv.hwdb list.csv && ok "build from csv"
has out "unsigned"
printf '# hex list\n%s\n\n' "$BAD_SHA256" >list.hex
run 0 "$HW" db build --list-id hexlist --version 1 --format hex --algorithm sha256 \
	--category csam --source district -o hex.hwdb list.hex && ok "build from hex"
printf 'hash,quality,path\n%s,100,/evidence/x,y.jpg\n' "$PDQ1" >list.pdq.csv
run 0 "$HW" db build --list-id pdqlist --version 1 --format pdq-csv -o pdq.hwdb --json list.pdq.csv &&
	ok "build from pdq-csv"
[ "$(json out .models.pdq)" = 1 ] || fail "pdq-csv build counts"

# a bad line anywhere: named, and nothing written
printf 'id,algorithm,hash\nx,pdq,%s\ny,pdq,nothex\n' "$PDQ1" >bad.csv
run 2 "$HW" db build --list-id bad --version 1 -o bad.hwdb list.csv bad.csv && has err "bad.csv:3:"
[ -e bad.hwdb ] && fail "a failed build left bad.hwdb"
ls bad.hwdb.tmp.* >/dev/null 2>&1 && fail "a failed build left a temp file"
run 2 "$HW" db build --list-id bad --version 1 --format hex -o bad.hwdb list.hex && has err "needs --algorithm"
run 2 "$HW" db build --list-id 'bad/id' --version 1 -o bad.hwdb list.csv && has err "list id"
run 2 "$HW" db build --list-id bad --version 0 -o bad.hwdb list.csv
run 2 "$HW" db build --list-id bad --version 1 --threshold phash=4 -o bad.hwdb list.csv && has err "no phash hashes"

# the same inputs and time give the same digest
run 0 "$HW" db build --list-id district-demo --version 2 --created 1700000000 \
	--threshold pdq=30 -o again.hwdb list.csv
cmp -s csv.hwdb again.hwdb || fail "two builds of the same input differ"

# ---- sign, verify -----------------------------------------------------------
cp csv.hwdb list.hwdb
run 1 "$HW" db verify --trust it-key.pub list.hwdb && has out "refused: unsigned"
run 0 "$HW" db sign --key it-key list.hwdb && has out "1 signature"
run 2 "$HW" db sign --key it-key list.hwdb && has err "already signed by this key"
run 0 "$HW" db verify --trust it-key.pub list.hwdb && has out "acceptable"
run 1 "$HW" db verify --trust second-key.pub list.hwdb && has out "untrusted signer"
run 1 "$HW" db verify --trust it-key.pub --trust second-key.pub --min-signers 2 list.hwdb &&
	has out "too few signers: 1 of 2"
run 0 "$HW" db sign --key second-key list.hwdb && has out "2 signature"
mkdir keys && cp it-key.pub second-key.pub keys/
run 0 "$HW" db verify --trust keys --min-signers 2 --json list.hwdb && ok "verify with two signers"
[ "$(json out .acceptable)" = true ] || fail "verify --json acceptable"
run 2 "$HW" db verify list.hwdb && has err "--trust"

# ---- info -------------------------------------------------------------------
run 0 "$HW" db info --json --trust it-key.pub list.hwdb
[ "$(json out .list_id)" = district-demo ] || fail "info list_id"
[ "$(json out .version)" = 2 ] || fail "info version"
[ "$(json out .created_utc)" = 2023-11-14T22:13:20Z ] || fail "info created"
[ "$(json out .entries)" = 2 ] || fail "info entries"
[ "$(json out .models.pdq.count)" = 1 ] || fail "info pdq count"
[ "$(json out .models.pdq.threshold)" = 30 ] || fail "info pdq threshold"
[ "$(json out .models.sha256.count)" = 1 ] || fail "info sha256 count"
[ "$(json out '.signatures | length')" = 2 ] || fail "info signature count"
[ "$(json out '[.signatures[].trusted] | map(tostring) | join(",")')" = "true,false" ] || fail "info trusted flags"
DIGEST=$(json out .digest)
run 0 "$HW" db info --json csv.hwdb
[ "$(json out .digest)" = "$DIGEST" ] || fail "the digest changed when signatures were added"
# the digest is a SHA-256 tree over the bytes before the signature
# block, so an auditor can recompute it with generic tools
# (docs/hwdb-format.md)
content=$(od -An -t u8 -j 32 -N 8 list.hwdb | tr -d ' ')
recomputed=$({ printf 'hashwatch-hwdb-tree-v1\n'
	head -c "$content" list.hwdb | split -b 1M --filter='sha256sum | cut -c1-64'
} | sha256sum | cut -d' ' -f1)
[ "$recomputed" = "$DIGEST" ] || fail "the digest does not recompute with sha256sum"
run 0 "$HW" db info list.hwdb && has out "$DIGEST"

# ---- altered, truncated, rollback -------------------------------------------
cp list.hwdb altered.hwdb
byte=$(od -An -t u1 -j 400 -N 1 altered.hwdb | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of=altered.hwdb bs=1 seek=400 conv=notrunc 2>/dev/null
cmp -s list.hwdb altered.hwdb && fail "could not alter the copy"
run 1 "$HW" db verify --trust keys altered.hwdb && has out "refused: altered"
run 1 "$HW" db info altered.hwdb && has err "altered"
run 2 "$HW" db sign --key it-key altered.hwdb && has err "altered"
head -c 300 list.hwdb >cut.hwdb
run 1 "$HW" db verify --trust keys cut.hwdb && has out "truncated"
run 2 "$HW" db verify --trust keys missing.hwdb && has err "No such file"

mkdir state
run 0 "$HW" db verify --trust keys --state-dir state --accept list.hwdb && has out "recorded"
run 0 "$HW" db build --list-id district-demo --version 1 -o old.hwdb list.csv
run 0 "$HW" db sign --key it-key old.hwdb
run 1 "$HW" db verify --trust keys --state-dir state old.hwdb && has out "older version: 1 < accepted 2"
run 0 "$HW" db verify --trust keys old.hwdb   # no state: no rollback check
run 0 "$HW" db verify --trust keys --state-dir state list.hwdb   # same version again

# ---- lookup -----------------------------------------------------------------
run 0 "$HW" db lookup --db list.hwdb --algorithm pdq "$PDQ1_NEAR" && ok "lookup near pdq"
[ "$(json out '[.id, .category, .source, .distance] | map(tostring) | join("|")')" = "case-1|ncii, reported|stopncii|4" ] ||
	fail "lookup result: $(cat out)"
run 1 "$HW" db lookup --db list.hwdb --algorithm pdq --max-distance 3 "$PDQ1_NEAR"
[ -s out ] && fail "lookup printed a match beyond --max-distance"
run 0 "$HW" db lookup --db list.hwdb --algorithm sha256 "$BAD_SHA256"
[ "$(json out .id)" = case-2 ] || fail "lookup sha256"
run 2 "$HW" db lookup --db list.hwdb --algorithm md5 xyz && has err "not a md5 hash"
run 0 "$HW" db lookup --db list.hwdb --trust keys --min-signers 2 --algorithm md5 "$BAD_MD5"
run 2 "$HW" db lookup --db old.hwdb --trust second-key.pub --algorithm md5 "$BAD_MD5" && has err "untrusted"

# ---- scan -------------------------------------------------------------------
run 1 "$HW" scan --quiet --db list.hwdb --trust keys infected && ok "scan finds the planted file"
has out "infected/deep/er/planted.bin: MATCH"
has out "case-2"
run 0 "$HW" scan --quiet --db list.hwdb --trust keys clean && ok "scan of a clean folder"
has out "files:         2"
run 1 "$HW" scan --quiet --json --db list.hwdb --trust keys --min-signers 2 clean infected
[ "$(json out .type | sort | uniq -c | awk '{printf "%s %s ", $1, $2}')" = "2 match 1 summary " ] ||
	fail "scan --json lines: $(cat out)"
# md5 and sha256 of the planted file both hit entry case-2
[ "$(json out 'select(.type == "match") | .model' | sort | tr '\n' ' ')" = "md5 sha256 " ] || fail "scan models"
[ "$(json out 'select(.type == "summary") | "\(.files) \(.matched_files)"')" = "5 1" ] ||
	fail "scan summary counts: $(tail -n1 out)"
run 2 "$HW" scan --db list.hwdb infected && has err "only signed lists"
run 2 "$HW" scan --db csv.hwdb --trust keys infected && has err "unsigned"
run 2 "$HW" scan --db altered.hwdb --trust keys infected && has err "altered"
run 1 "$HW" scan --quiet --db csv.hwdb --allow-unsigned infected && has err "WARNING: --allow-unsigned"
run 2 "$HW" scan --quiet --db list.hwdb --trust keys clean does-not-exist && has err "does-not-exist"

# ---- PDQ of real images -------------------------------------------------------
IMG=$DATA/pdq/images/reg-test-input/dih/bridge-1-original.jpg
skip_reason=
if [ ! -f "$IMG" ]; then
	skip_reason="test image $IMG not found (the PDQ scan part did not run; the rest passed)"
else
	run 0 "$HW" hash --models pdq "$IMG" && mv out img.pdq
	run 0 "$HW" db build --list-id photos --version 1 --format pdq-csv --category csam \
		--source test -o photos.hwdb img.pdq && ok "list from hashwatch hash output"
	run 0 "$HW" db sign --key it-key photos.hwdb
	mkdir photos
	cp "$IMG" photos/copy.jpg
	vips rot "$IMG" photos/turned.jpg d90 || fail "vips rot (libvips-tools) is needed"
	# other photos (labelme-subset) must not match
	run 1 "$HW" scan --quiet --json --db photos.hwdb --trust it-key.pub photos \
		"$DATA/pdq/images/reg-test-input/labelme-subset" &&
		ok "scan finds the planted photo, also turned"
	json out 'select(.type == "match") | "\(.path) \(.model) \(.variant)"' >found
	grep -q "copy.jpg pdq orig" found || fail "the copy was not matched as orig: $(cat found)"
	grep -q "turned.jpg pdq rot" found || fail "the turned copy was not matched: $(cat found)"
	[ "$(wc -l <found)" = 2 ] || fail "unexpected matches: $(cat found)"
	[ "$(json out 'select(.type == "summary") | .checked')" -ge 6 ] || fail "other photos not checked"
fi

if [ "$failures" -ne 0 ]; then
	echo "db_cli: $failures failure(s)"
	exit 1
fi
if [ -n "$skip_reason" ]; then
	echo "SKIP: $skip_reason"
	exit 77
fi
echo "db_cli: all passed"
