/* main.c - `hashwatch`: dispatch to subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "hash", cmd_hash, "print perceptual hashes and digests of image files" },
	{ "scan", cmd_scan, "one-shot scan of files and folders against a signed list" },
	{ "db", cmd_db, "build, sign, verify and inspect hash lists (.hwdb)" },
	{ "audit", cmd_audit, "verify and read the tamper-evident scan log" },
};

void cli_error(const char *subcmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hashwatch %s: ", subcmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hashwatch COMMAND [OPTIONS] [ARGS...]\n\n"
		   "Known-image matching for school laptops: hash images, manage signed\n"
		   "hash lists, scan folders, audit what the scanner did.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-6s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'hashwatch COMMAND --help' describes a command; see also hashwatch(1).\n"
		   "Exit status: 0 success, 1 negative answer (match found, list refused,\n"
		   "file not hashed), 2 error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("hashwatch %s\n", HW_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "hashwatch: unknown command '%s'; 'hashwatch --help' lists them\n",
		argv[1]);
	return CLI_ERROR;
}
