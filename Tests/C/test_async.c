/* The asynchronous calls (1.4, issue 15) against the sandbox, over real
 * HTTP: kasko_quote_create_async, kasko_offer_create_async,
 * kasko_payment_create_async, kasko_payment_get_async,
 * kasko_offer_get_async, kasko_policy_get_async, kasko_call_cancel, and
 * kasko_client_free with calls in flight. The contract is
 * /work/contract-15.md (libkasko(3), "Asynchronous calls").
 *
 * Every wait is for a condition (a callback counted under a mutex and a
 * condition variable, or a sandbox counter polled) with a deadline that
 * fails the check rather than hang; nothing sleeps in place of a condition.
 * The sandbox's delay_ms faults hold calls in flight, its attempt counter
 * says when a request has reached it, so cancellations and frees happen at
 * known points.
 *
 * Every callback goes to one slot of a static pool; at the end every slot
 * of an accepted call must have been called back exactly once, and every
 * refused one never (whatever the test it came from).
 *
 * Run under scripts/with-sandbox with KASKO_SANDBOX_ARGS=--faults (make
 * check-async). KASKO_ASYNC_TESTS=load,... runs only the tests named;
 * KASKO_ASYNC_LOAD_CALLS sets the load test's calls (1000);
 * KASKO_TEST_QUICK (set under valgrind) lengthens the sandbox's holds.
 * Nothing here prints a key or a payment token: `make check` searches the
 * output for them. */
#define _GNU_SOURCE
#include <kasko.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url;
static const char *public_key;
static const char *secret_key;
static pthread_t main_thread;
static int slow; /* under valgrind: longer holds, so that "meanwhile" stays true */

/* Set around every submission on the submitting thread; a callback that
 * sees it set ran inside the submitting function. */
static __thread int inside_submit;
/* Callbacks running on this thread: a callback that sees one already
 * running was called from inside another (from a submission it made). */
static __thread int inside_callback;

static const char *or_null(const char *text) { return text != NULL ? text : "(null)"; }

static double now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void pause_ms(long ms) { /* between polls of a condition, never instead of one */
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

static pid_t current_tid(void) { return (pid_t)syscall(SYS_gettid); }

/* Whether thread `tid` of this process still exists. */
static int thread_alive(pid_t tid) {
    char path[64];
    struct stat info;
    snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
    return stat(path, &info) == 0;
}

/* ---- clients -------------------------------------------------------------- */

static kasko_client *client_at(const char *url, int with_secret, int max_retries, int timeout_ms) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\"%s%s%s,\"base_url\":\"%s\",\"max_retries\":%d,\"timeout_ms\":%d}", public_key,
             with_secret ? ",\"secret_key\":\"" : "", with_secret ? secret_key : "", with_secret ? "\"" : "", url,
             max_retries, timeout_ms);
    kasko_client *client = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &client, &error);
    kasko_string_free(error);
    if (status != KASKO_OK) {
        fprintf(stderr, "kasko_client_new: %s\n", kasko_status_name(status));
        exit(2);
    }
    return client;
}

static kasko_client *client_with(int with_secret, int max_retries) {
    return client_at(base_url, with_secret, max_retries, 30000);
}

/* A loopback URL where nothing listens: every attempt is refused, not sent. */
static const char *refused_url(void) {
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", unused_loopback_port());
    return url;
}

/* ---- completions ---------------------------------------------------------- */

struct tracker {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int completed; /* callbacks run (duplicates included) */
    int sequence;  /* first callbacks run, numbering them */
    int duplicates;
};
#define TRACKER_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0}

struct slot;
typedef void (*slot_action)(struct slot *slot, kasko_result *result);

/* One asynchronous call: what was submitted, and what its callback saw. */
struct slot {
    struct tracker *tracker;
    int used;
    int accepted;            /* the submission returned KASKO_OK */
    kasko_status submitted;  /* what the submission returned */
    uint64_t call;           /* *out_call */
    /* written by the callback, under the tracker's lock */
    int callbacks;
    kasko_result *result; /* the first callback's; freed by the test */
    int order;            /* its place among the tracker's first callbacks, from 1 */
    int ran_inside_submit;
    int nested;
    pthread_t thread;
    pid_t tid;
    pid_t pid;
    /* what the callback does before it is counted */
    slot_action action;
    void *context;
    int number;
    kasko_status action_status;  /* what a call made by the action returned */
    uint64_t action_call;
    kasko_result *action_result; /* a result the action kept, freed by the test */
    int action_seen;             /* counts seen by the action, for free-inside-a-callback */
    int action_seen_after;
    int cancel_requested;        /* the load test asked kasko_call_cancel for it */
};

enum { POOL_SIZE = 16384 };
static struct slot pool[POOL_SIZE];
static int pool_used;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *new_slot(struct tracker *tracker) {
    pthread_mutex_lock(&pool_lock);
    if (pool_used >= POOL_SIZE) {
        pthread_mutex_unlock(&pool_lock);
        fprintf(stderr, "the slot pool is exhausted\n");
        exit(2);
    }
    struct slot *slot = &pool[pool_used++];
    pthread_mutex_unlock(&pool_lock);
    memset(slot, 0, sizeof *slot);
    slot->tracker = tracker;
    slot->used = 1;
    slot->call = 0xdeadbeef; /* must be overwritten: the id, or 0 */
    return slot;
}

static void on_done(kasko_result *result, void *user_data) {
    struct slot *slot = user_data;
    int nested = inside_callback++;
    int in_submit = inside_submit;
    if (slot->action != NULL) slot->action(slot, result);
    struct tracker *tracker = slot->tracker;
    pthread_mutex_lock(&tracker->lock);
    slot->callbacks++;
    if (slot->callbacks == 1) {
        slot->result = result;
        slot->order = ++tracker->sequence;
        slot->ran_inside_submit = in_submit;
        slot->nested = nested;
        slot->thread = pthread_self();
        slot->tid = current_tid();
        slot->pid = getpid();
    } else {
        tracker->duplicates++;
        kasko_result_free(result);
    }
    tracker->completed++;
    pthread_cond_broadcast(&tracker->changed);
    pthread_mutex_unlock(&tracker->lock);
    inside_callback--;
}

/* Waits until the tracker has counted `count` callbacks, or `seconds`. */
static int tracker_wait(struct tracker *tracker, int count, double seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)seconds;
    deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&tracker->lock);
    int rc = 0;
    while (tracker->completed < count && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&tracker->changed, &tracker->lock, &deadline);
    int reached = tracker->completed >= count;
    pthread_mutex_unlock(&tracker->lock);
    return reached;
}

static int tracker_completed(struct tracker *tracker) {
    pthread_mutex_lock(&tracker->lock);
    int completed = tracker->completed;
    pthread_mutex_unlock(&tracker->lock);
    return completed;
}

static int slot_callbacks(struct slot *slot) {
    pthread_mutex_lock(&slot->tracker->lock);
    int callbacks = slot->callbacks;
    pthread_mutex_unlock(&slot->tracker->lock);
    return callbacks;
}

/* ---- calls, asynchronous and blocking ------------------------------------- */

enum op { QUOTE_CREATE, OFFER_CREATE, PAYMENT_CREATE, PAYMENT_GET, OFFER_GET, POLICY_GET, PAYMENT_RESOLVE };

struct spec {
    enum op op;
    const char *text; /* the request JSON, payment id or policy id; the token of a payment create */
    const char *provider;
    const char *method;
    const char *policy_id;
    const kasko_call_options *options;
};

static kasko_status submit_raw(kasko_client *client, const struct spec *spec, kasko_callback callback,
                               void *user_data, uint64_t *out_call) {
    kasko_status status = KASKO_ERR_INTERNAL;
    inside_submit = 1;
    switch (spec->op) {
    case QUOTE_CREATE:
        status = kasko_quote_create_async(client, spec->text, spec->options, callback, user_data, out_call);
        break;
    case OFFER_CREATE:
        status = kasko_offer_create_async(client, spec->text, spec->options, callback, user_data, out_call);
        break;
    case PAYMENT_CREATE:
        status = kasko_payment_create_async(client, spec->text, spec->provider, spec->method, spec->policy_id,
                                            spec->options, callback, user_data, out_call);
        break;
    case PAYMENT_GET:
        status = kasko_payment_get_async(client, spec->text, spec->options, callback, user_data, out_call);
        break;
    case OFFER_GET:
        status = kasko_offer_get_async(client, spec->text, spec->options, callback, user_data, out_call);
        break;
    case POLICY_GET:
        status = kasko_policy_get_async(client, spec->text, spec->options, callback, user_data, out_call);
        break;
    case PAYMENT_RESOLVE:
        status = kasko_payment_resolve_async(client, spec->text, spec->provider, spec->method, spec->policy_id,
                                             spec->options, callback, user_data, out_call);
        break;
    }
    inside_submit = 0;
    return status;
}

static kasko_status blocking(kasko_client *client, const struct spec *spec, kasko_result **out_result) {
    switch (spec->op) {
    case QUOTE_CREATE: return kasko_quote_create_v2(client, spec->text, spec->options, out_result);
    case OFFER_CREATE: return kasko_offer_create_v2(client, spec->text, spec->options, out_result);
    case PAYMENT_CREATE:
        return kasko_payment_create_v2(client, spec->text, spec->provider, spec->method, spec->policy_id,
                                       spec->options, out_result);
    case PAYMENT_GET: return kasko_payment_get_v2(client, spec->text, spec->options, out_result);
    case OFFER_GET: return kasko_offer_get_v2(client, spec->text, spec->options, out_result);
    case POLICY_GET: return kasko_policy_get_v2(client, spec->text, spec->options, out_result);
    case PAYMENT_RESOLVE:
        return kasko_payment_resolve(client, spec->text, spec->provider, spec->method, spec->policy_id, spec->options,
                                     out_result);
    }
    return KASKO_ERR_INTERNAL;
}

/* Submits `spec` with a new slot of `tracker`; checks the submission. */
static struct slot *submit(kasko_client *client, const struct spec *spec, struct tracker *tracker, slot_action action,
                           void *context, const char *what) {
    struct slot *slot = new_slot(tracker);
    slot->action = action;
    slot->context = context;
    slot->submitted = submit_raw(client, spec, on_done, slot, &slot->call);
    slot->accepted = slot->submitted == KASKO_OK;
    CHECK(slot->submitted == KASKO_OK, "%s: submitting gave %s", what, kasko_status_name(slot->submitted));
    CHECK(slot->accepted ? slot->call != 0 : slot->call == 0, "%s: call id %llu", what,
          (unsigned long long)slot->call);
    return slot;
}

/* What every callback must have been: once, on another thread than the
 * submitting one, not inside the submission nor inside another callback. */
static void check_delivery(struct slot *slot, pthread_t submitter, const char *what) {
    pthread_mutex_lock(&slot->tracker->lock);
    int callbacks = slot->callbacks;
    pthread_t thread = slot->thread;
    int in_submit = slot->ran_inside_submit, nested = slot->nested;
    pthread_mutex_unlock(&slot->tracker->lock);
    CHECK(callbacks == 1, "%s: %d callbacks", what, callbacks);
    if (callbacks < 1) return;
    CHECK(!pthread_equal(thread, submitter), "%s: the callback ran on the submitting thread", what);
    CHECK(!in_submit, "%s: the callback ran inside the submitting function", what);
    CHECK(!nested, "%s: the callback ran inside another callback", what);
    CHECK(slot->result != NULL, "%s: the callback got no result", what);
}

/* Submits, waits for the callback, checks its delivery; the slot's result
 * is the caller's (NULL if it never came). */
static struct slot *call_async(kasko_client *client, const struct spec *spec, const char *what) {
    static struct tracker tracker = TRACKER_INIT;
    int before = tracker_completed(&tracker);
    struct slot *slot = submit(client, spec, &tracker, NULL, NULL, what);
    if (!slot->accepted) return slot;
    CHECK(tracker_wait(&tracker, before + 1, 60), "%s: no callback within 60 s", what);
    check_delivery(slot, pthread_self(), what);
    return slot;
}

static void free_slot_results(struct slot *slot) {
    kasko_result_free(slot->result);
    slot->result = NULL;
    kasko_result_free(slot->action_result);
    slot->action_result = NULL;
}

static int member(const kasko_result *result, const char *name, char *out, size_t size) {
    const char *value = NULL;
    out[0] = '\0';
    if (result == NULL || kasko_result_member_string(result, name, &value, NULL) != KASKO_OK || value == NULL)
        return -1;
    snprintf(out, size, "%s", value);
    return 0;
}

/* The result of an asynchronous call against the blocking call's: the
 * same status, outcome, HTTP status, attempts, message presence and ETag
 * presence; with `same_member`, the same value of that member too. */
static void check_same(const kasko_result *async, const kasko_result *sync, const char *same_member, const char *what) {
    if (async == NULL || sync == NULL) {
        CHECK(0, "%s: a result is missing", what);
        return;
    }
    CHECK(kasko_result_status(async) == kasko_result_status(sync), "%s: async %s, blocking %s (%s)", what,
          kasko_status_name(kasko_result_status(async)), kasko_status_name(kasko_result_status(sync)),
          or_null(kasko_result_message(async)));
    CHECK(kasko_result_outcome(async) == kasko_result_outcome(sync), "%s: outcome async %s, blocking %s", what,
          kasko_outcome_name(kasko_result_outcome(async)), kasko_outcome_name(kasko_result_outcome(sync)));
    CHECK(kasko_result_http_status(async) == kasko_result_http_status(sync), "%s: http async %d, blocking %d", what,
          kasko_result_http_status(async), kasko_result_http_status(sync));
    CHECK(kasko_result_attempts(async) == kasko_result_attempts(sync), "%s: attempts async %d, blocking %d", what,
          kasko_result_attempts(async), kasko_result_attempts(sync));
    CHECK(kasko_result_retryable(async) == kasko_result_retryable(sync), "%s: retryable differs", what);
    CHECK((kasko_result_message(async) == NULL) == (kasko_result_message(sync) == NULL), "%s: message async %s", what,
          or_null(kasko_result_message(async)));
    CHECK((kasko_result_request_id(async) == NULL) == (kasko_result_request_id(sync) == NULL),
          "%s: request id presence differs", what);
    CHECK((kasko_result_etag(async) == NULL) == (kasko_result_etag(sync) == NULL), "%s: ETag presence differs",
          what);
    if (same_member != NULL) {
        char a[512], b[512];
        int found_a = member(async, same_member, a, sizeof a), found_b = member(sync, same_member, b, sizeof b);
        CHECK(found_a == 0 && found_b == 0 && strcmp(a, b) == 0, "%s: \"%s\" async '%s', blocking '%s'", what,
              same_member, a, b);
    }
}

/* An error result's checks: status, outcome, HTTP status, attempts (-1:
 * any), a message, and the result's status equal to the status. */
static void check_error(const kasko_result *result, kasko_status expected, kasko_outcome outcome, int http_status,
                        int attempts, const char *what) {
    if (result == NULL) {
        CHECK(0, "%s: no result", what);
        return;
    }
    kasko_status status = kasko_result_status(result);
    CHECK(status == expected, "%s: %s, expected %s (%s)", what, kasko_status_name(status), kasko_status_name(expected),
          or_null(kasko_result_message(result)));
    CHECK(kasko_result_outcome(result) == outcome, "%s: outcome %s, expected %s", what,
          kasko_outcome_name(kasko_result_outcome(result)), kasko_outcome_name(outcome));
    CHECK(kasko_result_http_status(result) == http_status, "%s: http %d, expected %d", what,
          kasko_result_http_status(result), http_status);
    if (attempts >= 0) {
        CHECK(kasko_result_attempts(result) == attempts, "%s: %d attempts, expected %d", what,
              kasko_result_attempts(result), attempts);
    }
    if (expected != KASKO_OK) {
        CHECK(kasko_result_message(result) != NULL, "%s: no message", what);
        char code[64];
        CHECK(member(result, "code", code, sizeof code) == 0 && strcmp(code, kasko_status_name(expected)) == 0,
              "%s: error object code '%s'", what, code);
    }
}

/* ---- sandbox fixtures ----------------------------------------------------- */

struct offer {
    char policy_id[128];
    char token[512];
};

static void sandbox_offer(struct offer *offer) {
    if (sandbox_new_offer(base_url, offer->policy_id, sizeof offer->policy_id, offer->token, sizeof offer->token)
        != 0) {
        fprintf(stderr, "cannot make an offer in the sandbox\n");
        exit(2);
    }
}

/* A paid invoice payment to view (made by a blocking call without faults). */
static void new_payment(kasko_client *client, char *id, size_t size) {
    struct offer offer;
    sandbox_offer(&offer);
    kasko_result *result = NULL;
    kasko_status status =
        kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result);
    if (status != KASKO_OK || member(result, "id", id, size) != 0) {
        fprintf(stderr, "cannot make a payment: %s %s\n", kasko_status_name(status),
                or_null(kasko_result_message(result)));
        exit(2);
    }
    kasko_result_free(result);
}

static void quote_request(char *out, size_t size, const char *plan, long trip_cost) {
    snprintf(out, size,
             "{\"integration_id\":\"in_sandbox_travel\",\"item_id\":\"ins_sandbox_travel\","
             "\"subscription_plan_id\":\"%s\",\"data\":{\"trip_cost\":%ld,\"policy_start_date\":\"2027-03-01\"}}",
             plan, trip_cost);
}

static void offer_request(char *out, size_t size, const char *quote_token) {
    snprintf(out, size,
             "{\"quote_token\":\"%s\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
             "\"email\":\"ada@example.com\",\"language\":\"en\",\"data\":{}}",
             quote_token);
}

static void arm(const char *key, const char *fault, int times) {
    long status = sandbox_arm_fault(base_url, key, fault, times);
    CHECK(status == 201, "arming %s: HTTP %ld", fault, status);
}

static void arm_route(const char *key, const char *route, const char *fault, int times) {
    long status = sandbox_arm_route_fault(base_url, key, route, fault, times);
    CHECK(status == 201, "arming %s on %s: HTTP %ld", fault, route, status);
}

/* Waits until the sandbox has seen `count` requests with fault key `key`. */
static int sandbox_saw(const char *key, long count, double seconds) {
    double deadline = now_seconds() + seconds;
    for (;;) {
        long seen = sandbox_attempts(base_url, key);
        if (seen >= count) return 1;
        if (now_seconds() > deadline) {
            fprintf(stderr, "the sandbox saw %ld requests, waited for %ld\n", seen, count);
            return 0;
        }
        pause_ms(5);
    }
}

/* Views the policy until its status is `wanted` or 10 s have passed. */
static int policy_becomes(kasko_client *client, const char *policy_id, const char *wanted) {
    double deadline = now_seconds() + 10.0;
    for (;;) {
        kasko_result *result = NULL;
        char status[64] = "";
        int done = kasko_policy_get_v2(client, policy_id, NULL, &result) == KASKO_OK
                   && member(result, "status", status, sizeof status) == 0 && strcmp(status, wanted) == 0;
        kasko_result_free(result);
        if (done) return 1;
        if (now_seconds() > deadline) return 0;
        pause_ms(20);
    }
}

/* ---- 1. every call, asynchronously --------------------------------------- */

static void test_every_call(void) {
    kasko_client *client = client_with(1, 2);
    char quote_json[512], quote_token[512] = "", offer_json[1024];
    char policy_id[128] = "", payment_token[512] = "", payment_id[128] = "", text[128] = "";
    struct slot *slots[6];
    int count = 0;

    /* A quote. */
    quote_request(quote_json, sizeof quote_json, "pp_sandbox_single", 150000);
    struct spec quote = {QUOTE_CREATE, quote_json, NULL, NULL, NULL, NULL};
    struct slot *slot = slots[count++] = call_async(client, &quote, "async quote");
    kasko_result *sync = NULL;
    CHECK(blocking(client, &quote, &sync) == KASKO_OK, "blocking quote");
    check_error(slot->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "async quote");
    check_same(slot->result, sync, "token", "quote");
    CHECK(slot->result != NULL && sync != NULL && strcmp(kasko_result_json(slot->result), kasko_result_json(sync)) == 0,
          "the async quote's JSON is the blocking one's");
    CHECK(member(slot->result, "token", quote_token, sizeof quote_token) == 0 && strncmp(quote_token, "qtok_", 5) == 0,
          "async quote token");
    CHECK(slot->result != NULL && kasko_result_request_id(slot->result) != NULL, "async quote request id");
    CHECK(slot->result != NULL && kasko_result_total_time_us(slot->result) > 0, "async quote total time");
    CHECK(slot->result != NULL && kasko_result_etag(slot->result) == NULL, "a quote has no ETag");
    kasko_result_free(sync);

    /* An offer from it. Another blocking offer (a different id) for the comparison. */
    offer_request(offer_json, sizeof offer_json, quote_token);
    struct spec offer = {OFFER_CREATE, offer_json, NULL, NULL, NULL, NULL};
    slot = slots[count++] = call_async(client, &offer, "async offer");
    CHECK(slot->result != NULL && kasko_result_status(slot->result) == KASKO_OK
              && kasko_result_http_status(slot->result) / 100 == 2 && kasko_result_attempts(slot->result) == 1,
          "async offer: %s", slot->result ? or_null(kasko_result_message(slot->result)) : "no result");
    CHECK(member(slot->result, "id", policy_id, sizeof policy_id) == 0 && strncmp(policy_id, "tpol_", 5) == 0,
          "async offer id");
    CHECK(member(slot->result, "payment_token", payment_token, sizeof payment_token) == 0 && payment_token[0] != '\0',
          "async offer payment token");
    CHECK(blocking(client, &offer, &sync) == KASKO_OK, "blocking offer");
    check_same(slot->result, sync, NULL, "offer");
    CHECK(member(sync, "id", text, sizeof text) == 0 && strcmp(text, policy_id) != 0, "two offers, two ids");
    kasko_result_free(sync);

    /* The payment, by invoice; against a blocking one on another offer. */
    struct spec pay = {PAYMENT_CREATE, payment_token, "invoice", "invoice", policy_id, NULL};
    slot = slots[count++] = call_async(client, &pay, "async payment");
    CHECK(slot->result != NULL && kasko_result_status(slot->result) == KASKO_OK
              && kasko_result_http_status(slot->result) / 100 == 2 && kasko_result_attempts(slot->result) == 1,
          "async payment: %s", slot->result ? or_null(kasko_result_message(slot->result)) : "no result");
    CHECK(member(slot->result, "id", payment_id, sizeof payment_id) == 0 && payment_id[0] != '\0', "payment id");
    CHECK(member(slot->result, "policy_id", text, sizeof text) == 0 && strcmp(text, policy_id) == 0,
          "the payment is the policy's");
    CHECK(sandbox_policy_payment_count(base_url, policy_id) == 1, "one payment on the policy");
    struct offer other;
    sandbox_offer(&other);
    struct spec pay_other = {PAYMENT_CREATE, other.token, "invoice", "invoice", other.policy_id, NULL};
    CHECK(blocking(client, &pay_other, &sync) == KASKO_OK, "blocking payment");
    check_same(slot->result, sync, "status", "payment");
    kasko_result_free(sync);

    /* The payment's view. */
    struct spec view = {PAYMENT_GET, payment_id, NULL, NULL, NULL, NULL};
    slot = slots[count++] = call_async(client, &view, "async payment view");
    CHECK(blocking(client, &view, &sync) == KASKO_OK, "blocking payment view");
    check_error(slot->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "async payment view");
    check_same(slot->result, sync, "id", "payment view");
    check_same(slot->result, sync, "status", "payment view");
    CHECK(slot->result != NULL && sync != NULL && strcmp(kasko_result_json(slot->result), kasko_result_json(sync)) == 0,
          "the async payment view's JSON is the blocking one's");
    kasko_result_free(sync);

    /* The policy, once paid (so that both views see one version). */
    CHECK(policy_becomes(client, policy_id, "paid"), "the policy becomes paid");
    struct spec policy = {POLICY_GET, policy_id, NULL, NULL, NULL, NULL};
    slot = slots[count++] = call_async(client, &policy, "async policy view");
    CHECK(blocking(client, &policy, &sync) == KASKO_OK, "blocking policy view");
    check_error(slot->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "async policy view");
    check_same(slot->result, sync, "id", "policy view");
    check_same(slot->result, sync, "status", "policy view");
    const char *etag = slot->result != NULL ? kasko_result_etag(slot->result) : NULL;
    CHECK(etag != NULL, "the async policy view has an ETag");
    CHECK(etag != NULL && sync != NULL && kasko_result_etag(sync) != NULL && strcmp(etag, kasko_result_etag(sync)) == 0,
          "the same ETag as the blocking view's");
    CHECK(slot->result != NULL && kasko_result_last_modified(slot->result) != NULL, "and a Last-Modified");
    CHECK(slot->result != NULL && sync != NULL && kasko_result_last_modified(sync) != NULL
              && strcmp(kasko_result_last_modified(slot->result), kasko_result_last_modified(sync)) == 0,
          "the same Last-Modified");
    CHECK(slot->result != NULL && sync != NULL && strcmp(kasko_result_json(slot->result), kasko_result_json(sync)) == 0,
          "the async policy view's JSON is the blocking one's");
    kasko_result_free(sync);

    /* The offer's view: accepted now. */
    struct spec offer_view = {OFFER_GET, policy_id, NULL, NULL, NULL, NULL};
    slot = slots[count++] = call_async(client, &offer_view, "async offer view");
    CHECK(blocking(client, &offer_view, &sync) == KASKO_OK, "blocking offer view");
    check_error(slot->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "async offer view");
    check_same(slot->result, sync, "id", "offer view");
    CHECK(member(slot->result, "status", text, sizeof text) == 0 && strcmp(text, "accepted") == 0,
          "the paid offer is accepted: %s", text);
    CHECK(slot->result != NULL && sync != NULL && strcmp(kasko_result_json(slot->result), kasko_result_json(sync)) == 0,
          "the async offer view's JSON is the blocking one's");
    kasko_result_free(sync);

    /* One engine per client: every callback on one thread; distinct ids. */
    for (int i = 0; i < count; i++) {
        CHECK(slots[i]->callbacks == 1 && pthread_equal(slots[i]->thread, slots[0]->thread),
              "call %d: the callbacks of one client run on one thread", i);
        CHECK(slots[i]->tid != current_tid(), "call %d: not on the main thread", i);
        for (int j = 0; j < i; j++) CHECK(slots[i]->call != slots[j]->call, "calls %d and %d: one id", j, i);
        free_slot_results(slots[i]);
    }

    /* out_call may be NULL. */
    static struct tracker quiet = TRACKER_INIT;
    slot = new_slot(&quiet);
    slot->submitted = submit_raw(client, &view, on_done, slot, NULL);
    slot->accepted = slot->submitted == KASKO_OK;
    CHECK(slot->accepted, "a NULL out_call: %s", kasko_status_name(slot->submitted));
    CHECK(tracker_wait(&quiet, 1, 60), "a call without out_call is called back");
    check_delivery(slot, pthread_self(), "NULL out_call");
    check_error(slot->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "NULL out_call");
    free_slot_results(slot);

    /* Freed idle, the client's engine thread ends. */
    pid_t engine = slots[0]->tid;
    CHECK(thread_alive(engine), "the engine thread runs while the client lives");
    kasko_client_free(client);
    double gone_by = now_seconds() + 2;
    while (thread_alive(engine) && now_seconds() < gone_by) pause_ms(1);
    CHECK(!thread_alive(engine), "kasko_client_free ends the idle engine thread");
}

/* ---- 2. every documented status, asynchronously -------------------------- */

/* Submits, waits, checks the result, then makes the blocking call (when
 * `compare`) and checks both agree; with `same_json`, byte for byte. */
static void expect(kasko_client *client, const struct spec *spec, kasko_status status, kasko_outcome outcome,
                   int http_status, int attempts, int compare, int same_json, const char *what) {
    struct slot *slot = call_async(client, spec, what);
    check_error(slot->result, status, outcome, http_status, attempts, what);
    if (compare) {
        kasko_result *sync = NULL;
        kasko_status sync_status = blocking(client, spec, &sync);
        CHECK(sync_status == status, "%s: the blocking call gives %s", what, kasko_status_name(sync_status));
        check_same(slot->result, sync, NULL, what);
        if (same_json) {
            CHECK(slot->result != NULL && sync != NULL
                      && strcmp(kasko_result_json(slot->result), kasko_result_json(sync)) == 0,
                  "%s: the error object is the blocking call's", what);
            CHECK(slot->result != NULL && sync != NULL
                      && strcmp(or_null(kasko_result_message(slot->result)), or_null(kasko_result_message(sync))) == 0,
                  "%s: message '%s', blocking '%s'", what,
                  slot->result ? or_null(kasko_result_message(slot->result)) : "",
                  sync ? or_null(kasko_result_message(sync)) : "");
        }
        kasko_result_free(sync);
    }
    free_slot_results(slot);
}

static void test_statuses(void) {
    kasko_client *client = client_with(1, 2);
    kasko_client *no_retries = client_with(1, 0);
    kasko_client *public_only = client_with(0, 2);
    char request[1024], id[128];

    /* Refused at once, never called back: NULL client, NULL callback. */
    static struct tracker never = TRACKER_INIT;
    static const enum op ops[] = {QUOTE_CREATE, OFFER_CREATE, PAYMENT_CREATE, PAYMENT_GET, OFFER_GET, POLICY_GET};
    struct slot *refused[12];
    quote_request(request, sizeof request, "pp_sandbox_single", 1000);
    for (int i = 0; i < 6; i++) {
        struct spec spec = {ops[i], i < 2 ? request : "tpol_x", "invoice", "invoice", "tpol_x", NULL};
        if (ops[i] == PAYMENT_CREATE) spec.text = "ptok_x";
        for (int which = 0; which < 2; which++) {
            struct slot *slot = refused[i * 2 + which] = new_slot(&never);
            slot->call = 42;
            slot->submitted = which == 0 ? submit_raw(NULL, &spec, on_done, slot, &slot->call)
                                         : submit_raw(client, &spec, NULL, slot, &slot->call);
            CHECK(slot->submitted == KASKO_ERR_INVALID_ARGUMENT, "op %d, NULL %s: %s", i,
                  which == 0 ? "client" : "callback", kasko_status_name(slot->submitted));
            CHECK(slot->call == 0, "op %d, NULL %s: *out_call %llu, expected 0", i, which == 0 ? "client" : "callback",
                  (unsigned long long)slot->call);
        }
    }
    CHECK(kasko_payment_get_async(NULL, "tx", NULL, on_done, refused[0], NULL) == KASKO_ERR_INVALID_ARGUMENT,
          "NULL client, NULL out_call");

    /* 400: the quote's trip_cost. */
    quote_request(request, sizeof request, "pp_sandbox_single", -5);
    struct spec spec = {QUOTE_CREATE, request, NULL, NULL, NULL, NULL};
    expect(client, &spec, KASKO_ERR_BAD_REQUEST, KASKO_OUTCOME_REJECTED, 400, 1, 1, 0, "async 400 quote");

    /* 400: a payment with another offer's token. */
    struct offer offer, other;
    sandbox_offer(&offer);
    sandbox_offer(&other);
    struct spec wrong_token = {PAYMENT_CREATE, other.token, "invoice", "invoice", offer.policy_id, NULL};
    expect(client, &wrong_token, KASKO_ERR_BAD_REQUEST, KASKO_OUTCOME_REJECTED, 400, 1, 1, 0, "async 400 payment");
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 0, "a refused payment made none");

    /* 401: a view without the secret key. */
    new_payment(client, id, sizeof id);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    expect(public_only, &view, KASKO_ERR_UNAUTHORIZED, KASKO_OUTCOME_REJECTED, 401, 1, 1, 0, "async 401 payment view");
    struct spec policy = {POLICY_GET, offer.policy_id, NULL, NULL, NULL, NULL};
    expect(public_only, &policy, KASKO_ERR_UNAUTHORIZED, KASKO_OUTCOME_REJECTED, 401, 1, 1, 0, "async 401 policy view");

    /* 404: unknown payment, offer, policy; unknown provider. */
    struct spec unknown = {PAYMENT_GET, "t00000000000000000000000000000000", NULL, NULL, NULL, NULL};
    expect(client, &unknown, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, 404, 1, 1, 0, "async 404 payment");
    unknown.op = OFFER_GET;
    unknown.text = "tpol_0000000000000000000000000000";
    expect(client, &unknown, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, 404, 1, 1, 0, "async 404 offer");
    unknown.op = POLICY_GET;
    expect(client, &unknown, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, 404, 1, 1, 0, "async 404 policy");
    struct spec pigeon = {PAYMENT_CREATE, offer.token, "carrier-pigeon", "carrier-pigeon", offer.policy_id, NULL};
    expect(client, &pigeon, KASKO_ERR_NOT_FOUND, KASKO_OUTCOME_REJECTED, 404, 1, 1, 0, "async 404 provider");

    /* 422: the deferred provider's pending payment blocks another. */
    struct spec deferred = {PAYMENT_CREATE, offer.token, "deferred", "deferred", offer.policy_id, NULL};
    struct slot *first = call_async(client, &deferred, "async deferred payment");
    char pending_id[128] = "", state[64] = "";
    check_error(first->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, kasko_result_http_status(first->result), 1,
                "async deferred payment");
    CHECK(member(first->result, "id", pending_id, sizeof pending_id) == 0
              && member(first->result, "status", state, sizeof state) == 0 && strcmp(state, "pending") == 0,
          "the deferred payment is pending: %s", state);
    struct slot *second = call_async(client, &deferred, "async 422");
    check_error(second->result, KASKO_ERR_PENDING_PAYMENT, KASKO_OUTCOME_REJECTED, 422, 1, "async 422");
    const char *named = second->result != NULL ? kasko_result_pending_payment_id(second->result) : NULL;
    CHECK(named != NULL && strcmp(named, pending_id) == 0, "the 422 names the pending payment: %s", or_null(named));
    kasko_result *sync = NULL;
    CHECK(blocking(client, &deferred, &sync) == KASKO_ERR_PENDING_PAYMENT, "blocking 422");
    check_same(second->result, sync, "pending_payment_id", "422");
    kasko_result_free(sync);
    free_slot_results(first);
    free_slot_results(second);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "one payment, pending");

    /* 429: a view always rate limited, retried max_retries times; a create never. */
    char limited[128];
    new_payment(client, limited, sizeof limited);
    arm(limited, "{\"status\":429,\"retry_after\":0}", 0);
    struct spec limited_view = {PAYMENT_GET, limited, NULL, NULL, NULL, NULL};
    expect(client, &limited_view, KASKO_ERR_RATE_LIMITED, KASKO_OUTCOME_REJECTED, 429, 3, 1, 0, "async 429 view");
    CHECK(sandbox_attempts(base_url, limited) == 6, "429: 3 + 3 requests seen, got %ld",
          sandbox_attempts(base_url, limited));
    struct offer busy;
    sandbox_offer(&busy);
    arm_route(busy.policy_id, "payment_create", "{\"status\":429,\"retry_after\":0}", 1);
    struct spec busy_pay = {PAYMENT_CREATE, busy.token, "invoice", "invoice", busy.policy_id, NULL};
    expect(client, &busy_pay, KASKO_ERR_RATE_LIMITED, KASKO_OUTCOME_REJECTED, 429, 1, 0, 0, "async 429 create");
    CHECK(sandbox_attempts(base_url, busy.policy_id) == 1, "a rate-limited create is sent once");
    CHECK(sandbox_policy_payment_count(base_url, busy.policy_id) == 0, "and made no payment");

    /* 5xx: 500 is not retried; 503 always, retried; a create's 503 is sent once. */
    char broken[128];
    new_payment(client, broken, sizeof broken);
    arm(broken, "{\"status\":500}", 0);
    struct spec broken_view = {PAYMENT_GET, broken, NULL, NULL, NULL, NULL};
    expect(client, &broken_view, KASKO_ERR_SERVER, KASKO_OUTCOME_UNKNOWN, 500, 1, 1, 0, "async 500 view");
    char down[128];
    new_payment(client, down, sizeof down);
    arm(down, "{\"status\":503,\"retry_after\":0}", 0);
    struct spec down_view = {PAYMENT_GET, down, NULL, NULL, NULL, NULL};
    expect(client, &down_view, KASKO_ERR_SERVER, KASKO_OUTCOME_UNKNOWN, 503, 3, 1, 0, "async 503 view");
    struct offer unlucky;
    sandbox_offer(&unlucky);
    arm_route(unlucky.policy_id, "payment_create", "{\"status\":503,\"retry_after\":0}", 1);
    struct spec unlucky_pay = {PAYMENT_CREATE, unlucky.token, "invoice", "invoice", unlucky.policy_id, NULL};
    expect(client, &unlucky_pay, KASKO_ERR_SERVER, KASKO_OUTCOME_UNKNOWN, 503, 1, 0, 0, "async 503 create");
    CHECK(sandbox_attempts(base_url, unlucky.policy_id) == 1, "a create's 503 is sent once");
    struct spec quote_down = {QUOTE_CREATE, request, NULL, NULL, NULL, NULL};
    quote_request(request, sizeof request, "pp_sandbox_single", 1000);
    /* 409 (pricing being built) is KASKO_ERR_SERVER, rejected. */
    quote_down.text = "{\"integration_id\":\"in_sandbox_building\",\"item_id\":\"ins_sandbox_travel\","
                      "\"subscription_plan_id\":\"pp_sandbox_single\",\"data\":{}}";
    expect(client, &quote_down, KASKO_ERR_SERVER, KASKO_OUTCOME_REJECTED, 409, 1, 1, 0, "async 409 quote");

    /* Network: connection refused, not sent, views and creates alike. */
    kasko_client *nowhere = client_at(refused_url(), 1, 0, 5000);
    struct spec nowhere_view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    expect(nowhere, &nowhere_view, KASKO_ERR_NETWORK, KASKO_OUTCOME_NOT_SENT, 0, 1, 1, 0, "async refused view");
    struct spec nowhere_pay = {PAYMENT_CREATE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    expect(nowhere, &nowhere_pay, KASKO_ERR_NETWORK, KASKO_OUTCOME_NOT_SENT, 0, 1, 1, 0, "async refused create");
    quote_request(request, sizeof request, "pp_sandbox_single", 1000);
    struct spec nowhere_quote = {QUOTE_CREATE, request, NULL, NULL, NULL, NULL};
    expect(nowhere, &nowhere_quote, KASKO_ERR_NETWORK, KASKO_OUTCOME_NOT_SENT, 0, 1, 1, 0, "async refused quote");
    kasko_client_free(nowhere);

    /* Network: the per-call timeout of the options, on a held view: unknown. */
    char slow_id[128];
    new_payment(client, slow_id, sizeof slow_id);
    arm(slow_id, "{\"delay_ms\":3000}", 0);
    kasko_call_options *options = kasko_call_options_new();
    CHECK(options != NULL && kasko_call_options_set_timeout_ms(options, 300) == KASKO_OK, "timeout option");
    struct spec timed = {PAYMENT_GET, slow_id, NULL, NULL, NULL, options};
    expect(no_retries, &timed, KASKO_ERR_NETWORK, KASKO_OUTCOME_UNKNOWN, 0, 1, 0, 0, "async timed-out view");

    /* Invalid responses: a 200 that is not JSON, JSON that is not a payment. */
    char garbled[128];
    new_payment(client, garbled, sizeof garbled);
    arm(garbled, "{\"body\":\"non_json\"}", 0);
    struct spec garbled_view = {PAYMENT_GET, garbled, NULL, NULL, NULL, NULL};
    expect(client, &garbled_view, KASKO_ERR_INVALID_RESPONSE, KASKO_OUTCOME_UNKNOWN, 200, 1, 1, 0,
           "async non-JSON view");
    char foreign[128];
    new_payment(client, foreign, sizeof foreign);
    arm(foreign, "{\"body\":\"not_payment\"}", 0);
    struct spec foreign_view = {PAYMENT_GET, foreign, NULL, NULL, NULL, NULL};
    expect(client, &foreign_view, KASKO_ERR_INVALID_RESPONSE, KASKO_OUTCOME_UNKNOWN, 200, 1, 1, 0,
           "async not-a-payment view");
    struct offer odd;
    sandbox_offer(&odd);
    arm(odd.policy_id, "{\"body\":\"non_json\"}", 0);
    struct spec odd_policy = {POLICY_GET, odd.policy_id, NULL, NULL, NULL, NULL};
    expect(client, &odd_policy, KASKO_ERR_INVALID_RESPONSE, KASKO_OUTCOME_UNKNOWN, 200, 1, 1, 0,
           "async non-JSON policy view");

    /* Invalid arguments: accepted, then called back with the blocking
     * call's error object, byte for byte, and 0 attempts. */
    kasko_call_options *refused_options = kasko_call_options_new();
    CHECK(refused_options != NULL
              && kasko_call_options_set_timeout_ms(refused_options, -1) == KASKO_ERR_INVALID_ARGUMENT,
          "a refused timeout is remembered");
    quote_request(request, sizeof request, "pp_sandbox_single", 1000);
    const struct spec invalid[] = {
        {PAYMENT_GET, "a/b", NULL, NULL, NULL, NULL},
        {PAYMENT_GET, "", NULL, NULL, NULL, NULL},
        {PAYMENT_GET, NULL, NULL, NULL, NULL, NULL},
        {PAYMENT_GET, id, NULL, NULL, NULL, refused_options},
        {PAYMENT_CREATE, NULL, "invoice", "invoice", offer.policy_id, NULL},
        {PAYMENT_CREATE, offer.token, NULL, "invoice", offer.policy_id, NULL},
        {PAYMENT_CREATE, offer.token, "invoice", "invoice", "tpol_\x01", NULL},
        {PAYMENT_CREATE, offer.token, "invoice", "invoice", offer.policy_id, refused_options},
        {QUOTE_CREATE, "not json", NULL, NULL, NULL, NULL},
        {QUOTE_CREATE, "[]", NULL, NULL, NULL, NULL},
        {QUOTE_CREATE, NULL, NULL, NULL, NULL, NULL},
        {QUOTE_CREATE, request, NULL, NULL, NULL, refused_options},
        {OFFER_CREATE, "{\"quote_token\":7}", NULL, NULL, NULL, NULL},
        {OFFER_CREATE, NULL, NULL, NULL, NULL, NULL},
        {OFFER_GET, "tpol_a/b", NULL, NULL, NULL, NULL},
        {OFFER_GET, NULL, NULL, NULL, NULL, NULL},
        {POLICY_GET, "tpol_a b", NULL, NULL, NULL, NULL},
        {POLICY_GET, NULL, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "async invalid argument %zu (op %d)", i, (int)invalid[i].op);
        expect(client, &invalid[i], KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, 0, 0, 1, 1, what);
    }
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "no invalid create was sent");

    /* The calls refused at once were never called back. */
    for (int i = 0; i < 12; i++) CHECK(slot_callbacks(refused[i]) == 0, "refused submission %d was called back", i);
    kasko_call_options_free(options);
    kasko_call_options_free(refused_options);
    kasko_client_free(public_only);
    kasko_client_free(no_retries);
    kasko_client_free(client);
}

/* ---- 3. retries on the engine's timers ------------------------------------ */

static void test_retries(void) {
    kasko_client *client = client_with(1, 2);
    static struct tracker tracker = TRACKER_INIT;

    /* A view: 503 twice, then the payment. */
    char id[128];
    new_payment(client, id, sizeof id);
    arm(id, "{\"status\":503,\"retry_after\":0}", 2);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    struct slot *slot = call_async(client, &view, "async view after 503 twice");
    check_error(slot->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 3, "async view after 503 twice");
    CHECK(sandbox_attempts(base_url, id) == 3, "the sandbox saw 3 requests: %ld", sandbox_attempts(base_url, id));
    free_slot_results(slot);

    /* A create dropped after the server acted: unknown, sent once, one payment. */
    struct offer offer;
    sandbox_offer(&offer);
    arm_route(offer.policy_id, "payment_create", "{\"drop\":\"after_body\"}", 1);
    struct spec pay = {PAYMENT_CREATE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    slot = call_async(client, &pay, "async create dropped after the body");
    check_error(slot->result, KASKO_ERR_NETWORK, KASKO_OUTCOME_UNKNOWN, 0, 1, "async create dropped after the body");
    CHECK(sandbox_attempts(base_url, offer.policy_id) == 1, "the create was sent once: %ld",
          sandbox_attempts(base_url, offer.policy_id));
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "and made exactly one payment: %ld",
          sandbox_policy_payment_count(base_url, offer.policy_id));
    free_slot_results(slot);

    /* A create refused (not sent) is retried: max_retries + 1 attempts. */
    kasko_client *nowhere = client_at(refused_url(), 1, 2, 5000);
    sandbox_offer(&offer);
    struct spec nowhere_pay = {PAYMENT_CREATE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    slot = call_async(nowhere, &nowhere_pay, "async create, connection refused");
    check_error(slot->result, KASKO_ERR_NETWORK, KASKO_OUTCOME_NOT_SENT, 0, 3, "async create, connection refused");
    free_slot_results(slot);
    kasko_client_free(nowhere);

    /* While one call waits out a Retry-After, 20 others complete. */
    int wait_s = slow ? 10 : 4;
    char held[128], quick[128], fault[64];
    new_payment(client, held, sizeof held);
    new_payment(client, quick, sizeof quick);
    snprintf(fault, sizeof fault, "{\"status\":503,\"retry_after\":%d}", wait_s);
    arm(held, fault, 1);
    struct spec held_view = {PAYMENT_GET, held, NULL, NULL, NULL, NULL};
    double started = now_seconds();
    struct slot *waiting = submit(client, &held_view, &tracker, NULL, NULL, "the view waiting to retry");
    CHECK(sandbox_saw(held, 1, 30), "the sandbox saw the first attempt");
    struct spec quick_view = {PAYMENT_GET, quick, NULL, NULL, NULL, NULL};
    struct slot *others[20];
    for (int i = 0; i < 20; i++) others[i] = submit(client, &quick_view, &tracker, NULL, NULL, "a quick view");
    CHECK(tracker_wait(&tracker, 21, 60), "all 21 calls complete");
    double elapsed = now_seconds() - started;
    for (int i = 0; i < 20; i++) {
        check_delivery(others[i], pthread_self(), "a quick view");
        check_error(others[i]->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a quick view");
        CHECK(others[i]->order < waiting->order, "quick view %d completed after the waiting one (%d, %d)", i,
              others[i]->order, waiting->order);
        free_slot_results(others[i]);
    }
    check_delivery(waiting, pthread_self(), "the view waiting to retry");
    check_error(waiting->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 2, "the view waiting to retry");
    CHECK(waiting->result != NULL && kasko_result_total_time_us(waiting->result) >= (int64_t)wait_s * 1000000 - 50000,
          "it waited the Retry-After: %lld us",
          waiting->result ? (long long)kasko_result_total_time_us(waiting->result) : -1LL);
    CHECK(elapsed >= wait_s - 0.05, "it waited the Retry-After: %.3f s", elapsed);
    CHECK(sandbox_attempts(base_url, held) == 2, "two requests: %ld", sandbox_attempts(base_url, held));
    free_slot_results(waiting);
    kasko_client_free(client);
}

/* ---- 4. many in flight ---------------------------------------------------- */

static void test_many_in_flight(void) {
    enum { CALLS = 200 };
    int delay_ms = slow ? 8000 : 2000;
    kasko_client *client = client_with(1, 0);
    static struct tracker tracker = TRACKER_INIT;
    char id[128], fault[64];
    new_payment(client, id, sizeof id);
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", delay_ms);
    arm(id, fault, 0);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    struct slot *slots[CALLS];
    double started = now_seconds();
    for (int i = 0; i < CALLS; i++) slots[i] = submit(client, &view, &tracker, NULL, NULL, "a held view");
    /* All 200 reach the sandbox before any answer comes back: all in flight at once. */
    int all_seen = sandbox_saw(id, CALLS, delay_ms / 1000.0 + 30);
    int done_when_all_seen = tracker_completed(&tracker);
    CHECK(all_seen, "the sandbox saw all %d views", CALLS);
    CHECK(done_when_all_seen == 0, "%d callbacks ran before the sandbox had seen all %d views (not all in flight)",
          done_when_all_seen, CALLS);
    CHECK(tracker_wait(&tracker, CALLS, 120), "all %d views complete (%d did)", CALLS, tracker_completed(&tracker));
    double elapsed = now_seconds() - started;
    int ok = 0;
    for (int i = 0; i < CALLS; i++) {
        check_delivery(slots[i], pthread_self(), "a held view");
        if (slots[i]->result != NULL && kasko_result_status(slots[i]->result) == KASKO_OK
            && kasko_result_attempts(slots[i]->result) == 1 && kasko_result_http_status(slots[i]->result) == 200)
            ok++;
        free_slot_results(slots[i]);
    }
    CHECK(ok == CALLS, "%d of %d held views succeeded in one attempt", ok, CALLS);
    CHECK(elapsed < CALLS * delay_ms / 1000.0 / 10, "hang guard: %.1f s for %d views held %d ms each", elapsed, CALLS,
          delay_ms);
    CHECK(sandbox_attempts(base_url, id) == CALLS, "one request each: %ld", sandbox_attempts(base_url, id));
    kasko_client_free(client);
}

/* ---- 4b. connections the server closes while they are idle ---------------- */

/* CPU time (utime + stime, in clock ticks) of thread `tid` of this process. */
static long thread_cpu_ticks(pid_t tid) {
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *file = fopen(path, "r");
    if (file == NULL) return -1;
    size_t length = fread(line, 1, sizeof line - 1, file);
    fclose(file);
    line[length] = 0;
    /* Fields 14 and 15, counted after the ")" that ends the thread's name. */
    char *after = strrchr(line, ')');
    long utime = -1, stime = -1;
    if (after == NULL || sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) != 2)
        return -1;
    return utime + stime;
}

/* The engine keeps an idle kept-alive socket in its epoll set (multi_loop.c).
 * Here the sandbox closes every connection right after its answer, with no
 * "Connection: close": libcurl keeps each one as reusable, and the FIN comes
 * while nobody watches it. The engine must neither spin on those sockets
 * (level-triggered readiness that libcurl does not want) nor lose the next
 * calls, which go out on new connections, often under the same fd numbers. */
static void test_server_closes_idle_connections(void) {
    enum { CALLS = 40, ROUNDS = 3 };
    kasko_client *client = client_with(1, 0);
    static struct tracker tracker = TRACKER_INIT;
    char id[128];
    new_payment(client, id, sizeof id);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    int ok = 0, total = 0;
    pid_t engine = 0;
    for (int round = 0; round < ROUNDS; round++) {
        arm(id, "{\"close\":\"after_response\"}", CALLS);
        struct slot *slots[CALLS];
        for (int i = 0; i < CALLS; i++) slots[i] = submit(client, &view, &tracker, NULL, NULL, "a view whose connection closes");
        total += CALLS;
        CHECK(tracker_wait(&tracker, total, 120), "round %d: all %d views complete (%d did)", round + 1, CALLS,
              tracker_completed(&tracker) - (total - CALLS));
        for (int i = 0; i < CALLS; i++) {
            check_delivery(slots[i], pthread_self(), "a view whose connection closes");
            if (slots[i]->result != NULL && kasko_result_status(slots[i]->result) == KASKO_OK
                && kasko_result_attempts(slots[i]->result) == 1)
                ok++;
            if (slots[i]->tid != 0) engine = slots[i]->tid;
            free_slot_results(slots[i]);
        }
    }
    CHECK(ok == CALLS * ROUNDS, "%d of %d views succeeded in one attempt, their connections closed after each",
          ok, CALLS * ROUNDS);
    /* Every connection is closed by now, all of them idle: an engine spinning
     * on their readiness would use the whole window. The window measures; it
     * stands in for no condition. */
    long before = engine != 0 ? thread_cpu_ticks(engine) : -1;
    pause_ms(slow ? 2000 : 500);
    long after = engine != 0 ? thread_cpu_ticks(engine) : -1;
    long window_ticks = (slow ? 2000 : 500) * sysconf(_SC_CLK_TCK) / 1000;
    CHECK(before >= 0 && after >= 0, "the engine thread's CPU time is readable");
    CHECK(after - before < window_ticks / 2, "the idle engine used %ld of %ld ticks (spinning on closed sockets?)",
          after - before, window_ticks);
    /* And the next calls, on fresh connections, all go through. */
    struct slot *slots[CALLS];
    for (int i = 0; i < CALLS; i++) slots[i] = submit(client, &view, &tracker, NULL, NULL, "a view after the closes");
    total += CALLS;
    CHECK(tracker_wait(&tracker, total, 120), "the views after the closes complete");
    int after_ok = 0;
    for (int i = 0; i < CALLS; i++) {
        check_delivery(slots[i], pthread_self(), "a view after the closes");
        if (slots[i]->result != NULL && kasko_result_status(slots[i]->result) == KASKO_OK
            && kasko_result_attempts(slots[i]->result) == 1)
            after_ok++;
        free_slot_results(slots[i]);
    }
    CHECK(after_ok == CALLS, "%d of %d views after the closes succeeded in one attempt", after_ok, CALLS);
    kasko_client_free(client);
}

/* ---- 4c. fork with more than a thousand connections open ------------------ */

/* Sockets of this process connected to loopback port `port`. */
static int sockets_connected_to(int port) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        int fd = atoi(entry->d_name);
        struct sockaddr_in peer;
        socklen_t length = sizeof peer;
        if (fd == dirfd(dir) || getpeername(fd, (struct sockaddr *)&peer, &length) != 0) continue;
        if (peer.sin_family == AF_INET && ntohs(peer.sin_port) == port) count++;
    }
    closedir(dir);
    return count;
}

/* A child forked while the engine holds more connections than the 1024 the
 * fork handler once tracked must still close every one of its copies: a
 * copy left open keeps the connection alive for the server after the
 * parent is done with it. The server here listens and never accepts: the
 * kernel completes each connection, and every call waits for an answer. */
static void test_fork_many_connections(void) {
    enum { CALLS = 1100 };
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max < CALLS + 256) {
        fprintf(stderr, "fork_many: skipped: the hard descriptor limit is below %d\n", CALLS + 256);
        return;
    }
    if (limit.rlim_cur < CALLS + 256) {
        limit.rlim_cur = CALLS + 256;
        CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0, "raise the soft descriptor limit");
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0
        || listen(listener, 4096) != 0 || getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        CHECK(0, "a listening socket");
        if (listener >= 0) close(listener);
        return;
    }
    int port = ntohs(address.sin_port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    kasko_client *client = client_at(url, 1, 0, 120000);
    static struct tracker tracker = TRACKER_INIT;
    struct spec view = {PAYMENT_GET, "t0123456789abcdef0123456789abcdef", NULL, NULL, NULL, NULL};
    static struct slot *slots[CALLS];
    for (int i = 0; i < CALLS; i++) slots[i] = submit(client, &view, &tracker, NULL, NULL, "a view nobody answers");
    int connected = 0;
    for (double deadline = now_seconds() + (slow ? 300 : 60); now_seconds() < deadline; pause_ms(50)) {
        if ((connected = sockets_connected_to(port)) >= CALLS) break;
    }
    CHECK(connected == CALLS, "all %d calls connected (%d)", CALLS, connected);
    int report[2];
    CHECK(pipe(report) == 0, "a pipe for the child's report");
    pid_t child = fork();
    if (child == 0) {
        close(report[0]);
        int left = sockets_connected_to(port);
        ssize_t written = write(report[1], &left, sizeof left);
        _exit(written == (ssize_t)sizeof left ? 0 : 1);
    }
    close(report[1]);
    int left = -1;
    CHECK(read(report[0], &left, sizeof left) == (ssize_t)sizeof left, "the child's report");
    close(report[0]);
    /* Its exit status is not looked at: under valgrind a forked child
     * reports the memory of threads it does not have as lost. */
    int child_status = 0;
    CHECK(waitpid(child, &child_status, 0) == child, "the child is reaped");
    CHECK(left == 0, "the child kept %d of the parent's %d connections open", left, connected);
    /* Freeing the client ends every call, cancelled. */
    kasko_client_free(client);
    CHECK(tracker_completed(&tracker) == CALLS, "every call was called back by the free (%d)", tracker_completed(&tracker));
    int cancelled = 0;
    for (int i = 0; i < CALLS; i++) {
        if (slots[i]->result != NULL && kasko_result_status(slots[i]->result) == KASKO_ERR_CANCELLED) cancelled++;
        free_slot_results(slots[i]);
    }
    CHECK(cancelled == CALLS, "%d of %d ended cancelled", cancelled, CALLS);
    close(listener);
}

/* ---- 5. cancellation ------------------------------------------------------ */

struct hook_watch {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int attempts;
    int retrying; /* attempt events that announced a retry */
};

static void watch_attempts(const kasko_result *event, void *user_data) {
    struct hook_watch *watch = user_data;
    char kind[32];
    result_string_member(event, "event", kind, sizeof kind);
    int retry = 0;
    if (kasko_result_member_bool(event, "retry", &retry) != KASKO_OK) retry = 0;
    pthread_mutex_lock(&watch->lock);
    if (strcmp(kind, "attempt") == 0) {
        watch->attempts++;
        if (retry) watch->retrying++;
    }
    pthread_cond_broadcast(&watch->changed);
    pthread_mutex_unlock(&watch->lock);
}

static int watch_wait_retrying(struct hook_watch *watch, int count, double seconds) {
    double deadline = now_seconds() + seconds;
    pthread_mutex_lock(&watch->lock);
    while (watch->retrying < count && now_seconds() < deadline) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&watch->changed, &watch->lock, &until);
    }
    int reached = watch->retrying >= count;
    pthread_mutex_unlock(&watch->lock);
    return reached;
}

/* A callback's action: cancels the call whose slot is the context. */
static void cancel_other(struct slot *slot, kasko_result *result) {
    (void)result;
    struct slot *other = slot->context;
    kasko_client *client = other->context;
    slot->action_status = kasko_call_cancel(client, other->call);
}

static void test_cancel(void) {
    int hold_ms = slow ? 20000 : 5000;
    char fault[64];
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", hold_ms);
    kasko_client *client = client_with(1, 2);
    static struct tracker tracker = TRACKER_INIT;
    CHECK(kasko_status_name(KASKO_ERR_CANCELLED) != NULL
              && strcmp(kasko_status_name(KASKO_ERR_CANCELLED), "KASKO_ERR_CANCELLED") == 0,
          "KASKO_ERR_CANCELLED is named: %s", or_null(kasko_status_name(KASKO_ERR_CANCELLED)));
    CHECK(KASKO_ERR_CANCELLED == 12, "KASKO_ERR_CANCELLED is 12");

    /* A view the sandbox holds, cancelled once it was seen: unknown. */
    char id[128];
    new_payment(client, id, sizeof id);
    arm(id, fault, 1);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    double started = now_seconds();
    struct slot *held = submit(client, &view, &tracker, NULL, NULL, "a held view");
    CHECK(sandbox_saw(id, 1, 30), "the sandbox saw the held view");
    CHECK(kasko_call_cancel(client, held->call) == KASKO_OK, "cancel the held view");
    CHECK(kasko_call_cancel(client, held->call) == KASKO_OK, "cancel it twice");
    CHECK(tracker_wait(&tracker, 1, 60), "the cancelled view is called back");
    CHECK(now_seconds() - started < hold_ms / 1000.0, "the cancelled view ended before its answer could come");
    check_delivery(held, pthread_self(), "the cancelled view");
    check_error(held->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1, "the cancelled view");
    CHECK(kasko_call_cancel(client, held->call) == KASKO_OK, "cancel it once completed");
    CHECK(sandbox_attempts(base_url, id) == 1, "a cancelled view is not retried: %ld", sandbox_attempts(base_url, id));

    /* A completed call: cancelling it does nothing, no second callback. */
    char quick[128];
    new_payment(client, quick, sizeof quick);
    struct spec quick_view = {PAYMENT_GET, quick, NULL, NULL, NULL, NULL};
    struct slot *done = submit(client, &quick_view, &tracker, NULL, NULL, "a quick view");
    CHECK(tracker_wait(&tracker, 2, 60), "the quick view completes");
    CHECK(kasko_call_cancel(client, done->call) == KASKO_OK, "cancel a completed call");
    /* Another call's callback after the cancel: had the cancel called
     * back again, it would have run by then (one engine thread). */
    struct slot *after = submit(client, &quick_view, &tracker, NULL, NULL, "the view after");
    CHECK(tracker_wait(&tracker, 3, 60), "the view after completes");
    check_delivery(done, pthread_self(), "a completed call, cancelled");
    check_error(done->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a completed call, cancelled");
    check_delivery(after, pthread_self(), "the view after");
    free_slot_results(done);
    free_slot_results(after);

    /* Ids never issued; a NULL client. */
    CHECK(kasko_call_cancel(client, 0) == KASKO_ERR_INVALID_ARGUMENT, "cancel id 0");
    CHECK(kasko_call_cancel(client, held->call + 1000000) == KASKO_ERR_INVALID_ARGUMENT, "cancel an id never issued");
    CHECK(kasko_call_cancel(client, UINT64_MAX) == KASKO_ERR_INVALID_ARGUMENT, "cancel UINT64_MAX");
    CHECK(kasko_call_cancel(NULL, held->call) == KASKO_ERR_INVALID_ARGUMENT, "cancel on a NULL client");
    kasko_client *fresh = client_with(1, 0);
    CHECK(kasko_call_cancel(fresh, 1) == KASKO_ERR_INVALID_ARGUMENT, "cancel on a client that issued nothing");
    kasko_client_free(fresh);
    free_slot_results(held);

    /* Waiting to retry after not-sent attempts: cancelled, not sent. */
    kasko_client *nowhere = client_at(refused_url(), 1, 10, 5000);
    static struct hook_watch watch = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    CHECK(kasko_client_set_event_hook(nowhere, watch_attempts, &watch) == KASKO_OK, "watch the attempts");
    struct spec nowhere_view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    struct slot *backing_off = submit(nowhere, &nowhere_view, &tracker, NULL, NULL, "a view backing off");
    CHECK(watch_wait_retrying(&watch, 1, 30), "a refused attempt announced a retry");
    CHECK(kasko_call_cancel(nowhere, backing_off->call) == KASKO_OK, "cancel the view backing off");
    CHECK(tracker_wait(&tracker, 4, 60), "the view backing off is called back");
    check_delivery(backing_off, pthread_self(), "the view backing off");
    check_error(backing_off->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_NOT_SENT, 0, -1, "the view backing off");
    CHECK(backing_off->result != NULL && kasko_result_attempts(backing_off->result) >= 1
              && kasko_result_attempts(backing_off->result) < 11,
          "attempts begun: %d", backing_off->result ? kasko_result_attempts(backing_off->result) : -1);
    free_slot_results(backing_off);
    /* A create too (a create refused is retried). */
    struct offer offer;
    sandbox_offer(&offer);
    struct spec nowhere_pay = {PAYMENT_CREATE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    pthread_mutex_lock(&watch.lock);
    int retrying = watch.retrying;
    pthread_mutex_unlock(&watch.lock);
    struct slot *create_backing_off = submit(nowhere, &nowhere_pay, &tracker, NULL, NULL, "a create backing off");
    CHECK(watch_wait_retrying(&watch, retrying + 1, 30), "a refused create announced a retry");
    CHECK(kasko_call_cancel(nowhere, create_backing_off->call) == KASKO_OK, "cancel the create backing off");
    CHECK(tracker_wait(&tracker, 5, 60), "the create backing off is called back");
    check_error(create_backing_off->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_NOT_SENT, 0, -1,
                "the create backing off");
    free_slot_results(create_backing_off);
    kasko_client_free(nowhere);

    /* A create the sandbox holds, cancelled once seen: unknown, and the
     * sandbox still makes the payment (documented: delay_ms carries it out). */
    sandbox_offer(&offer);
    arm_route(offer.policy_id, "payment_create", fault, 1);
    struct spec pay = {PAYMENT_CREATE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    struct slot *create = submit(client, &pay, &tracker, NULL, NULL, "a held create");
    CHECK(sandbox_saw(offer.policy_id, 1, 30), "the sandbox saw the held create");
    CHECK(kasko_call_cancel(client, create->call) == KASKO_OK, "cancel the held create");
    CHECK(tracker_wait(&tracker, 6, 60), "the cancelled create is called back");
    check_delivery(create, pthread_self(), "the cancelled create");
    check_error(create->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1, "the cancelled create");
    double deadline = now_seconds() + hold_ms / 1000.0 + 20;
    while (sandbox_policy_payment_count(base_url, offer.policy_id) < 1 && now_seconds() < deadline) pause_ms(50);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "the cancelled create still paid, once");
    CHECK(sandbox_attempts(base_url, offer.policy_id) == 1, "it was sent once");
    free_slot_results(create);

    /* Cancelled from another call's callback. */
    char other_id[128];
    new_payment(client, other_id, sizeof other_id);
    arm(other_id, fault, 1);
    struct spec other_view = {PAYMENT_GET, other_id, NULL, NULL, NULL, NULL};
    struct slot *victim = submit(client, &other_view, &tracker, NULL, client, "a view to cancel from a callback");
    CHECK(sandbox_saw(other_id, 1, 30), "the sandbox saw it");
    struct slot *canceller = submit(client, &quick_view, &tracker, cancel_other, victim, "a view that cancels");
    CHECK(tracker_wait(&tracker, 8, 60), "both are called back");
    CHECK(canceller->action_status == KASKO_OK, "kasko_call_cancel from a callback: %s",
          kasko_status_name(canceller->action_status));
    check_error(victim->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1, "cancelled from a callback");
    CHECK(canceller->order < victim->order, "the cancelled call is called back after the callback that cancelled it");
    free_slot_results(victim);
    free_slot_results(canceller);
    kasko_client_free(client);
}

/* ---- 6. kasko_client_free with calls in flight ---------------------------- */

/* A callback's action during kasko_client_free: it may not submit to the
 * client being freed (KASKO_ERR_CANCELLED, no callback). */
static struct tracker resubmitted = TRACKER_INIT;
static uint64_t last_issued;                 /* the largest id the client gave, set before the free */
static kasko_status cancel_never_issued = -1; /* kasko_call_cancel(last_issued + 1) after the refusal */
static void submit_during_free(struct slot *slot, kasko_result *result) {
    if (kasko_result_status(result) != KASKO_ERR_CANCELLED) return;
    kasko_client *client = slot->context;
    struct slot *extra = new_slot(&resubmitted);
    slot->action_call = 42;
    inside_submit = 1;
    slot->action_status = kasko_payment_get_async(client, "tnever", NULL, on_done, extra, &slot->action_call);
    inside_submit = 0;
    extra->submitted = slot->action_status;
    extra->accepted = slot->action_status == KASKO_OK;
    extra->call = slot->action_call;
    /* The refused submission issued no id: one past the last is still
     * "larger than any it issued". */
    cancel_never_issued = kasko_call_cancel(client, last_issued + 1);
}

/* A callback's action: frees its own client, noting how many callbacks had
 * run before and after (none may run inside it). */
static void free_own_client(struct slot *slot, kasko_result *result) {
    (void)result;
    kasko_client *client = slot->context;
    slot->action_seen = tracker_completed(slot->tracker);
    kasko_client_free(client);
    slot->action_seen_after = tracker_completed(slot->tracker);
}

static void test_free_in_flight(void) {
    enum { HELD = 50 };
    int hold_ms = slow ? 20000 : 5000;
    char fault[64], id[128];
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", hold_ms);

    /* 50 held calls; kasko_client_free from the main thread. */
    kasko_client *client = client_with(1, 2);
    static struct tracker tracker = TRACKER_INIT;
    new_payment(client, id, sizeof id);
    arm(id, fault, 0);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};
    struct slot *slots[HELD];
    for (int i = 0; i < HELD; i++)
        slots[i] = submit(client, &view, &tracker, i == 0 ? submit_during_free : NULL, client, "a held view");
    CHECK(sandbox_saw(id, HELD, 60), "the sandbox saw the %d held views", HELD);
    for (int i = 0; i < HELD; i++)
        if (slots[i]->call > last_issued) last_issued = slots[i]->call;
    double started = now_seconds();
    kasko_client_free(client);
    double took = now_seconds() - started;
    /* Read without waiting: they must all have run already. */
    int completed = tracker_completed(&tracker);
    CHECK(completed == HELD, "%d of %d callbacks ran before kasko_client_free returned", completed, HELD);
    CHECK(took < hold_ms / 1000.0, "kasko_client_free did not wait for the answers (%.1f s)", took);
    int cancelled = 0;
    for (int i = 0; i < HELD; i++) {
        if (slots[i]->callbacks != 1) continue;
        check_delivery(slots[i], pthread_self(), "a view freed in flight");
        if (slots[i]->result != NULL && kasko_result_status(slots[i]->result) == KASKO_ERR_CANCELLED
            && kasko_result_outcome(slots[i]->result) == KASKO_OUTCOME_UNKNOWN
            && kasko_result_http_status(slots[i]->result) == 0 && kasko_result_attempts(slots[i]->result) == 1)
            cancelled++;
        if (i > 0) CHECK(slots[i]->tid == slots[0]->tid, "view %d: called back on another thread", i);
    }
    CHECK(cancelled == HELD, "%d of %d freed in flight were CANCELLED, unknown, http 0, 1 attempt", cancelled, HELD);
    if (slots[0]->callbacks == 1) {
        CHECK(slots[0]->tid != current_tid(), "the callbacks ran on the engine thread, not in kasko_client_free's");
        /* Joined, it is gone from /proc within moments (the kernel
         * wakes the joiner a little before it removes the task). */
        double gone_by = now_seconds() + 2;
        while (thread_alive(slots[0]->tid) && now_seconds() < gone_by) pause_ms(1);
        CHECK(!thread_alive(slots[0]->tid), "the engine thread has ended when kasko_client_free returns");
        CHECK(slots[0]->action_status == KASKO_ERR_CANCELLED,
              "a callback run by kasko_client_free submits to it: %s, expected KASKO_ERR_CANCELLED",
              kasko_status_name(slots[0]->action_status));
        CHECK(slots[0]->action_call == 0, "and *out_call is 0: %llu", (unsigned long long)slots[0]->action_call);
        CHECK(cancel_never_issued == KASKO_ERR_INVALID_ARGUMENT,
              "kasko_call_cancel(last id + 1) after a refused submission: %s, expected KASKO_ERR_INVALID_ARGUMENT "
              "(the refusal issued no id)",
              kasko_status_name(cancel_never_issued));
    }
    for (int i = 0; i < HELD; i++) free_slot_results(slots[i]);

    /* kasko_client_free from inside a callback. */
    enum { OTHERS = 10 };
    client = client_with(1, 2);
    static struct tracker inside = TRACKER_INIT;
    char held_id[128], quick[128];
    new_payment(client, held_id, sizeof held_id);
    new_payment(client, quick, sizeof quick);
    arm(held_id, fault, 0);
    struct spec held_view = {PAYMENT_GET, held_id, NULL, NULL, NULL, NULL};
    struct slot *others[OTHERS];
    for (int i = 0; i < OTHERS; i++) others[i] = submit(client, &held_view, &inside, NULL, NULL, "a held view");
    CHECK(sandbox_saw(held_id, OTHERS, 60), "the sandbox saw the %d held views", OTHERS);
    struct spec quick_view = {PAYMENT_GET, quick, NULL, NULL, NULL, NULL};
    struct slot *freer = submit(client, &quick_view, &inside, free_own_client, client, "the view that frees");
    CHECK(tracker_wait(&inside, OTHERS + 1, 60), "every call is called back (%d)", tracker_completed(&inside));
    check_delivery(freer, pthread_self(), "the view that frees");
    check_error(freer->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "the view that frees");
    CHECK(freer->action_seen == 0 && freer->action_seen_after == 0,
          "no callback ran inside kasko_client_free called from a callback (%d before, %d after)", freer->action_seen,
          freer->action_seen_after);
    CHECK(freer->order == 1, "the freeing callback was first: %d", freer->order);
    for (int i = 0; i < OTHERS; i++) {
        check_delivery(others[i], pthread_self(), "freed from a callback");
        check_error(others[i]->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1, "freed from a callback");
        CHECK(others[i]->tid == freer->tid, "on the engine thread");
        free_slot_results(others[i]);
    }
    double deadline = now_seconds() + 30;
    while (thread_alive(freer->tid) && now_seconds() < deadline) pause_ms(10);
    CHECK(!thread_alive(freer->tid), "the engine thread ends after the last callback");
    free_slot_results(freer);
    CHECK(tracker_completed(&resubmitted) == 0, "a call refused during kasko_client_free was called back");

    /* kasko_client_free from inside the only call's callback: nothing else
     * in flight, and the engine thread still ends. */
    client = client_with(1, 2);
    static struct tracker alone = TRACKER_INIT;
    struct slot *only = submit(client, &quick_view, &alone, free_own_client, client, "the only call, that frees");
    CHECK(tracker_wait(&alone, 1, 60), "the only call completes");
    check_error(only->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "the only call, that frees");
    deadline = now_seconds() + 10;
    while (only->callbacks == 1 && thread_alive(only->tid) && now_seconds() < deadline) pause_ms(10);
    CHECK(only->callbacks == 1 && !thread_alive(only->tid),
          "the engine thread ends after kasko_client_free from its only callback (still there after 10 s)");
    free_slot_results(only);

    /* kasko_client_free from a callback while the other calls wait out a
     * Retry-After: they end cancelled after the callback returns, not when
     * their retry would have been due, and no retry is begun. */
    enum { WAITING = 3 };
    int retry_after = slow ? 30 : 10;
    client = client_with(1, 2);
    static struct tracker retrying = TRACKER_INIT;
    static struct hook_watch watch = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    CHECK(kasko_client_set_event_hook(client, watch_attempts, &watch) == KASKO_OK, "watch the attempts");
    char waiting_id[128];
    new_payment(client, waiting_id, sizeof waiting_id);
    snprintf(fault, sizeof fault, "{\"status\":503,\"retry_after\":%d}", retry_after);
    arm(waiting_id, fault, WAITING);
    struct spec waiting_view = {PAYMENT_GET, waiting_id, NULL, NULL, NULL, NULL};
    struct slot *waiting[WAITING];
    for (int i = 0; i < WAITING; i++)
        waiting[i] = submit(client, &waiting_view, &retrying, NULL, NULL, "a view waiting to retry");
    CHECK(watch_wait_retrying(&watch, WAITING, 60), "all %d wait to retry", WAITING);
    double freed_at = now_seconds();
    freer = submit(client, &quick_view, &retrying, free_own_client, client, "the view that frees");
    CHECK(tracker_wait(&retrying, WAITING + 1, retry_after + 30.0), "every call is called back");
    double ended_after = now_seconds() - freed_at;
    CHECK(ended_after < retry_after - 2, "the waiting calls ended %.1f s after the free, their Retry-After is %d s",
          ended_after, retry_after);
    for (int i = 0; i < WAITING; i++) {
        check_error(waiting[i]->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1,
                    "a view waiting to retry, freed from a callback");
        free_slot_results(waiting[i]);
    }
    CHECK(sandbox_attempts(base_url, waiting_id) == WAITING, "no retry was sent: %ld",
          sandbox_attempts(base_url, waiting_id));
    free_slot_results(freer);
}

/* ---- 6c. kasko_client_free while a callback runs --------------------------- */

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int entered;
    int open;
};
static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
static void wait_at_gate(struct slot *slot, kasko_result *result);
static int gate_entered(double seconds);
static void open_gate(void);

static void close_gate(void) {
    pthread_mutex_lock(&gate.lock);
    gate.entered = 0;
    gate.open = 0;
    pthread_mutex_unlock(&gate.lock);
}

struct freeing_thread {
    kasko_client *client;
    pthread_mutex_t lock;
    int started;
    int returned;
    int completed_when_returned;
    struct tracker *tracker;
};

static void *free_on_another_thread(void *argument) {
    struct freeing_thread *freeing = argument;
    pthread_mutex_lock(&freeing->lock);
    freeing->started = 1;
    pthread_mutex_unlock(&freeing->lock);
    kasko_client_free(freeing->client);
    int completed = tracker_completed(freeing->tracker);
    pthread_mutex_lock(&freeing->lock);
    freeing->returned = 1;
    freeing->completed_when_returned = completed;
    pthread_mutex_unlock(&freeing->lock);
    return NULL;
}

static void test_free_while_callback_runs(void) {
    enum { HELD = 3 };
    int hold_ms = slow ? 20000 : 5000;
    char fault[64], held_id[128], quick[128];
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", hold_ms);
    kasko_client *client = client_with(1, 2);
    static struct tracker tracker = TRACKER_INIT;
    new_payment(client, held_id, sizeof held_id);
    new_payment(client, quick, sizeof quick);
    arm(held_id, fault, 0);
    struct spec held_view = {PAYMENT_GET, held_id, NULL, NULL, NULL, NULL};
    struct spec quick_view = {PAYMENT_GET, quick, NULL, NULL, NULL, NULL};
    struct slot *held[HELD];
    for (int i = 0; i < HELD; i++) held[i] = submit(client, &held_view, &tracker, NULL, NULL, "a held view");
    CHECK(sandbox_saw(held_id, HELD, 60), "the sandbox saw the held views");
    close_gate();
    struct slot *holder = submit(client, &quick_view, &tracker, wait_at_gate, NULL, "a callback running during free");
    CHECK(gate_entered(60), "the callback runs");
    static struct freeing_thread freeing = {NULL, PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, NULL};
    freeing.client = client;
    freeing.tracker = &tracker;
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, free_on_another_thread, &freeing) == 0, "a thread to free the client");
    double deadline = now_seconds() + 30;
    for (;;) {
        pthread_mutex_lock(&freeing.lock);
        int started = freeing.started;
        pthread_mutex_unlock(&freeing.lock);
        if (started || now_seconds() > deadline) break;
        pause_ms(1);
    }
    pthread_mutex_lock(&freeing.lock);
    int returned_early = freeing.returned;
    pthread_mutex_unlock(&freeing.lock);
    open_gate();
    pthread_join(thread, NULL);
    CHECK(freeing.completed_when_returned == HELD + 1,
          "kasko_client_free while a callback ran: %d of %d callbacks had run when it returned",
          freeing.completed_when_returned, HELD + 1);
    (void)returned_early; /* it may not have got as far as waiting yet */
    check_error(holder->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a callback running during free");
    CHECK(holder->action_status == KASKO_OK, "the gate was opened in time");
    for (int i = 0; i < HELD; i++) {
        check_error(held[i]->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1,
                    "a view freed while a callback ran");
        free_slot_results(held[i]);
    }
    free_slot_results(holder);
}

/* ---- 6b. kasko_client_free of another client, from a callback ------------ */

struct free_target {
    kasko_client *client;
    struct tracker *tracker;
};

static void free_other_client(struct slot *slot, kasko_result *result) {
    (void)result;
    struct free_target *target = slot->context;
    slot->action_seen = tracker_completed(target->tracker);
    kasko_client_free(target->client);
    slot->action_seen_after = tracker_completed(target->tracker);
}

static void test_free_other_from_callback(void) {
    enum { HELD = 5 };
    int hold_ms = slow ? 20000 : 5000;
    char fault[64], held_id[128], quick[128];
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", hold_ms);
    kasko_client *freer_client = client_with(1, 2), *victim = client_with(1, 2);
    static struct tracker freer_tracker = TRACKER_INIT, victim_tracker = TRACKER_INIT;
    new_payment(freer_client, held_id, sizeof held_id);
    new_payment(freer_client, quick, sizeof quick);
    arm(held_id, fault, 0);
    struct spec held_view = {PAYMENT_GET, held_id, NULL, NULL, NULL, NULL};
    struct slot *held[HELD];
    for (int i = 0; i < HELD; i++) held[i] = submit(victim, &held_view, &victim_tracker, NULL, NULL, "a held view");
    CHECK(sandbox_saw(held_id, HELD, 60), "the sandbox saw the %d held views", HELD);
    static struct free_target target;
    target.client = victim;
    target.tracker = &victim_tracker;
    struct spec quick_view = {PAYMENT_GET, quick, NULL, NULL, NULL, NULL};
    struct slot *freer = submit(freer_client, &quick_view, &freer_tracker, free_other_client, &target,
                                "the view that frees another client");
    CHECK(tracker_wait(&freer_tracker, 1, 60), "the view that frees another client completes");
    CHECK(freer->action_seen == 0 && freer->action_seen_after == HELD,
          "kasko_client_free of another client from a callback: %d callbacks before, %d when it returned, expected "
          "0 and %d",
          freer->action_seen, freer->action_seen_after, HELD);
    for (int i = 0; i < HELD; i++) {
        check_delivery(held[i], pthread_self(), "a view of the client freed from another's callback");
        check_error(held[i]->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1,
                    "a view of the client freed from another's callback");
        CHECK(held[i]->callbacks == 1 && held[i]->tid != freer->tid, "called back on its own client's engine thread");
        free_slot_results(held[i]);
    }
    free_slot_results(freer);
    kasko_client_free(freer_client);
}

/* ---- 7. callbacks that call the library ---------------------------------- */

enum { CHAIN = 20 };
struct chain {
    kasko_client *client;
    kasko_client *other_client;
    const struct spec *spec;
    struct slot *links[CHAIN];
    struct tracker *other_tracker;
    struct slot *cross;
};

static void next_link(struct slot *slot, kasko_result *result) {
    (void)result;
    struct chain *chain = slot->context;
    if (slot->number + 1 >= CHAIN) return;
    struct slot *next = new_slot(slot->tracker);
    next->action = next_link;
    next->context = chain;
    next->number = slot->number + 1;
    chain->links[next->number] = next;
    next->submitted = submit_raw(chain->client, chain->spec, on_done, next, &next->call);
    next->accepted = next->submitted == KASKO_OK;
    slot->action_status = next->submitted;
}

/* Blocks on a view inside the callback, keeps that result for the test,
 * and submits to another client. */
static void block_and_cross(struct slot *slot, kasko_result *result) {
    (void)result;
    struct chain *chain = slot->context;
    slot->action_status = kasko_payment_get_v2(chain->client, chain->spec->text, NULL, &slot->action_result);
    struct slot *cross = new_slot(chain->other_tracker);
    chain->cross = cross;
    cross->submitted = submit_raw(chain->other_client, chain->spec, on_done, cross, &cross->call);
    cross->accepted = cross->submitted == KASKO_OK;
}

static void *free_on_this_thread(void *argument) {
    struct slot *slot = argument;
    free_slot_results(slot);
    return NULL;
}

static void test_callbacks_call_the_library(void) {
    kasko_client *client = client_with(1, 2);
    kasko_client *other = client_with(1, 2);
    static struct tracker tracker = TRACKER_INIT, other_tracker = TRACKER_INIT, blocked = TRACKER_INIT;
    char id[128];
    new_payment(client, id, sizeof id);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};

    /* A chain of 20, each submitted from the previous one's callback. */
    static struct chain chain;
    memset(&chain, 0, sizeof chain);
    chain.client = client;
    chain.other_client = other;
    chain.spec = &view;
    chain.other_tracker = &other_tracker;
    chain.links[0] = submit(client, &view, &tracker, next_link, &chain, "the chain's first call");
    CHECK(tracker_wait(&tracker, CHAIN, 60), "the chain of %d completes (%d)", CHAIN, tracker_completed(&tracker));
    for (int i = 0; i < CHAIN; i++) {
        struct slot *link = chain.links[i];
        if (link == NULL) {
            CHECK(0, "link %d was never submitted", i);
            continue;
        }
        CHECK(link->submitted == KASKO_OK && link->call != 0, "link %d: submitted from a callback: %s", i,
              kasko_status_name(link->submitted));
        check_delivery(link, pthread_self(), "a link");
        CHECK(link->order == i + 1, "link %d completed %d-th", i, link->order);
        CHECK(link->tid == chain.links[0]->tid, "link %d on the engine thread", i);
        check_error(link->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a link");
        for (int j = 0; j < i; j++)
            if (chain.links[j] != NULL) CHECK(link->call != chain.links[j]->call, "links %d and %d: one id", j, i);
    }

    /* A blocking call from a callback; an async call to another client. */
    struct slot *blocker = submit(client, &view, &blocked, block_and_cross, &chain, "the view that blocks");
    CHECK(tracker_wait(&blocked, 1, 60), "the view that blocks completes");
    CHECK(blocker->action_status == KASKO_OK, "a blocking view inside a callback: %s",
          kasko_status_name(blocker->action_status));
    char seen[128];
    CHECK(member(blocker->action_result, "id", seen, sizeof seen) == 0 && strcmp(seen, id) == 0,
          "the blocking view's answer");
    CHECK(tracker_wait(&other_tracker, 1, 60), "the call to the other client completes");
    if (chain.cross != NULL) {
        CHECK(chain.cross->submitted == KASKO_OK, "submitted to another client from a callback: %s",
              kasko_status_name(chain.cross->submitted));
        check_delivery(chain.cross, blocker->thread, "the call to the other client");
        CHECK(chain.cross->callbacks == 1 && chain.cross->tid != blocker->tid,
              "another client's callbacks run on its own engine thread");
        check_error(chain.cross->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "the call to the other client");
    }

    /* Results freed later, on yet another thread than the engine's. */
    pthread_t freer;
    CHECK(pthread_create(&freer, NULL, free_on_this_thread, blocker) == 0, "a thread to free results");
    pthread_join(freer, NULL);
    for (int i = 0; i < CHAIN; i++)
        if (chain.links[i] != NULL) free_slot_results(chain.links[i]);
    if (chain.cross != NULL) free_slot_results(chain.cross);
    kasko_client_free(other);
    kasko_client_free(client);
}

/* ---- 7b. the engine's edges ----------------------------------------------- */

/* The gate a callback waits at until the test opens it (declared above). */

static void wait_at_gate(struct slot *slot, kasko_result *result) {
    (void)result;
    double deadline = now_seconds() + 60;
    pthread_mutex_lock(&gate.lock);
    gate.entered = 1;
    pthread_cond_broadcast(&gate.changed);
    while (!gate.open && now_seconds() < deadline) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&gate.changed, &gate.lock, &until);
    }
    slot->action_status = gate.open ? KASKO_OK : KASKO_ERR_INTERNAL;
    pthread_mutex_unlock(&gate.lock);
}

static int gate_entered(double seconds) {
    double deadline = now_seconds() + seconds;
    pthread_mutex_lock(&gate.lock);
    while (!gate.entered && now_seconds() < deadline) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&gate.changed, &gate.lock, &until);
    }
    int entered = gate.entered;
    pthread_mutex_unlock(&gate.lock);
    return entered;
}

static void open_gate(void) {
    pthread_mutex_lock(&gate.lock);
    gate.open = 1;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
}

static void ignore_event(const kasko_result *event, void *user_data) {
    (void)event;
    (void)user_data;
}

/* Sets and clears the client's event hook from inside a callback (no hook
 * runs then on the engine thread, so nothing to wait for). */
static void set_hook_inside(struct slot *slot, kasko_result *result) {
    (void)result;
    kasko_client *client = slot->context;
    kasko_status set = kasko_client_set_event_hook(client, ignore_event, NULL);
    kasko_status cleared = kasko_client_set_event_hook(client, NULL, NULL);
    slot->action_status = set != KASKO_OK ? set : cleared;
}

/* Submits a call refused before any I/O from inside a callback. */
static struct tracker refused_inside = TRACKER_INIT;
static void submit_refused_inside(struct slot *slot, kasko_result *result) {
    (void)result;
    kasko_client *client = slot->context;
    struct slot *inner = new_slot(&refused_inside);
    struct spec bad = {PAYMENT_GET, "a/b", NULL, NULL, NULL, NULL};
    inner->submitted = submit_raw(client, &bad, on_done, inner, &inner->call);
    inner->accepted = inner->submitted == KASKO_OK;
    slot->action_status = inner->submitted;
    slot->action_call = (uint64_t)(inner - pool);
}

static void test_engine_edges(void) {
    kasko_client *client = client_with(1, 2);
    kasko_client *other = client_with(1, 2);
    static struct tracker tracker = TRACKER_INIT, other_tracker = TRACKER_INIT;
    char id[128], seen[128];
    new_payment(client, id, sizeof id);
    struct spec view = {PAYMENT_GET, id, NULL, NULL, NULL, NULL};

    /* Options are read before the submission returns: freed at once. */
    kasko_call_options *options = kasko_call_options_new();
    CHECK(options != NULL && kasko_call_options_set_timeout_ms(options, 20000) == KASKO_OK
              && kasko_call_options_set_traceparent(options, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                     == KASKO_OK,
          "options");
    struct spec with_options = {PAYMENT_GET, id, NULL, NULL, NULL, options};
    struct slot *slot = submit(client, &with_options, &tracker, NULL, NULL, "a view whose options are freed at once");
    kasko_call_options_free(options);
    CHECK(tracker_wait(&tracker, 1, 60), "it completes");
    check_delivery(slot, pthread_self(), "a view whose options are freed at once");
    check_error(slot->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a view whose options are freed at once");
    free_slot_results(slot);
    options = kasko_call_options_new();
    CHECK(options != NULL && kasko_call_options_set_timeout_ms(options, -5) == KASKO_ERR_INVALID_ARGUMENT,
          "refused options");
    with_options.options = options;
    slot = submit(client, &with_options, &tracker, NULL, NULL, "refused options freed at once");
    kasko_call_options_free(options);
    CHECK(tracker_wait(&tracker, 2, 60), "it completes");
    check_error(slot->result, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, 0, 0,
                "refused options freed at once");
    free_slot_results(slot);

    /* Cancelled at once: a call that can never be sent is not_sent. */
    kasko_client *nowhere = client_at(refused_url(), 1, 10, 5000);
    struct slot *at_once = submit(nowhere, &view, &tracker, NULL, NULL, "a call cancelled at once");
    CHECK(kasko_call_cancel(nowhere, at_once->call) == KASKO_OK, "cancel at once");
    CHECK(tracker_wait(&tracker, 3, 60), "it is called back");
    check_delivery(at_once, pthread_self(), "a call cancelled at once");
    check_error(at_once->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_NOT_SENT, 0, -1, "a call cancelled at once");
    free_slot_results(at_once);
    /* A refused call cancelled at once: its own result or CANCELLED, not sent either way. */
    struct spec bad = {PAYMENT_GET, "a/b", NULL, NULL, NULL, NULL};
    struct slot *refused = submit(nowhere, &bad, &tracker, NULL, NULL, "a refused call cancelled at once");
    CHECK(kasko_call_cancel(nowhere, refused->call) == KASKO_OK, "cancel a refused call at once");
    CHECK(tracker_wait(&tracker, 4, 60), "it is called back");
    check_delivery(refused, pthread_self(), "a refused call cancelled at once");
    kasko_status refused_status = refused->result != NULL ? kasko_result_status(refused->result) : KASKO_ERR_INTERNAL;
    CHECK(refused_status == KASKO_ERR_INVALID_ARGUMENT || refused_status == KASKO_ERR_CANCELLED,
          "a refused call cancelled at once: %s", kasko_status_name(refused_status));
    check_error(refused->result, refused_status, KASKO_OUTCOME_NOT_SENT, 0, 0, "a refused call cancelled at once");
    free_slot_results(refused);
    kasko_client_free(nowhere);

    /* The event hook set and cleared from inside a callback. */
    slot = submit(client, &view, &tracker, set_hook_inside, client, "a callback that sets the hook");
    CHECK(tracker_wait(&tracker, 5, 60), "the callback that sets the hook returns");
    CHECK(slot->action_status == KASKO_OK, "kasko_client_set_event_hook inside a callback: %s",
          kasko_status_name(slot->action_status));
    free_slot_results(slot);

    /* A refused call submitted from a callback is not completed inside it. */
    slot = submit(client, &view, &tracker, submit_refused_inside, client, "a callback that submits a refused call");
    CHECK(tracker_wait(&tracker, 6, 60), "it returns");
    CHECK(tracker_wait(&refused_inside, 1, 60), "the refused call is called back");
    CHECK(slot->action_status == KASKO_OK, "a refused call submitted from a callback: %s",
          kasko_status_name(slot->action_status));
    if (slot->action_status == KASKO_OK) {
        struct slot *inner = &pool[slot->action_call];
        check_delivery(inner, pthread_self(), "a refused call submitted from a callback");
        CHECK(inner->callbacks == 1 && pthread_equal(inner->thread, slot->thread), "on the same engine thread");
        check_error(inner->result, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, 0, 0,
                    "a refused call submitted from a callback");
        CHECK(inner->order > 0 && inner->callbacks == 1, "called back once");
        free_slot_results(inner);
    }
    free_slot_results(slot);

    /* While a callback holds the engine thread: blocking calls on that
     * client still work (they never go through the engine), another
     * client's engine goes on, and this client's next call waits. */
    close_gate();
    struct slot *holder = submit(client, &view, &tracker, wait_at_gate, NULL, "a callback that holds the engine");
    CHECK(gate_entered(60), "the callback is holding its engine thread");
    struct slot *queued = submit(client, &view, &tracker, NULL, NULL, "a call behind the held callback");
    kasko_result *sync = NULL;
    CHECK(kasko_payment_get_v2(client, id, NULL, &sync) == KASKO_OK && member(sync, "id", seen, sizeof seen) == 0
              && strcmp(seen, id) == 0,
          "a blocking view while the engine thread is held");
    kasko_result_free(sync);
    struct slot *elsewhere = submit(other, &view, &other_tracker, NULL, NULL, "another client's call");
    CHECK(tracker_wait(&other_tracker, 1, 60), "another client's call completes while this engine is held");
    check_error(elsewhere->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "another client's call");
    CHECK(slot_callbacks(holder) == 0 && slot_callbacks(queued) == 0, "nothing of the held client completed meanwhile");
    open_gate();
    CHECK(tracker_wait(&tracker, 8, 60), "the held callback and the call behind it complete");
    CHECK(holder->action_status == KASKO_OK, "the gate was opened in time");
    CHECK(holder->order < queued->order, "the call behind it completes after");
    check_error(queued->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a call behind the held callback");
    free_slot_results(holder);
    free_slot_results(queued);
    free_slot_results(elsewhere);

    /* The engine cannot start (no file descriptor left): KASKO_ERR_INTERNAL,
     * never called back; once it can, the next call works. Not under
     * valgrind, which keeps descriptors of its own. */
    if (!slow) {
        kasko_client *starved = client_with(1, 0);
        static struct tracker starved_tracker = TRACKER_INIT;
        struct rlimit old, tight;
        int lowest = dup(0);
        if (lowest >= 0 && getrlimit(RLIMIT_NOFILE, &old) == 0) {
            close(lowest);
            tight = old;
            tight.rlim_cur = (rlim_t)lowest;
            struct slot *starving = new_slot(&starved_tracker);
            int limited = setrlimit(RLIMIT_NOFILE, &tight) == 0;
            starving->submitted = submit_raw(starved, &view, on_done, starving, &starving->call);
            if (limited) setrlimit(RLIMIT_NOFILE, &old);
            starving->accepted = starving->submitted == KASKO_OK;
            CHECK(limited, "lower the descriptor limit");
            CHECK(starving->submitted == KASKO_ERR_INTERNAL,
                  "the engine cannot start without descriptors: %s, expected KASKO_ERR_INTERNAL",
                  kasko_status_name(starving->submitted));
            CHECK(starving->call == 0, "*out_call 0: %llu", (unsigned long long)starving->call);
            struct slot *fed = submit(starved, &view, &starved_tracker, NULL, NULL, "a call once descriptors are back");
            CHECK(tracker_wait(&starved_tracker, starving->accepted ? 2 : 1, 60), "it completes");
            check_error(fed->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a call once descriptors are back");
            free_slot_results(fed);
            free_slot_results(starving);
        }
        kasko_client_free(starved);
    }
    kasko_client_free(other);
    kasko_client_free(client);
}

/* ---- 8. exactly once, under load and faults ------------------------------- */

enum { LOAD_THREADS = 4 };

struct load {
    kasko_client *client;
    struct tracker *tracker;
    int calls;           /* per thread */
    struct offer *offers;
    int offer_count;
    int next_offer;      /* under offer_lock */
    pthread_mutex_t offer_lock;
    char (*payments)[128];
    int payment_count;
    struct slot **slots; /* [threads * calls] */
    struct spec *specs;  /* what each slot was */
    int *offer_of;       /* the offer a create used, or -1 */
    pthread_mutex_t stop_lock; /* guards stop_blocking (helgrind sees no C11 atomics) */
    int stop_blocking;
    int blocking_calls;
    int blocking_bad;
};

struct load_thread {
    struct load *load;
    int index;
    unsigned seed;
};

static void *load_submitter(void *argument) {
    struct load_thread *self = argument;
    struct load *load = self->load;
    for (int i = 0; i < load->calls; i++) {
        int at = self->index * load->calls + i;
        struct spec *spec = &load->specs[at];
        memset(spec, 0, sizeof *spec);
        load->offer_of[at] = -1;
        int kind = (int)(rand_r(&self->seed) % 10);
        int offer_index = -1;
        if (kind < 2) {
            pthread_mutex_lock(&load->offer_lock);
            if (load->next_offer < load->offer_count) offer_index = load->next_offer++;
            pthread_mutex_unlock(&load->offer_lock);
        }
        if (offer_index >= 0) {
            struct offer *offer = &load->offers[offer_index];
            spec->op = PAYMENT_CREATE;
            spec->text = offer->token;
            spec->provider = "invoice";
            spec->method = "invoice";
            spec->policy_id = offer->policy_id;
            load->offer_of[at] = offer_index;
        } else if (kind < 5) {
            spec->op = PAYMENT_GET;
            spec->text = load->payments[rand_r(&self->seed) % (unsigned)load->payment_count];
        } else if (kind < 7) {
            spec->op = kind == 5 ? OFFER_GET : POLICY_GET;
            spec->text = load->offers[rand_r(&self->seed) % (unsigned)load->offer_count].policy_id;
        } else if (kind < 8) {
            spec->op = PAYMENT_GET;
            spec->text = "t00000000000000000000000000000000"; /* 404 */
        } else if (kind < 9) {
            spec->op = PAYMENT_GET;
            spec->text = "not/an/id"; /* invalid argument, via the callback */
        } else {
            spec->op = QUOTE_CREATE;
            spec->text = "{\"integration_id\":\"in_sandbox_travel\",\"item_id\":\"ins_sandbox_travel\","
                         "\"subscription_plan_id\":\"pp_sandbox_annual\",\"data\":{\"trip_cost\":5000,"
                         "\"policy_start_date\":\"2027-05-01\"}}";
        }
        struct slot *slot = new_slot(load->tracker);
        load->slots[at] = slot;
        slot->number = at;
        slot->submitted = submit_raw(load->client, spec, on_done, slot, &slot->call);
        slot->accepted = slot->submitted == KASKO_OK;
        /* Cancel about one call in ten, at once or a little later. */
        if (rand_r(&self->seed) % 10 == 0 && slot->accepted) {
            slot->cancel_requested = 1;
            slot->action_status = kasko_call_cancel(load->client, slot->call);
        }
    }
    return NULL;
}

static int load_stopping(struct load *load) {
    pthread_mutex_lock(&load->stop_lock);
    int stopping = load->stop_blocking;
    pthread_mutex_unlock(&load->stop_lock);
    return stopping;
}

/* Blocking views on the same client while the engine works. */
static void *load_blocker(void *argument) {
    struct load *load = argument;
    unsigned seed = 7;
    while (!load_stopping(load)) {
        kasko_result *result = NULL;
        const char *id = load->payments[rand_r(&seed) % (unsigned)load->payment_count];
        kasko_status status = kasko_payment_get_v2(load->client, id, NULL, &result);
        char seen[128];
        if (result == NULL || kasko_result_status(result) != status
            || (status == KASKO_OK && (member(result, "id", seen, sizeof seen) != 0 || strcmp(seen, id) != 0)))
            load->blocking_bad++;
        load->blocking_calls++;
        kasko_result_free(result);
    }
    return NULL;
}

static void test_load(void) {
    const char *calls_env = getenv("KASKO_ASYNC_LOAD_CALLS");
    int total = calls_env != NULL ? atoi(calls_env) : 1000;
    if (total < LOAD_THREADS) total = LOAD_THREADS;
    int per_thread = total / LOAD_THREADS;
    total = per_thread * LOAD_THREADS;
    static struct tracker tracker = TRACKER_INIT;
    kasko_client *maker = client_with(1, 0);
    struct load load;
    memset(&load, 0, sizeof load);
    pthread_mutex_init(&load.stop_lock, NULL);
    load.client = client_with(1, 2);
    load.tracker = &tracker;
    load.calls = per_thread;
    load.offer_count = total / 5;
    load.offers = calloc((size_t)load.offer_count, sizeof *load.offers);
    load.payment_count = 20;
    load.payments = calloc((size_t)load.payment_count, sizeof *load.payments);
    load.slots = calloc((size_t)total, sizeof *load.slots);
    load.specs = calloc((size_t)total, sizeof *load.specs);
    load.offer_of = calloc((size_t)total, sizeof *load.offer_of);
    pthread_mutex_init(&load.offer_lock, NULL);
    if (load.offers == NULL || load.payments == NULL || load.slots == NULL || load.specs == NULL
        || load.offer_of == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    /* Payments to view. Under random faults the blocking create may fail:
     * try again on a new offer. */
    for (int i = 0; i < load.payment_count; i++) {
        for (int tries = 0;; tries++) {
            struct offer offer;
            sandbox_offer(&offer);
            kasko_result *result = NULL;
            kasko_status status =
                kasko_payment_create_v2(maker, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result);
            int made = status == KASKO_OK && member(result, "id", load.payments[i], sizeof load.payments[i]) == 0;
            kasko_result_free(result);
            if (made) break;
            if (tries > 50) {
                fprintf(stderr, "cannot make payments to view\n");
                exit(2);
            }
        }
    }
    /* Offers to pay; a third of them with a fault armed on their key. */
    static const char *const faults[] = {
        "{\"status\":503,\"retry_after\":0}", "{\"status\":429,\"retry_after\":0}", "{\"status\":500}",
        "{\"drop\":\"after_body\"}", "{\"reset\":true}", "{\"delay_ms\":50}", "{\"body\":\"non_json\"}",
        "{\"drop\":\"before_body\"}",
    };
    unsigned seed = 15;
    for (int i = 0; i < load.offer_count; i++) {
        sandbox_offer(&load.offers[i]);
        if (rand_r(&seed) % 3 == 0) {
            const char *fault = faults[rand_r(&seed) % (sizeof faults / sizeof faults[0])];
            CHECK(sandbox_arm_fault(base_url, load.offers[i].policy_id, fault, 1 + (int)(rand_r(&seed) % 2)) == 201,
                  "arm a load fault");
        }
    }
    for (int i = 0; i < load.payment_count; i += 4)
        CHECK(sandbox_arm_fault(base_url, load.payments[i], faults[i % 8], 3) == 201, "arm a view fault");

    double started = now_seconds();
    pthread_t threads[LOAD_THREADS], blocker;
    struct load_thread selves[LOAD_THREADS];
    CHECK(pthread_create(&blocker, NULL, load_blocker, &load) == 0, "start the blocking thread");
    for (int t = 0; t < LOAD_THREADS; t++) {
        selves[t].load = &load;
        selves[t].index = t;
        selves[t].seed = 1000u + (unsigned)t;
        CHECK(pthread_create(&threads[t], NULL, load_submitter, &selves[t]) == 0, "start submitter %d", t);
    }
    for (int t = 0; t < LOAD_THREADS; t++) pthread_join(threads[t], NULL);
    int accepted = 0;
    for (int i = 0; i < total; i++) accepted += load.slots[i] != NULL && load.slots[i]->accepted;
    CHECK(accepted == total, "%d of %d submissions accepted", accepted, total);
    CHECK(tracker_wait(&tracker, accepted, 300), "every accepted call is called back: %d of %d",
          tracker_completed(&tracker), accepted);
    pthread_mutex_lock(&load.stop_lock);
    load.stop_blocking = 1;
    pthread_mutex_unlock(&load.stop_lock);
    pthread_join(blocker, NULL);
    double elapsed = now_seconds() - started;
    kasko_client_free(load.client); /* nothing in flight: every callback has run */

    int once = 0, statuses[16] = {0}, cancelled = 0, bad_cancel = 0, creates = 0, unexplained_payments = 0;
    for (int i = 0; i < total; i++) {
        struct slot *slot = load.slots[i];
        if (slot == NULL) continue;
        once += slot->callbacks == 1;
        if (slot->callbacks != 1) {
            if (slot->accepted || slot->callbacks != 0)
                CHECK(0, "load call %d: %d callbacks (accepted %d)", i, slot->callbacks, slot->accepted);
            continue;
        }
        CHECK(!pthread_equal(slot->thread, main_thread) && !slot->ran_inside_submit && !slot->nested,
              "load call %d: delivered on the engine thread, outside any submission", i);
        kasko_status status = kasko_result_status(slot->result);
        statuses[status >= 0 && status < 16 ? status : 15]++;
        if (slot->cancel_requested)
            CHECK(slot->action_status == KASKO_OK, "load call %d: kasko_call_cancel gave %s", i,
                  kasko_status_name(slot->action_status));
        if (status == KASKO_ERR_CANCELLED) {
            cancelled++;
            if (!slot->cancel_requested) bad_cancel++;
            if (kasko_result_http_status(slot->result) != 0) bad_cancel++;
        }
        if (load.specs[i].op == PAYMENT_GET && strcmp(load.specs[i].text, "not/an/id") == 0) {
            CHECK(status == KASKO_ERR_INVALID_ARGUMENT || status == KASKO_ERR_CANCELLED,
                  "load call %d: a bad id gave %s", i, kasko_status_name(status));
            if (status == KASKO_ERR_INVALID_ARGUMENT)
                CHECK(kasko_result_attempts(slot->result) == 0, "load call %d: attempts for a bad id", i);
        }
        if (load.offer_of[i] >= 0) {
            creates++;
            long payments = sandbox_policy_payment_count(base_url, load.offers[load.offer_of[i]].policy_id);
            kasko_outcome outcome = kasko_result_outcome(slot->result);
            CHECK(payments >= 0 && payments <= 1, "load create %d: %ld payments", i, payments);
            if (status == KASKO_OK) CHECK(payments == 1, "load create %d: paid, %ld payments", i, payments);
            if (outcome == KASKO_OUTCOME_NOT_SENT || outcome == KASKO_OUTCOME_REJECTED) {
                if (payments != 0) unexplained_payments++;
                CHECK(payments == 0, "load create %d: %s (%s) but %ld payments", i, kasko_status_name(status),
                      kasko_outcome_name(outcome), payments);
            }
        }
        free_slot_results(slot);
    }
    CHECK(once == accepted, "%d of %d accepted calls called back exactly once", once, accepted);
    CHECK(tracker.duplicates == 0, "%d second callbacks", tracker.duplicates);
    CHECK(bad_cancel == 0, "%d cancellations misreported", bad_cancel);
    CHECK(load.blocking_bad == 0, "%d of %d blocking views alongside were wrong", load.blocking_bad,
          load.blocking_calls);
    CHECK(statuses[15] == 0, "%d results with an unknown status", statuses[15]);
    fprintf(stderr,
            "load: %d calls (%d creates) in %.1f s; ok %d, invalid %d, 400 %d, 404 %d, 429 %d, server %d, "
            "network %d, invalid response %d, cancelled %d; %d blocking views alongside\n",
            total, creates, elapsed, statuses[KASKO_OK], statuses[KASKO_ERR_INVALID_ARGUMENT],
            statuses[KASKO_ERR_BAD_REQUEST], statuses[KASKO_ERR_NOT_FOUND], statuses[KASKO_ERR_RATE_LIMITED],
            statuses[KASKO_ERR_SERVER], statuses[KASKO_ERR_NETWORK], statuses[KASKO_ERR_INVALID_RESPONSE], cancelled,
            load.blocking_calls);
    pthread_mutex_destroy(&load.offer_lock);
    free(load.offers);
    free(load.payments);
    free(load.slots);
    free(load.specs);
    free(load.offer_of);
    kasko_client_free(maker);
}

/* ---- 9. events of asynchronous calls -------------------------------------- */

struct recorded {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int count;
    char lines[32][160];
    pid_t tids[32];
    int retries[32];
    int attempts[32];
    char statuses[32][40];
};

static void record_event(const kasko_result *event, void *user_data) {
    struct recorded *seen = user_data;
    char kind[32] = "", operation[32] = "", route[64] = "", status[40] = "";
    result_string_member(event, "event", kind, sizeof kind);
    result_string_member(event, "operation", operation, sizeof operation);
    result_string_member(event, "route", route, sizeof route);
    result_string_member(event, "status", status, sizeof status);
    int retry = 0;
    if (kasko_result_member_bool(event, "retry", &retry) != KASKO_OK) retry = -1;
    pthread_mutex_lock(&seen->lock);
    if (seen->count < 32) {
        int at = seen->count++;
        snprintf(seen->lines[at], sizeof seen->lines[at], "%s %s %s", kind, operation, route);
        snprintf(seen->statuses[at], sizeof seen->statuses[at], "%s", status);
        seen->tids[at] = current_tid();
        seen->retries[at] = retry;
        seen->attempts[at] = (int)result_int_member(event, "attempt");
    }
    pthread_cond_broadcast(&seen->changed);
    pthread_mutex_unlock(&seen->lock);
}

struct retired_hook {
    pthread_mutex_t lock;
    int retired;
    int calls;
    int late;
};

static void count_unless_retired(const kasko_result *event, void *user_data) {
    (void)event;
    struct retired_hook *hook = user_data;
    pthread_mutex_lock(&hook->lock);
    hook->calls++;
    if (hook->retired) hook->late++;
    pthread_mutex_unlock(&hook->lock);
}

static int events_wait(struct recorded *seen, int count, double seconds) {
    double deadline = now_seconds() + seconds;
    pthread_mutex_lock(&seen->lock);
    while (seen->count < count && now_seconds() < deadline) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&seen->changed, &seen->lock, &until);
    }
    int reached = seen->count >= count;
    pthread_mutex_unlock(&seen->lock);
    return reached;
}

static void test_events(void) {
    kasko_client *client = client_with(1, 2);
    static struct recorded seen = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {{0}}, {0}, {0}, {0}, {{0}}};
    struct offer offer;
    sandbox_offer(&offer);
    char quote_json[512];
    quote_request(quote_json, sizeof quote_json, "pp_sandbox_single", 150000);
    CHECK(kasko_client_set_event_hook(client, record_event, &seen) == KASKO_OK, "set the hook");

    struct spec quote = {QUOTE_CREATE, quote_json, NULL, NULL, NULL, NULL};
    struct slot *a = call_async(client, &quote, "async quote with a hook");
    CHECK(events_wait(&seen, 2, 30), "two events for the quote (%d)", seen.count);
    arm_route(offer.policy_id, "policy_view", "{\"status\":503,\"retry_after\":0}", 1);
    struct spec policy = {POLICY_GET, offer.policy_id, NULL, NULL, NULL, NULL};
    struct slot *b = call_async(client, &policy, "async policy view with a hook");
    CHECK(events_wait(&seen, 5, 30), "three more for the retried policy view (%d)", seen.count);
    struct spec refused = {QUOTE_CREATE, "[]", NULL, NULL, NULL, NULL};
    struct slot *c = call_async(client, &refused, "async refused quote with a hook");
    CHECK(events_wait(&seen, 6, 30), "one more for the refused quote (%d)", seen.count);
    /* A cancelled call ends with a call_end too ("once at the end of every call"). */
    char held_id[128], fault[64];
    new_payment(client, held_id, sizeof held_id);
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", slow ? 20000 : 5000);
    arm(held_id, fault, 1);
    struct spec held_view = {PAYMENT_GET, held_id, NULL, NULL, NULL, NULL};
    static struct tracker held_tracker = TRACKER_INIT;
    struct slot *held = submit(client, &held_view, &held_tracker, NULL, NULL, "a cancelled view with a hook");
    CHECK(sandbox_saw(held_id, 1, 30), "the sandbox saw it");
    CHECK(kasko_call_cancel(client, held->call) == KASKO_OK, "cancel it");
    CHECK(tracker_wait(&held_tracker, 1, 60), "it is called back");
    check_error(held->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 1, "a cancelled view with a hook");
    double deadline = now_seconds() + 30;
    int cancelled_end = -1;
    while (cancelled_end < 0 && now_seconds() < deadline) {
        pthread_mutex_lock(&seen.lock);
        for (int i = 6; i < seen.count; i++)
            if (strncmp(seen.lines[i], "call_end payment_get ", 21) == 0) cancelled_end = i;
        pthread_mutex_unlock(&seen.lock);
        if (cancelled_end < 0) events_wait(&seen, seen.count + 1, 1);
    }
    CHECK(cancelled_end >= 0, "a cancelled call delivers its call_end event");
    if (cancelled_end >= 0) {
        CHECK(strcmp(seen.statuses[cancelled_end], "KASKO_ERR_CANCELLED") == 0, "its status: %s",
              seen.statuses[cancelled_end]);
        CHECK(seen.tids[cancelled_end] == held->tid, "on the engine thread");
    }
    free_slot_results(held);
    CHECK(kasko_client_set_event_hook(client, NULL, NULL) == KASKO_OK, "clear the hook");

    static const char *const expected[] = {
        "attempt quote_create /quotes",      "call_end quote_create /quotes",
        "attempt policy_get /policies/{id}", "attempt policy_get /policies/{id}",
        "call_end policy_get /policies/{id}", "call_end quote_create /quotes",
    };
    pthread_mutex_lock(&seen.lock);
    int count = seen.count;
    pthread_mutex_unlock(&seen.lock);
    CHECK(count >= 6, "%d events, expected 6 before the cancelled call's", count);
    for (int i = 0; i < 6 && i < count; i++) {
        CHECK(strcmp(seen.lines[i], expected[i]) == 0, "event %d: %s, expected %s", i, seen.lines[i], expected[i]);
        CHECK(seen.tids[i] != current_tid(), "event %d on the submitting thread", i);
        CHECK(a->callbacks == 1 && seen.tids[i] == a->tid, "event %d not on the engine thread", i);
    }
    if (count >= 6) {
        CHECK(seen.retries[2] == 1 && seen.retries[3] == 0, "the 503 attempt announces the retry (%d, %d)",
              seen.retries[2], seen.retries[3]);
        CHECK(seen.attempts[4] == 2, "the policy view's call_end: %d attempts", seen.attempts[4]);
        CHECK(strcmp(seen.statuses[4], "KASKO_OK") == 0, "its status %s", seen.statuses[4]);
        CHECK(seen.attempts[5] == 0 && strcmp(seen.statuses[5], "KASKO_ERR_INVALID_ARGUMENT") == 0,
              "the refused quote's call_end: %d attempts, %s", seen.attempts[5], seen.statuses[5]);
    }
    check_error(b->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 2, "the retried policy view");
    free_slot_results(a);
    free_slot_results(b);
    free_slot_results(c);

    /* Cleared while async calls deliver events: once
     * kasko_client_set_event_hook has returned, the old hook never runs again. */
    static struct retired_hook retired = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    CHECK(kasko_client_set_event_hook(client, count_unless_retired, &retired) == KASKO_OK, "set a counting hook");
    static struct tracker busy = TRACKER_INIT;
    enum { BUSY = 100 };
    struct slot *busy_slots[BUSY];
    for (int i = 0; i < BUSY; i++)
        busy_slots[i] = submit(client, &quote, &busy, NULL, NULL, "a quote while the hook goes");
    double until = now_seconds() + 30;
    for (;;) {
        pthread_mutex_lock(&retired.lock);
        int calls = retired.calls;
        pthread_mutex_unlock(&retired.lock);
        if (calls >= 10 || now_seconds() > until) break;
        pause_ms(1);
    }
    CHECK(kasko_client_set_event_hook(client, NULL, NULL) == KASKO_OK, "clear it while calls run");
    pthread_mutex_lock(&retired.lock);
    retired.retired = 1;
    pthread_mutex_unlock(&retired.lock);
    CHECK(tracker_wait(&busy, BUSY, 60), "the quotes complete");
    CHECK(retired.late == 0, "the cleared hook ran %d times after kasko_client_set_event_hook returned", retired.late);
    CHECK(retired.calls >= 10, "the hook ran while the quotes were made (%d)", retired.calls);
    for (int i = 0; i < BUSY; i++) free_slot_results(busy_slots[i]);

    /* Cleared: no more events. */
    struct slot *d = call_async(client, &quote, "async quote after the hook was cleared");
    pthread_mutex_lock(&seen.lock);
    CHECK(seen.count == count, "events after the hook was cleared: %d", seen.count - count);
    pthread_mutex_unlock(&seen.lock);
    free_slot_results(d);
    kasko_client_free(client);
}

/* ---- 10. fork ------------------------------------------------------------- */

enum {
    CHILD_FOREIGN_CALLBACK = 1,
    CHILD_SUBMIT_FAILED = 2,
    CHILD_NO_CALLBACK = 4,
    CHILD_WRONG_RESULT = 8,
    CHILD_WRONG_THREAD = 16,
    CHILD_SECOND_CALL = 32,
    CHILD_CANCEL_REFUSED = 64,
};

static void test_fork(void) {
    enum { PARENT_CALLS = 5 };
    int parent_hold = slow ? 10000 : 1500, child_hold = slow ? 15000 : 2500;
    kasko_client *client = client_with(1, 0);
    static struct tracker parent = TRACKER_INIT, child = TRACKER_INIT;
    char parent_id[128], child_id[128], fault[64];
    new_payment(client, parent_id, sizeof parent_id);
    new_payment(client, child_id, sizeof child_id);
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", parent_hold);
    arm(parent_id, fault, 0);
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", child_hold);
    arm(child_id, fault, 1);

    struct spec parent_view = {PAYMENT_GET, parent_id, NULL, NULL, NULL, NULL};
    struct slot *slots[PARENT_CALLS];
    for (int i = 0; i < PARENT_CALLS; i++)
        slots[i] = submit(client, &parent_view, &parent, NULL, NULL, "a parent call");
    CHECK(sandbox_saw(parent_id, PARENT_CALLS, 30), "the sandbox saw the parent's calls");
    fflush(stdout);
    fflush(stderr);
    /* The parent's tracker is locked across fork(): no parent callback can
     * run between counting them and the fork, so the child knows exactly
     * how many it inherited (its memory is a copy) and that any more ran
     * there. */
    int report_pipe[2];
    if (pipe(report_pipe) != 0) {
        CHECK(0, "a pipe for the child's report");
        return;
    }
    pthread_mutex_lock(&parent.lock);
    int at_fork = parent.completed;
    pid_t pid = fork();
    pthread_mutex_unlock(&parent.lock);
    if (pid == 0) {
        alarm(60);
        int bad = 0;
        /* The parent's ids are ids this client issued: cancelling them here
         * is accepted, and touches nothing of the parent's (their
         * callbacks run in the parent, not cancelled). */
        for (int i = 0; i < PARENT_CALLS; i++)
            if (kasko_call_cancel(client, slots[i]->call) != KASKO_OK) bad |= CHILD_CANCEL_REFUSED;
        /* The child's own call: held longer than the parent's, so that any
         * of the parent's callbacks would have run here by its end. */
        struct spec child_view = {PAYMENT_GET, child_id, NULL, NULL, NULL, NULL};
        struct slot *mine = new_slot(&child);
        mine->submitted = submit_raw(client, &child_view, on_done, mine, &mine->call);
        if (mine->submitted != KASKO_OK || mine->call == 0) bad |= CHILD_SUBMIT_FAILED;
        if (!tracker_wait(&child, 1, 45)) bad |= CHILD_NO_CALLBACK;
        char seen[128];
        if (mine->callbacks == 1) {
            if (kasko_result_status(mine->result) != KASKO_OK || member(mine->result, "id", seen, sizeof seen) != 0
                || strcmp(seen, child_id) != 0)
                bad |= CHILD_WRONG_RESULT;
            if (mine->pid != getpid() || mine->tid == current_tid()) bad |= CHILD_WRONG_THREAD;
        }
        /* A second call in the child, quick. */
        struct spec again = {PAYMENT_GET, child_id, NULL, NULL, NULL, NULL};
        struct slot *second = new_slot(&child);
        second->submitted = submit_raw(client, &again, on_done, second, &second->call);
        if (second->submitted != KASKO_OK || !tracker_wait(&child, 2, 30) || second->result == NULL
            || kasko_result_status(second->result) != KASKO_OK)
            bad |= CHILD_SECOND_CALL;
        kasko_result_free(mine->result);
        kasko_result_free(second->result);
        kasko_client_free(client); /* the child's engine; the parent's calls are left alone */
        /* Counted after kasko_client_free too: freeing must not cancel
         * (and call back) the parent's calls either. */
        pthread_mutex_lock(&parent.lock);
        int foreign = parent.completed - at_fork;
        if (foreign != 0) {
            fprintf(stderr, "child %d: %d callbacks of the parent's calls here (%d at fork, %d duplicates)\n",
                    (int)getpid(), foreign, at_fork, parent.duplicates);
            for (int i = 0; i < PARENT_CALLS; i++)
                fprintf(stderr, "child: parent call %d (id %llu): %d callbacks, pid %d, tid %d, %s %s\n", i,
                        (unsigned long long)slots[i]->call, slots[i]->callbacks, (int)slots[i]->pid,
                        (int)slots[i]->tid,
                        slots[i]->result ? kasko_status_name(kasko_result_status(slots[i]->result)) : "-",
                        slots[i]->result ? kasko_outcome_name(kasko_result_outcome(slots[i]->result)) : "-");
        }
        pthread_mutex_unlock(&parent.lock);
        if (foreign != 0) bad |= CHILD_FOREIGN_CALLBACK;
        /* Reported on a pipe, not by the exit status: under memcheck a
         * child's exit status is valgrind's, and the parent's engine, which
         * the child leaves alone by design, looks lost to it there. */
        unsigned char report = (unsigned char)bad;
        _exit(write(report_pipe[1], &report, 1) == 1 ? 0 : 3);
    }
    close(report_pipe[1]);
    CHECK(pid > 0, "fork");
    if (pid < 0) return;
    CHECK(at_fork == 0, "%d of the parent's calls had completed before fork(): not all in flight", at_fork);
    int status = 0;
    double deadline = now_seconds() + 90;
    pid_t done = 0;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 && now_seconds() < deadline) pause_ms(20);
    unsigned char report = 255;
    int reported = read(report_pipe[0], &report, 1) == 1;
    close(report_pipe[0]);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK(0, "the child did not exit within 90 s");
    } else {
        CHECK(reported && !WIFSIGNALED(status), "the child reported and exited (%s %d; SIGALRM = 14 is its watchdog)",
              WIFSIGNALED(status) ? "signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        int code = reported ? report : -1;
        CHECK(code == 0, "the child reports %d", code);
        CHECK(!(code > 0 && (code & CHILD_FOREIGN_CALLBACK)), "the child ran its parent's callbacks");
        CHECK(!(code > 0 && (code & CHILD_SUBMIT_FAILED)), "the child's async call was refused");
        CHECK(!(code > 0 && (code & CHILD_NO_CALLBACK)), "the child's async call never called back");
        CHECK(!(code > 0 && (code & CHILD_WRONG_RESULT)), "the child's async call got the wrong result");
        CHECK(!(code > 0 && (code & CHILD_WRONG_THREAD)), "the child's callback ran on the wrong thread or process");
        CHECK(!(code > 0 && (code & CHILD_SECOND_CALL)), "the child's second async call failed");
        CHECK(!(code > 0 && (code & CHILD_CANCEL_REFUSED)),
              "kasko_call_cancel of the parent's ids refused in the child");
    }
    /* The parent's calls complete in the parent, once each. */
    CHECK(tracker_wait(&parent, PARENT_CALLS, 60), "the parent's calls complete (%d)", tracker_completed(&parent));
    for (int i = 0; i < PARENT_CALLS; i++) {
        check_delivery(slots[i], pthread_self(), "a parent call");
        check_error(slots[i]->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a parent call");
        CHECK(slots[i]->pid == getpid(), "called back in the parent");
        free_slot_results(slots[i]);
    }
    /* The parent's engine still works after the child freed its copy. */
    struct spec child_view = {PAYMENT_GET, child_id, NULL, NULL, NULL, NULL};
    struct slot *after = call_async(client, &child_view, "a parent call after the child");
    check_error(after->result, KASKO_OK, KASKO_OUTCOME_SUCCEEDED, 200, 1, "a parent call after the child");
    CHECK(after->tid == slots[0]->tid, "on the parent's same engine thread");
    free_slot_results(after);
    kasko_client_free(client);
}

/* ---- kasko_payment_resolve_async: both steps on the engine ---------------- */

/* A resolution's state and evidence, as the callback's result gives them. */
static void check_resolution(struct slot *slot, const char *state, const char *evidence, const char *what) {
    char got_state[32] = "", got_evidence[32] = "";
    CHECK(slot->result != NULL && kasko_result_status(slot->result) == KASKO_OK, "%s: %s (%s)", what,
          slot->result ? kasko_status_name(kasko_result_status(slot->result)) : "no result",
          slot->result ? or_null(kasko_result_message(slot->result)) : "");
    if (slot->result == NULL || kasko_result_status(slot->result) != KASKO_OK) return;
    member(slot->result, "state", got_state, sizeof got_state);
    member(slot->result, "evidence", got_evidence, sizeof got_evidence);
    CHECK(strcmp(got_state, state) == 0 && strcmp(got_evidence, evidence) == 0, "%s: %s by %s, expected %s by %s",
          what, got_state, got_evidence, state, evidence);
}

static void test_resolve(void) {
    kasko_client *client = client_with(1, 2);
    struct offer offer;
    struct slot *slot;

    /* The lost create had paid: its answer was dropped after the payment. */
    sandbox_offer(&offer);
    arm_route(offer.policy_id, "payment_create", "{\"drop\":\"after_body\"}", 1);
    struct spec create = {PAYMENT_CREATE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    slot = call_async(client, &create, "resolve: the dropped create");
    check_error(slot->result, KASKO_ERR_NETWORK, KASKO_OUTCOME_UNKNOWN, 0, 1, "resolve: the dropped create");
    free_slot_results(slot);
    struct spec resolve = {PAYMENT_RESOLVE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    slot = call_async(client, &resolve, "resolve after a dropped create");
    /* The policy is created after the payment: "already_paid" until it is, then "policy_paid". */
    char evidence[32] = "";
    if (slot->result != NULL) member(slot->result, "evidence", evidence, sizeof evidence);
    check_resolution(slot, "paid", strcmp(evidence, "policy_paid") == 0 ? "policy_paid" : "already_paid",
                     "resolve after a dropped create");
    kasko_result *blocking_result = NULL;
    kasko_status status = blocking(client, &resolve, &blocking_result);
    CHECK(status == KASKO_OK, "resolve, blocking: %s", kasko_status_name(status));
    kasko_result_free(blocking_result);
    free_slot_results(slot);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "resolve: %ld payments, not one",
          sandbox_policy_payment_count(base_url, offer.policy_id));

    /* Nothing had paid: the resolution's create is the payment. */
    sandbox_offer(&offer);
    struct spec fresh = {PAYMENT_RESOLVE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    slot = call_async(client, &fresh, "resolve an unpaid offer");
    check_resolution(slot, "paid", "created", "resolve an unpaid offer");
    CHECK(slot->result != NULL && kasko_result_attempts(slot->result) == 2, "resolve: %d attempts (view and create)",
          slot->result ? kasko_result_attempts(slot->result) : -1);
    free_slot_results(slot);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 1, "resolve, unpaid: %ld payments",
          sandbox_policy_payment_count(base_url, offer.policy_id));

    /* A wrong token: not paid, nothing made, the token nowhere. */
    sandbox_offer(&offer);
    struct spec wrong = {PAYMENT_RESOLVE, "ptok_not_this_offers", "invoice", "invoice", offer.policy_id, NULL};
    slot = call_async(client, &wrong, "resolve with a wrong token");
    check_resolution(slot, "not_paid", "create_refused", "resolve with a wrong token");
    CHECK(slot->result == NULL || strstr(kasko_result_json(slot->result), "ptok_") == NULL,
          "resolve: the token is in the result");
    free_slot_results(slot);
    CHECK(sandbox_policy_payment_count(base_url, offer.policy_id) == 0, "resolve, wrong token: a payment was made");

    /* Refused before any I/O, through the callback. */
    struct spec null_token = {PAYMENT_RESOLVE, NULL, "invoice", "invoice", offer.policy_id, NULL};
    slot = call_async(client, &null_token, "resolve with a NULL token");
    check_error(slot->result, KASKO_ERR_INVALID_ARGUMENT, KASKO_OUTCOME_NOT_SENT, 0, 0, "resolve with a NULL token");
    free_slot_results(slot);

    /* Cancelled in step 2: one id names whichever step is in flight; the
     * held create was sent, so the outcome is unknown, and the sandbox
     * still carries it out. */
    static struct tracker tracker = TRACKER_INIT;
    sandbox_offer(&offer);
    arm_route(offer.policy_id, "payment_create", "{\"delay_ms\":3000}", 1);
    struct spec held = {PAYMENT_RESOLVE, offer.token, "invoice", "invoice", offer.policy_id, NULL};
    slot = submit(client, &held, &tracker, NULL, NULL, "resolve, cancelled in its create");
    CHECK(sandbox_saw(offer.policy_id, 2, 30), "resolve: the sandbox never saw the view and the create");
    CHECK(kasko_call_cancel(client, slot->call) == KASKO_OK, "resolve: cancelling its id");
    CHECK(tracker_wait(&tracker, 1, 30), "resolve: no callback after the cancel");
    check_error(slot->result, KASKO_ERR_CANCELLED, KASKO_OUTCOME_UNKNOWN, 0, 2, "resolve, cancelled in its create");
    CHECK(slot->result != NULL && kasko_result_attempts(slot->result) == 2, "resolve, cancelled: %d attempts",
          slot->result ? kasko_result_attempts(slot->result) : -1);
    free_slot_results(slot);
    CHECK(policy_becomes(client, offer.policy_id, "paid"), "resolve: the cancelled create was carried out anyway");
    kasko_client_free(client);
}

/* ---- main ---------------------------------------------------------------- */

static int wanted(const char *name) {
    const char *only = getenv("KASKO_ASYNC_TESTS");
    if (only == NULL || *only == '\0') return 1;
    size_t length = strlen(name);
    for (const char *at = only; (at = strstr(at, name)) != NULL; at += length) {
        int starts = at == only || at[-1] == ',';
        int ends = at[length] == '\0' || at[length] == ',';
        if (starts && ends) return 1;
    }
    return 0;
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "scripts/with-sandbox (KASKO_SANDBOX_ARGS=--faults)");
    main_thread = pthread_self();
    slow = getenv("KASKO_TEST_QUICK") != NULL;
    alarm(slow ? 3000 : 900); /* the last resort if something hangs outside a deadline */
    static const struct {
        const char *name;
        void (*run)(void);
    } tests[] = {
        {"every_call", test_every_call},
        {"statuses", test_statuses},
        {"retries", test_retries},
        {"many", test_many_in_flight},
        {"idle_closes", test_server_closes_idle_connections},
        {"fork_many", test_fork_many_connections},
        {"cancel", test_cancel},
        {"free", test_free_in_flight},
        {"free_other", test_free_other_from_callback},
        {"free_busy", test_free_while_callback_runs},
        {"callbacks", test_callbacks_call_the_library},
        {"edges", test_engine_edges},
        {"events", test_events},
        {"fork", test_fork},
        {"load", test_load},
        {"resolve", test_resolve},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!wanted(tests[i].name)) continue;
        int failed_before = failed;
        double started = now_seconds();
        tests[i].run();
        fprintf(stderr, "%s: %s (%.1f s)\n", tests[i].name, failed == failed_before ? "ok" : "FAILED",
                now_seconds() - started);
    }
    /* Exactly once, across the whole run: every accepted call was called
     * back once, every refused one never. */
    int wrong = 0;
    for (int i = 0; i < pool_used; i++) {
        struct slot *slot = &pool[i];
        pthread_mutex_lock(&slot->tracker->lock);
        int callbacks = slot->callbacks;
        pthread_mutex_unlock(&slot->tracker->lock);
        if (callbacks != (slot->accepted ? 1 : 0)) {
            wrong++;
            fprintf(stderr, "slot %d (call %llu, accepted %d): %d callbacks\n", i, (unsigned long long)slot->call,
                    slot->accepted, callbacks);
        }
        kasko_result_free(slot->result);
        kasko_result_free(slot->action_result);
    }
    CHECK(wrong == 0, "%d of %d calls were not called back exactly once (or refused ones called back)", wrong,
          pool_used);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
