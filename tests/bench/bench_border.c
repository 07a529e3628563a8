/* bench_border.c - what border trimming (HASHER_TRIM) buys and costs, on
 * the real-photo corpus ($HASHWATCH_CORPUS, one path a line) and the PDQ
 * test images ($HASHWATCH_TESTDATA/pdq/images):
 *
 *  1. Recall.  Every picture (shrunk to at most 1024 px) is framed in each
 *     way tests/frames.h knows, encoded as JPEG (Q 80) and PNG through
 *     libvips, and hashed through the daemon's path (hasher_run, fast
 *     decode).  A framed copy is found when the whole image's or the inner
 *     region's PDQ (quality >= 50) is within 31 bits of the PDQ of the
 *     unframed picture's pixels (what a list made from the original holds).
 *     Reported per kind, with trimming off and on; pHash/dHash at 8 bits too.
 *  2. False matches.  Each corpus photo as it is, hashed with and without
 *     trimming (PDQ with its 8 dihedral variants, as the matcher queries):
 *     the pairs of different pictures within 31 bits, both ways, must be
 *     as many with trimming as without.  Also the framed copies of each
 *     picture against the other pictures.
 *  3. Cost.  The share of corpus photos that trigger trimming, and the
 *     throughput of hasher_run (pdq with dihedral variants, phash, dhash;
 *     fast decode) with trimming on vs off, alternating runs in one process,
 *     best of 3; the target is >= 0.95x.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "border.h"
#include "decode.h"
#include "fileio.h"
#include "frames.h"
#include "hasher.h"
#include "imagehash.h"
#include "pdq.h"
#include "walk.h"

#define PDQ_MATCH 31
#define H64_MATCH 8
#define MIN_QUALITY 50
#define SOURCE_SIDE 1024
#define JPEG_Q 80
#define MAX_FILE (256u << 20)
#define ROUNDS 3

#define FAST_MODELS                                                            \
	((1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH) | (1u << HW_MODEL_DHASH))

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int dist64(const struct hw_hash *h, uint64_t ref)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h->bytes[i];
	return __builtin_popcountll(v ^ ref);
}

/* Best PDQ distance of a region's hashes to ref, or 999 when the region
 * has no PDQ of usable quality.  all_variants: the 8 dihedral variants, as
 * the matcher queries them; else the hash as it is. */
static int region_pdq(const struct hasher_view *v, const struct pdq_hash *ref,
		      bool all_variants)
{
	int best = 999;

	if (!(v->mask & (1u << HW_MODEL_PDQ)) ||
	    v->hash[HW_MODEL_PDQ].quality < MIN_QUALITY)
		return best;
	if (!all_variants || !v->have_dihedral)
		return pdq_distance((const struct pdq_hash *)v->hash[HW_MODEL_PDQ].bytes, ref);
	for (int i = 0; i < PDQ_NDIHEDRAL; i++) {
		int d = pdq_distance(&v->pdq_dihedral->v[i], ref);
		if (d < best)
			best = d;
	}
	return best;
}

static int dihedral_min(const struct pdq_dihedral *d, const struct pdq_hash *h)
{
	int best = 999;
	for (int i = 0; i < PDQ_NDIHEDRAL; i++) {
		int v = pdq_distance(&d->v[i], h);
		if (v < best)
			best = v;
	}
	return best;
}

/* Best distance over the regions of res (only the whole image unless
 * trim). */
static int best_pdq(const struct hasher_result *res, const struct pdq_hash *ref,
		    bool trim, bool all_variants)
{
	struct hasher_view v[HASHER_NREGIONS];
	unsigned n = hasher_regions(res, v);
	int best = 999;

	for (unsigned i = 0; i < (trim ? n : 1); i++) {
		int d = region_pdq(&v[i], ref, all_variants);
		if (d < best)
			best = d;
	}
	return best;
}

static int best_h64(const struct hasher_result *res, enum hw_model_id id,
		    uint64_t ref, bool trim)
{
	struct hasher_view v[HASHER_NREGIONS];
	unsigned n = hasher_regions(res, v);
	int best = 999;

	for (unsigned i = 0; i < (trim ? n : 1); i++) {
		if (!(v[i].mask & (1u << id)))
			continue;
		int d = dist64(&v[i].hash[id], ref);
		if (d < best)
			best = d;
	}
	return best;
}

/* ---- sources ------------------------------------------------------------ */

struct source {
	char *path;
	char key[128];  /* same key = same picture (sizes, light/dark) */
	void *bytes;    /* the file, for the corpus passes */
	size_t len;
	bool corpus;
	/* corpus results */
	struct hasher_result *off, *on;
	double t_on, t_off;
};

static void ends_cut(char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	if (n > m && strcmp(s + n - m, suffix) == 0)
		s[n - m] = '\0';
}

/* Plasma wallpapers come as NAME/contents/images{,_dark}/WxH.ext; GNOME's
 * as NAME-l / NAME-d; MATE's with a _WxH suffix now and then.  Those are
 * one picture for the "different pictures" count. */
static void picture_key(const char *path, char *key, size_t keylen)
{
	const char *p = strstr(path, "/contents/");
	const char *base;
	char *dot, *us;

	if (p) {
		const char *s = p;
		while (s > path && s[-1] != '/')
			s--;
		snprintf(key, keylen, "%.*s", (int)(p - s), s);
		return;
	}
	base = strrchr(path, '/');
	snprintf(key, keylen, "%s", base ? base + 1 : path);
	dot = strrchr(key, '.');
	if (dot)
		*dot = '\0';
	ends_cut(key, "-d");
	ends_cut(key, "-l");
	us = strrchr(key, '_');
	if (us && strchr(us, 'x') && us[1] >= '0' && us[1] <= '9')
		*us = '\0';
}

static bool is_image_name(const char *p)
{
	const char *dot = strrchr(p, '.');
	return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
		       !strcasecmp(dot, ".png") || !strcasecmp(dot, ".webp"));
}

static int add_source(struct source **v, size_t *n, const char *path, bool corpus)
{
	struct source *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	nv[*n].path = strdup(path);
	if (!nv[*n].path)
		return -ENOMEM;
	nv[*n].corpus = corpus;
	picture_key(path, nv[*n].key, sizeof(nv[*n].key));
	(*n)++;
	return 0;
}

static void walk_err(const char *path, int err, void *ud)
{
	(void)ud;
	fprintf(stderr, "bench_border: %s: %s\n", path, strerror(-err));
}

static size_t load_sources(struct source **v)
{
	const char *manifest = getenv("HASHWATCH_CORPUS");
	const char *td = getenv("HASHWATCH_TESTDATA");
	char line[4096], dir[4096];
	struct pathlist pl = { 0 };
	size_t n = 0;
	FILE *f;

	if (manifest && *manifest && (f = fopen(manifest, "r"))) {
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (*line && add_source(v, &n, line, true) < 0)
				break;
		}
		fclose(f);
	}
	snprintf(dir, sizeof(dir), "%s/pdq/images",
		 td && *td ? td : "../shared/testdata");
	if (walk_collect(dir, &pl, walk_err, NULL) == 0)
		for (size_t i = 0; i < pl.n; i++)
			/* the test images include rotations, EXIF and colour
			 * modes of two pictures; one of each is enough */
			if (is_image_name(pl.v[i]) && !strstr(pl.v[i], "/dih/") &&
			    !strstr(pl.v[i], "/exif-rotn/") && !strstr(pl.v[i], "/modes/") &&
			    (!strstr(pl.v[i], "/bridge-mods/") || strstr(pl.v[i], "aaa-orig")))
				add_source(v, &n, pl.v[i], false);
	pathlist_free(&pl);
	return n;
}

/* ---- 1. recall on framed copies ----------------------------------------- */

struct tally {
	unsigned n, off, on, ph_off, ph_on, dh_off, dh_on, trimmed, box_ok, ideal;
	double dsum_off, dsum_on;
};

static void print_tally(const char *name, const struct tally *t)
{
	if (!t->n)
		return;
	printf("  %-12s %5u  %5.3f  %5.3f  %5.3f  %5.1f  %5.1f   %5.3f  %5.3f   %5.3f  %5.3f  %5.3f  %5.3f\n",
	       name, t->n, (double)t->off / t->n, (double)t->on / t->n,
	       (double)t->ideal / t->n,
	       t->dsum_off / t->n, t->dsum_on / t->n, (double)t->ph_off / t->n,
	       (double)t->ph_on / t->n, (double)t->dh_off / t->n,
	       (double)t->dh_on / t->n, (double)t->trimmed / t->n,
	       (double)t->box_ok / t->n);
}

static void add_tally(struct tally *a, const struct tally *b)
{
	a->n += b->n;
	a->off += b->off;
	a->on += b->on;
	a->ph_off += b->ph_off;
	a->ph_on += b->ph_on;
	a->dh_off += b->dh_off;
	a->dh_on += b->dh_on;
	a->trimmed += b->trimmed;
	a->box_ok += b->box_ok;
	a->ideal += b->ideal;
	a->dsum_off += b->dsum_off;
	a->dsum_on += b->dsum_on;
}

static const char *kind_name(int k)
{
	return k == FRM_NKINDS ? "unframed" : frm_kind_name((enum frm_kind)k);
}

/* Does the inner box (file pixels) sit within 2% of each side of the
 * picture's true place? */
static bool box_close(const struct border_box *got, const struct border_box *want,
		      uint32_t w, uint32_t h)
{
	long tx = (long)w / 50 + 2, ty = (long)h / 50 + 2;
	return labs((long)got->x - (long)want->x) <= tx &&
	       labs((long)got->y - (long)want->y) <= ty &&
	       labs((long)(got->x + got->w) - (long)(want->x + want->w)) <= tx &&
	       labs((long)(got->y + got->h) - (long)(want->y + want->h)) <= ty;
}

/* PDQ distance to ref of the picture's true place in the decoded pixels:
 * what trimming could reach at the resolution the fast decode gives. */
static int ideal_pdq(const void *buf, size_t len, const struct border_box *truth,
		     uint32_t fw, uint32_t fh, const struct pdq_hash *ref)
{
	struct decode_opts dopts = { .mode = DECODE_FAST };
	struct hw_image img, view;
	struct pdq_result res;
	int d = 999;

	if (decode_buffer(buf, len, &dopts, &img, NULL, NULL, 0) < 0)
		return d;
	uint32_t x0 = (uint32_t)(((uint64_t)truth->x * img.width + fw / 2) / fw);
	uint32_t y0 = (uint32_t)(((uint64_t)truth->y * img.height + fh / 2) / fh);
	uint32_t x1 = (uint32_t)(((uint64_t)(truth->x + truth->w) * img.width + fw / 2) / fw);
	uint32_t y1 = (uint32_t)(((uint64_t)(truth->y + truth->h) * img.height + fh / 2) / fh);
	if (x1 > x0 && y1 > y0 && hw_image_crop(&img, x0, y0, x1 - x0, y1 - y0, &view) == 0 &&
	    pdq_hash_image(&view, &res) == 0 && res.quality >= MIN_QUALITY)
		d = pdq_distance(&res.hash, ref);
	hw_image_free(&img);
	return d;
}

/* Frame one picture every way; tally and, for the false-match count,
 * compare each framed copy with the other pictures' list hashes. */
static int recall_one(struct source *s, size_t idx, struct source *all, size_t n,
		      const struct pdq_hash *list, struct tally *t,
		      unsigned *cross_off, unsigned *cross_on)
{
	struct decode_opts dopts = { .mode = DECODE_FAST };
	struct hasher_result *res = malloc(sizeof(*res));
	struct hw_image pic = { 0 };
	struct pdq_result ref;
	struct pdq_dihedral refd;
	uint64_t ph, dh;
	char err[256];
	int r;

	if (!res)
		return -ENOMEM;
	r = frm_load(s->path, SOURCE_SIDE, &pic);
	if (r == 0)
		r = pdq_hash_image(&pic, &ref);
	if (r == 0)
		r = pdq_hash_dihedral(&pic, &refd);
	if (r == 0)
		r = imagehash_all(&pic, &ph, &dh, NULL);
	if (r < 0 || ref.quality < MIN_QUALITY) {
		/* a flat picture cannot be listed (quality < 50) */
		hw_image_free(&pic);
		free(res);
		return r < 0 ? r : 0;
	}
	/* k == FRM_NKINDS: the picture without a frame, the control that
	 * shows what the codec and the fast decode alone cost */
	for (int k = 0; k <= FRM_NKINDS; k++) {
		for (int fmt = 0; fmt < 2; fmt++) {
			struct hw_image framed = pic;
			struct border_box truth = { 0, 0, pic.width, pic.height };
			void *buf = NULL;
			size_t len = 0;
			struct tally *tk = &t[k];

			r = k == FRM_NKINDS ? 0
					    : frm_make(&pic, (enum frm_kind)k,
						       (unsigned)(idx * 7 + k + fmt), &framed,
						       &truth);
			uint32_t fw = framed.width, fh = framed.height;
			if (r == 0)
				r = frm_encode(&framed, fmt ? 0 : JPEG_Q, &buf, &len);
			if (framed.pixels != pic.pixels)
				hw_image_free(&framed);
			if (r == 0)
				r = hasher_run(buf, len, FAST_MODELS,
					       HASHER_DIHEDRAL | HASHER_TRIM, &dopts,
					       res, err, sizeof(err));
			int ideal = r == 0 ? ideal_pdq(buf, len, &truth, fw, fh, &ref.hash) : 999;
			g_free(buf);
			if (r < 0) {
				fprintf(stderr, "bench_border: %s (%s): %s\n", s->path,
					kind_name(k), err);
				continue;
			}
			int d_off = best_pdq(res, &ref.hash, false, false);
			int d_on = best_pdq(res, &ref.hash, true, false);
			tk->n++;
			tk->off += d_off <= PDQ_MATCH;
			tk->on += d_on <= PDQ_MATCH;
			tk->dsum_off += d_off > 256 ? 256 : d_off;
			tk->dsum_on += d_on > 256 ? 256 : d_on;
			tk->ph_off += best_h64(res, HW_MODEL_PHASH, ph, false) <= H64_MATCH;
			tk->ph_on += best_h64(res, HW_MODEL_PHASH, ph, true) <= H64_MATCH;
			tk->dh_off += best_h64(res, HW_MODEL_DHASH, dh, false) <= H64_MATCH;
			tk->dh_on += best_h64(res, HW_MODEL_DHASH, dh, true) <= H64_MATCH;
			if (res->inner.mask) {
				tk->trimmed++;
				tk->box_ok += box_close(&res->inner.box, &truth, fw, fh);
			}
			tk->ideal += ideal <= PDQ_MATCH;
			if (getenv("BENCH_BORDER_VERBOSE") && d_on > PDQ_MATCH)
				printf("    miss %s %s %s: whole %d inner %d box %u,%u,%u,%u of %ux%u truth %u,%u,%u,%u\n",
				       s->path, kind_name(k),
				       fmt ? "png" : "jpeg", d_off, d_on,
				       res->inner.box.x, res->inner.box.y,
				       res->inner.box.w, res->inner.box.h,
				       res->info.src_width, res->info.src_height,
				       truth.x, truth.y, truth.w, truth.h);
			/* framed copy of this picture vs every other picture
			 * that the unframed picture does not match already
			 * (near-duplicates: one design in two colours) */
			for (size_t j = 0; list && j < n; j++) {
				if (!all[j].corpus || !all[j].off ||
				    strcmp(all[j].key, s->key) == 0 ||
				    dihedral_min(&refd, &list[j]) <= PDQ_MATCH)
					continue;
				int c_off = best_pdq(res, &list[j], false, true) <= PDQ_MATCH;
				int c_on = best_pdq(res, &list[j], true, true) <= PDQ_MATCH;
				*cross_off += c_off;
				*cross_on += c_on;
				if (getenv("BENCH_BORDER_VERBOSE") && c_on && !c_off)
					printf("    cross %s %s %s ~ %s: inner %d q %d box %u,%u,%u,%u of %ux%u\n",
					       s->path, kind_name(k),
					       fmt ? "png" : "jpeg", all[j].path,
					       best_pdq(res, &list[j], true, true),
					       res->inner.hash[HW_MODEL_PDQ].quality,
					       res->inner.box.x, res->inner.box.y,
					       res->inner.box.w, res->inner.box.h,
					       res->info.src_width, res->info.src_height);
			}
		}
	}
	hw_image_free(&pic);
	free(res);
	return 0;
}

/* ---- 2 and 3: the corpus as it is ---------------------------------------- */

/* Hash one corpus file with trimming on or off, keeping the fastest time
 * and the first result.  Returns 0 or the hasher's error. */
static int corpus_one(struct source *s, bool trim, struct hasher_result *res)
{
	struct decode_opts dopts = { .mode = DECODE_FAST };
	struct hasher_result **slot = trim ? &s->on : &s->off;
	double *best = trim ? &s->t_on : &s->t_off;
	char err[256];
	double t0 = now(), dt;
	int r;

	r = hasher_run(s->bytes, s->len, FAST_MODELS,
		       HASHER_DIHEDRAL | (trim ? HASHER_TRIM : 0), &dopts, res, err,
		       sizeof(err));
	dt = now() - t0;
	if (r < 0) {
		fprintf(stderr, "bench_border: %s: %s\n", s->path, err);
		return r;
	}
	if (*best == 0 || dt < *best)
		*best = dt;
	if (!*slot && (*slot = malloc(sizeof(**slot))))
		**slot = *res;
	return 0;
}

/* ROUNDS passes over the corpus files in memory, each file hashed with
 * trimming off and on back to back (in alternating order), so that the
 * machine's load changes hit both the same way; per file the fastest of
 * the rounds counts. */
static int corpus_passes(struct source *v, size_t n, double *ret_off, double *ret_on)
{
	struct hasher_result *res = malloc(sizeof(*res));

	if (!res)
		return -ENOMEM;
	for (int round = 0; round < ROUNDS; round++)
		for (size_t i = 0; i < n; i++) {
			if (!v[i].corpus || !v[i].bytes)
				continue;
			bool first = (round + (int)i) % 2;
			corpus_one(&v[i], first, res);
			corpus_one(&v[i], !first, res);
		}
	*ret_off = *ret_on = 0;
	for (size_t i = 0; i < n; i++) {
		*ret_off += v[i].t_off;
		*ret_on += v[i].t_on;
	}
	free(res);
	return 0;
}

/* Pairs of different pictures matching in either direction. */
static unsigned count_pairs(const struct source *v, size_t n, bool trim)
{
	unsigned pairs = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			const struct hasher_result *a, *b;
			if (!v[i].off || !v[j].off || strcmp(v[i].key, v[j].key) == 0)
				continue;
			a = trim ? v[i].on : v[i].off;
			b = trim ? v[j].on : v[j].off;
			if (!a || !b)
				continue;
			/* the list holds each picture's whole-image hash */
			const struct pdq_hash *la = (const void *)v[i].off->hash[HW_MODEL_PDQ].bytes;
			const struct pdq_hash *lb = (const void *)v[j].off->hash[HW_MODEL_PDQ].bytes;
			if (best_pdq(a, lb, trim, true) <= PDQ_MATCH ||
			    best_pdq(b, la, trim, true) <= PDQ_MATCH)
				pairs++;
		}
	return pairs;
}

int main(int argc, char **argv)
{
	struct source *src = NULL;
	struct tally t[FRM_NKINDS + 1], all_t;
	struct pdq_hash *list = NULL;
	size_t n, ncorpus = 0, pictures = 0;
	unsigned cross_off = 0, cross_on = 0, trimmed = 0;
	double best_on = 0, best_off = 0, extra = 0, border_us = 0;
	int rc = 0;

	(void)argc;
	if (decode_init(argv[0]) < 0) {
		fprintf(stderr, "bench_border: cannot initialise libvips\n");
		return 1;
	}
	n = load_sources(&src);
	for (size_t i = 0; i < n; i++)
		if (src[i].corpus && hw_read_file(src[i].path, MAX_FILE, &src[i].bytes,
						  &src[i].len) == 0)
			ncorpus++;
	if (ncorpus == 0)
		printf("SKIP: no corpus (HASHWATCH_CORPUS unset or empty; `make bench` "
		       "builds it with ../shared/bench/corpus.sh); using the PDQ test "
		       "images only\n");

	/* 2 and 3 first: the pictures' list hashes are needed for the
	 * framed-copy cross check. */
	if (ncorpus) {
		if (corpus_passes(src, n, &best_off, &best_on) < 0)
			return 2;
		list = calloc(n, sizeof(*list));
		for (size_t i = 0; list && i < n; i++) {
			if (!src[i].off)
				continue;
			memcpy(list[i].bytes, src[i].off->hash[HW_MODEL_PDQ].bytes, PDQ_BYTES);
			if (src[i].on && src[i].on->inner.mask) {
				trimmed++;
				extra += src[i].t_on - src[i].t_off;
				printf("  trims: %s box %u,%u,%u,%u of %ux%u\n", src[i].path,
				       src[i].on->inner.box.x, src[i].on->inner.box.y,
				       src[i].on->inner.box.w, src[i].on->inner.box.h,
				       src[i].on->info.src_width, src[i].on->info.src_height);
			}
		}
		/* border_find alone, on the decoded pixels */
		struct decode_opts dopts = { .mode = DECODE_FAST };
		unsigned nb = 0;
		for (size_t i = 0; i < n; i++) {
			struct hw_image img;
			struct border_box box;
			if (!src[i].bytes ||
			    decode_buffer(src[i].bytes, src[i].len, &dopts, &img, NULL, NULL, 0) < 0)
				continue;
			double t0 = now();
			for (int k = 0; k < 100; k++)
				(void)border_find(&img, NULL, &box, NULL);
			border_us += (now() - t0) * 1e6 / 100;
			nb++;
			hw_image_free(&img);
		}
		if (nb)
			border_us /= nb;
	}

	memset(t, 0, sizeof(t));
	memset(&all_t, 0, sizeof(all_t));
	for (size_t i = 0; i < n; i++) {
		if (recall_one(&src[i], i, src, n, list, t, &cross_off, &cross_on) < 0)
			fprintf(stderr, "bench_border: %s: cannot load\n", src[i].path);
		pictures++;
	}

	printf("recall of framed copies (%zu pictures, each as JPEG Q%d and PNG; fast decode;\n"
	       "PDQ <= %d bits, quality >= %d; pHash/dHash <= %d bits; vs the unframed pixels)\n",
	       pictures, JPEG_Q, PDQ_MATCH, MIN_QUALITY, H64_MATCH);
	printf("  %-12s %5s  %5s  %5s  %5s  %5s  %5s   %5s  %5s   %5s  %5s  %5s  %5s\n", "kind",
	       "n", "off", "on", "ideal", "d-off", "d-on", "pH-of", "pH-on", "dH-of", "dH-on",
	       "trim", "box");
	for (int k = 0; k < FRM_NKINDS; k++) {
		print_tally(kind_name(k), &t[k]);
		add_tally(&all_t, &t[k]);
	}
	print_tally("overall", &all_t);
	print_tally("unframed", &t[FRM_NKINDS]);
	if (all_t.n && (double)all_t.on / all_t.n < 0.95) {
		printf("FAIL: recall with trimming %.3f < 0.95\n", (double)all_t.on / all_t.n);
		rc = 1;
	}

	if (ncorpus) {
		unsigned p_off = count_pairs(src, n, false), p_on = count_pairs(src, n, true);
		printf("false matches: pairs of different corpus pictures within %d bits "
		       "(8 dihedral variants): %u without trimming, %u with\n",
		       PDQ_MATCH, p_off, p_on);
		printf("false matches: framed copies vs other corpus pictures (pairs whose "
		       "unframed pictures match left out): %u without trimming, %u with\n",
		       cross_off, cross_on);
		printf("corpus photos that trigger trimming: %u of %zu (%.1f%%); extra "
		       "time when they do: %.1f ms each; border_find alone: %.1f us per image\n",
		       trimmed, ncorpus, 100.0 * trimmed / ncorpus,
		       trimmed ? 1e3 * extra / trimmed : 0.0, border_us);
		printf("throughput (pdq+dihedral, phash, dhash; fast; per file best of %d): off %.2f img/s, "
		       "on %.2f img/s, ratio %.3fx (target >= 0.95x)\n",
		       ROUNDS, ncorpus / best_off, ncorpus / best_on, best_off / best_on);
		if (p_on != p_off || cross_on != cross_off) {
			printf("FAIL: trimming added false matches\n");
			rc = 1;
		}
		if (best_off / best_on < 0.95) {
			printf("FAIL: throughput ratio %.3f < 0.95\n", best_off / best_on);
			rc = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(src[i].path);
		free(src[i].bytes);
		free(src[i].off);
		free(src[i].on);
	}
	free(src);
	free(list);
	return rc;
}
