/*
 * trace: view a payment and print one line per attempt from the client's
 * event hook (kasko_client_set_event_hook, libkasko 1.2).
 *
 *   trace PAYMENT_ID [COUNT]
 *
 * Views PAYMENT_ID COUNT times (default 1). Settings come from the
 * environment, as for create_and_view: KASKO_BASE_URL (else
 * KASKO_SANDBOX_URL), KASKO_PUBLIC_KEY / KASKO_SECRET_KEY (else the
 * sandbox's). Each line is
 *
 *   payment_get GET /payments/pay_123 attempt 1: HTTP 503, unknown, 2.1 ms, request req_9f2 (retry in 180 ms)
 *
 * The event is a kasko_result borrowed for the hook's duration: read with
 * the kasko_result_member_* accessors, never freed. Nothing in it is secret.
 *
 * Build: cc trace.c $(pkg-config --cflags --libs kasko)
 *    or: cc -Iinclude examples/c/trace.c -Lbuild -lkasko   (run with LD_LIBRARY_PATH=build)
 */
#include <kasko.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_or(const char *name, const char *fallback) {
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : fallback;
}

static const char *string_member(const kasko_result *event, const char *name) {
    const char *value = NULL;
    return kasko_result_member_string(event, name, &value, NULL) == KASKO_OK ? value : "-";
}

static int64_t int_member(const kasko_result *event, const char *name) {
    int64_t value = 0;
    return kasko_result_member_int64(event, name, &value) == KASKO_OK ? value : -1;
}

/* Called on the calling thread, once per attempt and once per call end. */
static void print_attempt(const kasko_result *event, void *user_data) {
    FILE *out = user_data;
    if (strcmp(string_member(event, "event"), "attempt") != 0) return;
    int retry = 0;
    if (kasko_result_member_bool(event, "retry", &retry) != KASKO_OK) retry = 0;
    const char *request_id = kasko_result_request_id(event);
    fprintf(out, "%s %s %s attempt %" PRId64 ": ", string_member(event, "operation"),
            string_member(event, "method"), string_member(event, "path"), int_member(event, "attempt"));
    if (kasko_result_http_status(event) != 0)
        fprintf(out, "HTTP %d", kasko_result_http_status(event));
    else
        fprintf(out, "no response");
    fprintf(out, ", %s, %.1f ms, request %s", string_member(event, "outcome"),
            (double)int_member(event, "total_us") / 1000.0, request_id != NULL ? request_id : "-");
    if (retry) fprintf(out, " (retry in %" PRId64 " ms)", int_member(event, "retry_delay_ms"));
    fprintf(out, "\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PAYMENT_ID [COUNT]\n", argv[0]);
        return 2;
    }
    int count = argc == 3 ? atoi(argv[2]) : 1;
    const char *public_key = env_or("KASKO_PUBLIC_KEY", env_or("KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox"));
    const char *secret_key = env_or("KASKO_SECRET_KEY", env_or("KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox"));
    const char *base_url = env_or("KASKO_BASE_URL", env_or("KASKO_SANDBOX_URL", NULL));

    kasko_config *config = kasko_config_new();
    kasko_config_set_string(config, "public_key", public_key);
    kasko_config_set_string(config, "secret_key", secret_key);
    if (base_url != NULL) kasko_config_set_string(config, "base_url", base_url);
    kasko_client *client = NULL;
    kasko_result *result = NULL;
    kasko_status status = kasko_client_new_from_config(config, &client, &result);
    kasko_config_free(config);
    if (status != KASKO_OK) {
        fprintf(stderr, "client: %s\n", kasko_result_message(result));
        kasko_result_free(result);
        return 1;
    }
    if (kasko_client_set_event_hook(client, print_attempt, stdout) != KASKO_OK) {
        fprintf(stderr, "cannot set the event hook\n");
        kasko_client_free(client);
        return 1;
    }
    int failures = 0;
    for (int i = 0; i < count; i++) {
        status = kasko_payment_get_v2(client, argv[1], NULL, &result);
        printf("view: %s in %.1f ms\n", kasko_status_name(status), (double)kasko_result_total_time_us(result) / 1000.0);
        if (status != KASKO_OK) failures++;
        kasko_result_free(result);
    }
    if (kasko_client_set_event_hook(client, NULL, NULL) != KASKO_OK) failures++;
    kasko_client_free(client);
    return failures == 0 ? 0 : 1;
}
