/* sim_int.h — what a simulation model provides to the front door (sim.c). */
#ifndef HERD_SIM_INT_H
#define HERD_SIM_INT_H

#include "engine.h"
#include "sim.h"

struct herd_sim_model {
    /**
     * Simulate @p spec into @p r (already initialised, backend "sim"), with the
     * front end's @p hooks (may be NULL) attached to its engine. Set
     * r->sim_time_ns to the simulated time of the last event. @return 0 or a negative
     * code with one line in @p err.
     */
    int (*run)(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen);
    /** Optional: refuse @p spec before anything runs (one line in @p err). @return 0 or
     *  -HERD_EINVAL. */
    int (*check)(const struct herd_run_spec *spec, char *err, size_t errlen);
    /** Optional: the most memory a run of @p spec may take, in bytes, sized from its
     *  parameters before anything is allocated (an upper estimate), with what drives it
     *  in @p why (one phrase; "" when nothing in particular). NULL: the simulator's
     *  per-waiter estimate (sim.c), right for models whose memory follows n. */
    int64_t (*bytes)(const struct herd_run_spec *spec, char *why, size_t whylen);
};

/* The models: src/sim/model_<name>.c for every scenario with the SIM column (list.h). */
#define HERD__SIM_MODEL_DECL(name, NAME, live, sim)                                          \
    HERD__IF_##sim(extern const struct herd_sim_model herd__sim_##name;)
HERD_SCENARIO_LIST(HERD__SIM_MODEL_DECL)
#undef HERD__SIM_MODEL_DECL

#endif
