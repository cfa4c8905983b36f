/* The checkout calls (1.3) against the sandbox, over real HTTP:
 * kasko_quote_create(_v2), kasko_offer_create(_v2), kasko_offer_get(_v2),
 * kasko_policy_get(_v2) with kasko_result_etag/last_modified, and
 * kasko_payment_resolve, the way out of "outcome: unknown", under faults
 * that drop the connection after the server acted (the sandbox's
 * per-policy payment list proves no second payment is ever made).
 *
 * Run under scripts/with-sandbox with KASKO_SANDBOX_ARGS=--faults.
 * Nothing here prints a key or a payment token: `make check` searches the
 * output for them. */
#define _POSIX_C_SOURCE 200809L
#include <kasko.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url;
static const char *public_key;
static const char *secret_key;

static const char *or_null(const char *text) { return text != NULL ? text : "(null)"; }

static kasko_client *client_with(int with_secret, int max_retries) {
    char config[1024];
    snprintf(config, sizeof config, "{\"public_key\":\"%s\"%s%s%s,\"base_url\":\"%s\",\"max_retries\":%d}",
             public_key, with_secret ? ",\"secret_key\":\"" : "", with_secret ? secret_key : "",
             with_secret ? "\"" : "", base_url, max_retries);
    kasko_client *client = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &client, &error);
    kasko_string_free(error);
    if (status != KASKO_OK) {
        fprintf(stderr, "kasko_client_new: %s\n", kasko_status_name(status));
        exit(2);
    }
    return client;
}

static const char *quote_request(const char *plan, long trip_cost) {
    static char request[512];
    snprintf(request, sizeof request,
             "{\"integration_id\":\"in_sandbox_travel\",\"item_id\":\"ins_sandbox_travel\","
             "\"subscription_plan_id\":\"%s\",\"data\":{\"trip_cost\":%ld,\"policy_start_date\":\"2027-03-01\"}}",
             plan, trip_cost);
    return request;
}

static int member(const kasko_result *result, const char *name, char *out, size_t size) {
    const char *value = NULL;
    if (kasko_result_member_string(result, name, &value, NULL) != KASKO_OK) return -1;
    snprintf(out, size, "%s", value);
    return 0;
}

/* The error checks every failed call must pass: its status in the result,
 * the outcome, and the attempts (0 before any I/O). */
static void check_error(const kasko_result *result, kasko_status status, kasko_status expected,
                        kasko_outcome outcome, const char *what) {
    CHECK(status == expected, "%s: %s, expected %s (%s)", what, kasko_status_name(status),
          kasko_status_name(expected), or_null(kasko_result_message(result)));
    CHECK(kasko_result_status(result) == status, "%s: result status differs", what);
    CHECK(kasko_result_outcome(result) == outcome, "%s: outcome %s", what,
          kasko_outcome_name(kasko_result_outcome(result)));
    CHECK(kasko_result_message(result) != NULL, "%s: no message", what);
    if (outcome == KASKO_OUTCOME_NOT_SENT && expected == KASKO_ERR_INVALID_ARGUMENT) {
        CHECK(kasko_result_attempts(result) == 0, "%s: %d attempts before any I/O", what,
              kasko_result_attempts(result));
    }
}

/* A quote's token, from the sandbox. */
static void new_quote_token(kasko_client *client, char *token, size_t size) {
    kasko_result *result = NULL;
    kasko_status status = kasko_quote_create_v2(client, quote_request("pp_sandbox_single", 150000), NULL, &result);
    if (status != KASKO_OK || member(result, "token", token, size) != 0) {
        fprintf(stderr, "cannot get a quote: %s %s\n", kasko_status_name(status), or_null(kasko_result_message(result)));
        exit(2);
    }
    kasko_result_free(result);
}

struct offer {
    char policy_id[128];
    char token[512];
};

static const char *offer_request(const char *quote_token, const char *extra) {
    static char request[2048];
    snprintf(request, sizeof request,
             "{\"quote_token\":\"%s\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
             "\"email\":\"ada@example.com\",\"language\":\"en\"%s}",
             quote_token, extra);
    return request;
}

static void new_offer(kasko_client *client, struct offer *offer) {
    char quote[512];
    new_quote_token(client, quote, sizeof quote);
    kasko_result *result = NULL;
    kasko_status status = kasko_offer_create_v2(client, offer_request(quote, ",\"data\":{}"), NULL, &result);
    if (status != KASKO_OK || member(result, "id", offer->policy_id, sizeof offer->policy_id) != 0
        || member(result, "payment_token", offer->token, sizeof offer->token) != 0) {
        fprintf(stderr, "cannot make an offer: %s %s\n", kasko_status_name(status),
                or_null(kasko_result_message(result)));
        exit(2);
    }
    kasko_result_free(result);
}

static double now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Views the policy until its status is `wanted` or 10 s have passed;
 * returns the last result (the caller frees it). */
static kasko_result *policy_when(kasko_client *client, const char *policy_id, const char *wanted) {
    double deadline = now_seconds() + 10.0;
    for (;;) {
        kasko_result *result = NULL;
        char status[64] = "";
        if (kasko_policy_get_v2(client, policy_id, NULL, &result) == KASKO_OK
            && member(result, "status", status, sizeof status) == 0 && strcmp(status, wanted) == 0) {
            return result;
        }
        if (now_seconds() > deadline) return result;
        kasko_result_free(result);
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL); /* between polls of a condition, not instead of one */
    }
}

/* ---- quotes ------------------------------------------------------------- */

static void test_quote(kasko_client *client, kasko_client *public_only) {
    kasko_result *result = NULL;
    kasko_status status = kasko_quote_create_v2(client, quote_request("pp_sandbox_single", 150000), NULL, &result);
    char token[512] = "", again[512] = "";
    CHECK(status == KASKO_OK, "quote: %s %s", kasko_status_name(status), or_null(kasko_result_message(result)));
    CHECK(member(result, "token", token, sizeof token) == 0 && strncmp(token, "qtok_", 5) == 0, "quote token");
    int64_t amount = 0;
    CHECK(kasko_result_member_int64(result, "gross_payment_amount", &amount) == KASKO_OK && amount == 6000,
          "gross_payment_amount %lld, expected 150000*4/100", (long long)amount);
    CHECK(kasko_result_member_type(result, "extra_data") == KASKO_JSON_OBJECT, "extra_data is an object");
    CHECK(kasko_result_http_status(result) == 200, "quote http %d", kasko_result_http_status(result));
    CHECK(kasko_result_request_id(result) != NULL, "quote request id");
    CHECK(kasko_result_etag(result) == NULL, "a quote has no ETag");
    kasko_result_free(result);

    /* Deterministic: the same request, the same token; another plan, another price. */
    status = kasko_quote_create_v2(client, quote_request("pp_sandbox_single", 150000), NULL, &result);
    CHECK(status == KASKO_OK && member(result, "token", again, sizeof again) == 0 && strcmp(token, again) == 0,
          "the same quote twice gives the same token");
    kasko_result_free(result);
    status = kasko_quote_create_v2(client, quote_request("pp_sandbox_annual", 150000), NULL, &result);
    CHECK(status == KASKO_OK && kasko_result_member_int64(result, "gross_payment_amount", &amount) == KASKO_OK
              && amount == 8900 + 1500,
          "annual plan price %lld", (long long)amount);
    kasko_result_free(result);

    /* With only a public key (browser mode) a quote works too. */
    status = kasko_quote_create_v2(public_only, quote_request("pp_sandbox_single", 150000), NULL, &result);
    CHECK(status == KASKO_OK, "public-key quote: %s", kasko_status_name(status));
    kasko_result_free(result);

    /* The JSON-string form. */
    char *json = NULL;
    status = kasko_quote_create(client, quote_request("pp_sandbox_single", 150000), &json);
    CHECK(status == KASKO_OK && json != NULL && strstr(json, "\"token\"") != NULL, "kasko_quote_create: %s",
          kasko_status_name(status));
    kasko_string_free(json);

    /* 400: invalid data, with the server's errors array passed through. */
    status = kasko_quote_create_v2(client, quote_request("pp_sandbox_single", -5), NULL, &result);
    check_error(result, status, KASKO_ERR_BAD_REQUEST, KASKO_OUTCOME_REJECTED, "quote with a bad trip_cost");
    CHECK(kasko_result_member_type(result, "errors") == KASKO_JSON_ARRAY, "quote 400 carries errors[]");
    CHECK(strstr(kasko_result_json(result), "\"trip_cost\"") != NULL, "errors name the field: %s",
          kasko_result_json(result));
    CHECK(kasko_result_http_status(result) == 400, "quote 400 http");
    kasko_result_free(result);

    /* 404: unknown integration; unknown plan. */
    status = kasko_quote_create_v2(client,
                                   "{\"integration_id\":\"in_nope\",\"item_id\":\"ins_sandbox_travel\","
                                   "\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":{}}",
                                   NULL, &result);
    check_error(result, status, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, "quote of an unknown integration");
    CHECK(strstr(or_null(kasko_result_message(result)), "in_nope") != NULL, "message names it: %s",
          or_null(kasko_result_message(result)));
    kasko_result_free(result);
    status = kasko_quote_create_v2(client, quote_request("pp_nope", 1000), NULL, &result);
    check_error(result, status, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, "quote of an unknown plan");
    kasko_result_free(result);

    /* 409: the product's pricing is being set up. */
    status = kasko_quote_create_v2(client,
                                   "{\"integration_id\":\"in_sandbox_building\",\"item_id\":\"ins_sandbox_travel\","
                                   "\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":{}}",
                                   NULL, &result);
    check_error(result, status, KASKO_ERR_SERVER, KASKO_OUTCOME_REJECTED, "quote while pricing is built");
    CHECK(kasko_result_http_status(result) == 409, "409: %d", kasko_result_http_status(result));
    kasko_result_free(result);

    /* Refused before any I/O. */
    static const char *const refused[] = {
        "not json",
        "[]",
        "{\"item_id\":\"ins_sandbox_travel\",\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":{}}",
        "{\"integration_id\":\"in_sandbox_travel\",\"item_id\":\"ins_sandbox_travel\","
        "\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":[1]}",
        "{\"integration_id\":7,\"item_id\":\"ins_sandbox_travel\","
        "\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":{}}",
        "{\"integration_id\":\"in_sandbox_travel\",\"integration_id\":\"in_other\",\"item_id\":\"ins_sandbox_travel\","
        "\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":{}}",
        "{\"integration_id\":\"\",\"item_id\":\"ins_sandbox_travel\","
        "\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":{}}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        status = kasko_quote_create_v2(client, refused[i], NULL, &result);
        check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, refused[i]);
        kasko_result_free(result);
    }
    status = kasko_quote_create_v2(client, NULL, NULL, &result);
    check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, "NULL quote request");
    kasko_result_free(result);
    CHECK(kasko_quote_create_v2(client, quote_request("pp_sandbox_single", 1), NULL, NULL) == KASKO_ERR_INVALID_ARGUMENT,
          "NULL out_result");
    CHECK(kasko_quote_create(NULL, quote_request("pp_sandbox_single", 1), &json) == KASKO_ERR_INVALID_ARGUMENT,
          "NULL client");
    kasko_string_free(json);
}

static void test_quote_unauthorised(void) {
    char config[1024];
    snprintf(config, sizeof config, "{\"public_key\":\"pk_test_%s\",\"base_url\":\"%s\"}",
             "00000000000000000000000000000000", base_url);
    kasko_client *stranger = NULL;
    char *error = NULL;
    if (kasko_client_new(config, &stranger, &error) != KASKO_OK) {
        kasko_string_free(error);
        CHECK(0, "could not make a client with another public key");
        return;
    }
    kasko_result *result = NULL;
    kasko_status status = kasko_quote_create_v2(stranger, quote_request("pp_sandbox_single", 1000), NULL, &result);
    check_error(result, status, KASKO_ERR_UNAUTHORIZED, KASKO_OUTCOME_REJECTED, "quote with another public key");
    kasko_result_free(result);
    status = kasko_offer_create_v2(stranger, offer_request("qtok_x", ""), NULL, &result);
    check_error(result, status, KASKO_ERR_UNAUTHORIZED, KASKO_OUTCOME_REJECTED, "offer with another public key");
    kasko_result_free(result);
    kasko_client_free(stranger);
}

/* ---- offers ------------------------------------------------------------- */

static void test_offer(kasko_client *client, kasko_client *public_only) {
    char quote[512], policy_id[128] = "", token[512] = "", insurer[128] = "";
    new_quote_token(client, quote, sizeof quote);
    kasko_result *result = NULL;
    kasko_status status =
        kasko_offer_create_v2(client, offer_request(quote, ",\"data\":{},\"metadata\":{\"order\":\"A-1\"}"), NULL,
                              &result);
    CHECK(status == KASKO_OK, "offer: %s %s", kasko_status_name(status), or_null(kasko_result_message(result)));
    CHECK(member(result, "id", policy_id, sizeof policy_id) == 0 && strncmp(policy_id, "tpol_", 5) == 0
              && strlen(policy_id) == 33,
          "offer id %s: tpol_ + 28", policy_id);
    CHECK(member(result, "payment_token", token, sizeof token) == 0 && token[0] != '\0', "offer payment token");
    CHECK(member(result, "insurer_policy_id", insurer, sizeof insurer) == 0 && insurer[0] != '\0',
          "insurer_policy_id");
    CHECK(kasko_result_http_status(result) / 100 == 2, "offer http %d", kasko_result_http_status(result));
    kasko_result_free(result);

    /* It is the offer the view shows, payable ("ready"). */
    char viewed[128] = "", state[64] = "";
    status = kasko_offer_get_v2(client, policy_id, NULL, &result);
    CHECK(status == KASKO_OK && member(result, "id", viewed, sizeof viewed) == 0 && strcmp(viewed, policy_id) == 0,
          "offer view: %s %s", kasko_status_name(status), or_null(kasko_result_message(result)));
    CHECK(member(result, "status", state, sizeof state) == 0 && strcmp(state, "ready") == 0, "offer status %s", state);
    kasko_result_free(result);
    char *json = NULL;
    status = kasko_offer_get(client, policy_id, &json);
    CHECK(status == KASKO_OK && strstr(json, policy_id) != NULL, "kasko_offer_get: %s", kasko_status_name(status));
    kasko_string_free(json);

    /* `[]` is how the API writes an empty object; the JSON-string form. */
    status = kasko_offer_create(client, offer_request(quote, ",\"data\":[],\"referrer_url\":\"https://x.example\""),
                                &json);
    CHECK(status == KASKO_OK && strstr(json, "\"id\"") != NULL, "kasko_offer_create with data []: %s",
          kasko_status_name(status));
    kasko_string_free(json);

    /* 400: a quote token the server does not know, with errors[]. */
    status = kasko_offer_create_v2(client, offer_request("qtok_unknown", ""), NULL, &result);
    check_error(result, status, KASKO_ERR_BAD_REQUEST, KASKO_OUTCOME_REJECTED, "offer of an unknown quote");
    CHECK(strstr(kasko_result_json(result), "quote_token") != NULL, "errors name quote_token");
    kasko_result_free(result);
    /* 400: a bad e-mail address (the server's check). */
    char request[2048];
    snprintf(request, sizeof request,
             "{\"quote_token\":\"%s\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"no-at-sign\","
             "\"language\":\"en\"}",
             quote);
    status = kasko_offer_create_v2(client, request, NULL, &result);
    check_error(result, status, KASKO_ERR_BAD_REQUEST, KASKO_OUTCOME_REJECTED, "offer with a bad e-mail");
    CHECK(strstr(kasko_result_json(result), "\"email\"") != NULL, "errors name email");
    kasko_result_free(result);

    /* Refused before any I/O: a missing or mistyped member. */
    snprintf(request, sizeof request, "{\"quote_token\":\"%s\",\"first_name\":\"Ada\",\"last_name\":\"L\",\"language\":\"en\"}",
             quote);
    status = kasko_offer_create_v2(client, request, NULL, &result);
    check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, "offer without email");
    kasko_result_free(result);
    status = kasko_offer_create_v2(client, offer_request(quote, ",\"metadata\":\"x\""), NULL, &result);
    check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, "offer with string metadata");
    kasko_result_free(result);

    /* Manual underwriting: no payment token until approved; then the view has it. */
    status = kasko_offer_create_v2(client, offer_request(quote, ",\"data\":{\"manual_underwriting\":true}"), NULL,
                                   &result);
    CHECK(status == KASKO_OK && member(result, "id", policy_id, sizeof policy_id) == 0, "manual offer: %s",
          kasko_status_name(status));
    CHECK(kasko_result_member_type(result, "payment_token") == KASKO_JSON_NONE, "no payment token yet");
    kasko_result_free(result);
    status = kasko_offer_get_v2(client, policy_id, NULL, &result);
    CHECK(status == KASKO_OK && member(result, "status", state, sizeof state) == 0 && strcmp(state, "pending") == 0,
          "manual offer is pending: %s", state);
    kasko_result_free(result);
    CHECK(sandbox_approve_offer(base_url, policy_id) == 200, "approve the offer");
    status = kasko_offer_get_v2(client, policy_id, NULL, &result);
    CHECK(status == KASKO_OK && member(result, "status", state, sizeof state) == 0 && strcmp(state, "ready") == 0
              && kasko_result_member_type(result, "payment_token") == KASKO_JSON_STRING,
          "approved offer is ready with a token: %s", state);
    kasko_result_free(result);

    /* Views: 404, 401 without a secret key, ids refused before any I/O. */
    status = kasko_offer_get_v2(client, "tpol_0000000000000000000000000000", NULL, &result);
    check_error(result, status, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, "unknown offer");
    kasko_result_free(result);
    status = kasko_offer_get_v2(public_only, policy_id, NULL, &result);
    check_error(result, status, KASKO_ERR_UNAUTHORIZED, KASKO_OUTCOME_REJECTED, "offer view without a secret key");
    CHECK(strstr(or_null(kasko_result_message(result)), "no secret key") != NULL, "says why: %s",
          or_null(kasko_result_message(result)));
    kasko_result_free(result);
    static const char *const bad_ids[] = {"", "tpol_a/b", "../payments", "tpol_with space", "tpol_%2e"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        status = kasko_offer_get_v2(client, bad_ids[i], NULL, &result);
        check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, bad_ids[i]);
        kasko_result_free(result);
        status = kasko_policy_get_v2(client, bad_ids[i], NULL, &result);
        check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, bad_ids[i]);
        kasko_result_free(result);
    }
    CHECK(kasko_offer_get(client, NULL, &json) == KASKO_ERR_INVALID_ARGUMENT && json != NULL, "NULL offer id");
    kasko_string_free(json);
}

/* ---- policies: asynchronous creation after payment ---------------------- */

static void test_policy(kasko_client *client, kasko_client *public_only) {
    struct offer offer;
    new_offer(client, &offer);
    kasko_result *result = NULL;
    char state[64] = "", etag_before[256] = "", etag_after[256] = "";
    kasko_status status = kasko_policy_get_v2(client, offer.policy_id, NULL, &result);
    CHECK(status == KASKO_OK && member(result, "status", state, sizeof state) == 0 && strcmp(state, "pending") == 0,
          "an unpaid policy is pending: %s %s", kasko_status_name(status), state);
    CHECK(kasko_result_etag(result) != NULL, "a policy view has an ETag");
    CHECK(kasko_result_last_modified(result) != NULL, "and a Last-Modified");
    snprintf(etag_before, sizeof etag_before, "%s", or_null(kasko_result_etag(result)));
    kasko_result_free(result);

    char *json = NULL;
    status = kasko_policy_get(client, offer.policy_id, &json);
    CHECK(status == KASKO_OK && strstr(json, offer.policy_id) != NULL, "kasko_policy_get: %s",
          kasko_status_name(status));
    kasko_string_free(json);

    status = kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result);
    CHECK(status == KASKO_OK, "pay the offer: %s %s", kasko_status_name(status), or_null(kasko_result_message(result)));
    kasko_result_free(result);

    /* Policy creation is asynchronous: it becomes paid, with a new version. */
    result = policy_when(client, offer.policy_id, "paid");
    CHECK(member(result, "status", state, sizeof state) == 0 && strcmp(state, "paid") == 0,
          "the policy becomes paid: %s", state);
    snprintf(etag_after, sizeof etag_after, "%s", or_null(kasko_result_etag(result)));
    CHECK(kasko_result_etag(result) != NULL && strcmp(etag_before, etag_after) != 0, "its ETag changed: %s -> %s",
          etag_before, etag_after);
    CHECK(kasko_result_member_type(result, "policy_created_date") == KASKO_JSON_STRING, "policy_created_date set");
    kasko_result_free(result);

    /* The offer says a payment was accepted on it. */
    status = kasko_offer_get_v2(client, offer.policy_id, NULL, &result);
    CHECK(status == KASKO_OK && member(result, "status", state, sizeof state) == 0 && strcmp(state, "accepted") == 0,
          "the paid offer is accepted: %s", state);
    kasko_result_free(result);

    status = kasko_policy_get_v2(client, "tpol_0000000000000000000000000000", NULL, &result);
    check_error(result, status, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, "unknown policy");
    CHECK(kasko_result_etag(result) == NULL, "an error has no ETag");
    kasko_result_free(result);
    status = kasko_policy_get_v2(public_only, offer.policy_id, NULL, &result);
    check_error(result, status, KASKO_ERR_UNAUTHORIZED, KASKO_OUTCOME_REJECTED, "policy view without a secret key");
    kasko_result_free(result);
}

/* The policy view answers about another policy: not a success. */
static void test_policy_view_checked(kasko_client *client) {
    struct offer offer;
    new_offer(client, &offer);
    kasko_result *result = NULL;
    CHECK(sandbox_arm_route_fault(base_url, offer.policy_id, "policy_view", "{\"status\":503,\"retry_after\":0}", 1)
              == 201,
          "arm a 503");
    kasko_status status = kasko_policy_get_v2(client, offer.policy_id, NULL, &result);
    CHECK(status == KASKO_OK && kasko_result_attempts(result) == 2, "a view is retried after 503: %s, %d attempts",
          kasko_status_name(status), kasko_result_attempts(result));
    kasko_result_free(result);
}

/* ---- the way out of outcome: unknown ------------------------------------ */

static kasko_result *resolve(kasko_client *client, const struct offer *offer, const char *provider) {
    kasko_result *result = NULL;
    kasko_status status =
        kasko_payment_resolve(client, offer->token, provider, provider, offer->policy_id, NULL, &result);
    CHECK(status == KASKO_OK, "resolve %s: %s %s", provider, kasko_status_name(status),
          or_null(kasko_result_message(result)));
    return result;
}

static void lose_a_create(kasko_client *client, const struct offer *offer, const char *provider, const char *drop) {
    char fault[64];
    snprintf(fault, sizeof fault, "{\"drop\":\"%s\"}", drop);
    CHECK(sandbox_arm_route_fault(base_url, offer->policy_id, "payment_create", fault, 1) == 201, "arm %s", drop);
    kasko_result *result = NULL;
    kasko_status status =
        kasko_payment_create_v2(client, offer->token, provider, provider, offer->policy_id, NULL, &result);
    CHECK(status == KASKO_ERR_NETWORK && kasko_result_outcome(result) == KASKO_OUTCOME_UNKNOWN,
          "%s: the create's outcome is unknown: %s %s", drop, kasko_status_name(status),
          kasko_outcome_name(kasko_result_outcome(result)));
    kasko_result_free(result);
}

static void test_resolve(kasko_client *client) {
    char state[32], evidence[32], payment_id[64];
    int created = 1;

    /* invoice: the lost create paid; the resolution says so, pays nothing. */
    struct offer offer;
    new_offer(client, &offer);
    lose_a_create(client, &offer, "invoice", "after_body");
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "the lost create made one payment");
    kasko_result *result = resolve(client, &offer, "invoice");
    CHECK(member(result, "state", state, sizeof state) == 0 && strcmp(state, "paid") == 0, "invoice: paid, got %s",
          state);
    CHECK(member(result, "evidence", evidence, sizeof evidence) == 0
              && (strcmp(evidence, "already_paid") == 0 || strcmp(evidence, "policy_paid") == 0),
          "evidence %s", evidence);
    CHECK(kasko_result_member_bool(result, "created_by_this_call", &created) == KASKO_OK && !created,
          "it made no payment");
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "still one payment");
    kasko_result_free(result);
    /* Once the policy shows paid, the answer comes from the view alone. */
    kasko_result_free(policy_when(client, offer.policy_id, "paid"));
    result = resolve(client, &offer, "invoice");
    CHECK(member(result, "evidence", evidence, sizeof evidence) == 0 && strcmp(evidence, "policy_paid") == 0,
          "a paid policy: %s", evidence);
    CHECK(kasko_result_attempts(result) == 1, "one request: %d", kasko_result_attempts(result));
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "still one payment");

    /* The asynchronous provider: pending, with the payment's id. */
    new_offer(client, &offer);
    lose_a_create(client, &offer, "deferred", "after_body");
    result = resolve(client, &offer, "deferred");
    CHECK(member(result, "state", state, sizeof state) == 0 && strcmp(state, "pending") == 0,
          "deferred: pending, got %s", state);
    CHECK(member(result, "payment_id", payment_id, sizeof payment_id) == 0 && payment_id[0] == 't',
          "pending names the payment: %s", payment_id);
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "one payment, pending");
    /* That is the payment: it can be viewed, and settled; then paid. */
    kasko_result *payment = NULL;
    CHECK(kasko_payment_get_v2(client, payment_id, NULL, &payment) == KASKO_OK, "view the pending payment");
    kasko_result_free(payment);
    CHECK(sandbox_settle(base_url, payment_id, "ok") == 200, "settle it");
    result = resolve(client, &offer, "deferred");
    CHECK(member(result, "state", state, sizeof state) == 0 && strcmp(state, "paid") == 0, "settled: paid, got %s",
          state);
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "still one payment");

    /* The lost create never reached the server's payment step: the
     * resolution is the first payment, and says so. */
    new_offer(client, &offer);
    lose_a_create(client, &offer, "invoice", "before_body");
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 0, "no payment yet");
    result = resolve(client, &offer, "invoice");
    CHECK(member(result, "state", state, sizeof state) == 0 && strcmp(state, "paid") == 0, "made now: %s", state);
    CHECK(kasko_result_member_bool(result, "created_by_this_call", &created) == KASKO_OK && created,
          "created_by_this_call");
    CHECK(member(result, "payment_id", payment_id, sizeof payment_id) == 0, "names the payment it made");
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "one payment");

    /* A create refused as it stands (a wrong token): not paid. */
    new_offer(client, &offer);
    struct offer wrong = offer;
    snprintf(wrong.token, sizeof wrong.token, "ptok_not_this_offers");
    result = resolve(client, &wrong, "invoice");
    CHECK(member(result, "state", state, sizeof state) == 0 && strcmp(state, "not_paid") == 0, "wrong token: %s",
          state);
    CHECK(member(result, "evidence", evidence, sizeof evidence) == 0 && strcmp(evidence, "create_refused") == 0,
          "evidence %s", evidence);
    char message[1024] = "";
    CHECK(member(result, "message", message, sizeof message) == 0 && strstr(message, "ptok_") == NULL,
          "the message holds no token");
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 0, "no payment");

    /* The policy view itself fails: nothing is sent that could pay. */
    new_offer(client, &offer);
    CHECK(sandbox_arm_route_fault(base_url, offer.policy_id, "policy_view", "{\"status\":401}", 1) == 201, "arm 401");
    result = NULL;
    kasko_status status =
        kasko_payment_resolve(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result);
    check_error(result, status, KASKO_ERR_UNAUTHORIZED, KASKO_OUTCOME_REJECTED, "resolve when the view is refused");
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 0, "no payment");

    /* The repeated create is lost too: still unknown, and it says so. */
    lose_a_create(client, &offer, "invoice", "after_body");
    CHECK(sandbox_arm_route_fault(base_url, offer.policy_id, "payment_create", "{\"drop\":\"after_body\"}", 1) == 201,
          "arm another drop");
    status = kasko_payment_resolve(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result);
    CHECK(status == KASKO_ERR_NETWORK && kasko_result_outcome(result) == KASKO_OUTCOME_UNKNOWN,
          "a lost repeat is unknown: %s", kasko_status_name(status));
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "one payment, by the first create");

    /* Arguments refused before any I/O. */
    status = kasko_payment_resolve(client, NULL, "invoice", "invoice", offer.policy_id, NULL, &result);
    check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, "NULL token");
    kasko_result_free(result);
    status = kasko_payment_resolve(client, offer.token, "invoice", "invoice", "tpol_a/b", NULL, &result);
    check_error(result, status, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, "bad policy id");
    kasko_result_free(result);
    CHECK(kasko_payment_resolve(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, NULL)
              == KASKO_ERR_INVALID_ARGUMENT,
          "NULL out_result");
}

/* ---- events: each checkout call names its operation and route ---------- */

struct seen_events {
    char lines[16][160];
    int count;
};

static void record_event(const kasko_result *event, void *user_data) {
    struct seen_events *seen = user_data;
    if (seen->count >= 16) return;
    char kind[32] = "", operation[32] = "", route[64] = "";
    result_string_member(event, "event", kind, sizeof kind);
    result_string_member(event, "operation", operation, sizeof operation);
    result_string_member(event, "route", route, sizeof route);
    snprintf(seen->lines[seen->count++], sizeof seen->lines[0], "%s %s %s", kind, operation, route);
}

static void test_events(void) {
    kasko_client *client = client_with(1, 0);
    struct seen_events seen = {{{0}}, 0};
    CHECK(kasko_client_set_event_hook(client, record_event, &seen) == KASKO_OK, "set the hook");
    struct offer offer;
    new_offer(client, &offer); /* a quote and an offer */
    kasko_result *result = NULL;
    CHECK(kasko_offer_get_v2(client, offer.policy_id, NULL, &result) == KASKO_OK, "offer view");
    kasko_result_free(result);
    CHECK(kasko_policy_get_v2(client, offer.policy_id, NULL, &result) == KASKO_OK, "policy view");
    kasko_result_free(result);
    CHECK(kasko_quote_create_v2(client, "[]", NULL, &result) == KASKO_ERR_INVALID_ARGUMENT, "a refused quote");
    kasko_result_free(result);
    static const char *const expected[] = {
        "attempt quote_create /quotes",     "call_end quote_create /quotes",
        "attempt offer_create /policies",   "call_end offer_create /policies",
        "attempt offer_get /offers/{id}",   "call_end offer_get /offers/{id}",
        "attempt policy_get /policies/{id}", "call_end policy_get /policies/{id}",
        "call_end quote_create /quotes",
    };
    int count = (int)(sizeof expected / sizeof expected[0]);
    CHECK(seen.count == count, "%d events, expected %d", seen.count, count);
    for (int i = 0; i < count && i < seen.count; i++) {
        CHECK(strcmp(seen.lines[i], expected[i]) == 0, "event %d: %s, expected %s", i, seen.lines[i], expected[i]);
    }
    CHECK(kasko_client_set_event_hook(client, NULL, NULL) == KASKO_OK, "clear the hook");
    kasko_client_free(client);
}

/* The whole checkout, as examples/c/checkout.c does it. */
static void test_checkout(kasko_client *client) {
    struct offer offer;
    new_offer(client, &offer);
    kasko_result *result = NULL;
    kasko_status status =
        kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result);
    CHECK(status == KASKO_OK, "pay: %s", kasko_status_name(status));
    kasko_result_free(result);
    result = policy_when(client, offer.policy_id, "paid");
    char state[32] = "";
    CHECK(member(result, "status", state, sizeof state) == 0 && strcmp(state, "paid") == 0, "paid: %s", state);
    kasko_result_free(result);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "one payment");
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "scripts/with-sandbox (KASKO_SANDBOX_ARGS=--faults)");
    kasko_client *client = client_with(1, 2);
    kasko_client *public_only = client_with(0, 2);
    test_quote(client, public_only);
    test_quote_unauthorised();
    test_offer(client, public_only);
    test_policy(client, public_only);
    test_policy_view_checked(client);
    test_resolve(client);
    test_checkout(client);
    test_events();
    kasko_client_free(public_only);
    kasko_client_free(client);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
