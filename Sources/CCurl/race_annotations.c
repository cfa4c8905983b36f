/*
 * Happens-before edges that race detectors cannot see by themselves.
 *
 * Some values are published lock-free, with C11/Swift atomics (acquire and
 * release): ProcessLocal's compare-and-swap, which must not take a lock a
 * forked child could inherit held. helgrind and DRD see only pthread
 * synchronisation, so a thread reading what another published that way
 * looks like a race, and whether it is reported depends on the timing of
 * the run: `make check-helgrind` would be flaky. These tell them about the
 * edge the atomics already make. Outside valgrind, or built without its
 * headers, they do nothing (a few instructions).
 */
#include "CCurl.h"

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#endif
#endif
#ifndef ANNOTATE_HAPPENS_BEFORE
#define ANNOTATE_HAPPENS_BEFORE(object) ((void)(object))
#define ANNOTATE_HAPPENS_AFTER(object) ((void)(object))
#endif

void ccurl_annotate_happens_before(const void *object) {
    ANNOTATE_HAPPENS_BEFORE(object);
}

void ccurl_annotate_happens_after(const void *object) {
    ANNOTATE_HAPPENS_AFTER(object);
}
