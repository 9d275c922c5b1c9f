/* main.c — runs every TEST registered by the linked test files.
 * Usage: unit [SUBSTRING]   (run only tests whose name contains SUBSTRING) */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static struct fw_test *tests, **tail = &tests;
int fw_test_failures;
static char tmp_root[256];
static int tmp_count;

void fw_test_register(struct fw_test *t)
{
	*tail = t;
	tail = &t->next;
}

const char *fw_test_tmpdir(void)
{
	static char path[300];
	if (!tmp_root[0]) {
		snprintf(tmp_root, sizeof tmp_root, "/tmp/fw-unit-XXXXXX");
		if (!mkdtemp(tmp_root)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	snprintf(path, sizeof path, "%s/t%d", tmp_root, ++tmp_count);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
	if (system(cmd) != 0)
		exit(2);
	return path;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	for (struct fw_test *t = tests; t; t = t->next) {
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		fw_test_failures = 0;
		t->fn();
		if (fw_test_failures) {
			failed++;
			printf("not ok - %s\n", t->name);
		} else {
			passed++;
			printf("ok - %s\n", t->name);
		}
		fflush(stdout);
	}
	if (tmp_root[0] && !getenv("FW_KEEP_TMP")) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp_root);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
