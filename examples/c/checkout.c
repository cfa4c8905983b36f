/* The whole checkout with libkasko: quote -> offer -> payment -> policy.
 *
 *   KASKO_PUBLIC_KEY=pk_test_... KASKO_SECRET_KEY=sk_test_... \
 *   [KASKO_BASE_URL=http://127.0.0.1:8420] ./checkout [INTEGRATION ITEM PLAN]
 *
 * 1. prices a trip insurance (v3 quote) and reads its token;
 * 2. makes an offer from it for a customer: the policy id and the payment
 *    token come back (the token pays the policy: it is never printed);
 * 3. pays the offer by invoice; when the payment's outcome is unknown (sent,
 *    no answer) it asks kasko_payment_resolve what became of it instead of
 *    paying again;
 * 4. waits for the policy: KASKO creates it asynchronously after payment,
 *    so it polls GET /policies/{id} until "status" is "paid", backing off,
 *    for at most a minute (a server can also say so by the policy.created
 *    webhook: see bindings/python/examples/webhook_receiver.py).
 *
 * The ids default to the sandbox's product (kasko-sandbox --help lists
 * them); a real integration passes its own. Build:
 *   cc checkout.c $(pkg-config --cflags --libs kasko) -o checkout
 */
#define _POSIX_C_SOURCE 200809L
#include <kasko.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* `text` as the inside of a JSON string, into out (size > 0); 0 when it fits. */
static int json_escape(const char *text, char *out, size_t size) {
    size_t used = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        char piece[8];
        if (*c == '"' || *c == '\\') {
            snprintf(piece, sizeof piece, "\\%c", *c);
        } else if (*c < 0x20) {
            snprintf(piece, sizeof piece, "\\u%04x", *c);
        } else {
            piece[0] = (char)*c;
            piece[1] = '\0';
        }
        size_t length = strlen(piece);
        if (used + length >= size) return -1;
        memcpy(out + used, piece, length);
        used += length;
    }
    out[used] = '\0';
    return 0;
}

static const char *string_member(const kasko_result *result, const char *name) {
    const char *value = NULL;
    return kasko_result_member_string(result, name, &value, NULL) == KASKO_OK ? value : NULL;
}

static const char *or_unknown(const char *text) { return text != NULL ? text : "?"; }

static void report_failure(const char *step, const kasko_result *result) {
    const char *request_id = kasko_result_request_id(result);
    fprintf(stderr, "%s failed: %s (%s, outcome %s%s%s)\n", step, kasko_result_message(result),
            kasko_status_name(kasko_result_status(result)), kasko_outcome_name(kasko_result_outcome(result)),
            request_id != NULL ? ", request " : "", request_id != NULL ? request_id : "");
}

static void pause_ms(long milliseconds) {
    struct timespec pause = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

/* Step 3: pays; on an unknown outcome, resolves. Returns 0 when the policy
 * is paid or a payment is pending on it. */
static int pay(kasko_client *client, const char *token, const char *policy_id) {
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_create_v2(client, token, "invoice", "invoice", policy_id, NULL, &result);
    if (status == KASKO_OK) {
        printf("3. payment %s: %s\n", or_unknown(string_member(result, "id")),
               or_unknown(string_member(result, "status")));
        kasko_result_free(result);
        return 0;
    }
    int unknown = kasko_result_outcome(result) == KASKO_OUTCOME_UNKNOWN;
    report_failure("payment", result);
    kasko_result_free(result);
    if (!unknown) return -1; /* not sent or refused: nothing was paid */

    /* Sent, no answer: it may have paid. Ask, rather than pay again. */
    status = kasko_payment_resolve(client, token, "invoice", "invoice", policy_id, NULL, &result);
    if (status != KASKO_OK) {
        report_failure("resolving the payment", result); /* still unknown: try again later */
        kasko_result_free(result);
        return -1;
    }
    const char *state = string_member(result, "state");
    const char *payment_id = string_member(result, "payment_id");
    printf("3. the payment's outcome was unknown; resolved: %s%s%s\n", or_unknown(state), payment_id ? ", payment " : "",
           payment_id ? payment_id : "");
    int settled = state != NULL && strcmp(state, "not_paid") != 0;
    kasko_result_free(result);
    return settled ? 0 : -1;
}

/* Step 4: polls the policy until it is paid, for at most a minute. */
static int wait_for_policy(kasko_client *client, const char *policy_id) {
    long delay_ms = 100;
    for (int waited_ms = 0; waited_ms <= 60000; waited_ms += (int)delay_ms) {
        kasko_result *result = NULL;
        if (kasko_policy_get_v2(client, policy_id, NULL, &result) != KASKO_OK) {
            report_failure("viewing the policy", result);
            kasko_result_free(result);
            return -1;
        }
        const char *status = string_member(result, "status");
        if (status != NULL && strcmp(status, "paid") == 0) {
            const char *etag = kasko_result_etag(result);
            printf("4. policy %s is paid (insurer id %s, version %s)\n", policy_id,
                   or_unknown(string_member(result, "insurer_policy_id")), or_unknown(etag));
            kasko_result_free(result);
            return 0;
        }
        kasko_result_free(result);
        pause_ms(delay_ms);
        if (delay_ms < 2000) delay_ms *= 2;
    }
    fprintf(stderr, "policy %s is not paid after a minute: check it later\n", policy_id);
    return -1;
}

int main(int argc, char **argv) {
    const char *integration = argc == 4 ? argv[1] : "in_sandbox_travel";
    const char *item = argc == 4 ? argv[2] : "ins_sandbox_travel";
    const char *plan = argc == 4 ? argv[3] : "pp_sandbox_single";
    if (argc != 1 && argc != 4) {
        fprintf(stderr, "usage: %s [INTEGRATION_ID ITEM_ID PLAN_ID]\n", argv[0]);
        return 2;
    }

    kasko_config *config = kasko_config_new();
    kasko_client *client = NULL;
    kasko_result *result = NULL;
    kasko_config_set_string(config, "public_key", getenv("KASKO_PUBLIC_KEY"));
    kasko_config_set_string(config, "secret_key", getenv("KASKO_SECRET_KEY"));
    if (getenv("KASKO_BASE_URL") != NULL) kasko_config_set_string(config, "base_url", getenv("KASKO_BASE_URL"));
    kasko_status status = kasko_client_new_from_config(config, &client, &result);
    kasko_config_free(config);
    if (status != KASKO_OK) {
        fprintf(stderr, "configuration refused: %s\n", kasko_result_message(result));
        kasko_result_free(result);
        return 1;
    }

    /* 1. The quote. */
    char request[8192], escaped[4096];
    char ids[3][256];
    if (json_escape(integration, ids[0], sizeof ids[0]) != 0 || json_escape(item, ids[1], sizeof ids[1]) != 0
        || json_escape(plan, ids[2], sizeof ids[2]) != 0) {
        fprintf(stderr, "an id is too long\n");
        kasko_client_free(client);
        return 2;
    }
    snprintf(request, sizeof request,
             "{\"integration_id\":\"%s\",\"item_id\":\"%s\",\"subscription_plan_id\":\"%s\","
             "\"data\":{\"trip_cost\":125000,\"policy_start_date\":\"2027-06-01\"}}",
             ids[0], ids[1], ids[2]);
    status = kasko_quote_create_v2(client, request, NULL, &result);
    const char *quote_token = status == KASKO_OK ? string_member(result, "token") : NULL;
    int64_t premium = 0;
    if (quote_token == NULL || json_escape(quote_token, escaped, sizeof escaped) != 0
        || kasko_result_member_int64(result, "gross_payment_amount", &premium) != KASKO_OK) {
        report_failure("quote", result);
        kasko_result_free(result);
        kasko_client_free(client);
        return 1;
    }
    printf("1. quote: %lld.%02lld EUR\n", (long long)(premium / 100), (long long)(premium % 100));
    kasko_result_free(result);

    /* 2. The offer. */
    snprintf(request, sizeof request,
             "{\"quote_token\":\"%s\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
             "\"email\":\"ada@example.com\",\"language\":\"en\",\"data\":{},\"metadata\":{\"order\":\"demo-1\"}}",
             escaped);
    status = kasko_offer_create_v2(client, request, NULL, &result);
    const char *policy_id = status == KASKO_OK ? string_member(result, "id") : NULL;
    const char *payment_token = status == KASKO_OK ? string_member(result, "payment_token") : NULL;
    if (policy_id == NULL || payment_token == NULL) {
        if (status == KASKO_OK)
            fprintf(stderr, "the offer has no payment token: it needs manual underwriting "
                            "(approve it, then read the token with kasko_offer_get_v2)\n");
        else
            report_failure("offer", result);
        kasko_result_free(result);
        kasko_client_free(client);
        return 1;
    }
    char policy[256], token[4096];
    snprintf(policy, sizeof policy, "%s", policy_id);
    snprintf(token, sizeof token, "%s", payment_token);
    printf("2. offer: policy %s (insurer id %s)\n", policy, or_unknown(string_member(result, "insurer_policy_id")));
    kasko_result_free(result);

    /* 3 and 4. */
    int failed = pay(client, token, policy) != 0 || wait_for_policy(client, policy) != 0;
    memset(token, 0, sizeof token);
    kasko_client_free(client);
    return failed ? 1 : 0;
}
