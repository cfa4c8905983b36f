#include "CCurl.h"

#include <pthread.h>
#include <stdlib.h>

/* See CCurl.h. A fork handler takes the lock before fork() and releases it
 * in both processes, so that no thread is inside curl_easy_init at the
 * moment of a fork and the child never inherits a held lock. */
static pthread_mutex_t ccurl_init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t ccurl_fork_handlers_once = PTHREAD_ONCE_INIT;

static void ccurl_before_fork(void) {
    pthread_mutex_lock(&ccurl_init_lock);
}

static void ccurl_after_fork(void) {
    pthread_mutex_unlock(&ccurl_init_lock);
}

static void ccurl_register_fork_handlers(void) {
    (void)pthread_atfork(ccurl_before_fork, ccurl_after_fork, ccurl_after_fork);
}

CURL *ccurl_easy_init(void) {
    (void)pthread_once(&ccurl_fork_handlers_once, ccurl_register_fork_handlers);
    pthread_mutex_lock(&ccurl_init_lock);
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
    pthread_mutex_unlock(&ccurl_init_lock);
    return handle;
}

CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode ccurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode ccurl_easy_setopt_share(CURL *handle, CURLSH *share) {
    return curl_easy_setopt(handle, CURLOPT_SHARE, share);
}

CURLcode ccurl_easy_setopt_write_function(CURL *handle, ccurl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

CURLcode ccurl_easy_setopt_read_function(CURL *handle, ccurl_data_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

CURLcode ccurl_easy_setopt_seek_function(CURL *handle, ccurl_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}

CURLcode ccurl_easy_setopt_prereq_function(CURL *handle, ccurl_prereq_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_PREREQFUNCTION, callback);
}

CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode ccurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/* libcurl calls these with the share's user pointer: our ccurl_locked_share. */
static void ccurl_share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr) {
    (void)handle;
    (void)access;
    ccurl_locked_share *owner = userptr;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST) {
        pthread_mutex_lock(&owner->locks[data]);
    }
}

static void ccurl_share_unlock(CURL *handle, curl_lock_data data, void *userptr) {
    (void)handle;
    ccurl_locked_share *owner = userptr;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST) {
        pthread_mutex_unlock(&owner->locks[data]);
    }
}

ccurl_locked_share *ccurl_locked_share_new(void) {
    ccurl_locked_share *owner = calloc(1, sizeof *owner);
    if (owner == NULL) {
        return NULL;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_init(&owner->locks[i], NULL);
    }
    owner->share = curl_share_init();
    if (owner->share == NULL) {
        ccurl_locked_share_free(owner);
        return NULL;
    }
    int ok = curl_share_setopt(owner->share, CURLSHOPT_LOCKFUNC, ccurl_share_lock) == CURLSHE_OK
        && curl_share_setopt(owner->share, CURLSHOPT_UNLOCKFUNC, ccurl_share_unlock) == CURLSHE_OK
        && curl_share_setopt(owner->share, CURLSHOPT_USERDATA, owner) == CURLSHE_OK
        && curl_share_setopt(owner->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) == CURLSHE_OK
        && curl_share_setopt(owner->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) == CURLSHE_OK;
    if (!ok) {
        ccurl_locked_share_free(owner);
        return NULL;
    }
    return owner;
}

void ccurl_locked_share_free(ccurl_locked_share *owner) {
    if (owner == NULL) {
        return;
    }
    if (owner->share != NULL) {
        curl_share_cleanup(owner->share);
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_destroy(&owner->locks[i]);
    }
    free(owner);
}

const char *ccurl_version_number(void) {
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    return (info != NULL && info->version != NULL) ? info->version : "unknown";
}
