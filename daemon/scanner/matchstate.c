/* matchstate.c - loading, counting and appending match records. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "matchstate.h"

#define MATCHSTATE_MAX_BYTES (256u * 1024 * 1024)

static const void *rec_key(const void *item, size_t *len)
{
	*len = MATCHSTATE_KEY_BYTES;
	return ((const struct ms_record *)item)->key;
}

static const void *rec_distinct(const void *item, size_t *len)
{
	*len = MATCHSTATE_KEY_BYTES;
	return ((const struct ms_record *)item)->distinct;
}

static struct ms_category *category(struct matchstate *ms, const char *name, bool add)
{
	for (size_t i = 0; i < ms->ncats; i++)
		if (strcmp(ms->cats[i].name, name) == 0)
			return &ms->cats[i];
	if (!add || ms->ncats == MATCHSTATE_MAX_CATEGORIES)
		return NULL;
	ms->cats[ms->ncats].name = strdup(name);
	if (!ms->cats[ms->ncats].name)
		return NULL;
	ms->cats[ms->ncats].distinct = 0;
	return &ms->cats[ms->ncats++];
}

static void rec_free(struct ms_record *r)
{
	if (!r)
		return;
	json_object_put(r->alert);
	free(r->category);
	free(r);
}

/* Insert a record in memory.  Takes ownership of alert.  Returns 0,
 * -EEXIST (key known: nothing changed) or -ENOSPC / -ENOMEM. */
static int insert(struct matchstate *ms, const uint8_t *key, const uint8_t *distinct,
		  const char *cat, json_object *alert, struct ms_record **ret)
{
	struct ms_record *r;
	struct ms_category *c;
	int e;

	if (htab_get(&ms->records, key, MATCHSTATE_KEY_BYTES)) {
		json_object_put(alert);
		return -EEXIST;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		json_object_put(alert);
		return -ENOMEM;
	}
	memcpy(r->key, key, MATCHSTATE_KEY_BYTES);
	memcpy(r->distinct, distinct, MATCHSTATE_KEY_BYTES);
	r->alert = alert;
	r->category = strdup(cat);
	c = r->category ? category(ms, cat, true) : NULL;
	if (!c) {
		rec_free(r);
		return -ENOMEM;
	}
	e = htab_put(&ms->records, r);
	if (e < 0) {
		rec_free(r);
		return e;
	}
	if (htab_put(&ms->distinct, r) == 0)
		c->distinct++;
	TAILQ_INSERT_TAIL(&ms->pending, r, link);
	if (ret)
		*ret = r;
	return 0;
}

static void mark_alerted(struct matchstate *ms, struct ms_record *r)
{
	if (r->alerted)
		return;
	r->alerted = true;
	TAILQ_REMOVE(&ms->pending, r, link);
	json_object_put(r->alert);
	r->alert = NULL;
}

static int hexkey(json_object *o, const char *name, uint8_t out[MATCHSTATE_KEY_BYTES])
{
	json_object *v;
	size_t len = 0;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	const char *s = json_object_get_string(v);
	if (strlen(s) != 2 * MATCHSTATE_KEY_BYTES ||
	    sodium_hex2bin(out, MATCHSTATE_KEY_BYTES, s, strlen(s), NULL, &len, NULL) != 0 ||
	    len != MATCHSTATE_KEY_BYTES)
		return -EBADMSG;
	return 0;
}

static int load_line(struct matchstate *ms, const char *line, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL, *t, *v, *alert;
	uint8_t key[MATCHSTATE_KEY_BYTES], distinct[MATCHSTATE_KEY_BYTES];
	struct ms_record *rec = NULL;
	int r = -EBADMSG;

	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_parse_end(tok) != len ||
	    !json_object_object_get_ex(o, "t", &t) || hexkey(o, "key", key) < 0)
		goto out;
	if (strcmp(json_object_get_string(t), "alerted") == 0) {
		rec = htab_get(&ms->records, key, sizeof(key));
		if (!rec)
			goto out;
		mark_alerted(ms, rec);
		rec->alerted_saved = true;
		r = 0;
	} else if (strcmp(json_object_get_string(t), "match") == 0) {
		/* alert null: the alert went out before this line could be
		 * written (see matchstate.h) */
		if (hexkey(o, "distinct", distinct) < 0 ||
		    !json_object_object_get_ex(o, "category", &v) ||
		    !json_object_object_get_ex(o, "alert", &alert) ||
		    !(alert == NULL || json_object_is_type(alert, json_type_object)))
			goto out;
		r = insert(ms, key, distinct, json_object_get_string(v), json_object_get(alert), &rec);
		if (r == 0) {
			rec->match_saved = true;
			if (!alert) {
				mark_alerted(ms, rec);
				rec->alerted_saved = true;
			}
		}
		if (r == -EEXIST)
			r = 0;
	}
out:
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

int matchstate_open(const char *path, struct matchstate **ret, char *err, size_t errlen)
{
	struct matchstate *ms = calloc(1, sizeof(*ms));
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (!ms)
		return -ENOMEM;
	ms->fd = -1;
	TAILQ_INIT(&ms->pending);
	TAILQ_INIT(&ms->unsaved);
	r = htab_init(&ms->records, rec_key, MATCHSTATE_MAX_RECORDS);
	if (r == 0)
		r = htab_init(&ms->distinct, rec_distinct, MATCHSTATE_MAX_RECORDS);
	ms->path = strdup(path);
	if (r < 0 || !ms->path) {
		r = -ENOMEM;
		goto fail;
	}
	r = hw_read_file(path, MATCHSTATE_MAX_BYTES, (void **)&buf, &len);
	if (r < 0 && r != -ENOENT) {
		snprintf(err, errlen, "cannot read the match state %s: %s", path, strerror(-r));
		goto fail;
	}
	for (char *p = buf; p && p < buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
		if (l > 0 && load_line(ms, p, l) < 0)
			ms->bad_lines++; /* e.g. the tail of a crash: skip it */
		p += l + 1;
	}
	free(buf);
	buf = NULL;
	ms->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ms->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot write the match state %s: %s", path, strerror(-r));
		goto fail;
	}
	/* a torn last line would swallow the next record: end it */
	if (len > 0) {
		char last;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && pread(fd, &last, 1, (off_t)len - 1) == 1 && last != '\n' &&
		    write(ms->fd, "\n", 1) < 0)
			ms->bad_lines++;
		if (fd >= 0)
			close(fd);
	}
	*ret = ms;
	return 0;
fail:
	free(buf);
	matchstate_close(ms);
	return r;
}

void matchstate_close(struct matchstate *ms)
{
	struct ms_record *r;
	size_t pos = 0;

	if (!ms)
		return;
	while ((r = htab_next(&ms->records, &pos)))
		rec_free(r);
	htab_free(&ms->records);
	htab_free(&ms->distinct);
	for (size_t i = 0; i < ms->ncats; i++)
		free(ms->cats[i].name);
	if (ms->fd >= 0)
		close(ms->fd);
	free(ms->path);
	free(ms);
}

bool matchstate_known(const struct matchstate *ms, const uint8_t key[MATCHSTATE_KEY_BYTES])
{
	return htab_get(&ms->records, key, MATCHSTATE_KEY_BYTES) != NULL;
}

unsigned matchstate_count(const struct matchstate *ms, const char *cat, const uint8_t *distinct)
{
	unsigned n = 0;
	for (size_t i = 0; i < ms->ncats; i++)
		if (strcmp(ms->cats[i].name, cat) == 0)
			n = ms->cats[i].distinct;
	if (distinct && !htab_get(&ms->distinct, distinct, MATCHSTATE_KEY_BYTES))
		n++;
	return n;
}

/* Append one line and fdatasync it.  A line that could not be written
 * whole is cut off again, so that it cannot swallow the next one. */
static int append(struct matchstate *ms, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
	struct stat st;
	size_t len;
	ssize_t k = 0;
	char *line;
	int r = 0;

	if (ms->fd < 0)
		return -EBADF;
	if (!s)
		return -ENOMEM;
	if (ms->torn) {
		if (write(ms->fd, "\n", 1) != 1)
			return errno ? -errno : -ENOSPC;
		ms->torn = false;
	}
	if (fstat(ms->fd, &st) < 0)
		return -errno;
	len = strlen(s);
	line = malloc(len + 1);
	if (!line)
		return -ENOMEM;
	memcpy(line, s, len);
	line[len++] = '\n';
	/* one write() per line: O_APPEND keeps lines whole between writers */
	k = write(ms->fd, line, len);
	if (k < 0)
		r = -errno;
	else if ((size_t)k != len)
		r = -ENOSPC;
	else if (fdatasync(ms->fd) < 0)
		r = -errno;
	if (r < 0 && k > 0 && ftruncate(ms->fd, st.st_size) < 0)
		ms->torn = true;
	free(line);
	return r;
}

static json_object *hexstr(const uint8_t *key)
{
	char hex[2 * MATCHSTATE_KEY_BYTES + 1];
	sodium_bin2hex(hex, sizeof(hex), key, MATCHSTATE_KEY_BYTES);
	return json_object_new_string(hex);
}

/* Append a line {"t":type,"key":rec's key, ...more} and free it.
 * more: fields to add (borrowed), or NULL. */
static int append_line(struct matchstate *ms, const char *type, const struct ms_record *rec,
		       json_object *more)
{
	json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "t", json_object_new_string(type));
	json_object_object_add(o, "key", hexstr(rec->key));
	if (more) {
		json_object_object_foreach(more, k, v)
			json_object_object_add(o, k, json_object_get(v));
	}
	r = append(ms, o);
	json_object_put(o);
	return r;
}

/* Write what of rec is not in the file yet: its match line (with
 * "alert":null when it was alerted meanwhile, which says both), then
 * its alerted line. */
static int save_record(struct matchstate *ms, struct ms_record *rec)
{
	int r;

	if (!rec->match_saved) {
		json_object *m = json_object_new_object();
		if (!m)
			return -ENOMEM;
		json_object_object_add(m, "distinct", hexstr(rec->distinct));
		json_object_object_add(m, "category", json_object_new_string(rec->category));
		json_object_object_add(m, "alert", rec->alerted ? NULL : json_object_get(rec->alert));
		r = append_line(ms, "match", rec, m);
		json_object_put(m);
		if (r < 0)
			return r;
		rec->match_saved = true;
		rec->alerted_saved = rec->alerted;
	}
	if (rec->alerted && !rec->alerted_saved) {
		r = append_line(ms, "alerted", rec, NULL);
		if (r < 0)
			return r;
		rec->alerted_saved = true;
	}
	return 0;
}

static void mark_unsaved(struct matchstate *ms, struct ms_record *rec)
{
	if (rec->unsaved)
		return;
	rec->unsaved = true;
	TAILQ_INSERT_TAIL(&ms->unsaved, rec, unsaved_link);
	ms->nunsaved++;
}

int matchstate_sync(struct matchstate *ms)
{
	struct ms_record *rec;

	while ((rec = TAILQ_FIRST(&ms->unsaved))) {
		int r = save_record(ms, rec);
		if (r < 0)
			return r;
		TAILQ_REMOVE(&ms->unsaved, rec, unsaved_link);
		rec->unsaved = false;
		ms->nunsaved--;
	}
	return 0;
}

int matchstate_add(struct matchstate *ms, const uint8_t key[MATCHSTATE_KEY_BYTES],
		   const uint8_t distinct[MATCHSTATE_KEY_BYTES], const char *cat,
		   json_object *alert, struct ms_record **ret)
{
	struct ms_record *rec = NULL;
	int r = insert(ms, key, distinct, cat, alert, &rec);

	if (r < 0)
		return r;
	mark_unsaved(ms, rec);
	if (ret)
		*ret = rec;
	return matchstate_sync(ms);
}

int matchstate_alerted(struct matchstate *ms, struct ms_record *rec)
{
	mark_alerted(ms, rec);
	if (!rec->alerted_saved)
		mark_unsaved(ms, rec);
	return matchstate_sync(ms);
}
