/* main.c - hashwatch-uplink: options, and the event loop that drives the
 * delivery engine (uplink.c).  The loop sleeps until the kernel reports a
 * new file in the spool (inotify: IN_MOVED_TO for the scanner's renames,
 * IN_CLOSE_WRITE for files copied in), the back-off timer fires, or a
 * signal arrives: no polling.  Work is done from a deferred event, one
 * file per loop iteration, so that the watchdog is fed and SIGTERM is
 * seen between files.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "spool.h"
#include "ulog.h"
#include "upconf.h"
#include "uplink.h"

#define EXIT_DONE 0     /* --once: the spool is empty of deliverable alerts */
#define EXIT_REFUSED 1  /* --once: the receiver refused some (see rejected/) */
#define EXIT_TROUBLE 2  /* bad configuration, or alerts could not be delivered */

/* STATUS= is refreshed at least this often while a long backlog drains. */
#define STATUS_EVERY_STEPS 50
#define TIMER_ACCURACY_USEC 10000

struct loop {
	struct uplink *u;
	sd_event *ev;
	sd_event_source *work, *timer;
	unsigned steps;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hashwatch-uplink [--config FILE] [--once [--json]] [--verbose]\n"
		"       hashwatch-uplink --check-config [--config FILE]\n\n"
		"Deliver the alerts hashwatchd wrote to its spool to the response team's\n"
		"receiver over HTTPS, and send the scanner's heartbeat.  An alert file is\n"
		"deleted only after the receiver confirms it; one the receiver refuses is\n"
		"moved to spool/rejected/ with the reason.\n\n"
		"Options:\n"
		"  --config FILE   configuration (default %s)\n"
		"  --check-config  check the configuration, print what would be used, exit\n"
		"  --once          deliver what is in the spool now, then exit\n"
		"  --json          with --once: print the outcome as one JSON object\n"
		"  --verbose       also log debug messages\n"
		"  --help, --version\n\n"
		"Exit status: 0 done (with --once: nothing left to deliver), 1 with --once:\n"
		"the receiver refused some alerts (kept in spool/rejected/), 2 error\n"
		"(configuration, or alerts left in the spool because delivery failed).\n"
		"See hashwatch-uplink(8).\n",
		UPCONF_DEFAULT_PATH);
}

static void notify_status(struct loop *l, bool ready)
{
	char status[1024];
	uplink_status(l->u, status, sizeof(status));
	sd_notifyf(0, "%sSTATUS=%s", ready ? "READY=1\n" : "", status);
}

static int on_work(sd_event_source *s, void *ud)
{
	struct loop *l = ud;
	uint64_t delay = 0;
	enum uplink_state st = uplink_step(l->u, &delay);

	if (++l->steps % STATUS_EVERY_STEPS == 0)
		notify_status(l, false);
	if (st == UPLINK_BUSY)
		return 0;
	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	if (st == UPLINK_WAIT) {
		/* From the clock, not sd_event_now(): that is the time this loop
		 * iteration began, before the request, and counting from it
		 * would come back earlier than Retry-After asked. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		int r = sd_event_source_set_time(l->timer, now + delay);
		if (r == 0)
			r = sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
		if (r < 0) {
			ulog_error("cannot arm the retry timer: %s", strerror(-r));
			return sd_event_exit(l->ev, EXIT_TROUBLE);
		}
	}
	notify_status(l, false);
	return 0;
}

static void kick(struct loop *l)
{
	if (!uplink_waiting(l->u))
		sd_event_source_set_enabled(l->work, SD_EVENT_ON);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct loop *l = ud;
	(void)s;
	(void)usec;
	uplink_retry(l->u);
	kick(l);
	return 0;
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *ud)
{
	struct loop *l = ud;
	(void)s;

	if (ev->mask & IN_Q_OVERFLOW) {
		/* Events were lost: read the whole folder again. */
		ulog_notice("inotify queue overflow: reading the spool again");
		uplink_want_scan(l->u);
		uplink_want_heartbeat(l->u);
	} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		ulog_error("the spool folder was removed or moved away; exiting so that "
			   "systemd restarts hashwatch-uplink on the new one");
		return sd_event_exit(l->ev, EXIT_TROUBLE);
	} else if (ev->len) {
		switch (spool_classify(ev->name)) {
		case SPOOL_ALERT:
			uplink_want_scan(l->u);
			break;
		case SPOOL_HEARTBEAT:
			uplink_want_heartbeat(l->u);
			break;
		case SPOOL_OTHER:
			return 0; /* temp files, rejected/, ... */
		}
	}
	kick(l);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct loop *l = ud;
	(void)s;
	ulog_info("signal %u: stopping", si->ssi_signo);
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(l->ev, EXIT_DONE);
}

static int run_loop(const struct upconf *cfg, struct uplink *u)
{
	struct loop l = { .u = u };
	sigset_t mask;
	int r, code = EXIT_TROUBLE;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = sd_event_default(&l.ev)) < 0 ||
	    (r = sd_event_add_signal(l.ev, NULL, SIGTERM, on_signal, &l)) < 0 ||
	    (r = sd_event_add_signal(l.ev, NULL, SIGINT, on_signal, &l)) < 0 ||
	    (r = sd_event_add_inotify(l.ev, NULL, cfg->spool_dir,
				      IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF |
					      IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW,
				      on_inotify, &l)) < 0 ||
	    /* The timer may fire up to 10 ms late (shared wake-ups), never
	     * early: Retry-After stays honoured. */
	    (r = sd_event_add_time_relative(l.ev, &l.timer, CLOCK_MONOTONIC, UINT64_MAX / 2,
					    TIMER_ACCURACY_USEC, on_timer, &l)) < 0 ||
	    (r = sd_event_source_set_enabled(l.timer, SD_EVENT_OFF)) < 0 ||
	    (r = sd_event_add_defer(l.ev, &l.work, on_work, &l)) < 0 ||
	    /* A defer source starts as ONESHOT; the engine's first steps
	     * (read the spool, send the heartbeat) need it to stay on. */
	    (r = sd_event_source_set_enabled(l.work, SD_EVENT_ON)) < 0 ||
	    (r = sd_event_set_watchdog(l.ev, true)) < 0)
		goto fail;
	notify_status(&l, true);
	ulog_info("delivering from %s to %s", cfg->spool_dir, cfg->url);
	r = sd_event_loop(l.ev);
	code = r < 0 ? EXIT_TROUBLE : r;
	if (r < 0)
		ulog_error("event loop failed: %s", strerror(-r));
	goto out;
fail:
	ulog_error("cannot set up the event loop: %s", strerror(-r));
out:
	sd_event_source_unref(l.work);
	sd_event_source_unref(l.timer);
	sd_event_unref(l.ev);
	return code;
}

static int run_once(struct uplink *u, bool json)
{
	const struct uplink_stats *s = uplink_stats(u);
	uint64_t delay = 0;
	enum uplink_state st;
	char status[1024];

	while ((st = uplink_step(u, &delay)) == UPLINK_BUSY)
		;
	int code = st == UPLINK_WAIT ? EXIT_TROUBLE : s->rejected ? EXIT_REFUSED : EXIT_DONE;
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "delivered", json_object_new_int64((int64_t)s->delivered));
		json_object_object_add(o, "rejected", json_object_new_int64((int64_t)s->rejected));
		json_object_object_add(o, "remaining", json_object_new_int64((int64_t)s->depth));
		json_object_object_add(o, "heartbeats", json_object_new_int64((int64_t)s->heartbeats));
		json_object_object_add(o, "error", s->last_error[0]
							   ? json_object_new_string(s->last_error)
							   : NULL);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		uplink_status(u, status, sizeof(status));
		printf("%s\n", status);
	}
	return code;
}

static int check_config(const struct upconf *cfg)
{
	int code = EXIT_DONE;

	printf("configuration %s is valid\n"
	       "  receiver   %s (TLS verified against %s%s)\n"
	       "  spool      %s\n"
	       "  own state  %s (audit log %s)\n"
	       "  retries    %u s doubling up to %u s, with jitter; timeout %u s\n",
	       cfg->path, cfg->url, cfg->ca_file ? cfg->ca_file : "the system CA store",
	       cfg->pin ? ", public key pinned" : "", cfg->spool_dir, cfg->uplink_state_dir,
	       UPLINK_AUDIT_NAME, cfg->retry_min_s, cfg->retry_max_s, cfg->timeout_s);
	if (cfg->ca_file && access(cfg->ca_file, R_OK) < 0) {
		fprintf(stderr, "hashwatch-uplink: [uplink] ca_file = %s: %s\n", cfg->ca_file,
			strerror(errno));
		code = EXIT_TROUBLE;
	}
	if (access(cfg->spool_dir, R_OK | W_OK | X_OK) < 0)
		fprintf(stderr, "hashwatch-uplink: warning: spool %s: %s (hashwatchd creates it; "
				"the uplink needs to read and delete files in it)\n",
			cfg->spool_dir, strerror(errno));
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = UPCONF_DEFAULT_PATH;
	bool check = false, once = false, json = false, verbose = false;
	struct upconf *cfg = NULL;
	struct uplink *u = NULL;
	char err[1024];
	int c, code = EXIT_TROUBLE;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'o':
			once = true;
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_DONE;
		case 'V':
			printf("hashwatch-uplink %s\n", HW_VERSION);
			return EXIT_DONE;
		default:
			usage(stderr);
			return EXIT_TROUBLE;
		}
	}
	if (optind < argc || (json && !once)) {
		fprintf(stderr, "hashwatch-uplink: %s; see --help\n",
			optind < argc ? "unexpected argument" : "--json goes with --once");
		return EXIT_TROUBLE;
	}
	ulog_setup(false, verbose);
	/* A receiver that closes the connection must be an error to handle,
	 * not a signal that ends the process. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "hashwatch-uplink: cannot initialise libcurl\n");
		return EXIT_TROUBLE;
	}
	if (upconf_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "hashwatch-uplink: %s\n", err);
		goto out;
	}
	if (check) {
		code = check_config(cfg);
		goto out;
	}
	if (uplink_new(cfg, &u, err, sizeof(err)) < 0) {
		ulog_error("%s", err);
		goto out;
	}
	code = once ? run_once(u, json) : run_loop(cfg, u);
out:
	uplink_free(u);
	upconf_free(cfg);
	curl_global_cleanup();
	return code;
}
