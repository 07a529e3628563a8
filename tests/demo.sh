#!/bin/bash
# tests/demo.sh - `make demo`: show hashwatch doing its main job on this
# machine.  Grows with the product; today: hash a folder of sample images.
set -eu
BUILD=${BUILD:-build}
data=${HASHWATCH_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/testdata}/pdq/images
if [ ! -d "$data" ]; then
	data=$(mktemp -d)
	vips black "$data/black.png" 64 64 && vips xyz "$data/xyz.png" 200 100 2>/dev/null || true
fi
echo "== hashwatch hash: perceptual hashes of the images in $data"
"$BUILD/hashwatch" hash --quiet "$data" | head -20
echo "== the same as JSON Lines (first 3 files)"
"$BUILD/hashwatch" hash --quiet --json "$data" | head -3
