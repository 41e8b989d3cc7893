// libFuzzer's entry for programs that keep their own main (https://llvm.org/docs/LibFuzzer.html#using-libfuzzer-as-a-library):
// Swift package executables always have one, so each fuzz target's main.swift hands its callback to this.
#ifndef GATEHOUSE_CLIBFUZZER_H
#define GATEHOUSE_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

/// Starts (1) or stops (0) counting the bytes malloc hands out; starting resets the count.
void gatehouse_count_allocations(int on);
/// The bytes allocated since counting started.
size_t gatehouse_allocated_bytes(void);
#endif
