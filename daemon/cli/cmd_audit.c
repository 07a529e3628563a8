/* cmd_audit.c - placeholder until `hashwatch audit` lands. */
#include "cli.h"

int cmd_audit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("audit", "not implemented yet");
	return CLI_ERROR;
}
