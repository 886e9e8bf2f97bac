/* herd/alloc.h — the one allocation hook of libherd.
 *
 * Every libherd object that allocates does so at init time only, through a
 * struct herd_allocator given in its config (NULL: the C library's realloc/free).
 * One function does everything, as lua_Alloc does: realloc(ctx, ptr, size) returns
 * the new block, NULL on failure, and frees @p ptr when @p size is 0. A test can
 * pass an allocator that fails the N-th call and check that init fails cleanly
 * with -HERD_ENOMEM and leaks nothing (curl's torture mode idea).
 * Hot paths (take, join, get, decide) never allocate.
 */
#ifndef HERD_ALLOC_H
#define HERD_ALLOC_H

#include <stddef.h>

struct herd_allocator {
    /** Resize @p ptr to @p size bytes (malloc when ptr is NULL, free when size is 0). */
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void *ctx;
};

#endif
