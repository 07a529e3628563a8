#!/bin/bash
# tests/fuzz/run.sh - run each libFuzzer target for FUZZTIME seconds on its
# seed corpus (tests/fuzz/corpus/NAME/, read-only here: new inputs go to a
# temp folder), then print one line per target and the summary line.
# A crash fails the run and leaves the reproducer in build-fuzz/crashes/.
set -u
BUILD=${BUILD:-build-fuzz}
FUZZTIME=${FUZZTIME:-10}
pass=0 fail=0
mkdir -p "$BUILD/crashes"
for f in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f"); short=${name#fuzz_}
	seeds=tests/fuzz/corpus/$short
	work=$(mktemp -d)
	log=$(mktemp)
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
	"$f" -max_total_time="$FUZZTIME" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$BUILD/crashes/$short-" -print_final_stats=1 \
		"$work" $( [ -d "$seeds" ] && echo "$seeds" ) >"$log" 2>&1
	rc=$?
	execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); printf '%-30s PASS %s execs in %ss\n' "$name" "${execs:-?}" "$FUZZTIME"
	else
		fail=$((fail + 1)); printf '%-30s FAIL (exit %d)\n' "$name" "$rc"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -10 | sed 's/^/    | /'
	fi
	rm -rf "$work" "$log"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
