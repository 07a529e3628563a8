#!/bin/bash
# daemon_hostile.sh - the hostile corpus (tests/hostile/make-corpus.sh:
# decompression bombs, damaged files of every format, other formats under
# image names, empty files, odd names, a FIFO, a device node, symlinks to
# /etc/shadow and out of the tree, folders 5,000 deep) in a watched folder,
# then a file rewritten while it is read.  The daemon stays up; every
# regular file is either hashed or logged as skipped with a reason (the
# STATUS counters, the journal's skip lines and the audit log's scan_counts
# agree with the corpus listing); nothing behind a symlink is hashed (the
# list holds /etc/shadow and the image the out-of-tree link points to);
# the daemon's and the workers' memory stays under its ceiling; and a
# listed image dropped in afterwards is still alerted.
. "$(dirname "$0")/daemon_lib/common.sh"

command -v vips >/dev/null || skip "vips (libvips-tools) is needed to make the corpus"
[ -r /etc/shadow ] || skip "/etc/shadow is not readable here (the symlink check lists its digest)"
setup
PICS=$T/home/alice/Pictures
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
vips gaussnoise "$T/listed.png" 80 80 || fail "vips"
vips gaussnoise "$T/outside/outside.png" 80 80 || fail "vips"
# The list: the listed image's PDQ hash, so that every file goes through
# the decoder (digest-only lists never decode), and the digests of what
# the symlinks point to.  Without a decoder (hashwatch hash cannot make a
# PDQ hash), the list has digests only and files are only digested.
{
	echo "algorithm,hash,id,category,source"
	if pdq=$("$HW" hash --json --models pdq "$T/listed.png" 2>/dev/null | jq -er .pdq); then
		echo "pdq,$pdq,E-listed,test,integration"
	else
		note "no image decoder in this build: the corpus is only digested"
		echo "sha256,$(sha256sum "$T/listed.png" | cut -d' ' -f1),E-listed,test,integration"
	fi
	for f in "$T/outside/outside.png" /etc/shadow; do
		echo "sha256,$(sha256sum "$f" | cut -d' ' -f1),E-$(basename "$f"),test,integration"
	done
} > "$T/list.csv"
"$HW" db build --list-id district --version 1 -o "$T/district.hwdb" "$T/list.csv" >/dev/null ||
	fail "db build"
"$HW" db sign --key "$T/signer.key" "$T/district.hwdb" >/dev/null || fail "db sign"
mv "$T/district.hwdb" "$T/lists/"
"$ROOT/tests/hostile/make-corpus.sh" "$PICS/hostile" "$T/outside" > "$T/manifest" ||
	fail "make-corpus.sh failed"
nfiles=$(grep -c $'^file\t' "$T/manifest")
nspecial=$(grep -c $'^special\t' "$T/manifest")
note "corpus: $nfiles regular files, $nspecial FIFOs/devices/symlinks, folders 5,000 deep"
WORKER_MEMORY=$((512 << 20))
write_conf "" "decode_timeout_ms = 2000
worker_memory = 512M
worker_files = 25"
start_daemon
DPID_WAS=$DPID

# memory: the daemon's and every worker's resident peak, sampled
sample_memory() {
	while kill -0 "$DPID" 2>/dev/null; do
		for p in "$DPID" $(cat /proc/"$DPID"/task/*/children 2>/dev/null); do
			awk -v p="$p" '/^VmHWM/ { h = $2 } /^VmRSS/ { r = $2 } /^VmPeak/ { v = $2 }
				END { if (h) print p, r, h, v }' "/proc/$p/status" 2>/dev/null
		done
		sleep 0.2
	done
}
sample_memory > "$T/memory.log" &
MPID=$!

# STATUS counters: files hashed (scanned + digests only) and skipped
counter() { grep '^STATUS=' "$T/notify.log" | tail -1 | grep -o " $1=[0-9]*" | cut -d= -f2; }
done_count() { echo $(( $(counter scanned || echo 0) + $(counter skipped || echo 0) )); }
wait_for 100 "[ \$(done_count) -ge $nfiles ]" ||
	fail "only $(done_count) of $nfiles files hashed or skipped"
sleep 2
kill -0 "$DPID" || fail "the daemon died on the corpus"
hashed=$(counter scanned) skipped=$(counter skipped)
[ $((hashed + skipped)) -eq "$nfiles" ] ||
	fail "$hashed hashed + $skipped skipped != $nfiles files in the corpus"
# every skip is in the journal with its reason
skiplines=$(grep -c 'file skipped ([a-z_]*): [^ ]' "$T/daemon.log")
[ "$skiplines" -eq "$skipped" ] || fail "$skipped skipped but $skiplines skip lines with a reason"
note "all $nfiles files accounted for: $hashed hashed, $skipped skipped with a reason:"
grep -o 'file skipped ([a-z_]*)' "$T/daemon.log" | sort | uniq -c | sed 's/^/#   /'
# a denied call on hostile input is a decoder reaching outside its lane
# (libvips 8.14 once let ImageMagick's sniffer see every unknown file)
if grep -q 'killed by seccomp' "$T/daemon.log"; then
	grep -o 'killed by seccomp (syscall [0-9]* [a-z0-9_]*)' "$T/daemon.log" | sort | uniq -c
	fail "workers were killed by their sandbox on the corpus"
fi
[ "$(count_alerts)" -eq 0 ] || fail "an alert from the corpus: a symlink was followed"

# a file rewritten over and over while the daemon reads it
for i in $(seq 20); do
	cp "$PICS/hostile/ok.png" "$PICS/rewritten.png"
	head -c 300 "$PICS/hostile/ok.jpg" > "$PICS/rewritten.png"
	cat "$PICS/hostile/bomb-10000x10000-zeros.png" > "$PICS/rewritten.png"
	: > "$PICS/rewritten.png"
	sleep 0.03
done
# and replaced by rename while the previous one is being read
for i in $(seq 10); do
	cp "$PICS/hostile/ok.tif" "$PICS/.tmp-$i" && mv "$PICS/.tmp-$i" "$PICS/renamed.tif"
	cp "$PICS/hostile/trunc-half-png.png" "$PICS/.tmq-$i" && mv "$PICS/.tmq-$i" "$PICS/renamed.tif"
done
sleep 2
kill -0 "$DPID" || fail "the daemon died on files rewritten while read"

# still working: a listed image is alerted
cp "$T/listed.png" "$PICS/found.png"
expect_alerts 1 30
[ "$(alerts_for "$T/listed.png")" -eq 1 ] || fail "the alert is not for the listed image"
stop_daemon
kill "$MPID" 2>/dev/null
wait "$MPID" 2>/dev/null

# memory ceilings (kB): a worker's is worker_memory; the daemon's is its
# queue, cache and lists, far below.  Sanitizer builds have no RLIMIT_AS
# and a shadow of the heap, so only the daemon's bound is kept, doubled.
daemon_hwm=$(awk -v p="$DPID_WAS" '$1 == p { if ($3 > m) m = $3 } END { print m + 0 }' "$T/memory.log")
read -r worker_hwm worker_peak < <(awk -v p="$DPID_WAS" '$1 != p { if ($3 > h) h = $3; if ($4 > v) v = $4 }
	END { print h + 0, v + 0 }' "$T/memory.log")
note "peak resident memory: daemon $((daemon_hwm / 1024)) MiB, workers $((worker_hwm / 1024)) MiB" \
	"(worker address space at most $((worker_peak / 1024)) MiB of $((WORKER_MEMORY >> 20)) MiB)"
limit=$((256 * 1024))
ldd "$HWD" | grep -q libasan && limit=$((limit * 2))
[ "$daemon_hwm" -gt 0 ] && [ "$daemon_hwm" -lt "$limit" ] || fail "daemon peak RSS ${daemon_hwm} kB"
if ! ldd "$HWD" | grep -q libasan; then
	[ "$worker_hwm" -lt $((WORKER_MEMORY / 1024)) ] || fail "worker peak RSS ${worker_hwm} kB over worker_memory"
	[ "$worker_peak" -le $((WORKER_MEMORY / 1024)) ] || fail "worker address space ${worker_peak} kB over worker_memory"
fi

# the audit log agrees: scan_counts add up to at least the corpus, every
# skip reason named, no match record
"$HW" audit show --json --log "$T/state/audit.log" > "$T/audit.json" || fail "audit show"
jq -e -s --argjson n "$nfiles" '[.[] | select(.type == "scan_counts") | .fields |
	.hashed + ([.skipped[]] | add // 0)] | add >= $n' "$T/audit.json" >/dev/null ||
	fail "scan_counts in the audit log do not cover the $nfiles corpus files"
jq -e -s '[.[] | select(.type == "match")] | length == 1' "$T/audit.json" >/dev/null ||
	fail "expected exactly one match record (the listed image)"
echo "PASS: daemon_hostile"
