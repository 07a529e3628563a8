#!/bin/bash
# tests/run.sh - run every unit test program (cmocka, TAP output) and every
# integration script, then print one summary line:
#   check: N passed, N failed, N skipped
# Integration scripts exit 0 (pass), 77 (skip: they print the reason) or
# anything else (fail).  Set TESTS=pattern to run a subset.
set -u
BUILD=${BUILD:-build}
export BUILD
export HASHWATCH_TESTDATA=${HASHWATCH_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/testdata}
export HASHWATCH_OPENCV_MODULE=${HASHWATCH_OPENCV_MODULE:-$PWD/$BUILD/hashwatch-opencv.so}
# Leaks inside Debian libraries that our code cannot free (each with its
# reason in the file); read only by builds with the sanitizers.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
pattern=${TESTS:-}
pass=0 fail=0 skip=0
failed_names=()
log=$(mktemp -d)

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	[ -n "$pattern" ] && [[ $name != *$pattern* ]] && continue
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 900 "$t" >"$log/$name" 2>&1
	rc=$?
	# cmocka's TAP: "ok N - name", "not ok N - name", "not ok N # SKIP name"
	p=$(grep -c '^ok ' "$log/$name")
	s=$(grep -c '^not ok [0-9]* # SKIP' "$log/$name")
	f=$(grep '^not ok ' "$log/$name" | grep -vc '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # crashed outside a test
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-40s %3d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
	grep -E '^(not ok |SKIP)' "$log/$name" | sed 's/^/    /'
	if [ "$f" -ne 0 ]; then
		failed_names+=("$name")
		sed 's/^/    | /' "$log/$name" | tail -40
	fi
done

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	[ -n "$pattern" ] && [[ $name != *$pattern* ]] && continue
	start=$(date +%s)
	timeout 1200 bash "$t" >"$log/$name" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); printf '%-40s PASS (%ds)\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); printf '%-40s SKIP: %s\n' "$name" "$(grep -m1 '^SKIP' "$log/$name" | sed 's/^SKIP:* *//')" ;;
	*) fail=$((fail + 1)); failed_names+=("$name")
	   printf '%-40s FAIL (exit %d, %ds)\n' "$name" "$rc" "$secs"
	   sed 's/^/    | /' "$log/$name" | tail -60 ;;
	esac
done
rm -rf "$log"
[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $((pass + skip)) -gt 0 ]
