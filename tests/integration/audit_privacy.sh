#!/bin/bash
# audit_privacy.sh - DESIGN.md invariant 2 against the real daemon: 1,000
# images in a watched folder, 3 of them listed (one list entry each, with
# a hash of every model the daemon can compute, so that workers compute
# them all for every image); after the scan and a stop, nothing anywhere
# the daemon writes - the whole state folder (audit log, scan cache, match
# state, device files, spool with every alert payload base64-decoded),
# its journal entries (journald's socket replaced by a listener, as in
# daemon_journal.sh) and its stderr - holds any of the 997 unlisted
# images' file names, folder names or hashes (hex either case, and the
# raw bytes of the fixed-size ones); the listed images' paths are not in
# the state folder either (path reporting is off by default).  As proof
# that the search finds what is there, the listed images' SHA-256 digests
# must be found in the audit log and in the decoded alerts, and their
# file names in the journal (the match entry's HASHWATCH_PATH).
. "$(dirname "$0")/daemon_lib/common.sh"
MKIMAGES=$PWD/$BUILD/tests/tools/mkimages
[ -x "$MKIMAGES" ] || fail "$MKIMAGES not built (make tests-build)"
command -v jq >/dev/null || skip "jq is not installed (make deps)"
setup
t0=$(date +%s%N)
P=$T/home/alice/Pictures

# 997 unlisted images in 10 folders; every folder and file name carries a
# token of its own so that a hit can only come from that image.
: > "$T/unlisted.txt"
for a in $(seq 0 9); do
	tok=$(openssl rand -hex 4)
	mkdir -p "$P/album-$tok"
	n=100; [ "$a" -eq 9 ] && n=97
	"$MKIMAGES" "$P/album-$tok" "$n" $((a + 100)) "pic$tok-" 128 >> "$T/unlisted.txt" ||
		fail "mkimages"
done
[ "$(wc -l < "$T/unlisted.txt")" -eq 997 ] || fail "made $(wc -l < "$T/unlisted.txt") unlisted images"
mkdir -p "$P/kept"
"$MKIMAGES" "$P/kept" 3 7 "listed-$(openssl rand -hex 4)-" 128 > "$T/listed.txt" || fail "mkimages"

# Every hash of every image, as `hashwatch hash` computes it.  Of the
# OpenCV models, Marr-Hildreth and colour moments take about 40 ms an
# image each here (the rest about 2 ms; the test takes ~50 s with them,
# ~12 s without): the issue asks for all models, so they are in unless
# AUDIT_PRIVACY_FAST=1 (for a quick run by hand).
# cv_colormoment is never listed: these synthetic block pictures share
# their colour statistics, so even at its default threshold of 2 (models/
# model.c says how it was chosen on photos) listing the 3 pictures makes
# 718 of the 1000 images a match.
models=pdq,phash,dhash,ahash,md5,sha1,sha256
if "$HW" hash -q -j -m cv_phash "$P/kept" 2>/dev/null | jq -e 'has("cv_phash")' >/dev/null; then
	models=$models,cv_average,cv_phash,cv_radialvariance,cv_blockmean
	[ -z "${AUDIT_PRIVACY_FAST:-}" ] && models=all
else
	note "the OpenCV module is not loadable here: its models are not part of this test"
fi
"$HW" hash -q -j -m "$models" "$P" > "$T/hashes.jsonl" || fail "hashwatch hash"
[ "$(wc -l < "$T/hashes.jsonl")" -eq 1000 ] || fail "hashed $(wc -l < "$T/hashes.jsonl") images"
hash_keys='[to_entries[] | select(.key != "path" and .key != "pdq_quality" and .key != "error"
	and (.value | type) == "string") | .key]'

# One entry per listed image, one row per model (rows of one id merge).
{
	echo "algorithm,hash,id,category,source"
	n=0
	while read -r f; do
		n=$((n + 1))
		jq -r --arg f "$f" --arg id "L-$n" "select(.path == \$f) | . as \$h |
			$hash_keys[] | select(. != \"cv_colormoment\") |
			\"\\(.),\\(\$h[.]),\\(\$id),test,privacy\"" "$T/hashes.jsonl"
	done < "$T/listed.txt"
} > "$T/list.csv"
"$HW" db build --list-id privacy --version 1 -o "$T/lists/privacy.hwdb" "$T/list.csv" >/dev/null ||
	fail "db build: $(head -3 "$T/list.csv")"
"$HW" db sign --key "$T/signer.key" "$T/lists/privacy.hwdb" >/dev/null || fail "db sign"
write_conf
made=$(( ($(date +%s%N) - t0) / 1000000 ))

# The daemon with a journal to talk to when a mount namespace can be made,
# else with stderr alone.
J=$T/journal.jsonl
if unshare -m true 2>/dev/null; then
	start_daemon_journal "$T/daemon.log"
	journal=1
else
	note "cannot make a mount namespace: the daemon's output is checked on stderr only"
	start_daemon
	journal=0
fi
wait_for 120 "grep -q 'scanned=1000 ' '$T/notify.log'" ||
	fail "the daemon did not check all 1000 images: $(tail -1 "$T/notify.log")"
wait_for 10 "[ \$(count_alerts) -ge 3 ]" || fail "$(count_alerts) alerts, expected 3"
scanned=$(( ($(date +%s%N) - t0) / 1000000 - made ))
stop_daemon
[ "$(count_alerts)" -eq 3 ] || fail "$(count_alerts) alerts, expected 3"
while read -r f; do
	[ "$(alerts_for "$f")" -eq 1 ] || fail "$f: $(alerts_for "$f") alerts, expected 1"
done < "$T/listed.txt"
"$HW" audit verify "$T/state/audit.log" >/dev/null || fail "the audit log does not verify"
[ "$journal" -eq 0 ] || [ -s "$J" ] || fail "nothing reached the journal socket"

# What to look for.  Unlisted: folder and file names, every hash (hex in
# both cases, and raw bytes).  Listed: the full paths (state folder only).
jq -r --slurpfile l <(jq -R . "$T/listed.txt") "select(.path as \$p | \$l | index(\$p) | not) |
	$hash_keys[] as \$k | .[\$k]" "$T/hashes.jsonl" > "$T/secret-hashes.txt"
sed 's|.*/||' "$T/unlisted.txt" > "$T/secret-names.txt"
sed 's|/[^/]*$||; s|.*/||' "$T/unlisted.txt" | sort -u >> "$T/secret-names.txt"
nh=$(wc -l < "$T/secret-hashes.txt")
[ "$nh" -ge $((997 * 7)) ] || fail "only $nh hashes of unlisted images to look for"

# The corpus: every file of the state folder as it is, the spool's
# payloads decoded, the journal and stderr.
mkdir "$T/corpus"
find "$T/state" -type f > "$T/state-files.txt"
for f in $(find "$T/state/spool" -type f); do
	jq -r '.payload // empty | @base64d' "$f" 2>/dev/null > "$T/corpus/$(basename "$f").decoded"
done
ls "$T"/corpus/*.decoded >/dev/null 2>&1 || fail "no spool payload decoded"

python3 - "$T" "$journal" <<'PY' || fail "privacy check failed (above)"
import os, sys
T, journal = sys.argv[1], sys.argv[2] == "1"
state = [l.strip() for l in open(f"{T}/state-files.txt")]
decoded = [os.path.join(f"{T}/corpus", f) for f in os.listdir(f"{T}/corpus")]
logs = [f"{T}/daemon.log"] + ([f"{T}/journal.jsonl"] if journal else [])
def load(paths): return {p: open(p, "rb").read() for p in paths}
state_c, all_c = load(state + decoded), load(state + decoded + logs)
hashes = [l.strip() for l in open(f"{T}/secret-hashes.txt") if l.strip()]
names = [l.strip() for l in open(f"{T}/secret-names.txt") if l.strip()]
listed = [l.strip() for l in open(f"{T}/listed.txt") if l.strip()]
bad = []
def look(corpus, needle, what):
    for p, data in corpus.items():
        if needle in data:
            bad.append(f"{what} found in {p}")
            return
patterns = 0
for h in hashes:
    for form in {h.lower(), h.upper()}:
        look(all_c, form.encode(), f"hash {h}")
        patterns += 1
    if len(h) in (16, 32, 40, 64):  # 64-bit, MD5, SHA-1, PDQ/SHA-256: raw bytes too
        look(all_c, bytes.fromhex(h), f"raw bytes of {h}")
        patterns += 1
for n in names:
    look(all_c, n.encode(), f"name {n}")
    patterns += 1
for p in listed:
    look(state_c, p.encode(), f"listed path {p}")
    patterns += 1
# the search finds what is there
import hashlib
for p in listed:
    sha = hashlib.sha256(open(p, "rb").read()).hexdigest().encode()
    if sha not in open(f"{T}/state/audit.log", "rb").read():
        bad.append(f"sanity: the SHA-256 of listed {p} is not in the audit log")
    if not any(sha in open(d, "rb").read() for d in decoded):
        bad.append(f"sanity: the SHA-256 of listed {p} is in no decoded alert")
    if journal and os.path.basename(p).encode() not in open(f"{T}/journal.jsonl", "rb").read():
        bad.append(f"sanity: listed {p} is not named in the journal's match entry")
for b in bad[:20]:
    print("  " + b)
size = sum(len(v) for v in all_c.values())
print(f"# searched {len(all_c)} files ({size} bytes) for {patterns} patterns")
sys.exit(1 if bad else 0)
PY
echo "PASS: 1000 images (3 listed, 3 alerts), $nh hashes ($models) and 1007 names of the 997 unlisted ones found nowhere; images made in ${made} ms, scanned in ${scanned} ms"
