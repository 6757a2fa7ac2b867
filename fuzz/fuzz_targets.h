/* fuzz_targets.h -- see fuzz_targets.c. */
#ifndef STRATA_FUZZ_TARGETS_H
#define STRATA_FUZZ_TARGETS_H
#include "internal.h"
#include <stddef.h>
#include <stdint.h>

int fuzz_migfile(const uint8_t *data, size_t size);
int fuzz_sqlsplit(const uint8_t *data, size_t size);
int fuzz_url(const uint8_t *data, size_t size);
int fuzz_env(const uint8_t *data, size_t size);
int fuzz_copyvalue(const uint8_t *data, size_t size);
int fuzz_copyexpr(const uint8_t *data, size_t size);

#endif
