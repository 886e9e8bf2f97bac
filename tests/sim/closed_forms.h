/* closed_forms.h — queueing closed forms the simulator tests hold their runs against.
 * Header-only, for tests. */
#ifndef HERD_TESTS_SIM_CLOSED_FORMS_H
#define HERD_TESTS_SIM_CLOSED_FORMS_H

/* Erlang C: the probability that an arrival waits in M/M/c at offered load a = λ/μ
 * (a < c). */
static inline double erlang_c(int c, double a)
{
    double term = 1, sum = 1; /* a^k / k!, k = 0 */
    for (int k = 1; k < c; k++) {
        term *= a / k;
        sum += term;
    }
    double last = term * a / c / (1 - a / c); /* a^c / c! / (1 - rho) */
    return last / (sum + last);
}

#endif
