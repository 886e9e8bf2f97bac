/* alloc_int.h — libherd's private allocation helpers over struct herd_allocator.
 * A NULL allocator means the C library. Cost: one indirect call per allocation,
 * which happens only at init. */
#ifndef HERD_LIB_ALLOC_INT_H
#define HERD_LIB_ALLOC_INT_H

#include <herd/alloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void *herd__realloc(const struct herd_allocator *a, void *p, size_t size)
{
    if (a && a->realloc)
        return a->realloc(a->ctx, p, size);
    if (size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, size);
}

static inline void *herd__alloc(const struct herd_allocator *a, size_t size)
{
    return herd__realloc(a, NULL, size ? size : 1);
}

/** Zeroed array of @p n elements of @p size, NULL on overflow or failure. */
static inline void *herd__calloc(const struct herd_allocator *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    void *p = herd__alloc(a, bytes);
    if (p && bytes > 0)
        memset(p, 0, bytes);
    return p;
}

static inline void herd__free(const struct herd_allocator *a, void *p)
{
    if (p)
        herd__realloc(a, p, 0);
}

#endif
