/*
 * A client's event hook slot (CCurl.h): at most one hook, set, replaced and
 * cleared while calls deliver to it, and safe across fork().
 *
 * A mutex and a condition variable, not a rwlock: a child process forked
 * while other threads were inside hooks must not wait for them (they do not
 * exist there), and a rwlock's readers cannot be counted again afterwards.
 * Here every delivery is counted under the mutex, in the parity of the slot's
 * epoch when it began; a set bumps the epoch and waits only for the count of
 * the epoch it closed, so deliveries that begin meanwhile (to the new hook)
 * never make it wait longer, and a sleeping hook delays only its own call
 * and a concurrent set, never another thread's delivery.
 *
 * fork(): a prepare handler takes the registry of slots and every slot's
 * mutex, so the child inherits each slot in a consistent state; the child's
 * handler makes the mutexes and condition variables anew (other threads may
 * have been waiting on them) and counts again what the slot has in the
 * child: no set waiting, and no delivery running except the forking
 * thread's own, when fork() was called from inside a hook. The parent's
 * handler just lets go.
 *
 * The one thing read without the mutex is `is_set`, a hint for the fast
 * path of a call (is there a hook at all?): a call that reads it stale
 * either measures for nothing or delivers nothing, both allowed while a set
 * runs; which hook runs, and when the old one is done, is decided under the
 * mutex. helgrind is told not to check that one int (it would see a plain
 * store and load); the mutex and condition variable it sees as usual.
 */
#include "CCurl.h"

#include <pthread.h>
#include <stdlib.h>

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#endif
#endif
#ifndef VALGRIND_HG_DISABLE_CHECKING
#define VALGRIND_HG_DISABLE_CHECKING(start, length) ((void)(start), (void)(length))
#endif

struct ccurl_hook_slot {
    int is_set;                /* hook != NULL, written under the mutex; see above */
    pthread_mutex_t lock;
    pthread_cond_t changed;    /* a delivery of a closed epoch ended, or a set finished */
    void *hook;
    unsigned long epoch;       /* bumped by every set */
    long active[2];            /* deliveries running, by the parity of their epoch */
    int setting;               /* a set is waiting for the epoch it closed */
    struct ccurl_hook_slot *previous, *next; /* the registry, for fork() */
};

/* The slot this thread is delivering from (NULL: not inside a hook), and
 * the parity of that delivery's epoch. */
static _Thread_local ccurl_hook_slot *inside_slot;
static _Thread_local unsigned inside_parity;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ccurl_hook_slot *registry;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void before_fork(void) {
    pthread_mutex_lock(&registry_lock);
    for (ccurl_hook_slot *slot = registry; slot != NULL; slot = slot->next) pthread_mutex_lock(&slot->lock);
}

static void after_fork_in_parent(void) {
    for (ccurl_hook_slot *slot = registry; slot != NULL; slot = slot->next) pthread_mutex_unlock(&slot->lock);
    pthread_mutex_unlock(&registry_lock);
}

/* The child's only thread took every lock in before_fork, under another
 * thread id, and threads that do not exist here may be counted as waiting
 * on the condition variables: all made anew. */
static void after_fork_in_child(void) {
    for (ccurl_hook_slot *slot = registry; slot != NULL; slot = slot->next) {
        pthread_mutex_init(&slot->lock, NULL);
        pthread_cond_init(&slot->changed, NULL);
        slot->active[0] = 0;
        slot->active[1] = 0;
        if (inside_slot == slot) slot->active[inside_parity] = 1;
        slot->setting = 0;
    }
    pthread_mutex_init(&registry_lock, NULL);
}

static void register_handlers(void) {
    (void)pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

ccurl_hook_slot *ccurl_hook_slot_new(void) {
    (void)pthread_once(&handlers_once, register_handlers);
    ccurl_hook_slot *slot = calloc(1, sizeof *slot);
    if (slot == NULL) return NULL;
    if (pthread_mutex_init(&slot->lock, NULL) != 0) {
        free(slot);
        return NULL;
    }
    if (pthread_cond_init(&slot->changed, NULL) != 0) {
        pthread_mutex_destroy(&slot->lock);
        free(slot);
        return NULL;
    }
    VALGRIND_HG_DISABLE_CHECKING(&slot->is_set, sizeof slot->is_set);
    pthread_mutex_lock(&registry_lock);
    slot->next = registry;
    if (registry != NULL) registry->previous = slot;
    registry = slot;
    pthread_mutex_unlock(&registry_lock);
    return slot;
}

void *ccurl_hook_slot_free(ccurl_hook_slot *slot) {
    if (slot == NULL) return NULL;
    pthread_mutex_lock(&registry_lock);
    if (slot->previous != NULL) slot->previous->next = slot->next;
    else registry = slot->next;
    if (slot->next != NULL) slot->next->previous = slot->previous;
    pthread_mutex_unlock(&registry_lock);
    void *hook = slot->hook;
    pthread_cond_destroy(&slot->changed);
    pthread_mutex_destroy(&slot->lock);
    free(slot);
    return hook;
}

int ccurl_hook_slot_observing(const ccurl_hook_slot *slot) {
    return slot != NULL && __atomic_load_n(&slot->is_set, __ATOMIC_RELAXED) && inside_slot == NULL;
}

void *ccurl_hook_slot_begin(ccurl_hook_slot *slot) {
    if (slot == NULL || inside_slot != NULL) return NULL;
    pthread_mutex_lock(&slot->lock);
    void *hook = slot->hook;
    if (hook != NULL) {
        unsigned parity = (unsigned)(slot->epoch & 1);
        slot->active[parity] += 1;
        inside_slot = slot;
        inside_parity = parity;
    }
    pthread_mutex_unlock(&slot->lock);
    return hook;
}

void ccurl_hook_slot_end(ccurl_hook_slot *slot) {
    if (slot == NULL || inside_slot != slot) return;
    pthread_mutex_lock(&slot->lock);
    slot->active[inside_parity] -= 1;
    if (slot->active[inside_parity] == 0 && slot->setting) pthread_cond_broadcast(&slot->changed);
    inside_slot = NULL;
    pthread_mutex_unlock(&slot->lock);
}

int ccurl_hook_slot_set(ccurl_hook_slot *slot, void *hook, void **previous) {
    if (slot == NULL || inside_slot != NULL) return -1;
    pthread_mutex_lock(&slot->lock);
    while (slot->setting) pthread_cond_wait(&slot->changed, &slot->lock);
    slot->setting = 1;
    void *old = slot->hook;
    slot->hook = hook;
    __atomic_store_n(&slot->is_set, hook != NULL, __ATOMIC_RELAXED);
    unsigned closed = (unsigned)(slot->epoch & 1);
    slot->epoch += 1;
    while (slot->active[closed] > 0) pthread_cond_wait(&slot->changed, &slot->lock);
    slot->setting = 0;
    pthread_cond_broadcast(&slot->changed);
    pthread_mutex_unlock(&slot->lock);
    *previous = old;
    return 0;
}

int ccurl_event_hook_depth(void) {
    return inside_slot != NULL;
}
