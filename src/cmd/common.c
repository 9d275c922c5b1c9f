/* common.c — option parsing shared by the subcommands. */
#include "flywheel/cmd.h"

#include <stdlib.h>
#include <string.h>

int fw_cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int fw_cmd_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] == 0 && *i + 1 < argc) {
		*value = argv[++*i];
		return 1;
	}
	return 0;
}

const char *fw_cmd_default_data(void)
{
	const char *d = getenv("FLYWHEEL_DATA");
	return d && *d ? d : "./flywheel-data";
}
