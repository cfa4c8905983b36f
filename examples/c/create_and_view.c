/*
 * create_and_view: create a payment for an offer, then view it.
 *
 *   create_and_view POLICY_ID PAYMENT_TOKEN
 *
 * Settings come from the environment:
 *   KASKO_BASE_URL    the API (default: the library's, https://api.eu1.kaskocloud.com)
 *   KASKO_PUBLIC_KEY  pk_test_... / pk_live_...
 *   KASKO_SECRET_KEY  sk_test_... / sk_live_... (optional: without it the API
 *                     returns the restricted payment object and refuses views)
 *
 * Build: cc create_and_view.c $(pkg-config --cflags --libs kasko)
 *    or: cc -Iinclude create_and_view.c -Lbuild -lkasko
 */
#include <kasko.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints why a call failed, and what the caller should do next. */
static void report_failure(const char *what, kasko_status status, const char *error_json) {
    fprintf(stderr, "%s failed: %s\n%s\n", what, kasko_status_name(status),
            error_json != NULL ? error_json : "(no details: out of memory)");
    switch (status) {
    case KASKO_ERR_INVALID_ARGUMENT:
        fprintf(stderr, "Nothing was sent: fix the input named in the message.\n");
        break;
    case KASKO_ERR_BAD_REQUEST:
        fprintf(stderr, "The API refused the fields (wrong token, or the policy is already paid).\n");
        break;
    case KASKO_ERR_UNAUTHORIZED:
        fprintf(stderr, "Check KASKO_PUBLIC_KEY and KASKO_SECRET_KEY.\n");
        break;
    case KASKO_ERR_NOT_FOUND:
        fprintf(stderr, "Unknown payment or payment provider.\n");
        break;
    case KASKO_ERR_PENDING_PAYMENT:
        fprintf(stderr, "The policy already has a pending payment: see pending_payment_id.\n");
        break;
    case KASKO_ERR_RATE_LIMITED:
    case KASKO_ERR_SERVER:
        fprintf(stderr, "The API is struggling; try again later (see \"retryable\").\n");
        break;
    case KASKO_ERR_NETWORK:
        fprintf(stderr, "No answer. If \"outcome\" is \"unknown\", view the payment before creating it again.\n");
        break;
    case KASKO_ERR_INVALID_RESPONSE:
        fprintf(stderr, "The answer was not a payment object; quote request_id to support.\n");
        break;
    case KASKO_ERR_INTERNAL:
    case KASKO_OK:
    default:
        break;
    }
}

/* Appends `"key":"value",` to buf; values come from the environment or argv
 * and are assumed to need no JSON escaping, which the library re-checks. */
static int add_member(char *buf, size_t size, const char *key, const char *value) {
    size_t used = strlen(buf);
    int written = snprintf(buf + used, size - used, "%s\"%s\":\"%s\"", used > 1 ? "," : "", key, value);
    return written > 0 && (size_t)written < size - used;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s POLICY_ID PAYMENT_TOKEN\n", argv[0]);
        return 2;
    }
    const char *base_url = getenv("KASKO_BASE_URL");
    const char *public_key = getenv("KASKO_PUBLIC_KEY");
    const char *secret_key = getenv("KASKO_SECRET_KEY");
    if (public_key == NULL) {
        fprintf(stderr, "set KASKO_PUBLIC_KEY (and KASKO_SECRET_KEY, KASKO_BASE_URL)\n");
        return 2;
    }

    char config[1024] = "{";
    int ok = add_member(config, sizeof config, "public_key", public_key);
    if (secret_key != NULL) ok = ok && add_member(config, sizeof config, "secret_key", secret_key);
    if (base_url != NULL) ok = ok && add_member(config, sizeof config, "base_url", base_url);
    ok = ok && strlen(config) + 2 <= sizeof config;
    if (!ok) {
        fprintf(stderr, "settings are too long\n");
        return 2;
    }
    strcat(config, "}");

    kasko_client *client = NULL;
    char *error_json = NULL;
    kasko_status status = kasko_client_new(config, &client, &error_json);
    if (status != KASKO_OK) {
        report_failure("kasko_client_new", status, error_json);
        kasko_string_free(error_json);
        return 1;
    }

    char request[2048] = "{";
    ok = add_member(request, sizeof request, "token", argv[2])
        && add_member(request, sizeof request, "provider", "invoice")
        && add_member(request, sizeof request, "method", "invoice")
        && add_member(request, sizeof request, "policy_id", argv[1])
        && strlen(request) + 2 <= sizeof request;
    if (!ok) {
        fprintf(stderr, "policy id or token is too long\n");
        kasko_client_free(client);
        return 2;
    }
    strcat(request, "}");

    char *payment = NULL;
    status = kasko_payment_create(client, request, &payment);
    if (status != KASKO_OK) {
        report_failure("kasko_payment_create", status, payment);
        kasko_string_free(payment);
        kasko_client_free(client);
        return 1;
    }
    printf("created: %s\n", payment);

    /* The id is in the payment JSON; a real program would use its JSON
     * parser. This example finds "id":"..." by hand to stay dependency-free. */
    char id[129] = "";
    const char *found = strstr(payment, "\"id\":");
    if (found != NULL) {
        found = strchr(found + 5, '"');
        if (found != NULL) {
            size_t length = strcspn(found + 1, "\"");
            if (length < sizeof id) {
                memcpy(id, found + 1, length);
                id[length] = '\0';
            }
        }
    }
    kasko_string_free(payment);

    char *viewed = NULL;
    status = kasko_payment_get(client, id, &viewed);
    if (status != KASKO_OK) {
        report_failure("kasko_payment_get", status, viewed);
        kasko_string_free(viewed);
        kasko_client_free(client);
        return 1;
    }
    printf("viewed:  %s\n", viewed);
    kasko_string_free(viewed);
    kasko_client_free(client);
    return 0;
}
