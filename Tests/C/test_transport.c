/*
 * Transport tests of libkasko.so: TLS verification and proxies, against a
 * loopback nginx that terminates TLS in front of kasko-sandbox and a
 * loopback forward proxy. scripts/check-transport sets both up and passes
 * their addresses in the environment:
 *
 *   KASKO_SANDBOX_URL        the sandbox itself (plain HTTP, for offers)
 *   KASKO_TLS_URL            https://localhost:P, certificate from the test CA
 *   KASKO_TLS_SELF_SIGNED_URL https://localhost:P, a self-signed certificate
 *   KASKO_TLS_WRONG_HOST_URL https://localhost:P, a test-CA certificate for
 *                            another host name
 *   KASKO_TEST_CA            the test CA's certificate (PEM)
 *   KASKO_PROXY_URL          the forward proxy; KASKO_PROXY_LOG its log
 *   KASKO_TLS_H2_URL         https://localhost:P with HTTP/2 on (ALPN);
 *                            KASKO_TLS_H2_LOG its access log, a line per
 *                            request: "CONNECTION PROTOCOL URI"
 *
 * Every TLS call here runs with an event hook (issue 13): a TLS handshake
 * shows in the attempt's timings, and a failed one gives an attempt event
 * (no answer, not sent, not retried, the reason in its message) and a call
 * end, like any other failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <kasko.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *sandbox_url;
static const char *public_key;
static const char *secret_key;

static const char *required(const char *name) {
    const char *value = getenv(name);
    if (value == NULL) {
        fprintf(stderr, "%s is not set: run scripts/check-transport\n", name);
        exit(2);
    }
    return value;
}

/* A client for base_url with extra config members (",\"k\":v" text or ""). */
static kasko_client *client_for(const char *base_url, const char *extra) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":2%s}", public_key,
             secret_key, base_url, extra);
    kasko_client *client = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &client, &error);
    CHECK(status == KASKO_OK, "client for %s: %s", base_url, error ? error : "");
    kasko_string_free(error);
    return client;
}

/* ---- the event hook: what it keeps of each event ----------------------- */

struct event {
    char kind[16];
    char status[48];
    char outcome[16];
    char message[512];
    int64_t attempt, http_status, connect, tls, first_byte, total; /* -1: null */
    int retry;
    int leaked;
};
#define MAX_EVENTS 16
static struct event events[MAX_EVENTS];
static int event_count;

/* The calls here are on one thread: no lock. */
static void record_hook(const kasko_result *event, void *user_data) {
    (void)user_data;
    if (event_count == MAX_EVENTS) return;
    struct event *e = &events[event_count++];
    result_string_member(event, "event", e->kind, sizeof e->kind);
    result_string_member(event, "status", e->status, sizeof e->status);
    result_string_member(event, "outcome", e->outcome, sizeof e->outcome);
    result_string_member(event, "message", e->message, sizeof e->message);
    e->attempt = result_int_member(event, "attempt");
    e->http_status = result_int_member(event, "http_status");
    e->connect = result_int_member(event, "connect_us");
    e->tls = result_int_member(event, "tls_us");
    e->first_byte = result_int_member(event, "first_byte_us");
    e->total = result_int_member(event, "total_us");
    if (kasko_result_member_bool(event, "retry", &e->retry) != KASKO_OK) e->retry = -1;
    const char *json = kasko_result_json(event);
    if (getenv("KASKO_TEST_VERBOSE") && json != NULL) fprintf(stderr, "event: %s\n", json);
    e->leaked = json == NULL || strstr(json, secret_key) != NULL || strstr(json, public_key) != NULL;
}

static void watch(kasko_client *client) {
    event_count = 0;
    CHECK(kasko_client_set_event_hook(client, record_hook, NULL) == KASKO_OK, "set the hook");
}

/* Creates a payment for a fresh offer and views it; returns the status of
 * the first call that failed, or KASKO_OK. Fills id and the failure JSON. */
static kasko_status create_and_view(kasko_client *client, char *id, size_t id_size, char **failure) {
    char policy[128], token[256], request[1024];
    *failure = NULL;
    if (sandbox_new_offer(sandbox_url, policy, sizeof policy, token, sizeof token) != 0) return KASKO_ERR_INTERNAL;
    snprintf(request, sizeof request,
             "{\"token\":\"%s\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"%s\"}", token, policy);
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, request, &json);
    if (status != KASKO_OK) {
        *failure = json;
        return status;
    }
    json_string_field(json, "id", id, id_size);
    kasko_string_free(json);
    status = kasko_payment_get(client, id, &json);
    if (status != KASKO_OK) {
        *failure = json;
        return status;
    }
    kasko_string_free(json);
    return KASKO_OK;
}

/* A TLS failure: a network error, never retried, naming the problem. */
static void expect_tls_failure(const char *what, const char *url, const char *extra, const char *phrase) {
    kasko_client *client = client_for(url, extra);
    watch(client);
    char id[129] = "";
    char *failure = NULL;
    kasko_status status = create_and_view(client, id, sizeof id, &failure);
    /* The create failed in the handshake: one attempt that got no answer. */
    CHECK(event_count == 2, "%s: %d events, not an attempt and a call end", what, event_count);
    if (event_count == 2) {
        const struct event *attempt = &events[0], *end = &events[1];
        CHECK(strcmp(attempt->kind, "attempt") == 0 && strcmp(end->kind, "call_end") == 0, "%s: %s then %s", what,
              attempt->kind, end->kind);
        CHECK(strcmp(attempt->status, "KASKO_ERR_NETWORK") == 0 && strcmp(end->status, "KASKO_ERR_NETWORK") == 0,
              "%s: event statuses %s, %s", what, attempt->status, end->status);
        CHECK(strcmp(attempt->outcome, "not_sent") == 0 && strcmp(end->outcome, "not_sent") == 0,
              "%s: event outcomes %s, %s", what, attempt->outcome, end->outcome);
        CHECK(attempt->attempt == 1 && attempt->http_status == -1 && attempt->retry == 0,
              "%s: attempt %" PRId64 ", http_status %" PRId64 ", retry %d", what, attempt->attempt,
              attempt->http_status, attempt->retry);
        /* libcurl 7.88 records no connect or TLS time for a handshake that
         * failed (documented at kasko_client_set_event_hook). */
        CHECK(attempt->tls == 0 && attempt->first_byte == 0 && attempt->total > 0,
              "%s: no TLS time (%" PRId64 " us) and no first byte (%" PRId64 "), total %" PRId64, what,
              attempt->tls, attempt->first_byte, attempt->total);
        CHECK(strstr(attempt->message, phrase) != NULL, "%s: the event's message lacks '%s': %s", what, phrase,
              attempt->message);
        CHECK(!attempt->leaked && !end->leaked, "%s: an event holds a key", what);
    }
    CHECK(status == KASKO_ERR_NETWORK, "%s: %s %s", what, kasko_status_name(status), failure ? failure : "");
    if (failure != NULL) {
        if (getenv("KASKO_TEST_VERBOSE")) fprintf(stderr, "%s: %s\n", what, failure);
        CHECK(strstr(failure, phrase) != NULL, "%s: message lacks '%s': %s", what, phrase, failure);
        CHECK(json_int_field(failure, "attempts") == 1, "%s: a TLS failure is not retried: %s", what, failure);
        CHECK(strstr(failure, "\"outcome\":\"not_sent\"") != NULL, "%s: outcome: %s", what, failure);
        CHECK(strstr(failure, "\"retryable\":false") != NULL, "%s: retryable: %s", what, failure);
        CHECK(strstr(failure, secret_key) == NULL, "%s: the secret leaked: %s", what, failure);
    }
    kasko_string_free(failure);
    kasko_client_free(client);
}

static void test_tls(void) {
    const char *good = required("KASKO_TLS_URL");
    const char *ca = required("KASKO_TEST_CA");
    char with_ca[1024];
    snprintf(with_ca, sizeof with_ca, ",\"ca_bundle\":\"%s\"", ca);

    kasko_client *client = client_for(good, with_ca);
    watch(client);
    char id[129] = "";
    char *failure = NULL;
    kasko_status status = create_and_view(client, id, sizeof id, &failure);
    CHECK(status == KASKO_OK, "https with the test CA as ca_bundle: %s %s", kasko_status_name(status),
          failure ? failure : "");
    /* Create and view: an attempt and a call end each. The create made the
     * connection, so its attempt shows the handshake, in order. */
    CHECK(event_count == 4, "https: %d events, not 4", event_count);
    if (event_count == 4) {
        const struct event *create = &events[0];
        CHECK(strcmp(create->kind, "attempt") == 0 && strcmp(create->status, "KASKO_OK") == 0
                  && create->http_status == 200,
              "https: the create's attempt: %s %s %" PRId64, create->kind, create->status, create->http_status);
        CHECK(create->connect > 0 && create->tls > create->connect && create->first_byte >= create->tls
                  && create->total >= create->first_byte,
              "https: connect %" PRId64 " < tls %" PRId64 " <= first byte %" PRId64 " <= total %" PRId64 " us",
              create->connect, create->tls, create->first_byte, create->total);
        for (int i = 0; i < event_count; i++) CHECK(!events[i].leaked, "https: event %d holds a key", i);
    }
    kasko_string_free(failure);
    kasko_client_free(client);

    expect_tls_failure("https, CA not trusted", good, "", "certificate");
    expect_tls_failure("self-signed certificate", required("KASKO_TLS_SELF_SIGNED_URL"), with_ca, "self-signed");
    expect_tls_failure("host name mismatch", required("KASKO_TLS_WRONG_HOST_URL"), with_ca, "target host name");
}

static int log_count(const char *path, const char *line_prefix) {
    FILE *log = fopen(path, "r");
    if (log == NULL) return -1;
    char line[512];
    int count = 0;
    while (fgets(line, sizeof line, log) != NULL) {
        if (strncmp(line, line_prefix, strlen(line_prefix)) == 0) count++;
    }
    fclose(log);
    return count;
}

static void test_proxy(void) {
    const char *proxy = required("KASKO_PROXY_URL");
    const char *log = required("KASKO_PROXY_LOG");
    char extra[512];
    snprintf(extra, sizeof extra, ",\"proxy\":\"%s\"", proxy);
    kasko_client *client = client_for(sandbox_url, extra);
    char id[129] = "";
    char *failure = NULL;
    kasko_status status = create_and_view(client, id, sizeof id, &failure);
    CHECK(status == KASKO_OK, "through the proxy: %s %s", kasko_status_name(status), failure ? failure : "");
    kasko_string_free(failure);
    kasko_client_free(client);
    char viewed[160];
    snprintf(viewed, sizeof viewed, "GET /payments/%s", id);
    CHECK(log_count(log, "POST /payments") == 1, "the proxy relayed the create (%d)", log_count(log, "POST /payments"));
    CHECK(log_count(log, viewed) == 1, "the proxy relayed the view (%d)", log_count(log, viewed));

    /* A proxy that is down: nothing was sent, so it is retried, then reported. */
    char dead[128];
    snprintf(dead, sizeof dead, ",\"proxy\":\"http://127.0.0.1:%d\"", unused_loopback_port());
    client = client_for(sandbox_url, dead);
    char *json = NULL;
    status = kasko_payment_get(client, "t1", &json);
    CHECK(status == KASKO_ERR_NETWORK, "dead proxy: %s", kasko_status_name(status));
    CHECK(json != NULL && json_int_field(json, "attempts") == 3 && strstr(json, "\"not_sent\"") != NULL,
          "dead proxy is retried as not sent: %s", json ? json : "");
    kasko_string_free(json);
    kasko_client_free(client);

    /* No "proxy" key: for https the environment's proxy applies, as for
     * curl ("" turns it off); for plain http (loopback only) no environment
     * proxy ever does: it would carry the key in clear text off the host. */
    char environment_proxy[128];
    snprintf(environment_proxy, sizeof environment_proxy, "http://127.0.0.1:%d", unused_loopback_port());
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    const char *plain_proxies[] = {"http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"};
    for (size_t i = 0; i < sizeof plain_proxies / sizeof plain_proxies[0]; i++) {
        setenv(plain_proxies[i], environment_proxy, 1);
        client = client_for(sandbox_url, "");
        status = kasko_payment_get(client, "t00000000000000000000000000000000", &json);
        CHECK(status == KASKO_ERR_NOT_FOUND, "%s is not used for plain http: %s %s", plain_proxies[i],
              kasko_status_name(status), json ? json : "");
        kasko_string_free(json);
        kasko_client_free(client);
        unsetenv(plain_proxies[i]);
    }
    char with_ca[512];
    snprintf(with_ca, sizeof with_ca, ",\"ca_bundle\":\"%s\"", required("KASKO_TEST_CA"));
    setenv("https_proxy", environment_proxy, 1);
    client = client_for(required("KASKO_TLS_URL"), with_ca);
    status = kasko_payment_get(client, "t00000000000000000000000000000000", &json);
    CHECK(status == KASKO_ERR_NETWORK && json != NULL && strstr(json, "\"not_sent\"") != NULL,
          "https_proxy from the environment is used for https (a dead one: not sent): %s %s",
          kasko_status_name(status), json ? json : "");
    kasko_string_free(json);
    kasko_client_free(client);
    snprintf(with_ca, sizeof with_ca, ",\"ca_bundle\":\"%s\",\"proxy\":\"\"", required("KASKO_TEST_CA"));
    client = client_for(required("KASKO_TLS_URL"), with_ca);
    status = kasko_payment_get(client, "t00000000000000000000000000000000", &json);
    CHECK(status == KASKO_ERR_NOT_FOUND, "\"proxy\":\"\" ignores the environment: %s", kasko_status_name(status));
    kasko_string_free(json);
    kasko_client_free(client);
    unsetenv("https_proxy");

    /* An explicit proxy for plain http must itself be on this host. */
    kasko_client *refused = NULL;
    char config[512], *error = NULL;
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"base_url\":\"%s\",\"proxy\":\"http://10.1.2.3:3128\"}", public_key,
             sandbox_url);
    status = kasko_client_new(config, &refused, &error);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT && refused == NULL && error != NULL && strstr(error, "loopback") != NULL,
          "a non-loopback proxy for plain http is refused: %s", error ? error : "");
    kasko_string_free(error);
}

/* ---- HTTP/2: asynchronous calls as streams of one connection ---------- */

#define H2_CALLS 40

static pthread_mutex_t h2_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t h2_done = PTHREAD_COND_INITIALIZER;
static int h2_completed, h2_not_found;

static void on_h2_view(kasko_result *result, void *user_data) {
    (void)user_data;
    pthread_mutex_lock(&h2_lock);
    if (kasko_result_status(result) == KASKO_ERR_NOT_FOUND && kasko_result_http_status(result) == 404) h2_not_found++;
    else if (getenv("KASKO_TEST_VERBOSE")) fprintf(stderr, "h2 view: %s\n", kasko_result_message(result));
    h2_completed++;
    pthread_cond_signal(&h2_done);
    pthread_mutex_unlock(&h2_lock);
    kasko_result_free(result);
}

/* The access log's requests for paths starting `uri_prefix`: how many, how
 * many over HTTP/2, and on how many connections. */
static void h2_log(const char *path, const char *uri_prefix, int *requests, int *over_h2, int *connections) {
    long seen[H2_CALLS + 8];
    int distinct = 0;
    *requests = *over_h2 = 0;
    FILE *log = fopen(path, "r");
    char line[512];
    while (log != NULL && fgets(line, sizeof line, log) != NULL) {
        long connection = 0;
        char protocol[32], uri[256];
        if (sscanf(line, "%ld %31s %255s", &connection, protocol, uri) != 3) continue;
        if (strncmp(uri, uri_prefix, strlen(uri_prefix)) != 0) continue;
        (*requests)++;
        if (strcmp(protocol, "HTTP/2.0") == 0) (*over_h2)++;
        int known = 0;
        for (int i = 0; i < distinct; i++) known |= seen[i] == connection;
        if (!known && distinct < (int)(sizeof seen / sizeof seen[0])) seen[distinct++] = connection;
    }
    if (log != NULL) fclose(log);
    *connections = distinct;
}

static void test_http2(void) {
    const char *url = required("KASKO_TLS_H2_URL");
    const char *log = required("KASKO_TLS_H2_LOG");
    char with_ca[1024];
    snprintf(with_ca, sizeof with_ca, ",\"ca_bundle\":\"%s\"", required("KASKO_TEST_CA"));
    kasko_client *client = client_for(url, with_ca);

    /* Submitted together, before any connection exists: each transfer waits
     * for the first connection's ALPN answer and then takes a stream of it
     * (CURLOPT_PIPEWAIT), rather than opening a connection of its own. */
    int accepted = 0;
    char id[32];
    for (int i = 0; i < H2_CALLS; i++) {
        snprintf(id, sizeof id, "t_h2_async_%d", i);
        if (kasko_payment_get_async(client, id, NULL, on_h2_view, NULL, NULL) == KASKO_OK) accepted++;
    }
    CHECK(accepted == H2_CALLS, "h2: %d of %d calls accepted", accepted, H2_CALLS);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&h2_lock);
    while (h2_completed < accepted) {
        if (pthread_cond_timedwait(&h2_done, &h2_lock, &deadline) != 0) break;
    }
    int completed = h2_completed, not_found = h2_not_found;
    pthread_mutex_unlock(&h2_lock);
    CHECK(completed == accepted, "h2: %d of %d callbacks within a minute", completed, accepted);
    CHECK(not_found == H2_CALLS, "h2: %d of %d views answered 404 through nginx", not_found, H2_CALLS);

    int requests, over_h2, connections;
    h2_log(log, "/payments/t_h2_async_", &requests, &over_h2, &connections);
    CHECK(requests == H2_CALLS, "h2: nginx logged %d of the %d requests", requests, H2_CALLS);
    CHECK(over_h2 == requests, "h2: %d of %d requests over HTTP/2", over_h2, requests);
    CHECK(connections == 1, "h2: the %d calls in flight together took %d connections, not one", requests,
          connections);

    /* A blocking call over TLS negotiates HTTP/2 too. */
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, "t_h2_blocking", NULL, &result);
    CHECK(status == KASKO_ERR_NOT_FOUND, "h2: a blocking view: %s", kasko_status_name(status));
    kasko_result_free(result);
    h2_log(log, "/payments/t_h2_blocking", &requests, &over_h2, &connections);
    CHECK(requests == 1 && over_h2 == 1, "h2: the blocking view: %d requests, %d over HTTP/2", requests, over_h2);
    kasko_client_free(client);
}

int main(void) {
    sandbox_environment(&sandbox_url, &public_key, &secret_key, "scripts/check-transport");
    test_tls();
    test_proxy();
    test_http2();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
