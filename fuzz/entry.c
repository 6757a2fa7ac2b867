/* entry.c -- libFuzzer entry point; FUZZ_FN names the target (see Makefile). */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return FUZZ_FN(data, size);
}
