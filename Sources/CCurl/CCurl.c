#include "CCurl.h"

#include <pthread.h>
#include <stdlib.h>

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

CURLcode ccurl_easy_setopt_socket_functions(CURL *handle) {
    CURLcode result = curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, ccurl_open_socket);
    if (result == CURLE_OK) result = curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, ccurl_close_socket);
    return result;
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
