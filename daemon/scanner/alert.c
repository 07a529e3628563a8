/* alert.c - alert ids, times, and the signed envelope. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alert.h"

void alert_new_id(char out[ALERT_ID_HEX])
{
	uint8_t id[16];
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(out, ALERT_ID_HEX, id, sizeof(id));
}

void alert_time(const struct timespec *t, char out[32])
{
	struct tm tm;
	char base[24];

	gmtime_r(&t->tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.23s.%03dZ", base, (int)(t->tv_nsec / 1000000) % 1000);
}

static char *b64(const void *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);
	if (s)
		sodium_bin2base64(s, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int alert_envelope(json_object *alert, const struct devkey *key, char **ret,
		   size_t *ret_len)
{
	return alert_envelope_format(ALERT_FORMAT, alert, key, ret, ret_len);
}

int alert_envelope_format(const char *format, json_object *alert, const struct devkey *key,
			  char **ret, size_t *ret_len)
{
	const char *payload = json_object_to_json_string_ext(
		alert, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	uint8_t sig[crypto_sign_BYTES];
	json_object *env = NULL;
	char *p64 = NULL, *s64 = NULL, *out = NULL;
	int r = -ENOMEM;

	if (!payload)
		return -ENOMEM;
	devkey_sign(key, payload, strlen(payload), sig);
	p64 = b64(payload, strlen(payload));
	s64 = b64(sig, sizeof(sig));
	env = json_object_new_object();
	if (!p64 || !s64 || !env)
		goto out;
	json_object_object_add(env, "format", json_object_new_string(format));
	json_object_object_add(env, "payload", json_object_new_string(p64));
	json_object_object_add(env, "sig", json_object_new_string(s64));
	json_object_object_add(env, "device_pub", json_object_new_string(key->pk_b64));
	const char *text = json_object_to_json_string_ext(
		env, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		goto out;
	size_t len = strlen(text);
	out = malloc(len + 2);
	if (!out)
		goto out;
	memcpy(out, text, len);
	out[len++] = '\n';
	out[len] = '\0';
	*ret = out;
	*ret_len = len;
	r = 0;
out:
	json_object_put(env);
	free(p64);
	free(s64);
	return r;
}

static int unb64(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	return sodium_base642bin(out, cap, s, strlen(s), NULL, len, NULL,
				 sodium_base64_VARIANT_ORIGINAL) == 0 ? 0 : -EBADMSG;
}

int alert_verify(const char *text, size_t len, const uint8_t *want_pub,
		 json_object **ret)
{
	json_tokener *tok = json_tokener_new();
	json_object *env = NULL, *f, *p, *s, *k, *alert = NULL;
	uint8_t pub[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES], *payload = NULL;
	size_t plen = 0, n;
	int r = -EBADMSG;

	if (!tok)
		return -ENOMEM;
	env = json_tokener_parse_ex(tok, text, (int)len);
	if (!env || !json_object_is_type(env, json_type_object) ||
	    !json_object_object_get_ex(env, "format", &f) ||
	    strcmp(json_object_get_string(f), ALERT_FORMAT) != 0 ||
	    !json_object_object_get_ex(env, "payload", &p) ||
	    !json_object_object_get_ex(env, "sig", &s) ||
	    !json_object_object_get_ex(env, "device_pub", &k) ||
	    !json_object_is_type(p, json_type_string))
		goto out;
	if (unb64(json_object_get_string(k), pub, sizeof(pub), &n) < 0 || n != sizeof(pub) ||
	    unb64(json_object_get_string(s), sig, sizeof(sig), &n) < 0 || n != sizeof(sig))
		goto out;
	plen = (size_t)json_object_get_string_len(p);
	payload = malloc(plen + 1);
	if (!payload || unb64(json_object_get_string(p), payload, plen + 1, &plen) < 0)
		goto out;
	r = -EKEYREJECTED;
	if (crypto_sign_verify_detached(sig, payload, plen, pub) != 0 ||
	    (want_pub && sodium_memcmp(want_pub, pub, sizeof(pub)) != 0))
		goto out;
	r = -EBADMSG;
	json_tokener_reset(tok);
	alert = json_tokener_parse_ex(tok, (const char *)payload, (int)plen);
	/* the whole payload must be one object, nothing after it */
	if (alert && json_tokener_get_parse_end(tok) != plen) {
		json_object_put(alert);
		alert = NULL;
	}
	if (!alert || !json_object_is_type(alert, json_type_object))
		goto out;
	*ret = alert;
	alert = NULL;
	r = 0;
out:
	json_object_put(alert);
	json_object_put(env);
	json_tokener_free(tok);
	free(payload);
	return r;
}
