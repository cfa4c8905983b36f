/*
 * The event loop of asynchronous calls: one multi handle, driven the way
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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct ccurl_multi_loop {
    CURLM *multi;
    int epoll_fd;
    int wake_fd;
    /* libcurl's timer: a deadline on CLOCK_MONOTONIC in ms, or -1. */
    long long deadline_ms;
};

static long long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Marks a socket as added to the epoll set (curl_multi_assign). */
static char registered;

static int on_socket(CURL *easy, curl_socket_t socket, int what, void *user, void *socket_data) {
    (void)easy;
    ccurl_multi_loop *loop = user;
    if (what == CURL_POLL_REMOVE) {
        /* Fails harmlessly for a socket already closed: epoll drops those. */
        (void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, socket, NULL);
        (void)curl_multi_assign(loop->multi, socket, NULL);
        return 0;
    }
    struct epoll_event event = {0};
    event.data.fd = socket;
    if (what & CURL_POLL_IN) event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) event.events |= EPOLLOUT;
    int operation = socket_data == NULL ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(loop->epoll_fd, operation, socket, &event) != 0) {
        /* The socket number was reused, or dropped from the set on close. */
        operation = errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(loop->epoll_fd, operation, socket, &event) != 0) return -1;
    }
    if (socket_data == NULL) (void)curl_multi_assign(loop->multi, socket, &registered);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *user) {
    (void)multi;
    ccurl_multi_loop *loop = user;
    loop->deadline_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

ccurl_multi_loop *ccurl_multi_loop_new(void) {
    ccurl_multi_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL) return NULL;
    loop->deadline_ms = -1;
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    loop->multi = ccurl_multi_init_in_gate();
    struct epoll_event wake = {0};
    wake.events = EPOLLIN;
    wake.data.fd = loop->wake_fd;
    if (loop->epoll_fd < 0 || loop->wake_fd < 0 || loop->multi == NULL
        || epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &wake) != 0
        || curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK
        || curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop) != CURLM_OK
        || curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK
        || curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop) != CURLM_OK
        || curl_multi_setopt(loop->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK) {
        ccurl_multi_loop_free(loop);
        return NULL;
    }
    return loop;
}

void ccurl_multi_loop_free(ccurl_multi_loop *loop) {
    if (loop == NULL) return;
    if (loop->multi != NULL) curl_multi_cleanup(loop->multi);
    if (loop->epoll_fd >= 0) close(loop->epoll_fd);
    if (loop->wake_fd >= 0) close(loop->wake_fd);
    free(loop);
}

CURLMcode ccurl_multi_loop_add(ccurl_multi_loop *loop, CURL *easy) {
    return curl_multi_add_handle(loop->multi, easy);
}

CURLMcode ccurl_multi_loop_remove(ccurl_multi_loop *loop, CURL *easy) {
    return curl_multi_remove_handle(loop->multi, easy);
}

void ccurl_multi_loop_wake(ccurl_multi_loop *loop) {
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: a wake is pending. */
    while (write(loop->wake_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

int ccurl_multi_loop_run_once(ccurl_multi_loop *loop, long max_wait_ms) {
    long long wait = -1;
    if (loop->deadline_ms >= 0) {
        wait = loop->deadline_ms - now_ms();
        if (wait < 0) wait = 0;
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
        int fd = events[i].data.fd;
        if (fd == loop->wake_fd) {
            uint64_t count;
            while (read(loop->wake_fd, &count, sizeof count) < 0 && errno == EINTR) {
            }
            woken = 1;
            continue;
        }
        int mask = 0;
        if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        (void)curl_multi_socket_action(loop->multi, fd, mask, &running);
    }
    if (loop->deadline_ms >= 0 && now_ms() >= loop->deadline_ms) {
        loop->deadline_ms = -1; /* libcurl sets the next one */
        (void)curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    return woken;
}

CURL *ccurl_multi_loop_next_done(ccurl_multi_loop *loop, CURLcode *code) {
    int queued = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(loop->multi, &queued)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *code = message->data.result;
            return message->easy_handle;
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
