/*
 * test.h — a tiny unit-test harness. Each test file defines TEST(name) functions;
 * tests/unit/main.c runs every registered test and ends with the line
 * "N passed, N failed" that CI reads.
 */
#ifndef FW_TEST_H
#define FW_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>

struct fw_test {
	const char *name;
	void (*fn)(void);
	struct fw_test *next;
};
void fw_test_register(struct fw_test *t);
extern int fw_test_failures; /* failures in the running test */

#define TEST(name)                                                         \
	static void test_##name(void);                                     \
	static struct fw_test test_reg_##name = {#name, test_##name, 0};   \
	__attribute__((constructor)) static void test_ctor_##name(void)    \
	{                                                                  \
		fw_test_register(&test_reg_##name);                        \
	}                                                                  \
	static void test_##name(void)

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                               \
			fw_test_failures++;                                     \
		}                                                               \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                       \
	do {                                                                     \
		long long _a = (long long)(a), _b = (long long)(b);              \
		if (_a != _b) {                                                  \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", \
				__FILE__, __LINE__, #a, _a, #b, _b);             \
			fw_test_failures++;                                      \
		}                                                                \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                       \
	do {                                                                     \
		const char *_a = (a), *_b = (b);                                 \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                         \
			fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, _a ? _a : "(null)",      \
				_b ? _b : "(null)");                             \
			fw_test_failures++;                                      \
		}                                                                \
	} while (0)

/* A fresh empty temporary directory for the running test (removed at exit). */
const char *fw_test_tmpdir(void);

#endif
