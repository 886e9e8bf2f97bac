/* list.h — the one list of scenarios.
 *
 * Adding a herd: its own files (src/scenario/<name>.{h,c}, and src/live/<name>.c and/or
 * src/sim/model_<name>.c) plus one include and one X line here. Everything else follows:
 * the scenario id, its backends mask, its member of the config union, the catalogue's
 * order, each backend's table (which backend runs it: the LIVE/SIM columns, decided here
 * and nowhere else) and the build (meson.build reads the X lines to find the files).
 *
 * X(name, NAME, live, sim): name is the file stem and the config member; live is LIVE or
 * NOLIVE, sim SIM or NOSIM. Keep one X(...) per line: meson.build parses them.
 */
#ifndef HERD_SCENARIO_LIST_H
#define HERD_SCENARIO_LIST_H

#include "accept.h"
#include "backoff_occ.h"
#include "cache.h"
#include "condvar.h"
#include "cron.h"
#include "file.h" /* the fleet row's config: struct herd_fleet_config */
#include "lock.h"
#include "queue.h"
#include "zklock.h"

#define HERD_SCENARIO_LIST(X)                                                               \
    X(accept, ACCEPT, LIVE, SIM)                                                            \
    X(condvar, CONDVAR, LIVE, SIM)                                                          \
    X(cache, CACHE, LIVE, SIM)                                                              \
    X(cron, CRON, LIVE, SIM)                                                                \
    X(queue, QUEUE, NOLIVE, SIM)                                                            \
    X(backoff_occ, BACKOFF_OCC, NOLIVE, SIM)                                                \
    X(fleet, FLEET, NOLIVE, SIM)                                                            \
    X(lock, LOCK, LIVE, NOSIM)                                                              \
    X(zklock, ZKLOCK, LIVE, NOSIM)

/* The columns as switches: HERD__IF_LIVE(text) is text, HERD__IF_NOLIVE(text) nothing. */
#define HERD__IF_LIVE(...) __VA_ARGS__
#define HERD__IF_NOLIVE(...)
#define HERD__IF_SIM(...) __VA_ARGS__
#define HERD__IF_NOSIM(...)

#endif
