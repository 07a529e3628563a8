/* cmd_scan.c - `hashwatch scan`: a one-shot scan of files and folders
 * against a signed list, like clamscan: what the daemon does to each new
 * file, done once over given paths, with matches printed and a summary.
 *
 * Only the models the list holds are computed (a list of SHA-256 digests
 * never decodes an image), PDQ with its 8 dihedral variants.  Nothing is
 * printed about files that did not match except counts: their hashes are
 * never shown or kept (DESIGN.md, invariant 2).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "cli_list.h"
#include "fileio.h"
#include "hasher.h"
#include "hwdb.h"
#include "progress.h"
#include "walk.h"

#define DEFAULT_MAX_FILE (256u * 1024 * 1024)
#define DEFAULT_MIN_QUALITY 50
#define MAX_MATCHES 64 /* printed per file */

/* Why a file, or part of its check, was skipped.  Files that could not be
 * read at all are errors (exit 2 when nothing matched); the rest are
 * reported in the summary. */
enum skip {
	SKIP_UNREADABLE,   /* open/read failed, or a folder could not be read */
	SKIP_TOO_LARGE,    /* over --max-size: not checked at all */
	SKIP_NOT_IMAGE,    /* digests checked, image models not */
	SKIP_CORRUPT,      /* likewise, the image is damaged */
	SKIP_TOO_BIG_IMAGE,/* likewise, over the pixel limit */
	SKIP_HASH_FAILED,  /* likewise, a model failed (e.g. not installed) */
	SKIP_LOW_QUALITY,  /* PDQ quality below --min-quality: PDQ not checked */
	SKIP__MAX
};

static const char *const skip_key[SKIP__MAX] = {
	"unreadable", "too_large", "not_an_image", "corrupt_image",
	"too_many_pixels", "hashing_failed", "low_pdq_quality",
};

static const char *const skip_text[SKIP__MAX] = {
	"could not be read (errors above)",
	"larger than --max-size, not checked",
	"not an image (checked by digest only, if the list has digests)",
	"damaged image (checked by digest only, if the list has digests)",
	"image over the pixel limit (checked by digest only, if any)",
	"an image model failed (checked by the other models)",
	"PDQ quality below --min-quality (PDQ not checked)",
};

struct scan {
	struct hwdb *db;
	uint32_t mask;
	bool json, quiet, has_image_models;
	int min_quality;
	size_t max_file;
	struct decode_opts dopts;
	struct progress prog;
	uint64_t files, checked, matched_files, matches;
	uint64_t skipped[SKIP__MAX];
};

static void help(void)
{
	printf("Usage: hashwatch scan --db LIST.hwdb --trust PUB [OPTIONS] PATH...\n\n"
	       "Scan files and folders (recursively; symlinks inside folders are not\n"
	       "followed) against a signed hash list and print every match.  Only the\n"
	       "models the list holds are computed; PDQ is checked with its 8\n"
	       "rotations and mirrors.  Nothing about non-matching files is printed\n"
	       "except counts.\n\n"
	       "  -d, --db LIST          the list to match against\n"
	       "      --trust PUB        a trusted public key file, or a folder of *.pub\n"
	       "                         files (/etc/hashwatch/keys); repeatable\n"
	       "      --min-signers K    distinct trusted signatures required (default 1)\n"
	       "      --allow-unsigned   skip the signer check, to test a list you built\n"
	       "                         yourself; never for real scans\n"
	       "      --min-quality Q    skip PDQ for images of PDQ quality below Q\n"
	       "                         (default 50, Meta's recommendation)\n"
	       "      --exact            decode at full size as Meta's reference does\n"
	       "                         (slower; the default shrinks while decoding)\n"
	       "      --max-size N       skip files larger than N bytes (default 256 MiB)\n"
	       "  -j, --json             JSON Lines: one object per match, then a summary\n"
	       "  -q, --quiet            no progress bar\n"
	       "  -h, --help             this text\n\n"
	       "Exit status: 1 something matched, 0 nothing matched, 2 error (list\n"
	       "refused, usage, or files that could not be read while nothing matched).\n");
}

static void report_match(struct scan *s, const char *path, const struct hwdb_match *m)
{
	const char *model = hw_model_by_id(m->model)->name;
	const char *variant = cli_variant_name(m->variant);
	struct hwdb_entry e;

	if (hwdb_entry_get(s->db, m->entry, &e) < 0)
		e.id = e.category = e.source = "";
	progress_clear(&s->prog);
	if (s->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("match"));
		json_object_object_add(o, "path", json_object_new_string(path));
		json_object_object_add(o, "list_id", json_object_new_string(hwdb_list_id(s->db)));
		json_object_object_add(o, "list_version", json_object_new_uint64(hwdb_version(s->db)));
		json_object_object_add(o, "entry", json_object_new_uint64(m->entry));
		json_object_object_add(o, "id", json_object_new_string(e.id));
		json_object_object_add(o, "category", json_object_new_string(e.category));
		json_object_object_add(o, "source", json_object_new_string(e.source));
		json_object_object_add(o, "model", json_object_new_string(model));
		json_object_object_add(o, "distance", cli_json_distance(m->distance));
		json_object_object_add(o, "variant", variant ? json_object_new_string(variant) : NULL);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("%s: MATCH entry %u%s%s%s category=%s source=%s model=%s distance=%g%s%s\n",
		       path, m->entry, *e.id ? " (id " : "", e.id, *e.id ? ")" : "",
		       *e.category ? e.category : "-", *e.source ? e.source : "-", model,
		       m->distance, variant ? " variant=" : "", variant ? variant : "");
	}
	fflush(stdout);
}

static enum skip skip_for(int r)
{
	switch (r) {
	case -EMEDIUMTYPE: return SKIP_NOT_IMAGE;
	case -EBADMSG: return SKIP_CORRUPT;
	case -EFBIG: return SKIP_TOO_BIG_IMAGE;
	default: return SKIP_HASH_FAILED;
	}
}

static void scan_file(struct scan *s, const char *path)
{
	struct hwdb_match m[MAX_MATCHES];
	struct hasher_result *res = NULL;
	char err[256] = "";
	void *buf = NULL;
	size_t len = 0;
	int fd, r, n;

	s->files++;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		goto unreadable;
	}
	r = hw_read_fd(fd, s->max_file, &buf, &len);
	close(fd);
	if (r == -EFBIG) {
		s->skipped[SKIP_TOO_LARGE]++;
		return;
	}
	if (r < 0)
		goto unreadable;
	res = malloc(sizeof(*res));
	if (!res) {
		r = -ENOMEM;
		goto unreadable;
	}
	r = hasher_run(buf, len, s->mask,
		       (s->mask & (1u << HW_MODEL_PDQ)) ? HASHER_DIHEDRAL : 0, &s->dopts, res,
		       err, sizeof(err));
	free(buf);
	if (r < 0)
		s->skipped[skip_for(r)]++;
	if (r == -ENOMEM) {
		free(res);
		goto unreadable;
	}
	if ((res->mask & (1u << HW_MODEL_PDQ)) && res->hash[HW_MODEL_PDQ].quality < s->min_quality)
		s->skipped[SKIP_LOW_QUALITY]++;
	if (res->mask)
		s->checked++;
	n = hwdb_match(s->db, res, NULL, s->min_quality, m, MAX_MATCHES);
	free(res);
	if (n < 0) {
		progress_clear(&s->prog);
		cli_error("scan", "%s: matching failed: %s (the list may be damaged)", path,
			  strerror(-n));
		s->skipped[SKIP_UNREADABLE]++;
		return;
	}
	for (int i = 0; i < n && i < MAX_MATCHES; i++)
		report_match(s, path, &m[i]);
	if (n > MAX_MATCHES)
		cli_error("scan", "%s: %d matches, only the first %d shown", path, n, MAX_MATCHES);
	if (n > 0) {
		s->matched_files++;
		s->matches += (uint64_t)n;
	}
	return;
unreadable:
	progress_clear(&s->prog);
	cli_error("scan", "%s: cannot read: %s", path, strerror(-r));
	s->skipped[SKIP_UNREADABLE]++;
}

static void walk_err(const char *path, int err, void *ud)
{
	struct scan *s = ud;
	s->skipped[SKIP_UNREADABLE]++;
	cli_error("scan", "%s: %s", path,
		  err == -EINVAL ? "not a regular file or folder, skipped" : strerror(-err));
}

static void summary(const struct scan *s)
{
	if (s->json) {
		json_object *o = json_object_new_object(), *sk = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("summary"));
		json_object_object_add(o, "list_id", json_object_new_string(hwdb_list_id(s->db)));
		json_object_object_add(o, "list_version", json_object_new_uint64(hwdb_version(s->db)));
		json_object_object_add(o, "files", json_object_new_uint64(s->files));
		json_object_object_add(o, "checked", json_object_new_uint64(s->checked));
		json_object_object_add(o, "matched_files", json_object_new_uint64(s->matched_files));
		json_object_object_add(o, "matches", json_object_new_uint64(s->matches));
		for (int i = 0; i < SKIP__MAX; i++)
			json_object_object_add(sk, skip_key[i], json_object_new_uint64(s->skipped[i]));
		json_object_object_add(o, "skipped", sk);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	printf("\n----- scan summary -----\n"
	       "list:          %s version %llu\n"
	       "files:         %llu (%llu checked)\n"
	       "matched files: %llu (%llu matches)\n",
	       hwdb_list_id(s->db), (unsigned long long)hwdb_version(s->db),
	       (unsigned long long)s->files, (unsigned long long)s->checked,
	       (unsigned long long)s->matched_files, (unsigned long long)s->matches);
	for (int i = 0; i < SKIP__MAX; i++)
		if (s->skipped[i])
			printf("skipped:       %llu %s\n", (unsigned long long)s->skipped[i],
			       skip_text[i]);
}

/* Open the list with the trust given, saying loudly when there is none. */
static int open_list(struct scan *s, const char *path, struct cli_trust *ct)
{
	struct hwdb_trust t;
	char err[512];
	int r;

	if (ct->allow_unsigned)
		fprintf(stderr,
			"hashwatch scan: WARNING: --allow-unsigned: the list's signers are NOT checked.\n"
			"hashwatch scan: WARNING: use this only to test a list you built yourself.\n");
	cli_trust_view(ct, &t);
	r = hwdb_open(path, &t, &s->db, err, sizeof(err));
	if (r < 0) {
		cli_error("scan", "%s: refused: %s", path, err);
		return r;
	}
	s->mask = hwdb_model_mask(s->db);
	for (int id = 1; id < HW_MODEL__MAX; id++)
		if ((s->mask & (1u << id)) &&
		    hw_model_by_id((enum hw_model_id)id)->kind == HW_KIND_IMAGE)
			s->has_image_models = true;
	return 0;
}

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "trust", required_argument, NULL, 'T' },
		{ "min-signers", required_argument, NULL, 'K' },
		{ "allow-unsigned", no_argument, NULL, 'U' },
		{ "min-quality", required_argument, NULL, 'Q' },
		{ "exact", no_argument, NULL, 'e' },
		{ "max-size", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct scan s = { .min_quality = DEFAULT_MIN_QUALITY, .max_file = DEFAULT_MAX_FILE };
	struct cli_trust *trust = calloc(1, sizeof(*trust));
	struct pathlist files = { 0 };
	const char *list = NULL;
	int c, ret = CLI_ERROR;
	uint64_t v;

	if (!trust) {
		cli_error("scan", "out of memory");
		return CLI_ERROR;
	}
	while ((c = getopt_long(argc, argv, "d:jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': list = optarg; break;
		case 'T':
			if (cli_trust_add(trust, "scan", optarg) < 0)
				goto out;
			break;
		case 'K':
			if (cli_parse_u64(optarg, 1, HWDB_MAX_SIGNERS, &v) < 0) {
				cli_error("scan", "--min-signers is 1 to %d, not '%s'", HWDB_MAX_SIGNERS, optarg);
				goto out;
			}
			trust->min_signers = (unsigned)v;
			break;
		case 'U': trust->allow_unsigned = true; break;
		case 'Q':
			if (cli_parse_u64(optarg, 0, 100, &v) < 0) {
				cli_error("scan", "--min-quality is 0 to 100, not '%s'", optarg);
				goto out;
			}
			s.min_quality = (int)v;
			break;
		case 'e': s.dopts.mode = DECODE_EXACT; break;
		case 'S':
			if (cli_parse_u64(optarg, 1, SIZE_MAX / 2, &v) < 0) {
				cli_error("scan", "--max-size needs a positive number of bytes, not '%s'", optarg);
				goto out;
			}
			s.max_file = (size_t)v;
			break;
		case 'j': s.json = true; break;
		case 'q': s.quiet = true; break;
		case 'h':
			help();
			ret = CLI_OK;
			goto out;
		default:
			fprintf(stderr, "Try 'hashwatch scan --help'.\n");
			goto out;
		}
	}
	if (!list || optind >= argc) {
		cli_error("scan", "--db LIST and at least one PATH are required; try 'hashwatch scan --help'");
		goto out;
	}
	if (trust->nkeys == 0 && !trust->allow_unsigned) {
		cli_error("scan", "only signed lists are used: give the signers' public keys with --trust PUB "
				  "(a .pub file or a folder such as /etc/hashwatch/keys)");
		goto out;
	}
	if (open_list(&s, list, trust) < 0)
		goto out;
	if (s.has_image_models && decode_init(argv[0]) < 0) {
		cli_error("scan", "cannot initialise the image decoder (libvips)");
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (walk_collect(argv[i], &files, walk_err, &s) < 0) {
			cli_error("scan", "out of memory listing files");
			goto out;
		}
	progress_init(&s.prog, "scanning", files.n, s.quiet);
	for (size_t i = 0; i < files.n; i++) {
		scan_file(&s, files.v[i]);
		progress_step(&s.prog, 1);
	}
	progress_clear(&s.prog);
	summary(&s);
	ret = s.matched_files ? CLI_NEGATIVE : s.skipped[SKIP_UNREADABLE] ? CLI_ERROR : CLI_OK;
out:
	pathlist_free(&files);
	hwdb_close(s.db);
	free(trust);
	return ret;
}
