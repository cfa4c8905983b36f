/* The C test programs' assertion: counts and reports, never aborts, so one
 * run shows every failure. Each program ends with
 * printf("%d passed, %d failed\n", passed, failed). */
#ifndef KASKO_TESTING_H
#define KASKO_TESTING_H

#include <stdio.h>

static int passed;
static int failed;

#define CHECK(condition, ...)                                                    \
    do {                                                                         \
        if (condition) {                                                         \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #condition); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
        }                                                                        \
    } while (0)

#endif
