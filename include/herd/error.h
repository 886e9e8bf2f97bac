/* herd/error.h — error codes shared by every libherd module.
 *
 * Functions that do something return int: 0 on success or a negative HERD_E* code.
 * When a system call failed, the negated errno is returned instead, so one
 * herd_strerror() covers both. The table is one X-macro so the codes, their names
 * and their messages can never drift apart (libuv's UV_ERRNO_MAP idea).
 * Thread safety: everything here is pure.
 *
 * The contract for arguments, the same in every module (tests/unit/test_contract.c calls
 * every public function with NULL and zeroed arguments):
 *   1. A NULL config means the module's defaults where its header defines them
 *      (herd_X_defaults / herd_X_config_default: breaker, budget (its AWS model), hedge,
 *      limiter, singleflight, swr, throttle); where there is no sensible default (a
 *      backoff policy, a rate limiter's rate) a NULL config is -HERD_EINVAL.
 *   2. A constructor (_new, _init) given a NULL out or object pointer, or a config field
 *      out of its documented range (a zeroed config included, where zero is not that
 *      field's default), returns -HERD_EINVAL and writes nothing. Never an assertion:
 *      configs come from users' files and flags, and under -DNDEBUG an assertion is no
 *      check at all.
 *   3. _free(NULL) and _fini(NULL) do nothing; a _defaults(NULL) does nothing.
 *   4. Any other call given a NULL out pointer or an argument outside its documented range
 *      returns -HERD_EINVAL when it returns int and writes nothing; a call returning void
 *      does nothing; a call returning a value documents the value it gives: a NULL key
 *      is the empty key, a NULL rng means no randomness (no jitter, no early refresh), a
 *      decision that has no rng or nowhere to write its permit fails closed (rejects,
 *      takes nothing).
 *   5. The object a call works on (its first argument) must come from a successful
 *      constructor and not be freed, and a ticket, permit or token given back to a module
 *      must be one it handed out: those, and the order of calls a module documents
 *      (release once per grant), are preconditions, asserted (STYLE: misuse of the API is
 *      an assertion). They are the only ones.
 */
#ifndef HERD_ERROR_H
#define HERD_ERROR_H

/* Codes start at 10000 so they never collide with an errno value. */
#define HERD_ERRNO_MAP(X)                                                                   \
    X(EGIVEUP, 10001, "gave up: attempts or deadline spent")                              \
    X(EREJECT, 10002, "rejected by policy")                                               \
    X(ETIMEDOUT, 10003, "timed out waiting")                                              \
    X(ECANCELED, 10004, "canceled")                                                       \
    X(ESHED, 10005, "shed: too many waiters")                                             \
    X(EBUSY, 10006, "busy: another caller holds it")                                      \
    X(ENOMEM, 10007, "out of memory")                                                     \
    X(EINVAL, 10008, "invalid argument")                                                  \
    X(ELEADER, 10009, "the leader failed; its result is an error")                        \
    X(ENOENT, 10010, "no such entry")                                                     \
    X(ELIMIT, 10011, "over a machine limit")                                              \
    X(EINTR, 10012, "interrupted")

enum herd_error {
#define HERD__ERR_ENUM(name, value, msg) HERD_##name = value,
    HERD_ERRNO_MAP(HERD__ERR_ENUM)
#undef HERD__ERR_ENUM
};

/** A message for @p code: a negative HERD_E* value, a negated errno, or 0. Never NULL. */
const char *herd_strerror(int code);

/** The symbolic name ("HERD_ESHED", "ECONNREFUSED"...) of @p code. Never NULL. */
const char *herd_errname(int code);

#endif
