/*
 * C tests of the per-client event hook (issue 13, C API 1.2):
 * kasko_client_set_event_hook and kasko_result_total_time_us.
 *
 * Runs against a kasko-sandbox started with --faults (KASKO_SANDBOX_URL;
 * KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox ...): a 503 then success
 * for a retried view, a delay fault with a per-call timeout, a refused
 * connection (unused port) for a failure before the request is written.
 * `make check-events` runs it twice: with the sandbox's short keys, and with
 * long random keys (--public-key/--secret-key and KASKO_SANDBOX_PUBLIC_KEY /
 * KASKO_SANDBOX_SECRET_KEY), so that "no event holds a key" is not trivially
 * true. KASKO_TEST_QUICK=1 shrinks the thread test for valgrind.
 *
 * fork(): a child forked while another thread sleeps inside a hook sets,
 * calls and clears at once (the inherited hook delivers there too); a child
 * forked from inside a hook is inside it (set refused, a nested call
 * delivers nothing) until the hook returns, then sets, calls and clears.
 * Each child has a watchdog alarm, so a deadlock fails instead of hanging.
 *
 * Events of TLS calls and of TLS failures are in test_transport.c, which
 * has the TLS rig (scripts/check-transport).
 */
#define _DEFAULT_SOURCE
#include <kasko.h>

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url;
static const char *public_key;
static const char *secret_key;
static int quick;

/* ---- what the recording hook keeps of each event ---------------------- */

struct event {
    char kind[16];
    char operation[32];
    char method[8];
    char route[32];
    char path[256];
    char status[48];
    char outcome[16];
    int64_t attempt;
    int64_t http_status; /* -1: null */
    int retry;
    int64_t retry_delay_ms; /* -1: null */
    int64_t bytes_sent, bytes_received;
    int64_t dns, connect, tls, first_byte; /* -1: null */
    int64_t total;
    int accessors_agree;
    char *json;
};

#define MAX_EVENTS 4096
static struct event events[MAX_EVENTS];
static int event_count;
static int events_dropped;
/* Events that held a key or more of the public key than its hint, and all
 * events seen, over the whole run. */
static int key_leaks;
static int events_seen;
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;

static void clear_events(void) {
    pthread_mutex_lock(&events_lock);
    for (int i = 0; i < event_count; i++) free(events[i].json);
    event_count = 0;
    events_dropped = 0;
    pthread_mutex_unlock(&events_lock);
}

static void record_hook(const kasko_result *event, void *user_data) {
    (void)user_data;
    struct event e;
    memset(&e, 0, sizeof e);
    result_string_member(event, "event", e.kind, sizeof e.kind);
    result_string_member(event, "operation", e.operation, sizeof e.operation);
    result_string_member(event, "method", e.method, sizeof e.method);
    result_string_member(event, "route", e.route, sizeof e.route);
    result_string_member(event, "path", e.path, sizeof e.path);
    result_string_member(event, "status", e.status, sizeof e.status);
    result_string_member(event, "outcome", e.outcome, sizeof e.outcome);
    e.attempt = result_int_member(event, "attempt");
    e.http_status = result_int_member(event, "http_status");
    if (kasko_result_member_bool(event, "retry", &e.retry) != KASKO_OK) e.retry = -1;
    e.retry_delay_ms = result_int_member(event, "retry_delay_ms");
    e.bytes_sent = result_int_member(event, "bytes_sent");
    e.bytes_received = result_int_member(event, "bytes_received");
    e.dns = result_int_member(event, "dns_us");
    e.connect = result_int_member(event, "connect_us");
    e.tls = result_int_member(event, "tls_us");
    e.first_byte = result_int_member(event, "first_byte_us");
    e.total = result_int_member(event, "total_us");
    /* The typed accessors say what the members say. */
    e.accessors_agree = strcmp(kasko_status_name(kasko_result_status(event)), e.status) == 0
                        && kasko_result_attempts(event) == e.attempt
                        && kasko_result_http_status(event) == (e.http_status < 0 ? 0 : e.http_status)
                        && kasko_result_total_time_us(event) == 0;
    const char *json = kasko_result_json(event);
    e.json = json != NULL ? strdup(json) : NULL;
    int leaked = json == NULL || strstr(json, secret_key) != NULL || strstr(json, public_key) != NULL;
    if (json != NULL && strlen(public_key) > 16) {
        /* A hint shows the last four characters at most. */
        char middle[8];
        snprintf(middle, sizeof middle, "%.6s", public_key + 8);
        if (strstr(json, middle)) leaked = 1;
    }
    pthread_mutex_lock(&events_lock);
    key_leaks += leaked;
    events_seen++;
    if (event_count < MAX_EVENTS)
        events[event_count++] = e;
    else {
        events_dropped++;
        free(e.json);
    }
    pthread_mutex_unlock(&events_lock);
}

/* ---- helpers ---------------------------------------------------------- */

static kasko_client *client_for(const char *url, int max_retries, long timeout_ms) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":%d,\"timeout_ms\":%ld}",
             public_key, secret_key, url, max_retries, timeout_ms);
    kasko_client *client = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &client, &error);
    if (status != KASKO_OK || client == NULL) {
        fprintf(stderr, "kasko_client_new: %s %s\n", kasko_status_name(status), error ? error : "");
        exit(2);
    }
    return client;
}

struct offer {
    char policy_id[128];
    char token[256];
};

static void new_offer(struct offer *offer) {
    if (sandbox_new_offer(base_url, offer->policy_id, sizeof offer->policy_id, offer->token, sizeof offer->token) != 0) {
        fprintf(stderr, "cannot get an offer from the sandbox at %s\n", base_url);
        exit(2);
    }
}

/* A payment made without a hook; its id in `id`. */
static void new_payment(kasko_client *client, char *id, size_t size, struct offer *offer) {
    new_offer(offer);
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_create_v2(client, offer->token, "invoice", "invoice", offer->policy_id, NULL,
                                                  &result);
    const char *value = NULL;
    if (status != KASKO_OK || kasko_result_member_string(result, "id", &value, NULL) != KASKO_OK) {
        fprintf(stderr, "cannot create a payment: %s\n", kasko_result_message(result));
        exit(2);
    }
    snprintf(id, size, "%s", value);
    kasko_result_free(result);
}

static void arm(const char *key, const char *fault, int times) {
    long status = sandbox_arm_fault(base_url, key, fault, times);
    CHECK(status == 201, "arming %s on %s: HTTP %ld (is the sandbox running with --faults?)", fault, key, status);
}

/* Per attempt: the phases that happened come in order, none after the
 * total; over plain http there is no TLS. */
static void check_attempt_timings(const struct event *e, int plain_http) {
    CHECK(e->dns >= 0 && e->connect >= 0 && e->tls >= 0 && e->first_byte >= 0 && e->total >= 0,
          "an attempt's timings are numbers: %s", e->json);
    int64_t last = 0;
    const int64_t phases[] = {e->dns, e->connect, e->tls, e->first_byte};
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        if (phases[i] == 0) continue;
        CHECK(phases[i] >= last, "timings are monotonic: %s", e->json);
        last = phases[i];
    }
    CHECK(last <= e->total, "no phase after the total: %s", e->json);
    if (plain_http) CHECK(e->tls == 0, "no TLS time over http: %s", e->json);
}

/* ---- tests ------------------------------------------------------------ */

static void test_set_and_clear(void) {
    kasko_client *client = client_for(base_url, 0, 5000);
    CHECK(kasko_client_set_event_hook(NULL, record_hook, NULL) == KASKO_ERR_INVALID_ARGUMENT, "NULL client");
    CHECK(kasko_client_set_event_hook(client, NULL, NULL) == KASKO_OK, "clearing an unset hook");
    CHECK(kasko_client_set_event_hook(client, record_hook, NULL) == KASKO_OK, "setting");
    CHECK(kasko_client_set_event_hook(client, record_hook, NULL) == KASKO_OK, "setting again");
    CHECK(kasko_client_set_event_hook(client, NULL, NULL) == KASKO_OK, "clearing");
    clear_events();
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, "pay_none", NULL, &result);
    CHECK(status == KASKO_ERR_NOT_FOUND, "a view of no payment: %s", kasko_status_name(status));
    CHECK(event_count == 0, "no events after clearing: %d", event_count);
    CHECK(kasko_result_total_time_us(result) > 0, "a failed call's total time: %" PRId64,
          kasko_result_total_time_us(result));
    kasko_result_free(result);
    CHECK(kasko_result_total_time_us(NULL) == 0, "NULL result");
    kasko_client_free(client);
}

/* A 503 then success on a view: two attempt events and a call end, whose
 * attempts equal the result's. */
static void test_retried_view(void) {
    kasko_client *client = client_for(base_url, 2, 5000);
    char id[128];
    struct offer offer;
    new_payment(client, id, sizeof id, &offer);
    arm(id, "{\"status\":503}", 1);
    CHECK(kasko_client_set_event_hook(client, record_hook, NULL) == KASKO_OK, "setting");
    clear_events();
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, id, NULL, &result);
    CHECK(status == KASKO_OK, "the retried view: %s %s", kasko_status_name(status), kasko_result_message(result));
    int attempts = kasko_result_attempts(result);
    int64_t call_time = kasko_result_total_time_us(result);
    CHECK(attempts == 2, "attempts: %d", attempts);
    CHECK(event_count == attempts + 1, "one event per attempt and a call end: %d", event_count);
    if (event_count == 3) {
        struct event *first = &events[0], *second = &events[1], *end = &events[2];
        CHECK(strcmp(first->kind, "attempt") == 0 && strcmp(second->kind, "attempt") == 0, "attempt events");
        CHECK(strcmp(end->kind, "call_end") == 0, "the call end last: %s", end->json);
        CHECK(first->attempt == 1 && second->attempt == 2 && end->attempt == attempts, "attempt numbers");
        CHECK(first->http_status == 503 && strcmp(first->status, "KASKO_ERR_SERVER") == 0, "first: %s", first->json);
        CHECK(first->retry == 1 && first->retry_delay_ms >= 0, "first is retried: %s", first->json);
        CHECK(second->http_status == 200 && strcmp(second->status, "KASKO_OK") == 0
                  && strcmp(second->outcome, "succeeded") == 0 && second->retry == 0 && second->retry_delay_ms == -1,
              "second: %s", second->json);
        CHECK(strcmp(end->status, "KASKO_OK") == 0 && end->http_status == 200, "end: %s", end->json);
        for (int i = 0; i < 3; i++) {
            CHECK(strcmp(events[i].operation, "payment_get") == 0 && strcmp(events[i].method, "GET") == 0
                      && strcmp(events[i].route, "/payments/{id}") == 0,
                  "operation, method, route: %s", events[i].json);
            char path[256];
            snprintf(path, sizeof path, "/payments/%s", id);
            CHECK(strcmp(events[i].path, path) == 0, "path %s: %s", path, events[i].json);
            CHECK(events[i].accessors_agree, "accessors agree with members: %s", events[i].json);
            CHECK(events[i].bytes_sent > 0 && events[i].bytes_received > 0, "bytes: %s", events[i].json);
            CHECK(json_has_field(events[i].json, "request_id"), "request_id member: %s", events[i].json);
        }
        char request_id[128];
        CHECK(json_string_field(second->json, "request_id", request_id, sizeof request_id) == 0
                  && strcmp(request_id, kasko_result_request_id(result)) == 0,
              "the success's request id: %s", second->json);
        check_attempt_timings(first, 1);
        check_attempt_timings(second, 1);
        CHECK(end->dns == -1 && end->first_byte == -1, "a call end has no phases: %s", end->json);
        CHECK(first->total + second->total <= end->total, "attempts within the call: %" PRId64 " + %" PRId64 " > %" PRId64,
              first->total, second->total, end->total);
        CHECK(end->bytes_sent == first->bytes_sent + second->bytes_sent, "a call end sums bytes: %s", end->json);
        CHECK(end->total == call_time, "the result's total time %" PRId64 " is the call end's %" PRId64, call_time,
              end->total);
    }
    kasko_result_free(result);

    /* A 1.0 call reports too, and a create. */
    clear_events();
    char *json = NULL;
    status = kasko_payment_get(client, id, &json);
    CHECK(status == KASKO_OK && event_count == 2, "a 1.0 view: %s, %d events", kasko_status_name(status), event_count);
    if (event_count == 2) CHECK(events[0].http_status == 200 && events[0].json && strstr(events[0].json, "\"request_id\":\""),
                                "a 1.0 view's attempt has its request id: %s", events[0].json);
    kasko_string_free(json);
    clear_events();
    new_offer(&offer);
    status = kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result);
    CHECK(status == KASKO_OK && event_count == 2, "a create: %s, %d events", kasko_status_name(status), event_count);
    if (event_count == 2) {
        CHECK(strcmp(events[0].operation, "payment_create") == 0 && strcmp(events[0].method, "POST") == 0
                  && strcmp(events[0].route, "/payments") == 0 && strcmp(events[0].path, "/payments") == 0,
              "a create's attempt: %s", events[0].json);
        CHECK(!strstr(events[0].json, offer.token) && !strstr(events[1].json, offer.token), "no token in a create's events");
    }
    kasko_result_free(result);
    CHECK(kasko_client_set_event_hook(client, NULL, NULL) == KASKO_OK, "clearing");
    kasko_client_free(client);
}

/* A delay fault and a per-call timeout: an attempt event with
 * KASKO_ERR_NETWORK, outcome unknown, no status. */
static void test_timeout(void) {
    kasko_client *client = client_for(base_url, 0, 5000);
    char id[128];
    struct offer offer;
    new_payment(client, id, sizeof id, &offer);
    arm(id, "{\"delay_ms\":1500}", 1);
    kasko_call_options *options = kasko_call_options_new();
    CHECK(kasko_call_options_set_timeout_ms(options, 300) == KASKO_OK, "a timeout");
    CHECK(kasko_client_set_event_hook(client, record_hook, NULL) == KASKO_OK, "setting");
    clear_events();
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, id, options, &result);
    CHECK(status == KASKO_ERR_NETWORK, "timed out: %s", kasko_status_name(status));
    CHECK(event_count == 2, "an attempt and a call end: %d", event_count);
    if (event_count == 2) {
        CHECK(strcmp(events[0].kind, "attempt") == 0 && strcmp(events[0].status, "KASKO_ERR_NETWORK") == 0
                  && events[0].http_status == -1 && events[0].retry == 0,
              "the timed-out attempt: %s", events[0].json);
        CHECK(events[0].total >= 250000, "it took the timeout: %s", events[0].json);
        CHECK(json_has_field(events[0].json, "message") && strstr(events[0].json, "\"message\":\""),
              "a failed attempt has a message: %s", events[0].json);
        CHECK(strcmp(events[1].kind, "call_end") == 0 && strcmp(events[1].status, "KASKO_ERR_NETWORK") == 0
                  && events[1].attempt == 1,
              "the call end: %s", events[1].json);
    }
    kasko_result_free(result);
    kasko_call_options_free(options);

    /* Nothing listening: failed before the request was written, retried. */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", unused_loopback_port());
    kasko_client *nowhere = client_for(url, 1, 2000);
    CHECK(kasko_client_set_event_hook(nowhere, record_hook, NULL) == KASKO_OK, "setting");
    clear_events();
    status = kasko_payment_get_v2(nowhere, "pay_x", NULL, &result);
    CHECK(status == KASKO_ERR_NETWORK && kasko_result_attempts(result) == 2, "refused twice: %s, %d",
          kasko_status_name(status), kasko_result_attempts(result));
    CHECK(event_count == 3, "two attempts and a call end: %d", event_count);
    if (event_count == 3) {
        CHECK(strcmp(events[0].outcome, "not_sent") == 0 && events[0].retry == 1 && events[0].retry_delay_ms >= 0,
              "the first refused connection is retried: %s", events[0].json);
        CHECK(events[1].retry == 0 && events[1].retry_delay_ms == -1, "the last is not: %s", events[1].json);
        CHECK(strcmp(events[2].outcome, "not_sent") == 0 && events[2].attempt == 2, "end: %s", events[2].json);
        CHECK(events[0].total + events[1].total + events[0].retry_delay_ms * 1000 <= events[2].total + 1000,
              "the call end includes the retry wait: %s", events[2].json);
    }
    kasko_result_free(result);
    kasko_client_free(nowhere);
    kasko_client_free(client);
}

/* Refused before any I/O once the client exists: one call end, attempt 0. */
static void test_refused_before_io(void) {
    kasko_client *client = client_for(base_url, 0, 5000);
    CHECK(kasko_client_set_event_hook(client, record_hook, NULL) == KASKO_OK, "setting");
    struct {
        const char *what;
        const char *operation;
    } cases[] = {{"bad payment id", "payment_get"},      {"NULL payment id", "payment_get"},
                 {"1.0 bad payment id", "payment_get"},  {"NULL token", "payment_create"},
                 {"refused options", "payment_get"},     {"1.0 malformed request", "payment_create"}};
    kasko_call_options *bad = kasko_call_options_new();
    /* A traceparent the options refuse keeps the call from being made. */
    (void)kasko_call_options_set_traceparent(bad, "not a traceparent");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clear_events();
        kasko_result *result = NULL;
        char *json = NULL;
        kasko_status status;
        switch (i) {
        case 0: status = kasko_payment_get_v2(client, "bad/id", NULL, &result); break;
        case 1: status = kasko_payment_get_v2(client, NULL, NULL, &result); break;
        case 2: status = kasko_payment_get(client, "bad id", &json); break;
        case 3: status = kasko_payment_create_v2(client, NULL, "invoice", "invoice", "tpol_x", NULL, &result); break;
        case 4: status = kasko_payment_get_v2(client, "pay_x", bad, &result); break;
        default: status = kasko_payment_create(client, "{\"token\":", &json); break;
        }
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "%s: %s", cases[i].what, kasko_status_name(status));
        CHECK(event_count == 1, "%s: one event: %d", cases[i].what, event_count);
        if (event_count == 1) {
            CHECK(strcmp(events[0].kind, "call_end") == 0 && events[0].attempt == 0
                      && strcmp(events[0].status, "KASKO_ERR_INVALID_ARGUMENT") == 0
                      && strcmp(events[0].outcome, "not_sent") == 0 && events[0].http_status == -1,
                  "%s: %s", cases[i].what, events[0].json);
            CHECK(strcmp(events[0].operation, cases[i].operation) == 0, "%s: operation: %s", cases[i].what,
                  events[0].json);
        }
        if (result != NULL) CHECK(kasko_result_total_time_us(result) == 0, "%s: no time", cases[i].what);
        kasko_result_free(result);
        kasko_string_free(json);
    }
    kasko_call_options_free(bad);
    /* A NULL client has no hook to tell. */
    clear_events();
    kasko_result *result = NULL;
    CHECK(kasko_payment_get_v2(NULL, "pay_x", NULL, &result) == KASKO_ERR_INVALID_ARGUMENT && event_count == 0,
          "NULL client: no event");
    kasko_result_free(result);
    kasko_client_free(client);
}

/* ---- reentrancy ------------------------------------------------------- */

static kasko_client *reentrant_client;
static char reentrant_id[128];
static int nested_status = -1;
static int nested_set_status = -1;
static int nested_clear_status = -1;
static int reentrant_calls;

static void reentrant_hook(const kasko_result *event, void *user_data) {
    record_hook(event, user_data);
    if (__atomic_fetch_add(&reentrant_calls, 1, __ATOMIC_SEQ_CST) != 0) return;
    /* A call from inside the hook works and reports nothing. */
    kasko_result *result = NULL;
    nested_status = kasko_payment_get_v2(reentrant_client, reentrant_id, NULL, &result);
    kasko_result_free(result);
    /* Setting or clearing a hook from inside one is refused, no deadlock. */
    nested_set_status = kasko_client_set_event_hook(reentrant_client, record_hook, NULL);
    nested_clear_status = kasko_client_set_event_hook(reentrant_client, NULL, NULL);
    /* Sleeping only delays this call. */
    usleep(50000);
}

static void test_reentrancy(void) {
    reentrant_client = client_for(base_url, 0, 5000);
    struct offer offer;
    new_payment(reentrant_client, reentrant_id, sizeof reentrant_id, &offer);
    CHECK(kasko_client_set_event_hook(reentrant_client, reentrant_hook, NULL) == KASKO_OK, "setting");
    clear_events();
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(reentrant_client, reentrant_id, NULL, &result);
    CHECK(status == KASKO_OK, "the outer call: %s", kasko_status_name(status));
    CHECK(nested_status == KASKO_OK, "the nested call: %d", nested_status);
    CHECK(nested_set_status == KASKO_ERR_INVALID_ARGUMENT, "set inside a hook: %d", nested_set_status);
    CHECK(nested_clear_status == KASKO_ERR_INVALID_ARGUMENT, "clear inside a hook: %d", nested_clear_status);
    CHECK(event_count == 2, "the outer call's events only: %d", event_count);
    if (event_count == 2)
        CHECK(events[1].total == kasko_result_total_time_us(result),
              "the call's time runs to its answer, not through its last hook: %" PRId64 " vs %" PRId64,
              events[1].total, kasko_result_total_time_us(result));
    kasko_result_free(result);
    /* The hook is still the reentrant one: the refused set changed nothing. */
    clear_events();
    reentrant_calls = 0;
    status = kasko_payment_get_v2(reentrant_client, reentrant_id, NULL, &result);
    CHECK(status == KASKO_OK && reentrant_calls == 2, "still set: %d hook calls", reentrant_calls);
    kasko_result_free(result);
    CHECK(kasko_client_set_event_hook(reentrant_client, NULL, NULL) == KASKO_OK, "clearing outside");
    kasko_client_free(reentrant_client);
}

/* ---- set and clear while 8 threads make calls -------------------------- */

static kasko_client *busy_client;
static char busy_id[128];
static int busy_calls_each;
static int sleeping_hook; /* whether counting_hook sleeps */
static int busy_failures;

static void counting_hook(const kasko_result *event, void *user_data) {
    long *counter = user_data;
    const char *json = kasko_result_json(event);
    if (json == NULL || strstr(json, secret_key) || strstr(json, public_key))
        __atomic_fetch_add(&busy_failures, 1, __ATOMIC_SEQ_CST);
    if (sleeping_hook) usleep(2000);
    __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
}

static void *busy_caller(void *unused) {
    (void)unused;
    for (int i = 0; i < busy_calls_each; i++) {
        kasko_result *result = NULL;
        if (kasko_payment_get_v2(busy_client, busy_id, NULL, &result) != KASKO_OK)
            __atomic_fetch_add(&busy_failures, 1, __ATOMIC_SEQ_CST);
        kasko_result_free(result);
    }
    return NULL;
}

static void test_set_while_calls_run(void) {
    busy_client = client_for(base_url, 0, 10000);
    struct offer offer;
    new_payment(busy_client, busy_id, sizeof busy_id, &offer);
    busy_calls_each = quick ? 8 : 60;
    enum { THREADS = 8 };
    pthread_t threads[THREADS];
    long last_after_clear = 0;
    int late_calls = 0;
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, busy_caller, NULL);
    for (int round = 0; round < (quick ? 4 : 20); round++) {
        sleeping_hook = round % 2;
        long *counter = calloc(1, sizeof *counter);
        CHECK(kasko_client_set_event_hook(busy_client, counting_hook, counter) == KASKO_OK, "set, round %d", round);
        usleep(5000);
        CHECK(kasko_client_set_event_hook(busy_client, NULL, NULL) == KASKO_OK, "clear, round %d", round);
        /* Once clear has returned, the hook never runs again. */
        long after_clear = __atomic_load_n(counter, __ATOMIC_SEQ_CST);
        usleep(3000);
        if (__atomic_load_n(counter, __ATOMIC_SEQ_CST) != after_clear) late_calls++;
        last_after_clear += after_clear;
        free(counter); /* its user data may be freed now */
    }
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
    CHECK(late_calls == 0, "hooks called after clear returned: %d rounds", late_calls);
    CHECK(busy_failures == 0, "calls or events failed: %d", busy_failures);
    printf("set/clear under load: %ld events in the set windows\n", last_after_clear);
    kasko_client_free(busy_client);
}

/* ---- fork() and the hook ---------------------------------------------- */

/* A child inherits the hook (it is the same program, the same user data),
 * but none of the other threads: not one that was inside a hook when the
 * process forked. So in a child forked while another thread sleeps in a
 * hook, set and clear return at once and calls deliver; and a child forked
 * from inside a hook is inside it (set refused, calls from it deliver
 * nothing) until the hook returns, then like any other. Every child has a
 * watchdog alarm (default action: killed by SIGALRM), so a deadlock fails
 * the test instead of hanging it; the parent kills a child that is late. */

enum { CHILD_SECONDS = 10, CHILD_WAIT_MS = 20000 };

static pid_t test_pid;
static kasko_client *fork_client;
static char fork_id[128];
static int entered_pipe[2]; /* the parent's hook writes a byte when it starts sleeping */
static int release_pipe[2]; /* ... and returns when it reads one */
static int report_pipe[2];  /* a child writes its number of failures */

static void child_counter_hook(const kasko_result *event, void *user_data) {
    (void)event;
    ++*(long *)user_data;
}

/* In the test process: the first event says so and sleeps until released.
 * In a child: counts into user_data. */
static int gate_slept;
static void gate_hook(const kasko_result *event, void *user_data) {
    (void)event;
    if (getpid() != test_pid) {
        ++*(long *)user_data;
        return;
    }
    if (__atomic_exchange_n(&gate_slept, 1, __ATOMIC_SEQ_CST)) return;
    char byte = 'e';
    if (write(entered_pipe[1], &byte, 1) != 1) return;
    struct pollfd ready = {.fd = release_pipe[0], .events = POLLIN};
    if (poll(&ready, 1, CHILD_WAIT_MS + 5000) == 1) (void)!read(release_pipe[0], &byte, 1);
}

static void *gate_caller(void *unused) {
    (void)unused;
    kasko_result *result = NULL;
    if (kasko_payment_get_v2(fork_client, fork_id, NULL, &result) != KASKO_OK)
        __atomic_fetch_add(&busy_failures, 1, __ATOMIC_SEQ_CST);
    kasko_result_free(result);
    return NULL;
}

/* One view in this process; the events it delivered to `counter`. */
static long counted_view(long *counter) {
    long before = *counter;
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(fork_client, fork_id, NULL, &result);
    CHECK(status == KASKO_OK, "a view in the child: %s", kasko_status_name(status));
    kasko_result_free(result);
    return *counter - before;
}

/* In a child: set, call, clear, call; exits with the number of failures. */
static void child_set_call_clear(long *inherited_counter) {
    long counter = 0;
    if (inherited_counter != NULL)
        CHECK(counted_view(inherited_counter) == 2, "the inherited hook delivers in the child");
    CHECK(kasko_client_set_event_hook(fork_client, child_counter_hook, &counter) == KASKO_OK, "set in the child");
    CHECK(counted_view(&counter) == 2, "the child's own hook: %ld events", counter);
    CHECK(kasko_client_set_event_hook(fork_client, NULL, NULL) == KASKO_OK, "clear in the child");
    CHECK(counted_view(&counter) == 0, "nothing after clear in the child");
    /* Reported on a pipe, not by the exit status: under memcheck a child's
     * exit status is valgrind's, and what the threads it does not have held
     * looks lost to it. */
    char report = (char)(failed < 100 ? failed : 100);
    _exit(write(report_pipe[1], &report, 1) == 1 ? 0 : 3);
}

/* Waits for a child's report and exit, at most CHILD_WAIT_MS, killing it
 * if late. */
static void check_child(pid_t pid, const char *what) {
    char report = -1;
    struct pollfd reported = {.fd = report_pipe[0], .events = POLLIN};
    int got = poll(&reported, 1, CHILD_WAIT_MS) == 1 && read(report_pipe[0], &report, 1) == 1;
    int status = 0;
    pid_t done = 0;
    for (int waited = 0; waited < 5000 && (done = waitpid(pid, &status, WNOHANG)) == 0; waited += 10) usleep(10000);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (!got) {
        CHECK(0, "%s: no report from the child (%s %d; SIGALRM = 14 is its watchdog: a deadlock)", what,
              WIFSIGNALED(status) ? "killed by signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return;
    }
    CHECK(report == 0, "%s: %d failure(s) in the child", what, report);
    CHECK(done == pid && !WIFSIGNALED(status), "%s: the child exited", what);
}

static void test_fork_while_a_hook_sleeps(void) {
    fork_client = client_for(base_url, 0, 10000);
    struct offer offer;
    new_payment(fork_client, fork_id, sizeof fork_id, &offer);
    CHECK(pipe(entered_pipe) == 0 && pipe(release_pipe) == 0 && pipe(report_pipe) == 0, "pipes");
    long inherited_counter = 0;
    gate_slept = 0;
    CHECK(kasko_client_set_event_hook(fork_client, gate_hook, &inherited_counter) == KASKO_OK, "set the gate hook");
    pthread_t caller;
    pthread_create(&caller, NULL, gate_caller, NULL);
    char byte = 0;
    struct pollfd entered = {.fd = entered_pipe[0], .events = POLLIN};
    int in_hook = poll(&entered, 1, 10000) == 1 && read(entered_pipe[0], &byte, 1) == 1;
    CHECK(in_hook, "the caller thread is inside the hook");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(CHILD_SECONDS);
        passed = failed = 0;
        child_set_call_clear(&inherited_counter);
    }
    CHECK(pid > 0, "fork");
    if (pid > 0) check_child(pid, "fork while another thread is inside a hook");
    byte = 'r';
    CHECK(write(release_pipe[1], &byte, 1) == 1, "release the hook");
    pthread_join(caller, NULL);
    /* The parent is unaffected: its own set and clear work. */
    CHECK(kasko_client_set_event_hook(fork_client, NULL, NULL) == KASKO_OK, "clear in the parent");
    close(entered_pipe[0]);
    close(entered_pipe[1]);
    close(release_pipe[0]);
    close(release_pipe[1]);
}

/* fork() from inside a hook, on the thread that delivers. */
static pid_t forked_in_hook;
static int child_nested_set = -1;
static long child_nested_events = -1;
static void forking_hook(const kasko_result *event, void *user_data) {
    (void)event;
    long *counter = user_data;
    if (getpid() != test_pid) {
        ++*counter;
        return;
    }
    if (forked_in_hook != 0) return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) {
        forked_in_hook = pid;
        return;
    }
    /* The child, inside the hook: set is still refused, a call delivers nothing. */
    alarm(CHILD_SECONDS);
    passed = failed = 0;
    long other = 0;
    child_nested_set = kasko_client_set_event_hook(fork_client, child_counter_hook, &other);
    long before = *counter;
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(fork_client, fork_id, NULL, &result);
    kasko_result_free(result);
    child_nested_events = status == KASKO_OK ? *counter - before + other : -1;
}

static void test_fork_inside_a_hook(void) {
    long counter = 0;
    forked_in_hook = 0;
    CHECK(kasko_client_set_event_hook(fork_client, forking_hook, &counter) == KASKO_OK, "set the forking hook");
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(fork_client, fork_id, NULL, &result);
    kasko_result_free(result);
    if (getpid() != test_pid) {
        /* The child, back from the hook and the call it was in. */
        CHECK(status == KASKO_OK, "the call the child was forked in: %s", kasko_status_name(status));
        CHECK(child_nested_set == KASKO_ERR_INVALID_ARGUMENT, "set from inside the hook in the child: %d",
              child_nested_set);
        CHECK(child_nested_events == 0, "a call from inside the hook in the child delivers nothing: %ld",
              child_nested_events);
        CHECK(counter == 1, "the call's call_end reached the hook in the child: %ld", counter);
        child_set_call_clear(NULL);
    }
    CHECK(status == KASKO_OK, "the call that forked: %s", kasko_status_name(status));
    CHECK(forked_in_hook > 0, "the hook forked");
    if (forked_in_hook > 0) check_child(forked_in_hook, "fork from inside a hook");
    CHECK(kasko_client_set_event_hook(fork_client, NULL, NULL) == KASKO_OK, "clear in the parent");
    kasko_client_free(fork_client);
    close(report_pipe[0]);
    close(report_pipe[1]);
}

/* ---- redaction -------------------------------------------------------- */

static void test_redaction(void) {
    CHECK(key_leaks == 0, "events holding a key: %d of %d", key_leaks, events_seen);
    CHECK(events_seen > 0, "some events were seen");
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox");
    quick = getenv("KASKO_TEST_QUICK") != NULL;
    if (sandbox_attempts(base_url, "probe") < 0) {
        fprintf(stderr, "the sandbox has no fault injection: run under KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox\n");
        return 2;
    }
    test_set_and_clear();
    test_retried_view();
    test_timeout();
    test_refused_before_io();
    test_reentrancy();
    test_set_while_calls_run();
    test_pid = getpid();
    test_fork_while_a_hook_sleeps();
    test_fork_inside_a_hook();
    test_redaction();
    clear_events();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
