/* mkspool.c - test helper: writes signed alert and heartbeat files into a
 * spool folder exactly as the scanner does (the envelope of
 * docs/alert-format.md, written to a temp file, fsync'ed and renamed into
 * place), so that the uplink tests can fill a spool with hundreds of
 * alerts in a fraction of a second.  The payloads have the scanner's
 * fields, which the receiver's schema checks.
 *
 *   mkspool key FILE                     new device key (if FILE is missing);
 *                                        prints the base64 public key
 *   mkspool alerts FILE DEVICE N DIR     N alerts into DIR; prints their ids
 *   mkspool heartbeat FILE DEVICE SEQ DIR   DIR/heartbeat
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <sodium.h>

#include "fileio.h"

#define AUDIT_HEAD "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
#define FILE_SHA256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define DIGEST "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct key {
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char pk64[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES,
					    sodium_base64_VARIANT_ORIGINAL)];
};

static int die(const char *what, int r)
{
	fprintf(stderr, "mkspool: %s: %s\n", what, strerror(r < 0 ? -r : r));
	return 2;
}

/* FILE holds the base64 of the 32-byte seed; made when missing. */
static int load_key(const char *path, struct key *k)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_sign_SEEDBYTES, sodium_base64_VARIANT_ORIGINAL)];
	char *text = NULL;
	size_t len = 0, n = 0;
	int r = hw_read_file(path, 4096, (void **)&text, &len);

	if (r == -ENOENT) {
		randombytes_buf(seed, sizeof(seed));
		sodium_bin2base64(b64, sizeof(b64), seed, sizeof(seed), sodium_base64_VARIANT_ORIGINAL);
		r = hw_write_atomic(path, b64, strlen(b64), 0600);
	} else if (r == 0) {
		r = sodium_base642bin(seed, sizeof(seed), text, len, "\n", &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0 && n == sizeof(seed)
			    ? 0
			    : -EINVAL;
	}
	free(text);
	if (r < 0)
		return r;
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	sodium_bin2base64(k->pk64, sizeof(k->pk64), k->pk, sizeof(k->pk),
			  sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

static char *b64(const void *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);
	if (s)
		sodium_bin2base64(s, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Sign the record and write the envelope to dir/name atomically. */
static int write_envelope(const struct key *k, const char *format, json_object *rec,
			  const char *dir, const char *name)
{
	const char *payload = json_object_to_json_string_ext(
		rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	unsigned char sig[crypto_sign_BYTES];
	char path[4096];
	int r;

	crypto_sign_detached(sig, NULL, (const unsigned char *)payload, strlen(payload), k->sk);
	char *p64 = b64(payload, strlen(payload)), *s64 = b64(sig, sizeof(sig));
	json_object *env = json_object_new_object();
	json_object_object_add(env, "format", json_object_new_string(format));
	json_object_object_add(env, "payload", json_object_new_string(p64));
	json_object_object_add(env, "sig", json_object_new_string(s64));
	json_object_object_add(env, "device_pub", json_object_new_string(k->pk64));
	const char *text = json_object_to_json_string_ext(env, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = hw_write_atomic(path, text, strlen(text), 0640);
	json_object_put(env);
	free(p64);
	free(s64);
	return r;
}

/* UTC with milliseconds, as the scanner writes times. */
static void utc(char out[32])
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* An alert payload with the scanner's fields (docs/alert-format.md). */
static json_object *alert(const char *id, const char *device)
{
	json_object *a = json_object_new_object(), *signals = json_object_new_array();
	char now[32];

	utc(now);
	json_object_array_add(signals, json_object_new_string("pdq"));
	json_object_array_add(signals, json_object_new_string("sha256"));
#define S(k, v) json_object_object_add(a, k, json_object_new_string(v))
#define I(k, v) json_object_object_add(a, k, json_object_new_int64(v))
	I("v", 1);
	S("alert_id", id);
	S("detected_at", now);
	S("device_id", device);
	S("scanner_version", "0.1.0");
	S("config_digest", DIGEST);
	S("list_id", "district-demo");
	I("list_version", 7);
	S("list_digest", DIGEST);
	S("entry_id", "E-000042");
	S("entry_source", "take-it-down");
	S("entry_category", "csam");
	S("model", "pdq");
	I("distance", 12);
	I("quality", 87);
	I("dihedral_variant", 0);
	json_object_object_add(a, "confirmed", json_object_new_boolean(1));
	json_object_object_add(a, "signals", signals);
	I("threshold", 1);
	I("match_count", 1);
	S("file_sha256", FILE_SHA256);
	I("audit_seq", 41);
	S("audit_head", AUDIT_HEAD);
#undef S
#undef I
	return a;
}

static json_object *heartbeat(const char *device, long long seq)
{
	json_object *h = json_object_new_object(), *lists = json_object_new_array(),
		    *l = json_object_new_object();
	char now[32];

	utc(now);
	json_object_object_add(l, "id", json_object_new_string("district-demo"));
	json_object_object_add(l, "version", json_object_new_int64(7));
	json_object_object_add(l, "digest", json_object_new_string(DIGEST));
	json_object_array_add(lists, l);
	json_object_object_add(h, "v", json_object_new_int64(1));
	json_object_object_add(h, "device_id", json_object_new_string(device));
	json_object_object_add(h, "time", json_object_new_string(now));
	json_object_object_add(h, "scanner_version", json_object_new_string("0.1.0"));
	json_object_object_add(h, "lists", lists);
	json_object_object_add(h, "spool_depth", json_object_new_int64(0));
	json_object_object_add(h, "audit_seq", json_object_new_int64(seq));
	json_object_object_add(h, "audit_head", json_object_new_string(AUDIT_HEAD));
	return h;
}

int main(int argc, char **argv)
{
	struct key k;
	int r;

	if (sodium_init() < 0)
		return die("libsodium", EIO);
	if (argc == 3 && strcmp(argv[1], "key") == 0) {
		if ((r = load_key(argv[2], &k)) < 0)
			return die(argv[2], r);
		printf("%s\n", k.pk64);
		return 0;
	}
	if (argc != 6 || (strcmp(argv[1], "alerts") != 0 && strcmp(argv[1], "heartbeat") != 0)) {
		fprintf(stderr, "usage: mkspool key FILE | mkspool alerts FILE DEVICE N DIR | "
				"mkspool heartbeat FILE DEVICE SEQ DIR\n");
		return 2;
	}
	if ((r = load_key(argv[2], &k)) < 0)
		return die(argv[2], r);
	long long n = strtoll(argv[4], NULL, 10);
	if (strcmp(argv[1], "heartbeat") == 0) {
		json_object *h = heartbeat(argv[3], n);
		r = write_envelope(&k, "hashwatch-heartbeat/1", h, argv[5], "heartbeat");
		json_object_put(h);
		return r < 0 ? die(argv[5], r) : 0;
	}
	for (long long i = 0; i < n; i++) {
		unsigned char raw[16];
		char id[33], name[48];
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
		snprintf(name, sizeof(name), "%s.json", id);
		json_object *a = alert(id, argv[3]);
		r = write_envelope(&k, "hashwatch-alert/1", a, argv[5], name);
		json_object_put(a);
		if (r < 0)
			return die(name, r);
		printf("%s\n", id);
	}
	return 0;
}
