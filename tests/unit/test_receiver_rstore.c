/* test_receiver_rstore.c - group commit in the receiver's database
 * (receiver/rstore.c, compiled into this test with intake.c because the
 * receiver is a program, not a library), on a real SQLite file: writers
 * that queue while a commit is under way share the next transaction; a
 * job that fails inside a group is rolled back alone and the others are
 * stored; a redelivery in the same group as its original is a duplicate;
 * many threads at once each get their own answer and everything is stored
 * exactly once.  The queue is made to fill deterministically by holding
 * the writers' lock from the test, as a slow fsync would. */
#include "harness.h"

#include <pthread.h>

#include "../../receiver/intake.c"
#include "../../receiver/rstore.c"

static unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static char dir[] = "/tmp/hw-rstore-test.XXXXXX";

/* A verified alert record with this id (the test frees it with
 * intake_record_done). */
static void make_alert(unsigned n, struct intake_record *rec)
{
	char payload[1024], p64[2048], s64[128], body[4096];
	unsigned char sig[crypto_sign_BYTES];
	struct intake_error err = { 0 };

	snprintf(payload, sizeof(payload),
		 "{\"v\":1,\"alert_id\":\"%032x\",\"detected_at\":\"2026-05-01T09:30:00.123Z\","
		 "\"device_id\":\"ASSET-0001\",\"scanner_version\":\"0.1.0\","
		 "\"config_digest\":\"00112233445566778899aabbccddeeff\",\"list_id\":\"district\","
		 "\"list_version\":7,\"entry_id\":\"E-%u\",\"entry_source\":\"\","
		 "\"entry_category\":\"csam\",\"model\":\"pdq\",\"distance\":3,\"quality\":null,"
		 "\"confirmed\":false,\"file_sha256\":\"%064x\",\"audit_seq\":%u,"
		 "\"audit_head\":\"%064x\"}",
		 n, n, n, n + 1, n + 1);
	crypto_sign_detached(sig, NULL, (const unsigned char *)payload, strlen(payload), sk);
	sodium_bin2base64(p64, sizeof(p64), (const unsigned char *)payload, strlen(payload),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(s64, sizeof(s64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	snprintf(body, sizeof(body), "{\"format\":\"%s\",\"payload\":\"%s\",\"sig\":\"%s\"}",
		 INTAKE_ALERT_FORMAT, p64, s64);
	assert_int_equal(intake_parse("alert", body, strlen(body), rec, &err), 0);
	assert_int_equal(intake_verify(rec, pk, &err), 0);
}

static struct rstore *open_fresh(void)
{
	char path[256];
	struct rstore *st = NULL;
	snprintf(path, sizeof(path), "%s/r.db", dir);
	unlink(path);
	assert_int_equal(rstore_open(path, &st), 0);
	assert_int_equal(rstore_device_enroll(st, "ASSET-0001", pk), 0);
	return st;
}

static int64_t count(struct rstore *st, const char *sql)
{
	sqlite3_stmt *s = prep(st, sql, NULL);
	int64_t n = -1;
	if (s && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static size_t queued(struct rstore *st)
{
	size_t n = 0;
	pthread_mutex_lock(&st->qlock);
	for (struct group_job *j = st->queue; j; j = j->next)
		n++;
	pthread_mutex_unlock(&st->qlock);
	return n;
}

/* A leader took the queue and waits for the writers' lock. */
static bool leading(struct rstore *st)
{
	pthread_mutex_lock(&st->qlock);
	bool r = st->committing && !st->queue;
	pthread_mutex_unlock(&st->qlock);
	return r;
}

/* Wait (at most 10 s) until n jobs are queued behind the one being
 * committed. */
static void wait_queued(struct rstore *st, size_t n)
{
	for (int i = 0; i < 10000 && queued(st) < n; i++)
		usleep(1000);
	assert_int_equal(queued(st), n);
}

/* --- threads that write ------------------------------------------------ */

struct writer {
	pthread_t t;
	struct rstore *st;
	struct intake_record rec;
	int (*fn)(struct rstore *st, void *arg); /* a raw job instead of an alert */
	const char *name;
	int r;
	enum rstore_outcome outcome;
};

static void *write_alert(void *arg)
{
	struct writer *w = arg;
	const char *flag = NULL;
	w->r = w->fn ? group_write(w->st, w->fn, w)
		     : rstore_alert_put(w->st, &w->rec, &w->outcome, &flag);
	return NULL;
}

/* Raw jobs: each adds a device named after the writer; "bad" then runs a
 * statement that fails, as a write that breaks half-way would. */
static int add_device(struct rstore *st, void *arg)
{
	struct writer *w = arg;
	unsigned char key[crypto_sign_PUBLICKEYBYTES] = { 0 };
	key[0] = (unsigned char)w->name[0];
	int r = run(st, prep(st, "INSERT INTO devices (device_id, pubkey, enrolled_at)"
				 " VALUES (?, ?, 0)",
			     "sb", w->name, key, (int)sizeof(key)));
	if (r == 0 && strcmp(w->name, "bad") == 0)
		r = exec(st, "INSERT INTO no_such_table VALUES (1)");
	return r;
}

/* Start writers[1..n-1] while writers[0]'s commit cannot proceed (the test
 * holds the writers' lock), so that they all queue and form one group. */
static void run_grouped(struct rstore *st, struct writer *w, size_t n)
{
	pthread_mutex_lock(&st->lock);
	assert_int_equal(pthread_create(&w[0].t, NULL, write_alert, &w[0]), 0);
	for (int i = 0; i < 10000 && !leading(st); i++)
		usleep(1000);
	assert_true(leading(st));
	for (size_t i = 1; i < n; i++)
		assert_int_equal(pthread_create(&w[i].t, NULL, write_alert, &w[i]), 0);
	wait_queued(st, n - 1);
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < n; i++)
		pthread_join(w[i].t, NULL);
}

static void test_one_transaction_for_the_queue(void **state)
{
	struct rstore *st = open_fresh();
	struct writer w[8] = { 0 };
	struct rstore_group_stats gs;

	for (unsigned i = 0; i < 8; i++) {
		w[i].st = st;
		make_alert(i + 1, &w[i].rec);
	}
	run_grouped(st, w, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(w[i].r, 0);
		assert_int_equal(w[i].outcome, RSTORE_STORED);
		intake_record_done(&w[i].rec);
	}
	rstore_group_stats(st, &gs);
	/* the first alone (its commit was held up), then the 7 that queued */
	assert_int_equal(gs.jobs, 8);
	assert_int_equal(gs.groups, 2);
	assert_int_equal(gs.largest, 7);
	assert_int_equal(count(st, "SELECT count(*) FROM alerts"), 8);
	rstore_close(st);
}

static void test_failed_job_rolled_back_alone(void **state)
{
	struct rstore *st = open_fresh();
	static const char *const names[] = { "first", "a", "bad", "c" };
	struct writer w[4] = { 0 };
	struct rstore_group_stats gs;

	for (int i = 0; i < 4; i++) {
		w[i].st = st;
		w[i].fn = add_device;
		w[i].name = names[i];
	}
	run_grouped(st, w, 4);
	rstore_group_stats(st, &gs);
	assert_int_equal(gs.largest, 3); /* a, bad and c shared a transaction */
	assert_int_equal(w[0].r, 0);
	assert_int_equal(w[1].r, 0);
	assert_int_equal(w[2].r, -EIO);
	assert_int_equal(w[3].r, 0);
	assert_int_equal(count(st, "SELECT count(*) FROM devices WHERE device_id IN"
				   " ('first', 'a', 'c')"),
			 3);
	/* the failed job's own first insert is gone too */
	assert_int_equal(count(st, "SELECT count(*) FROM devices WHERE device_id = 'bad'"), 0);
	rstore_close(st);
}

static void test_redelivery_in_the_same_group(void **state)
{
	struct rstore *st = open_fresh();
	struct writer w[3] = { 0 };

	for (int i = 0; i < 3; i++)
		w[i].st = st;
	make_alert(1, &w[0].rec);
	make_alert(2, &w[1].rec);
	make_alert(2, &w[2].rec); /* the uplink retried while the first was queued */
	run_grouped(st, w, 3);
	assert_int_equal(w[1].r, 0);
	assert_int_equal(w[2].r, 0);
	/* one of the two is stored, the other is its duplicate, in queue order */
	assert_true((w[1].outcome == RSTORE_STORED && w[2].outcome == RSTORE_DUPLICATE) ||
		    (w[2].outcome == RSTORE_STORED && w[1].outcome == RSTORE_DUPLICATE));
	assert_int_equal(count(st, "SELECT count(*) FROM alerts"), 2);
	for (int i = 0; i < 3; i++)
		intake_record_done(&w[i].rec);
	rstore_close(st);
}

/* Free-running: 16 threads x 20 alerts, with every alert sent twice. */
#define THREADS 16
#define EACH 20

struct runner {
	pthread_t t;
	struct rstore *st;
	unsigned base;
	int failures, stored, duplicates;
};

static void *run_many(void *arg)
{
	struct runner *r = arg;
	for (unsigned k = 0; k < 2 * EACH; k++) {
		struct intake_record rec = { 0 };
		enum rstore_outcome o = RSTORE_CONFLICT;
		const char *flag = NULL;
		make_alert(r->base + k % EACH, &rec);
		if (rstore_alert_put(r->st, &rec, &o, &flag) < 0)
			r->failures++;
		r->stored += o == RSTORE_STORED;
		r->duplicates += o == RSTORE_DUPLICATE;
		intake_record_done(&rec);
	}
	return NULL;
}

static void test_many_threads_exactly_once(void **state)
{
	struct rstore *st = open_fresh();
	struct runner r[THREADS] = { 0 };
	struct rstore_group_stats gs;
	int stored = 0, dups = 0;

	for (unsigned i = 0; i < THREADS; i++) {
		r[i].st = st;
		r[i].base = 1000 * (i + 1);
		assert_int_equal(pthread_create(&r[i].t, NULL, run_many, &r[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(r[i].t, NULL);
		assert_int_equal(r[i].failures, 0);
		stored += r[i].stored;
		dups += r[i].duplicates;
	}
	assert_int_equal(stored, THREADS * EACH);
	assert_int_equal(dups, THREADS * EACH);
	assert_int_equal(count(st, "SELECT count(*) FROM alerts"), THREADS * EACH);
	rstore_group_stats(st, &gs);
	assert_int_equal(gs.jobs, 2 * THREADS * EACH);
	assert_true(gs.groups <= gs.jobs);
	print_message("# %d threads: %llu deliveries in %llu transactions, largest group %llu\n",
		      THREADS, (unsigned long long)gs.jobs, (unsigned long long)gs.groups,
		      (unsigned long long)gs.largest);
	rstore_close(st);
}

static int setup(void **state)
{
	if (sodium_init() < 0 || !mkdtemp(dir))
		return -1;
	crypto_sign_keypair(pk, sk);
	return 0;
}

static int teardown(void **state)
{
	hwt_rmtree(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_transaction_for_the_queue),
		cmocka_unit_test(test_failed_job_rolled_back_alone),
		cmocka_unit_test(test_redelivery_in_the_same_group),
		cmocka_unit_test(test_many_threads_exactly_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
