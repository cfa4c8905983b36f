/*
 * Fault-injection tests of the retry rules, against a kasko-sandbox started
 * with --faults (KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox ...).
 *
 * Each test arms a fault for one key (a payment id for views, a policy id for
 * creates), makes a call through libkasko, and asserts both what the call
 * returned and how many requests the sandbox saw: the retry rules are about
 * what reaches the server, so the server's count is the evidence.
 *
 * The rules under test (README, "The error model"):
 * - a view is retried on connect/DNS failures, timeouts, resets, 429, 502,
 *   503 and 504, up to max_retries times;
 * - a create is retried only when it provably never reached the server; a
 *   create that was sent and got no answer reports outcome "unknown";
 * - Retry-After is honoured.
 */
#define _POSIX_C_SOURCE 200809L
#include <kasko.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url;
static const char *public_key;
static const char *secret_key;

static kasko_client *client_with(int max_retries, int timeout_ms) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":%d,\"timeout_ms\":%d}",
             public_key, secret_key, base_url, max_retries, timeout_ms);
    kasko_client *client = NULL;
    if (kasko_client_new(config, &client, NULL) != KASKO_OK) {
        fprintf(stderr, "cannot make a client\n");
        exit(2);
    }
    return client;
}

struct offer {
    char policy_id[128];
    char token[256];
    char request[1024];
};

static void new_offer(struct offer *offer) {
    if (sandbox_new_offer(base_url, offer->policy_id, sizeof offer->policy_id, offer->token, sizeof offer->token) != 0) {
        fprintf(stderr, "cannot create an offer\n");
        exit(2);
    }
    snprintf(offer->request, sizeof offer->request,
             "{\"token\":\"%s\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"%s\"}", offer->token,
             offer->policy_id);
}

/* A payment to view: created without faults. */
static void existing_payment(kasko_client *client, char *id, size_t size) {
    struct offer offer;
    new_offer(&offer);
    char *json = NULL;
    if (kasko_payment_create(client, offer.request, &json) != KASKO_OK || json_string_field(json, "id", id, size) != 0) {
        fprintf(stderr, "cannot create a payment: %s\n", json ? json : "");
        exit(2);
    }
    kasko_string_free(json);
}

static double now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void arm(const char *key, const char *fault, int times) {
    long status = sandbox_arm_fault(base_url, key, fault, times);
    CHECK(status == 201, "arming %s for %s: HTTP %ld", fault, key, status);
}

static long error_attempts(const char *json) {
    return json != NULL ? json_int_field(json, "attempts") : -1;
}

static int has(const char *json, const char *text) {
    return json != NULL && strstr(json, text) != NULL;
}

/* ---- views --------------------------------------------------------------- */

/* A view that fails `times` times with `fault`, on a client allowing two
 * retries: the expected status, and how many requests reached the server. */
static void view_case(const char *name, const char *fault, int times, kasko_status expected, long expected_attempts,
                      const char *must_contain) {
    /* The payment is made by another client, so that the view's first
     * attempt opens its own connection: on a reused connection that dies
     * without an answer, libcurl replays a view once by itself (harmless for
     * a view, and never done for a create), which would add one request. */
    char id[129];
    kasko_client *maker = client_with(0, 5000);
    existing_payment(maker, id, sizeof id);
    kasko_client_free(maker);
    kasko_client *client = client_with(2, 1000);
    arm(id, fault, times);
    char *json = NULL;
    kasko_status status = kasko_payment_get(client, id, &json);
    CHECK(status == expected, "%s: %s, want %s: %s", name, kasko_status_name(status), kasko_status_name(expected),
          json ? json : "");
    long seen = sandbox_attempts(base_url, id);
    CHECK(seen == expected_attempts, "%s: the sandbox saw %ld requests, want %ld", name, seen, expected_attempts);
    if (status != KASKO_OK) {
        CHECK(error_attempts(json) == expected_attempts, "%s: attempts in %s", name, json ? json : "");
    }
    if (must_contain != NULL) {
        CHECK(has(json, must_contain), "%s: want '%s' in %s", name, must_contain, json ? json : "");
    }
    kasko_string_free(json);
    kasko_client_free(client);
}

static void test_view_retries(void) {
    /* Retried statuses: two failures, then the real answer. */
    view_case("view 503 twice", "{\"status\":503}", 2, KASKO_OK, 3, "\"object\":\"payment\"");
    view_case("view 502 once", "{\"status\":502}", 1, KASKO_OK, 2, NULL);
    view_case("view 504 once", "{\"status\":504}", 1, KASKO_OK, 2, NULL);
    view_case("view 429 once", "{\"status\":429,\"retry_after\":0}", 1, KASKO_OK, 2, NULL);
    /* Always failing: max_retries + 1 attempts, then the last error. */
    view_case("view 503 always", "{\"status\":503}", 0, KASKO_ERR_SERVER, 3, "\"retryable\":true");
    view_case("view 429 always", "{\"status\":429,\"retry_after\":0}", 0, KASKO_ERR_RATE_LIMITED, 3,
              "\"http_status\":429");
    /* Not retried: a server error that is not transient, client errors. */
    view_case("view 500", "{\"status\":500}", 0, KASKO_ERR_SERVER, 1, "\"http_status\":500");
    view_case("view 400", "{\"status\":400}", 0, KASKO_ERR_BAD_REQUEST, 1, NULL);
    /* No answer: dropped, reset, timed out; a view is safe to send again. */
    view_case("view dropped once", "{\"drop\":\"after_body\"}", 1, KASKO_OK, 2, NULL);
    view_case("view reset once", "{\"reset\":true}", 1, KASKO_OK, 2, NULL);
    view_case("view timed out once", "{\"delay_ms\":3000}", 1, KASKO_OK, 2, NULL);
    view_case("view dropped always", "{\"drop\":\"after_body\"}", 0, KASKO_ERR_NETWORK, 3, "\"outcome\":\"unknown\"");
    view_case("view truncated always", "{\"body\":\"truncated\"}", 0, KASKO_ERR_NETWORK, 3, NULL);
    /* A bad body is not a transient failure: reported at once. */
    view_case("view non-JSON", "{\"body\":\"non_json\"}", 0, KASKO_ERR_INVALID_RESPONSE, 1, "\"http_status\":200");
    view_case("view not a payment", "{\"body\":\"not_payment\"}", 0, KASKO_ERR_INVALID_RESPONSE, 1, "not a payment");
    view_case("view oversized", "{\"body\":\"oversized\"}", 0, KASKO_ERR_INVALID_RESPONSE, 1, "larger than");
    /* Slow is not broken. */
    view_case("view trickled", "{\"trickle_ms\":2}", 0, KASKO_OK, 1, NULL);
}

static void test_retry_after(void) {
    kasko_client *client = client_with(2, 5000);
    char id[129];
    existing_payment(client, id, sizeof id);
    arm(id, "{\"status\":503,\"retry_after\":1}", 1);
    double start = now_seconds();
    char *json = NULL;
    kasko_status status = kasko_payment_get(client, id, &json);
    double waited = now_seconds() - start;
    CHECK(status == KASKO_OK, "503 with Retry-After: 1, then OK: %s", kasko_status_name(status));
    /* A lower bound only: the client must have waited what the server asked. */
    CHECK(waited >= 0.95, "Retry-After: 1 honoured: the retry came after %.3f s", waited);
    CHECK(sandbox_attempts(base_url, id) == 2, "two requests");
    kasko_string_free(json);
    kasko_client_free(client);
}

/* ---- creates ------------------------------------------------------------- */

/* A create with a fault: never retried once sent. Returns the status; the
 * error JSON is checked for outcome and attempts. */
static kasko_status create_case(const char *name, const char *fault, int timeout_ms, const char *outcome,
                                struct offer *offer) {
    kasko_client *client = client_with(2, timeout_ms);
    /* A first create leaves a kept-alive connection, so the faulted create
     * goes out on a reused one: the case where libcurl would replay it. */
    char warm[129];
    existing_payment(client, warm, sizeof warm);
    new_offer(offer);
    /* Once: the follow-up check that the policy got paid must not hit it. */
    arm(offer->policy_id, fault, 1);
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, offer->request, &json);
    long seen = sandbox_attempts(base_url, offer->policy_id);
    CHECK(seen == 1, "%s: the create reached the sandbox %ld times, want exactly 1", name, seen);
    CHECK(error_attempts(json) == 1, "%s: attempts in %s", name, json ? json : "");
    char expected[64];
    snprintf(expected, sizeof expected, "\"outcome\":\"%s\"", outcome);
    CHECK(has(json, expected), "%s: want %s in %s", name, expected, json ? json : "");
    kasko_string_free(json);
    kasko_client_free(client);
    return status;
}

/* Whether the policy got paid: a second create for it must then be a 400. */
static int policy_is_paid(const struct offer *offer) {
    kasko_client *client = client_with(0, 5000);
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, offer->request, &json);
    int paid = status == KASKO_ERR_BAD_REQUEST && has(json, "already paid");
    kasko_string_free(json);
    kasko_client_free(client);
    return paid;
}

static void test_create_never_retried_once_sent(void) {
    struct offer offer;
    /* The case that matters most: the server took the payment and the
     * connection dropped before the answer. Sent once, outcome unknown, and
     * the payment does exist. */
    kasko_status status = create_case("create dropped after the body", "{\"drop\":\"after_body\"}", 5000, "unknown", &offer);
    CHECK(status == KASKO_ERR_NETWORK, "dropped create: %s", kasko_status_name(status));
    CHECK(policy_is_paid(&offer), "the dropped create did create the payment (the policy is paid)");

    status = create_case("create reset", "{\"reset\":true}", 5000, "unknown", &offer);
    CHECK(status == KASKO_ERR_NETWORK, "reset create: %s", kasko_status_name(status));

    status = create_case("create timed out", "{\"delay_ms\":2000}", 500, "unknown", &offer);
    CHECK(status == KASKO_ERR_NETWORK, "timed-out create: %s", kasko_status_name(status));

    status = create_case("create 503", "{\"status\":503}", 5000, "unknown", &offer);
    CHECK(status == KASKO_ERR_SERVER, "create 503: %s", kasko_status_name(status));

    status = create_case("create 502", "{\"status\":502}", 5000, "unknown", &offer);
    CHECK(status == KASKO_ERR_SERVER, "create 502: %s", kasko_status_name(status));

    status = create_case("create 429", "{\"status\":429,\"retry_after\":0}", 5000, "rejected", &offer);
    CHECK(status == KASKO_ERR_RATE_LIMITED, "create 429: %s", kasko_status_name(status));
    CHECK(!policy_is_paid(&offer), "a refused create created nothing");

    status = create_case("create non-JSON 200", "{\"body\":\"non_json\"}", 5000, "unknown", &offer);
    CHECK(status == KASKO_ERR_INVALID_RESPONSE, "create non-JSON: %s", kasko_status_name(status));
}

static void test_create_retried_when_not_sent(void) {
    /* Nothing listening: connect fails, provably not sent, so retried. */
    char dead[256];
    snprintf(dead, sizeof dead,
             "{\"public_key\":\"%s\",\"base_url\":\"http://127.0.0.1:%d\",\"max_retries\":2}", public_key,
             unused_loopback_port());
    kasko_client *client = NULL;
    CHECK(kasko_client_new(dead, &client, NULL) == KASKO_OK, "client");
    struct offer offer;
    new_offer(&offer);
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, offer.request, &json);
    CHECK(status == KASKO_ERR_NETWORK && error_attempts(json) == 3 && has(json, "\"outcome\":\"not_sent\"")
              && has(json, "\"retryable\":true"),
          "create to a closed port: 3 attempts, not sent: %s", json ? json : "");
    kasko_string_free(json);
    kasko_client_free(client);
}

static void test_stale_connection_reopened(void) {
    /* The server answers, then closes the kept-alive connection behind the
     * client's back. The next call finds the connection dead and libcurl
     * reconnects without the caller seeing anything, and without sending the
     * request twice. */
    kasko_client *client = client_with(0, 5000);
    char first[129], second[129];
    existing_payment(client, first, sizeof first);
    existing_payment(client, second, sizeof second);
    arm(first, "{\"close\":\"after_response\"}", 1);
    char *json = NULL;
    kasko_status status = kasko_payment_get(client, first, &json);
    CHECK(status == KASKO_OK, "the answer before the close: %s", kasko_status_name(status));
    kasko_string_free(json);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL); /* let the FIN arrive */
    status = kasko_payment_get(client, second, &json);
    CHECK(status == KASKO_OK, "a call on the stale connection succeeds with max_retries 0: %s %s",
          kasko_status_name(status), json ? json : "");
    CHECK(sandbox_attempts(base_url, second) == 1, "and reached the server once (%ld)",
          sandbox_attempts(base_url, second));
    kasko_string_free(json);

    /* A create on a connection the server closed between calls: libcurl
     * notices before sending and reconnects, so it is sent once and works. */
    existing_payment(client, first, sizeof first);
    arm(first, "{\"close\":\"after_response\"}", 1);
    status = kasko_payment_get(client, first, &json);
    kasko_string_free(json);
    nanosleep(&pause, NULL);
    struct offer offer;
    new_offer(&offer);
    status = kasko_payment_create(client, offer.request, &json);
    CHECK(status == KASKO_OK, "a create on the stale connection succeeds: %s %s", kasko_status_name(status),
          json ? json : "");
    CHECK(sandbox_attempts(base_url, offer.policy_id) == 1, "and reached the server once (%ld)",
          sandbox_attempts(base_url, offer.policy_id));
    kasko_string_free(json);
    kasko_client_free(client);
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox");
    if (sandbox_attempts(base_url, "probe") < 0) {
        fprintf(stderr, "the sandbox has no fault injection: start it with --faults\n");
        return 2;
    }
    test_view_retries();
    test_retry_after();
    test_create_never_retried_once_sent();
    test_create_retried_when_not_sent();
    test_stale_connection_reopened();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
