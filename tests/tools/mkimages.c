/* mkimages.c - many small, distinct test images, quickly, for the daemon's
 * integration tests (privacy grep over 1,000 images, the kill loop): each
 * is a W x W PNG (or JPEG) of 8 x 8 random colour blocks drawn from a
 * generator seeded by (seed, index), so the same arguments give the same
 * files and every image has its own perceptual hashes (blocks give strong
 * gradients, so PDQ quality is high).  One process and libvips for all of
 * them: running an image tool per file would take most of a test's time.
 *
 *   mkimages DIR COUNT [SEED [PREFIX [SIDE [EXT]]]]
 *
 * writes DIR/PREFIX0000.EXT .. and prints each path on standard output.
 * Defaults: seed 1, prefix "img", side 64, ext png.  Exit 0, or 2 with a
 * message.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#define MAX_COUNT 100000
#define MAX_SIDE 4096
#define BLOCKS 8

/* splitmix64: small, good enough for test pictures */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int number(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int one(const char *path, unsigned side, uint64_t seed, unsigned char *px)
{
	unsigned char col[BLOCKS * BLOCKS][3];
	VipsImage *im;
	int r;

	for (size_t b = 0; b < BLOCKS * BLOCKS; b++) {
		uint64_t v = next(&seed);
		col[b][0] = (unsigned char)v;
		col[b][1] = (unsigned char)(v >> 8);
		col[b][2] = (unsigned char)(v >> 16);
	}
	for (unsigned y = 0; y < side; y++)
		for (unsigned x = 0; x < side; x++)
			memcpy(px + ((size_t)y * side + x) * 3,
			       col[(y * BLOCKS / side) * BLOCKS + x * BLOCKS / side], 3);
	im = vips_image_new_from_memory(px, (size_t)side * side * 3, (int)side, (int)side, 3,
					VIPS_FORMAT_UCHAR);
	if (!im)
		return -ENOMEM;
	r = vips_image_write_to_file(im, path, NULL);
	g_object_unref(im);
	return r == 0 ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	unsigned long count, seed = 1, side = 64;
	const char *prefix = "img", *ext = "png";
	unsigned char *px = NULL;
	char path[4096];
	int rc = 2;

	if (argc < 3 || argc > 7 || number(argv[2], MAX_COUNT, &count) < 0 ||
	    (argc > 3 && number(argv[3], ULONG_MAX, &seed) < 0) ||
	    (argc > 5 && (number(argv[5], MAX_SIDE, &side) < 0 || side < BLOCKS))) {
		fprintf(stderr, "usage: mkimages DIR COUNT [SEED [PREFIX [SIDE [EXT]]]]\n"
				"  COUNT <= %d, %d <= SIDE <= %d, EXT png or jpg\n",
			MAX_COUNT, BLOCKS, MAX_SIDE);
		return 2;
	}
	if (argc > 4)
		prefix = argv[4];
	if (argc > 6)
		ext = argv[6];
	if (VIPS_INIT(argv[0]) != 0) {
		fprintf(stderr, "mkimages: libvips: %s\n", vips_error_buffer());
		return 2;
	}
	px = malloc(side * side * 3);
	if (!px) {
		fprintf(stderr, "mkimages: out of memory\n");
		goto out;
	}
	for (unsigned long i = 0; i < count; i++) {
		if (snprintf(path, sizeof(path), "%s/%s%04lu.%s", argv[1], prefix, i, ext) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "mkimages: path too long\n");
			goto out;
		}
		if (one(path, (unsigned)side, seed * 1000003ull + i, px) < 0) {
			fprintf(stderr, "mkimages: %s: %s\n", path, vips_error_buffer());
			goto out;
		}
		printf("%s\n", path);
	}
	rc = 0;
out:
	free(px);
	vips_shutdown();
	return rc;
}
