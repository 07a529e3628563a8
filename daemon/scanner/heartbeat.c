/* heartbeat.c - the scanner's heartbeat file; see heartbeat.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "auditrec.h"
#include "fileio.h"
#include "heartbeat.h"

static json_object *str(const char *s)
{
	return json_object_new_string(s);
}

int heartbeat_payload(const struct heartbeat *hb, json_object **ret)
{
	json_object *o = NULL, *lists = NULL;
	char when[32];
	int r = -ENOMEM;

	if (hb->nlists > HEARTBEAT_MAX_LISTS)
		return -E2BIG;
	if (!hb->device_id || !hb->scanner_version)
		return -EINVAL;
	for (size_t i = 0; i < hb->nlists; i++)
		if (!hb->lists[i].id || !hb->lists[i].digest)
			return -EINVAL;
	o = json_object_new_object();
	lists = json_object_new_array_ext((int)hb->nlists);
	if (!o || !lists)
		goto out;
	for (size_t i = 0; i < hb->nlists; i++) {
		json_object *l = json_object_new_object();
		if (!l || json_object_array_add(lists, l) < 0) {
			json_object_put(l);
			goto out;
		}
		json_object_object_add(l, "id", str(hb->lists[i].id));
		json_object_object_add(l, "version", json_object_new_uint64(hb->lists[i].version));
		json_object_object_add(l, "digest", str(hb->lists[i].digest));
	}
	alert_time(&hb->time, when);
	json_object_object_add(o, "v", json_object_new_int(HEARTBEAT_PAYLOAD_VERSION));
	json_object_object_add(o, "device_id", str(hb->device_id));
	json_object_object_add(o, "time", str(when));
	json_object_object_add(o, "scanner_version", str(hb->scanner_version));
	json_object_object_add(o, "lists", lists);
	lists = NULL;
	json_object_object_add(o, "spool_depth", json_object_new_uint64(hb->spool_depth));
	json_object_object_add(o, "audit_seq", json_object_new_uint64(hb->audit_seq));
	/* The receiver wants 64 hex digits: an empty log's head is all zeros. */
	json_object_object_add(o, "audit_head",
			       str(hb->audit_head && *hb->audit_head ? hb->audit_head
								      : audit_zero_head));
	*ret = o;
	o = NULL;
	r = 0;
out:
	json_object_put(lists);
	json_object_put(o);
	return r;
}

int heartbeat_spool_depth(const char *spool_dir, uint64_t *ret)
{
	static const char sfx[] = ".json";
	const size_t k = sizeof(sfx) - 1;
	DIR *d = opendir(spool_dir);
	struct dirent *de;
	uint64_t n = 0;
	int r = 0;

	if (!d)
		return -errno;
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		size_t len = strlen(de->d_name);
		/* The uplink's rule (docs/uplink.md): "*.json", no dot files,
		 * no temp files; the heartbeat and rejected/ do not end in
		 * .json. */
		if (de->d_name[0] == '.' || len <= k || strcmp(de->d_name + len - k, sfx) != 0 ||
		    strstr(de->d_name, ".tmp"))
			continue;
		n++;
	}
	if (errno)
		r = -errno;
	closedir(d);
	if (r == 0)
		*ret = n;
	return r;
}

int heartbeat_write(const char *spool_dir, const struct heartbeat *hb,
		    const struct devkey *key)
{
	json_object *payload = NULL;
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", spool_dir, HEARTBEAT_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = heartbeat_payload(hb, &payload);
	if (r < 0)
		return r;
	r = alert_envelope_format(HEARTBEAT_FORMAT, payload, key, &text, &len);
	if (r == 0)
		r = hw_write_atomic(path, text, len, 0640);
	free(text);
	json_object_put(payload);
	return r;
}
