/* cmd_hash.c - `hashwatch hash`: print the hashes of image files.
 *
 * Output modes: JSON Lines (--json), Meta's pdq-photo-hasher format
 * (`hash,quality,path`, when only PDQ is asked for) so that existing
 * scripts keep working, or one `model=value ... path` line per file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "fileio.h"
#include "hasher.h"
#include "progress.h"
#include "walk.h"

#define DEFAULT_MAX_FILE (256u * 1024 * 1024)

struct hash_opts {
	uint32_t mask;
	bool json, dihedral, quiet, trim;
	struct decode_opts dopts;
	size_t max_file;
};

static void help(void)
{
	printf("Usage: hashwatch hash [OPTIONS] FILE|FOLDER...\n\n"
	       "Print perceptual hashes and digests of image files (folders are\n"
	       "walked recursively; symlinks inside them are not followed).\n\n"
	       "  -m, --models LIST   comma-separated models (default: pdq,phash,dhash,\n"
	       "                      ahash,md5,sha1,sha256; 'all' adds the OpenCV\n"
	       "                      models, which need the hashwatch-opencv package)\n"
	       "      --list-models   print the known models and exit\n"
	       "  -j, --json          JSON Lines, one object per file\n"
	       "      --exact         decode at full size (as Meta's reference does)\n"
	       "                      instead of the faster reduced-scale decode\n"
	       "      --dihedral      also print the 8 PDQ rotations/mirrors\n"
	       "      --trim          (the default) when the picture sits inside uniform\n"
	       "                      borders, letterbox bars or a plain canvas, also\n"
	       "                      print the hashes of the part inside them (\"inner\",\n"
	       "                      with its box x,y,w,h in pixels; when the picture\n"
	       "                      may reach further also \"inner_outer\": one frame\n"
	       "                      out, or with its own plain strip of the frame's\n"
	       "                      colour)\n"
	       "      --no-trim       do not look for borders\n"
	       "      --max-pixels N  refuse images whose header claims more pixels\n"
	       "      --max-size N    refuse files larger than N bytes (default 256 MiB)\n"
	       "  -q, --quiet         no progress bar\n"
	       "  -h, --help          this text\n\n"
	       "With --models pdq and without --json the output is Meta's\n"
	       "pdq-photo-hasher format: hash,quality,path (without the inner region).\n"
	       "Exit status: 0 every file hashed, 1 some file could not be hashed\n"
	       "(its error is printed), 2 usage error.\n");
}

static void list_models(void)
{
	size_t n;
	const struct hw_model_info *m = hw_model_all(&n);
	for (size_t i = 0; i < n; i++)
		printf("%-18s %s%s\n", m[i].name, m[i].description,
		       m[i].optional_module ? " [hashwatch-opencv]" : "");
}

/* The hashes of one region (the whole image or the inside of its
 * borders) as members of o. */
static void json_add_hashes(json_object *o, const struct hasher_view *v)
{
	char hex[2 * HW_HASH_MAX + 1];

	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(v->mask & (1u << id)))
			continue;
		const struct hw_model_info *m = hw_model_by_id((enum hw_model_id)id);
		hw_hash_to_hex(&v->hash[id], hex);
		json_object_object_add(o, m->name, json_object_new_string(hex));
		if (id == HW_MODEL_PDQ)
			json_object_object_add(o, "pdq_quality",
					       json_object_new_int(v->hash[id].quality));
	}
	if (v->have_dihedral) {
		json_object *a = json_object_new_array();
		for (int i = 0; i < PDQ_NDIHEDRAL; i++) {
			pdq_to_hex(&v->pdq_dihedral->v[i], hex);
			json_object_array_add(a, json_object_new_string(hex));
		}
		json_object_object_add(o, "pdq_dihedral", a);
	}
}

/* Print one JSON Lines record and release it. */
static void put_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_json(const char *path, const struct hasher_result *res,
		       const char *error)
{
	json_object *o = json_object_new_object();
	struct hasher_view v[HASHER_NREGIONS];
	unsigned n = hasher_regions(res, v);

	json_object_object_add(o, "path", json_object_new_string(path));
	json_add_hashes(o, &v[0]);
	for (unsigned i = 1; i < n; i++) {
		json_object *in = json_object_new_object();
		json_object *box = json_object_new_array();
		const uint32_t b[4] = { v[i].box.x, v[i].box.y, v[i].box.w, v[i].box.h };
		for (int k = 0; k < 4; k++)
			json_object_array_add(box, json_object_new_int64(b[k]));
		json_object_object_add(in, "box", box);
		json_add_hashes(in, &v[i]);
		json_object_object_add(o, hasher_region_name(v[i].region), in);
	}
	if (error)
		json_object_object_add(o, "error", json_object_new_string(error));
	put_json(o);
}

/* One region's hashes as `prefixmodel=hex` words. */
static void text_hashes(const char *prefix, const struct hasher_view *v)
{
	char hex[2 * HW_HASH_MAX + 1];

	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(v->mask & (1u << id)))
			continue;
		hw_hash_to_hex(&v->hash[id], hex);
		printf("%s%s=%s ", prefix, hw_model_by_id((enum hw_model_id)id)->name, hex);
		if (id == HW_MODEL_PDQ)
			printf("%spdq_quality=%d ", prefix, v->hash[id].quality);
	}
	if (v->have_dihedral)
		for (int i = 1; i < PDQ_NDIHEDRAL; i++) {
			pdq_to_hex(&v->pdq_dihedral->v[i], hex);
			printf("%spdq_dih%d=%s ", prefix, i, hex);
		}
}

/* Is the output Meta's pdq-photo-hasher format (which has no room for the
 * inner region)? */
static bool pdq_format(const struct hash_opts *o)
{
	return !o->json && o->mask == (1u << HW_MODEL_PDQ) && !o->dihedral;
}

static void print_text(const char *path, const struct hasher_result *res,
		       const struct hash_opts *o)
{
	struct hasher_view v[HASHER_NREGIONS];
	unsigned n = hasher_regions(res, v);
	char hex[2 * HW_HASH_MAX + 1];

	if (pdq_format(o)) {
		hw_hash_to_hex(&res->hash[HW_MODEL_PDQ], hex);
		printf("%s,%d,%s\n", hex, res->hash[HW_MODEL_PDQ].quality, path);
		return;
	}
	text_hashes("", &v[0]);
	for (unsigned i = 1; i < n; i++) {
		char prefix[32];
		const struct border_box *b = &v[i].box;
		snprintf(prefix, sizeof(prefix), "%s_", hasher_region_name(v[i].region));
		printf("%sbox=%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 " ", prefix,
		       b->x, b->y, b->w, b->h);
		text_hashes(prefix, &v[i]);
	}
	printf("%s\n", path);
}

/* Hash one file; returns 0 or the negative error already reported. */
static int hash_one(const char *path, const struct hash_opts *o)
{
	struct hasher_result res;
	char err[256] = "";
	void *buf = NULL;
	size_t len = 0;
	int fd, r;

	memset(&res, 0, sizeof(res));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(err, sizeof(err), "cannot open: %s", strerror(-r));
		goto report;
	}
	r = hw_read_fd(fd, o->max_file, &buf, &len);
	close(fd);
	if (r < 0) {
		snprintf(err, sizeof(err), "%s",
			 r == -EFBIG ? "file larger than --max-size" : strerror(-r));
		goto report;
	}
	r = hasher_run(buf, len, o->mask,
		       (o->dihedral ? HASHER_DIHEDRAL : 0) |
			       (o->trim && !pdq_format(o) ? HASHER_TRIM : 0),
		       &o->dopts, &res, err, sizeof(err));
	free(buf);
	if (r == 0) {
		if (o->json)
			print_json(path, &res, NULL);
		else
			print_text(path, &res, o);
		return 0;
	}
report:
	if (o->json)
		print_json(path, &res, err);
	else
		fprintf(stderr, "hashwatch hash: %s: %s\n", path, err);
	return r < 0 ? r : -EIO;
}

/* A command-line path that cannot be walked: reported like a file that
 * cannot be hashed (a JSON object with "error" under --json, so that a
 * script reading the output sees every path it asked for). */
struct walk_ctx {
	int failures;
	bool json;
};

static void walk_err(const char *path, int err, void *ud)
{
	struct walk_ctx *w = ud;
	const char *why = err == -EINVAL ? "not a regular file or folder, skipped"
					 : strerror(-err);
	w->failures++;
	if (w->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(path));
		json_object_object_add(o, "error", json_object_new_string(why));
		put_json(o);
	} else {
		fprintf(stderr, "hashwatch hash: %s: %s\n", path, why);
	}
}

static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cmd_hash(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "models", required_argument, NULL, 'm' },
		{ "list-models", no_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "exact", no_argument, NULL, 'e' },
		{ "dihedral", no_argument, NULL, 'd' },
		{ "trim", no_argument, NULL, 't' },
		{ "no-trim", no_argument, NULL, 'T' },
		{ "max-pixels", required_argument, NULL, 'P' },
		{ "max-size", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hash_opts o = { .mask = HW_MODELS_DEFAULT, .max_file = DEFAULT_MAX_FILE,
			       .trim = true };
	struct pathlist files = { 0 };
	struct progress prog;
	struct walk_ctx walk = { 0 };
	int c;
	uint64_t v;

	while ((c = getopt_long(argc, argv, "m:jqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': {
			char bad[64];
			if (hw_model_parse_list(optarg, &o.mask, bad, sizeof(bad)) < 0) {
				cli_error("hash", "unknown model '%s' (--list-models shows them)", bad);
				return CLI_ERROR;
			}
			break;
		}
		case 'L':
			list_models();
			return CLI_OK;
		case 'j': o.json = true; break;
		case 'e': o.dopts.mode = DECODE_EXACT; break;
		case 'd': o.dihedral = true; break;
		case 't': o.trim = true; break;
		case 'T': o.trim = false; break;
		case 'q': o.quiet = true; break;
		case 'P':
		case 'S':
			if (parse_size(optarg, &v) < 0) {
				cli_error("hash", "--%s needs a positive number, not '%s'",
					  c == 'P' ? "max-pixels" : "max-size", optarg);
				return CLI_ERROR;
			}
			if (c == 'P')
				o.dopts.max_pixels = v;
			else
				o.max_file = (size_t)v;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			fprintf(stderr, "Try 'hashwatch hash --help'.\n");
			return CLI_ERROR;
		}
	}
	if (optind >= argc) {
		cli_error("hash", "no files given; try 'hashwatch hash --help'");
		return CLI_ERROR;
	}
	if (decode_init(argv[0]) < 0) {
		cli_error("hash", "cannot initialise the image decoder (libvips)");
		return CLI_ERROR;
	}
	walk.json = o.json;
	for (int i = optind; i < argc; i++)
		if (walk_collect(argv[i], &files, walk_err, &walk) < 0) {
			cli_error("hash", "out of memory listing files");
			pathlist_free(&files);
			return CLI_ERROR;
		}
	progress_init(&prog, "hashing", files.n, o.quiet);
	for (size_t i = 0; i < files.n; i++) {
		progress_clear(&prog);
		if (hash_one(files.v[i], &o) < 0)
			walk.failures++;
		fflush(stdout);
		progress_step(&prog, 1);
	}
	progress_clear(&prog);
	pathlist_free(&files);
	return walk.failures ? CLI_NEGATIVE : CLI_OK;
}
