/* herd/error.h — error codes shared by every libherd module.
 *
 * Functions that do something return int: 0 on success or a negative HERD_E* code.
 * When a system call failed, the negated errno is returned instead, so one
 * herd_strerror() covers both. The table is one X-macro so the codes, their names
 * and their messages can never drift apart (libuv's UV_ERRNO_MAP idea).
 * Thread safety: everything here is pure.
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
