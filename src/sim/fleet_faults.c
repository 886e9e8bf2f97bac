/* fleet_faults.c — the fault timeline of the fleet simulator.
 *
 * Model (scenario/fleet.h, HERD_FLEET_FAULTS). Each fault is two engine events, its start
 * at at_ns and its end at at_ns + for_ns, changing its target's state:
 *   ERRORS     each arrival fails at once with probability p (services, caches);
 *   LATENCY    service times × factor;
 *   CAPACITY   a service loses round(p·workers) workers (an unlimited one: its work takes
 *              1/(1 − p) longer); work in progress finishes; at the end the queue pumps;
 *   CRASH      down: arrivals are refused at once; what the component held is lost (its
 *              callers time out); at the end a cold restart: a service warms up from
 *              warm_start to full capacity over warmup_ns, a cache starts empty, an lb
 *              has lost every connection (its clients reconnect, refused while it is
 *              down); a coord keeps its locks and leader (a quorum outlives a member);
 *   FLUSH      a cache loses every key at the fault's start;
 *   PARTITION  attempts sent between target and peer (either way) while it lasts are
 *              lost on the wire: their callers time out;
 *   DROP       an lb closes every client connection (fleet_lb.c: over its drain window);
 *   LEADER_DEATH  a coord's leader dies; its members elect another once its lease
 *              expires (fleet_coord.c); at the end (for > 0) the member comes back.
 * Overlapping faults of one kind on one target: the later start wins and the first end
 * clears it (a scenario file that needs more composes distinct targets).
 * Cost: O(1) per fault edge, O(keys) for a cache crash. Thread safety: none.
 */
#include <herd/error.h>

#include "fleet_int.h"

#define END_BIT (UINT64_C(1) << 32)

static void ev_fault(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct fsim *fs = ctx;
    bool end = (arg & END_BIT) != 0;
    const struct herd_fleet_fault *f = &fs->m->faults[arg & 0xffffffffu];
    struct fs_comp *c = &fs->comps[f->target];
    switch (f->kind) {
    case HERD_FLEET_FAULT_ERRORS:
        c->err_p = end ? 0 : f->p;
        break;
    case HERD_FLEET_FAULT_LATENCY:
        c->lat_factor = end ? 1 : f->factor;
        break;
    case HERD_FLEET_FAULT_CAPACITY:
        c->cap_loss = end ? 0 : f->p;
        if (end && c->spec->kind == HERD_FLEET_SERVICE)
            fs_service_pump(fs, c);
        break;
    case HERD_FLEET_FAULT_CRASH:
        if (!end) {
            c->down = true;
            if (c->spec->kind == HERD_FLEET_SERVICE)
                fs_service_crash(fs, c);
            else if (c->spec->kind == HERD_FLEET_CACHE)
                fs_cache_crash(fs, c);
            else if (c->spec->kind == HERD_FLEET_LB)
                fs_lb_drop(fs, c); /* its connections die with it */
        } else {
            c->down = false;
            c->restart_ns = herd_sim_now(sim);
            if (c->spec->kind == HERD_FLEET_CACHE)
                fs_cache_flush(fs, c);
        }
        break;
    case HERD_FLEET_FAULT_FLUSH:
        if (!end && c->spec->kind == HERD_FLEET_CACHE)
            fs_cache_flush(fs, c);
        break;
    case HERD_FLEET_FAULT_PARTITION:
        if (!end) {
            if (fs->npart < HERD_FLEET_MAX_FAULTS) {
                fs->part_a[fs->npart] = f->target;
                fs->part_b[fs->npart] = f->peer;
                fs->npart++;
            }
        } else {
            for (int i = 0; i < fs->npart; i++) {
                if (fs->part_a[i] == f->target && fs->part_b[i] == f->peer) {
                    fs->part_a[i] = fs->part_a[fs->npart - 1];
                    fs->part_b[i] = fs->part_b[fs->npart - 1];
                    fs->npart--;
                    break;
                }
            }
        }
        break;
    case HERD_FLEET_FAULT_DROP:
        if (!end)
            fs_lb_drop(fs, c);
        break;
    case HERD_FLEET_FAULT_LEADER_DEATH:
        fs_coord_leader_death(fs, c, end);
        break;
    case HERD_FLEET_NFAULT_KINDS:
        break;
    }
}

void fs_faults_start(struct fsim *fs)
{
    herd_sim_name(fs->sim, ev_fault, "fleet.fault");
    for (int i = 0; i < fs->m->nfaults; i++) {
        const struct herd_fleet_fault *f = &fs->m->faults[i];
        herd_sim_at(fs->sim, f->at_ns, ev_fault, fs, (uint64_t)i, NULL);
        if (f->kind != HERD_FLEET_FAULT_FLUSH && f->kind != HERD_FLEET_FAULT_DROP &&
            (f->kind != HERD_FLEET_FAULT_LEADER_DEATH || f->for_ns > 0))
            herd_sim_at(fs->sim, f->at_ns + f->for_ns, ev_fault, fs, (uint64_t)i | END_BIT, NULL);
    }
}

double fs_capacity_share(const struct fsim *fs, const struct fs_comp *c)
{
    if (c->spec->kind != HERD_FLEET_SERVICE || c->restart_ns == INT64_MIN)
        return 1;
    const struct herd_fleet_service *s = &c->spec->u.service;
    int64_t since = herd_sim_now(fs->sim) - c->restart_ns;
    if (s->warmup_ns <= 0 || since >= s->warmup_ns)
        return 1;
    double w0 = s->warm_start > 0 && s->warm_start <= 1 ? s->warm_start : 1;
    return w0 + (1 - w0) * (double)since / (double)s->warmup_ns;
}
