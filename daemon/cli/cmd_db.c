/* cmd_db.c - `hashwatch db`: the district's tools for hash lists.
 *
 *   keygen  make a signing key pair (text files, see hashdb/hwkey.h)
 *   build   compile text lists (import.h) into an unsigned .hwdb
 *   sign    add a signature (a second signer runs it again)
 *   verify  the laptop's acceptance check, for IT and auditors
 *   info    what a list holds and its digest (what an auditor compares)
 *   lookup  which entries a given hash matches
 *
 * Exit codes as cli.h: 0 success / acceptable / found, 1 refused / not
 * found, 2 usage or operational error.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "cli.h"
#include "cli_list.h"
#include "hwdb.h"
#include "hwkey.h"
#include "import.h"

#define ERRLEN 512

static void put_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Unknown option or missing argument: getopt has printed why. */
static int usage_hint(const char *sub)
{
	fprintf(stderr, "Try 'hashwatch db %s --help'.\n", sub);
	return CLI_ERROR;
}

/* "  pdq                1200 hashes, threshold 31" */
static void print_model_line(const struct hwdb *db, enum hw_model_id id)
{
	const struct hw_model_info *m = hw_model_by_id(id);

	if (m->metric == HW_METRIC_EXACT)
		printf("  %-18s %zu hashes, exact match\n", m->name, hwdb_model_count(db, id));
	else
		printf("  %-18s %zu hashes, threshold %g\n", m->name, hwdb_model_count(db, id),
		       hwdb_threshold(db, id));
}

/* ---- keygen ------------------------------------------------------------- */

static int db_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool force = false, json = false;
	uint8_t pk[32];
	char err[ERRLEN], b64[HWKEY_TEXT_LEN];
	int c;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'j': json = true; break;
		case 'h':
			printf("Usage: hashwatch db keygen [--force] [--json] KEYFILE\n\n"
			       "Create an Ed25519 key pair for signing hash lists: the secret key\n"
			       "in KEYFILE (mode 0600; keep it offline, on the machine that signs)\n"
			       "and the public key in KEYFILE.pub (give it to laptops, in\n"
			       "/etc/hashwatch/keys/).  Both are text: a comment and one line\n"
			       "'ed25519-secret BASE64' or 'ed25519-public BASE64'.\n\n"
			       "      --force  replace existing files (the old key is lost)\n"
			       "  -j, --json   print the result as JSON\n");
			return CLI_OK;
		default:
			return usage_hint("keygen");
		}
	}
	if (optind != argc - 1) {
		cli_error("db keygen", "give exactly one KEYFILE; try 'hashwatch db keygen --help'");
		return CLI_ERROR;
	}
	if (hwkey_generate(argv[optind], force, pk, err, sizeof(err)) < 0) {
		cli_error("db keygen", "%s", err);
		return CLI_ERROR;
	}
	hwkey_to_text(pk, b64);
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "secret_key_file", json_object_new_string(argv[optind]));
		char pub[4096];
		snprintf(pub, sizeof(pub), "%s.pub", argv[optind]);
		json_object_object_add(o, "public_key_file", json_object_new_string(pub));
		json_object_object_add(o, "public_key", json_object_new_string(b64));
		put_json(o);
	} else {
		printf("secret key: %s (keep it offline; anyone with it can sign lists)\n"
		       "public key: %s.pub\n"
		       "            %s\n",
		       argv[optind], argv[optind], b64);
	}
	return CLI_OK;
}

/* ---- build -------------------------------------------------------------- */

static void build_help(void)
{
	printf("Usage: hashwatch db build --list-id ID --version N [OPTIONS] -o OUT.hwdb INPUT...\n\n"
	       "Compile text hash lists into one unsigned list file; sign it next with\n"
	       "'hashwatch db sign'.  INPUT '-' is standard input.  Any bad line in any\n"
	       "input stops the build (file:line is named) and no output is written.\n\n"
	       "      --list-id ID       name of the list (A-Z a-z 0-9 . _ -, up to 63)\n"
	       "      --version N        list version, 1 or more; laptops refuse to go back\n"
	       "                         to an older version of the same list id\n"
	       "  -f, --format F         csv (default), hex or pdq-csv:\n"
	       "                           csv: header row; columns algorithm,hash and\n"
	       "                             optionally id,category,source,md5,sha1,sha256\n"
	       "                           hex: one hash per line (needs --algorithm)\n"
	       "                           pdq-csv: hash,quality,path as pdq-photo-hasher\n"
	       "                             and 'hashwatch hash --models pdq' print\n"
	       "  -a, --algorithm ALG    model of hex input (pdq, phash, md5, ...)\n"
	       "      --threshold M=D    match threshold the list carries for model M\n"
	       "                         (default: pdq 31 bits, 64-bit hashes 8); repeatable\n"
	       "      --category C       category of entries that have none (e.g. csam)\n"
	       "      --source S         source of entries that have none (e.g. ncmec)\n"
	       "      --created T        creation time, unix seconds (default: now, or\n"
	       "                         $SOURCE_DATE_EPOCH): the same inputs and time give\n"
	       "                         the same file and digest\n"
	       "  -o, --output OUT       the list file to write (atomically)\n"
	       "  -j, --json             print the result as JSON\n");
}

static int parse_threshold(const char *arg, double thr[HW_MODEL__MAX])
{
	char name[32], *end;
	const char *eq = strchr(arg, '=');
	const struct hw_model_info *m;
	double d;

	if (!eq || (size_t)(eq - arg) >= sizeof(name)) {
		cli_error("db build", "--threshold takes MODEL=DISTANCE, not '%s'", arg);
		return -1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	m = hw_model_by_name(name);
	errno = 0;
	d = strtod(eq + 1, &end);
	if (!m || errno || end == eq + 1 || *end || !isfinite(d) || d < 0) {
		cli_error("db build", "--threshold %s: %s", arg,
			  m ? "the distance must be a number >= 0" : "unknown model");
		return -1;
	}
	thr[m->id] = d;
	return 0;
}

static void print_build(const char *out, const struct hwdb *db, bool json)
{
	char digest[2 * HWDB_DIGEST_BYTES + 1];
	json_object *o = json ? json_object_new_object() : NULL, *models = NULL;

	cli_digest_hex(db, digest);
	if (json) {
		models = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(out));
		json_object_object_add(o, "list_id", json_object_new_string(hwdb_list_id(db)));
		json_object_object_add(o, "version", json_object_new_uint64(hwdb_version(db)));
		json_object_object_add(o, "entries",
				       json_object_new_uint64(hwdb_entry_count(db)));
		json_object_object_add(o, "models", models);
		json_object_object_add(o, "digest", json_object_new_string(digest));
	} else {
		printf("built %s: list %s version %llu, %zu entries\n", out, hwdb_list_id(db),
		       (unsigned long long)hwdb_version(db), hwdb_entry_count(db));
	}
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		size_t n = hwdb_model_count(db, (enum hw_model_id)id);
		const char *name = hw_model_by_id((enum hw_model_id)id)->name;
		if (!n)
			continue;
		if (json)
			json_object_object_add(models, name, json_object_new_uint64(n));
		else
			print_model_line(db, (enum hw_model_id)id);
	}
	if (json)
		put_json(o);
	else
		printf("digest (SHA-256 tree): %s\n"
		       "The list is unsigned: sign it with 'hashwatch db sign --key KEYFILE %s'.\n",
		       digest, out);
}

static int db_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list-id", required_argument, NULL, 'I' },
		{ "version", required_argument, NULL, 'V' },
		{ "format", required_argument, NULL, 'f' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "threshold", required_argument, NULL, 't' },
		{ "category", required_argument, NULL, 'C' },
		{ "source", required_argument, NULL, 'S' },
		{ "created", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hwdb_build_spec spec = { 0 };
	struct import_defaults def = { NULL, NULL };
	enum import_format fmt = IMPORT_CSV;
	enum hw_model_id alg = HW_MODEL_NONE;
	struct import_set *set = NULL;
	struct hwdb *db = NULL;
	const char *out = NULL, *epoch = getenv("SOURCE_DATE_EPOCH");
	bool json = false, have_version = false;
	char err[ERRLEN];
	int c, ret = CLI_ERROR;

	hwdb_spec_default_thresholds(&spec);
	while ((c = getopt_long(argc, argv, "f:a:o:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'I': spec.list_id = optarg; break;
		case 'V':
			if (cli_parse_u64(optarg, 1, UINT64_MAX, &spec.version) < 0) {
				cli_error("db build", "--version needs a whole number >= 1, not '%s'", optarg);
				return CLI_ERROR;
			}
			have_version = true;
			break;
		case 'f':
			if (import_format_parse(optarg, &fmt) < 0) {
				cli_error("db build", "--format is csv, hex or pdq-csv, not '%s'", optarg);
				return CLI_ERROR;
			}
			break;
		case 'a': {
			const struct hw_model_info *m = hw_model_by_name(optarg);
			if (!m) {
				cli_error("db build", "unknown algorithm '%s' ('hashwatch hash --list-models' lists them)",
					  optarg);
				return CLI_ERROR;
			}
			alg = m->id;
			break;
		}
		case 't':
			if (parse_threshold(optarg, spec.threshold) < 0)
				return CLI_ERROR;
			break;
		case 'C': def.category = optarg; break;
		case 'S': def.source = optarg; break;
		case 'T': epoch = optarg; break;
		case 'o': out = optarg; break;
		case 'j': json = true; break;
		case 'h': build_help(); return CLI_OK;
		default: return usage_hint("build");
		}
	}
	if (!spec.list_id || !have_version || !out || optind >= argc) {
		cli_error("db build", "--list-id, --version, -o and at least one INPUT are required; try 'hashwatch db build --help'");
		return CLI_ERROR;
	}
	if (fmt == IMPORT_HEX && alg == HW_MODEL_NONE) {
		cli_error("db build", "--format hex needs --algorithm (pdq, phash, md5, ...)");
		return CLI_ERROR;
	}
	if (epoch && cli_parse_u64(epoch, 1, UINT64_MAX, &spec.created) < 0) {
		cli_error("db build", "--created / SOURCE_DATE_EPOCH must be unix seconds, not '%s'", epoch);
		return CLI_ERROR;
	}
	if (import_set_new(&set) < 0) {
		cli_error("db build", "out of memory");
		return CLI_ERROR;
	}
	for (int i = optind; i < argc; i++)
		if (import_file(set, argv[i], fmt, alg, &def, err, sizeof(err)) < 0) {
			cli_error("db build", "%s", err);
			cli_error("db build", "nothing was written; fix the input and run again");
			goto out;
		}
	for (int id = 1; id < HW_MODEL__MAX; id++)
		if (spec.threshold[id] >= 0 && !import_hash_count(set, (enum hw_model_id)id)) {
			cli_error("db build", "--threshold names %s, but the inputs have no %s hashes",
				  hw_model_by_id((enum hw_model_id)id)->name,
				  hw_model_by_id((enum hw_model_id)id)->name);
			goto out;
		}
	import_fill_spec(set, &spec);
	if (hwdb_build(&spec, out, err, sizeof(err)) < 0) {
		cli_error("db build", "%s", err);
		goto out;
	}
	/* Read back what was written: the summary then shows the file as a
	 * laptop will see it. */
	if (hwdb_open(out, NULL, &db, err, sizeof(err)) < 0) {
		cli_error("db build", "%s: the list just written does not read back: %s", out, err);
		goto out;
	}
	print_build(out, db, json);
	ret = CLI_OK;
out:
	hwdb_close(db);
	import_set_free(set);
	return ret;
}

/* ---- sign --------------------------------------------------------------- */

static int db_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *key = NULL;
	bool json = false;
	uint8_t sk[64], pk[32];
	char err[ERRLEN], b64[HWKEY_TEXT_LEN];
	struct hwdb *db = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "k:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'j': json = true; break;
		case 'h':
			printf("Usage: hashwatch db sign --key KEYFILE [--json] LIST.hwdb\n\n"
			       "Add a signature to a list with a secret key from 'hashwatch db\n"
			       "keygen'.  The list is checked first (an altered list is not signed)\n"
			       "and rewritten atomically.  When the district requires two signers,\n"
			       "the second one runs this again with their own key.  The list digest\n"
			       "does not change.\n\n"
			       "  -k, --key KEYFILE  the secret key file (mode 0600)\n"
			       "  -j, --json         print the result as JSON\n");
			return CLI_OK;
		default:
			return usage_hint("sign");
		}
	}
	if (!key || optind != argc - 1) {
		cli_error("db sign", "--key KEYFILE and one LIST are required; try 'hashwatch db sign --help'");
		return CLI_ERROR;
	}
	if (hwkey_read_secret(key, sk, err, sizeof(err)) < 0) {
		cli_error("db sign", "%s", err);
		return CLI_ERROR;
	}
	r = hwdb_sign(argv[optind], sk, err, sizeof(err));
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	sodium_memzero(sk, sizeof(sk));
	if (r < 0) {
		cli_error("db sign", "%s: %s", argv[optind], err);
		return CLI_ERROR;
	}
	if (hwdb_open(argv[optind], NULL, &db, err, sizeof(err)) < 0) {
		cli_error("db sign", "%s: the signed list does not read back: %s", argv[optind], err);
		return CLI_ERROR;
	}
	hwkey_to_text(pk, b64);
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(argv[optind]));
		json_object_object_add(o, "signer", json_object_new_string(b64));
		json_object_object_add(o, "signatures",
				       json_object_new_uint64(hwdb_signers(db, NULL, NULL, 0)));
		put_json(o);
	} else {
		printf("signed %s with key %s; it now carries %zu signature(s)\n", argv[optind], b64,
		       hwdb_signers(db, NULL, NULL, 0));
	}
	hwdb_close(db);
	return CLI_OK;
}

/* ---- verify / info ------------------------------------------------------ */

/* Signers as JSON; trusted is null when no trust was given to check. */
static json_object *signers_json(const struct hwdb *db, bool checked)
{
	uint8_t keys[HWDB_MAX_SIGNERS][32];
	bool trusted[HWDB_MAX_SIGNERS];
	size_t n = hwdb_signers(db, keys, trusted, HWDB_MAX_SIGNERS);
	json_object *a = json_object_new_array();
	char b64[HWKEY_TEXT_LEN];

	for (size_t i = 0; i < n && i < HWDB_MAX_SIGNERS; i++) {
		json_object *s = json_object_new_object();
		hwkey_to_text(keys[i], b64);
		json_object_object_add(s, "key", json_object_new_string(b64));
		json_object_object_add(s, "trusted",
				       checked ? json_object_new_boolean(trusted[i]) : NULL);
		json_object_array_add(a, s);
	}
	return a;
}

static void signers_text(const struct hwdb *db, bool checked)
{
	uint8_t keys[HWDB_MAX_SIGNERS][32];
	bool trusted[HWDB_MAX_SIGNERS];
	size_t n = hwdb_signers(db, keys, trusted, HWDB_MAX_SIGNERS);
	char b64[HWKEY_TEXT_LEN];

	printf("signatures: %zu%s\n", n, n ? "" : " (unsigned: laptops will refuse it)");
	for (size_t i = 0; i < n && i < HWDB_MAX_SIGNERS; i++) {
		hwkey_to_text(keys[i], b64);
		printf("  %s%s\n", b64,
		       !checked ? "" : trusted[i] ? "  trusted" : "  NOT trusted");
	}
}

static json_object *info_json(const char *path, const struct hwdb *db, bool checked)
{
	json_object *o = json_object_new_object(), *models = json_object_new_object();
	char digest[2 * HWDB_DIGEST_BYTES + 1], when[32];

	cli_digest_hex(db, digest);
	cli_format_time(hwdb_created(db), when);
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "list_id", json_object_new_string(hwdb_list_id(db)));
	json_object_object_add(o, "version", json_object_new_uint64(hwdb_version(db)));
	json_object_object_add(o, "created", json_object_new_uint64(hwdb_created(db)));
	json_object_object_add(o, "created_utc", json_object_new_string(when));
	json_object_object_add(o, "entries", json_object_new_uint64(hwdb_entry_count(db)));
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		size_t n = hwdb_model_count(db, (enum hw_model_id)id);
		if (!n)
			continue;
		json_object *m = json_object_new_object();
		json_object_object_add(m, "count", json_object_new_uint64(n));
		json_object_object_add(m, "threshold",
				       cli_json_distance(hwdb_threshold(db, (enum hw_model_id)id)));
		json_object_object_add(models, hw_model_by_id((enum hw_model_id)id)->name, m);
	}
	json_object_object_add(o, "models", models);
	json_object_object_add(o, "digest", json_object_new_string(digest));
	json_object_object_add(o, "signatures", signers_json(db, checked));
	return o;
}

static void info_text(const char *path, const struct hwdb *db, bool checked)
{
	char digest[2 * HWDB_DIGEST_BYTES + 1], when[32];

	cli_digest_hex(db, digest);
	cli_format_time(hwdb_created(db), when);
	printf("file:       %s\n"
	       "list:       %s\n"
	       "version:    %llu\n"
	       "created:    %s\n"
	       "entries:    %zu\n",
	       path, hwdb_list_id(db), (unsigned long long)hwdb_version(db), when,
	       hwdb_entry_count(db));
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		size_t n = hwdb_model_count(db, (enum hw_model_id)id);
		if (n)
			print_model_line(db, (enum hw_model_id)id);
	}
	printf("digest:     %s (SHA-256 tree of the signed content)\n", digest);
	signers_text(db, checked);
}

struct list_opts {
	struct cli_trust trust;
	bool json, accept;
	const char *db;        /* lookup: --db */
	const char *algorithm; /* lookup */
	double max_distance;   /* lookup: -1 = the list's */
};

/* Options verify, info and lookup share; returns -1 (stop with `ret`),
 * or the index of the first operand. */
static int list_options(int argc, char **argv, const char *sub, void (*help)(void),
			struct list_opts *o, int *ret)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 'T' },
		{ "min-signers", required_argument, NULL, 'K' },
		{ "state-dir", required_argument, NULL, 'D' },
		{ "accept", no_argument, NULL, 'A' },
		{ "db", required_argument, NULL, 'd' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "max-distance", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char subcmd[32];
	uint64_t v;
	int c;

	snprintf(subcmd, sizeof(subcmd), "db %s", sub);
	memset(o, 0, sizeof(*o));
	o->max_distance = -1;
	*ret = CLI_ERROR;
	while ((c = getopt_long(argc, argv, "d:a:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			if (cli_trust_add(&o->trust, subcmd, optarg) < 0)
				return -1;
			break;
		case 'K':
			if (cli_parse_u64(optarg, 1, HWDB_MAX_SIGNERS, &v) < 0) {
				cli_error(subcmd, "--min-signers is 1 to %d, not '%s'", HWDB_MAX_SIGNERS, optarg);
				return -1;
			}
			o->trust.min_signers = (unsigned)v;
			break;
		case 'D': o->trust.state_dir = optarg; break;
		case 'A': o->accept = true; break;
		case 'd': o->db = optarg; break;
		case 'a': o->algorithm = optarg; break;
		case 'm': {
			char *end;
			errno = 0;
			o->max_distance = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->max_distance) ||
			    o->max_distance < 0) {
				cli_error(subcmd, "--max-distance needs a number >= 0, not '%s'", optarg);
				return -1;
			}
			break;
		}
		case 'j': o->json = true; break;
		case 'h':
			help();
			*ret = CLI_OK;
			return -1;
		default:
			usage_hint(sub);
			return -1;
		}
	}
	return optind;
}

static void verify_help(void)
{
	printf("Usage: hashwatch db verify --trust PUB [--trust PUB...] [OPTIONS] LIST.hwdb\n\n"
	       "Apply the check a laptop applies before it loads a list: structure,\n"
	       "digest, every signature, enough trusted signers, and no rollback.\n"
	       "Prints 'acceptable' or 'refused' with the check that failed.\n\n"
	       "      --trust PUB       a trusted public key file, or a folder of *.pub\n"
	       "                        files (e.g. /etc/hashwatch/keys); repeatable\n"
	       "      --min-signers K   distinct trusted signatures required (default 1)\n"
	       "      --state-dir D     refuse versions older than the one accepted before\n"
	       "                        (the daemon's is /var/lib/hashwatch/state)\n"
	       "      --accept          record this version as accepted in --state-dir\n"
	       "  -j, --json            print the result as JSON\n\n"
	       "Exit status: 0 acceptable, 1 refused, 2 error (e.g. file not found).\n");
}

static int db_verify(int argc, char **argv)
{
	struct list_opts o;
	struct hwdb_trust t;
	struct hwdb *db = NULL;
	char err[ERRLEN] = "";
	int ret, r, first = list_options(argc, argv, "verify", verify_help, &o, &ret);
	const char *path;

	if (first < 0)
		return ret;
	if (first != argc - 1 || o.trust.nkeys == 0 || o.db || o.algorithm) {
		cli_error("db verify", "--trust PUB and one LIST are required; try 'hashwatch db verify --help'");
		return CLI_ERROR;
	}
	if (o.accept && !o.trust.state_dir) {
		cli_error("db verify", "--accept needs --state-dir");
		return CLI_ERROR;
	}
	path = argv[first];
	cli_trust_view(&o.trust, &t);
	r = hwdb_open(path, &t, &db, err, sizeof(err));
	if (r == 0 && o.accept && (r = hwdb_accept_version(db, &t)) < 0)
		snprintf(err, sizeof(err), "cannot record the accepted version in %s: %s",
			 o.trust.state_dir, strerror(-r));
	ret = r == 0 ? CLI_OK : o.accept && db ? CLI_ERROR : cli_open_exit(r);
	if (o.json) {
		json_object *j = db ? info_json(path, db, true) : json_object_new_object();
		if (!db)
			json_object_object_add(j, "path", json_object_new_string(path));
		json_object_object_add(j, "acceptable", json_object_new_boolean(r == 0));
		json_object_object_add(j, "reason", r ? json_object_new_string(err) : NULL);
		put_json(j);
	} else if (r == 0) {
		char digest[2 * HWDB_DIGEST_BYTES + 1];
		uint8_t keys[HWDB_MAX_SIGNERS][32];
		bool trusted[HWDB_MAX_SIGNERS];
		size_t n = hwdb_signers(db, keys, trusted, HWDB_MAX_SIGNERS), k = 0;
		for (size_t i = 0; i < n; i++)
			k += trusted[i];
		cli_digest_hex(db, digest);
		printf("%s: acceptable: list %s version %llu, %zu of %zu signature(s) by trusted keys%s\n"
		       "digest: %s\n",
		       path, hwdb_list_id(db), (unsigned long long)hwdb_version(db), k, n,
		       o.accept ? "; version recorded as accepted" : "", digest);
	} else if (ret == CLI_NEGATIVE) {
		printf("%s: refused: %s\n", path, err);
	} else {
		cli_error("db verify", "%s: %s", path, err);
	}
	hwdb_close(db);
	return ret;
}

static void info_help(void)
{
	printf("Usage: hashwatch db info [--json] [--trust PUB...] LIST.hwdb\n\n"
	       "Show what a list holds: id, version, creation time, entries, hashes\n"
	       "and threshold per model, the digest (a SHA-256 tree of the signed\n"
	       "content, see docs/hwdb-format.md: compare it with the value the\n"
	       "district publishes) and the signers.  The file's integrity is always\n"
	       "checked; with --trust each signer is marked trusted or not (use\n"
	       "'db verify' for the full check).\n\n"
	       "      --trust PUB   a trusted public key file or folder; repeatable\n"
	       "  -j, --json        print the result as JSON\n\n"
	       "Exit status: 0 shown, 1 the file is damaged or altered, 2 error.\n");
}

static int db_info(int argc, char **argv)
{
	struct list_opts o;
	struct hwdb_trust t;
	struct hwdb *db = NULL;
	char err[ERRLEN] = "";
	int ret, r, first = list_options(argc, argv, "info", info_help, &o, &ret);

	if (first < 0)
		return ret;
	if (first != argc - 1 || o.db || o.algorithm || o.accept || o.trust.state_dir) {
		cli_error("db info", "give one LIST; try 'hashwatch db info --help'");
		return CLI_ERROR;
	}
	o.trust.allow_unsigned = true;
	cli_trust_view(&o.trust, &t);
	r = hwdb_open(argv[first], &t, &db, err, sizeof(err));
	if (r < 0) {
		cli_error("db info", "%s: %s", argv[first], err);
		return cli_open_exit(r);
	}
	if (o.json)
		put_json(info_json(argv[first], db, o.trust.nkeys > 0));
	else
		info_text(argv[first], db, o.trust.nkeys > 0);
	hwdb_close(db);
	return CLI_OK;
}

/* ---- lookup ------------------------------------------------------------- */

static void lookup_help(void)
{
	printf("Usage: hashwatch db lookup --db LIST.hwdb --algorithm ALG [OPTIONS] HASH...\n\n"
	       "Print the list entries each HASH (hex) matches, as JSON Lines:\n"
	       "{\"query\", \"model\", \"entry\", \"id\", \"category\", \"source\", \"distance\"}.\n\n"
	       "  -d, --db LIST          the list\n"
	       "  -a, --algorithm ALG    model of the hashes (pdq, phash, sha256, ...)\n"
	       "      --max-distance D   match within D instead of the list's threshold\n"
	       "      --trust PUB        check the signers too (trusted key file or\n"
	       "                         folder; repeatable); without it the list's\n"
	       "                         integrity is checked but not who signed it\n"
	       "      --min-signers K    with --trust: trusted signatures required\n\n"
	       "Exit status: 0 some hash matched, 1 none did, 2 error.\n");
}

static int db_lookup(int argc, char **argv)
{
	struct list_opts o;
	struct hwdb_trust t;
	struct hwdb *db = NULL;
	struct hwdb_match m[HWDB_MATCH_LIMIT];
	const struct hw_model_info *model;
	char err[ERRLEN] = "";
	int ret, r, first = list_options(argc, argv, "lookup", lookup_help, &o, &ret);
	bool found = false;

	if (first < 0)
		return ret;
	if (!o.db || !o.algorithm || first >= argc || o.accept) {
		cli_error("db lookup", "--db, --algorithm and at least one HASH are required; try 'hashwatch db lookup --help'");
		return CLI_ERROR;
	}
	model = hw_model_by_name(o.algorithm);
	if (!model) {
		cli_error("db lookup", "unknown algorithm '%s'", o.algorithm);
		return CLI_ERROR;
	}
	o.trust.allow_unsigned = o.trust.nkeys == 0;
	cli_trust_view(&o.trust, &t);
	r = hwdb_open(o.db, &t, &db, err, sizeof(err));
	if (r < 0) {
		cli_error("db lookup", "%s: %s", o.db, err);
		return CLI_ERROR;
	}
	ret = CLI_OK;
	for (int i = first; i < argc && ret == CLI_OK; i++) {
		struct hw_hash h;
		if (hw_hash_from_hex(model->id, argv[i], &h) < 0) {
			cli_error("db lookup", "'%s' is not a %s hash (%u hex digits)", argv[i],
				  model->name, 2u * model->bytes);
			ret = CLI_ERROR;
			break;
		}
		r = hwdb_lookup(db, &h, o.max_distance, m, HWDB_MATCH_LIMIT);
		if (r < 0) {
			cli_error("db lookup", "%s: %s", o.db, strerror(-r));
			ret = CLI_ERROR;
			break;
		}
		if (r >= HWDB_MATCH_LIMIT)
			cli_error("db lookup", "%s matches %d or more hashes; only the first %d are shown",
				  argv[i], HWDB_MATCH_LIMIT, HWDB_MATCH_LIMIT);
		for (int k = 0; k < r && k < HWDB_MATCH_LIMIT; k++) {
			struct hwdb_entry e;
			json_object *j = json_object_new_object();
			char hex[2 * HW_HASH_MAX + 1];
			hw_hash_to_hex(&h, hex);
			if (hwdb_entry_get(db, m[k].entry, &e) < 0)
				e.id = e.category = e.source = "";
			json_object_object_add(j, "query", json_object_new_string(hex));
			json_object_object_add(j, "model", json_object_new_string(model->name));
			json_object_object_add(j, "entry", json_object_new_uint64(m[k].entry));
			json_object_object_add(j, "id", json_object_new_string(e.id));
			json_object_object_add(j, "category", json_object_new_string(e.category));
			json_object_object_add(j, "source", json_object_new_string(e.source));
			json_object_object_add(j, "distance", cli_json_distance(m[k].distance));
			put_json(j);
			found = true;
		}
	}
	hwdb_close(db);
	return ret != CLI_OK ? ret : found ? CLI_OK : CLI_NEGATIVE;
}

/* ---- dispatch ----------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} subs[] = {
	{ "keygen", db_keygen, "create a signing key pair (KEYFILE, KEYFILE.pub)" },
	{ "build", db_build, "compile CSV / hex / pdq-csv lists into LIST.hwdb" },
	{ "sign", db_sign, "add a signature to a list" },
	{ "verify", db_verify, "check a list as a laptop would (exit 0 acceptable)" },
	{ "info", db_info, "show a list's id, version, counts, digest, signers" },
	{ "lookup", db_lookup, "find the entries a hash matches (JSON Lines)" },
};

int cmd_db(int argc, char **argv)
{
	FILE *f = stdout;

	if (argc >= 2)
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (strcmp(argv[1], subs[i].name) == 0)
				return subs[i].fn(argc - 1, argv + 1);
	if (argc < 2 || (strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)) {
		if (argc >= 2)
			cli_error("db", "unknown subcommand '%s'", argv[1]);
		f = stderr;
	}
	fprintf(f, "Usage: hashwatch db SUBCOMMAND [OPTIONS] ...\n\n"
		   "Build, sign, verify and inspect hash lists (.hwdb files).\n\n");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		fprintf(f, "  %-7s %s\n", subs[i].name, subs[i].summary);
	fprintf(f, "\n'hashwatch db SUBCOMMAND --help' describes each; docs/hwdb-format.md\n"
		   "describes the file and the trust rules.\n");
	return f == stdout ? CLI_OK : CLI_ERROR;
}
