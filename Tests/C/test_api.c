/*
 * C tests of libkasko.so through its installed-style header, against a
 * running kasko-sandbox (KASKO_SANDBOX_URL; run under scripts/with-sandbox).
 *
 * Every function, every status the sandbox can produce without fault
 * injection, and every ownership rule: each returned string is freed with
 * kasko_string_free, so a valgrind run of this program proves no leaks.
 * KASKO_TEST_QUICK=1 shrinks the thread test for slow runs under valgrind.
 */
#define _POSIX_C_SOURCE 200809L
#include <kasko.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url;
static const char *public_key;
static const char *secret_key;

/* ---- helpers ---------------------------------------------------------- */

static kasko_client *make_client(int with_secret, int max_retries) {
    char config[1024];
    if (with_secret) {
        snprintf(config, sizeof config,
                 "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":%d}",
                 public_key, secret_key, base_url, max_retries);
    } else {
        snprintf(config, sizeof config, "{\"public_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":%d}",
                 public_key, base_url, max_retries);
    }
    kasko_client *client = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &client, &error);
    if (status != KASKO_OK) {
        fprintf(stderr, "kasko_client_new: %s %s\n", kasko_status_name(status), error ? error : "");
    }
    kasko_string_free(error);
    return client;
}

static void request_for(char *out, size_t size, const char *token, const char *provider, const char *policy_id) {
    snprintf(out, size, "{\"token\":\"%s\",\"provider\":\"%s\",\"method\":\"%s\",\"policy_id\":\"%s\"}",
             token, provider, provider, policy_id);
}

struct offer {
    char policy_id[128];
    char token[256];
};

static int new_offer(struct offer *offer) {
    return sandbox_new_offer(base_url, offer->policy_id, sizeof offer->policy_id, offer->token, sizeof offer->token);
}

/* Creates a payment for a new offer; returns the status and fills id. */
static kasko_status create_for_new_offer(kasko_client *client, const char *provider, char *id, size_t id_size,
                                         struct offer *offer_out) {
    struct offer offer;
    if (new_offer(&offer) != 0) return KASKO_ERR_INTERNAL;
    char request[1024];
    request_for(request, sizeof request, offer.token, provider, offer.policy_id);
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, request, &json);
    if (status == KASKO_OK && id != NULL) {
        if (json_string_field(json, "id", id, id_size) != 0) id[0] = '\0';
    }
    if (offer_out != NULL) *offer_out = offer;
    kasko_string_free(json);
    return status;
}

/* Asserts an error object's shape: code, http_status, outcome, attempts. */
static void check_error_object(const char *json, const char *code, long http_status, const char *outcome,
                               long attempts, int line) {
    char value[256];
    CHECK(json != NULL, "line %d: no error JSON", line);
    if (json == NULL) return;
    CHECK(json_string_field(json, "object", value, sizeof value) == 0 && strcmp(value, "error") == 0,
          "line %d: object is not \"error\": %s", line, json);
    CHECK(json_string_field(json, "code", value, sizeof value) == 0 && strcmp(value, code) == 0,
          "line %d: code %s, want %s", line, json, code);
    CHECK(json_int_field(json, "http_status") == http_status, "line %d: http_status in %s, want %ld", line, json,
          http_status);
    CHECK(json_string_field(json, "outcome", value, sizeof value) == 0 && strcmp(value, outcome) == 0,
          "line %d: outcome in %s, want %s", line, json, outcome);
    if (attempts >= 0) {
        CHECK(json_int_field(json, "attempts") == attempts, "line %d: attempts in %s, want %ld", line, json, attempts);
    }
    CHECK(json_has_field(json, "message") && json_has_field(json, "retryable") && json_has_field(json, "request_id")
              && json_has_field(json, "pending_payment_id") && json_has_field(json, "status"),
          "line %d: error object lacks a member: %s", line, json);
    CHECK(strstr(json, secret_key) == NULL, "line %d: the secret key leaked into %s", line, json);
}

/* ---- tests ------------------------------------------------------------ */

static void test_version_and_names(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", KASKO_VERSION_MAJOR, KASKO_VERSION_MINOR, KASKO_VERSION_PATCH);
    CHECK(strcmp(kasko_version(), expected) == 0, "kasko_version() is %s, header says %s", kasko_version(), expected);
    CHECK(strcmp(kasko_version(), KASKO_VERSION) == 0, "KASKO_VERSION mismatch");
    static const char *names[] = {
        "KASKO_OK", "KASKO_ERR_INVALID_ARGUMENT", "KASKO_ERR_BAD_REQUEST", "KASKO_ERR_UNAUTHORIZED",
        "KASKO_ERR_NOT_FOUND", "KASKO_ERR_PENDING_PAYMENT", "KASKO_ERR_RATE_LIMITED", "KASKO_ERR_SERVER",
        "KASKO_ERR_NETWORK", "KASKO_ERR_INVALID_RESPONSE", "KASKO_ERR_INTERNAL", "KASKO_ERR_BAD_SIGNATURE",
        "KASKO_ERR_CANCELLED",
    };
    for (int status = KASKO_OK; status <= KASKO_ERR_CANCELLED; status++) {
        CHECK(strcmp(kasko_status_name((kasko_status)status), names[status]) == 0, "name of %d is %s", status,
              kasko_status_name((kasko_status)status));
    }
    CHECK(strcmp(kasko_status_name((kasko_status)-1), "KASKO_STATUS_UNKNOWN") == 0, "name of -1");
    CHECK(strcmp(kasko_status_name((kasko_status)13), "KASKO_STATUS_UNKNOWN") == 0, "name of 13");
}

static void test_null_arguments(void) {
    kasko_string_free(NULL);
    kasko_client_free(NULL);
    passed++;

    kasko_client *client = (kasko_client *)&client; /* must be overwritten with NULL */
    char *error = NULL;
    kasko_status status = kasko_client_new(NULL, &client, &error);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "NULL config: %s", kasko_status_name(status));
    CHECK(client == NULL, "out_client not cleared on failure");
    check_error_object(error, "KASKO_ERR_INVALID_ARGUMENT", -1, "not_sent", 0, __LINE__);
    CHECK(error != NULL && strstr(error, "config_json is NULL") != NULL, "message: %s", error ? error : "");
    kasko_string_free(error);

    error = NULL;
    status = kasko_client_new("{\"public_key\":\"pk_test_abc\"}", NULL, &error);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "NULL out_client: %s", kasko_status_name(status));
    CHECK(error != NULL && strstr(error, "out_client is NULL") != NULL, "message: %s", error ? error : "");
    kasko_string_free(error);

    status = kasko_client_new("{", &client, NULL);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT && client == NULL, "NULL out_error_json is allowed");

    kasko_client *good = make_client(1, 0);
    CHECK(good != NULL, "client");
    char *json = (char *)"sentinel";
    status = kasko_payment_create(NULL, "{}", &json);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "create NULL client: %s", kasko_status_name(status));
    CHECK(json != NULL && strstr(json, "client is NULL") != NULL, "message: %s", json ? json : "");
    kasko_string_free(json);

    status = kasko_payment_create(good, NULL, &json);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "create NULL request: %s", kasko_status_name(status));
    CHECK(json != NULL && strstr(json, "request_json is NULL") != NULL, "message: %s", json ? json : "");
    kasko_string_free(json);

    status = kasko_payment_create(good, "{}", NULL);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "create NULL out_json: %s", kasko_status_name(status));

    status = kasko_payment_get(NULL, "t1", &json);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "get NULL client: %s", kasko_status_name(status));
    kasko_string_free(json);

    status = kasko_payment_get(good, NULL, &json);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "get NULL id: %s", kasko_status_name(status));
    CHECK(json != NULL && strstr(json, "payment_id is NULL") != NULL, "message: %s", json ? json : "");
    kasko_string_free(json);

    status = kasko_payment_get(good, "t1", NULL);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "get NULL out_json: %s", kasko_status_name(status));
    kasko_client_free(good);
}

static void test_invalid_configurations(void) {
    struct {
        const char *config;
        const char *message;
    } cases[] = {
        {"{", "not valid JSON"},
        {"[]", "must be a JSON object"},
        {"{\"public_key\":\"pk_test_abc\",\"timeout\":5}", "unknown configuration key \\\"timeout\\\""},
        {"{\"public_key\":\"pk_test_abc\",\"public_key\":\"pk_test_abc\"}", "appears more than once"},
        {"{}", "missing \\\"public_key\\\""},
        {"{\"public_key\":null}", "missing \\\"public_key\\\""},
        {"{\"public_key\":42}", "public_key must be a string"},
        {"{\"public_key\":\"pk_test_a b\"}", "whitespace or a control character"},
        {"{\"public_key\":\"pk_test_ab\\n\"}", "whitespace or a control character"},
        {"{\"public_key\":\"pk_test_ab\\u0001\"}", "whitespace or a control character"},
        {"{\"public_key\":\"pk_test_abc\",\"secret_key\":\"sk_test_a\\tb\"}", "secret_key contains whitespace"},
        {"{\"public_key\":\"pk_test_abc\",\"secret_key\":\"sk_live_abc\"}", "test key but secret_key is a live key"},
        {"{\"public_key\":\"pk_live_abc\",\"secret_key\":\"sk_test_abc\"}", "live key but secret_key is a test key"},
        {"{\"public_key\":\"sk_test_abc\"}", "public_key holds a secret key"},
        {"{\"public_key\":\"abc\"}", "must start with pk_test_ or pk_live_"},
        {"{\"public_key\":\"pk_test_\"}", "1 to 200 letters or digits"},
        {"{\"public_key\":\"pk_test_abc\",\"base_url\":\"http://api.example.com\"}", "not loopback"},
        {"{\"public_key\":\"pk_test_abc\",\"base_url\":\"http://10.0.0.1:80\"}", "not loopback"},
        {"{\"public_key\":\"pk_test_abc\",\"base_url\":\"ftp://127.0.0.1\"}", "must start with https://"},
        {"{\"public_key\":\"pk_test_abc\",\"base_url\":\"https://h/?x=1\"}", "query or fragment"},
        {"{\"public_key\":\"pk_test_abc\",\"base_url\":\"https://u:p@h\"}", "credentials"},
        {"{\"public_key\":\"pk_test_abc\",\"base_url\":\"https://h:99999\"}", "port"},
        {"{\"public_key\":\"pk_test_abc\",\"timeout_ms\":0}", "timeout_ms must be a whole number"},
        {"{\"public_key\":\"pk_test_abc\",\"timeout_ms\":\"5\"}", "got a string"},
        {"{\"public_key\":\"pk_test_abc\",\"max_retries\":1.5}", "max_retries must be a whole number"},
        {"{\"public_key\":\"pk_test_abc\",\"max_retries\":11}", "max_retries must be a whole number"},
        {"{\"public_key\":\"pk_test_abc\",\"ca_bundle\":\"/nonexistent/ca.pem\"}", "cannot be found"},
        {"{\"public_key\":\"pk_test_abc\",\"user_agent\":\"a\\nb\"}", "user_agent contains a control character"},
        {"{\"public_key\":\"pk_test_abc\",\"proxy\":\"proxy.example.com:3128\"}", "proxy must be a URL"},
        {"{\"public_key\":\"pk_test_abc\",\"proxy\":\"http://a proxy\"}", "proxy contains whitespace"},
        {"{\"public_key\":\"pk_test_abc\",\"proxy\":\"http://proxy:3128/path\"}", "without a path"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kasko_client *client = NULL;
        char *error = NULL;
        kasko_status status = kasko_client_new(cases[i].config, &client, &error);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "config %s gave %s", cases[i].config, kasko_status_name(status));
        CHECK(client == NULL, "config %s made a client", cases[i].config);
        check_error_object(error, "KASKO_ERR_INVALID_ARGUMENT", -1, "not_sent", 0, __LINE__);
        CHECK(error != NULL && strstr(error, cases[i].message) != NULL, "config %s: message %s lacks '%s'",
              cases[i].config, error ? error : "(null)", cases[i].message);
        CHECK(error == NULL || strstr(error, "sk_live_abc") == NULL, "a key leaked: %s", error);
        kasko_string_free(error);
        kasko_client_free(client);
    }
    /* Valid variants. */
    const char *good[] = {
        "{\"public_key\":\"pk_test_abc\"}",
        "{\"public_key\":\"pk_live_abc\",\"secret_key\":\"sk_live_abc\",\"base_url\":\"https://api.example.com/\"}",
        "{\"public_key\":\"pk_test_abc\",\"secret_key\":null,\"base_url\":\"http://localhost:1\",\"timeout_ms\":1000,"
        "\"connect_timeout_ms\":500,\"max_retries\":0,\"proxy\":\"\",\"user_agent\":\"shop/1.0\"}",
        "{\"public_key\":\"pk_test_abc\",\"base_url\":\"http://[::1]:8080\"}",
        "{\"public_key\":\"pk_test_abc\",\"proxy\":\"http://user:pw@127.0.0.1:3128\"}",
        "{\"public_key\":\"pk_test_abc\",\"proxy\":\"socks5h://[::1]:1080/\"}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        kasko_client *client = NULL;
        char *error = NULL;
        kasko_status status = kasko_client_new(good[i], &client, &error);
        CHECK(status == KASKO_OK && client != NULL && error == NULL, "config %s: %s %s", good[i],
              kasko_status_name(status), error ? error : "");
        kasko_string_free(error);
        kasko_client_free(client);
    }
}

static void test_invalid_requests(void) {
    kasko_client *client = make_client(1, 0);
    struct {
        const char *request;
        const char *message;
    } cases[] = {
        {"not json", "not valid JSON"},
        {"[1]", "must be a JSON object"},
        {"{\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"tpol_x\"}", "missing \\\"token\\\""},
        {"{\"token\":1,\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"tpol_x\"}",
         "\\\"token\\\" must be a string"},
        {"{\"token\":\"t\",\"provider\":\"\",\"method\":\"invoice\",\"policy_id\":\"tpol_x\"}", "must not be empty"},
        {"{\"token\":\"t\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"tpol_x\",\"amount\":5}",
         "unknown payment request field \\\"amount\\\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = NULL;
        kasko_status status = kasko_payment_create(client, cases[i].request, &json);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "request %s gave %s", cases[i].request, kasko_status_name(status));
        check_error_object(json, "KASKO_ERR_INVALID_ARGUMENT", -1, "not_sent", 0, __LINE__);
        CHECK(json != NULL && strstr(json, cases[i].message) != NULL, "request %s: message %s lacks '%s'",
              cases[i].request, json ? json : "(null)", cases[i].message);
        kasko_string_free(json);
    }
    char long_id[200];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *bad_ids[] = {"", "../etc/passwd", "t1?x=1", "t 1", "t%2F", "tä", long_id};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        char *json = NULL;
        kasko_status status = kasko_payment_get(client, bad_ids[i], &json);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "id '%s' gave %s", bad_ids[i], kasko_status_name(status));
        check_error_object(json, "KASKO_ERR_INVALID_ARGUMENT", -1, "not_sent", 0, __LINE__);
        kasko_string_free(json);
    }
    kasko_client_free(client);
}

static void test_create_and_view(void) {
    kasko_client *client = make_client(1, 0);
    struct offer offer;
    CHECK(new_offer(&offer) == 0, "offer");
    char request[1024];
    request_for(request, sizeof request, offer.token, "invoice", offer.policy_id);
    char *created = NULL;
    kasko_status status = kasko_payment_create(client, request, &created);
    CHECK(status == KASKO_OK, "create: %s %s", kasko_status_name(status), created ? created : "");
    char id[129] = "";
    char value[256];
    if (status == KASKO_OK) {
        CHECK(json_string_field(created, "object", value, sizeof value) == 0 && strcmp(value, "payment") == 0,
              "object: %s", created);
        CHECK(json_string_field(created, "id", id, sizeof id) == 0 && id[0] == 't' && strlen(id) == 33,
              "id: %s", created);
        CHECK(json_string_field(created, "policy_id", value, sizeof value) == 0
                  && strcmp(value, offer.policy_id) == 0, "full object has the policy: %s", created);
        CHECK(json_string_field(created, "status", value, sizeof value) == 0 && strcmp(value, "ok") == 0,
              "status ok: %s", created);
        CHECK(strstr(created, "\"livemode\": false") != NULL || strstr(created, "\"livemode\":false") != NULL,
              "livemode false: %s", created);
    }
    kasko_string_free(created);

    char *viewed = NULL;
    status = kasko_payment_get(client, id, &viewed);
    CHECK(status == KASKO_OK, "get: %s %s", kasko_status_name(status), viewed ? viewed : "");
    if (status == KASKO_OK) {
        CHECK(json_string_field(viewed, "id", value, sizeof value) == 0 && strcmp(value, id) == 0, "same id");
        CHECK(json_has_field(viewed, "refunds") && json_has_field(viewed, "_links"), "full shape: %s", viewed);
    }
    kasko_string_free(viewed);

    /* The policy is paid now: a second payment is a 400. */
    char *again = NULL;
    status = kasko_payment_create(client, request, &again);
    CHECK(status == KASKO_ERR_BAD_REQUEST, "second payment: %s %s", kasko_status_name(status), again ? again : "");
    check_error_object(again, "KASKO_ERR_BAD_REQUEST", 400, "rejected", 1, __LINE__);
    CHECK(again != NULL && json_has_field(again, "request_id") && strstr(again, "\"request_id\":null") == NULL,
          "request id passed on: %s", again ? again : "");
    kasko_string_free(again);
    kasko_client_free(client);
}

static void test_restricted_object(void) {
    kasko_client *client = make_client(0, 0);
    char id[129] = "";
    struct offer offer;
    CHECK(new_offer(&offer) == 0, "offer");
    char request[1024];
    request_for(request, sizeof request, offer.token, "invoice", offer.policy_id);
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, request, &json);
    CHECK(status == KASKO_OK, "create with public key only: %s %s", kasko_status_name(status), json ? json : "");
    if (status == KASKO_OK) {
        CHECK(json_string_field(json, "id", id, sizeof id) == 0, "id");
        CHECK(!json_has_field(json, "policy_id") && !json_has_field(json, "token") && json_has_field(json, "_links"),
              "restricted shape: %s", json);
    }
    kasko_string_free(json);
    /* Viewing needs the secret key. */
    status = kasko_payment_get(client, id, &json);
    CHECK(status == KASKO_ERR_UNAUTHORIZED, "get without secret: %s", kasko_status_name(status));
    check_error_object(json, "KASKO_ERR_UNAUTHORIZED", 401, "rejected", 1, __LINE__);
    kasko_string_free(json);
    kasko_client_free(client);
}

static void test_server_errors(void) {
    kasko_client *client = make_client(1, 0);
    struct offer offer, other;
    CHECK(new_offer(&offer) == 0 && new_offer(&other) == 0, "offers");
    char request[1024];
    char *json = NULL;

    /* 400: a token that belongs to another policy. */
    request_for(request, sizeof request, other.token, "invoice", offer.policy_id);
    kasko_status status = kasko_payment_create(client, request, &json);
    CHECK(status == KASKO_ERR_BAD_REQUEST, "foreign token: %s", kasko_status_name(status));
    check_error_object(json, "KASKO_ERR_BAD_REQUEST", 400, "rejected", 1, __LINE__);
    CHECK(json == NULL || strstr(json, other.token) == NULL, "the token leaked: %s", json);
    kasko_string_free(json);

    /* 404: an unknown provider. */
    request_for(request, sizeof request, offer.token, "carrier-pigeon", offer.policy_id);
    status = kasko_payment_create(client, request, &json);
    CHECK(status == KASKO_ERR_NOT_FOUND, "unknown provider: %s", kasko_status_name(status));
    check_error_object(json, "KASKO_ERR_NOT_FOUND", 404, "rejected", 1, __LINE__);
    kasko_string_free(json);

    /* 404: an unknown payment. */
    status = kasko_payment_get(client, "t00000000000000000000000000000000", &json);
    CHECK(status == KASKO_ERR_NOT_FOUND, "unknown payment: %s", kasko_status_name(status));
    check_error_object(json, "KASKO_ERR_NOT_FOUND", 404, "rejected", 1, __LINE__);
    kasko_string_free(json);

    /* 422: a pending payment blocks another; its id is extracted. */
    char pending_id[129] = "";
    struct offer deferred;
    status = create_for_new_offer(client, "deferred", pending_id, sizeof pending_id, &deferred);
    CHECK(status == KASKO_OK && pending_id[0] != '\0', "deferred create: %s", kasko_status_name(status));
    request_for(request, sizeof request, deferred.token, "deferred", deferred.policy_id);
    status = kasko_payment_create(client, request, &json);
    CHECK(status == KASKO_ERR_PENDING_PAYMENT, "pending: %s %s", kasko_status_name(status), json ? json : "");
    check_error_object(json, "KASKO_ERR_PENDING_PAYMENT", 422, "rejected", 1, __LINE__);
    char value[256] = "";
    CHECK(json != NULL && json_string_field(json, "pending_payment_id", value, sizeof value) == 0
              && strcmp(value, pending_id) == 0, "pending_payment_id %s, want %s", value, pending_id);
    CHECK(json != NULL && json_string_field(json, "status", value, sizeof value) == 0
              && strcmp(value, "Unprocessable Entity") == 0, "status text: %s", json ? json : "");
    kasko_string_free(json);

    /* Settled, the pending payment is ok and the policy is paid. */
    CHECK(sandbox_settle(base_url, pending_id, "ok") == 200, "settle");
    status = kasko_payment_get(client, pending_id, &json);
    CHECK(status == KASKO_OK && json_string_field(json, "status", value, sizeof value) == 0
              && strcmp(value, "ok") == 0, "settled payment: %s", json ? json : "");
    kasko_string_free(json);
    kasko_client_free(client);

    /* 401: a public key the API does not know. */
    char config[512];
    snprintf(config, sizeof config, "{\"public_key\":\"pk_test_unknown\",\"base_url\":\"%s\"}", base_url);
    kasko_client *stranger = NULL;
    CHECK(kasko_client_new(config, &stranger, NULL) == KASKO_OK, "stranger client");
    request_for(request, sizeof request, other.token, "invoice", other.policy_id);
    status = kasko_payment_create(stranger, request, &json);
    CHECK(status == KASKO_ERR_UNAUTHORIZED, "wrong key: %s", kasko_status_name(status));
    check_error_object(json, "KASKO_ERR_UNAUTHORIZED", 401, "rejected", 1, __LINE__);
    kasko_string_free(json);
    kasko_client_free(stranger);
}

static void test_network_error(void) {
    int port = unused_loopback_port();
    char config[512];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"http://127.0.0.1:%d\",\"max_retries\":1}",
             public_key, secret_key, port);
    kasko_client *client = NULL;
    CHECK(kasko_client_new(config, &client, NULL) == KASKO_OK, "client");
    char *json = NULL;
    kasko_status status = kasko_payment_get(client, "t1", &json);
    CHECK(status == KASKO_ERR_NETWORK, "nothing listening: %s", kasko_status_name(status));
    /* Connection refused is provably not sent, so it is retried: 2 attempts. */
    check_error_object(json, "KASKO_ERR_NETWORK", -1, "not_sent", 2, __LINE__);
    CHECK(json != NULL && strstr(json, "\"retryable\":true") != NULL, "retryable: %s", json ? json : "");
    kasko_string_free(json);

    status = kasko_payment_create(
        client, "{\"token\":\"t\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"tpol_x\"}", &json);
    CHECK(status == KASKO_ERR_NETWORK, "create, nothing listening: %s", kasko_status_name(status));
    check_error_object(json, "KASKO_ERR_NETWORK", -1, "not_sent", 2, __LINE__);
    kasko_string_free(json);
    kasko_client_free(client);
}

struct worker {
    kasko_client *client;
    int rounds;
    int ok;
};

static void *work(void *argument) {
    struct worker *worker = argument;
    for (int i = 0; i < worker->rounds; i++) {
        char id[129] = "";
        if (create_for_new_offer(worker->client, "invoice", id, sizeof id, NULL) != KASKO_OK) continue;
        char *json = NULL;
        char seen[129] = "";
        if (kasko_payment_get(worker->client, id, &json) == KASKO_OK
            && json_string_field(json, "id", seen, sizeof seen) == 0 && strcmp(seen, id) == 0) {
            worker->ok++;
        }
        kasko_string_free(json);
    }
    return NULL;
}

static void test_threads(int rounds) {
    enum { THREADS = 8 };
    kasko_client *client = make_client(1, 2);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){client, rounds, 0};
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0, "thread %d", i);
    }
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        total += workers[i].ok;
    }
    CHECK(total == THREADS * rounds, "%d of %d create+get pairs correct from %d threads on one client", total,
          THREADS * rounds, THREADS);
    kasko_client_free(client);
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "scripts/with-sandbox");
    int quick = getenv("KASKO_TEST_QUICK") != NULL;

    test_version_and_names();
    test_null_arguments();
    test_invalid_configurations();
    test_invalid_requests();
    test_create_and_view();
    test_restricted_object();
    test_server_errors();
    test_network_error();
    test_threads(quick ? 2 : 25);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
