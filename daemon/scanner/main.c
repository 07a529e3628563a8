/* main.c - hashwatchd's command line: run the daemon, check a
 * configuration, or (internally) be a worker process. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "daemon.h"
#include "lists.h"
#include "log.h"
#include "proto.h"
#include "worker.h"

static void help(void)
{
	printf("Usage: hashwatchd [OPTIONS]\n\n"
	       "The hashwatch scanning daemon: watches the configured folders, hashes new\n"
	       "and changed images in sandboxed worker processes, matches them against the\n"
	       "signed hash lists and writes a signed alert for each match to the spool.\n"
	       "It is meant to run under systemd (Type=notify); see hashwatchd(8).\n\n"
	       "  -c, --config FILE   configuration file (default %s)\n"
	       "  -f, --foreground    log to standard error instead of the journal\n"
	       "      --check-config  check the configuration, the trusted keys and the\n"
	       "                      lists, print what would be used, and exit\n"
	       "      --json          with --check-config: print the result as JSON\n"
	       "  -v, --verbose       also log debug messages\n"
	       "      --version       print the version and exit\n"
	       "  -h, --help          this text\n\n"
	       "Signals: SIGHUP reloads the configuration and the lists (a bad\n"
	       "configuration is refused and the running one kept); SIGTERM stops.\n"
	       "Exit status: 0 stopped cleanly or configuration OK; 1 (--check-config)\n"
	       "the configuration is valid but the daemon would refuse to start (no usable\n"
	       "list or key); 2 error (bad configuration, cannot start).\n",
	       CONFIG_DEFAULT_PATH);
}

/* A worker option: digits only, as pool.c writes them. */
static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void check_report(void *ud, const struct list_report *rep)
{
	json_object *arr = ud;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(rep->path));
	json_object_object_add(o, "usable", json_object_new_boolean(rep->outcome != LIST_REFUSED));
	if (rep->outcome == LIST_REFUSED) {
		json_object_object_add(o, "reason", json_object_new_string(rep->reason));
	} else {
		json_object_object_add(o, "list_id", json_object_new_string(hwdb_list_id(rep->db)));
		json_object_object_add(o, "version", json_object_new_uint64(hwdb_version(rep->db)));
		json_object_object_add(o, "entries", json_object_new_uint64(hwdb_entry_count(rep->db)));
	}
	json_object_array_add(arr, o);
}

/* --check-config: 0 all good, 1 config fine but unusable lists/keys, 2
 * bad configuration. */
static int check_config(const char *path, bool json)
{
	struct config *cfg = NULL;
	struct list_set ls = { 0 };
	struct roots roots = { 0 };
	json_object *out = json_object_new_object(), *lists = json_object_new_array();
	char err[2048] = "", lerr[2048] = "";
	int r, rc;

	r = config_load(path, &cfg, err, sizeof(err));
	json_object_object_add(out, "config", json_object_new_string(path));
	json_object_object_add(out, "valid", json_object_new_boolean(r == 0));
	if (r < 0) {
		json_object_object_add(out, "error", json_object_new_string(err));
		rc = 2;
		goto print;
	}
	json_object_object_add(out, "digest", json_object_new_string(cfg->digest_hex));
	roots_expand(cfg->watch, cfg->nwatch, &roots);
	json_object *ra = json_object_new_array();
	for (size_t i = 0; i < roots.nroot; i++)
		json_object_array_add(ra, json_object_new_string(roots.root[i]));
	json_object_object_add(out, "watched_folders", ra);
	/* opening checks the rollback state but records nothing: only the
	 * daemon accepts versions */
	r = lists_load(cfg, NULL, &ls, check_report, lists, lerr, sizeof(lerr));
	json_object_object_add(out, "lists", lists);
	lists = NULL;
	if (r < 0)
		json_object_object_add(out, "lists_error", json_object_new_string(lerr));
	rc = r < 0 ? 1 : 0;
print:
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (rc == 2) {
		fprintf(stderr, "hashwatchd: configuration refused: %s\n", err);
	} else {
		json_object *v;
		printf("configuration %s is valid (SHA-256 %s)\n", path, cfg->digest_hex);
		printf("watched folders now: %zu", roots.nroot);
		for (size_t i = 0; i < roots.nroot; i++)
			printf("%s%s", i ? ", " : " (", roots.root[i]);
		printf("%s\n", roots.nroot ? ")" : "");
		json_object_object_get_ex(out, "lists", &v);
		for (size_t i = 0; v && i < json_object_array_length(v); i++) {
			json_object *o = json_object_array_get_idx(v, i), *x, *y;
			json_object_object_get_ex(o, "path", &x);
			if (json_object_object_get_ex(o, "reason", &y))
				printf("list %s: REFUSED: %s\n", json_object_get_string(x),
				       json_object_get_string(y));
			else
				printf("list %s: usable\n", json_object_get_string(x));
		}
		if (rc == 1)
			printf("the daemon would refuse to start: %s\n", lerr);
	}
	lists_free(&ls);
	roots_free(&roots);
	config_free(cfg);
	json_object_put(lists);
	json_object_put(out);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		/* internal: how the daemon starts its workers (pool.c) */
		{ "worker", no_argument, NULL, 'W' },
		{ "worker-memory", required_argument, NULL, 'M' },
		{ "worker-cpu", required_argument, NULL, 'U' },
		{ "worker-opencv", no_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = CONFIG_DEFAULT_PATH;
	bool foreground = false, check = false, json = false, verbose = false;
	bool worker = false;
	struct worker_opts wo = { 0 };
	struct config *cfg = NULL;
	char err[2048];
	int c, r;

	while ((c = getopt_long(argc, argv, "c:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'C':
			check = true;
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			printf("hashwatchd %s\n", HW_VERSION);
			return 0;
		case 'h':
			help();
			return 0;
		case 'W':
			worker = true;
			break;
		case 'M':
		case 'U':
			if (parse_u64(optarg, c == 'M' ? &wo.memory : &wo.cpu_s) < 0) {
				fprintf(stderr, "hashwatchd: bad worker limit '%s'\n", optarg);
				return 2;
			}
			break;
		case 'O':
			wo.opencv = true;
			break;
		default:
			fprintf(stderr, "hashwatchd: 'hashwatchd --help' lists the options\n");
			return 2;
		}
	}
	if (worker) /* started by the daemon itself; see worker.h */
		return worker_run(argv[0], PROTO_WORKER_FD, &wo);
	if (optind < argc) {
		fprintf(stderr, "hashwatchd: unexpected argument '%s'; 'hashwatchd --help' "
			"lists the options\n", argv[optind]);
		return 2;
	}
	if (check)
		return check_config(config_path, json);
	log_setup(foreground, verbose);
	r = config_load(config_path, &cfg, err, sizeof(err));
	if (r < 0) {
		log_full(LOG_ERR, MSGID_CONFIG_BAD, NULL, NULL,
			 "refusing to start: configuration refused: %s", err);
		return 2;
	}
	return daemon_run(config_path, cfg);
}
