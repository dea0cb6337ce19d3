/* The CHECK harness of the C core's unit tests: every CHECK counts one pass
 * or one failure (printed with its place); main.c owns the counters. */
#ifndef NX_TEST_HARNESS_H
#define NX_TEST_HARNESS_H

#include <stdio.h>

extern int passed, failed;
#define CHECK(cond, ...)                                      \
  do {                                                        \
    if (cond) passed++;                                       \
    else {                                                    \
      failed++;                                               \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
      fprintf(stderr, __VA_ARGS__);                           \
      fprintf(stderr, "\n");                                  \
    }                                                         \
  } while (0)

#endif
