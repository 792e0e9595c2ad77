#include <libwebsockets.h>

static inline size_t ic_lws_pre(void) { return LWS_PRE; }
