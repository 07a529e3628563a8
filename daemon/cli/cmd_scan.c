/* cmd_scan.c - placeholder until `hashwatch scan` lands. */
#include "cli.h"

int cmd_scan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("scan", "not implemented yet");
	return CLI_ERROR;
}
