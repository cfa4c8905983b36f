/* Errors name the request they are about, and for 401/403 which credentials
 * were sent, as hints: a wrong path in base_url, a wrong public key, a wrong
 * secret key and no secret key each say so, against the sandbox. The wrong
 * keys are random for each run, and no message may hold a whole key.
 *
 *   scripts/with-sandbox build/test_messages
 */
#include <kasko.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url;
static const char *public_key;
static const char *secret_key;

/* A key of `kind` ("pk_test_" or "sk_test_") with `length` random letters
 * and digits after it. */
static void random_key(char *out, size_t size, const char *kind, size_t length) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t used = (size_t)snprintf(out, size, "%s", kind);
    for (size_t i = 0; i < length && used + 1 < size; i++) out[used++] = alphabet[rand() % (sizeof alphabet - 1)];
    out[used] = '\0';
}

/* What a message may name a key by: "pk_test_…" and the last four
 * characters, or only "pk_test_…" when fewer than 12 follow the prefix. */
static void hint(char *out, size_t size, const char *key) {
    const char *body = key + 8;
    if (strlen(body) >= 12) {
        snprintf(out, size, "%.8s\xE2\x80\xA6%s", key, body + strlen(body) - 4);
    } else {
        snprintf(out, size, "%.8s\xE2\x80\xA6", key);
    }
}

/* A call returns what its result says. */
static void same_status(kasko_status returned, const kasko_result *result) {
    CHECK(returned == kasko_result_status(result), "returned %s, the result says %s", kasko_status_name(returned),
          kasko_status_name(kasko_result_status(result)));
}

static kasko_client *client_with(const char *url, const char *pk, const char *sk) {
    char config[1024];
    if (sk) {
        snprintf(config, sizeof config, "{\"base_url\":\"%s\",\"public_key\":\"%s\",\"secret_key\":\"%s\",\"max_retries\":0}",
                 url, pk, sk);
    } else {
        snprintf(config, sizeof config, "{\"base_url\":\"%s\",\"public_key\":\"%s\",\"max_retries\":0}", url, pk);
    }
    kasko_client *client = NULL;
    kasko_result *refusal = NULL;
    kasko_status status = kasko_client_new_v2(config, &client, &refusal);
    CHECK(status == KASKO_OK, "client: %s", refusal ? kasko_result_message(refusal) : "?");
    kasko_result_free(refusal);
    return client;
}

/* Creates a payment for a fresh offer through `client`; returns its result. */
static kasko_result *create(kasko_client *client, char *policy_id, size_t policy_size) {
    char token[128];
    kasko_result *result = NULL;
    if (sandbox_new_offer(base_url, policy_id, policy_size, token, sizeof token) != 0) {
        CHECK(0, "no offer from the sandbox");
        return NULL;
    }
    {
        kasko_status returned = kasko_payment_create_v2(client, token, "invoice", "invoice", policy_id, NULL, &result);
        same_status(returned, result);
    }
    return result;
}

/* `message` holds `part`, and none of the keys given. */
static void check_message(const char *what, const kasko_result *result, kasko_status expected, const char *part,
                          const char *const *keys) {
    const char *message = kasko_result_message(result);
    CHECK(kasko_result_status(result) == expected, "%s: status %s, expected %s (%s)", what,
          kasko_status_name(kasko_result_status(result)), kasko_status_name(expected), message ? message : "no message");
    CHECK(message && strstr(message, part), "%s: message \"%s\" does not say \"%s\"", what, message ? message : "", part);
    for (; *keys; keys++) {
        CHECK(!message || !strstr(message, *keys), "%s: the message holds a whole key", what);
        CHECK(!strstr(kasko_result_json(result), *keys), "%s: the error object holds a whole key", what);
    }
}

static void wrong_path(void) {
    kasko_client *right = client_with(base_url, public_key, secret_key);
    char wrong_url[512];
    snprintf(wrong_url, sizeof wrong_url, "%s/v1", base_url);
    kasko_client *wrong = client_with(wrong_url, public_key, secret_key);
    if (!right || !wrong) return;
    const char *keys[] = {public_key, secret_key, NULL};
    char policy_id[128];

    /* A payment that exists, viewed through a base_url with a path too many. */
    kasko_result *created = create(right, policy_id, sizeof policy_id);
    CHECK(created && kasko_result_status(created) == KASKO_OK, "create at the right URL");
    const char *id = NULL;
    size_t length = 0;
    if (created && kasko_result_member_string(created, "id", &id, &length) == KASKO_OK) {
        char part[256];
        snprintf(part, sizeof part, "(GET /v1/payments/%s: 404 Not Found)", id);
        kasko_result *viewed = NULL;
        {
        kasko_status returned = kasko_payment_get_v2(wrong, id, NULL, &viewed);
        same_status(returned, viewed);
    }
        check_message("view at /v1", viewed, KASKO_ERR_NOT_FOUND, part, keys);
        kasko_result_free(viewed);
    } else {
        CHECK(0, "the created payment has no id");
    }
    kasko_result_free(created);

    kasko_result *refused = create(wrong, policy_id, sizeof policy_id);
    check_message("create at /v1", refused, KASKO_ERR_NOT_FOUND, "(POST /v1/payments: 404 Not Found)", keys);
    /* The path, not the URL: its query holds the public key. */
    CHECK(refused && !strstr(kasko_result_message(refused), "?key="), "the create's message shows the query");
    kasko_result_free(refused);
    kasko_client_free(right);
    kasko_client_free(wrong);
}

static void wrong_keys(void) {
    char wrong_public[64], wrong_secret[64], short_public[64];
    char public_hint[64], secret_hint[64], wrong_public_hint[64], wrong_secret_hint[64], part[512];
    random_key(wrong_public, sizeof wrong_public, "pk_test_", 24);
    random_key(wrong_secret, sizeof wrong_secret, "sk_test_", 24);
    random_key(short_public, sizeof short_public, "pk_test_", 5);
    hint(public_hint, sizeof public_hint, public_key);
    hint(secret_hint, sizeof secret_hint, secret_key);
    hint(wrong_public_hint, sizeof wrong_public_hint, wrong_public);
    hint(wrong_secret_hint, sizeof wrong_secret_hint, wrong_secret);
    const char *keys[] = {public_key, secret_key, wrong_public, wrong_secret, short_public, NULL};
    char policy_id[128];

    kasko_client *client = client_with(base_url, wrong_public, secret_key);
    kasko_result *result = create(client, policy_id, sizeof policy_id);
    snprintf(part, sizeof part, "(POST /payments: 401 Unauthorized; sent public key %s and secret key %s)",
             wrong_public_hint, secret_hint);
    check_message("create with a wrong public key", result, KASKO_ERR_UNAUTHORIZED, part, keys);
    kasko_result_free(result);
    kasko_client_free(client);

    client = client_with(base_url, public_key, wrong_secret);
    result = create(client, policy_id, sizeof policy_id);
    snprintf(part, sizeof part, "(POST /payments: 401 Unauthorized; sent public key %s and secret key %s)",
             public_hint, wrong_secret_hint);
    check_message("create with a wrong secret key", result, KASKO_ERR_UNAUTHORIZED, part, keys);
    kasko_result_free(result);
    result = NULL;
    {
        kasko_status returned = kasko_payment_get_v2(client, "t0123456789abcdef", NULL, &result);
        same_status(returned, result);
    }
    snprintf(part, sizeof part, "(GET /payments/t0123456789abcdef: 401 Unauthorized; sent secret key %s)",
             wrong_secret_hint);
    check_message("view with a wrong secret key", result, KASKO_ERR_UNAUTHORIZED, part, keys);
    kasko_result_free(result);
    kasko_client_free(client);

    /* A short key is named by its prefix alone: four of its few characters
     * would give too much of it away. */
    client = client_with(base_url, short_public, NULL);
    result = create(client, policy_id, sizeof policy_id);
    check_message("create with a short wrong public key and no secret key", result, KASKO_ERR_UNAUTHORIZED,
                  "(POST /payments: 401 Unauthorized; sent public key pk_test_\xE2\x80\xA6; no secret key configured)", keys);
    kasko_result_free(result);
    result = NULL;
    {
        kasko_status returned = kasko_payment_get_v2(client, "t0123456789abcdef", NULL, &result);
        same_status(returned, result);
    }
    check_message("view with no secret key", result, KASKO_ERR_UNAUTHORIZED,
                  "(GET /payments/t0123456789abcdef: 401 Unauthorized; no secret key configured: a view needs one)", keys);
    kasko_result_free(result);
    kasko_client_free(client);
}

static void no_answer(void) {
    /* A request that got no answer is named too, without a status. */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", unused_loopback_port());
    kasko_client *client = client_with(url, public_key, secret_key);
    if (!client) return;
    const char *keys[] = {public_key, secret_key, NULL};
    kasko_result *result = NULL;
    {
        kasko_status returned = kasko_payment_get_v2(client, "t0123456789abcdef", NULL, &result);
        same_status(returned, result);
    }
    check_message("view of a closed port", result, KASKO_ERR_NETWORK, "(GET /payments/t0123456789abcdef)", keys);
    kasko_result_free(result);
    kasko_client_free(client);
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "scripts/with-sandbox build/test_messages");
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    wrong_path();
    wrong_keys();
    no_answer();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
