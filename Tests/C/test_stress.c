/*
 * Thread stress: 16 threads x KASKO_STRESS_CALLS mixed calls (default 1000,
 * so 16,000 calls) on ONE shared client, then on a client per thread, against
 * a sandbox that injects random faults
 * (KASKO_SANDBOX_ARGS="--faults --random-faults 0.1"). make check also runs
 * it under valgrind (--fair-sched=yes) and helgrind with KASKO_STRESS_CALLS=128.
 *
 * Every call must end with a status that is correct for what was asked and
 * what the sandbox may have done: no crash, no deadlock (the run is bounded
 * by the callers' timeouts), no INTERNAL, no status a fault cannot cause, an
 * OK that carries the payment asked for, and no file descriptor left open
 * once the clients are freed. Afterwards the sandbox's counters must show
 * every create exactly once: no create was ever sent twice.
 *
 * With KASKO_STRESS_API=1.1 every call goes through the 1.1 calls instead
 * (kasko_payment_create_v2 / _get_v2, a kasko_result per call), and each
 * result's typed reads must agree with its JSON: the same checks, and the
 * result objects' own lifetime and caches, across threads.
 *
 * Then keep-alive (KASKO_STRESS_KEEPALIVE=1, on a sandbox without random
 * faults, which would close connections): consecutive calls from one thread
 * reuse one connection, and N busy threads keep about N, not one per call.
 *
 * With KASKO_STRESS_HOOK=1 every client has an event hook (issue 13) that
 * reads each event and counts it under a mutex, and while the threads share
 * one client, another thread replaces and clears its hook every few
 * milliseconds: for helgrind, delivery against set and clear. Every call
 * must then have delivered at least one event.
 */
#define _POSIX_C_SOURCE 200809L
#include <kasko.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox_client.h"
#include "testing.h"

enum { THREADS = 16, POLICY_SIZE = 128 };

static const char *base_url;
static const char *public_key;
static const char *secret_key;
static int calls_per_thread = 1000;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static int use_v2;
static int typed_disagreements;

/* ---- the event hook (KASKO_STRESS_HOOK=1) -------------------------------- */

static int use_hook;
struct hook_count {
    pthread_mutex_t lock;
    long events;
    long unreadable;
};
static struct hook_count hook_counts[2] = {{PTHREAD_MUTEX_INITIALIZER, 0, 0}, {PTHREAD_MUTEX_INITIALIZER, 0, 0}};

static void stress_hook(const kasko_result *event, void *user_data) {
    struct hook_count *count = user_data;
    const char *json = kasko_result_json(event);
    const char *kind = NULL;
    int readable = json != NULL && kasko_result_member_string(event, "event", &kind, NULL) == KASKO_OK && kind != NULL
                   && (strcmp(kind, "attempt") == 0 || strcmp(kind, "call_end") == 0)
                   && kasko_result_status(event) <= KASKO_ERR_INTERNAL;
    pthread_mutex_lock(&count->lock);
    count->events++;
    if (!readable) count->unreadable++;
    pthread_mutex_unlock(&count->lock);
}

static pthread_mutex_t setter_lock = PTHREAD_MUTEX_INITIALIZER;
static int setter_stop;
static int setter_failures;
static long setter_rounds;

/* Replaces the shared client's hook (two user data in turn) and clears it,
 * until told to stop; leaves it set. */
static void *hook_setter(void *argument) {
    kasko_client *client = argument;
    for (long round = 0;; round++) {
        pthread_mutex_lock(&setter_lock);
        int stop = setter_stop;
        setter_rounds = round;
        pthread_mutex_unlock(&setter_lock);
        if (stop) break;
        kasko_status status = round % 3 == 2 ? kasko_client_set_event_hook(client, NULL, NULL)
                                             : kasko_client_set_event_hook(client, stress_hook, &hook_counts[round % 2]);
        if (status != KASKO_OK) setter_failures++;
        nanosleep(&(struct timespec){0, 3000000}, NULL);
    }
    if (kasko_client_set_event_hook(client, stress_hook, &hook_counts[0]) != KASKO_OK) setter_failures++;
    return NULL;
}

static long hook_events(void) {
    long events = 0;
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(&hook_counts[i].lock);
        events += hook_counts[i].events;
        pthread_mutex_unlock(&hook_counts[i].lock);
    }
    return events;
}

/* A copy of a result's JSON, so that the checks below read the 1.1 calls'
 * answers as they read the 1.0 calls' strings; and the typed reads of the
 * result checked against that JSON. */
static char *json_of(const kasko_result *result, kasko_status status) {
    const char *json = kasko_result_json(result);
    char *copy = json != NULL ? strdup(json) : NULL;
    int agree = copy != NULL && kasko_result_status(result) == status;
    const char *id = NULL;
    char from_json[160] = "";
    if (agree && status == KASKO_OK) {
        agree = kasko_result_member_string(result, "id", &id, NULL) == KASKO_OK
                && json_string_field(copy, "id", from_json, sizeof from_json) == 0 && strcmp(id, from_json) == 0
                && kasko_result_outcome(result) == KASKO_OUTCOME_SUCCEEDED && kasko_result_message(result) == NULL;
    } else if (agree) {
        const char *message = kasko_result_message(result);
        agree = message != NULL && json_string_field(copy, "outcome", from_json, sizeof from_json) == 0;
        const char *name = kasko_outcome_name(kasko_result_outcome(result));
        /* "KASKO_OUTCOME_NOT_SENT" spells "not_sent". */
        char lower[64] = "";
        for (size_t i = 0; agree && name[14 + i] != '\0' && i + 1 < sizeof lower; i++) {
            lower[i] = (char)(name[14 + i] == '_' ? '_' : name[14 + i] - 'A' + 'a');
        }
        agree = agree && strcmp(lower, from_json) == 0;
    }
    if (!agree) {
        pthread_mutex_lock(&report_lock);
        typed_disagreements++;
        pthread_mutex_unlock(&report_lock);
    }
    return copy;
}

static kasko_status create(kasko_client *client, const char *token, const char *policy, const char *request, char **json) {
    if (!use_v2) return kasko_payment_create(client, request, json);
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_create_v2(client, token, "invoice", "invoice", policy, NULL, &result);
    *json = json_of(result, status);
    kasko_result_free(result);
    return status;
}

static kasko_status view(kasko_client *client, const char *id, char **json) {
    if (!use_v2) return kasko_payment_get(client, id, json);
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, id, NULL, &result);
    *json = json_of(result, status);
    kasko_result_free(result);
    return status;
}

/* Frees what create() or view() handed out. */
static void release(char *json) {
    if (use_v2) free(json);
    else kasko_string_free(json);
}

static kasko_client *new_client(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":2,\"timeout_ms\":5000}",
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
    /* Every policy this worker sent a create for, to count at the sandbox. */
    char (*policies)[POLICY_SIZE];
    int policy_count;
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

/* The error JSON, when there is one, names the status it came with; a
 * create that reached the server is never "not_sent". */
static int error_matches(kasko_status status, const char *json, int is_create) {
    if (status == KASKO_OK) return 1;
    char code[64], outcome[32];
    if (json == NULL || json_string_field(json, "code", code, sizeof code) != 0
        || strcmp(code, kasko_status_name(status)) != 0) {
        return 0;
    }
    if (is_create && (json_string_field(json, "outcome", outcome, sizeof outcome) != 0
                      || strcmp(outcome, "not_sent") == 0)) {
        return 0;
    }
    return 1;
}

static void *work(void *argument) {
    struct worker *worker = argument;
    kasko_client *client = worker->shared != NULL ? worker->shared : new_client();
    if (use_hook && worker->shared == NULL && kasko_client_set_event_hook(client, stress_hook, &hook_counts[1]) != KASKO_OK)
        judge(worker, 0, "set the hook", KASKO_ERR_INTERNAL, NULL);
    char known_id[129] = "";
    for (int call = 0; call < calls_per_thread; call++) {
        int kind = (int)(rand_r(&worker->seed) % 8);
        char *json = NULL;
        kasko_status status;
        if (kind < 3 || known_id[0] == '\0') {
            /* Create for a fresh offer. */
            char *policy = worker->policies[worker->policy_count];
            char token[256], request[1024];
            if (sandbox_new_offer(base_url, policy, POLICY_SIZE, token, sizeof token) != 0) {
                judge(worker, 0, "offer", KASKO_ERR_INTERNAL, NULL);
                continue;
            }
            worker->policy_count++;
            snprintf(request, sizeof request,
                     "{\"token\":\"%s\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"%s\"}", token,
                     policy);
            status = create(client, token, policy, request, &json);
            char seen[POLICY_SIZE] = "";
            int correct = (status == KASKO_OK && json_string_field(json, "policy_id", seen, sizeof seen) == 0
                           && strcmp(seen, policy) == 0 && json_string_field(json, "id", known_id, sizeof known_id) == 0)
                          || (is_fault_status(status) && error_matches(status, json, 1));
            judge(worker, correct, "create", status, json);
        } else if (kind < 6) {
            /* View a payment this thread made. */
            status = view(client, known_id, &json);
            char seen[129] = "";
            int correct = (status == KASKO_OK && json_string_field(json, "id", seen, sizeof seen) == 0
                           && strcmp(seen, known_id) == 0)
                          || (is_fault_status(status) && error_matches(status, json, 0));
            judge(worker, correct, "view", status, json);
        } else if (kind == 6) {
            /* An unknown payment: 404, unless a fault got there first. */
            status = view(client, "t00000000000000000000000000000000", &json);
            int correct = (status == KASKO_ERR_NOT_FOUND || is_fault_status(status)) && error_matches(status, json, 0);
            judge(worker, correct, "unknown view", status, json);
        } else {
            /* Bad input: refused before any I/O, whatever the network does. */
            status = view(client, "../../etc/passwd", &json);
            int correct = status == KASKO_ERR_INVALID_ARGUMENT && error_matches(status, json, 0);
            judge(worker, correct, "bad id", status, json);
        }
        release(json);
    }
    if (worker->shared == NULL) kasko_client_free(client);
    return NULL;
}

static void run(const char *mode, int shared, int calls) {
    calls_per_thread = calls;
    int before = open_descriptors();
    kasko_client *client = shared ? new_client() : NULL;
    CHECK(!shared || client != NULL, "%s: client", mode);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){client, (unsigned)(i * 7919 + shared), 0, 0, 0, NULL, 0};
        workers[i].policies = calloc((size_t)calls, POLICY_SIZE);
        CHECK(workers[i].policies != NULL, "%s: memory", mode);
        if (workers[i].policies == NULL) return;
    }
    long events_before = hook_events();
    pthread_t setter;
    int setting = use_hook && shared && client != NULL;
    if (setting) {
        setter_stop = 0;
        CHECK(pthread_create(&setter, NULL, hook_setter, client) == 0, "%s: the hook's setter", mode);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0, "%s: thread %d", mode, i);
    }
    int correct = 0, wrong = 0, faulted = 0, creates = 0, sent_once = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        correct += workers[i].correct;
        wrong += workers[i].wrong;
        faulted += workers[i].faulted;
    }
    if (setting) {
        pthread_mutex_lock(&setter_lock);
        setter_stop = 1;
        pthread_mutex_unlock(&setter_lock);
        pthread_join(setter, NULL);
        CHECK(setter_failures == 0, "%s: set and clear while calls run: %d failed", mode, setter_failures);
    }
    if (use_hook) {
        long events = hook_events() - events_before;
        long unreadable = hook_counts[0].unreadable + hook_counts[1].unreadable;
        printf("%s: %ld events (%ld set/clear rounds)\n", mode, events, setting ? setter_rounds : 0L);
        /* With the hook replaced and cleared all along, only some calls report. */
        CHECK(setting ? events > 0 : events >= THREADS * calls, "%s: events delivered: %ld", mode, events);
        CHECK(unreadable == 0, "%s: %ld events not as documented", mode, unreadable);
    }
    kasko_client_free(client);
    int after = open_descriptors();
    /* What reached the sandbox: each create exactly once. */
    for (int i = 0; i < THREADS; i++) {
        for (int p = 0; p < workers[i].policy_count; p++) {
            long seen = sandbox_attempts(base_url, workers[i].policies[p]);
            creates++;
            if (seen == 1) {
                sent_once++;
            } else {
                fprintf(stderr, "%s: the sandbox saw the create for %s %ld times\n", mode, workers[i].policies[p], seen);
            }
        }
        free(workers[i].policies);
    }
    printf("%s: %d calls, %d correct (%d ended in a fault status), %d wrong; %d creates, %d seen exactly once; "
           "fds %d -> %d\n",
           mode, THREADS * calls, correct, faulted, wrong, creates, sent_once, before, after);
    CHECK(correct == THREADS * calls && wrong == 0, "%s: every call ended correctly", mode);
    CHECK(faulted > 0, "%s: the sandbox did inject faults (%d)", mode, faulted);
    CHECK(creates > 0 && sent_once == creates, "%s: every create reached the sandbox exactly once (%d of %d)", mode,
          sent_once, creates);
    CHECK(after <= before, "%s: no descriptor left open (%d -> %d)", mode, before, after);
}

/* ---- keep-alive --------------------------------------------------------- */

struct viewer {
    kasko_client *client;
    const char *id;
    int views;
    int ok;
};

static void *view_repeatedly(void *argument) {
    struct viewer *viewer = argument;
    for (int i = 0; i < viewer->views; i++) {
        char *json = NULL;
        if (kasko_payment_get(viewer->client, viewer->id, &json) == KASKO_OK) viewer->ok++;
        kasko_string_free(json);
    }
    return NULL;
}

/* Connections the sandbox accepted while `threads` threads made `views`
 * views each on one new client (the counter's own second query excluded). */
static long connections_for(int threads, int views, const char *id, int *ok) {
    kasko_client *client = new_client();
    if (client == NULL) return -1;
    pthread_t handles[THREADS];
    struct viewer viewers[THREADS];
    long before = sandbox_connections(base_url);
    for (int i = 0; i < threads; i++) {
        viewers[i] = (struct viewer){client, id, views, 0};
        pthread_create(&handles[i], NULL, view_repeatedly, &viewers[i]);
    }
    *ok = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(handles[i], NULL);
        *ok += viewers[i].ok;
    }
    long after = sandbox_connections(base_url);
    kasko_client_free(client);
    return before < 0 || after < 0 ? -1 : after - before - 1;
}

static void test_keepalive(void) {
    /* A payment to view. */
    kasko_client *maker = new_client();
    char policy[POLICY_SIZE], token[256], request[1024], id[129] = "";
    CHECK(maker != NULL && sandbox_new_offer(base_url, policy, sizeof policy, token, sizeof token) == 0, "offer");
    snprintf(request, sizeof request,
             "{\"token\":\"%s\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"%s\"}", token, policy);
    char *json = NULL;
    CHECK(kasko_payment_create(maker, request, &json) == KASKO_OK && json_string_field(json, "id", id, sizeof id) == 0,
          "create: %s", json ? json : "");
    kasko_string_free(json);
    kasko_client_free(maker);

    int ok = 0;
    long one = connections_for(1, 200, id, &ok);
    printf("keep-alive: 1 thread, 200 views: %ld connection(s), %d ok\n", one, ok);
    CHECK(ok == 200 && one == 1, "one thread's consecutive calls share one connection (%ld)", one);

    long eight = connections_for(8, 100, id, &ok);
    printf("keep-alive: 8 threads, 100 views each: %ld connections, %d ok\n", eight, ok);
    CHECK(ok == 800 && eight >= 1 && eight <= 8, "8 busy threads keep at most 8 connections (%ld)", eight);

    long sixteen = connections_for(16, 50, id, &ok);
    printf("keep-alive: 16 threads, 50 views each: %ld connections, %d ok\n", sixteen, ok);
    CHECK(ok == 800 && sixteen >= 1 && sixteen <= 16, "16 busy threads keep at most 16 connections (%ld)", sixteen);
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key,
                        "KASKO_SANDBOX_ARGS='--faults --random-faults 0.1' scripts/with-sandbox");
    const char *api = getenv("KASKO_STRESS_API");
    use_v2 = api != NULL && strcmp(api, "1.1") == 0;
    if (use_v2) printf("through the 1.1 calls (kasko_result)\n");
    use_hook = getenv("KASKO_STRESS_HOOK") != NULL && strcmp(getenv("KASKO_STRESS_HOOK"), "1") == 0;
    if (use_hook) printf("with an event hook on every client\n");
    if (getenv("KASKO_STRESS_KEEPALIVE") != NULL) {
        test_keepalive();
    } else {
        const char *calls = getenv("KASKO_STRESS_CALLS");
        int n = calls != NULL ? atoi(calls) : 1000;
        if (n < 1) n = 1000;
        run("one shared client", 1, n);
        run("a client per thread", 0, n / 4 > 128 ? n / 4 : n);
        CHECK(typed_disagreements == 0, "%d results whose typed reads disagree with their JSON", typed_disagreements);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
