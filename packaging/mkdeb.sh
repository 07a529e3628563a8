#!/bin/bash
# mkdeb.sh OUT VERSION - build the Debian packages from this tree (what
# `make deb` runs).  The tree is copied to OUT/src (the working tree as it
# is, without build outputs or .git), packaging/debian becomes its debian/,
# debian/changelog is written from VERSION (the one place versions come
# from), dpkg-buildpackage builds the binary packages into OUT/, and
# lintian checks them: any error or warning fails the build.
#
# REUSE=DIR: start from the copy in DIR/src with its build outputs, so that
# only what changed and what prints the version is recompiled (the upgrade
# test builds the same tree a second time under a higher version).
# LINTIAN=no skips lintian (that second build: the same files again).
set -euo pipefail
out=${1:?usage: mkdeb.sh OUT VERSION}
version=${2:?usage: mkdeb.sh OUT VERSION}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$tool" >/dev/null ||
		{ echo "mkdeb: $tool is missing: run 'make deps' (as root)" >&2; exit 2; }
done

rm -rf "$out/src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$out/src"
if [ -n "${REUSE:-}" ]; then
	[ "$(cd "$REUSE" && pwd)" != "$out" ] || { echo "mkdeb: REUSE must be another folder" >&2; exit 2; }
	cp -a "$REUSE/src/." "$out/src/"
	rm -rf "$out/src/debian"
fi
# Copied with their times, so that a reused build recompiles only what
# changed since.
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude=./.ci-cache -cf - . |
	tar -C "$out/src" -xf -
# The programs' version strings follow VERSION.
[ -z "${REUSE:-}" ] || grep -rl --include='*.c' HW_VERSION "$out/src" | xargs -r touch
cp -a "$top/packaging/debian" "$out/src/debian"
printf '%s\n' "$version" > "$out/src/VERSION"
{
	echo "hashwatch ($version) unstable; urgency=medium"
	echo
	echo "  * Built from the project tree at version $version."
	echo
	echo " -- hashwatch developers <dev@hashwatch.invalid>  $(date -R)"
} > "$out/src/debian/changelog"

cd "$out/src"
echo "mkdeb: building hashwatch $version in $out/src"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b ${REUSE:+-nc} >"$out/build.log" 2>&1 ||
	{ tail -40 "$out/build.log"; echo "mkdeb: dpkg-buildpackage failed; log in $out/build.log" >&2; exit 2; }
# dpkg-buildpackage leaves its results next to the source folder.
cd "$out"
ls -1 ./*.deb
changes=$(ls ./hashwatch_"${version}"_*.changes)
if [ "${LINTIAN:-yes}" = no ]; then
	echo "lintian: not run (LINTIAN=no)"
	exit 0
fi
lintian --fail-on error,warning --info "$changes" >"$out/lintian.log" 2>&1 || lrc=$?
errors=$(grep -c '^E: ' "$out/lintian.log" || true)
warnings=$(grep -c '^W: ' "$out/lintian.log" || true)
infos=$(grep -c '^I: ' "$out/lintian.log" || true)
overridden=$(grep -c '^O: ' "$out/lintian.log" || true)
echo "lintian: $errors errors, $warnings warnings, $infos info, $overridden overridden ($out/lintian.log)"
if [ "${lrc:-0}" -ne 0 ]; then
	grep -E '^(E|W): ' "$out/lintian.log" >&2 || cat "$out/lintian.log" >&2
	exit 2
fi
