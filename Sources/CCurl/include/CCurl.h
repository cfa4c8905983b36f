/*
 * CCurl: typed, non-variadic wrappers around libcurl's variadic
 * curl_easy_setopt / curl_easy_getinfo / curl_share_setopt. Swift cannot call
 * C variadic functions, and passing the wrong C type through a variadic is
 * undefined behaviour, so each option type gets its own wrapper.
 */
#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>

/* Fork safety (fork_gate.c). A fork() waits until no thread is inside one
 * of these sections, and new ones wait until the fork is done, so that a
 * child never inherits a lock of libcurl's or OpenSSL's held by a thread it
 * does not have.
 *
 * ccurl_easy_init: curl_easy_init, one thread at a time, inside the gate.
 * libcurl 7.88 guards its global state there with a spin lock of C11
 * atomics, which a fork could catch held and which race detectors (helgrind,
 * DRD) cannot see. It also makes the handle's private multi handle at once
 * (see fork_gate.c). NULL when libcurl could not make the handle.
 * ccurl_easy_cleanup: curl_easy_cleanup inside the gate.
 * ccurl_fork_gate_enter/leave: around a connection's setup (resolve,
 * connect, TLS handshake): from the start of a perform to its pre-request
 * callback, or to its end if that never runs. Never held while waiting for
 * a response. Re-entering on the same thread is not allowed. */
CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *handle);
/* The same, for a caller that already holds the gate (the engine thread of
 * asynchronous calls holds it once for all of its handles), and
 * curl_multi_init under the same lock as curl_easy_init. Free a multi handle
 * with curl_multi_cleanup inside the gate. */
CURL *ccurl_easy_init_in_gate(void);
CURLM *ccurl_multi_init_in_gate(void);

/* CURLOPT_OPENSOCKETFUNCTION and CURLOPT_CLOSESOCKETFUNCTION for every
 * handle: the sockets are made close-on-exec and noted, and a child process
 * closes its copies of them right after fork() (fork_gate.c). */
curl_socket_t ccurl_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address);
int ccurl_close_socket(void *userdata, curl_socket_t fd);
CURLcode ccurl_easy_setopt_socket_functions(CURL *handle);
void ccurl_fork_gate_enter(void);
void ccurl_fork_gate_leave(void);

typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);

CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_easy_setopt_share(CURL *handle, CURLSH *share);
CURLcode ccurl_easy_setopt_write_function(CURL *handle, ccurl_data_callback callback);
CURLcode ccurl_easy_setopt_read_function(CURL *handle, ccurl_data_callback callback);

typedef int (*ccurl_seek_callback)(void *userdata, curl_off_t offset, int origin);
CURLcode ccurl_easy_setopt_seek_function(CURL *handle, ccurl_seek_callback callback);

/* CURLOPT_PREREQFUNCTION (libcurl 7.80.0): called once the connection (with
 * any proxy tunnel and TLS handshake) is ready, right before the request is
 * written. */
typedef int (*ccurl_prereq_callback)(void *userdata, char *conn_primary_ip, char *conn_local_ip,
                                     int conn_primary_port, int conn_local_port);
CURLcode ccurl_easy_setopt_prereq_function(CURL *handle, ccurl_prereq_callback callback);

CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);

/* A share handle plus the pthread mutexes (one per curl_lock_data kind) that
 * make it safe to use from many threads at once. It shares the DNS cache and
 * TLS sessions only. Never the connection cache: libcurl does not support
 * connections shared between threads that perform at the same time
 * (CURLSHOPT_SHARE; curl issue 4915; in 7.88 multi_done touches a connection
 * after dropping the cache lock), so each easy handle keeps its own. Free it
 * only after every easy handle that uses it has been cleaned up.
 * ccurl_locked_share_new: NULL on failure. */
typedef struct ccurl_locked_share {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
} ccurl_locked_share;

ccurl_locked_share *ccurl_locked_share_new(void);
void ccurl_locked_share_free(ccurl_locked_share *owner);

/* A client's event hook slot (event_hook.c). The hook is an opaque pointer
 * the caller owns (the slot never frees or calls it).
 *
 * ccurl_hook_slot_new: an empty slot; NULL when memory ran out.
 * ccurl_hook_slot_free: frees it, returning its hook; no call may be using
 * the slot any more.
 * ccurl_hook_slot_observing: whether a call on this thread should report
 * events: a hook is set (a hint, read without the lock) and the thread is
 * not inside a hook of any slot.
 * ccurl_hook_slot_begin: the hook to deliver to, and this thread is inside
 * it until ccurl_hook_slot_end; NULL (no end needed) when there is none, or
 * when the thread is already inside a hook: hooks never nest.
 * ccurl_hook_slot_set: replaces the hook (NULL clears) and returns 0 once
 * no delivery to the previous one runs in this process, with it in
 * *previous; -1, changing nothing, from inside a hook, where it would wait
 * for itself.
 * ccurl_event_hook_depth: how many hooks this thread is inside (0 or 1).
 *
 * fork(): the child keeps the hook, and of the deliveries only the forking
 * thread's own (when it forked from inside a hook); no lock or waiter of
 * another thread survives there. */
typedef struct ccurl_hook_slot ccurl_hook_slot;
ccurl_hook_slot *ccurl_hook_slot_new(void);
void *ccurl_hook_slot_free(ccurl_hook_slot *slot);
int ccurl_hook_slot_observing(const ccurl_hook_slot *slot);
void *ccurl_hook_slot_begin(ccurl_hook_slot *slot);
void ccurl_hook_slot_end(ccurl_hook_slot *slot);
int ccurl_hook_slot_set(ccurl_hook_slot *slot, void *hook, void **previous);
int ccurl_event_hook_depth(void);

/* race_annotations.c: a happens-before edge made by atomics, told to
 * helgrind/DRD (no-ops outside valgrind): `before` on the publishing side
 * before the release, `after` on the reading side after the acquire, both
 * with the published object. */
void ccurl_annotate_happens_before(const void *object);
void ccurl_annotate_happens_after(const void *object);

/* The event loop of asynchronous calls (multi_loop.c): one or more multi
 * handles ("shards", at most 8) driven by curl_multi_socket_action over
 * one epoll set, woken from other threads
 * through an eventfd. Used by one thread (the engine's) except
 * ccurl_multi_loop_wake, which any thread may call. */
typedef struct ccurl_multi_loop ccurl_multi_loop;
/* NULL when a multi handle, epoll or the eventfd could not be made. The
 * caller holds the fork gate. HTTP/2 streams are multiplexed on one
 * connection where the server offers it (CURLPIPE_MULTIPLEX), within a
 * shard: a server that can multiplex wants one shard. */
ccurl_multi_loop *ccurl_multi_loop_new(unsigned shards);
/* The caller holds the fork gate; every easy handle is removed first. */
void ccurl_multi_loop_free(ccurl_multi_loop *loop);
/* Has `easy` open and close its sockets through the loop, which keeps an
 * idle kept-alive connection in its epoll set (see multi_loop.c). */
CURLcode ccurl_multi_loop_adopt(ccurl_multi_loop *loop, CURL *easy);
/* Adds `easy` to the shard with the fewest transfers, named in *shard. */
CURLMcode ccurl_multi_loop_add(ccurl_multi_loop *loop, CURL *easy, unsigned *shard);
/* Removes `easy` from the shard ccurl_multi_loop_add named. */
CURLMcode ccurl_multi_loop_remove(ccurl_multi_loop *loop, CURL *easy, unsigned shard);
void ccurl_multi_loop_wake(ccurl_multi_loop *loop);
/* Waits at most `max_wait_ms` (-1: only libcurl's own timer) for socket
 * readiness, libcurl's timer or a wake, and lets libcurl act on what
 * happened. Returns 1 if woken, else 0. */
int ccurl_multi_loop_run_once(ccurl_multi_loop *loop, long max_wait_ms);
/* The next finished transfer and its result, or NULL. */
CURL *ccurl_multi_loop_next_done(ccurl_multi_loop *loop, CURLcode *code);
/* CURLOPT_PRIVATE: the engine finds its call again from a finished handle. */
CURLcode ccurl_easy_set_private(CURL *handle, void *pointer);
void *ccurl_easy_get_private(CURL *handle);

/* curl_version_info's version string ("7.88.1"). */
const char *ccurl_version_number(void);

/* Webhook signatures (webhook_hmac.c, over libcrypto): 1 when
 * HMAC-SHA1(key, message) equals the 20 bytes at `expected`, compared in
 * constant time (CRYPTO_memcmp); 0 when it does not; -1 when it could not be
 * computed (a NULL or empty key, a key over INT_MAX bytes, a NULL message
 * with a non-zero length, or libcrypto failed). `message` may be NULL when
 * `message_length` is 0. No global state of ours; libcrypto's own is taken
 * inside the fork gate. */
int ccurl_webhook_hmac_sha1_matches(const void *key, size_t key_length, const void *message,
                                    size_t message_length, const unsigned char expected[20]);

#endif
