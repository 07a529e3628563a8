/* bench_receiver.c - simulated laptops for hashwatch-receiver: makes
 * device keys, and delivers signed alerts from many devices at once over
 * HTTPS (libcurl multi, one keep-alive connection per device), reporting
 * sustained alerts/s and latency percentiles.  Alerts are deterministic
 * for a given --salt, so a second run redelivers the same alerts (the
 * crash test relies on that).
 *
 *   bench_receiver keys DIR N
 *       DIR/dev-NNNN.sk (hex secret key) and DIR/dev-NNNN.pub, as the
 *       scanner writes device.pub, for devices BENCH-0001...
 *   bench_receiver send --url URL --cacert F --keys DIR --devices N
 *       --alerts M [--salt S] [--log FILE] [--max-seconds T]
 *   bench_receiver            (make bench) runs tests/bench/bench_receiver.sh
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#define MAX_DEVICES 1000

struct device {
	char id[24];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	CURL *h;
	struct curl_slist *hdr;
	char *body;
	char alert_id[33];
	unsigned next; /* next alert number */
	double started;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *b64(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);
	if (s)
		sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static int cmd_keys(const char *dir, int n)
{
	char path[4096];
	for (int i = 1; i <= n; i++) {
		unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
		char hex[2 * crypto_sign_SECRETKEYBYTES + 1];
		char *pk64;
		FILE *f;
		crypto_sign_keypair(pk, sk);
		sodium_bin2hex(hex, sizeof(hex), sk, sizeof(sk));
		snprintf(path, sizeof(path), "%s/dev-%04d.sk", dir, i);
		if (!(f = fopen(path, "w")))
			return 2;
		fprintf(f, "%s\n", hex);
		fclose(f);
		pk64 = b64(pk, sizeof(pk));
		snprintf(path, sizeof(path), "%s/dev-%04d.pub", dir, i);
		if (!pk64 || !(f = fopen(path, "w")))
			return 2;
		fprintf(f, "ed25519 %s BENCH-%04d\n", pk64, i);
		fclose(f);
		free(pk64);
	}
	return 0;
}

static int load_key(const char *dir, int i, struct device *d)
{
	char path[4096], hex[256];
	size_t n = 0;
	FILE *f;
	snprintf(path, sizeof(path), "%s/dev-%04d.sk", dir, i);
	if (!(f = fopen(path, "r")))
		return -errno;
	if (!fgets(hex, sizeof(hex), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	if (sodium_hex2bin(d->sk, sizeof(d->sk), hex, strlen(hex), "\n", &n, NULL) != 0 ||
	    n != sizeof(d->sk))
		return -EINVAL;
	crypto_sign_ed25519_sk_to_pk(d->pk, d->sk);
	snprintf(d->id, sizeof(d->id), "BENCH-%04d", i);
	return 0;
}

/* The signed envelope of alert number k of device d. */
static char *make_body(struct device *d, unsigned k, const char *salt, time_t base)
{
	unsigned char idb[16], sig[crypto_sign_BYTES];
	char seed[128], when[32], payload[1536], *p64, *s64, *k64, *body = NULL;
	struct tm tm;
	time_t t = base + (time_t)k;
	int n;

	n = snprintf(seed, sizeof(seed), "%s/%s/%u", salt, d->id, k);
	crypto_generichash(idb, sizeof(idb), (const unsigned char *)seed, (size_t)n, NULL, 0);
	sodium_bin2hex(d->alert_id, sizeof(d->alert_id), idb, sizeof(idb));
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	n = snprintf(payload, sizeof(payload),
		     "{\"v\":1,\"alert_id\":\"%s\",\"detected_at\":\"%s\",\"device_id\":\"%s\","
		     "\"scanner_version\":\"bench\",\"config_digest\":\"00112233445566778899aabbccddeeff\","
		     "\"list_id\":\"bench-list\",\"list_version\":1,\"entry_id\":\"E-%u\","
		     "\"entry_source\":\"bench\",\"entry_category\":\"bench\",\"model\":\"pdq\","
		     "\"distance\":%u,\"quality\":90,\"confirmed\":false,\"match_count\":1,"
		     "\"file_sha256\":\"%064x\",\"audit_seq\":%u,"
		     "\"audit_head\":\"%064x\"}",
		     d->alert_id, when, d->id, k, k % 32, k, k + 1, k + 1);
	crypto_sign_detached(sig, NULL, (const unsigned char *)payload, (size_t)n, d->sk);
	p64 = b64(payload, (size_t)n);
	s64 = b64(sig, sizeof(sig));
	k64 = b64(d->pk, sizeof(d->pk));
	size_t cap = p64 && s64 && k64 ? strlen(p64) + strlen(s64) + strlen(k64) + 128 : 0;
	if (cap && (body = malloc(cap)) != NULL)
		snprintf(body, cap, "{\"format\":\"hashwatch-alert/1\",\"payload\":\"%s\",\"sig\":\"%s\","
			      "\"device_pub\":\"%s\"}",
			p64, s64, k64);
	free(p64);
	free(s64);
	free(k64);
	return body;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	return s * n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q quantile of n sorted values (0 when there are none). */
static double pct(const double *v, size_t n, double q)
{
	return n ? v[(size_t)((double)n * q)] : 0.0;
}

static int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },     { "cacert", required_argument, NULL, 'c' },
		{ "keys", required_argument, NULL, 'k' },    { "devices", required_argument, NULL, 'd' },
		{ "alerts", required_argument, NULL, 'a' },  { "salt", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },     { "max-seconds", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *cacert = NULL, *keys = NULL, *salt = "bench", *logpath = NULL;
	int ndev = 100, nalerts = 10, c;
	double max_s = 60;
	char endpoint[512];
	struct device *devs;
	FILE *log = NULL;
	double *lat, *later, t0;
	size_t nlat = 0, nlater = 0, stored = 0, dup = 0, errors = 0;
	time_t base = 1700000000;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'c': cacert = optarg; break;
		case 'k': keys = optarg; break;
		case 'd': ndev = (int)strtol(optarg, NULL, 10); break;
		case 'a': nalerts = (int)strtol(optarg, NULL, 10); break;
		case 's': salt = optarg; break;
		case 'l': logpath = optarg; break;
		case 'm': max_s = strtod(optarg, NULL); break;
		default: return 2;
		}
	}
	if (!url || !cacert || !keys || ndev < 1 || ndev > MAX_DEVICES || nalerts < 1) {
		fprintf(stderr, "bench_receiver send: --url, --cacert, --keys required\n");
		return 2;
	}
	snprintf(endpoint, sizeof(endpoint), "%s/v1/alerts", url);
	devs = calloc((size_t)ndev, sizeof(*devs));
	lat = calloc((size_t)ndev * (size_t)nalerts, sizeof(*lat));
	later = calloc((size_t)ndev * (size_t)nalerts, sizeof(*later));
	if (!devs || !lat || !later || (logpath && !(log = fopen(logpath, "a"))))
		return 2;
	setvbuf(log ? log : stdout, NULL, _IOLBF, 0);
	CURLM *m = curl_multi_init();
	for (int i = 0; i < ndev; i++) {
		struct device *d = &devs[i];
		if (load_key(keys, i + 1, d) < 0) {
			fprintf(stderr, "bench_receiver: no key %s/dev-%04d.sk\n", keys, i + 1);
			return 2;
		}
		d->h = curl_easy_init();
		d->hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(d->h, CURLOPT_URL, endpoint);
		curl_easy_setopt(d->h, CURLOPT_CAINFO, cacert);
		curl_easy_setopt(d->h, CURLOPT_HTTPHEADER, d->hdr);
		curl_easy_setopt(d->h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(d->h, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(d->h, CURLOPT_PRIVATE, d);
		d->body = make_body(d, d->next, salt, base);
		curl_easy_setopt(d->h, CURLOPT_POSTFIELDS, d->body);
		d->started = now_ms();
		curl_multi_add_handle(m, d->h);
	}
	t0 = now_ms();
	int running = ndev;
	while (running > 0 && now_ms() - t0 < max_s * 1000) {
		CURLMsg *msg;
		int left;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct device *d;
			long code = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result != CURLE_OK)
				code = 0;
			lat[nlat++] = now_ms() - d->started;
			/* A device's first request also waits for its TLS
			 * handshake, among all the others made at once. */
			if (d->next > 0)
				later[nlater++] = lat[nlat - 1];
			stored += code == 201;
			dup += code == 200;
			errors += code != 200 && code != 201;
			fprintf(log ? log : stdout, "%s %03ld\n", d->alert_id, code);
			curl_multi_remove_handle(m, d->h);
			free(d->body);
			d->body = NULL;
			if (++d->next < (unsigned)nalerts && code != 0) {
				d->body = make_body(d, d->next, salt, base);
				curl_easy_setopt(d->h, CURLOPT_POSTFIELDS, d->body);
				d->started = now_ms();
				curl_multi_add_handle(m, d->h);
				running++;
			}
		}
		curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	double secs = (now_ms() - t0) / 1000;
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	qsort(later, nlater, sizeof(*later), cmp_double);
	fprintf(stderr,
		"bench_receiver: %d devices x %d alerts: %zu stored, %zu duplicate, %zu failed in "
		"%.1f s: %.0f alerts/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
		"on open connections (each device's first request left out) p50 %.1f ms, "
		"p99 %.1f ms\n",
		ndev, nalerts, stored, dup, errors, secs, (double)(stored + dup) / secs,
		pct(lat, nlat, 0.5), pct(lat, nlat, 0.99), nlat ? lat[nlat - 1] : 0.0,
		pct(later, nlater, 0.5), pct(later, nlater, 0.99));
	for (int i = 0; i < ndev; i++) {
		curl_multi_remove_handle(m, devs[i].h);
		curl_easy_cleanup(devs[i].h);
		curl_slist_free_all(devs[i].hdr);
		free(devs[i].body);
		sodium_memzero(devs[i].sk, sizeof(devs[i].sk));
	}
	curl_multi_cleanup(m);
	free(devs);
	free(lat);
	free(later);
	if (log)
		fclose(log);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 2;
	if (argc == 4 && strcmp(argv[1], "keys") == 0)
		return cmd_keys(argv[2], (int)strtol(argv[3], NULL, 10));
	if (argc > 1 && strcmp(argv[1], "send") == 0)
		return cmd_send(argc - 1, argv + 1);
	if (argc == 1) {
		/* make bench: the script sets up TLS, a database and a receiver. */
		execlp("bash", "bash", "tests/bench/bench_receiver.sh", (char *)NULL);
		perror("bench_receiver: bash tests/bench/bench_receiver.sh");
		return 2;
	}
	fprintf(stderr, "usage: bench_receiver keys DIR N | send --url URL --cacert F --keys DIR "
			"--devices N --alerts M [--salt S] [--log FILE] [--max-seconds T]\n");
	return 2;
}
