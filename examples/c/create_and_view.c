/*
 * create_and_view: create a payment for an offer, then view it.
 *
 *   create_and_view POLICY_ID PAYMENT_TOKEN [PROVIDER [METHOD]]
 *
 * PROVIDER and METHOD default to "invoice". Settings come from the environment:
 *   KASKO_BASE_URL    the API; else KASKO_SANDBOX_URL (set by scripts/with-sandbox);
 *                     else the library's default, https://api.eu1.kaskocloud.com
 *   KASKO_PUBLIC_KEY  pk_test_... / pk_live_...; else KASKO_SANDBOX_PUBLIC_KEY;
 *                     else the sandbox's default, pk_test_sandbox
 *   KASKO_SECRET_KEY  sk_test_... / sk_live_...; else KASKO_SANDBOX_SECRET_KEY; else,
 *                     when no public key was given either, sk_test_sandbox. Without
 *                     a secret key the API returns the restricted payment object
 *                     and refuses the view.
 *
 * Uses the 1.1 API: the configuration is set key by key and the request's
 * fields go in as C strings (the library escapes them), and every answer
 * comes back as a kasko_result whose members are read with accessors; this
 * program writes and parses no JSON.
 *
 * Build: cc create_and_view.c $(pkg-config --cflags --libs kasko)
 *    or: cc -Iinclude create_and_view.c -Lbuild -lkasko   (run with LD_LIBRARY_PATH=build)
 */
#include <kasko.h>

#include <stdio.h>
#include <stdlib.h>

static const char *env_or(const char *name, const char *fallback) {
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : fallback;
}

/* Prints why a call failed, and what the caller should do next. */
static void report_failure(const char *what, const kasko_result *result) {
    kasko_status status = kasko_result_status(result);
    const char *request_id = kasko_result_request_id(result);
    fprintf(stderr, "%s failed: %s: %s\n", what, kasko_status_name(status), kasko_result_message(result));
    fprintf(stderr, "  outcome %s, HTTP status %d, %d attempt(s), %s, request id %s\n",
            kasko_outcome_name(kasko_result_outcome(result)), kasko_result_http_status(result),
            kasko_result_attempts(result), kasko_result_retryable(result) ? "retryable" : "not retryable",
            request_id != NULL ? request_id : "(none)");
    switch (status) {
    case KASKO_OK:
        break;
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
    case KASKO_ERR_PENDING_PAYMENT: {
        const char *pending = kasko_result_pending_payment_id(result);
        fprintf(stderr, "The policy already has a pending payment, %s: view it or wait for it to settle.\n",
                pending != NULL ? pending : "(id not given)");
        break;
    }
    case KASKO_ERR_RATE_LIMITED:
    case KASKO_ERR_SERVER:
    case KASKO_ERR_NETWORK:
        if (kasko_result_outcome(result) == KASKO_OUTCOME_UNKNOWN) {
            fprintf(stderr, "The request may have taken effect: view the payment before creating it again.\n");
        } else if (kasko_result_retryable(result)) {
            fprintf(stderr, "Nothing was done; the same call may be made again later.\n");
        } else {
            fprintf(stderr, "The API could not be reached or could not answer; try again later.\n");
        }
        break;
    case KASKO_ERR_INVALID_RESPONSE:
        fprintf(stderr, "The answer was not a payment object; quote the request id to support.\n");
        break;
    case KASKO_ERR_INTERNAL:
        fprintf(stderr, "A failure inside the library (such as memory exhaustion).\n");
        break;
    default: /* a status added after this program was written */
        fprintf(stderr, "An error this program does not know (status %d).\n", (int)status);
        break;
    }
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s POLICY_ID PAYMENT_TOKEN [PROVIDER [METHOD]]\n", argv[0]);
        return 2;
    }
    const char *policy_id = argv[1];
    const char *token = argv[2];
    const char *provider = argc > 3 ? argv[3] : "invoice";
    const char *method = argc > 4 ? argv[4] : provider;
    const char *base_url = env_or("KASKO_BASE_URL", env_or("KASKO_SANDBOX_URL", NULL));
    const char *given_public_key = env_or("KASKO_PUBLIC_KEY", env_or("KASKO_SANDBOX_PUBLIC_KEY", NULL));
    const char *public_key = given_public_key != NULL ? given_public_key : "pk_test_sandbox";
    const char *secret_key =
        env_or("KASKO_SECRET_KEY", env_or("KASKO_SANDBOX_SECRET_KEY", given_public_key == NULL ? "sk_test_sandbox" : NULL));

    /* The configuration is set key by key: nothing to escape. A refused key
     * is remembered and reported when the client is made, so the setters'
     * statuses need no check here. */
    kasko_config *config = kasko_config_new();
    kasko_config_set_string(config, "public_key", public_key);
    kasko_config_set_string(config, "secret_key", secret_key); /* NULL: none */
    kasko_config_set_string(config, "base_url", base_url);     /* NULL: the default */
    kasko_client *client = NULL;
    kasko_result *refused = NULL;
    kasko_status status = kasko_client_new_from_config(config, &client, &refused);
    kasko_config_free(config);
    if (status != KASKO_OK) {
        report_failure("kasko_client_new_from_config", refused);
        kasko_result_free(refused);
        return 1;
    }

    /* Create: plain C strings in, a result out (never NULL). */
    kasko_result *created = NULL;
    status = kasko_payment_create_v2(client, token, provider, method, policy_id, NULL, &created);
    if (status != KASKO_OK) {
        report_failure("kasko_payment_create_v2", created);
        kasko_result_free(created);
        kasko_client_free(client);
        return 1;
    }
    const char *id = NULL;
    const char *payment_status = NULL;
    if (kasko_result_member_string(created, "id", &id, NULL) != KASKO_OK) {
        fprintf(stderr, "the payment has no id: %s\n", kasko_result_json(created));
        kasko_result_free(created);
        kasko_client_free(client);
        return 1;
    }
    if (kasko_result_member_string(created, "status", &payment_status, NULL) != KASKO_OK) payment_status = "?";
    const char *request_id = kasko_result_request_id(created);
    printf("created: %s (status %s, HTTP %d, request id %s)\n", id, payment_status, kasko_result_http_status(created),
           request_id != NULL ? request_id : "(none)");

    /* View the payment just created, by its id. `id` belongs to `created`,
     * so `created` is freed only after the view. */
    kasko_result *viewed = NULL;
    status = kasko_payment_get_v2(client, id, NULL, &viewed);
    if (status != KASKO_OK) {
        report_failure("kasko_payment_get_v2", viewed);
        kasko_result_free(viewed);
        kasko_result_free(created);
        kasko_client_free(client);
        return 1;
    }
    const char *viewed_id = NULL;
    if (kasko_result_member_string(viewed, "id", &viewed_id, NULL) != KASKO_OK) viewed_id = "?";
    if (kasko_result_member_string(viewed, "status", &payment_status, NULL) != KASKO_OK) payment_status = "?";
    int livemode = 0;
    if (kasko_result_member_bool(viewed, "livemode", &livemode) != KASKO_OK) livemode = -1;
    printf("viewed:  %s (status %s, %s)\n", viewed_id, payment_status,
           livemode == 1 ? "live" : livemode == 0 ? "test mode" : "mode unknown");

    kasko_result_free(viewed);
    kasko_result_free(created);
    kasko_client_free(client);
    return 0;
}
