#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include <dlfcn.h>
#include <libwebsockets.h>

static inline size_t ic_lws_pre(void) { return LWS_PRE; }

/* The file libwebsockets was loaded from (its event-loop plugins sit next to it), or NULL. */
static inline const char *ic_lws_library_path(void) {
    Dl_info info;
    return dladdr((const void *)lws_create_context, &info) ? info.dli_fname : NULL;
}
