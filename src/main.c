/* main.c — the flywheel binary: a table of subcommands {name, fn, help}. */
#include "flywheel/cmd.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"demo", fw_cmd_demo, "generate a sample SaaS company and start the server on it"},
	{"serve", fw_cmd_serve, "run the ingest server and read API"},
	{"import", fw_cmd_import, "load Segment-spec JSON lines (.gz accepted) into a data directory"},
	{"query", fw_cmd_query, "read events, people, accounts and warnings (local or --url)"},
	{"report", fw_cmd_report, "the PLG metrics as tables: current, target, trend (local or --url)"},
	{"check", fw_cmd_check, "validate the configuration file, with line-numbered errors"},
	{"usage", fw_cmd_usage, "usage per account, meter and billing period, for invoicing (local or --url)"},
	{"webhooks", fw_cmd_webhooks, "webhook deliveries of a running server: list, show, replay, test"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: flywheel COMMAND [options]\n\n"
		     "Flywheel is a self-hosted product-led growth engine: it collects product events\n"
		     "from the analytics SDKs you already use and keeps them durably.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nRun `flywheel COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
	/* Queries allocate and free large column arrays over and over: keep
	 * them in the heap rather than mapping (and zeroing) fresh pages for
	 * each one. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("flywheel 0.1.0\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "flywheel: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 2;
}
