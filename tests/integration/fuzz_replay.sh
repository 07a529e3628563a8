#!/bin/bash
# fuzz_replay.sh - every fuzz target's corpus (tests/fuzz/corpus/NAME/: the
# seeds, inputs kept from long fuzzing runs and the reproducers of crashes
# found and fixed) replayed through the target without libFuzzer, so that a
# fixed crash coming back fails make check (and make check-san, where the
# replay runs under ASan+UBSan).
set -u
BUILD=${BUILD:-build}
R=$BUILD/tests/replay
fail() { echo "FAIL: $*"; exit 1; }
n=0 total=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c); name=${name#fuzz_}
	bin=$R/$name corpus=tests/fuzz/corpus/$name
	[ -x "$bin" ] || fail "$bin is not built (make tests-build)"
	[ -d "$corpus" ] || fail "fuzz target $name has no seed corpus in $corpus"
	files=$(find "$corpus" -maxdepth 1 -type f ! -name '.*' | wc -l)
	[ "$files" -gt 0 ] || fail "$corpus is empty"
	out=$("$bin" "$corpus" 2>&1) || { echo "$out" | tail -20 | sed 's/^/  | /'; fail "$name: an input of $corpus fails"; }
	got=$(echo "$out" | sed -n 's/^replayed \([0-9]*\) inputs$/\1/p')
	[ "$got" = "$files" ] || fail "$name: replayed ${got:-no} inputs of $files"
	n=$((n + 1)) total=$((total + files))
done
[ "$n" -gt 0 ] || fail "no fuzz targets found"
echo "PASS: $n fuzz targets replayed $total corpus inputs"
