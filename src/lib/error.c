/* error.c — herd_strerror() and herd_errname() from the one table in herd/error.h. */
#include <herd/error.h>

#include <string.h>

const char *herd_strerror(int code)
{
    if (code == 0)
        return "success";
    switch (-code) {
#define HERD__ERR_MSG(name, value, msg)                                                     \
    case value:                                                                             \
        return msg;
        HERD_ERRNO_MAP(HERD__ERR_MSG)
#undef HERD__ERR_MSG
    default:
        break;
    }
    if (code < 0 && -code < 4096)
        return strerror(-code);
    return "unknown error";
}

const char *herd_errname(int code)
{
    if (code == 0)
        return "OK";
    switch (-code) {
#define HERD__ERR_NAME(name, value, msg)                                                    \
    case value:                                                                             \
        return "HERD_" #name;
        HERD_ERRNO_MAP(HERD__ERR_NAME)
#undef HERD__ERR_NAME
    default:
        break;
    }
    return code < 0 && -code < 4096 ? "errno" : "unknown";
}
