/* replay.c - runs a fuzz target's corpus without libFuzzer, so that `make
 * check` (plain and under ASan+UBSan, with gcc) replays every seed and every
 * saved crash reproducer through the same LLVMFuzzerTestOneInput the fuzzer
 * calls.  Usage: replay_NAME FILE|DIR...; each file is one input.  Exit 0
 * when every input ran (a bug aborts, or the sanitizer reports and exits
 * non-zero), 2 when an input could not be read. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are not seeds; libFuzzer's own default -max_len
 * for a seeded run is far below it. */
#define REPLAY_MAX_INPUT (16u << 20)

static int replay_file(const char *path, unsigned *count)
{
	void *buf = NULL;
	size_t len = 0;
	int r = hw_read_file(path, REPLAY_MAX_INPUT, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
		return r;
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*count)++;
	return 0;
}

/* Files of one folder in name order (repeatable runs), not recursive. */
static int replay_dir(const char *dir, unsigned *count)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	int r = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (r == 0 && ents[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			r = replay_file(path, count);
		free(ents[i]);
	}
	free(ents);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: %s FILE|DIR...\nRuns each input through the fuzz target once.\n",
			argv[0]);
		return argc < 2 ? 2 : 0;
	}
	if (LLVMFuzzerInitialize && LLVMFuzzerInitialize(&argc, &argv) != 0) {
		fprintf(stderr, "replay: the target's initialisation failed\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int r;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		r = S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) : replay_file(argv[i], &count);
		if (r < 0)
			return 2;
	}
	printf("replayed %u inputs\n", count);
	return 0;
}
