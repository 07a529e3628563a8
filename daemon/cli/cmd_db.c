/* cmd_db.c - placeholder until `hashwatch db` lands. */
#include "cli.h"

int cmd_db(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("db", "not implemented yet");
	return CLI_ERROR;
}
