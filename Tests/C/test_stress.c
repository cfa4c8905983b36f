/*
 * Thread stress: 16 threads x 500 mixed calls, first on one shared client,
 * then on a client per thread, against a sandbox that injects random faults
 * (KASKO_SANDBOX_ARGS="--faults --random-faults 0.1").
 *
 * Every call must end with a status that is correct for what was asked and
 * what the sandbox may have done: no crash, no deadlock (the run is bounded
 * by the callers' timeouts), no INTERNAL, no status a fault cannot cause, an
 * OK that carries the right payment, and no file descriptor left open once
 * the clients are freed.
 */
#define _POSIX_C_SOURCE 200809L
#include <kasko.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_client.h"
#include "testing.h"

enum { THREADS = 16, CALLS = 500 };

static const char *base_url;
static const char *public_key;
static const char *secret_key;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static kasko_client *new_client(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":2,\"timeout_ms\":3000}",
             public_key, secret_key, base_url);
    kasko_client *client = NULL;
    if (kasko_client_new(config, &client, NULL) != KASKO_OK) return NULL;
    return client;
}

static int open_descriptors(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return -1;
    int count = 0;
    while (readdir(dir) != NULL) count++;
    closedir(dir);
    return count;
}

/* What a fault can turn any API call into. */
static int is_fault_status(kasko_status status) {
    return status == KASKO_ERR_SERVER || status == KASKO_ERR_RATE_LIMITED || status == KASKO_ERR_NETWORK
           || status == KASKO_ERR_INVALID_RESPONSE;
}

struct worker {
    kasko_client *shared;
    unsigned seed;
    int correct;
    int wrong;
    int faulted;
};

static void judge(struct worker *worker, int correct, const char *what, kasko_status status, const char *json) {
    if (correct) {
        worker->correct++;
        if (status != KASKO_OK && status != KASKO_ERR_INVALID_ARGUMENT && status != KASKO_ERR_NOT_FOUND) {
            worker->faulted++;
        }
        return;
    }
    worker->wrong++;
    pthread_mutex_lock(&report_lock);
    fprintf(stderr, "wrong result for %s: %s %s\n", what, kasko_status_name(status), json ? json : "(null)");
    pthread_mutex_unlock(&report_lock);
}

/* The error JSON, when there is one, names the status it came with. */
static int error_matches(kasko_status status, const char *json) {
    if (status == KASKO_OK) return 1;
    char code[64];
    return json != NULL && json_string_field(json, "code", code, sizeof code) == 0
           && strcmp(code, kasko_status_name(status)) == 0;
}

static void *work(void *argument) {
    struct worker *worker = argument;
    kasko_client *client = worker->shared != NULL ? worker->shared : new_client();
    char known_id[129] = "";
    for (int call = 0; call < CALLS; call++) {
        int kind = (int)(rand_r(&worker->seed) % 8);
        char *json = NULL;
        kasko_status status;
        if (kind < 3 || known_id[0] == '\0') {
            /* Create for a fresh offer. */
            char policy[128], token[256], request[1024];
            if (sandbox_new_offer(base_url, policy, sizeof policy, token, sizeof token) != 0) {
                judge(worker, 0, "offer", KASKO_ERR_INTERNAL, NULL);
                continue;
            }
            snprintf(request, sizeof request,
                     "{\"token\":\"%s\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"%s\"}", token,
                     policy);
            status = kasko_payment_create(client, request, &json);
            char seen[128] = "";
            int correct = (status == KASKO_OK && json_string_field(json, "policy_id", seen, sizeof seen) == 0
                           && strcmp(seen, policy) == 0 && json_string_field(json, "id", known_id, sizeof known_id) == 0)
                          || (is_fault_status(status) && error_matches(status, json));
            judge(worker, correct, "create", status, json);
        } else if (kind < 6) {
            /* View a payment this thread made. */
            status = kasko_payment_get(client, known_id, &json);
            char seen[129] = "";
            int correct = (status == KASKO_OK && json_string_field(json, "id", seen, sizeof seen) == 0
                           && strcmp(seen, known_id) == 0)
                          || (is_fault_status(status) && error_matches(status, json));
            judge(worker, correct, "view", status, json);
        } else if (kind == 6) {
            /* An unknown payment: 404, unless a fault got there first. */
            status = kasko_payment_get(client, "t00000000000000000000000000000000", &json);
            int correct = (status == KASKO_ERR_NOT_FOUND || is_fault_status(status)) && error_matches(status, json);
            judge(worker, correct, "unknown view", status, json);
        } else {
            /* Bad input: refused before any I/O, whatever the network does. */
            status = kasko_payment_get(client, "../../etc/passwd", &json);
            int correct = status == KASKO_ERR_INVALID_ARGUMENT && error_matches(status, json);
            judge(worker, correct, "bad id", status, json);
        }
        kasko_string_free(json);
    }
    if (worker->shared == NULL) kasko_client_free(client);
    return NULL;
}

static void run(const char *mode, int shared) {
    int before = open_descriptors();
    kasko_client *client = shared ? new_client() : NULL;
    CHECK(!shared || client != NULL, "%s: client", mode);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){client, (unsigned)(i * 7919 + shared), 0, 0, 0};
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0, "%s: thread %d", mode, i);
    }
    int correct = 0, wrong = 0, faulted = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        correct += workers[i].correct;
        wrong += workers[i].wrong;
        faulted += workers[i].faulted;
    }
    kasko_client_free(client);
    int after = open_descriptors();
    printf("%s: %d calls, %d correct (%d ended in a fault status), %d wrong; fds %d -> %d\n", mode, THREADS * CALLS,
           correct, faulted, wrong, before, after);
    CHECK(correct == THREADS * CALLS && wrong == 0, "%s: every call ended correctly", mode);
    CHECK(faulted > 0, "%s: the sandbox did inject faults (%d)", mode, faulted);
    CHECK(after <= before, "%s: no descriptor left open (%d -> %d)", mode, before, after);
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "KASKO_SANDBOX_ARGS='--faults --random-faults 0.1' scripts/with-sandbox");
    run("one shared client", 1);
    run("a client per thread", 0);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
