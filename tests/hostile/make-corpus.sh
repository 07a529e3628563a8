#!/bin/bash
# make-corpus.sh DIR [OUTSIDE] - fill DIR with files that attack an image
# scanner, generated here (nothing is downloaded): decompression bombs (a
# PNG and a WebP that claim 50000x50000, a 100-megapixel PNG of zeros, a
# progressive JPEG of 20000 scans that each walk every block, a JPEG and a
# TIFF whose headers claim 65500x65500), truncated and bit-flipped copies
# of every format, wrong extensions, SVG (with an external entity naming
# /etc/shadow), PDF and PostScript named .jpg, zero-length files, names
# with a newline and with invalid UTF-8, a FIFO, a device node (root only),
# symlinks to /etc/shadow and to OUTSIDE/outside.png (outside the watched
# tree), and folders nested 5,000 deep.
#
# Prints one line per entry, "KIND<TAB>PATH" (PATH relative to DIR, with
# a newline shown as \n): KIND is "file" for a regular file within 40
# folders of DIR (one the scanner must hash or skip with a reason), and
# "special" for FIFOs, devices and symlinks and "deep" for the bottom of
# the nested folders (which the scanner must never open or hash).
# Needs python3 and the vips command (libvips-tools).
set -eu
dir=$1
outside=${2:-}
mkdir -p "$dir"
cd "$dir"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# --- valid images of every format, the material for the damaged ones
vips gaussnoise "$t/n.v" 256 192
vips cast "$t/n.v" "$t/n8.v" uchar
vips bandjoin "$t/n8.v $t/n8.v $t/n8.v" "$t/rgb.v"
vips copy "$t/rgb.v" ok.jpg
vips copy "$t/rgb.v" 'ok-progressive.jpg[interlace]'
vips copy "$t/rgb.v" ok.png
vips copy "$t/rgb.v" ok.webp
vips copy "$t/rgb.v" ok.gif
vips copy "$t/rgb.v" ok.tif
vips copy "$t/rgb.v" ok.heic 2>/dev/null || true
vips copy "$t/rgb.v" ok.avif 2>/dev/null || true

python3 - "$outside" <<'PY'
import os, random, struct, sys, zlib

outside = sys.argv[1]
rnd = random.Random(8)  # the same corpus every time

def write(name, data):
    with open(name, "wb") as f:
        f.write(data)

# --- truncated and bit-flipped copies of each format
for name in sorted(os.listdir(".")):
    if not name.startswith("ok"):
        continue
    data = open(name, "rb").read()
    stem, ext = name[3:].rsplit(".", 1) if "-" in name else ("", name.split(".")[1])
    base = "%s%s" % (ext, "-" + stem if stem else "")
    write("trunc-half-%s.%s" % (base, ext), data[: len(data) // 2])
    write("trunc-header-%s.%s" % (base, ext), data[:24])
    for k in range(3):
        b = bytearray(data)
        for _ in range(8 * (k + 1)):
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
        write("flip%d-%s.%s" % (k, base, ext), bytes(b))

# --- PNG
def chunk(typ, payload):
    return struct.pack(">I", len(payload)) + typ + payload + \
        struct.pack(">I", zlib.crc32(typ + payload) & 0xffffffff)

def png(width, height, raw_rows_bytes):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    co = zlib.compressobj(9)
    idat = b""
    left = raw_rows_bytes
    block = bytes(1 << 20)
    while left > 0:
        n = min(left, len(block))
        idat += co.compress(block[:n])
        left -= n
    idat += co.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")

# claims 2.5 gigapixels; carries 16 MB of zero rows
write("bomb-50000x50000.png", png(50000, 50000, 16 << 20))
# 100 megapixels of zeros (within the default max_pixels), 100 KB on disk
write("bomb-10000x10000-zeros.png", png(10000, 10000, 10000 * 10001))

# --- WebP: an extended (VP8X) canvas of 50000x50000 around a 1x1 image
def riff(chunks):
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body

def webp_chunk(typ, payload):
    pad = b"\0" if len(payload) % 2 else b""
    return typ + struct.pack("<I", len(payload)) + payload + pad

# VP8L 1x1: signature, 14-bit width-1 and height-1 (0), no alpha, version 0,
# then a minimal bitstream (no transform, no colour cache, simple codes)
vp8l = bytes([0x2f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
vp8x = struct.pack("<I", 0x10)[:1] + b"\0\0\0" + \
    (49999).to_bytes(3, "little") + (49999).to_bytes(3, "little")
write("bomb-50000x50000.webp", riff([webp_chunk(b"VP8X", vp8x), webp_chunk(b"VP8L", vp8l)]))
# a simple-format VP8L whose 14-bit header claims 16384x16384
big = 16383 | (16383 << 14)
write("bomb-16384x16384.webp", riff([webp_chunk(b"VP8L", b"\x2f" + struct.pack("<I", big) + bytes(64))]))

# --- progressive JPEG: 4096x4096 grey, one DC scan, then 20000 AC scans
# that each code "every block is empty" as end-of-band runs: ~30 bytes a
# scan, but a decoder walks all 262144 blocks for each of them.
class Bits:
    def __init__(self):
        self.out = bytearray(); self.acc = 0; self.n = 0
    def put(self, value, nbits):
        for i in range(nbits - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1); self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc = 0; self.n = 0
    def flush(self):
        while self.n:
            self.put(1, 1)
        return bytes(self.out)

def seg(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

def dht(cls_id, symbols):
    counts = [0] * 16
    counts[0] = len(symbols)  # every symbol a 1-bit code (one symbol only)
    return seg(0xC4, bytes([cls_id]) + bytes(counts) + bytes(symbols))

side = 4096
blocks = (side // 8) * (side // 8)
jpg = b"\xFF\xD8"
jpg += seg(0xDB, bytes([0]) + bytes([1] * 64))
jpg += seg(0xC2, struct.pack(">BHHB", 8, side, side, 1) + bytes([1, 0x11, 0]))
jpg += dht(0x00, [0x00])  # DC: one symbol, "difference of size 0"
jpg += dht(0x10, [0xE0])  # AC: one symbol, EOB run of 2^14 + 14 bits
dc = Bits()
for _ in range(blocks):
    dc.put(0, 1)
jpg += seg(0xDA, bytes([1, 1, 0x00, 0, 0, 0])) + dc.flush()
ac = Bits()
for _ in range(blocks // 16384):  # runs of exactly 2^14: no extra value
    ac.put(0, 1)
    ac.put(0, 14)
scan = seg(0xDA, bytes([1, 1, 0x00, 1, 63, 0])) + ac.flush()
jpg += scan * 20000 + b"\xFF\xD9"
write("bomb-20000-scans.jpg", jpg)

# --- headers that claim 65500x65500
j = bytearray(open("ok.jpg", "rb").read())
for i in range(len(j) - 9):
    if j[i] == 0xFF and j[i + 1] in (0xC0, 0xC1, 0xC2):
        j[i + 5:i + 9] = struct.pack(">HH", 65500, 65500)
        break
write("bomb-header-65500.jpg", bytes(j))
tif = bytearray(open("ok.tif", "rb").read())
le = tif[:2] == b"II"
E = "<" if le else ">"
off = struct.unpack(E + "I", tif[4:8])[0]
n = struct.unpack(E + "H", tif[off:off + 2])[0]
for k in range(n):
    e = off + 2 + 12 * k
    tag, typ = struct.unpack(E + "HH", tif[e:e + 4])
    if tag in (256, 257):
        tif[e + 8:e + 12] = struct.pack(E + ("H" if typ == 3 else "I"), 65500) + \
            (b"\0\0" if typ == 3 else b"")
write("bomb-header-65500.tif", bytes(tif))

# --- other formats under image names, wrong extensions, empty files
write("svg-xxe.jpg", b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/shadow">]>\n'
      b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000">'
      b'<text>&x;</text><image href="file:///etc/shadow"/></svg>\n')
write("plain.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"/>\n')
write("pdf.jpg", b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
      b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
      b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 99999 99999]>>endobj\n"
      b"trailer<</Root 1 0 R>>\n%%EOF\n")
write("postscript.jpg", b"%!PS-Adobe-3.0\n/loop { loop } def (/etc/shadow) (r) file\nshowpage\n")
write("png-named.jpg", open("ok.png", "rb").read())
write("jpeg-named.gif", open("ok.jpg", "rb").read())
write("text-named.png", b"just some text, not an image\n" * 10)
write("empty.jpg", b"")
write("empty.png", b"")
write("random.webp", bytes(rnd.randrange(256) for _ in range(4096)))

# --- names: a newline, invalid UTF-8, a leading dash
write("new\nline.png", open("ok.png", "rb").read())
write(b"bad-\xff\xfe-utf8.jpg", open("ok.jpg", "rb").read())
write("-dash.jpg", open("ok.jpg", "rb").read())

# --- folders 5,000 deep (deeper than PATH_MAX: made one level at a time)
with open("ok.png", "rb") as f:
    data = f.read()
top = os.open(".", os.O_RDONLY)
os.mkdir("deep")
os.chdir("deep")
for i in range(5000):
    os.mkdir("d")
    os.chdir("d")
write("bottom.png", data)
os.fchdir(top)

# --- special files
os.mkfifo("fifo.jpg")
if os.geteuid() == 0:
    os.mknod("zero-device.jpg", 0o644 | 0o020000, os.makedev(1, 5))  # /dev/zero
os.symlink("/etc/shadow", "shadow.jpg")
if outside:
    os.symlink(os.path.join(outside, "outside.png"), "outside-link.png")
    os.symlink(outside, "outside-dir")
PY

# the listing
find . -mindepth 1 -maxdepth 41 \( -path ./deep -prune \) -o -print0 | sort -z |
while IFS= read -r -d '' p; do
	[ "$p" = ./deep ] && continue
	shown=${p#./}
	shown=${shown//$'\n'/\\n}
	if [ -L "$p" ] || [ -p "$p" ] || [ -b "$p" ] || [ -c "$p" ]; then
		printf 'special\t%s\n' "$shown"
	elif [ -f "$p" ]; then
		printf 'file\t%s\n' "$shown"
	fi
done
printf 'deep\tdeep/d/.../d/bottom.png (5000 folders)\n'
