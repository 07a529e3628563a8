/* main.c - `hashwatch-receiver`: the response team's alert server and the
 * commands that administer its database (devices, users, tokens, alerts,
 * retention).  Exit status: 0 success, 1 negative answer, 2 error. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>
#include <systemd/sd-daemon.h>

#include "fileio.h"
#include "intake.h"
#include "rstore.h"
#include "server.h"
#include "staff.h"

#define EXIT_ERR 2
#define PROG "hashwatch-receiver"

static void err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG " %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A whole decimal number in [min, max]. */
static int parse_num(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The idle timeout: whole minutes ("30"), or seconds with an "s" suffix
 * ("90s", for tests); 0 turns it off.  At most a week. */
static int parse_idle(const char *s, long *ret_seconds)
{
	size_t n = strlen(s);
	bool secs = n > 1 && s[n - 1] == 's';
	char num[16];
	long v;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	if (secs)
		num[n - 1] = '\0';
	if (parse_num(num, 0, secs ? 7 * 86400 : 7 * 1440, &v) < 0)
		return -EINVAL;
	*ret_seconds = secs ? v : v * 60;
	return 0;
}

/* Options shared by the database commands. */
struct dbopts {
	const char *db;
	bool json;
	const char *role, *label, *status;
};

/* Parse --db, --json, --role, --label, --status and --help for a database
 * command; returns the index of the first operand, or -1 (error printed or
 * help shown: *ret_exit says which). */
static int parse_dbopts(int argc, char **argv, const char *cmd, const char *usage,
			struct dbopts *o, int *ret_exit)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },	   { "json", no_argument, NULL, 'j' },
		{ "role", required_argument, NULL, 'r' },  { "label", required_argument, NULL, 'l' },
		{ "status", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:jr:l:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'j': o->json = true; break;
		case 'r': o->role = optarg; break;
		case 'l': o->label = optarg; break;
		case 's': o->status = optarg; break;
		case 'h':
			fputs(usage, stdout);
			*ret_exit = 0;
			return -1;
		default:
			fprintf(stderr, "%s", usage);
			*ret_exit = EXIT_ERR;
			return -1;
		}
	}
	if (!o->db) {
		err(cmd, "--db PATH is required ('" PROG " %s --help')", cmd);
		*ret_exit = EXIT_ERR;
		return -1;
	}
	return optind;
}

static int open_db(const char *cmd, const char *path, struct rstore **ret)
{
	int r = rstore_open(path, ret);
	if (r < 0)
		err(cmd, "cannot open the database %s", path);
	return r;
}

/* The common start of a database command: options, exactly nargs
 * operands (-1: any number), the database opened.  Returns the index of
 * the first operand, or -1 with *ret_exit set (help shown or an error
 * printed). */
static int db_start(int argc, char **argv, const char *cmd, const char *usage, int nargs,
		    struct dbopts *o, struct rstore **st, int *ret_exit)
{
	int i = parse_dbopts(argc, argv, cmd, usage, o, ret_exit);
	if (i < 0)
		return -1;
	*ret_exit = EXIT_ERR;
	if (nargs >= 0 && argc - i != nargs) {
		fputs(usage, stderr);
		return -1;
	}
	if (open_db(cmd, o->db, st) < 0)
		return -1;
	return i;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@/+-",
			    s[i]))
			return false;
	return true;
}

/* --- serve ------------------------------------------------------------ */

struct serve_opts {
	struct server_config cfg;
	const char *db, *port_file;
	long retention_days;
	long escalate_minutes, stale_minutes, threads;
	long session_idle; /* seconds */
	char *owned[8]; /* strings from the config file */
	size_t nowned;
};

static const char serve_usage[] =
	"Usage: " PROG " serve --listen ADDR:PORT --tls-cert FILE --tls-key FILE --db PATH\n"
	"                     [--retention-days N] [--escalate-minutes N] [--stale-minutes N]\n"
	"                     [--session-idle MINUTES] [--threads N] [--config FILE]\n"
	"                     [--port-file FILE]\n\n"
	"Receive signed alerts and heartbeats from enrolled laptops over HTTPS and serve\n"
	"the response team's dashboard on the same address.\n\n"
	"  --listen ADDR:PORT     address to listen on, e.g. 0.0.0.0:8443 or [::]:8443\n"
	"  --tls-cert FILE        PEM certificate chain; --tls-key FILE its private key\n"
	"  --db PATH              SQLite database (created if missing)\n"
	"  --retention-days N     purge closed alerts N days after closing (default 90);\n"
	"                         runs at start and daily\n"
	"  --escalate-minutes N   unacknowledged alerts older than N minutes are overdue (15)\n"
	"  --stale-minutes N      devices silent for N minutes are stale (60)\n"
	"  --session-idle MINUTES a dashboard login ends after this long without a\n"
	"                         request (30; '90s' gives seconds; 0: only the 8-hour\n"
	"                         limit); API tokens have no idle timeout\n"
	"  --threads N            worker threads (4)\n"
	"  --config FILE          INI file with a [receiver] section using the same names\n"
	"                         (listen, tls_cert, tls_key, db, retention_days, ...);\n"
	"                         command-line options win\n"
	"  --port-file FILE       write the bound port there (useful with port 0)\n"
	"  --insecure-http        plain HTTP on a loopback address, for tests only\n";

static int serve_ini(void *user, const char *section, const char *name, const char *value)
{
	struct serve_opts *o = user;
	char *v;
	long n;

	if (strcmp(section, "receiver") != 0)
		return 1;
	if (strcmp(name, "session_idle") == 0)
		return parse_idle(value, &o->session_idle) == 0;
	if (strcmp(name, "retention_days") == 0 || strcmp(name, "escalate_minutes") == 0 ||
	    strcmp(name, "stale_minutes") == 0 || strcmp(name, "threads") == 0) {
		if (parse_num(value, 0, 100000, &n) < 0)
			return 0;
		*(strcmp(name, "retention_days") == 0	? &o->retention_days
		  : strcmp(name, "escalate_minutes") == 0 ? &o->escalate_minutes
		  : strcmp(name, "stale_minutes") == 0	? &o->stale_minutes
							: &o->threads) = n;
		return 1;
	}
	const char **slot = strcmp(name, "listen") == 0	    ? &o->cfg.listen
			    : strcmp(name, "tls_cert") == 0 ? &o->cfg.tls_cert
			    : strcmp(name, "tls_key") == 0  ? &o->cfg.tls_key
			    : strcmp(name, "db") == 0	    ? &o->db
							    : NULL;
	if (!slot || o->nowned == sizeof(o->owned) / sizeof(o->owned[0]) || !(v = strdup(value)))
		return 0;
	o->owned[o->nowned++] = v;
	*slot = v;
	return 1;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'L' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "db", required_argument, NULL, 'd' },
		{ "retention-days", required_argument, NULL, 'r' },
		{ "escalate-minutes", required_argument, NULL, 'e' },
		{ "stale-minutes", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "session-idle", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'C' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "insecure-http", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts o = { .retention_days = 90, .escalate_minutes = 15,
				.stale_minutes = 60, .threads = 4, .session_idle = 30 * 60 };
	struct serve_opts cli = { .retention_days = -1, .escalate_minutes = -1,
				  .stale_minutes = -1, .threads = -1, .session_idle = -1 };
	const char *config = NULL;
	struct rstore *st = NULL;
	struct server *srv = NULL;
	sigset_t sigs;
	int c, rc = EXIT_ERR, purged = 0;
	long *num;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		num = NULL;
		switch (c) {
		case 'L': cli.cfg.listen = optarg; break;
		case 'c': cli.cfg.tls_cert = optarg; break;
		case 'k': cli.cfg.tls_key = optarg; break;
		case 'd': cli.db = optarg; break;
		case 'C': config = optarg; break;
		case 'p': cli.port_file = optarg; break;
		case 'I': cli.cfg.insecure_http = true; break;
		case 'r': num = &cli.retention_days; break;
		case 'e': num = &cli.escalate_minutes; break;
		case 's': num = &cli.stale_minutes; break;
		case 't': num = &cli.threads; break;
		case 'i':
			if (parse_idle(optarg, &cli.session_idle) < 0) {
				err("serve", "--session-idle wants whole minutes (or seconds with an "
					     "'s' suffix), not '%s'", optarg);
				return EXIT_ERR;
			}
			break;
		case 'h': fputs(serve_usage, stdout); return 0;
		default: fputs(serve_usage, stderr); return EXIT_ERR;
		}
		if (num && parse_num(optarg, c == 't' ? 1 : 0, c == 't' ? 64 : 100000, num) < 0) {
			err("serve", "--%s wants a whole number, not '%s'",
			    longopts[(c == 'r' ? 4 : c == 'e' ? 5 : c == 's' ? 6 : 7)].name, optarg);
			return EXIT_ERR;
		}
	}
	if (config) {
		int line = ini_parse(config, serve_ini, &o);
		if (line != 0) {
			err("serve", line < 0 ? "cannot read %s" : "%s: bad value on line %d", config,
			    line);
			goto out;
		}
	}
	/* The command line wins over the file. */
	o.cfg.listen = cli.cfg.listen ? cli.cfg.listen : o.cfg.listen;
	o.cfg.tls_cert = cli.cfg.tls_cert ? cli.cfg.tls_cert : o.cfg.tls_cert;
	o.cfg.tls_key = cli.cfg.tls_key ? cli.cfg.tls_key : o.cfg.tls_key;
	o.cfg.insecure_http = cli.cfg.insecure_http;
	o.db = cli.db ? cli.db : o.db;
	o.port_file = cli.port_file;
	if (cli.retention_days >= 0) o.retention_days = cli.retention_days;
	if (cli.escalate_minutes >= 0) o.escalate_minutes = cli.escalate_minutes;
	if (cli.stale_minutes >= 0) o.stale_minutes = cli.stale_minutes;
	if (cli.threads > 0) o.threads = cli.threads;
	if (cli.session_idle >= 0) o.session_idle = cli.session_idle;
	if (!o.cfg.listen || !o.db) {
		err("serve", "--listen and --db are required ('" PROG " serve --help')");
		goto out;
	}
	o.cfg.threads = (unsigned)o.threads;
	o.cfg.escalate_after = (int64_t)o.escalate_minutes * 60;
	o.cfg.stale_after = (int64_t)o.stale_minutes * 60;
	o.cfg.session_ttl = 8 * 3600;
	o.cfg.session_idle = o.session_idle;

	/* Signals are taken synchronously by this thread; the server's threads
	 * inherit the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (open_db("serve", o.db, &st) < 0)
		goto out;
	if (rstore_purge(st, (int)o.retention_days, &purged) < 0)
		err("serve", "retention purge failed: %s", rstore_errmsg(st));
	else if (purged)
		server_log("retention: purged %d closed alerts older than %ld days", purged,
			   o.retention_days);
	if (server_start(&o.cfg, st, &srv) < 0)
		goto out;
	server_log("listening on %s (port %u)%s", o.cfg.listen, srv->port,
		   o.cfg.insecure_http ? " without TLS (test mode)" : " with TLS");
	server_log("dashboard logins end after %lld s without a request (0: no idle limit) "
		   "and after %lld s in any case",
		   (long long)o.cfg.session_idle, (long long)o.cfg.session_ttl);
	if (o.port_file) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%u\n", srv->port);
		if (hw_write_atomic(o.port_file, buf, (size_t)n, 0644) < 0) {
			err("serve", "cannot write %s", o.port_file);
			goto out;
		}
	}
	sd_notify(0, "READY=1");
	time_t next_purge = time(NULL) + 86400;
	for (;;) {
		struct timespec wait = { .tv_sec = 60 };
		int sig = sigtimedwait(&sigs, NULL, &wait);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (time(NULL) < next_purge)
			continue;
		next_purge = time(NULL) + 86400;
		if (rstore_purge(st, (int)o.retention_days, &purged) < 0)
			server_log("retention purge failed: %s", rstore_errmsg(st));
		else if (purged)
			server_log("retention: purged %d closed alerts", purged);
	}
	sd_notify(0, "STOPPING=1");
	server_log("stopping");
	rc = 0;
out:
	server_stop(srv);
	if (rc == 0) {
		/* After server_stop (a clean stop only): no request is in flight. */
		struct rstore_group_stats gs;
		rstore_group_stats(st, &gs);
		if (gs.jobs)
			server_log("committed %llu alert and heartbeat deliveries in %llu transactions "
				   "(group commit; largest group %llu)",
				   (unsigned long long)gs.jobs, (unsigned long long)gs.groups,
				   (unsigned long long)gs.largest);
	}
	rstore_close(st);
	for (size_t i = 0; i < o.nowned; i++)
		free(o.owned[i]);
	return rc;
}

/* --- devices ---------------------------------------------------------- */

static int cmd_enroll(int argc, char **argv)
{
	static const char usage[] =
		"Usage: " PROG " enroll --db PATH DEVICE_ID PUBKEY_FILE\n\n"
		"Enroll a laptop: alerts and heartbeats signed with this Ed25519 key and\n"
		"naming DEVICE_ID (its asset tag) are accepted.  PUBKEY_FILE is the laptop's\n"
		"<state>/device.pub (\"ed25519 BASE64 DEVICE_ID\"; a bare base64 or hex key and\n"
		"'#' comment lines are accepted too).\n";
	struct dbopts o = { 0 };
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char named[72];
	struct rstore *st = NULL;
	int rc, i = db_start(argc, argv, "enroll", usage, 2, &o, &st, &rc), r;

	if (i < 0)
		return rc;
	if (!valid_name(argv[i])) {
		err("enroll", "a device id is 1-64 letters, digits and ._:@/+-");
		goto out;
	}
	r = intake_read_pubkey(argv[i + 1], pk, named, sizeof(named));
	if (r < 0) {
		err("enroll", "%s: %s", argv[i + 1],
		    r == -EINVAL ? "not an Ed25519 public key (base64 or hex of 32 bytes)"
				 : strerror(-r));
		goto out;
	}
	/* The scanner writes its device id after the key: a different one
	 * means the file is from another laptop, or the id was mistyped. */
	if (*named && strcmp(named, argv[i]) != 0) {
		err("enroll", "%s is the key of device '%s', not '%s'", argv[i + 1], named, argv[i]);
		goto out;
	}
	r = rstore_device_enroll(st, argv[i], pk);
	if (r == -EEXIST)
		err("enroll", "device %s is already enrolled (a revoked id stays taken; "
			      "enroll the laptop under a new id)", argv[i]);
	else if (r < 0)
		err("enroll", "cannot store: %s", rstore_errmsg(st));
	else {
		char hex[2 * sizeof(pk) + 1];
		sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
		printf("enrolled %s (key %.16s...)\n", argv[i], hex);
		rc = 0;
	}
out:
	rstore_close(st);
	return rc;
}

static int cmd_revoke(int argc, char **argv)
{
	static const char usage[] =
		"Usage: " PROG " revoke --db PATH DEVICE_ID\n\n"
		"Revoke a laptop's enrolment: its requests are refused from now on.  Alerts\n"
		"already stored stay.\n";
	struct dbopts o = { 0 };
	struct rstore *st = NULL;
	int rc, i = db_start(argc, argv, "revoke", usage, 1, &o, &st, &rc), r;

	if (i < 0)
		return rc;
	r = rstore_device_revoke(st, argv[i]);
	if (r == -ENOENT)
		err("revoke", "no enrolled, unrevoked device %s ('" PROG " devices' lists them)",
		    argv[i]);
	else if (r < 0)
		err("revoke", "%s", rstore_errmsg(st));
	else {
		printf("revoked %s\n", argv[i]);
		rc = 0;
	}
	rstore_close(st);
	return rc;
}

/* Print an array as JSON Lines. */
static void print_jsonl(json_object *arr)
{
	for (size_t k = 0; k < json_object_array_length(arr); k++)
		puts(json_object_to_json_string_ext(json_object_array_get_idx(arr, k),
						    JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *str_or(json_object *o, const char *key, const char *dflt)
{
	json_object *v = json_object_object_get(o, key);
	return v ? json_object_get_string(v) : dflt;
}

static int cmd_devices(int argc, char **argv)
{
	static const char usage[] =
		"Usage: " PROG " devices --db PATH [--json]\n\n"
		"List enrolled laptops with their last heartbeat, list versions and audit\n"
		"chain flags.  --json prints one JSON object per line.\n";
	struct dbopts o = { 0 };
	struct rstore *st = NULL;
	json_object *arr = NULL;
	int rc;

	if (db_start(argc, argv, "devices", usage, 0, &o, &st, &rc) < 0)
		return rc;
	if (rstore_devices(st, 3600, &arr) < 0) {
		err("devices", "%s", rstore_errmsg(st));
		goto out;
	}
	if (o.json) {
		print_jsonl(arr);
	} else {
		printf("%-20s %-8s %-20s %-10s %s\n", "DEVICE", "STATE", "LAST HEARTBEAT", "AUDIT SEQ",
		       "CHAIN FLAGS");
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			json_object *d = json_object_array_get_idx(arr, k);
			bool revoked = json_object_get_boolean(json_object_object_get(d, "revoked"));
			printf("%-20s %-8s %-20s %-10s %zu\n", str_or(d, "device_id", "?"),
			       revoked ? "revoked" : "enrolled", str_or(d, "last_heartbeat", "never"),
			       str_or(d, "audit_seq", "-"),
			       json_object_array_length(json_object_object_get(d, "chain_flags")));
		}
	}
	rc = 0;
out:
	json_object_put(arr);
	rstore_close(st);
	return rc;
}

static int cmd_alerts(int argc, char **argv)
{
	static const char usage[] =
		"Usage: " PROG " alerts --db PATH [--json] [--status STATUS]\n\n"
		"List stored alerts, newest first.  --json prints JSON Lines with every field,\n"
		"the time received and the triage state.  STATUS: new, acknowledged, open,\n"
		"closed, false_positive.\n";
	struct dbopts o = { 0 };
	struct rstore *st = NULL;
	json_object *arr = NULL;
	int rc, r;

	if (db_start(argc, argv, "alerts", usage, 0, &o, &st, &rc) < 0)
		return rc;
	struct rstore_filter f = { .status = o.status, .confirmed = -1, .limit = 1000000,
				   .overdue_after = 15 * 60 };
	r = rstore_alerts(st, &f, &arr);
	if (r < 0) {
		err("alerts", r == -EINVAL ? "unknown --status (see --help)" : "%s",
		    rstore_errmsg(st));
		goto out;
	}
	if (o.json) {
		print_jsonl(arr);
	} else {
		printf("%-20s %-32s %-16s %-14s %-9s %s\n", "RECEIVED", "ALERT", "DEVICE", "STATUS",
		       "CONFIRMED", "CATEGORY");
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			json_object *a = json_object_array_get_idx(arr, k);
			printf("%-20s %-32s %-16s %-14s %-9s %s\n", str_or(a, "received_at", ""),
			       str_or(a, "alert_id", ""), str_or(a, "device_id", ""),
			       str_or(a, "status", ""),
			       json_object_get_boolean(json_object_object_get(a, "confirmed")) ? "yes"
											  : "no",
			       str_or(a, "entry_category", ""));
		}
	}
	rc = 0;
out:
	json_object_put(arr);
	rstore_close(st);
	return rc;
}

static int cmd_purge(int argc, char **argv)
{
	static const char usage[] =
		"Usage: " PROG " purge --db PATH DAYS\n\n"
		"Delete alerts closed or marked false positive more than DAYS days ago, with\n"
		"their notes (the server does this at start and daily).\n";
	struct dbopts o = { 0 };
	struct rstore *st = NULL;
	long days;
	int rc, i = db_start(argc, argv, "purge", usage, 1, &o, &st, &rc), n = 0;

	if (i < 0)
		return rc;
	if (parse_num(argv[i], 0, 100000, &days) < 0) {
		err("purge", "DAYS is a whole number of days");
	} else if (rstore_purge(st, (int)days, &n) < 0) {
		err("purge", "%s", rstore_errmsg(st));
	} else {
		printf("purged %d alerts\n", n);
		rc = 0;
	}
	rstore_close(st);
	return rc;
}

/* --- staff users and tokens ------------------------------------------- */

/* Read a password: prompt twice without echo on a terminal, else one line
 * from stdin. */
static int read_password(char *buf, size_t size)
{
	char again[256];
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	int r = -EINVAL;

	if (tty) {
		if (tcgetattr(STDIN_FILENO, &old) < 0)
			return -errno;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fputs("Password: ", stderr);
	}
	if (!fgets(buf, (int)size, stdin))
		goto out;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (tty) {
		fputs("\nAgain: ", stderr);
		if (!fgets(again, sizeof(again), stdin))
			goto out;
		again[strcspn(again, "\r\n")] = '\0';
		if (strcmp(buf, again) != 0) {
			fputs("\n", stderr);
			err("user", "the passwords differ");
			goto out;
		}
		fputs("\n", stderr);
	}
	if (strlen(buf) < 10) {
		err("user", "use a password of at least 10 characters");
		goto out;
	}
	r = 0;
out:
	sodium_memzero(again, sizeof(again));
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return r;
}

/* Who runs this command, for the staff action log: "cli:" and the OS
 * user name (the uid when it has none). */
static void cli_actor(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		snprintf(buf, size, "cli:%s", pw->pw_name);
	else
		snprintf(buf, size, "cli:uid %lu", (unsigned long)geteuid());
}

/* `user disable|enable`: an exit status. */
static int user_enable(const char *db, const char *name, bool enable)
{
	const char *verb = enable ? "enabled" : "disabled";
	struct rstore *st = NULL;
	char by[96];
	int rc = EXIT_ERR, r;

	if (open_db("user", db, &st) < 0)
		return EXIT_ERR;
	cli_actor(by, sizeof(by));
	r = rstore_user_enable(st, name, enable, by);
	if (r == 0) {
		printf("%s %s%s\n", verb, name,
		       enable ? " (make new API tokens if it needs any)"
			      : "; its sessions and API tokens have ended");
		rc = 0;
	} else if (r == -EALREADY) {
		printf("%s is already %s\n", name, verb);
		rc = 0;
	} else if (r == -ENOENT) {
		err("user", "no user %s ('" PROG " user list' shows them)", name);
	} else if (r == -EPERM) {
		err("user", "%s is the last enabled admin; add or enable another admin first", name);
	} else {
		err("user", "%s", rstore_errmsg(st));
	}
	rstore_close(st);
	return rc;
}

static int cmd_user(int argc, char **argv)
{
	static const char usage[] =
		"Usage: " PROG " user add --db PATH --role responder|auditor|admin NAME\n"
		"       " PROG " user passwd --db PATH NAME\n"
		"       " PROG " user disable --db PATH NAME\n"
		"       " PROG " user enable --db PATH NAME\n"
		"       " PROG " user list --db PATH [--json]\n\n"
		"Manage the response team's dashboard logins.  The password is read from\n"
		"standard input (prompted twice on a terminal; at least 10 characters) and\n"
		"stored as an argon2id hash.  Roles: responder (triage), auditor (read-only),\n"
		"admin (triage, staff action log, clearing device flags).\n\n"
		"'disable' ends the user's sessions and API tokens at once and refuses their\n"
		"logins (a running server needs no restart); 'enable' allows logins again\n"
		"(make new API tokens).  The last enabled admin cannot be disabled.  Both are\n"
		"recorded in the staff action log as done by cli:OS-USER.\n";
	char pw[256], hash[crypto_pwhash_STRBYTES], by[96];
	struct dbopts o = { 0 };
	struct rstore *st = NULL;
	json_object *arr = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	int rc = EXIT_ERR, i, r;

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(sub, "add") && strcmp(sub, "passwd") && strcmp(sub, "list") &&
	    strcmp(sub, "disable") && strcmp(sub, "enable")) {
		fputs(usage, stderr);
		return EXIT_ERR;
	}
	i = parse_dbopts(argc - 1, argv + 1, "user", usage, &o, &rc);
	if (i < 0)
		return rc;
	i++; /* index into argv */
	if (strcmp(sub, "list") == 0) {
		if (open_db("user", o.db, &st) < 0)
			return EXIT_ERR;
		if (rstore_users(st, &arr) == 0) {
			if (o.json)
				print_jsonl(arr);
			else
				for (size_t k = 0; k < json_object_array_length(arr); k++) {
					json_object *u = json_object_array_get_idx(arr, k);
					printf("%-24s %-10s %-9s %s\n", str_or(u, "name", ""),
					       str_or(u, "role", ""),
					       json_object_get_boolean(
						       json_object_object_get(u, "disabled"))
						       ? "disabled"
						       : "enabled",
					       str_or(u, "created_at", ""));
				}
			rc = 0;
		}
		goto out;
	}
	if (argc - i != 1 || !valid_name(argv[i]) || (strcmp(sub, "add") == 0 && !o.role)) {
		fputs(usage, stderr);
		return EXIT_ERR;
	}
	if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		rc = user_enable(o.db, argv[i], strcmp(sub, "enable") == 0);
		goto out;
	}
	if (o.role && strcmp(o.role, "responder") && strcmp(o.role, "auditor") &&
	    strcmp(o.role, "admin")) {
		err("user", "--role is responder, auditor or admin");
		return EXIT_ERR;
	}
	if (read_password(pw, sizeof(pw)) < 0)
		goto out;
	r = crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE);
	sodium_memzero(pw, sizeof(pw));
	if (r != 0) {
		err("user", "out of memory hashing the password");
		goto out;
	}
	if (open_db("user", o.db, &st) < 0)
		goto out;
	cli_actor(by, sizeof(by));
	r = strcmp(sub, "add") == 0 ? rstore_user_add(st, argv[i], o.role, hash, by)
				    : rstore_user_passwd(st, argv[i], hash, by);
	if (r == -EEXIST)
		err("user", "user %s exists ('" PROG " user passwd' changes a password)", argv[i]);
	else if (r == -ENOENT)
		err("user", "no user %s", argv[i]);
	else if (r < 0)
		err("user", "%s", rstore_errmsg(st));
	else {
		printf("%s %s\n", strcmp(sub, "add") == 0 ? "added" : "changed the password of",
		       argv[i]);
		rc = 0;
	}
out:
	sodium_memzero(pw, sizeof(pw));
	json_object_put(arr);
	rstore_close(st);
	return rc;
}

static int cmd_token(int argc, char **argv)
{
	static const char usage[] =
		"Usage: " PROG " token add --db PATH [--label TEXT] USER\n\n"
		"Make an API token for a SIEM or script.  It acts as USER (with USER's role)\n"
		"on /api/ with 'Authorization: Bearer TOKEN'.  The token is printed once and\n"
		"only its hash is stored.\n";
	char secret[65], hash[65];
	struct dbopts o = { 0 };
	struct rstore *st = NULL;
	int rc = EXIT_ERR, i, r;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		fputs(usage, stderr);
		return EXIT_ERR;
	}
	i = parse_dbopts(argc - 1, argv + 1, "token", usage, &o, &rc);
	if (i < 0)
		return rc;
	i++;
	if (argc - i != 1) {
		fputs(usage, stderr);
		return EXIT_ERR;
	}
	if (open_db("token", o.db, &st) < 0)
		return EXIT_ERR;
	staff_secret(secret, hash);
	r = rstore_cred_add(st, hash, argv[i], false, NULL, 0, o.label ? o.label : "api");
	if (r == -ENOENT)
		err("token", "no user %s ('" PROG " user add' first)", argv[i]);
	else if (r == -EPERM)
		err("token", "%s is disabled ('" PROG " user enable' first)", argv[i]);
	else if (r < 0)
		err("token", "%s", rstore_errmsg(st));
	else {
		puts(secret);
		rc = 0;
	}
	sodium_memzero(secret, sizeof(secret));
	rstore_close(st);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "serve", cmd_serve, "receive alerts over HTTPS and serve the dashboard" },
	{ "enroll", cmd_enroll, "enroll a laptop's public key" },
	{ "devices", cmd_devices, "list enrolled laptops and their fleet state" },
	{ "revoke", cmd_revoke, "revoke a laptop's enrolment" },
	{ "alerts", cmd_alerts, "list stored alerts (--json: JSON Lines)" },
	{ "user", cmd_user, "add, disable, enable and list dashboard users; passwords" },
	{ "token", cmd_token, "make an API token for a SIEM" },
	{ "purge", cmd_purge, "delete closed alerts past the retention period" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " COMMAND [OPTIONS] [ARGS...]\n\n"
		   "The response team's server: signed alert intake from enrolled laptops,\n"
		   "storage, and a dashboard and API for triage.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'" PROG " COMMAND --help' describes a command; see also " PROG "(8).\n"
		   "Exit status: 0 success, 1 negative answer, 2 error.\n");
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fputs(PROG ": libsodium failed to initialise\n", stderr);
		return EXIT_ERR;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_ERR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf(PROG " %s\n", HW_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, PROG ": unknown command '%s'; '" PROG " --help' lists them\n", argv[1]);
	return EXIT_ERR;
}
