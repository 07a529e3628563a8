/* test_daemon_state.c - the daemon's bounded in-memory and on-disk state:
 * the hash table's limit and deletions, the scan queue (settle, dedupe,
 * event before crawl, hard limit), the scan cache (identity only, tag,
 * limit, damaged file), the match state (dedupe across a reopen, distinct
 * counts per category, a torn last line, lines that cannot be written and
 * are written later) and glob expansion into roots and anchors. */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cache.h"
#include "fileio.h"
#include "htab.h"
#include "matchstate.h"
#include "queue.h"
#include "roots.h"

struct item {
	char key[16];
};

static const void *item_key(const void *it, size_t *len)
{
	*len = strlen(((const struct item *)it)->key);
	return ((const struct item *)it)->key;
}

static void test_htab(void **state)
{
	struct htab h;
	struct item items[300];
	(void)state;

	assert_int_equal(htab_init(&h, item_key, 200), 0);
	for (int i = 0; i < 300; i++)
		snprintf(items[i].key, sizeof(items[i].key), "k%d", i);
	for (int i = 0; i < 200; i++)
		assert_int_equal(htab_put(&h, &items[i]), 0);
	assert_int_equal(htab_put(&h, &items[200]), -ENOSPC);
	assert_int_equal(htab_put(&h, &items[5]), -EEXIST);
	/* delete and re-insert many times: tombstones must not fill it */
	for (int round = 0; round < 50; round++)
		for (int i = 0; i < 100; i++) {
			assert_ptr_equal(htab_del(&h, items[i].key, strlen(items[i].key)), &items[i]);
			assert_int_equal(htab_put(&h, &items[i]), 0);
		}
	assert_int_equal(htab_count(&h), 200);
	for (int i = 0; i < 200; i++)
		assert_ptr_equal(htab_get(&h, items[i].key, strlen(items[i].key)), &items[i]);
	assert_null(htab_get(&h, "k250", 4));
	size_t pos = 0, n = 0;
	while (htab_next(&h, &pos))
		n++;
	assert_int_equal(n, 200);
	htab_free(&h);
}

static void put_file(const char *path, const char *data)
{
	assert_int_equal(hw_write_atomic(path, data, strlen(data), 0644), 0);
}

static void test_queue(void **state)
{
	char dir[] = "/tmp/hwq.XXXXXX", a[128], b[128], c[128], gone[128];
	struct queue q;
	struct queue_item *it;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(c, sizeof(c), "%s/c", dir);
	snprintf(gone, sizeof(gone), "%s/gone", dir);
	put_file(a, "1");
	put_file(b, "1");
	put_file(c, "1");
	assert_int_equal(queue_init(&q, 3, 100), 0);
	assert_int_equal(queue_push(&q, c, QUEUE_CRAWL, 0), 1);
	assert_int_equal(queue_push(&q, a, QUEUE_EVENT, 1000), 1);
	assert_int_equal(queue_push(&q, gone, QUEUE_EVENT, 1000), 1);
	/* a is written and closed: the second event is deduplicated, and the
	 * settle counts from it, not from the first */
	put_file(a, "12");
	assert_int_equal(queue_push(&q, a, QUEUE_EVENT, 2000), 0);
	assert_int_equal(queue_push(&q, b, QUEUE_EVENT, 1000), -ENOSPC);
	assert_int_equal(queue_length(&q), 3);
	/* only the crawl item is ready before the settle time */
	assert_int_equal(queue_next_due(&q), 101000);
	it = queue_pop(&q);
	assert_string_equal(it->path, c);
	free(it);
	assert_null(queue_pop(&q));
	/* a vanished file is dropped; a is ready one period after its close */
	assert_int_equal(queue_settle(&q, 101000), 0);
	assert_int_equal(q.vanished, 1);
	assert_int_equal(queue_length(&q), 1);
	assert_int_equal(queue_next_due(&q), 102000);
	assert_int_equal(queue_settle(&q, 102000), 1);
	it = queue_pop(&q);
	assert_string_equal(it->path, a);
	free(it);
	/* a file that changes without an event waits another period */
	assert_int_equal(queue_push(&q, a, QUEUE_EVENT, 110000), 1);
	put_file(a, "123");
	assert_int_equal(queue_settle(&q, 210000), 0);
	assert_int_equal(queue_settle(&q, 310000), 1);
	it = queue_pop(&q);
	assert_string_equal(it->path, a);
	free(it);
	/* event items go before crawl items; an event upgrades a crawl item */
	assert_int_equal(queue_push(&q, c, QUEUE_CRAWL, 0), 1);
	assert_int_equal(queue_push(&q, b, QUEUE_CRAWL, 0), 1);
	assert_int_equal(queue_push(&q, b, QUEUE_EVENT, 300000), 0);
	assert_int_equal(queue_push(&q, a, QUEUE_EVENT, 300000), 1);
	queue_settle(&q, 400000);
	queue_settle(&q, 500000);
	it = queue_pop(&q);
	assert_true(strcmp(it->path, b) == 0 || strcmp(it->path, a) == 0);
	assert_int_equal(it->origin, QUEUE_EVENT);
	free(it);
	it = queue_pop(&q);
	assert_int_equal(it->origin, QUEUE_EVENT);
	free(it);
	it = queue_pop(&q);
	assert_string_equal(it->path, c);
	free(it);
	queue_free(&q);
	hwt_rmtree(dir);
}

static void test_cache(void **state)
{
	char dir[] = "/tmp/hwc.XXXXXX", f[128], g[128], cp[128];
	uint8_t tag1[CACHE_TAG_BYTES] = { 1 }, tag2[CACHE_TAG_BYTES] = { 2 };
	struct scancache c;
	struct stat sf, sg;
	bool loaded;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(f, sizeof(f), "%s/f", dir);
	snprintf(g, sizeof(g), "%s/g", dir);
	snprintf(cp, sizeof(cp), "%s/scan.cache", dir);
	put_file(f, "hello");
	put_file(g, "world");
	assert_int_equal(stat(f, &sf), 0);
	assert_int_equal(stat(g, &sg), 0);
	assert_int_equal(scancache_init(&c, 1000, tag1), 0);
	assert_false(scancache_fresh(&c, &sf));
	assert_int_equal(scancache_put(&c, &sf), 0);
	assert_true(scancache_fresh(&c, &sf));
	assert_false(scancache_fresh(&c, &sg));
	assert_int_equal(scancache_save(&c, cp), 0);
	scancache_free(&c);

	/* the file holds the identity only: 5 integers per entry, no content */
	struct stat scs;
	assert_int_equal(stat(cp, &scs), 0);
	assert_int_equal(scs.st_size, 32 + 40 + 16);

	assert_int_equal(scancache_init(&c, 1000, tag1), 0);
	assert_int_equal(scancache_load(&c, cp, &loaded), 0);
	assert_true(loaded);
	assert_true(scancache_fresh(&c, &sf));
	/* a changed file is not fresh */
	put_file(f, "hello!");
	struct stat sf2;
	assert_int_equal(stat(f, &sf2), 0);
	assert_false(scancache_fresh(&c, &sf2));
	scancache_free(&c);

	/* another tag: everything stale */
	assert_int_equal(scancache_init(&c, 1000, tag2), 0);
	assert_int_equal(scancache_load(&c, cp, &loaded), 0);
	assert_false(loaded);
	assert_int_equal(scancache_count(&c), 0);
	scancache_free(&c);

	/* a damaged file: -EBADMSG and an empty cache */
	int fd = open(cp, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 40), 1);
	close(fd);
	assert_int_equal(scancache_init(&c, 1000, tag1), 0);
	assert_int_equal(scancache_load(&c, cp, &loaded), -EBADMSG);
	assert_int_equal(scancache_count(&c), 0);
	scancache_free(&c);

	/* the limit: it starts over instead of growing */
	assert_int_equal(scancache_init(&c, 1000, tag1), 0);
	struct stat fake = sf;
	for (int i = 0; i < 1000; i++) {
		fake.st_ino = (ino_t)(100000 + i);
		assert_int_equal(scancache_put(&c, &fake), 0);
	}
	fake.st_ino = 5;
	assert_int_equal(scancache_put(&c, &fake), 1);
	assert_int_equal(scancache_count(&c), 1);
	assert_int_equal(c.restarts, 1);
	scancache_free(&c);
	hwt_rmtree(dir);
}

static void key_of(uint8_t k[MATCHSTATE_KEY_BYTES], int v)
{
	memset(k, 0, MATCHSTATE_KEY_BYTES);
	k[0] = (uint8_t)v;
}

static void test_matchstate(void **state)
{
	char dir[] = "/tmp/hwm.XXXXXX", p[128], err[256];
	uint8_t k1[32], k2[32], k3[32], d1[32], d2[32];
	struct matchstate *ms;
	struct ms_record *rec = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/matches.jsonl", dir);
	key_of(k1, 1);
	key_of(k2, 2);
	key_of(k3, 3);
	key_of(d1, 11);
	key_of(d2, 12);
	assert_int_equal(matchstate_open(p, &ms, err, sizeof(err)), 0);
	assert_false(matchstate_known(ms, k1));
	assert_int_equal(matchstate_count(ms, "csam", d1), 1);
	json_object *a = json_object_new_object();
	json_object_object_add(a, "alert_id", json_object_new_string("aa"));
	assert_int_equal(matchstate_add(ms, k1, d1, "csam", a, &rec), 0);
	assert_true(matchstate_known(ms, k1));
	/* a copy of the same content (another key, same distinct) counts once */
	assert_int_equal(matchstate_add(ms, k2, d1, "csam", json_object_new_object(), NULL), 0);
	assert_int_equal(matchstate_count(ms, "csam", NULL), 1);
	assert_int_equal(matchstate_add(ms, k3, d2, "ncii", json_object_new_object(), NULL), 0);
	assert_int_equal(matchstate_count(ms, "ncii", NULL), 1);
	uint8_t d3[32];
	key_of(d3, 13);
	assert_int_equal(matchstate_count(ms, "csam", d3), 2); /* as if d3 were added */
	assert_int_equal(matchstate_count(ms, "csam", d1), 1); /* d1 is there already */
	assert_int_equal(matchstate_alerted(ms, rec), 0);
	assert_null(rec->alert);
	matchstate_close(ms);

	/* reopened: the same facts, and a torn last line is skipped */
	int fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"t\":\"match\",\"ke", 16), 16);
	close(fd);
	assert_int_equal(matchstate_open(p, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms->bad_lines, 1);
	assert_true(matchstate_known(ms, k1));
	assert_true(matchstate_known(ms, k2));
	assert_int_equal(matchstate_count(ms, "csam", NULL), 1);
	size_t pending = 0;
	struct ms_record *r;
	TAILQ_FOREACH(r, &ms->pending, link)
		pending++;
	assert_int_equal(pending, 2); /* k2 and k3: not alerted yet */
	/* appending after the torn line still gives readable lines */
	uint8_t k4[32];
	key_of(k4, 4);
	assert_int_equal(matchstate_add(ms, k4, d2, "ncii", json_object_new_object(), NULL), 0);
	matchstate_close(ms);
	assert_int_equal(matchstate_open(p, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms->bad_lines, 1);
	assert_true(matchstate_known(ms, k4));
	matchstate_close(ms);
	hwt_rmtree(dir);
}

static off_t file_size(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

/* A full disk: the file may not grow by more than `room` bytes (a write
 * across the limit is cut short, as on a file system that filled up). */
static void limit_growth(const char *p, off_t room, struct rlimit *old)
{
	struct rlimit rl = { (rlim_t)(file_size(p) + room), RLIM_INFINITY };
	assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
	rl.rlim_max = old->rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void test_matchstate_unsaved(void **state)
{
	char dir[] = "/tmp/hwm.XXXXXX", p[128], err[256], *text = NULL;
	uint8_t k[3][32], d[3][32];
	struct matchstate *ms;
	struct ms_record *r1 = NULL, *r2 = NULL, *r;
	struct rlimit old;
	size_t len = 0, pending = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/matches.jsonl", dir);
	for (int i = 0; i < 3; i++) {
		key_of(k[i], 1 + i);
		key_of(d[i], 11 + i);
	}
	assert_int_equal(matchstate_open(p, &ms, err, sizeof(err)), 0);
	assert_int_equal(matchstate_add(ms, k[2], d[2], "csam", json_object_new_object(), NULL), 0);
	off_t good = file_size(p);

	/* the disk fills up: 10 bytes of room, a line is cut short, cut off
	 * again, and the record is kept in memory, unsaved */
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
	limit_growth(p, 10, &old);
	json_object *a = json_object_new_object();
	json_object_object_add(a, "alert_id", json_object_new_string("a1"));
	int e1 = matchstate_add(ms, k[0], d[0], "csam", a, &r1);
	int e2 = matchstate_add(ms, k[1], d[1], "csam", json_object_new_object(), &r2);
	int e3 = matchstate_alerted(ms, r1); /* k[0]'s alert went out meanwhile */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_true(e1 < 0 && e2 < 0 && e3 < 0);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_true(matchstate_known(ms, k[0]));
	assert_int_equal(matchstate_unsaved(ms), 2);
	assert_int_equal(file_size(p), good);

	/* space again: both are written, k[0] as one "alert":null line */
	assert_int_equal(matchstate_sync(ms), 0);
	assert_int_equal(matchstate_unsaved(ms), 0);
	matchstate_close(ms);
	assert_int_equal(hw_read_file(p, 1 << 20, (void **)&text, &len), 0);
	assert_non_null(strstr(text, "\"alert\":null"));
	free(text);
	assert_int_equal(matchstate_open(p, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms->bad_lines, 0);
	assert_true(matchstate_known(ms, k[0]));
	assert_true(matchstate_known(ms, k[1]));
	assert_int_equal(matchstate_count(ms, "csam", NULL), 3);
	TAILQ_FOREACH(r, &ms->pending, link)
		pending++;
	assert_int_equal(pending, 2); /* k[2] and k[1]; k[0] was alerted */
	matchstate_close(ms);
	hwt_rmtree(dir);
}

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void test_roots(void **state)
{
	char dir[] = "/tmp/hwr.XXXXXX", p[256], pat[256], pat2[256], pat3[256];
	struct roots r = { 0 };
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "mkdir -p %s/home/alice/Pictures/sub %s/home/bob %s/home/.hidden/Pictures "
		 "%s/srv/shared && ln -s %s/srv %s/home/carol && ln -s /etc %s/home/alice/Downloads",
		 dir, dir, dir, dir, dir, dir, dir);
	assert_int_equal(system(p), 0);
	snprintf(pat, sizeof(pat), "%s/home/*/Pictures", dir);
	snprintf(pat2, sizeof(pat2), "%s/home/alice/Pictures/sub", dir); /* nested: dropped */
	snprintf(pat3, sizeof(pat3), "%s/home/*/Downloads", dir);        /* a symlink: refused */
	char *pats[] = { pat, pat2, pat3 };
	assert_int_equal(roots_expand(pats, 3, &r), 0);
	assert_int_equal(r.nroot, 1);
	snprintf(p, sizeof(p), "%s/home/alice/Pictures", dir);
	assert_true(has(r.root, r.nroot, p));
	/* anchors: where a new match could appear (not in the symlinked home) */
	snprintf(p, sizeof(p), "%s/home", dir);
	assert_true(has(r.anchor, r.nanchor, p));
	snprintf(p, sizeof(p), "%s/home/bob", dir);
	assert_true(has(r.anchor, r.nanchor, p));
	snprintf(p, sizeof(p), "%s/home/carol", dir);
	assert_false(has(r.anchor, r.nanchor, p));
	roots_free(&r);
	/* bob's Pictures appears: a second root */
	snprintf(p, sizeof(p), "%s/home/bob/Pictures", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(roots_expand(pats, 1, &r), 0);
	assert_int_equal(r.nroot, 2);
	assert_true(has(r.root, r.nroot, p));
	roots_free(&r);
	/* a literal root that does not exist yet: its parent is the anchor */
	snprintf(pat, sizeof(pat), "%s/srv/shared/Photos", dir);
	assert_int_equal(roots_expand(pats, 1, &r), 0);
	assert_int_equal(r.nroot, 0);
	snprintf(p, sizeof(p), "%s/srv/shared", dir);
	assert_true(has(r.anchor, r.nanchor, p));
	roots_free(&r);
	hwt_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_htab),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_matchstate),
		cmocka_unit_test(test_matchstate_unsaved),
		cmocka_unit_test(test_roots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
