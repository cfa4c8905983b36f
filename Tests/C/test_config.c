/* kasko_config: a client's configuration set key by key, against the
 * sandbox (KASKO_SANDBOX_URL): the same keys, checks and messages as the
 * JSON configuration, refusals remembered and reported as results, values
 * escaped by the library, and no key ever quoted back. */
#include <kasko.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url, *public_key, *secret_key;

/* A configuration with the sandbox's keys and URL. */
static kasko_config *sandbox_config(void) {
    kasko_config *config = kasko_config_new();
    CHECK(config != NULL, "kasko_config_new returned NULL");
    CHECK(kasko_config_set_string(config, "public_key", public_key) == KASKO_OK, "public_key");
    CHECK(kasko_config_set_string(config, "secret_key", secret_key) == KASKO_OK, "secret_key");
    CHECK(kasko_config_set_string(config, "base_url", base_url) == KASKO_OK, "base_url");
    return config;
}

/* Makes a client from `config`; returns the refusal's status and copies its message. */
static kasko_status make(const kasko_config *config, kasko_client **client, char *message, size_t size) {
    kasko_result *refused = (kasko_result *)&refused; /* must be overwritten */
    kasko_status status = kasko_client_new_from_config(config, client, &refused);
    message[0] = '\0';
    if (status == KASKO_OK) {
        CHECK(refused == NULL, "success leaves *out_result NULL");
        CHECK(*client != NULL, "success gives a client");
    } else {
        CHECK(*client == NULL, "failure leaves *out_client NULL");
        CHECK(refused != NULL, "failure gives a result");
        CHECK(kasko_result_status(refused) == status, "the result's status is the one returned");
        CHECK(kasko_result_outcome(refused) == KASKO_OUTCOME_NOT_SENT, "nothing was sent");
        CHECK(kasko_result_attempts(refused) == 0, "no attempt");
        CHECK(kasko_result_http_status(refused) == 0, "no HTTP status");
        const char *text = kasko_result_message(refused);
        CHECK(text != NULL, "a refusal has a message");
        snprintf(message, size, "%s", text ? text : "");
        const char *json = kasko_result_json(refused);
        CHECK(json != NULL && strstr(json, "\"object\":\"error\"") != NULL, "the error object: %s", json ? json : "");
        kasko_result_free(refused);
    }
    return status;
}

static void test_a_configuration_makes_a_working_client(void) {
    kasko_config *config = sandbox_config();
    CHECK(kasko_config_set_int(config, "timeout_ms", 5000) == KASKO_OK, "timeout_ms");
    CHECK(kasko_config_set_int(config, "max_retries", 0) == KASKO_OK, "max_retries");
    CHECK(kasko_config_set_string(config, "user_agent", "config-test/1 (\"quoted\" \\ text)") == KASKO_OK, "user_agent");
    kasko_client *first = NULL, *second = NULL;
    char message[512];
    CHECK(make(config, &first, message, sizeof message) == KASKO_OK, "client: %s", message);
    /* One configuration serves several clients, and may go before them. */
    CHECK(make(config, &second, message, sizeof message) == KASKO_OK, "second client: %s", message);
    kasko_config_free(config);

    char policy_id[64], token[128];
    CHECK(sandbox_new_offer(base_url, policy_id, sizeof policy_id, token, sizeof token) == 0, "offer");
    kasko_result *created = NULL, *viewed = NULL;
    kasko_status status = kasko_payment_create_v2(first, token, "invoice", "invoice", policy_id, NULL, &created);
    CHECK(status == KASKO_OK, "create: %s", kasko_result_json(created));
    const char *id = NULL;
    CHECK(kasko_result_member_string(created, "id", &id, NULL) == KASKO_OK, "id");
    if (id != NULL) {
        status = kasko_payment_get_v2(second, id, NULL, &viewed);
        CHECK(status == KASKO_OK, "view from the second client: %s", kasko_result_json(viewed));
        kasko_result_free(viewed);
    }
    kasko_result_free(created);
    kasko_client_free(first);
    kasko_client_free(second);
}

static void test_unknown_and_mistyped_keys_are_refused_and_remembered(void) {
    kasko_config *config = sandbox_config();
    kasko_client *client = NULL;
    char message[512];

    CHECK(kasko_config_set_int(config, "public_key", 7) == KASKO_ERR_INVALID_ARGUMENT, "a string key set as a number");
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "refused");
    CHECK(strstr(message, "public_key") != NULL && strstr(message, "string") != NULL, "message: %s", message);
    /* Setting it right clears the refusal (and the earlier value stands). */
    CHECK(kasko_config_set_string(config, "public_key", public_key) == KASKO_OK, "public_key again");
    CHECK(make(config, &client, message, sizeof message) == KASKO_OK, "accepted after the fix: %s", message);
    kasko_client_free(client);
    client = NULL;

    CHECK(kasko_config_set_string(config, "max_retries", "2") == KASKO_ERR_INVALID_ARGUMENT, "a number key as a string");
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "refused");
    CHECK(strstr(message, "max_retries") != NULL, "message: %s", message);
    CHECK(kasko_config_set_int(config, "max_retries", 1) == KASKO_OK, "max_retries as a number");
    /* NULL removes a number key as well: its default applies again. */
    CHECK(kasko_config_set_int(config, "timeout_ms", 0) == KASKO_OK, "timeout_ms 0 (refused when the client is made)");
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "timeout_ms 0");
    CHECK(kasko_config_set_string(config, "timeout_ms", NULL) == KASKO_OK, "remove timeout_ms");
    CHECK(make(config, &client, message, sizeof message) == KASKO_OK, "the default timeout again: %s", message);
    kasko_client_free(client);
    client = NULL;

    CHECK(kasko_config_set_string(config, "timeout", "5") == KASKO_ERR_INVALID_ARGUMENT, "unknown key");
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "refused");
    CHECK(strstr(message, "\"timeout\"") != NULL && strstr(message, "timeout_ms") != NULL,
          "names the key and the known ones: %s", message);
    kasko_config_free(config);
}

static void test_values_are_checked_when_the_client_is_made(void) {
    kasko_client *client = NULL;
    char message[512];

    kasko_config *config = sandbox_config();
    CHECK(kasko_config_set_int(config, "max_retries", 11) == KASKO_OK, "the range is checked later");
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "max_retries 11");
    CHECK(strstr(message, "max_retries") != NULL && strstr(message, "0 to 10") != NULL, "message: %s", message);
    kasko_config_free(config);

    /* A malformed secret key is refused without being quoted back. */
    config = sandbox_config();
    const char *bad_secret = "sk_test_Secret\"With\\Quote";
    CHECK(kasko_config_set_string(config, "secret_key", bad_secret) == KASKO_OK, "set");
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "bad secret key");
    CHECK(strstr(message, "secret_key") != NULL, "names the key: %s", message);
    CHECK(strstr(message, "Secret") == NULL, "never quotes it: %s", message);
    kasko_config_free(config);

    /* A quote in a value is the value's, not JSON: the URL is refused as a URL. */
    config = sandbox_config();
    CHECK(kasko_config_set_string(config, "base_url", "http://127.0.0.1\",\"x\":\"") == KASKO_OK, "set");
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "a quote in base_url");
    CHECK(strstr(message, "base_url") != NULL && strstr(message, "JSON") == NULL, "message: %s", message);
    /* NULL removes a key again: the default base URL is https, accepted. */
    CHECK(kasko_config_set_string(config, "base_url", NULL) == KASKO_OK, "remove base_url");
    CHECK(make(config, &client, message, sizeof message) == KASKO_OK, "the default URL: %s", message);
    kasko_client_free(client);
    client = NULL;
    kasko_config_free(config);

    /* Without a public key. */
    config = kasko_config_new();
    CHECK(make(config, &client, message, sizeof message) == KASKO_ERR_INVALID_ARGUMENT, "empty configuration");
    CHECK(strstr(message, "public_key") != NULL, "message: %s", message);
    kasko_config_free(config);
}

static void test_null_arguments(void) {
    kasko_config *config = kasko_config_new();
    CHECK(kasko_config_set_string(NULL, "public_key", public_key) == KASKO_ERR_INVALID_ARGUMENT, "NULL config");
    CHECK(kasko_config_set_string(config, NULL, public_key) == KASKO_ERR_INVALID_ARGUMENT, "NULL key");
    CHECK(kasko_config_set_int(NULL, "timeout_ms", 1) == KASKO_ERR_INVALID_ARGUMENT, "NULL config");
    CHECK(kasko_config_set_int(config, NULL, 1) == KASKO_ERR_INVALID_ARGUMENT, "NULL key");
    char bad_utf8[] = {'p', 'k', (char)0xC3, '\0'};
    CHECK(kasko_config_set_string(config, "public_key", bad_utf8) == KASKO_ERR_INVALID_ARGUMENT, "not UTF-8");

    /* A key that cannot be read is remembered too: no client without it. */
    kasko_config *unreadable = kasko_config_new();
    CHECK(kasko_config_set_string(unreadable, "public_key", public_key) == KASKO_OK, "public_key");
    CHECK(kasko_config_set_string(unreadable, bad_utf8, "x") == KASKO_ERR_INVALID_ARGUMENT, "a key not UTF-8");
    kasko_client *refused_client = NULL;
    char text[512];
    CHECK(make(unreadable, &refused_client, text, sizeof text) == KASKO_ERR_INVALID_ARGUMENT, "refused: %s", text);
    CHECK(strstr(text, "configuration key") != NULL, "message: %s", text);
    kasko_config_free(unreadable);

    kasko_client *client = (kasko_client *)&client;
    kasko_result *result = NULL;
    CHECK(kasko_client_new_from_config(NULL, &client, &result) == KASKO_ERR_INVALID_ARGUMENT, "NULL config");
    CHECK(client == NULL, "*out_client NULL");
    CHECK(result != NULL && strstr(kasko_result_message(result), "config") != NULL, "says config");
    kasko_result_free(result);
    CHECK(kasko_client_new_from_config(config, NULL, NULL) == KASKO_ERR_INVALID_ARGUMENT, "NULL out_client");
    /* NULL out_result: the status alone. */
    CHECK(kasko_client_new_from_config(config, &client, NULL) == KASKO_ERR_INVALID_ARGUMENT, "refused, no result");
    kasko_config_free(config);
    kasko_config_free(NULL);
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "scripts/with-sandbox build/test_config");
    test_a_configuration_makes_a_working_client();
    test_unknown_and_mistyped_keys_are_refused_and_remembered();
    test_values_are_checked_when_the_client_is_made();
    test_null_arguments();
    printf("test_config: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
