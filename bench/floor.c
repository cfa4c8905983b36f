/*
 * floor.c - the physical floor: a C program driving libcurl directly, doing
 * per call what libkasko must do at the least.
 *
 *   floor serve BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON
 *   floor once  BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON
 *
 * "serve" answers the commands of common.h on stdin; "once" makes one view
 * and exits (the cold-start peer).
 *
 * Per call, exactly as libkasko does on the wire and in libcurl:
 * - one easy handle per thread, kept across calls (one keep-alive
 *   connection each), with the options libkasko sets once per handle:
 *   NOSIGNAL, FOLLOWLOCATION 0, PROTOCOLS_STR "http,https", SSL_VERIFYPEER/HOST,
 *   CONNECTTIMEOUT_MS 10000, TIMEOUT_MS 60000, TCP_KEEPALIVE, the User-Agent
 *   "libkasko/<version> libcurl/<version>" (BENCH_USER_AGENT), MAXFILESIZE_LARGE 1 MiB, an error
 *   buffer and a write callback;
 * - per call: CURLOPT_URL (the id goes into the path), CURLOPT_HTTPHEADER
 *   (a header list built once: Accept: application/vnd.kasko.v2+json,
 *   Authorization: Bearer SECRET; for POST also Content-Type:
 *   application/json and "Expect:"), HTTPGET, or POSTFIELDSIZE_LARGE +
 *   POSTFIELDS for a create (the request JSON is sent as given);
 * - the body is collected into a buffer reused across calls (with the
 *   1 MiB limit checked), the status read with CURLINFO_RESPONSE_CODE and
 *   required to be 2xx, the body checked to start with '{', and copied into a
 *   fresh malloc'd NUL-terminated string that is then freed (what a libkasko
 *   caller receives and frees).
 * With BENCH_FLOOR_FRESH_POST=1 in the environment, every create goes out on
 * a new connection (CURLOPT_FRESH_CONNECT), for comparison: the price of
 * never letting libcurl replay a create that way (libkasko now reuses
 * connections and refuses the body rewind instead); views reuse theirs.
 * It does NOT parse the JSON, look at response headers or build an error
 * object: that work is the library's own cost, measured against this floor.
 */
#include <curl/curl.h>

#include "common.h"

#define MAX_BODY (1L << 20)

typedef struct buffer {
    char *data;
    size_t length;
    size_t capacity;
} buffer;

typedef struct peer {
    CURL *handle;
    buffer body;
    char error[CURL_ERROR_SIZE];
} peer;

static const char *who = "floor";
static char *get_url;
static char *post_url;
static const char *request_json;
static struct curl_slist *get_headers;
static struct curl_slist *post_headers;
static char user_agent[128];
static long fresh_post;
static peer main_peer;
static peer thread_peers[BENCH_MAX_THREADS];

static size_t write_body(char *data, size_t size, size_t count, void *userdata) {
    buffer *b = userdata;
    size_t n = size * count;
    if (b->length + n > (size_t)MAX_BODY) {
        return 0;
    }
    if (b->length + n > b->capacity) {
        size_t capacity = b->capacity ? b->capacity * 2 : 16384;
        while (capacity < b->length + n) {
            capacity *= 2;
        }
        char *grown = realloc(b->data, capacity);
        if (grown == NULL) {
            return 0;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, n);
    b->length += n;
    return n;
}

static void peer_init(peer *p) {
    if (p->handle != NULL) {
        return;
    }
    p->handle = curl_easy_init();
    if (p->handle == NULL) {
        bench_die(who, "curl_easy_init failed");
    }
    p->body.capacity = 16384;
    p->body.data = malloc(p->body.capacity);
    CURL *h = p->handle;
    CURLcode ok = CURLE_OK;
    ok |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, p->error);
    ok |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    ok |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    ok |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    ok |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    ok |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    ok |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    ok |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    ok |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    ok |= curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent);
    ok |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BODY);
    ok |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    ok |= curl_easy_setopt(h, CURLOPT_WRITEDATA, &p->body);
    if (ok != CURLE_OK || p->body.data == NULL) {
        bench_die(who, "setting up the easy handle failed");
    }
}

static void finish(peer *p, CURLcode rc) {
    long status = 0;
    curl_easy_getinfo(p->handle, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s: %s (%s)\n", who, curl_easy_strerror(rc), p->error);
        exit(1);
    }
    if (status < 200 || status > 299 || p->body.length == 0 || p->body.data[0] != '{') {
        fprintf(stderr, "%s: unexpected answer: HTTP %ld, %zu bytes\n", who, status, p->body.length);
        exit(1);
    }
    char *out = malloc(p->body.length + 1);
    if (out == NULL) {
        bench_die(who, "out of memory");
    }
    memcpy(out, p->body.data, p->body.length);
    out[p->body.length] = '\0';
    bench_consume(out);
    free(out);
}

static void peer_get(peer *p) {
    CURL *h = p->handle;
    p->body.length = 0;
    p->error[0] = '\0';
    CURLcode rc = curl_easy_setopt(h, CURLOPT_URL, get_url);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, get_headers);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (rc == CURLE_OK) rc = curl_easy_perform(h);
    finish(p, rc);
}

static void peer_post(peer *p) {
    CURL *h = p->handle;
    p->body.length = 0;
    p->error[0] = '\0';
    CURLcode rc = curl_easy_setopt(h, CURLOPT_URL, post_url);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, post_headers);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(request_json));
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, request_json);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh_post);
    if (rc == CURLE_OK) rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
    finish(p, rc);
}

static void op_get(void) { peer_get(&main_peer); }
static void op_post(void) { peer_post(&main_peer); }

static void op_threads_prepare(int threads, int own) {
    (void)own;
    for (int i = 0; i < threads; i++) {
        peer_init(&thread_peers[i]);
    }
}

static void op_thread_get(int index, long calls) {
    for (long i = 0; i < calls; i++) {
        peer_get(&thread_peers[index]);
    }
}

static struct curl_slist *append(struct curl_slist *list, const char *header) {
    struct curl_slist *next = curl_slist_append(list, header);
    if (next == NULL) {
        bench_die(who, "curl_slist_append failed");
    }
    return next;
}

static char *join(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s == NULL) {
        bench_die(who, "out of memory");
    }
    snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

int main(int argc, char **argv) {
    if (argc != 7 || (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "once") != 0)) {
        fprintf(stderr, "usage: floor serve|once BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        bench_die(who, "curl_global_init failed");
    }
    const char *base = argv[2];
    get_url = join(base, "/payments/", argv[5]);
    post_url = join(base, "/payments?key=", argv[3]);
    request_json = argv[6];
    char *authorization = join("Authorization: Bearer ", argv[4], "");
    get_headers = append(NULL, "Accept: application/vnd.kasko.v2+json");
    get_headers = append(get_headers, authorization);
    post_headers = append(NULL, "Accept: application/vnd.kasko.v2+json");
    post_headers = append(post_headers, authorization);
    post_headers = append(post_headers, "Content-Type: application/json");
    post_headers = append(post_headers, "Expect:");
    const char *fresh = getenv("BENCH_FLOOR_FRESH_POST");
    fresh_post = fresh != NULL && strcmp(fresh, "1") == 0;
    /* bench/run passes libkasko's own User-Agent (its version from
     * scripts/version), so that both send the same bytes. */
    const char *agent = getenv("BENCH_USER_AGENT");
    if (agent != NULL && agent[0] != '\0')
        snprintf(user_agent, sizeof user_agent, "%s", agent);
    else
        snprintf(user_agent, sizeof user_agent, "libkasko libcurl/%s", curl_version_info(CURLVERSION_NOW)->version);
    peer_init(&main_peer);

    if (strcmp(argv[1], "once") == 0) {
        op_get();
        return 0;
    }
    static const bench_ops ops = {"floor", op_get, op_post, op_thread_get, NULL, op_threads_prepare};
    int status = bench_serve(&ops);
    for (int i = 0; i < BENCH_MAX_THREADS; i++) {
        if (thread_peers[i].handle != NULL) {
            curl_easy_cleanup(thread_peers[i].handle);
            free(thread_peers[i].body.data);
        }
    }
    curl_easy_cleanup(main_peer.handle);
    free(main_peer.body.data);
    curl_slist_free_all(get_headers);
    curl_slist_free_all(post_headers);
    free(authorization);
    free(get_url);
    free(post_url);
    curl_global_cleanup();
    return status;
}
