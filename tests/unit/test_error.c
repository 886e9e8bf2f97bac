/* test_error.c — one table, every code named and described. */
#include <criterion/criterion.h>
#include <errno.h>
#include <herd/error.h>
#include <string.h>

Test(error, every_code_has_a_message_and_name)
{
#define CHECK(name, value, msg)                                                             \
    cr_assert_str_eq(herd_strerror(-HERD_##name), msg);                                     \
    cr_assert_str_eq(herd_errname(-HERD_##name), "HERD_" #name);
    HERD_ERRNO_MAP(CHECK)
#undef CHECK
}

Test(error, errno_values_pass_through)
{
    cr_assert_str_eq(herd_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
    cr_assert_str_eq(herd_strerror(0), "success");
    cr_assert_str_eq(herd_strerror(-999999), "unknown error");
}
