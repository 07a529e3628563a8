#!/bin/bash
# tests/bench/run.sh - `make bench`: make the real-photo corpus manifest
# (../shared/bench/corpus.sh, 87 wallpapers from Debian packages; needs root
# the first time to install them), then run every benchmark program and
# every benchmark script (bench_daemon.sh: hashwatchd's close -> alert
# latency).  Each program prints its figures as ratios against a baseline
# it measures in the same run, because the machines are shared and noisy;
# bench_daemon.sh prints its latency also without the time spent waiting
# for a CPU behind other processes, for the same reason.
set -u
BUILD=${BUILD:-build}
export BUILD
shared=${HASHWATCH_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
manifest=$BUILD/bench/corpus.txt
mkdir -p "$BUILD/bench"
if [ ! -s "$manifest" ]; then
	if ! sh "$shared/bench/corpus.sh" "$manifest"; then
		echo "bench: could not build the corpus manifest (see above); image benchmarks will SKIP"
		rm -f "$manifest"
	fi
fi
export HASHWATCH_CORPUS=$manifest
# bench_images runs the OpenCV peer inside its own rounds.
if [ -x "$BUILD/bench/peer_opencv" ]; then
	export HASHWATCH_PEER_OPENCV=${HASHWATCH_PEER_OPENCV:-$BUILD/bench/peer_opencv}
fi
rc=0
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "=== $(basename "$b")"
	"$b" || rc=1
done
# Benchmarks of whole programs (tests/bench/bench_*.sh) start the real
# daemons; like integration scripts they exit 77 after a SKIP line.  A
# script with a program of the same name is that program's helper (the
# program ran it above).
for s in tests/bench/bench_*.sh; do
	[ -f "$s" ] || continue
	[ -x "$BUILD/bench/$(basename "$s" .sh)" ] && continue
	echo "=== $(basename "$s")"
	bash "$s"
	case $? in
	0 | 77) ;;
	*) rc=1 ;;
	esac
done
exit $rc
