#!/bin/bash
# tests/system/run.sh DEBDIR NEXT_DEBDIR - run every tests/system/*.sh test
# (except this one and lib.sh) against the built packages, and print one
# summary line like tests/run.sh:  check-system: N passed, N failed, N skipped
# A test exits 0 (pass), 77 (skip, after a line 'SKIP: reason') or other
# (fail).  Set TESTS=pattern to run a subset.
set -u
debs=${1:?usage: run.sh DEBDIR NEXT_DEBDIR}
next=${2:?usage: run.sh DEBDIR NEXT_DEBDIR}
dir=$(dirname "$0")
pass=0 fail=0 skip=0
failed=()
log=$(mktemp -d)
for t in "$dir"/*.sh; do
	name=$(basename "$t" .sh)
	case $name in run|lib) continue ;; esac
	[ -n "${TESTS:-}" ] && [[ $name != *$TESTS* ]] && continue
	start=$(date +%s)
	case $name in
	lifecycle) timeout 900 bash "$t" "$debs" "$next" >"$log/$name" 2>&1 ;;
	*) timeout 900 bash "$t" "$debs" >"$log/$name" 2>&1 ;;
	esac
	rc=$?
	secs=$(( $(date +%s) - start ))
	grep -E '^(ok|#|FAIL:) ' "$log/$name" | sed 's/^/    /'
	case $rc in
	0) pass=$((pass + 1)); printf '%-30s PASS (%ds)\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); printf '%-30s SKIP: %s\n' "$name" "$(grep -m1 '^SKIP' "$log/$name" | sed 's/^SKIP:* *//')" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   printf '%-30s FAIL (exit %d, %ds)\n' "$name" "$rc" "$secs"
	   sed 's/^/    | /' "$log/$name" | grep -v '^    | ok ' | tail -80 ;;
	esac
done
rm -rf "$log"
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "check-system: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
