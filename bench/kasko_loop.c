/*
 * kasko_loop.c - the libkasko C peer: the floor's loop through the public
 * API, one kasko_client shared by every thread.
 *
 *   kasko_loop serve BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON
 *   kasko_loop once  BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON
 *   kasko_loop rss   BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON
 *
 * "serve" answers the commands of common.h on stdin ("threads T N own" gives
 * each thread its own client, to tell the cost of sharing one from the cost
 * of a call); "once" makes a client
 * and one view, and exits (the cold-start peer); "rss" prints VmRSS (KiB)
 * after the library is loaded, after kasko_client_new, and after 1,000,
 * 10,000 and BENCH_RSS_CALLS (default 100,000) views, one "label KiB" a line.
 *
 * Per call: kasko_payment_get(client, id, &json) or
 * kasko_payment_create(client, request_json, &json), the status required to
 * be KASKO_OK, then kasko_string_free(json). Everything else (headers, body
 * collection, JSON validation, the malloc'd copy) is the library's.
 *
 * With BENCH_KASKO_API=1.1, the 1.1 calls instead: kasko_payment_get_v2 /
 * kasko_payment_create_v2 (the fields from BENCH_TOKEN, BENCH_PROVIDER,
 * BENCH_METHOD, BENCH_POLICY_ID), the payment's "id" read with
 * kasko_result_member_string (what a C caller does with a result), then
 * kasko_result_free.
 *
 * With BENCH_KASKO_HOOK=1, the shared client gets an event hook (C API 1.2)
 * that only counts its events: the cost of delivering them. The setter is
 * looked up at run time, so that the same program runs against a 1.1
 * library (which then refuses BENCH_KASKO_HOOK).
 */
#define _GNU_SOURCE
#include <kasko.h>

#include <dlfcn.h>

#include "common.h"

static const char *who = "kasko_loop";
static kasko_client *client;
static char config[2048];
static kasko_client *own_clients[BENCH_MAX_THREADS];
static const char *payment_id;
static const char *request_json;

static void check(kasko_status status, char *json) {
    if (status != KASKO_OK) {
        fprintf(stderr, "%s: %s: %s\n", who, kasko_status_name(status), json ? json : "(no JSON)");
        exit(1);
    }
    bench_consume(json);
    kasko_string_free(json);
}

static int use_v2;
static const char *fields[4];

static void check_result(kasko_status status, kasko_result *result) {
    const char *id = NULL;
    if (status != KASKO_OK || kasko_result_member_string(result, "id", &id, NULL) != KASKO_OK) {
        fprintf(stderr, "%s: %s: %s\n", who, kasko_status_name(status), kasko_result_json(result));
        exit(1);
    }
    bench_consume(kasko_result_json(result));
    kasko_result_free(result);
}

static void get_with(kasko_client *with) {
    if (use_v2) {
        kasko_result *result = NULL;
        kasko_status status = kasko_payment_get_v2(with, payment_id, NULL, &result);
        check_result(status, result);
        return;
    }
    char *json = NULL;
    kasko_status status = kasko_payment_get(with, payment_id, &json);
    check(status, json);
}

static void op_get(void) {
    get_with(client);
}

static long hook_events;

static void count_event(const kasko_result *event, void *user_data) {
    (void)event;
    __atomic_fetch_add((long *)user_data, 1, __ATOMIC_RELAXED);
}

static kasko_client *new_client(void) {
    kasko_client *made = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &made, &error);
    if (status != KASKO_OK) {
        fprintf(stderr, "%s: kasko_client_new: %s: %s\n", who, kasko_status_name(status), error ? error : "");
        exit(1);
    }
    return made;
}

static void op_post(void) {
    if (use_v2) {
        kasko_result *result = NULL;
        kasko_status status = kasko_payment_create_v2(client, fields[0], fields[1], fields[2], fields[3], NULL, &result);
        check_result(status, result);
        return;
    }
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, request_json, &json);
    check(status, json);
}

static void op_thread_get(int index, long calls) {
    (void)index;
    for (long i = 0; i < calls; i++) {
        op_get();
    }
}

/* The comparison that tells sharing from per-call cost: a client per thread. */
static void op_threads_prepare(int threads, int own) {
    for (int i = 0; own && i < threads; i++) {
        if (own_clients[i] == NULL) {
            own_clients[i] = new_client();
        }
    }
}

static void op_thread_get_own(int index, long calls) {
    for (long i = 0; i < calls; i++) {
        get_with(own_clients[index]);
    }
}

/* JSON string literal of `text` (keys, URLs and ids need no escapes, but be safe). */
static void append_quoted(char *out, size_t size, const char *text) {
    size_t n = strlen(out);
    if (n + 1 < size) out[n++] = '"';
    for (const char *p = text; *p && n + 3 < size; p++) {
        if (*p == '"' || *p == '\\') out[n++] = '\\';
        out[n++] = *p;
    }
    if (n + 1 < size) out[n++] = '"';
    out[n] = '\0';
}

int main(int argc, char **argv) {
    long rss_loaded = bench_rss_kib();
    if (argc != 7 || (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "once") != 0 && strcmp(argv[1], "rss") != 0)) {
        fprintf(stderr, "usage: kasko_loop serve|once|rss BASE_URL PUBLIC_KEY SECRET_KEY PAYMENT_ID REQUEST_JSON\n");
        return 2;
    }
    payment_id = argv[5];
    request_json = argv[6];
    const char *api = getenv("BENCH_KASKO_API");
    use_v2 = api != NULL && strcmp(api, "1.1") == 0;
    const char *names[4] = {"BENCH_TOKEN", "BENCH_PROVIDER", "BENCH_METHOD", "BENCH_POLICY_ID"};
    for (int i = 0; i < 4; i++) {
        fields[i] = getenv(names[i]);
        if (use_v2 && fields[i] == NULL) {
            fprintf(stderr, "%s: BENCH_KASKO_API=1.1 needs %s\n", who, names[i]);
            return 2;
        }
    }

    strcpy(config, "{\"base_url\":");
    append_quoted(config, sizeof config, argv[2]);
    strncat(config, ",\"public_key\":", sizeof config - strlen(config) - 1);
    append_quoted(config, sizeof config, argv[3]);
    strncat(config, ",\"secret_key\":", sizeof config - strlen(config) - 1);
    append_quoted(config, sizeof config, argv[4]);
    strncat(config, "}", sizeof config - strlen(config) - 1);

    client = new_client();
    if (getenv("BENCH_KASKO_HOOK") != NULL && strcmp(getenv("BENCH_KASKO_HOOK"), "1") == 0) {
        typedef kasko_status (*setter)(kasko_client *, void (*)(const kasko_result *, void *), void *);
        setter set_hook = (setter)(uintptr_t)dlsym(RTLD_DEFAULT, "kasko_client_set_event_hook");
        if (set_hook == NULL || set_hook(client, count_event, &hook_events) != KASKO_OK) {
            fprintf(stderr, "%s: BENCH_KASKO_HOOK=1: this library has no kasko_client_set_event_hook\n", who);
            return 2;
        }
    }

    if (strcmp(argv[1], "once") == 0) {
        op_get();
        kasko_client_free(client);
        return 0;
    }
    if (strcmp(argv[1], "rss") == 0) {
        const char *env = getenv("BENCH_RSS_CALLS");
        long total = env ? strtol(env, NULL, 10) : 100000;
        long marks[] = {1000, 10000, total};
        printf("loaded %ld\nclient %ld\n", rss_loaded, bench_rss_kib());
        long done = 0;
        for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
            if (marks[m] <= done || marks[m] > total) continue;
            for (; done < marks[m]; done++) {
                op_get();
            }
            printf("%ld %ld\n", done, bench_rss_kib());
            fflush(stdout);
        }
        kasko_client_free(client);
        return 0;
    }
    static const bench_ops ops = {"kasko_loop", op_get, op_post, op_thread_get, op_thread_get_own, op_threads_prepare};
    int rc = bench_serve(&ops);
    for (int i = 0; i < BENCH_MAX_THREADS; i++) {
        kasko_client_free(own_clients[i]);
    }
    kasko_client_free(client);
    return rc;
}
