/*
 * CCurl: typed, non-variadic wrappers around libcurl's variadic
 * curl_easy_setopt / curl_easy_getinfo / curl_share_setopt. Swift cannot call
 * C variadic functions, and passing the wrong C type through a variadic is
 * undefined behaviour, so each option type gets its own wrapper.
 */
#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>
#include <pthread.h>

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

CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);

/* A share handle plus the pthread mutexes (one per curl_lock_data kind) that
 * make it safe to use from many threads at once. It shares the connection
 * cache, DNS and TLS sessions, so every easy handle of a client reuses the
 * same keep-alive connections. Free it only after every easy handle that
 * uses it has been cleaned up. ccurl_locked_share_new: NULL on failure. */
typedef struct ccurl_locked_share {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
} ccurl_locked_share;

ccurl_locked_share *ccurl_locked_share_new(void);
void ccurl_locked_share_free(ccurl_locked_share *owner);

/* curl_version_info's version string ("7.88.1"). */
const char *ccurl_version_number(void);

#endif
