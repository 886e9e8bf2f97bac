/* torture.h — an allocator for the unit tests' allocation-failure walks: it fails its
 * fail_at-th call (1-based; 0 never) and counts the blocks alive, so a test can fail each
 * allocation in turn and check that nothing leaks. Use it as
 *     struct torture t = {0, fail_at, 0};
 *     struct herd_allocator a = {torture_realloc, &t};
 */
#ifndef HERD_TESTS_TORTURE_H
#define HERD_TESTS_TORTURE_H

#include <stdlib.h>

struct torture {
    int calls, fail_at, live;
};

static inline void *torture_realloc(void *ctx, void *p, size_t size)
{
    struct torture *t = ctx;
    if (size == 0) {
        if (p)
            t->live--;
        free(p);
        return NULL;
    }
    if (++t->calls == t->fail_at)
        return NULL;
    void *q = realloc(p, size);
    if (q && !p)
        t->live++;
    return q;
}

#endif
