/*
 * What a fork() must not catch half-done. See CCurl.h for the contract.
 *
 * A child process inherits every lock in the state it had at the moment of
 * the fork, held or not, and none of the threads that held them. libkasko's
 * own locks are never touched in a child (see ProcessLocal), but the
 * child's first connection goes through libcurl and OpenSSL, whose global
 * locks a parent thread may have held: libcurl's global-init spin lock in
 * curl_easy_init, and OpenSSL's library-context locks (RAND, the EVP method
 * store, X509_STORE_new), which it takes while a connection is set up.
 *
 * So fork handlers make fork() wait, at most connect_timeout_ms, until no
 * thread of ours is making a handle or setting up a connection (resolving,
 * connecting, TLS handshake) or freeing a handle, and hold new ones back
 * until the fork is done. A thread waiting for a response does not delay a
 * fork: it holds nothing.
 *
 * And the child closes its copies of the library's sockets at once: it will
 * never use them (ProcessLocal), and while it holds them, the parent's
 * close of a connection sends no FIN and the server keeps it open. Closing a
 * copy sends nothing on the wire; the parent's connection is untouched.
 */
#include "CCurl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t setup_gate;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;

static void init_gate(void) {
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
    /* A waiting fork holds back new setups: without this, a steady stream
     * of calls on other threads could keep fork() waiting for ever. */
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&setup_gate, &attributes);
    pthread_rwlockattr_destroy(&attributes);
}

/* The sockets libcurl opened for the library in this process, as fd + 1
 * (0 is a free slot). It grows as needed: an engine holds one connection
 * per call in flight over HTTP/1.1, and a fixed table of 1024 once left a
 * forked child holding every socket beyond it (test_async fork_many). If
 * memory runs out the socket is simply not closed in a child. */
static int *sockets;
static size_t socket_slots;
static pthread_mutex_t sockets_lock = PTHREAD_MUTEX_INITIALIZER;

/* Replaces the first slot holding `from` with `to` (both fd + 1, or 0),
 * growing the table when a socket is added to a full one. */
static void track(int from, int to) {
    pthread_mutex_lock(&sockets_lock);
    for (size_t i = 0; i < socket_slots; i++) {
        if (sockets[i] == from) {
            sockets[i] = to;
            pthread_mutex_unlock(&sockets_lock);
            return;
        }
    }
    if (from == 0) {
        size_t grown_slots = socket_slots == 0 ? 1024 : socket_slots * 2;
        int *grown = realloc(sockets, grown_slots * sizeof *grown);
        if (grown != NULL) {
            memset(grown + socket_slots, 0, (grown_slots - socket_slots) * sizeof *grown);
            grown[socket_slots] = to;
            sockets = grown;
            socket_slots = grown_slots;
        }
    }
    pthread_mutex_unlock(&sockets_lock);
}

static void before_fork(void) {
    pthread_rwlock_wrlock(&setup_gate);
    pthread_mutex_lock(&init_lock);
    pthread_mutex_lock(&sockets_lock);
}

static void after_fork_in_parent(void) {
    pthread_mutex_unlock(&sockets_lock);
    pthread_mutex_unlock(&init_lock);
    pthread_rwlock_unlock(&setup_gate);
}

/* The child's only thread took them all in before_fork, but under another
 * thread id: glibc's rwlock unlock compares the writer's id, and would take
 * the child's for a reader's. Nobody else can hold them here: made anew. */
static void after_fork_in_child(void) {
    for (size_t i = 0; i < socket_slots; i++) {
        if (sockets[i] != 0) {
            (void)close(sockets[i] - 1);
            sockets[i] = 0;
        }
    }
    pthread_mutex_init(&sockets_lock, NULL);
    pthread_mutex_init(&init_lock, NULL);
    init_gate();
}

curl_socket_t ccurl_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)userdata;
    if (purpose != CURLSOCKTYPE_IPCXN || address == NULL) return CURL_SOCKET_BAD;
    /* CLOEXEC: an exec'd program has no use for the library's connections. */
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd >= 0) track(0, fd + 1);
    return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

int ccurl_close_socket(void *userdata, curl_socket_t fd) {
    (void)userdata;
    track(fd + 1, 0);
    return close(fd);
}

static void make_gate(void) {
    init_gate();
    (void)pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

void ccurl_fork_gate_enter(void) {
    (void)pthread_once(&gate_once, make_gate);
    pthread_rwlock_rdlock(&setup_gate);
}

void ccurl_fork_gate_leave(void) {
    pthread_rwlock_unlock(&setup_gate);
}

/* The caller holds the gate (ccurl_fork_gate_enter): the engine thread
 * holds it once for all its handles, and the gate is not recursive. */
CURL *ccurl_easy_init_in_gate(void) {
    pthread_mutex_lock(&init_lock);
    CURL *handle = curl_easy_init();
    if (handle != NULL) {
        /* The first curl_easy_perform of a handle makes its private multi
         * handle, whose connection cache makes a "closure handle" with
         * curl_easy_init: the same spin lock again. A perform with no URL
         * makes them here, under the lock, and fails before any I/O ("No URL
         * set"); NOSIGNAL first, so that it does not touch SIGPIPE. */
        if (curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
            || curl_easy_perform(handle) != CURLE_URL_MALFORMAT) {
            curl_easy_cleanup(handle);
            handle = NULL;
        }
    }
    pthread_mutex_unlock(&init_lock);
    return handle;
}

CURL *ccurl_easy_init(void) {
    ccurl_fork_gate_enter();
    CURL *handle = ccurl_easy_init_in_gate();
    ccurl_fork_gate_leave();
    return handle;
}

void ccurl_easy_cleanup(CURL *handle) {
    /* Closing a TLS connection frees OpenSSL state under its locks. */
    ccurl_fork_gate_enter();
    curl_easy_cleanup(handle);
    ccurl_fork_gate_leave();
}

/* A multi handle's connection cache makes its closure handle with
 * curl_easy_init (libcurl 7.88): the global-init spin lock, as above. */
CURLM *ccurl_multi_init_in_gate(void) {
    pthread_mutex_lock(&init_lock);
    CURLM *multi = curl_multi_init();
    pthread_mutex_unlock(&init_lock);
    return multi;
}
