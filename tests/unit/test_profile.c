/* test_profile.c — the calibration profile survives a write and a read; bad files are
 * refused with a reason and leave the defaults. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/scenario/profile.h"

Test(profile, round_trip)
{
    struct herd_profile p, q;
    char path[] = "/tmp/herd-profile-test-XXXXXX", err[256];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    herd_profile_defaults(&p);
    p.wasted_wake_ns = 12345.5;
    p.cores = 7;
    cr_assert_eq(herd_profile_write(f, &p), 0);
    fclose(f);
    cr_assert_eq(herd_profile_read(path, &q, err, sizeof err), 0, "%s", err);
    cr_assert_float_eq(q.wasted_wake_ns, 12345.5, 1e-6);
    cr_assert_eq(q.cores, 7);
    cr_assert_float_eq(q.origin_query_ns, p.origin_query_ns, 1e-6);
    unlink(path);
}

Test(profile, bad_files)
{
    struct herd_profile q;
    char path[] = "/tmp/herd-profile-test-XXXXXX", err[256];
    cr_assert_eq(herd_profile_read("/nonexistent/profile.json", &q, err, sizeof err), -ENOENT);
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("{\"wasted_wake_ns\": \"fast\"}", f);
    fclose(f);
    cr_assert_lt(herd_profile_read(path, &q, err, sizeof err), 0);
    cr_assert(strstr(err, "wasted_wake_ns"), "%s", err);
    struct herd_profile d;
    herd_profile_defaults(&d);
    cr_assert_float_eq(q.wasted_wake_ns, d.wasted_wake_ns, 0, "defaults kept");
    f = fopen(path, "w");
    fputs("not json", f);
    fclose(f);
    cr_assert_lt(herd_profile_read(path, &q, err, sizeof err), 0);
    unlink(path);
}

Test(profile, default_path_honours_environment)
{
    char buf[512];
    setenv("HERD_PROFILE", "/x/y.json", 1);
    herd_profile_default_path(buf, sizeof buf);
    cr_assert_str_eq(buf, "/x/y.json");
    unsetenv("HERD_PROFILE");
    setenv("XDG_CONFIG_HOME", "/cfg", 1);
    herd_profile_default_path(buf, sizeof buf);
    cr_assert_str_eq(buf, "/cfg/herd/profile.json");
}
