/* cli.h - the `hashwatch` command-line tool: one function per subcommand.
 *
 * Exit codes are shared by all subcommands so that scripts can rely on
 * them: 0 success (for scan/verify: nothing found / acceptable), 1 a
 * negative answer (scan: a match; verify: refused; hash: some file could
 * not be hashed), 2 usage or operational error.
 */
#ifndef HW_CLI_H
#define HW_CLI_H

#define CLI_OK 0
#define CLI_NEGATIVE 1
#define CLI_ERROR 2

int cmd_hash(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* Print "hashwatch SUBCMD: " and the formatted message to stderr. */
void cli_error(const char *subcmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
