/*
 * The event loop of asynchronous calls: multi handles, driven the way
 * libcurl's documentation and hiperfifo.c drive one at scale. libcurl says
 * which sockets it waits on (CURLMOPT_SOCKETFUNCTION) and when it wants to
 * be called back (CURLMOPT_TIMERFUNCTION); epoll waits for exactly those,
 * and curl_multi_socket_action is told which socket is ready. So a loop
 * iteration costs what happened in it, not the number of transfers in
 * flight, as curl_multi_perform/curl_multi_poll (which walk every handle
 * and poll every socket) would. An eventfd in the same epoll set lets other
 * threads wake the loop (a new call, a cancellation, a shutdown).
 *
 * All of it belongs to the engine's thread; only ccurl_multi_loop_wake is
 * called from others.
 */
#define _GNU_SOURCE
#include "CCurl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* One multi handle and what it asked for. */
struct shard {
    CURLM *multi;
    ccurl_multi_loop *loop;
    unsigned index;
    /* Transfers added and not yet removed: a new one goes to the emptiest. */
    long running;
    /* libcurl's timer: a deadline on CLOCK_MONOTONIC in ms, or -1. */
    long long deadline_ms;
};

/* Why more than one multi handle, all driven by this one thread: over
 * HTTP/1.1 each transfer in flight holds a connection of its own, and
 * libcurl 7.88 walks every connection to the host twice per transfer (to
 * find an idle one in ConnectionExists, and in curl_multi_remove_handle to
 * close "connect-only" ones). At 1000 in flight those walks were the
 * largest part of libcurl's time (perf, issue 15). Spread over shards, each
 * walk covers in-flight / shards connections. Over TLS, where HTTP/2 puts
 * every call on one connection, there is one shard: more would open more
 * connections, not fewer. */
enum { MAXIMUM_SHARDS = 16 };

/* What the epoll set holds for one of the engine's own connection sockets
 * (opened by ccurl_loop_open_socket), by fd.
 *
 * Why: libcurl asks to stop watching a kept-alive connection when its
 * transfer ends (CURL_POLL_REMOVE) and to watch it again when the next
 * transfer begins, so deleting and adding it each time costs two
 * epoll_ctl calls per request (5% of the engine's CPU at 1000 in flight).
 * Such a socket stays in the set, unwatched; if anything arrives on it
 * meanwhile (the server closing it), it is taken out then, and libcurl's
 * own check finds the connection dead before reusing it. This is sound
 * only because the engine sees every open and close of these sockets
 * (its socket callbacks): a closed fd's number is never mistaken for the
 * next socket's. Other sockets (the resolver's) are added and deleted as
 * libcurl asks. */
struct socket_slot {
    unsigned char ours;
    unsigned char registered;
    unsigned char watched;
    unsigned char shard;
    uint32_t events;
};

struct ccurl_multi_loop {
    int epoll_fd;
    int wake_fd;
    unsigned shard_count;
    struct shard shards[MAXIMUM_SHARDS];
    struct socket_slot *slots;
    size_t slot_count;
};

/* The slot of an fd, grown to fit; NULL if memory ran out. */
static struct socket_slot *slot_for(ccurl_multi_loop *loop, curl_socket_t socket) {
    if (socket < 0) return NULL;
    size_t index = (size_t)socket;
    if (index >= loop->slot_count) {
        size_t count = loop->slot_count == 0 ? 256 : loop->slot_count;
        while (count <= index) count *= 2;
        struct socket_slot *grown = realloc(loop->slots, count * sizeof *grown);
        if (grown == NULL) return NULL;
        memset(grown + loop->slot_count, 0, (count - loop->slot_count) * sizeof *grown);
        loop->slots = grown;
        loop->slot_count = count;
    }
    return &loop->slots[index];
}

/* Only a slot that exists already: no growth for a lookup. */
static struct socket_slot *existing_slot(ccurl_multi_loop *loop, curl_socket_t socket) {
    return socket >= 0 && (size_t)socket < loop->slot_count ? &loop->slots[socket] : NULL;
}

/* An epoll event's data: the shard and the socket; the eventfd has its own. */
#define WAKE_EVENT UINT64_MAX
static uint64_t event_data(unsigned shard, curl_socket_t socket) {
    return ((uint64_t)shard << 32) | (uint32_t)socket;
}

static long long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Marks a socket as added to the epoll set (curl_multi_assign). */
static char registered;

/* epoll_ctl, falling back to the other of ADD and MOD if the set disagrees. */
static int set_events(int epoll_fd, int operation, curl_socket_t socket, struct epoll_event *event) {
    if (epoll_ctl(epoll_fd, operation, socket, event) == 0) return 0;
    /* The socket number was reused, or dropped from the set on close. */
    operation = errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    return epoll_ctl(epoll_fd, operation, socket, event);
}

static int on_socket(CURL *easy, curl_socket_t socket, int what, void *user, void *socket_data) {
    (void)easy;
    struct shard *shard = user;
    ccurl_multi_loop *loop = shard->loop;
    struct socket_slot *slot = existing_slot(loop, socket);
    if (slot != NULL && !slot->ours) slot = NULL;
    if (what == CURL_POLL_REMOVE) {
        if (slot != NULL) {
            slot->watched = 0;
            /* A writable socket would wake the loop at once: out now. */
            if (slot->registered && (slot->events & EPOLLOUT)) {
                (void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, socket, NULL);
                slot->registered = 0;
            }
            return 0;
        }
        /* Fails harmlessly for a socket already closed: epoll drops those. */
        (void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, socket, NULL);
        (void)curl_multi_assign(shard->multi, socket, NULL);
        return 0;
    }
    struct epoll_event event = {0};
    event.data.u64 = event_data(shard->index, socket);
    if (what & CURL_POLL_IN) event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) event.events |= EPOLLOUT;
    if (slot != NULL) {
        if (!(slot->registered && slot->events == event.events && slot->shard == shard->index)) {
            if (set_events(loop->epoll_fd, slot->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event) != 0) {
                slot->registered = 0;
                return -1;
            }
            slot->registered = 1;
            slot->events = event.events;
            slot->shard = (unsigned char)shard->index;
        }
        slot->watched = 1;
        return 0;
    }
    if (set_events(loop->epoll_fd, socket_data == NULL ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event) != 0) return -1;
    if (socket_data == NULL) (void)curl_multi_assign(shard->multi, socket, &registered);
    return 0;
}

/* The engine's handles open and close their connections' sockets through
 * these (ccurl_multi_loop_adopt), as every handle does through
 * ccurl_open_socket/ccurl_close_socket, so that each fd's slot is fresh. */
static curl_socket_t loop_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address) {
    ccurl_multi_loop *loop = user;
    curl_socket_t socket = ccurl_open_socket(NULL, purpose, address);
    if (socket == CURL_SOCKET_BAD) return socket;
    struct socket_slot *slot = slot_for(loop, socket);
    if (slot != NULL) {
        memset(slot, 0, sizeof *slot);
        slot->ours = 1;
    }
    return socket;
}

static int loop_close_socket(void *user, curl_socket_t socket) {
    ccurl_multi_loop *loop = user;
    struct socket_slot *slot = existing_slot(loop, socket);
    if (slot != NULL) {
        /* Out of the set before the number can be reused. */
        if (slot->ours && slot->registered) (void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, socket, NULL);
        memset(slot, 0, sizeof *slot);
    }
    return ccurl_close_socket(NULL, socket);
}

CURLcode ccurl_multi_loop_adopt(ccurl_multi_loop *loop, CURL *easy) {
    CURLcode result = curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, loop_open_socket);
    if (result == CURLE_OK) result = curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, loop);
    if (result == CURLE_OK) result = curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, loop_close_socket);
    if (result == CURLE_OK) result = curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, loop);
    return result;
}

static int on_timer(CURLM *multi, long timeout_ms, void *user) {
    (void)multi;
    struct shard *shard = user;
    shard->deadline_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

static int shard_init(ccurl_multi_loop *loop, unsigned index) {
    struct shard *shard = &loop->shards[index];
    shard->loop = loop;
    shard->index = index;
    shard->deadline_ms = -1;
    shard->multi = ccurl_multi_init_in_gate();
    return shard->multi != NULL
        && curl_multi_setopt(shard->multi, CURLMOPT_SOCKETFUNCTION, on_socket) == CURLM_OK
        && curl_multi_setopt(shard->multi, CURLMOPT_SOCKETDATA, shard) == CURLM_OK
        && curl_multi_setopt(shard->multi, CURLMOPT_TIMERFUNCTION, on_timer) == CURLM_OK
        && curl_multi_setopt(shard->multi, CURLMOPT_TIMERDATA, shard) == CURLM_OK
        && curl_multi_setopt(shard->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) == CURLM_OK;
}

ccurl_multi_loop *ccurl_multi_loop_new(unsigned shards) {
    ccurl_multi_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL) return NULL;
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event wake = {0};
    wake.events = EPOLLIN;
    wake.data.u64 = WAKE_EVENT;
    int made = loop->epoll_fd >= 0 && loop->wake_fd >= 0
        && epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &wake) == 0;
    if (shards < 1) shards = 1;
    if (shards > MAXIMUM_SHARDS) shards = MAXIMUM_SHARDS;
    for (unsigned i = 0; made && i < shards; i++) {
        loop->shard_count = i + 1;
        made = shard_init(loop, i);
    }
    if (!made) {
        ccurl_multi_loop_free(loop);
        return NULL;
    }
    return loop;
}

void ccurl_multi_loop_free(ccurl_multi_loop *loop) {
    if (loop == NULL) return;
    for (unsigned i = 0; i < loop->shard_count; i++) {
        if (loop->shards[i].multi != NULL) curl_multi_cleanup(loop->shards[i].multi);
    }
    if (loop->epoll_fd >= 0) close(loop->epoll_fd);
    if (loop->wake_fd >= 0) close(loop->wake_fd);
    free(loop->slots);
    free(loop);
}

CURLMcode ccurl_multi_loop_add(ccurl_multi_loop *loop, CURL *easy, unsigned *shard_out) {
    unsigned chosen = 0;
    for (unsigned i = 1; i < loop->shard_count; i++) {
        if (loop->shards[i].running < loop->shards[chosen].running) chosen = i;
    }
    CURLMcode code = curl_multi_add_handle(loop->shards[chosen].multi, easy);
    if (code == CURLM_OK) {
        loop->shards[chosen].running++;
        *shard_out = chosen;
    }
    return code;
}

CURLMcode ccurl_multi_loop_remove(ccurl_multi_loop *loop, CURL *easy, unsigned shard) {
    if (shard >= loop->shard_count) return CURLM_BAD_EASY_HANDLE;
    CURLMcode code = curl_multi_remove_handle(loop->shards[shard].multi, easy);
    if (code == CURLM_OK) loop->shards[shard].running--;
    return code;
}

void ccurl_multi_loop_wake(ccurl_multi_loop *loop) {
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: a wake is pending. */
    while (write(loop->wake_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

int ccurl_multi_loop_run_once(ccurl_multi_loop *loop, long max_wait_ms) {
    long long wait = -1;
    long long now = now_ms();
    for (unsigned i = 0; i < loop->shard_count; i++) {
        long long deadline = loop->shards[i].deadline_ms;
        if (deadline < 0) continue;
        long long until = deadline > now ? deadline - now : 0;
        if (wait < 0 || until < wait) wait = until;
    }
    if (max_wait_ms >= 0 && (wait < 0 || max_wait_ms < wait)) wait = max_wait_ms;
    if (wait > INT32_MAX) wait = INT32_MAX;

    enum { BATCH = 256 };
    struct epoll_event events[BATCH];
    int ready = epoll_wait(loop->epoll_fd, events, BATCH, (int)wait);
    if (ready < 0) ready = 0; /* EINTR: go round again */
    int woken = 0;
    int running = 0;
    for (int i = 0; i < ready; i++) {
        uint64_t data = events[i].data.u64;
        if (data == WAKE_EVENT) {
            uint64_t count;
            while (read(loop->wake_fd, &count, sizeof count) < 0 && errno == EINTR) {
            }
            woken = 1;
            continue;
        }
        unsigned shard = (unsigned)(data >> 32);
        curl_socket_t socket = (curl_socket_t)(uint32_t)data;
        if (shard >= loop->shard_count) continue;
        struct socket_slot *slot = existing_slot(loop, socket);
        if (slot != NULL && slot->ours && !slot->watched) {
            /* Kept in the set while idle (see socket_slot): now out. */
            if (slot->registered) (void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, socket, NULL);
            slot->registered = 0;
            continue;
        }
        int mask = 0;
        if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        (void)curl_multi_socket_action(loop->shards[shard].multi, socket, mask, &running);
    }
    now = now_ms();
    for (unsigned i = 0; i < loop->shard_count; i++) {
        struct shard *shard = &loop->shards[i];
        if (shard->deadline_ms >= 0 && now >= shard->deadline_ms) {
            shard->deadline_ms = -1; /* libcurl sets the next one */
            (void)curl_multi_socket_action(shard->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
    }
    return woken;
}

CURL *ccurl_multi_loop_next_done(ccurl_multi_loop *loop, CURLcode *code) {
    int queued = 0;
    for (unsigned i = 0; i < loop->shard_count; i++) {
        CURLMsg *message;
        while ((message = curl_multi_info_read(loop->shards[i].multi, &queued)) != NULL) {
            if (message->msg == CURLMSG_DONE) {
                *code = message->data.result;
                return message->easy_handle;
            }
        }
    }
    return NULL;
}

CURLcode ccurl_easy_set_private(CURL *handle, void *pointer) {
    return curl_easy_setopt(handle, CURLOPT_PRIVATE, pointer);
}

void *ccurl_easy_get_private(CURL *handle) {
    void *pointer = NULL;
    return curl_easy_getinfo(handle, CURLINFO_PRIVATE, &pointer) == CURLE_OK ? pointer : NULL;
}
