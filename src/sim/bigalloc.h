/* bigalloc.h — zeroed per-entity columns on huge pages.
 *
 * Why. A fleet of 10^6 clients keeps 16–60 MB of per-client columns, and a herd
 * visits the clients in random order: with 4 KiB pages nearly every visit is a TLB
 * miss as well as a cache miss, and a TLB miss is not hidden by a software prefetch
 * (the prefetch waits for the page walk). This machine's transparent huge pages are in
 * "madvise" mode, so a large column asks for them: 2 MiB alignment, MADV_HUGEPAGE,
 * then zeroed (the first touch faults in huge pages). Small columns are plain calloc.
 * Measured on bench_fleet (10^6 clients): see bench/bench_fleet.c's header.
 * Free with free(). Thread safety: as malloc.
 */
#ifndef HERD_SIM_BIGALLOC_H
#define HERD_SIM_BIGALLOC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HERD_HUGE_PAGE ((size_t)2 << 20)

/** calloc(@p n, @p size), on 2 MiB pages when it is at least one. NULL on failure. */
static inline void *herd_big_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes < HERD_HUGE_PAGE)
        return calloc(n ? n : 1, size ? size : 1);
    size_t rounded = (bytes + HERD_HUGE_PAGE - 1) & ~(HERD_HUGE_PAGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, HERD_HUGE_PAGE, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
#endif
    memset(p, 0, bytes);
    return p;
}

#endif
