// What the harnesses need besides libFuzzer's driver: a count of the bytes allocated while a parser
// runs (through AddressSanitizer's allocator hooks), for the promise that no input allocates more
// than a fixed multiple of its size.
#include "CLibFuzzer.h"

int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static size_t allocated;
static int counting;
static int installed;

static void on_malloc(const volatile void *pointer, size_t size) {
    (void)pointer;
    if (counting) allocated += size;
}

static void on_free(const volatile void *pointer) { (void)pointer; }

void gatehouse_count_allocations(int on) {
    if (!installed) {
        __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
        installed = 1;
    }
    if (on) allocated = 0;
    counting = on;
}

size_t gatehouse_allocated_bytes(void) { return allocated; }
