/* test_contract.c — herd/error.h's contract for arguments, module by module.
 *
 * Every public function of libherd is called with NULL and zeroed arguments, and what it
 * does is what the contract says: a NULL config is the defaults where the module has them
 * (else -HERD_EINVAL), a constructor's NULL out or out-of-range field is -HERD_EINVAL with
 * nothing written, _free(NULL) and _fini(NULL) do nothing, a NULL out pointer or a value
 * out of range is -HERD_EINVAL (or nothing, or the documented value), never a crash in
 * any build. Only the object a call works on (and a ticket it handed out) must be valid,
 * and that is not called with NULL here.
 */
#include <criterion/criterion.h>

#include <herd/backoff.h>
#include <herd/breaker.h>
#include <herd/budget.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <herd/hedge.h>
#include <herd/hotkeys.h>
#include <herd/jitter.h>
#include <herd/limiter.h>
#include <herd/ratelimit.h>
#include <herd/rng.h>
#include <herd/singleflight.h>
#include <herd/swr.h>
#include <herd/throttle.h>
#include <herd/xfetch.h>
#include <math.h>
#include <string.h>

/* A pointer that must not be written: its target stays as set. */
#define UNTOUCHED ((void *)0x1)

TestSuite(contract, .timeout = 10);

/* The constructor contract of a module whose zeroed config is every field's default:
 * a NULL out is refused; a zeroed config and a NULL one both give an object (in @p obj). */
#define ZERO_IS_DEFAULT(new_fn, free_fn, cfg_type, obj)                                            \
    do {                                                                                           \
        cfg_type zero_ = {0};                                                                      \
        cr_assert_eq(new_fn(NULL, NULL), -HERD_EINVAL);                                            \
        cr_assert_eq(new_fn(&zero_, &(obj)), 0, "zeroed config: every field's default");           \
        free_fn(obj);                                                                              \
        cr_assert_eq(new_fn(NULL, &(obj)), 0, "NULL config: the defaults");                        \
    } while (0)

Test(contract, backoff)
{
    struct herd_backoff b;
    struct herd_backoff_policy zero = {0}, bad = {.base_ns = -1};
    struct herd_rng rng;
    int64_t wait = 42;
    herd_rng_seed(&rng, 1);
    /* No default policy: NULL is refused, as is an inconsistent one; zeroed is valid. */
    cr_assert_eq(herd_backoff_init(NULL, &zero, 0), -HERD_EINVAL);
    cr_assert_eq(herd_backoff_init(&b, NULL, 0), -HERD_EINVAL);
    cr_assert_eq(herd_backoff_init(&b, &bad, 0), -HERD_EINVAL);
    cr_assert_eq(herd_backoff_init(&b, &zero, 0), 0);
    cr_assert_eq(herd_backoff_next(&b, NULL, 0, HERD_BACKOFF_FAILED, 0, &wait), -HERD_EINVAL);
    cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_backoff_next(&b, &rng, 0, (enum herd_backoff_signal)7, 0, &wait),
                 -HERD_EINVAL);
    cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, -5, &wait), -HERD_EINVAL);
    cr_assert_eq(wait, 42, "written on a refusal");
    cr_assert_eq(herd_backoff_next(&b, &rng, 0, HERD_BACKOFF_FAILED, 0, &wait), 0);
    cr_assert_eq(herd_backoff_deadline(&b), INT64_MAX);
    cr_assert_not_null(herd_backoff_kind_name((enum herd_backoff_kind)99));
}

Test(contract, breaker)
{
    struct herd_breaker *b = UNTOUCHED;
    struct herd_breaker_config zero = {0};
    struct herd_breaker_permit permit;
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    herd_breaker_config_default(NULL);
    cr_assert_eq(herd_breaker_new(NULL, NULL), -HERD_EINVAL);
    int rc = herd_breaker_new(&zero, &b);
    cr_assert(rc == 0 || rc == -HERD_EINVAL, "zeroed config: %d", rc);
    if (rc == 0)
        herd_breaker_free(b);
    else
        cr_assert_eq(b, UNTOUCHED);
    cr_assert_eq(herd_breaker_new(NULL, &b), 0, "NULL config: the defaults");
    /* A decision that cannot hand out its permit fails closed. */
    cr_assert_neq(herd_breaker_allow(b, 0, NULL, &permit), HERD_BREAKER_GO);
    cr_assert_neq(herd_breaker_allow(b, 0, &rng, NULL), HERD_BREAKER_GO);
    cr_assert_eq(herd_breaker_allow(b, 0, &rng, &permit), HERD_BREAKER_GO);
    herd_breaker_record(b, &permit, HERD_BREAKER_SUCCESS, 0, 0);
    herd_breaker_stats(b, 0, NULL);
    cr_assert_eq(herd_breaker_state(b), HERD_BREAKER_CLOSED);
    herd_breaker_isolate(b, 0);
    herd_breaker_force_close(b, 0);
    herd_breaker_reset(b, 0);
    cr_assert_not_null(herd_breaker_state_name((enum herd_breaker_state)99));
    cr_assert_not_null(herd_breaker_verdict_name((enum herd_breaker_verdict)99));
    herd_breaker_free(b);
    herd_breaker_free(NULL);
}

Test(contract, budget)
{
    struct herd_budget *b = UNTOUCHED;
    struct herd_budget_config zero = {0}, bad;
    struct herd_budget_ticket t = {0};
    herd_budget_defaults(NULL, HERD_BUDGET_AWS);
    herd_budget_defaults(&bad, HERD_BUDGET_GRPC);
    bad.grpc.max_tokens = 0;
    cr_assert_eq(herd_budget_new(NULL, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_budget_new(&bad, 0, &b), -HERD_EINVAL);
    cr_assert_eq(b, UNTOUCHED);
    cr_assert_eq(herd_budget_new(&zero, 0, &b), 0, "a zeroed AWS budget: no tokens");
    herd_budget_free(b);
    cr_assert_eq(herd_budget_new(NULL, 0, &b), 0, "NULL config: AWS's defaults");
    herd_budget_begin(b, 0);
    herd_budget_record(b, (enum herd_budget_outcome)99, 0);
    herd_budget_record(b, HERD_BUDGET_SUCCESS, 0);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_budget_decide(b, (enum herd_budget_kind)99, 0, &t), -HERD_EINVAL);
    cr_assert_eq(herd_budget_decide(b, HERD_BUDGET_RETRY, 0, &t), HERD_BUDGET_GO);
    herd_budget_release(b, NULL, HERD_BUDGET_SUCCESS, 0);
    herd_budget_release(b, &t, (enum herd_budget_outcome)99, 0);
    herd_budget_release(b, &t, HERD_BUDGET_SUCCESS, 0);
    herd_budget_end(b, 0);
    herd_budget_stats(b, 0, NULL);
    cr_assert_not_null(herd_budget_model_name((enum herd_budget_model)99));
    cr_assert_not_null(herd_budget_reason_name(-1));
    herd_budget_free(b);
    herd_budget_free(NULL);
}

Test(contract, hedge)
{
    struct herd_hedge *h = UNTOUCHED;
    struct herd_hedge_config zero = {0};
    struct herd_budget_ticket t = {0};
    herd_hedge_defaults(NULL);
    cr_assert_eq(herd_hedge_new(NULL, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_hedge_new(&zero, &h), -HERD_EINVAL, "window 0 and max_hedges 0");
    cr_assert_eq(h, UNTOUCHED);
    cr_assert_eq(herd_hedge_new(NULL, &h), 0, "NULL config: the defaults");
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, INT64_MAX / 2, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_hedge_decide(h, true, 0, 0, INT64_MAX / 2, &t), HERD_HEDGE_GO);
    herd_hedge_done(h, NULL, HERD_BUDGET_SUCCESS, 0);
    herd_hedge_done(h, &t, HERD_BUDGET_SUCCESS, 0);
    herd_hedge_record(h, 0);
    herd_hedge_record(h, -1);
    cr_assert_geq(herd_hedge_delay(h), 0);
    cr_assert_geq(herd_hedge_due(h, 0, 0), 0);
    herd_hedge_set_enabled(h, false);
    herd_hedge_stats(h, NULL);
    cr_assert_not_null(herd_hedge_reason_name(-1));
    herd_hedge_free(h);
    herd_hedge_free(NULL);
}

Test(contract, jitter_and_rng)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 0);
    herd_rng_stream(&rng, 0, 0);
    cr_assert_eq(herd_jitter_pct(1000, 10.0, NULL), 1000, "no rng: no jitter");
    int64_t j = herd_jitter_pct(1000, 1000.0, &rng); /* clamped to 100 % */
    cr_assert(j >= 0 && j <= 2000, "%lld", (long long)j);
    cr_assert_eq(herd_jitter_pct(1000, NAN, &rng), 1000);
    cr_assert_eq(herd_jitter_pct(0, 0.0, &rng), 0);
    cr_assert_eq(herd_jitter_window(1000, NULL), 0);
    cr_assert_eq(herd_jitter_window(-5, &rng), 0);
    cr_assert_eq(herd_jitter_window(0, &rng), 0);
    cr_assert_eq(herd_jitter_splay(NULL, 10, 1000, 0), herd_jitter_splay("", 0, 1000, 0));
    cr_assert_eq(herd_jitter_splay(NULL, 0, -1, 0), 0);
    cr_assert_eq(herd_jitter_next_fire(5, 0, 0), INT64_MAX, "no period: never");
    cr_assert_eq(herd_jitter_next_fire(5, 10, 13), 13, "offset modulo the period");
    cr_assert_eq(herd_jitter_next_fire(5, 10, -7), 13);
    cr_assert_eq(herd_rng_below(&rng, 0), 0);
    int64_t r = herd_rng_range(&rng, 9, 3);
    cr_assert(r >= 3 && r <= 9, "%lld", (long long)r);
    cr_assert_eq(herd_rng_range(&rng, 0, 0), 0);
    cr_assert_eq(herd_hash_bytes(NULL, 16), herd_hash_bytes("", 0));
    (void)herd_rng_u64(&rng);
    cr_assert(herd_rng_uniform(&rng) < 1.0);
    cr_assert(herd_rng_uniform_pos(&rng) > 0.0);
    cr_assert(isfinite(herd_rng_exp(&rng, 0.0)));
    cr_assert(isfinite(herd_rng_normal(&rng, 0.0, 0.0)));
    cr_assert(isfinite(herd_rng_exp_fast(&rng, 0.0)));
    cr_assert(isfinite(herd_rng_normal_fast(&rng, 0.0, 0.0)));
    (void)herd_hash64(0);
    cr_assert_eq(herd_rng_seed_secure(&rng), 0);
    cr_assert_not_null(herd_strerror(0));
    cr_assert_not_null(herd_strerror(-99999));
    cr_assert_not_null(herd_errname(0));
    cr_assert_gt(herd_clock_monotonic_ns(), 0);
    cr_assert_gt(herd_clock_realtime_ns(), 0);
}

Test(contract, limiter)
{
    struct herd_limiter l;
    struct herd_limiter_config zero = {0};
    struct herd_limiter_token tok;
    cr_assert_eq(herd_limiter_init(NULL, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_limiter_init(&l, &zero), 0, "zeroed config: every field's default");
    herd_limiter_fini(&l);
    cr_assert_eq(herd_limiter_init(&l, NULL), 0, "NULL config: the defaults");
    cr_assert_eq(herd_limiter_acquire(&l, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_limiter_inflight(&l), 0, "a refused acquire took nothing");
    cr_assert_eq(herd_limiter_acquire(&l, 0, &tok), 0);
    herd_limiter_release(&l, &tok, HERD_LIMITER_SUCCESS, 0);
    cr_assert_gt(herd_limiter_limit(&l), 0);
    herd_limiter_stats(&l, NULL);
    herd_limiter_fini(&l);
    herd_limiter_fini(NULL);
}

Test(contract, ratelimit)
{
    struct herd_ratelimit rl;
    struct herd_ratelimit_config zero = {0}, ok = {.rate = 10, .burst = 5};
    struct herd_ratelimit_reservation res;
    struct herd_ratelimit_table *t = UNTOUCHED;
    struct herd_ratelimit_table_config tzero = {0}, tok = {.bucket = ok};
    int64_t retry = 42;
    /* A rate has no default: NULL and zeroed configs are refused. */
    cr_assert_eq(herd_ratelimit_init(NULL, &ok, 0), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_init(&rl, NULL, 0), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_init(&rl, &zero, 0), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_init(&rl, &ok, 0), 0);
    cr_assert_eq(herd_ratelimit_take(&rl, 0, 0, &retry), -HERD_EINVAL);
    cr_assert_eq(retry, 42, "written on a refusal");
    cr_assert_eq(herd_ratelimit_take(&rl, 1, 0, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_reserve(&rl, 1, 0, 0, NULL, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_reserve(&rl, 0, 0, 0, &res, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_reserve(&rl, 1, 0, -1, &res, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_cancel(&rl, NULL, 0), 0);
    cr_assert_eq(herd_ratelimit_tokens(&rl, 0), 4);
    (void)herd_ratelimit_level(&rl, 0);
    herd_ratelimit_stats(&rl, NULL);
    herd_ratelimit_fini(&rl);
    herd_ratelimit_fini(NULL);

    cr_assert_eq(herd_ratelimit_table_new(NULL, &t), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_table_new(&tok, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_table_new(&tzero, &t), -HERD_EINVAL);
    cr_assert_eq(t, UNTOUCHED);
    cr_assert_eq(herd_ratelimit_table_new(&tok, &t), 0);
    cr_assert_eq(herd_ratelimit_table_take(t, NULL, 3, 1, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_table_take(t, "k", 1, 0, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_ratelimit_table_take(t, NULL, 0, 1, 0, NULL), HERD_RATELIMIT_GO);
    cr_assert_eq(herd_ratelimit_table_tokens(t, NULL, 3, 0), 4, "NULL: the empty key");
    cr_assert_eq(herd_ratelimit_table_count(t), 1);
    (void)herd_ratelimit_table_expire(t, 0);
    cr_assert_gt(herd_ratelimit_table_idle_ns(t), 0);
    herd_ratelimit_table_stats(t, NULL);
    herd_ratelimit_table_free(t);
    herd_ratelimit_table_free(NULL);
}

Test(contract, singleflight_and_xfetch)
{
    struct herd_singleflight *sf = UNTOUCHED;
    struct herd_singleflight_ticket t, j;
    struct herd_singleflight_result res;
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    ZERO_IS_DEFAULT(herd_singleflight_new, herd_singleflight_free, struct herd_singleflight_config,
                    sf);
    cr_assert_eq(herd_singleflight_begin(sf, "k", 1, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_singleflight_begin(sf, NULL, 4, 0, &t), -HERD_EINVAL);
    cr_assert_eq(herd_singleflight_join(sf, "k", 1, 0, 0, NULL, &res), -HERD_EINVAL);
    cr_assert_eq(herd_singleflight_join(sf, "k", 1, 0, 0, &t, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_singleflight_forget(sf, NULL, 2), -HERD_EINVAL);
    cr_assert_eq(herd_singleflight_begin(sf, NULL, 0, 0, &t), HERD_SINGLEFLIGHT_LEADER);
    cr_assert_eq(herd_singleflight_begin(sf, NULL, 0, 0, &j), HERD_SINGLEFLIGHT_JOINED);
    cr_assert_not(herd_singleflight_poll(sf, &j, NULL));
    cr_assert_eq(herd_singleflight_wait(sf, &j, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_singleflight_waiting(sf, &t), 1);
    cr_assert_not(herd_singleflight_cancelled(sf, &t));
    cr_assert_eq(herd_singleflight_complete(sf, &t, NULL, 5, 0), -HERD_EINVAL);
    cr_assert_eq(herd_singleflight_complete(sf, &t, NULL, 0, 3), -HERD_EINVAL, "error > 0");
    cr_assert_eq(herd_singleflight_complete(sf, &t, NULL, 0, 0), 0);
    cr_assert(herd_singleflight_poll(sf, &j, &res));
    herd_singleflight_release(sf, &j);
    cr_assert_eq(herd_singleflight_begin(sf, "x", 1, 0, &t), HERD_SINGLEFLIGHT_LEADER);
    herd_singleflight_cancel(sf, &t);
    herd_singleflight_abandon(sf, &t);
    herd_singleflight_stats(sf, NULL);

    struct herd_xfetch_key k = {0};
    herd_xfetch_key_store(NULL, 0, 0, 0);
    herd_xfetch_key_store(&k, 5, 0, 100);
    cr_assert_eq(k.delta_ns, 0, "a negative span is 0");
    cr_assert_not(herd_xfetch_should_refresh(0, 100, 50, 1.0, NULL), "no rng: no early refresh");
    cr_assert(herd_xfetch_should_refresh(100, 100, 50, 1.0, NULL), "expired: refresh");
    cr_assert_not(herd_xfetch_key_should_refresh(&k, 0, 0.0, &rng));
    cr_assert_eq(herd_xfetch_probability(0, 0, 0.0), 1.0);
    cr_assert_eq(herd_xfetch_begin(sf, "k", 1, 0, 100, 50, 1.0, &rng, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_xfetch_begin(sf, "k", 1, 0, 100, 50, 1.0, NULL, &t), HERD_XFETCH_SERVE);
    herd_singleflight_free(sf);
    herd_singleflight_free(NULL);
}

Test(contract, swr)
{
    struct herd_swr *c = UNTOUCHED;
    char buf[8];
    ZERO_IS_DEFAULT(herd_swr_new, herd_swr_free, struct herd_swr_config, c);
    cr_assert_eq(herd_swr_set(c, NULL, 3, "v", 1, 0, NULL, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_swr_set(c, "k", 1, NULL, 3, 0, NULL, 0, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_swr_get(c, NULL, 3, 0, buf, sizeof buf, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_swr_get(c, "k", 1, 0, NULL, 8, NULL), -HERD_EINVAL);
    cr_assert_eq(herd_swr_refresh_failed(c, NULL, 3, 0), -HERD_EINVAL);
    cr_assert_eq(herd_swr_mark_expired(c, NULL, 3, 0), -HERD_EINVAL);
    cr_assert_eq(herd_swr_delete(c, NULL, 3), -HERD_EINVAL);
    struct herd_swr_ttl ttl = {.ttl_ns = 100};
    cr_assert_eq(herd_swr_set(c, NULL, 0, NULL, 0, 0, &ttl, 0, NULL), 0, "the empty key");
    cr_assert_eq(herd_swr_get(c, NULL, 0, 0, NULL, 0, NULL), HERD_SWR_HIT);
    cr_assert_eq(herd_swr_delete(c, NULL, 0), 0);
    herd_swr_stats(c, NULL);
    herd_swr_free(c);
    herd_swr_free(NULL);
}

Test(contract, throttle)
{
    struct herd_throttle *t = UNTOUCHED;
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    ZERO_IS_DEFAULT(herd_throttle_new, herd_throttle_free, struct herd_throttle_config, t);
    cr_assert_eq(herd_throttle_allow(t, 0, NULL), HERD_THROTTLE_REJECT_THROTTLED,
                 "no rng: fails closed");
    cr_assert_eq(herd_throttle_allow(t, 0, &rng), HERD_THROTTLE_GO);
    herd_throttle_record(t, 0, true);
    herd_throttle_stats(t, 0, NULL);
    cr_assert_eq(herd_throttle_probability(0, 0, 0), 0.0);
    cr_assert_not_null(herd_throttle_verdict_name((enum herd_throttle_verdict)99));
    herd_throttle_free(t);
    herd_throttle_free(NULL);
}

Test(contract, hotkeys)
{
    struct herd_hotkeys *h = UNTOUCHED;
    struct herd_hotkeys_config big = {.counters = HERD_HOTKEYS_COUNTERS_MAX + 1};
    struct herd_hotkey top[2];
    size_t n = 42;
    ZERO_IS_DEFAULT(herd_hotkeys_new, herd_hotkeys_free, struct herd_hotkeys_config, h);
    struct herd_hotkeys *keep = h;
    h = UNTOUCHED;
    cr_assert_eq(herd_hotkeys_new(&big, &h), -HERD_EINVAL);
    cr_assert_eq(h, UNTOUCHED);
    h = keep;
    cr_assert_eq(herd_hotkeys_secret_random(NULL), -HERD_EINVAL);
    cr_assert_eq(herd_hotkeys_bytes(HERD_HOTKEYS_COUNTERS_MAX + 1), 0);
    /* A NULL key is the empty key; a NULL secret the zero key; weight 0 is nothing. */
    cr_assert_eq(herd_hotkeys_fingerprint(h, NULL, 5), herd_hotkeys_fingerprint(h, "", 0));
    cr_assert_eq(herd_siphash24(NULL, NULL, 3), herd_siphash24(NULL, "", 0));
    herd_hotkeys_add(h, NULL, 7, 1);
    herd_hotkeys_add(h, "k", 1, 0);
    herd_hotkeys_add_fp(h, 1, 0);
    cr_assert_eq(herd_hotkeys_total(h), 1);
    cr_assert(herd_hotkeys_estimate(h, herd_hotkeys_fingerprint(h, NULL, 0), NULL));
    cr_assert_eq(herd_hotkeys_top(h, 2, NULL, &n), -HERD_EINVAL);
    cr_assert_eq(herd_hotkeys_top(h, 2, top, NULL), -HERD_EINVAL);
    cr_assert_eq(n, 42, "written on a refusal");
    cr_assert_eq(herd_hotkeys_top(h, 0, NULL, &n), 0);
    cr_assert_eq(n, 0);
    herd_hotkeys_clear(NULL);
    herd_hotkeys_free(h);
    herd_hotkeys_free(NULL);
}
