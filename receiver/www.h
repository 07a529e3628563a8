/* www.h - the dashboard's static files (receiver/www/, built into the
 * program so that it needs no data directory) and the printable incident
 * report, which is made on the server from one alert.
 */
#ifndef HW_WWW_H
#define HW_WWW_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct www_asset {
	const char *path;  /* URL path */
	const char *ctype; /* Content-Type */
	const unsigned char *data;
	size_t len;
	bool public; /* served without a login (the login page and its files) */
};

/* The file served at path, or NULL.  Static storage. */
const struct www_asset *www_find(const char *path);

/* The incident report for alert (as rstore_alert_get returns it), as a
 * complete HTML page; user is who prepared it.  Every value is escaped.
 * Returns 0 and a malloc()ed *ret of *ret_len bytes, or -ENOMEM / -EFBIG. */
int www_report(json_object *alert, const char *user, char **ret, size_t *ret_len);

#endif
