/* test_daemon_watch.c - inotify watching and crawling on real folders:
 * files found by the crawl and by events, folders that appear (also with a
 * file already inside), folders renamed inside the tree and moved out or
 * in, symlinks and FIFOs left alone, exclusions and the depth limit. */
#include "harness.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/stat.h>

#include "crawl.h"
#include "watch.h"

#define MAXSEEN 256

struct rec {
	char *files[MAXSEEN];
	int nfiles;
	int dir_errors;
	int done;
	int anchors;
	int overflows;
	const char *exclude;
	struct crawl *crawl;
	struct crawl_stats last;
};

static struct rec R;

static void rec_reset(void)
{
	for (int i = 0; i < R.nfiles; i++)
		free(R.files[i]);
	R.nfiles = 0;
}

static bool seen(const char *path)
{
	for (int i = 0; i < R.nfiles; i++)
		if (strcmp(R.files[i], path) == 0)
			return true;
	return false;
}

static void add_seen(const char *path)
{
	if (!seen(path) && R.nfiles < MAXSEEN)
		R.files[R.nfiles++] = strdup(path);
}

static void on_file(void *ud, const char *path, enum watch_file_event ev)
{
	(void)ud;
	(void)ev;
	add_seen(path);
}

static void on_dir(void *ud, const char *path, struct watch_node *parent)
{
	(void)ud;
	assert_true(crawl_add(R.crawl, path, parent->wd, 0, CRAWL_HIGH, false, false) >= 0);
}

static void on_overflow(void *ud)
{
	(void)ud;
	R.overflows++;
}

static void on_anchor(void *ud)
{
	(void)ud;
	R.anchors++;
}

static bool cb_excluded(void *ud, const char *path)
{
	(void)ud;
	return R.exclude && fnmatch(R.exclude, path, 0) == 0;
}

static int cb_file(void *ud, const char *path, const struct stat *st, enum crawl_prio p)
{
	(void)ud;
	(void)p;
	assert_true(S_ISREG(st->st_mode));
	add_seen(path);
	return 1;
}

static void cb_dir_error(void *ud, const char *path, int err, bool watch)
{
	(void)ud;
	(void)path;
	(void)err;
	(void)watch;
	R.dir_errors++;
}

static void cb_done(void *ud, const char *path, const struct crawl_stats *st, bool dirs_only)
{
	(void)dirs_only;
	(void)ud;
	(void)path;
	R.done++;
	R.last = *st;
}

/* Run events and crawl work until nothing happens for 100 ms. */
static void pump(struct watch *w, struct crawl *c)
{
	for (int quiet = 0; quiet < 5;) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		bool work = crawl_step(c, 64);
		int k = poll(&p, 1, work ? 0 : 20);
		if (k > 0) {
			assert_int_equal(watch_process(w), 0);
			quiet = 0;
		} else if (!work) {
			quiet++;
		}
	}
}

static void put(const char *dir, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static void mk(const char *dir, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static bool seen_rel(const char *dir, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return seen(p);
}

struct env {
	char base[64];
	char root[96];
	char outside[96];
	struct watch w;
	struct crawl c;
};

static void env_start(struct env *e, unsigned max_depth)
{
	struct watch_callbacks wcb = { on_file, on_dir, on_overflow, on_anchor, NULL };
	struct crawl_callbacks ccb = { cb_excluded, cb_file, cb_dir_error, cb_done, NULL };

	memset(&R, 0, sizeof(R));
	snprintf(e->base, sizeof(e->base), "/tmp/hwwatch.XXXXXX");
	assert_non_null(mkdtemp(e->base));
	snprintf(e->root, sizeof(e->root), "%s/root", e->base);
	snprintf(e->outside, sizeof(e->outside), "%s/outside", e->base);
	assert_int_equal(mkdir(e->root, 0755), 0);
	assert_int_equal(mkdir(e->outside, 0755), 0);
	assert_int_equal(watch_init(&e->w, &wcb), 0);
	crawl_init(&e->c, &e->w, &ccb, max_depth, 1000);
	R.crawl = &e->c;
}

static void env_stop(struct env *e)
{
	crawl_free(&e->c);
	watch_free(&e->w);
	rec_reset();
	hwt_rmtree(e->base);
}

static void test_crawl_and_events(void **state)
{
	struct env e;
	char p[512];
	(void)state;

	env_start(&e, 64);
	put(e.root, "a.jpg");
	mk(e.root, "sub");
	put(e.root, "sub/b.png");
	mk(e.root, "sub/deeper");
	put(e.root, "sub/deeper/c.gif");
	snprintf(p, sizeof(p), "%s/link.jpg", e.root);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/fifo.jpg", e.root);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/linkdir", e.root);
	assert_int_equal(symlink("/etc", p), 0);

	assert_int_equal(crawl_add(&e.c, e.root, -1, WN_ROOT, CRAWL_LOW, true, false), 1);
	pump(&e.w, &e.c);
	assert_int_equal(R.done, 1);
	assert_int_equal(R.nfiles, 3);
	assert_true(seen_rel(e.root, "a.jpg"));
	assert_true(seen_rel(e.root, "sub/b.png"));
	assert_true(seen_rel(e.root, "sub/deeper/c.gif"));
	assert_int_equal(R.last.dirs, 3);
	assert_int_equal(R.last.special, 3); /* two symlinks and the FIFO */
	assert_int_equal(watch_count(&e.w), 3);

	/* a file written later is reported by its event */
	rec_reset();
	put(e.root, "sub/new.jpg");
	pump(&e.w, &e.c);
	assert_true(seen_rel(e.root, "sub/new.jpg"));

	/* a folder created with a file already in it */
	rec_reset();
	mk(e.root, "fresh");
	put(e.root, "fresh/in.jpg");
	pump(&e.w, &e.c);
	assert_true(seen_rel(e.root, "fresh/in.jpg"));
	assert_int_equal(watch_count(&e.w), 4);

	/* rename a folder inside the tree: watches stay, paths follow */
	rec_reset();
	char from[512], to[512];
	snprintf(from, sizeof(from), "%s/sub", e.root);
	snprintf(to, sizeof(to), "%s/renamed", e.root);
	assert_int_equal(rename(from, to), 0);
	pump(&e.w, &e.c);
	put(e.root, "renamed/deeper/late.jpg");
	pump(&e.w, &e.c);
	assert_true(seen_rel(e.root, "renamed/deeper/late.jpg"));
	assert_int_equal(watch_count(&e.w), 4);

	/* move it out of the tree: its watches go, its files are not seen */
	rec_reset();
	snprintf(from, sizeof(from), "%s/renamed", e.root);
	snprintf(to, sizeof(to), "%s/gone", e.outside);
	assert_int_equal(rename(from, to), 0);
	pump(&e.w, &e.c);
	assert_int_equal(watch_count(&e.w), 2);
	put(e.outside, "gone/deeper/after.jpg");
	pump(&e.w, &e.c);
	assert_int_equal(R.nfiles, 0);

	/* and back in: listed again, watched again */
	snprintf(from, sizeof(from), "%s/gone", e.outside);
	snprintf(to, sizeof(to), "%s/back", e.root);
	assert_int_equal(rename(from, to), 0);
	pump(&e.w, &e.c);
	assert_true(seen_rel(e.root, "back/deeper/after.jpg"));
	assert_true(seen_rel(e.root, "back/b.png"));
	assert_int_equal(watch_count(&e.w), 4);

	/* a deleted folder loses its watch */
	snprintf(p, sizeof(p), "rm -rf '%s/back'", e.root);
	assert_int_equal(system(p), 0);
	pump(&e.w, &e.c);
	assert_int_equal(watch_count(&e.w), 2);
	env_stop(&e);
}

static void test_exclude_and_depth(void **state)
{
	struct env e;
	char pat[128];
	(void)state;

	env_start(&e, 2);
	snprintf(pat, sizeof(pat), "*/.thumbnails");
	R.exclude = pat;
	mk(e.root, ".thumbnails");
	put(e.root, ".thumbnails/t.png");
	mk(e.root, "d1");
	mk(e.root, "d1/d2");
	mk(e.root, "d1/d2/d3");
	put(e.root, "d1/d2/ok.jpg");
	put(e.root, "d1/d2/d3/too-deep.jpg");
	assert_int_equal(crawl_add(&e.c, e.root, -1, WN_ROOT, CRAWL_LOW, true, false), 1);
	pump(&e.w, &e.c);
	assert_true(seen_rel(e.root, "d1/d2/ok.jpg"));
	assert_false(seen_rel(e.root, "d1/d2/d3/too-deep.jpg"));
	assert_false(seen_rel(e.root, ".thumbnails/t.png"));
	assert_int_equal(R.last.too_deep, 1);
	/* the excluded folder is not watched either */
	rec_reset();
	put(e.root, ".thumbnails/t2.png");
	pump(&e.w, &e.c);
	assert_int_equal(R.nfiles, 0);
	env_stop(&e);
}

/* Crawl pauses on a full queue and resumes without losing a file. */
static int budget_left;
static int cb_file_limited(void *ud, const char *path, const struct stat *st,
			   enum crawl_prio p)
{
	if (budget_left == 0)
		return -ENOSPC;
	budget_left--;
	return cb_file(ud, path, st, p);
}

static void test_pause_resume(void **state)
{
	struct env e;
	char name[32];
	(void)state;

	env_start(&e, 8);
	e.c.cb.file = cb_file_limited;
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		put(e.root, name);
	}
	assert_int_equal(crawl_add(&e.c, e.root, -1, WN_ROOT, CRAWL_LOW, true, false), 1);
	budget_left = 7;
	assert_false(crawl_step(&e.c, 1000));
	assert_true(e.c.blocked);
	assert_int_equal(R.nfiles, 7);
	while (R.done == 0) {
		budget_left = 7;
		crawl_unblock(&e.c);
		crawl_step(&e.c, 1000);
	}
	assert_int_equal(R.nfiles, 50);
	env_stop(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crawl_and_events),
		cmocka_unit_test(test_exclude_and_depth),
		cmocka_unit_test(test_pause_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
