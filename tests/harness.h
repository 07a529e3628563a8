/* harness.h - what every unit test includes: cmocka plus small helpers
 * (test data location, temp folders). */
#ifndef HW_TEST_HARNESS_H
#define HW_TEST_HARNESS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Root of the shared conformance data: $HASHWATCH_TESTDATA, else
 * ../shared/testdata relative to the project root. */
static inline const char *hwt_testdata(void)
{
	const char *d = getenv("HASHWATCH_TESTDATA");
	return d && *d ? d : "../shared/testdata";
}

/* Skip the current test, saying why, when a path is missing. */
#define HWT_REQUIRE_PATH(p)                                                    \
	do {                                                                   \
		if (access((p), R_OK) != 0) {                                  \
			fprintf(stderr, "SKIP: test data %s not found\n", (p)); \
			skip();                                                \
		}                                                              \
	} while (0)

static inline void hwt_rmtree(const char *dir)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

#endif
