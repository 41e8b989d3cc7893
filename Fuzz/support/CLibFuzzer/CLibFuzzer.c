// The declaration in include/ is the whole module; libFuzzer itself is linked by -sanitize=fuzzer.
