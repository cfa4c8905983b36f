/* The event hook's per-thread depth (CCurl.h). A C11 thread-local: Swift
 * has none, and a pthread key would cost a lookup per call. */
#include "CCurl.h"

static _Thread_local int event_hook_depth;

int ccurl_event_hook_depth(void) {
    return event_hook_depth;
}

void ccurl_event_hook_enter(void) {
    event_hook_depth += 1;
}

void ccurl_event_hook_leave(void) {
    if (event_hook_depth > 0) event_hook_depth -= 1;
}
