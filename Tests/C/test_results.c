/*
 * C tests of the 1.1 API (docs/c-api-1.1-spec.md): typed results
 * (kasko_result), per-call options, kasko_payment_create_v2 /
 * kasko_payment_get_v2, kasko_result_new_error, kasko_version_number,
 * kasko_outcome_name, kasko_client_new_v2 and kasko_call_options_check.
 *
 * Runs against a kasko-sandbox started with --faults (KASKO_SANDBOX_URL;
 * KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox ...): delay faults for the
 * per-call timeout, the sandbox's attempt counters as the evidence that
 * nothing was sent. What the sandbox cannot show (which headers arrived,
 * the exact request body, payment bodies with every JSON type and edge case
 * in them) comes from a raw-socket "recorder" server on 127.0.0.1 inside this
 * program, which records each request and answers a canned body.
 *
 * Every result is freed with kasko_result_free and every options object with
 * kasko_call_options_free, so a valgrind run proves no leaks.
 * KASKO_TEST_QUICK=1 shrinks the thread tests for slow runs under valgrind.
 */
#define _DEFAULT_SOURCE
#include <kasko.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_client.h"
#include "testing.h"

static const char *base_url;
static const char *public_key;
static const char *secret_key;
static int quick;

/* A valid W3C traceparent and tracestate (the spec's own examples). */
#define TRACEPARENT "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TRACESTATE "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"

/* ---- small helpers ---------------------------------------------------- */

static double now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static const char *or_null(const char *text) {
    return text != NULL ? text : "(null)";
}

static int same_string(const char *a, const char *b) {
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static char *copy_or_null(const char *text) {
    return text != NULL ? strdup(text) : NULL;
}

static kasko_client *client_for(const char *url, int with_secret, int max_retries, long timeout_ms) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\"%s%s%s,\"base_url\":\"%s\",\"max_retries\":%d,\"timeout_ms\":%ld}", public_key,
             with_secret ? ",\"secret_key\":\"" : "", with_secret ? secret_key : "", with_secret ? "\"" : "", url,
             max_retries, timeout_ms);
    kasko_client *client = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &client, &error);
    if (status != KASKO_OK || client == NULL) {
        fprintf(stderr, "kasko_client_new(%s): %s %s\n", config, kasko_status_name(status), or_null(error));
        kasko_string_free(error);
        exit(2);
    }
    kasko_string_free(error);
    return client;
}

static kasko_client *sandbox_client(int max_retries, long timeout_ms) {
    return client_for(base_url, 1, max_retries, timeout_ms);
}

struct offer {
    char policy_id[128];
    char token[256];
};

static void new_offer(struct offer *offer) {
    if (sandbox_new_offer(base_url, offer->policy_id, sizeof offer->policy_id, offer->token, sizeof offer->token)
        != 0) {
        fprintf(stderr, "cannot get an offer from the sandbox at %s\n", base_url);
        exit(2);
    }
}

/*
 * The invariants every result must keep, whatever the call: out_result set,
 * the status returned equal to kasko_result_status, JSON present, outcome
 * and retryable in range, message NULL exactly on success. `what` and `line`
 * name the call in failure reports.
 */
static void check_result_shape(kasko_status status, const kasko_result *result, const char *what, int line) {
    CHECK(result != NULL, "line %d %s: *out_result is NULL", line, what);
    if (result == NULL) return;
    CHECK(kasko_result_status(result) == status, "line %d %s: returned %s, kasko_result_status says %s", line, what,
          kasko_status_name(status), kasko_status_name(kasko_result_status(result)));
    const char *json = kasko_result_json(result);
    CHECK(json != NULL && json[0] == '{', "line %d %s: kasko_result_json is %s", line, what, or_null(json));
    int retryable = kasko_result_retryable(result);
    CHECK(retryable == 0 || retryable == 1, "line %d %s: retryable %d", line, what, retryable);
    kasko_outcome outcome = kasko_result_outcome(result);
    CHECK(outcome >= KASKO_OUTCOME_SUCCEEDED && outcome <= KASKO_OUTCOME_UNKNOWN, "line %d %s: outcome %d", line,
          what, (int)outcome);
    CHECK(kasko_result_attempts(result) >= 0, "line %d %s: attempts %d", line, what, kasko_result_attempts(result));
    if (status == KASKO_OK) {
        CHECK(outcome == KASKO_OUTCOME_SUCCEEDED, "line %d %s: OK with outcome %s", line, what,
              kasko_outcome_name(outcome));
        CHECK(kasko_result_message(result) == NULL, "line %d %s: OK with message %s", line, what,
              kasko_result_message(result));
        CHECK(kasko_result_pending_payment_id(result) == NULL, "line %d %s: OK with a pending payment id", line, what);
        CHECK(retryable == 0, "line %d %s: OK and retryable", line, what);
        CHECK(kasko_result_member_type(result, "object") == KASKO_JSON_STRING, "line %d %s: no \"object\"", line,
              what);
    } else {
        CHECK(outcome != KASKO_OUTCOME_SUCCEEDED, "line %d %s: %s with outcome SUCCEEDED", line, what,
              kasko_status_name(status));
        const char *message = kasko_result_message(result);
        CHECK(message != NULL && message[0] != '\0', "line %d %s: error without a message", line, what);
        /* The error object carries the same facts as the accessors. */
        const char *code = NULL;
        CHECK(kasko_result_member_string(result, "code", &code, NULL) == KASKO_OK
                  && same_string(code, kasko_status_name(status)),
              "line %d %s: error object code %s for %s: %s", line, what, or_null(code), kasko_status_name(status),
              or_null(json));
        CHECK(json == NULL || strstr(json, secret_key) == NULL, "line %d %s: the secret key leaked: %s", line, what,
              json);
    }
}

/* The 1.0 error object's "outcome" string for a kasko_outcome. */
static const char *outcome_word(kasko_outcome outcome) {
    switch (outcome) {
    case KASKO_OUTCOME_NOT_SENT: return "not_sent";
    case KASKO_OUTCOME_REJECTED: return "rejected";
    case KASKO_OUTCOME_UNKNOWN: return "unknown";
    case KASKO_OUTCOME_SUCCEEDED: return "succeeded";
    default: return "?";
    }
}

/* Asserts an error result's accessors and that its JSON says the same. */
static void check_error(const kasko_result *result, kasko_status status, int http_status, kasko_outcome outcome,
                        int attempts, const char *what, int line) {
    if (result == NULL) return;
    CHECK(kasko_result_status(result) == status, "line %d %s: status %s, want %s", line, what,
          kasko_status_name(kasko_result_status(result)), kasko_status_name(status));
    CHECK(kasko_result_http_status(result) == http_status, "line %d %s: http_status %d, want %d", line, what,
          kasko_result_http_status(result), http_status);
    CHECK(kasko_result_outcome(result) == outcome, "line %d %s: outcome %s, want %s", line, what,
          kasko_outcome_name(kasko_result_outcome(result)), kasko_outcome_name(outcome));
    if (attempts >= 0) {
        CHECK(kasko_result_attempts(result) == attempts, "line %d %s: attempts %d, want %d", line, what,
              kasko_result_attempts(result), attempts);
    }
    const char *word = NULL;
    CHECK(kasko_result_member_string(result, "outcome", &word, NULL) == KASKO_OK
              && same_string(word, outcome_word(outcome)),
          "line %d %s: JSON outcome %s, want %s", line, what, or_null(word), outcome_word(outcome));
    int64_t number = -1;
    if (http_status == 0) {
        CHECK(kasko_result_member_type(result, "http_status") == KASKO_JSON_NULL, "line %d %s: JSON http_status not null",
              line, what);
    } else {
        CHECK(kasko_result_member_int64(result, "http_status", &number) == KASKO_OK && number == http_status,
              "line %d %s: JSON http_status %" PRId64, line, what, number);
    }
    number = -1;
    CHECK(kasko_result_member_int64(result, "attempts", &number) == KASKO_OK
              && number == kasko_result_attempts(result),
          "line %d %s: JSON attempts %" PRId64 ", accessor %d", line, what, number, kasko_result_attempts(result));
    int flag = -1;
    CHECK(kasko_result_member_bool(result, "retryable", &flag) == KASKO_OK && flag == kasko_result_retryable(result),
          "line %d %s: JSON retryable %d, accessor %d", line, what, flag, kasko_result_retryable(result));
    const char *text = NULL;
    CHECK(kasko_result_member_string(result, "message", &text, NULL) == KASKO_OK
              && same_string(text, kasko_result_message(result)),
          "line %d %s: JSON message %s, accessor %s", line, what, or_null(text), or_null(kasko_result_message(result)));
    text = NULL;
    if (kasko_result_request_id(result) == NULL) {
        CHECK(kasko_result_member_type(result, "request_id") == KASKO_JSON_NULL, "line %d %s: JSON request_id not null",
              line, what);
    } else {
        CHECK(kasko_result_member_string(result, "request_id", &text, NULL) == KASKO_OK
                  && same_string(text, kasko_result_request_id(result)),
              "line %d %s: JSON request_id %s, accessor %s", line, what, or_null(text),
              or_null(kasko_result_request_id(result)));
    }
    text = NULL;
    if (kasko_result_pending_payment_id(result) == NULL) {
        CHECK(kasko_result_member_type(result, "pending_payment_id") == KASKO_JSON_NULL,
              "line %d %s: JSON pending_payment_id not null", line, what);
    } else {
        CHECK(kasko_result_member_string(result, "pending_payment_id", &text, NULL) == KASKO_OK
                  && same_string(text, kasko_result_pending_payment_id(result)),
              "line %d %s: JSON pending_payment_id %s", line, what, or_null(text));
    }
    const char *object = NULL;
    CHECK(kasko_result_member_string(result, "object", &object, NULL) == KASKO_OK && same_string(object, "error"),
          "line %d %s: \"object\" is %s", line, what, or_null(object));
}

/* ---- the recorder: a raw-socket HTTP server on 127.0.0.1 --------------- */

#define RECORDED_MAX 128
#define RECORDER_REQUEST_ID "req_recorder_fixed_0001"
#define RECORDER_CREATED_ID "tcreated000000000000000000000001"

struct recorded_request {
    char method[8];
    char target[512];
    char head[4096];
    char body[4096];
};

static struct recorder {
    int listen_fd;
    int port;
    char url[64];
    pthread_t thread;
    pthread_mutex_t lock;
    int stop;
    int count;      /* requests received (all of them, also beyond RECORDED_MAX) */
    int fail_first; /* answer this many further requests with 503 */
    struct recorded_request log[RECORDED_MAX];
} recorder = {.listen_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* A payment body with every JSON type and the edge cases of the accessors.
 * Its "id" is the id asked for; members named in test_member_edge_cases. */
static const char edge_body_format[] =
    "{\"object\":\"payment\",\"id\":\"%s\",\"livemode\":false,"
    "\"int\":42,\"neg\":-7,\"max\":9223372036854775807,\"min\":-9223372036854775808,"
    "\"over\":9223372036854775808,\"under\":-9223372036854775809,\"frac\":2.5,\"exp\":1e2,\"negzero\":-0,"
    "\"t\":true,\"f\":false,\"n\":null,"
    "\"esc\":\"a\\\"b\\\\c\\u00e9\\n\\u0000z\",\"utf\":\"\xc3\xa4\xe2\x82\xac\",\"sur\":\"\\ud83d\\ude00\","
    "\"e\\u0073c2\":\"named\",\"empty\":\"\",\"dup\":1,\"dup\":2,"
    "\"arr\":[1,{\"x\":2}],\"obj\":{\"dup\":3,\"id\":\"inner\",\"object\":\"x\"},"
    "\"spaced\" :  \"yes\" ,\n \"last\":\"end\"}";

/* Numbers outside double's range. */
static const char huge_body_format[] =
    "{\"object\":\"payment\",\"id\":\"%s\",\"big\":1e400,\"small\":-1e400,\"tiny\":1e-400}";

static const char plain_body_format[] =
    "{\"object\":\"payment\",\"id\":\"%s\",\"livemode\":false,\"provider\":\"invoice\",\"method\":\"invoice\","
    "\"status\":\"ok\"}";

static const char created_body[] =
    "{\"object\":\"payment\",\"id\":\"" RECORDER_CREATED_ID "\",\"livemode\":false,\"provider\":\"invoice\","
    "\"method\":\"invoice\",\"status\":\"ok\",\"transaction_metadata\":[],"
    "\"_links\":{\"_self\":{\"href\":\"http://127.0.0.1/payments/" RECORDER_CREATED_ID "\"}}}";

static void send_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
        if (sent <= 0) return;
        data += sent;
        length -= (size_t)sent;
    }
}

static void respond(int fd, int status, const char *reason, const char *body) {
    char head[512];
    int length = snprintf(head, sizeof head,
                          "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                          "X-Request-Id: " RECORDER_REQUEST_ID "\r\nConnection: close\r\n\r\n",
                          status, reason, strlen(body));
    send_all(fd, head, (size_t)length);
    send_all(fd, body, strlen(body));
}

static int header_value(const char *head, const char *name, char *out, size_t size);

/* Content-Length of a request head (0 if none). */
static size_t content_length(const char *head) {
    const char *line = head;
    while ((line = strstr(line, "\r\n")) != NULL) {
        line += 2;
        if (strncasecmp(line, "Content-Length:", 15) == 0) return (size_t)strtoul(line + 15, NULL, 10);
    }
    return 0;
}

/* Reads one request, records it, answers it, closes the connection. */
static void serve_connection(int fd) {
    struct timeval timeout = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    static char buffer[16384]; /* one connection at a time: the recorder thread only */
    size_t used = 0;
    char *end_of_head = NULL;
    while (end_of_head == NULL && used < sizeof buffer - 1) {
        ssize_t count = recv(fd, buffer + used, sizeof buffer - 1 - used, 0);
        if (count <= 0) return;
        used += (size_t)count;
        buffer[used] = '\0';
        end_of_head = strstr(buffer, "\r\n\r\n");
    }
    if (end_of_head == NULL) return;
    size_t head_length = (size_t)(end_of_head + 4 - buffer);
    char saved = buffer[head_length];
    buffer[head_length] = '\0';
    size_t body_length = content_length(buffer);
    char expect[64];
    int expects_continue = header_value(buffer, "Expect", expect, sizeof expect) > 0
                           && strcasecmp(expect, "100-continue") == 0;
    buffer[head_length] = saved;
    if (expects_continue && used == head_length) send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    while (used < head_length + body_length && used < sizeof buffer - 1) {
        ssize_t count = recv(fd, buffer + used, sizeof buffer - 1 - used, 0);
        if (count <= 0) break;
        used += (size_t)count;
    }
    buffer[used] = '\0';

    struct recorded_request request;
    memset(&request, 0, sizeof request);
    size_t copy = head_length < sizeof request.head - 1 ? head_length : sizeof request.head - 1;
    memcpy(request.head, buffer, copy);
    size_t body_copy = used - head_length < sizeof request.body - 1 ? used - head_length : sizeof request.body - 1;
    memcpy(request.body, buffer + head_length, body_copy);
    sscanf(request.head, "%7s %511s", request.method, request.target);

    pthread_mutex_lock(&recorder.lock);
    int index = recorder.count++;
    int fail = recorder.fail_first > 0;
    if (fail) recorder.fail_first--;
    if (index < RECORDED_MAX) recorder.log[index] = request;
    pthread_mutex_unlock(&recorder.lock);

    char body[2048];
    if (fail) {
        respond(fd, 503, "Service Unavailable", "{\"status\":\"Service Unavailable\"}");
    } else if (strcmp(request.method, "GET") == 0 && strncmp(request.target, "/payments/", 10) == 0) {
        char id[256];
        snprintf(id, sizeof id, "%.*s", (int)strcspn(request.target + 10, "?"), request.target + 10);
        if (strncmp(id, "tnotfound", 9) == 0) {
            respond(fd, 404, "Not Found", "{\"status\":\"Not Found\"}");
        } else {
            const char *format = strcmp(id, "tedgecases") == 0 ? edge_body_format
                                 : strcmp(id, "thuge") == 0    ? huge_body_format
                                                               : plain_body_format;
            snprintf(body, sizeof body, format, id);
            respond(fd, 200, "OK", body);
        }
    } else if (strcmp(request.method, "POST") == 0 && strncmp(request.target, "/payments", 9) == 0) {
        respond(fd, 200, "OK", created_body);
    } else {
        respond(fd, 404, "Not Found", "{\"status\":\"Not Found\"}");
    }
    shutdown(fd, SHUT_WR);
}

static void *recorder_main(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&recorder.lock);
        int stop = recorder.stop;
        pthread_mutex_unlock(&recorder.lock);
        if (stop) break;
        struct pollfd wait_for = {recorder.listen_fd, POLLIN, 0};
        if (poll(&wait_for, 1, 50) <= 0) continue;
        int fd = accept(recorder.listen_fd, NULL, NULL);
        if (fd < 0) continue;
        serve_connection(fd);
        close(fd);
    }
    return NULL;
}

static void recorder_start(void) {
    recorder.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (recorder.listen_fd < 0 || bind(recorder.listen_fd, (struct sockaddr *)&address, sizeof address) != 0
        || listen(recorder.listen_fd, 64) != 0
        || getsockname(recorder.listen_fd, (struct sockaddr *)&address, &length) != 0) {
        fprintf(stderr, "recorder: cannot listen on 127.0.0.1\n");
        exit(2);
    }
    recorder.port = ntohs(address.sin_port);
    snprintf(recorder.url, sizeof recorder.url, "http://127.0.0.1:%d", recorder.port);
    if (pthread_create(&recorder.thread, NULL, recorder_main, NULL) != 0) {
        fprintf(stderr, "recorder: no thread\n");
        exit(2);
    }
}

static void recorder_stop(void) {
    pthread_mutex_lock(&recorder.lock);
    recorder.stop = 1;
    pthread_mutex_unlock(&recorder.lock);
    pthread_join(recorder.thread, NULL);
    close(recorder.listen_fd);
}

/* Forgets what was recorded; the next `fail_first` requests get a 503. */
static void recorder_reset(int fail_first) {
    pthread_mutex_lock(&recorder.lock);
    recorder.count = 0;
    recorder.fail_first = fail_first;
    pthread_mutex_unlock(&recorder.lock);
}

static int recorder_count(void) {
    pthread_mutex_lock(&recorder.lock);
    int count = recorder.count;
    pthread_mutex_unlock(&recorder.lock);
    return count;
}

static struct recorded_request recorder_request(int index) {
    struct recorded_request request;
    memset(&request, 0, sizeof request);
    pthread_mutex_lock(&recorder.lock);
    if (index >= 0 && index < recorder.count && index < RECORDED_MAX) request = recorder.log[index];
    pthread_mutex_unlock(&recorder.lock);
    return request;
}

/* The value of header `name` in a recorded head (case-insensitive name;
 * leading blanks dropped), copied to out. Returns how many times the header
 * appears. */
static int header_value(const char *head, const char *name, char *out, size_t size) {
    int found = 0;
    size_t name_length = strlen(name);
    if (size > 0) out[0] = '\0';
    const char *line = strstr(head, "\r\n");
    while (line != NULL) {
        line += 2;
        if (strncasecmp(line, name, name_length) == 0 && line[name_length] == ':') {
            const char *value = line + name_length + 1;
            while (*value == ' ' || *value == '\t') value++;
            size_t length = strcspn(value, "\r\n");
            if (found == 0 && size > 0) snprintf(out, size, "%.*s", (int)length, value);
            found++;
        }
        line = strstr(line, "\r\n");
    }
    return found;
}

/* ---- tests: versions and names ----------------------------------------- */

static void test_version_and_outcome_names(void) {
    CHECK(kasko_version_number() == KASKO_VERSION_NUMBER, "kasko_version_number() %d, header %d",
          kasko_version_number(), KASKO_VERSION_NUMBER);
    CHECK(KASKO_VERSION_NUMBER == KASKO_VERSION_MAJOR * 1000000 + KASKO_VERSION_MINOR * 1000 + KASKO_VERSION_PATCH,
          "KASKO_VERSION_NUMBER %d is not MAJOR*1000000 + MINOR*1000 + PATCH", KASKO_VERSION_NUMBER);
    CHECK(KASKO_VERSION_NUMBER >= 1001000, "the 1.1 API in a header older than 1.1: %d", KASKO_VERSION_NUMBER);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", kasko_version_number() / 1000000,
             kasko_version_number() / 1000 % 1000, kasko_version_number() % 1000);
    CHECK(strcmp(kasko_version(), expected) == 0, "kasko_version() %s, kasko_version_number() says %s",
          kasko_version(), expected);

    static const char *names[] = {"KASKO_OUTCOME_SUCCEEDED", "KASKO_OUTCOME_NOT_SENT", "KASKO_OUTCOME_REJECTED",
                                  "KASKO_OUTCOME_UNKNOWN"};
    CHECK(KASKO_OUTCOME_SUCCEEDED == 0 && KASKO_OUTCOME_NOT_SENT == 1 && KASKO_OUTCOME_REJECTED == 2
              && KASKO_OUTCOME_UNKNOWN == 3,
          "kasko_outcome values changed");
    for (int outcome = KASKO_OUTCOME_SUCCEEDED; outcome <= KASKO_OUTCOME_UNKNOWN; outcome++) {
        const char *name = kasko_outcome_name((kasko_outcome)outcome);
        CHECK(same_string(name, names[outcome]), "name of outcome %d is %s", outcome, or_null(name));
        CHECK(name == kasko_outcome_name((kasko_outcome)outcome), "outcome name %d is not static", outcome);
    }
    int invalid[] = {-1, 4, 100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        const char *name = kasko_outcome_name((kasko_outcome)invalid[i]);
        CHECK(same_string(name, "KASKO_OUTCOME_INVALID"), "name of outcome %d is %s", invalid[i], or_null(name));
    }
    CHECK(KASKO_JSON_NONE == 0 && KASKO_JSON_NULL == 1 && KASKO_JSON_BOOL == 2 && KASKO_JSON_NUMBER == 3
              && KASKO_JSON_STRING == 4 && KASKO_JSON_ARRAY == 5 && KASKO_JSON_OBJECT == 6,
          "kasko_json_type values changed");
}

/* ---- tests: NULLs, frees, refusals before I/O -------------------------- */

static void test_null_arguments_and_frees(void) {
    kasko_result_free(NULL);
    kasko_call_options_free(NULL);
    passed++;

    CHECK(kasko_result_status(NULL) == KASKO_ERR_INVALID_ARGUMENT, "kasko_result_status(NULL)");
    CHECK(kasko_result_http_status(NULL) == 0, "kasko_result_http_status(NULL)");
    CHECK(kasko_result_json(NULL) == NULL, "kasko_result_json(NULL)");
    CHECK(kasko_result_outcome(NULL) == KASKO_OUTCOME_NOT_SENT, "kasko_result_outcome(NULL)");
    CHECK(kasko_result_retryable(NULL) == 0, "kasko_result_retryable(NULL)");
    CHECK(kasko_result_attempts(NULL) == 0, "kasko_result_attempts(NULL)");
    CHECK(kasko_result_member_type(NULL, "id") == KASKO_JSON_NONE, "member_type(NULL result)");
    const char *text = "sentinel";
    size_t length = 4242;
    CHECK(kasko_result_member_string(NULL, "id", &text, &length) == KASKO_ERR_INVALID_ARGUMENT
              && strcmp(text, "sentinel") == 0 && length == 4242,
          "member_string(NULL result)");
    CHECK(kasko_result_member_json(NULL, "id", &text, &length) == KASKO_ERR_INVALID_ARGUMENT
              && strcmp(text, "sentinel") == 0 && length == 4242,
          "member_json(NULL result)");
    int64_t number = 77;
    CHECK(kasko_result_member_int64(NULL, "fee", &number) == KASKO_ERR_INVALID_ARGUMENT && number == 77,
          "member_int64(NULL result)");
    double real = 7.5;
    CHECK(kasko_result_member_double(NULL, "fee", &real) == KASKO_ERR_INVALID_ARGUMENT && real == 7.5,
          "member_double(NULL result)");
    int flag = 3;
    CHECK(kasko_result_member_bool(NULL, "livemode", &flag) == KASKO_ERR_INVALID_ARGUMENT && flag == 3,
          "member_bool(NULL result)");

    CHECK(kasko_call_options_set_timeout_ms(NULL, 1000) == KASKO_ERR_INVALID_ARGUMENT, "set_timeout_ms(NULL)");
    CHECK(kasko_call_options_set_traceparent(NULL, TRACEPARENT) == KASKO_ERR_INVALID_ARGUMENT,
          "set_traceparent(NULL)");
    CHECK(kasko_call_options_set_tracestate(NULL, TRACESTATE) == KASKO_ERR_INVALID_ARGUMENT, "set_tracestate(NULL)");

    /* out_result NULL: INVALID_ARGUMENT and nothing at all happens. */
    kasko_client *client = sandbox_client(0, 20000);
    struct offer offer;
    new_offer(&offer);
    kasko_status status = kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL,
                                                  NULL);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "create_v2 with out_result NULL: %s", kasko_status_name(status));
    CHECK(sandbox_attempts(base_url, offer.policy_id) == 0, "create_v2 with out_result NULL sent %ld requests",
          sandbox_attempts(base_url, offer.policy_id));
    status = kasko_payment_get_v2(client, "tnullout", NULL, NULL);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "get_v2 with out_result NULL: %s", kasko_status_name(status));
    CHECK(sandbox_attempts(base_url, "tnullout") == 0, "get_v2 with out_result NULL was sent");

    /* NULL client, NULL fields: refused with a result that names them. */
    struct {
        kasko_client *client;
        const char *token, *provider, *method, *policy_id;
        const char *named;
    } cases[] = {
        {NULL, offer.token, "invoice", "invoice", offer.policy_id, "client"},
        {client, NULL, "invoice", "invoice", offer.policy_id, "token"},
        {client, offer.token, NULL, "invoice", offer.policy_id, "provider"},
        {client, offer.token, "invoice", NULL, offer.policy_id, "method"},
        {client, offer.token, "invoice", "invoice", NULL, "policy_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kasko_result *result = NULL;
        status = kasko_payment_create_v2(cases[i].client, cases[i].token, cases[i].provider, cases[i].method,
                                         cases[i].policy_id, NULL, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "create_v2 with NULL %s: %s", cases[i].named,
              kasko_status_name(status));
        check_result_shape(status, result, cases[i].named, __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, cases[i].named, __LINE__);
        CHECK(result != NULL && kasko_result_message(result) != NULL
                  && strstr(kasko_result_message(result), cases[i].named) != NULL,
              "NULL %s: the message does not name it: %s", cases[i].named,
              or_null(result ? kasko_result_message(result) : NULL));
        CHECK(result != NULL && kasko_result_retryable(result) == 0 && kasko_result_request_id(result) == NULL
                  && kasko_result_pending_payment_id(result) == NULL,
              "NULL %s: retryable, request id or pending id set", cases[i].named);
        kasko_result_free(result);
    }
    kasko_result *result = NULL;
    status = kasko_payment_get_v2(NULL, "tabc", NULL, &result);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "get_v2 NULL client: %s", kasko_status_name(status));
    check_result_shape(status, result, "get_v2 NULL client", __LINE__);
    check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "get_v2 NULL client", __LINE__);
    kasko_result_free(result);
    result = NULL;
    status = kasko_payment_get_v2(client, NULL, NULL, &result);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "get_v2 NULL id: %s", kasko_status_name(status));
    check_result_shape(status, result, "get_v2 NULL id", __LINE__);
    CHECK(result != NULL && kasko_result_message(result) != NULL
              && strstr(kasko_result_message(result), "payment_id") != NULL,
          "NULL payment id: message %s", or_null(result ? kasko_result_message(result) : NULL));
    kasko_result_free(result);
    CHECK(sandbox_attempts(base_url, offer.policy_id) == 0, "a refused create reached the sandbox");
    kasko_client_free(client);
}

/* Invalid field values: the 1.0 rules, refused before I/O, and the same
 * status and error object as kasko_payment_create for the same fields. */
static void test_invalid_fields(void) {
    kasko_client *client = sandbox_client(0, 20000);
    struct offer offer;
    new_offer(&offer);
    static char long_token[5001];
    memset(long_token, 'a', sizeof long_token - 1);
    static char huge_token[70 * 1024];
    memset(huge_token, 'b', sizeof huge_token - 1);
    struct {
        const char *what, *token, *provider, *method;
        const char *named;
    } cases[] = {
        {"empty token", "", "invoice", "invoice", "token"},
        {"empty provider", offer.token, "", "invoice", "provider"},
        {"empty method", offer.token, "invoice", "", "method"},
        {"control character", "ptok_a\nb", "invoice", "invoice", "token"},
        {"DEL character", "ptok_a\x7f", "invoice", "invoice", "token"},
        {"invalid UTF-8", "ptok_\xff\xfe", "invoice", "invoice", "token"},
        {"truncated UTF-8", "ptok_\xc3", "invoice", "invoice", "token"},
        {"overlong UTF-8", "ptok_\xc0\xaf", "invoice", "invoice", "token"},
        {"UTF-16 surrogate in UTF-8", "ptok_\xed\xa0\x80", "invoice", "invoice", "token"},
        {"5000-byte token", long_token, "invoice", "invoice", "token"},
        {"70 KiB token", huge_token, "invoice", "invoice", "token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kasko_result *result = NULL;
        kasko_status status = kasko_payment_create_v2(client, cases[i].token, cases[i].provider, cases[i].method,
                                                      offer.policy_id, NULL, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "%s: %s %s", cases[i].what, kasko_status_name(status),
              or_null(result ? kasko_result_json(result) : NULL));
        check_result_shape(status, result, cases[i].what, __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, cases[i].what, __LINE__);
        const char *message = result ? kasko_result_message(result) : NULL;
        CHECK(message != NULL && strstr(message, cases[i].named) != NULL, "%s: message does not name %s: %s",
              cases[i].what, cases[i].named, or_null(message));
        CHECK(message == NULL || strlen(cases[i].token) < 8 || strstr(message, cases[i].token) == NULL,
              "%s: the token is quoted in the message", cases[i].what);
        kasko_result_free(result);
    }
    CHECK(sandbox_attempts(base_url, offer.policy_id) == 0, "a refused create reached the sandbox (%ld requests)",
          sandbox_attempts(base_url, offer.policy_id));

    /* The 1.0 JSON request with the same fields: same status, same object. */
    struct {
        const char *what, *token, *json_token;
    } same[] = {
        {"empty token", "", ""},
        {"control character", "ptok_a\x01" "b", "ptok_a\\u0001b"},
        {"5000-byte token", long_token, long_token},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        static char request[8192];
        snprintf(request, sizeof request,
                 "{\"token\":\"%s\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"%s\"}",
                 same[i].json_token, offer.policy_id);
        char *v1 = NULL;
        kasko_status status1 = kasko_payment_create(client, request, &v1);
        kasko_result *result = NULL;
        kasko_status status2 = kasko_payment_create_v2(client, same[i].token, "invoice", "invoice", offer.policy_id,
                                                       NULL, &result);
        CHECK(status1 == status2, "%s: 1.0 says %s, 1.1 says %s", same[i].what, kasko_status_name(status1),
              kasko_status_name(status2));
        CHECK(v1 != NULL && result != NULL && same_string(v1, kasko_result_json(result)),
              "%s: error objects differ:\n  1.0: %s\n  1.1: %s", same[i].what, or_null(v1),
              or_null(result ? kasko_result_json(result) : NULL));
        kasko_string_free(v1);
        kasko_result_free(result);
    }

    /* Bad payment ids, as in 1.0. */
    char long_id[200];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *bad_ids[] = {"", "../etc/passwd", "t1?x=1", "t 1", "t%2F", "t\xc3\xa4", long_id};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        kasko_result *result = NULL;
        kasko_status status = kasko_payment_get_v2(client, bad_ids[i], NULL, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "id '%s': %s", bad_ids[i], kasko_status_name(status));
        check_result_shape(status, result, "bad id", __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "bad id", __LINE__);
        CHECK(result != NULL && kasko_result_request_id(result) == NULL, "bad id: a request id without a request");
        char *v1 = NULL;
        kasko_status status1 = kasko_payment_get(client, bad_ids[i], &v1);
        CHECK(status1 == status && v1 != NULL && result != NULL && same_string(v1, kasko_result_json(result)),
              "id '%s': 1.0 and 1.1 error objects differ:\n  1.0: %s\n  1.1: %s", bad_ids[i], or_null(v1),
              or_null(result ? kasko_result_json(result) : NULL));
        kasko_string_free(v1);
        kasko_result_free(result);
    }
    kasko_client_free(client);
}

/* ---- tests: success results against the sandbox ------------------------ */

static void test_success_accessors(void) {
    kasko_client *client = sandbox_client(0, 20000);
    struct offer offer;
    new_offer(&offer);
    kasko_result *created = NULL;
    kasko_status status = kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL,
                                                  &created);
    CHECK(status == KASKO_OK, "create_v2: %s %s", kasko_status_name(status),
          or_null(created ? kasko_result_json(created) : NULL));
    check_result_shape(status, created, "create_v2", __LINE__);
    if (status != KASKO_OK || created == NULL) {
        kasko_result_free(created);
        kasko_client_free(client);
        return;
    }
    CHECK(sandbox_attempts(base_url, offer.policy_id) == 1, "the create reached the sandbox %ld times",
          sandbox_attempts(base_url, offer.policy_id));
    CHECK(kasko_result_http_status(created) == 200, "create http_status %d", kasko_result_http_status(created));
    CHECK(kasko_result_attempts(created) == 1, "create attempts %d", kasko_result_attempts(created));
    CHECK(kasko_result_outcome(created) == KASKO_OUTCOME_SUCCEEDED, "create outcome");
    const char *request_id = kasko_result_request_id(created);
    CHECK(request_id != NULL && strncmp(request_id, "req_", 4) == 0, "success request_id %s", or_null(request_id));

    /* "id": the one just created (as in the JSON text), with its length. */
    const char *id = NULL;
    size_t id_length = 0;
    status = kasko_result_member_string(created, "id", &id, &id_length);
    CHECK(status == KASKO_OK && id != NULL, "member_string id: %s", kasko_status_name(status));
    char json_id[129] = "";
    CHECK(json_string_field(kasko_result_json(created), "id", json_id, sizeof json_id) == 0, "id in the JSON");
    CHECK(id != NULL && strcmp(id, json_id) == 0, "member id %s, JSON id %s", or_null(id), json_id);
    CHECK(id != NULL && id_length == strlen(id) && id_length == 33 && id[0] == 't', "id %s length %zu", or_null(id),
          id_length);
    const char *again = NULL;
    CHECK(kasko_result_member_string(created, "id", &again, NULL) == KASKO_OK && same_string(again, id),
          "member_string with out_length NULL");
    CHECK(again == id, "reading \"id\" again gave another pointer");
    char payment_id[129] = "";
    if (id != NULL) snprintf(payment_id, sizeof payment_id, "%s", id);

    /* Every member of the full payment object, by type. */
    struct {
        const char *name;
        kasko_json_type type;
    } members[] = {
        {"object", KASKO_JSON_STRING},         {"id", KASKO_JSON_STRING},       {"livemode", KASKO_JSON_BOOL},
        {"provider", KASKO_JSON_STRING},       {"method", KASKO_JSON_STRING},   {"status", KASKO_JSON_STRING},
        {"policy_id", KASKO_JSON_STRING},      {"charge_id", KASKO_JSON_NULL},  {"fee", KASKO_JSON_NUMBER},
        {"reference", KASKO_JSON_NULL},        {"token", KASKO_JSON_STRING},    {"reason", KASKO_JSON_NULL},
        {"error_code", KASKO_JSON_NULL},       {"metadata", KASKO_JSON_ARRAY},  {"transaction_metadata", KASKO_JSON_ARRAY},
        {"customer_id", KASKO_JSON_STRING},    {"refunds", KASKO_JSON_ARRAY},   {"_links", KASKO_JSON_OBJECT},
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        kasko_json_type type = kasko_result_member_type(created, members[i].name);
        CHECK(type == members[i].type, "member_type %s is %d, want %d", members[i].name, (int)type,
              (int)members[i].type);
    }
    kasko_json_type processed = kasko_result_member_type(created, "processed_at");
    CHECK(processed == KASKO_JSON_STRING || processed == KASKO_JSON_NULL, "processed_at type %d", (int)processed);
    const char *absent[] = {"nope", "", "ID", "id ", "_self", "href", "\"id\"", "payment"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        CHECK(kasko_result_member_type(created, absent[i]) == KASKO_JSON_NONE, "member_type \"%s\" is not NONE",
              absent[i]);
    }
    CHECK(kasko_result_member_type(created, NULL) == KASKO_JSON_NONE, "member_type NULL name");

    /* Strings. */
    const char *value = NULL;
    CHECK(kasko_result_member_string(created, "object", &value, NULL) == KASKO_OK && same_string(value, "payment"),
          "object %s", or_null(value));
    CHECK(kasko_result_member_string(created, "policy_id", &value, NULL) == KASKO_OK
              && same_string(value, offer.policy_id),
          "policy_id %s", or_null(value));
    CHECK(kasko_result_member_string(created, "status", &value, NULL) == KASKO_OK && same_string(value, "ok"),
          "status %s", or_null(value));
    CHECK(kasko_result_member_string(created, "provider", &value, NULL) == KASKO_OK && same_string(value, "invoice"),
          "provider %s", or_null(value));

    /* Refusals leave the outputs untouched. */
    const char *sentinel = "sentinel";
    struct {
        const char *name;
    } not_strings[] = {{"fee"}, {"livemode"}, {"charge_id"}, {"_links"}, {"refunds"}, {"nope"}};
    for (size_t i = 0; i < sizeof not_strings / sizeof not_strings[0]; i++) {
        value = sentinel;
        size_t length = 999;
        status = kasko_result_member_string(created, not_strings[i].name, &value, &length);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "member_string %s: %s", not_strings[i].name,
              kasko_status_name(status));
        CHECK(value == sentinel && length == 999, "member_string %s touched its outputs", not_strings[i].name);
    }

    /* Bool. */
    int flag = 7;
    CHECK(kasko_result_member_bool(created, "livemode", &flag) == KASKO_OK && flag == 0, "livemode %d", flag);
    const char *not_bools[] = {"id", "fee", "charge_id", "_links", "metadata", "nope"};
    for (size_t i = 0; i < sizeof not_bools / sizeof not_bools[0]; i++) {
        flag = 7;
        CHECK(kasko_result_member_bool(created, not_bools[i], &flag) == KASKO_ERR_INVALID_ARGUMENT && flag == 7,
              "member_bool %s", not_bools[i]);
    }

    /* Numbers. */
    int64_t number = 77;
    CHECK(kasko_result_member_int64(created, "fee", &number) == KASKO_OK && number == 0, "fee %" PRId64, number);
    double real = 7.5;
    CHECK(kasko_result_member_double(created, "fee", &real) == KASKO_OK && real == 0.0, "fee as double %g", real);
    const char *not_numbers[] = {"id", "livemode", "charge_id", "_links", "refunds", "nope"};
    for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
        number = 77;
        real = 7.5;
        CHECK(kasko_result_member_int64(created, not_numbers[i], &number) == KASKO_ERR_INVALID_ARGUMENT
                  && number == 77,
              "member_int64 %s", not_numbers[i]);
        CHECK(kasko_result_member_double(created, not_numbers[i], &real) == KASKO_ERR_INVALID_ARGUMENT && real == 7.5,
              "member_double %s", not_numbers[i]);
    }

    /* JSON text of members of any type. */
    const char *json = NULL;
    size_t json_length = 0;
    status = kasko_result_member_json(created, "_links", &json, &json_length);
    CHECK(status == KASKO_OK && json != NULL && json[0] == '{' && json[json_length - 1] == '}'
              && json_length == strlen(json),
          "_links JSON %s (%zu)", or_null(json), json_length);
    char href[512];
    snprintf(href, sizeof href, "%s/payments/%s", base_url, payment_id);
    CHECK(json != NULL && strstr(json, "\"_self\"") != NULL && strstr(json, href) != NULL, "_links %s lacks %s",
          or_null(json), href);
    CHECK(json != NULL && strstr(kasko_result_json(created), json) != NULL, "_links %s is not the text in the object",
          or_null(json));
    char quoted[140];
    snprintf(quoted, sizeof quoted, "\"%s\"", payment_id);
    CHECK(kasko_result_member_json(created, "id", &json, NULL) == KASKO_OK && same_string(json, quoted),
          "id as JSON %s", or_null(json));
    CHECK(kasko_result_member_json(created, "fee", &json, &json_length) == KASKO_OK && same_string(json, "0")
              && json_length == 1,
          "fee as JSON %s", or_null(json));
    CHECK(kasko_result_member_json(created, "livemode", &json, NULL) == KASKO_OK && same_string(json, "false"),
          "livemode as JSON %s", or_null(json));
    CHECK(kasko_result_member_json(created, "charge_id", &json, NULL) == KASKO_OK && same_string(json, "null"),
          "charge_id as JSON %s", or_null(json));
    CHECK(kasko_result_member_json(created, "refunds", &json, NULL) == KASKO_OK && same_string(json, "[]"),
          "refunds as JSON %s", or_null(json));
    json = sentinel;
    json_length = 999;
    CHECK(kasko_result_member_json(created, "nope", &json, &json_length) == KASKO_ERR_INVALID_ARGUMENT
              && json == sentinel && json_length == 999,
          "member_json of an absent member");

    /* NULL names and outputs. */
    value = sentinel;
    size_t length = 999;
    CHECK(kasko_result_member_string(created, NULL, &value, &length) == KASKO_ERR_INVALID_ARGUMENT
              && value == sentinel && length == 999,
          "member_string NULL name");
    CHECK(kasko_result_member_string(created, "id", NULL, &length) == KASKO_ERR_INVALID_ARGUMENT && length == 999,
          "member_string NULL out_value");
    CHECK(kasko_result_member_json(created, NULL, &value, &length) == KASKO_ERR_INVALID_ARGUMENT && value == sentinel,
          "member_json NULL name");
    CHECK(kasko_result_member_json(created, "_links", NULL, &length) == KASKO_ERR_INVALID_ARGUMENT && length == 999,
          "member_json NULL out_json");
    CHECK(kasko_result_member_int64(created, NULL, &number) == KASKO_ERR_INVALID_ARGUMENT, "int64 NULL name");
    CHECK(kasko_result_member_int64(created, "fee", NULL) == KASKO_ERR_INVALID_ARGUMENT, "int64 NULL out");
    CHECK(kasko_result_member_double(created, NULL, &real) == KASKO_ERR_INVALID_ARGUMENT, "double NULL name");
    CHECK(kasko_result_member_double(created, "fee", NULL) == KASKO_ERR_INVALID_ARGUMENT, "double NULL out");
    CHECK(kasko_result_member_bool(created, NULL, &flag) == KASKO_ERR_INVALID_ARGUMENT, "bool NULL name");
    CHECK(kasko_result_member_bool(created, "livemode", NULL) == KASKO_ERR_INVALID_ARGUMENT, "bool NULL out");

    /* The view of that id: the same payment; the JSON byte for byte what
     * kasko_payment_get returns for the same view. */
    kasko_result *viewed = NULL;
    status = kasko_payment_get_v2(client, payment_id, NULL, &viewed);
    CHECK(status == KASKO_OK, "get_v2 %s: %s", payment_id, kasko_status_name(status));
    check_result_shape(status, viewed, "get_v2", __LINE__);
    CHECK(viewed != NULL && kasko_result_http_status(viewed) == 200 && kasko_result_attempts(viewed) == 1,
          "view http_status/attempts");
    CHECK(kasko_result_member_string(viewed, "id", &value, NULL) == KASKO_OK && same_string(value, payment_id),
          "viewed id %s", or_null(value));
    char *v1 = NULL;
    kasko_status status1 = kasko_payment_get(client, payment_id, &v1);
    CHECK(status1 == KASKO_OK && v1 != NULL && viewed != NULL && strcmp(v1, kasko_result_json(viewed)) == 0,
          "kasko_result_json differs from kasko_payment_get:\n  1.0: %s\n  1.1: %s", or_null(v1),
          or_null(viewed ? kasko_result_json(viewed) : NULL));
    CHECK(viewed != NULL && strcmp(kasko_result_json(created), kasko_result_json(viewed)) == 0,
          "the created and the viewed full object differ");
    kasko_string_free(v1);
    kasko_result_free(viewed);

    /* The policy is paid now: a 400, with all accessors. */
    kasko_result *paid = NULL;
    status = kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &paid);
    CHECK(status == KASKO_ERR_BAD_REQUEST, "second create: %s", kasko_status_name(status));
    check_result_shape(status, paid, "second create", __LINE__);
    check_error(paid, KASKO_ERR_BAD_REQUEST, 400, KASKO_OUTCOME_REJECTED, 1, "second create", __LINE__);
    CHECK(paid != NULL && kasko_result_request_id(paid) != NULL, "400 without request id");
    kasko_result_free(paid);
    kasko_result_free(created);

    /* Restricted object: a client without the secret key. */
    kasko_client *public_only = client_for(base_url, 0, 0, 20000);
    struct offer other;
    new_offer(&other);
    kasko_result *restricted = NULL;
    status = kasko_payment_create_v2(public_only, other.token, "invoice", "invoice", other.policy_id, NULL,
                                     &restricted);
    CHECK(status == KASKO_OK, "restricted create: %s", kasko_status_name(status));
    check_result_shape(status, restricted, "restricted create", __LINE__);
    CHECK(kasko_result_member_type(restricted, "policy_id") == KASKO_JSON_NONE
              && kasko_result_member_type(restricted, "token") == KASKO_JSON_NONE
              && kasko_result_member_type(restricted, "_links") == KASKO_JSON_OBJECT
              && kasko_result_member_type(restricted, "id") == KASKO_JSON_STRING,
          "restricted shape: %s", or_null(restricted ? kasko_result_json(restricted) : NULL));
    const char *restricted_id = NULL;
    kasko_result *refused = NULL;
    if (kasko_result_member_string(restricted, "id", &restricted_id, NULL) == KASKO_OK) {
        status = kasko_payment_get_v2(public_only, restricted_id, NULL, &refused);
        CHECK(status == KASKO_ERR_UNAUTHORIZED, "view without secret: %s", kasko_status_name(status));
        check_result_shape(status, refused, "view without secret", __LINE__);
        check_error(refused, KASKO_ERR_UNAUTHORIZED, 401, KASKO_OUTCOME_REJECTED, 1, "view without secret", __LINE__);
    }
    kasko_result_free(refused);
    kasko_result_free(restricted);
    kasko_client_free(public_only);
    kasko_client_free(client);
}

/* ---- tests: error results against the sandbox -------------------------- */

static void test_error_accessors(void) {
    kasko_client *client = sandbox_client(0, 20000);

    /* 404: a view of an unknown id. */
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, "t00000000000000000000000000000000", NULL, &result);
    CHECK(status == KASKO_ERR_NOT_FOUND, "unknown id: %s", kasko_status_name(status));
    check_result_shape(status, result, "404", __LINE__);
    check_error(result, KASKO_ERR_NOT_FOUND, 404, KASKO_OUTCOME_REJECTED, 1, "404", __LINE__);
    CHECK(result != NULL && kasko_result_message(result) != NULL, "404 message");
    const char *request_id = result ? kasko_result_request_id(result) : NULL;
    CHECK(request_id != NULL && strncmp(request_id, "req_", 4) == 0 && strlen(request_id) == 28,
          "404 request_id %s", or_null(request_id));
    CHECK(result != NULL && kasko_result_retryable(result) == 0 && kasko_result_pending_payment_id(result) == NULL,
          "404 retryable/pending");
    const char *text = NULL;
    CHECK(kasko_result_member_string(result, "status", &text, NULL) == KASKO_OK && same_string(text, "Not Found"),
          "404 status text %s", or_null(text));
    struct {
        const char *name;
        kasko_json_type type;
    } members[] = {
        {"object", KASKO_JSON_STRING},  {"code", KASKO_JSON_STRING},     {"http_status", KASKO_JSON_NUMBER},
        {"status", KASKO_JSON_STRING},  {"message", KASKO_JSON_STRING},  {"pending_payment_id", KASKO_JSON_NULL},
        {"retryable", KASKO_JSON_BOOL}, {"outcome", KASKO_JSON_STRING},  {"attempts", KASKO_JSON_NUMBER},
        {"request_id", KASKO_JSON_STRING},
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        CHECK(kasko_result_member_type(result, members[i].name) == members[i].type, "404 member %s type %d",
              members[i].name, (int)kasko_result_member_type(result, members[i].name));
    }
    double real = 0;
    CHECK(kasko_result_member_double(result, "http_status", &real) == KASKO_OK && real == 404.0, "http_status double");
    int flag = 7;
    CHECK(kasko_result_member_bool(result, "http_status", &flag) == KASKO_ERR_INVALID_ARGUMENT && flag == 7,
          "bool of a number");
    int64_t number = 77;
    CHECK(kasko_result_member_int64(result, "retryable", &number) == KASKO_ERR_INVALID_ARGUMENT && number == 77,
          "int64 of a bool");
    CHECK(kasko_result_member_int64(result, "pending_payment_id", &number) == KASKO_ERR_INVALID_ARGUMENT
              && number == 77,
          "int64 of null");
    kasko_result_free(result);

    /* 422: a pending payment of the deferred provider blocks another. */
    struct offer offer;
    new_offer(&offer);
    kasko_result *first = NULL;
    status = kasko_payment_create_v2(client, offer.token, "deferred", "deferred", offer.policy_id, NULL, &first);
    CHECK(status == KASKO_OK, "deferred create: %s", kasko_status_name(status));
    check_result_shape(status, first, "deferred create", __LINE__);
    const char *first_id = NULL;
    CHECK(kasko_result_member_string(first, "id", &first_id, NULL) == KASKO_OK, "deferred id");
    CHECK(kasko_result_member_string(first, "status", &text, NULL) == KASKO_OK && same_string(text, "pending"),
          "deferred status %s", or_null(text));
    kasko_result *pending = NULL;
    status = kasko_payment_create_v2(client, offer.token, "deferred", "deferred", offer.policy_id, NULL, &pending);
    CHECK(status == KASKO_ERR_PENDING_PAYMENT, "pending: %s", kasko_status_name(status));
    check_result_shape(status, pending, "422", __LINE__);
    check_error(pending, KASKO_ERR_PENDING_PAYMENT, 422, KASKO_OUTCOME_REJECTED, 1, "422", __LINE__);
    const char *pending_id = pending ? kasko_result_pending_payment_id(pending) : NULL;
    CHECK(pending_id != NULL && same_string(pending_id, first_id), "pending_payment_id %s, first payment %s",
          or_null(pending_id), or_null(first_id));
    CHECK(pending != NULL && kasko_result_request_id(pending) != NULL, "422 request id");
    CHECK(pending != NULL && kasko_result_message(pending) != NULL && first_id != NULL
              && strstr(kasko_result_message(pending), first_id) != NULL,
          "422 message %s", or_null(pending ? kasko_result_message(pending) : NULL));
    if (first_id != NULL) {
        CHECK(sandbox_settle(base_url, first_id, "ok") == 200, "settle");
        kasko_result *settled = NULL;
        status = kasko_payment_get_v2(client, first_id, NULL, &settled);
        CHECK(status == KASKO_OK && kasko_result_member_string(settled, "status", &text, NULL) == KASKO_OK
                  && same_string(text, "ok"),
              "settled: %s", or_null(settled ? kasko_result_json(settled) : NULL));
        kasko_result_free(settled);
    }
    kasko_result_free(pending);
    kasko_result_free(first);

    /* A token with a quote and a backslash reaches the API as valid JSON
     * (the library escapes it): the sandbox answers the token is not valid
     * for the policy, not that the body is malformed. */
    struct offer quoted_offer;
    new_offer(&quoted_offer);
    const char *odd_tokens[] = {"ptok_\"quoted", "ptok_back\\slash", "ptok_\"},\"policy_id\":\"x", "ptok_\\u0041",
                                "ptok_\xc3\xa4\xe2\x82\xac"};
    for (size_t i = 0; i < sizeof odd_tokens / sizeof odd_tokens[0]; i++) {
        result = NULL;
        status = kasko_payment_create_v2(client, odd_tokens[i], "invoice", "invoice", quoted_offer.policy_id, NULL,
                                         &result);
        CHECK(status == KASKO_ERR_BAD_REQUEST, "token %s: %s %s", odd_tokens[i], kasko_status_name(status),
              or_null(result ? kasko_result_json(result) : NULL));
        check_result_shape(status, result, "odd token", __LINE__);
        check_error(result, KASKO_ERR_BAD_REQUEST, 400, KASKO_OUTCOME_REJECTED, 1, "odd token", __LINE__);
        const char *message = result ? kasko_result_message(result) : NULL;
        CHECK(message != NULL && strstr(message, "token is not valid for policy") != NULL
                  && strstr(message, "JSON") == NULL,
              "token %s: the sandbox did not get a valid body: %s", odd_tokens[i], or_null(message));
        kasko_result_free(result);
    }
    CHECK(sandbox_attempts(base_url, quoted_offer.policy_id) == (long)(sizeof odd_tokens / sizeof odd_tokens[0]),
          "the sandbox read the policy id of %ld of %zu bodies", sandbox_attempts(base_url, quoted_offer.policy_id),
          sizeof odd_tokens / sizeof odd_tokens[0]);
    /* ... and the offer is still unpaid: its real token still works. */
    result = NULL;
    status = kasko_payment_create_v2(client, quoted_offer.token, "invoice", "invoice", quoted_offer.policy_id, NULL,
                                     &result);
    CHECK(status == KASKO_OK, "the real token after the odd ones: %s", kasko_status_name(status));
    kasko_result_free(result);

    /* A foreign token: 400, and the token is not quoted back. */
    struct offer a, b;
    new_offer(&a);
    new_offer(&b);
    result = NULL;
    status = kasko_payment_create_v2(client, b.token, "invoice", "invoice", a.policy_id, NULL, &result);
    CHECK(status == KASKO_ERR_BAD_REQUEST, "foreign token: %s", kasko_status_name(status));
    CHECK(result != NULL && strstr(kasko_result_json(result), b.token) == NULL, "the token leaked: %s",
          or_null(result ? kasko_result_json(result) : NULL));
    kasko_result_free(result);

    /* 404 for an unknown provider. */
    result = NULL;
    status = kasko_payment_create_v2(client, a.token, "carrier-pigeon", "carrier-pigeon", a.policy_id, NULL, &result);
    CHECK(status == KASKO_ERR_NOT_FOUND, "unknown provider: %s", kasko_status_name(status));
    check_error(result, KASKO_ERR_NOT_FOUND, 404, KASKO_OUTCOME_REJECTED, 1, "unknown provider", __LINE__);
    kasko_result_free(result);
    kasko_client_free(client);

    /* Nothing listening: refused connections are provably not sent and
     * retried (max_retries 1: 2 attempts); no HTTP status, no request id. */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", unused_loopback_port());
    kasko_client *nowhere = client_for(url, 1, 1, 20000);
    result = NULL;
    status = kasko_payment_get_v2(nowhere, "tabc", NULL, &result);
    CHECK(status == KASKO_ERR_NETWORK, "nothing listening: %s", kasko_status_name(status));
    check_result_shape(status, result, "refused", __LINE__);
    check_error(result, KASKO_ERR_NETWORK, 0, KASKO_OUTCOME_NOT_SENT, 2, "refused", __LINE__);
    CHECK(result != NULL && kasko_result_retryable(result) == 1 && kasko_result_request_id(result) == NULL,
          "refused: retryable %d, request id %s", result ? kasko_result_retryable(result) : -1,
          or_null(result ? kasko_result_request_id(result) : NULL));
    kasko_result_free(result);
    result = NULL;
    status = kasko_payment_create_v2(nowhere, "ptok_x", "invoice", "invoice", "tpol_x", NULL, &result);
    CHECK(status == KASKO_ERR_NETWORK, "create, nothing listening: %s", kasko_status_name(status));
    check_error(result, KASKO_ERR_NETWORK, 0, KASKO_OUTCOME_NOT_SENT, 2, "refused create", __LINE__);
    kasko_result_free(result);
    kasko_client_free(nowhere);
}

/* ---- tests: against the recorder (bodies and headers we choose) -------- */

static void test_request_body_escaping(void) {
    kasko_client *client = client_for(recorder.url, 1, 0, 20000);
    recorder_reset(0);
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_create_v2(client, "tok\"en\\x\xc3\xa4/", "invoice", "invoice", "tpol_recorded",
                                                  NULL, &result);
    CHECK(status == KASKO_OK, "create at the recorder: %s %s", kasko_status_name(status),
          or_null(result ? kasko_result_json(result) : NULL));
    CHECK(recorder_count() == 1, "%d requests recorded", recorder_count());
    struct recorded_request request = recorder_request(0);
    CHECK(strcmp(request.method, "POST") == 0 && strncmp(request.target, "/payments", 9) == 0, "request line %s %s",
          request.method, request.target);
    CHECK(strstr(request.body, "\"token\":\"tok\\\"en\\\\x") != NULL, "token not escaped in body: %s", request.body);
    CHECK(strstr(request.body, "\"policy_id\":\"tpol_recorded\"") != NULL
              && strstr(request.body, "\"provider\":\"invoice\"") != NULL
              && strstr(request.body, "\"method\":\"invoice\"") != NULL,
          "body: %s", request.body);
    /* The 1.0 call with the equivalent JSON sends the same body. */
    recorder_reset(0);
    char *v1 = NULL;
    kasko_status status1 = kasko_payment_create(
        client,
        "{\"token\":\"tok\\\"en\\\\x\xc3\xa4/\",\"provider\":\"invoice\",\"method\":\"invoice\","
        "\"policy_id\":\"tpol_recorded\"}",
        &v1);
    struct recorded_request request1 = recorder_request(0);
    CHECK(status1 == KASKO_OK && strcmp(request1.body, request.body) == 0, "1.0 sent %s, 1.1 sent %s", request1.body,
          request.body);
    /* The success JSON: the body as the server sent it, the same as 1.0's. */
    CHECK(result != NULL && strcmp(kasko_result_json(result), created_body) == 0, "1.1 create JSON %s",
          or_null(result ? kasko_result_json(result) : NULL));
    CHECK(v1 != NULL && result != NULL && strcmp(v1, kasko_result_json(result)) == 0, "1.0 create JSON %s",
          or_null(v1));
    CHECK(same_string(result ? kasko_result_request_id(result) : NULL, RECORDER_REQUEST_ID), "request id %s",
          or_null(result ? kasko_result_request_id(result) : NULL));
    kasko_string_free(v1);
    kasko_result_free(result);

    /* 404 with a fixed request id: 1.0 and 1.1 error objects byte for byte. */
    result = NULL;
    status = kasko_payment_get_v2(client, "tnotfound1", NULL, &result);
    CHECK(status == KASKO_ERR_NOT_FOUND, "recorder 404: %s", kasko_status_name(status));
    check_error(result, KASKO_ERR_NOT_FOUND, 404, KASKO_OUTCOME_REJECTED, 1, "recorder 404", __LINE__);
    CHECK(same_string(result ? kasko_result_request_id(result) : NULL, RECORDER_REQUEST_ID), "404 request id");
    v1 = NULL;
    status1 = kasko_payment_get(client, "tnotfound1", &v1);
    CHECK(status1 == status && v1 != NULL && result != NULL && strcmp(v1, kasko_result_json(result)) == 0,
          "404 error objects differ:\n  1.0: %s\n  1.1: %s", or_null(v1),
          or_null(result ? kasko_result_json(result) : NULL));
    kasko_string_free(v1);
    kasko_result_free(result);

    /* A 503 to a create: outcome unknown, not retried, not retryable. */
    recorder_reset(1);
    result = NULL;
    status = kasko_payment_create_v2(client, "ptok_x", "invoice", "invoice", "tpol_x", NULL, &result);
    CHECK(status == KASKO_ERR_SERVER, "503 create: %s", kasko_status_name(status));
    check_result_shape(status, result, "503 create", __LINE__);
    check_error(result, KASKO_ERR_SERVER, 503, KASKO_OUTCOME_UNKNOWN, 1, "503 create", __LINE__);
    CHECK(result != NULL && kasko_result_retryable(result) == 0, "503 create retryable");
    CHECK(recorder_count() == 1, "503 create sent %d times", recorder_count());
    kasko_result_free(result);
    kasko_client_free(client);
}

static void test_member_edge_cases(void) {
    kasko_client *client = client_for(recorder.url, 1, 0, 20000);
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, "tedgecases", NULL, &result);
    CHECK(status == KASKO_OK, "edge-case payment: %s %s", kasko_status_name(status),
          or_null(result ? kasko_result_json(result) : NULL));
    check_result_shape(status, result, "edge cases", __LINE__);
    if (status != KASKO_OK) {
        kasko_result_free(result);
        kasko_client_free(client);
        return;
    }
    char expected_body[2048];
    snprintf(expected_body, sizeof expected_body, edge_body_format, "tedgecases");
    CHECK(strcmp(kasko_result_json(result), expected_body) == 0, "the JSON is not the body as sent: %s",
          kasko_result_json(result));

    struct {
        const char *name;
        kasko_json_type type;
    } types[] = {
        {"int", KASKO_JSON_NUMBER},    {"over", KASKO_JSON_NUMBER},  {"exp", KASKO_JSON_NUMBER},
        {"t", KASKO_JSON_BOOL},        {"f", KASKO_JSON_BOOL},       {"n", KASKO_JSON_NULL},
        {"esc", KASKO_JSON_STRING},    {"esc2", KASKO_JSON_STRING},  {"empty", KASKO_JSON_STRING},
        {"dup", KASKO_JSON_NONE},      {"arr", KASKO_JSON_ARRAY},    {"obj", KASKO_JSON_OBJECT},
        {"spaced", KASKO_JSON_STRING}, {"last", KASKO_JSON_STRING},  {"x", KASKO_JSON_NONE},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        CHECK(kasko_result_member_type(result, types[i].name) == types[i].type, "edge member %s: type %d, want %d",
              types[i].name, (int)kasko_result_member_type(result, types[i].name), (int)types[i].type);
    }

    /* Integers within int64, and what is not one. */
    struct {
        const char *name;
        int64_t value;
    } integers[] = {{"int", 42}, {"neg", -7}, {"max", INT64_MAX}, {"min", INT64_MIN}, {"negzero", 0}};
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++) {
        int64_t number = 77;
        kasko_status got = kasko_result_member_int64(result, integers[i].name, &number);
        CHECK(got == KASKO_OK && number == integers[i].value, "int64 %s: %s %" PRId64, integers[i].name,
              kasko_status_name(got), number);
    }
    const char *not_int64[] = {"over", "under", "frac", "exp", "t", "n", "esc", "arr", "obj"};
    for (size_t i = 0; i < sizeof not_int64 / sizeof not_int64[0]; i++) {
        int64_t number = 77;
        kasko_status got = kasko_result_member_int64(result, not_int64[i], &number);
        CHECK(got == KASKO_ERR_INVALID_ARGUMENT && number == 77, "int64 %s: %s %" PRId64, not_int64[i],
              kasko_status_name(got), number);
    }
    struct {
        const char *name;
        double value;
    } doubles[] = {{"int", 42.0}, {"frac", 2.5}, {"exp", 100.0}, {"over", 9223372036854775808.0},
                   {"under", -9223372036854775808.0}, {"max", 9223372036854775807.0}};
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        double real = 7.5;
        kasko_status got = kasko_result_member_double(result, doubles[i].name, &real);
        CHECK(got == KASKO_OK && real == doubles[i].value, "double %s: %s %.17g", doubles[i].name,
              kasko_status_name(got), real);
    }
    int flag = 7;
    CHECK(kasko_result_member_bool(result, "t", &flag) == KASKO_OK && flag == 1, "bool t: %d", flag);
    flag = 7;
    CHECK(kasko_result_member_bool(result, "f", &flag) == KASKO_OK && flag == 0, "bool f: %d", flag);
    flag = 7;
    CHECK(kasko_result_member_bool(result, "n", &flag) == KASKO_ERR_INVALID_ARGUMENT && flag == 7, "bool n");
    flag = 7;
    CHECK(kasko_result_member_bool(result, "int", &flag) == KASKO_ERR_INVALID_ARGUMENT && flag == 7, "bool int");

    /* Strings come unescaped; a \u0000 makes the C string shorter than
     * *out_length says. */
    const char *value = NULL;
    size_t length = 0;
    static const char esc[] = "a\"b\\c\xc3\xa9\n\0z";
    kasko_status got = kasko_result_member_string(result, "esc", &value, &length);
    CHECK(got == KASKO_OK && value != NULL && length == sizeof esc - 1 && memcmp(value, esc, length) == 0
              && value[length] == '\0',
          "esc: %s length %zu", kasko_status_name(got), length);
    CHECK(value != NULL && strlen(value) == 8, "esc as a C string: %zu bytes", value ? strlen(value) : 0);
    CHECK(kasko_result_member_string(result, "utf", &value, &length) == KASKO_OK
              && same_string(value, "\xc3\xa4\xe2\x82\xac") && length == 5,
          "utf %s", or_null(value));
    CHECK(kasko_result_member_string(result, "sur", &value, &length) == KASKO_OK
              && same_string(value, "\xf0\x9f\x98\x80") && length == 4,
          "surrogate pair %s", or_null(value));
    CHECK(kasko_result_member_string(result, "esc2", &value, NULL) == KASKO_OK && same_string(value, "named"),
          "escaped member name: %s", or_null(value));
    CHECK(kasko_result_member_string(result, "empty", &value, &length) == KASKO_OK && same_string(value, "")
              && length == 0,
          "empty string");
    CHECK(kasko_result_member_string(result, "spaced", &value, NULL) == KASKO_OK && same_string(value, "yes"),
          "spaced %s", or_null(value));
    CHECK(kasko_result_member_string(result, "last", &value, NULL) == KASKO_OK && same_string(value, "end"),
          "last %s", or_null(value));
    /* Only top-level members: the nested "id" and "object" do not count. */
    CHECK(kasko_result_member_string(result, "id", &value, NULL) == KASKO_OK && same_string(value, "tedgecases"),
          "id %s", or_null(value));
    CHECK(kasko_result_member_string(result, "object", &value, NULL) == KASKO_OK && same_string(value, "payment"),
          "object %s", or_null(value));

    /* JSON text. */
    const char *json = NULL;
    CHECK(kasko_result_member_json(result, "obj", &json, &length) == KASKO_OK
              && same_string(json, "{\"dup\":3,\"id\":\"inner\",\"object\":\"x\"}") && length == strlen(json),
          "obj as JSON %s", or_null(json));
    CHECK(kasko_result_member_json(result, "arr", &json, NULL) == KASKO_OK && same_string(json, "[1,{\"x\":2}]"),
          "arr as JSON %s", or_null(json));
    CHECK(kasko_result_member_json(result, "t", &json, NULL) == KASKO_OK && same_string(json, "true"), "t as JSON %s",
          or_null(json));
    CHECK(kasko_result_member_json(result, "n", &json, NULL) == KASKO_OK && same_string(json, "null"), "n as JSON %s",
          or_null(json));
    struct {
        const char *name, *text;
    } numbers_as_sent[] = {{"frac", "2.5"}, {"exp", "1e2"}, {"negzero", "-0"}, {"max", "9223372036854775807"},
                           {"over", "9223372036854775808"}, {"neg", "-7"}};
    for (size_t i = 0; i < sizeof numbers_as_sent / sizeof numbers_as_sent[0]; i++) {
        CHECK(kasko_result_member_json(result, numbers_as_sent[i].name, &json, NULL) == KASKO_OK
                  && same_string(json, numbers_as_sent[i].text),
              "%s as JSON %s, sent as %s", numbers_as_sent[i].name, or_null(json), numbers_as_sent[i].text);
    }
    CHECK(kasko_result_member_json(result, "esc", &json, NULL) == KASKO_OK && json != NULL && json[0] == '"',
          "esc as JSON %s", or_null(json));
    CHECK(kasko_result_member_json(result, "spaced", &json, NULL) == KASKO_OK && same_string(json, "\"yes\""),
          "spaced as JSON %s", or_null(json));

    /* A duplicated name is ambiguous: NONE, and INVALID_RESPONSE from
     * every accessor, outputs untouched. */
    const char *sentinel = "sentinel";
    int64_t number = 77;
    double real = 7.5;
    value = sentinel;
    length = 999;
    CHECK(kasko_result_member_int64(result, "dup", &number) == KASKO_ERR_INVALID_RESPONSE && number == 77,
          "int64 dup: %s", kasko_status_name(kasko_result_member_int64(result, "dup", &number)));
    CHECK(kasko_result_member_double(result, "dup", &real) == KASKO_ERR_INVALID_RESPONSE && real == 7.5,
          "double dup");
    CHECK(kasko_result_member_json(result, "dup", &value, &length) == KASKO_ERR_INVALID_RESPONSE && value == sentinel
              && length == 999,
          "json dup");
    CHECK(kasko_result_member_string(result, "dup", &value, &length) == KASKO_ERR_INVALID_RESPONSE
              && value == sentinel && length == 999,
          "string dup: %s", kasko_status_name(kasko_result_member_string(result, "dup", &value, &length)));
    flag = 7;
    CHECK(kasko_result_member_bool(result, "dup", &flag) == KASKO_ERR_INVALID_RESPONSE && flag == 7, "bool dup");
    kasko_result_free(result);

    /* Numbers beyond double's range: type NUMBER, double refused when not
     * finite; an underflow is a finite 0. */
    result = NULL;
    status = kasko_payment_get_v2(client, "thuge", NULL, &result);
    CHECK(status == KASKO_OK, "payment with 1e400 in it: %s %s", kasko_status_name(status),
          or_null(result ? kasko_result_message(result) : NULL));
    if (status == KASKO_OK) {
        CHECK(kasko_result_member_type(result, "big") == KASKO_JSON_NUMBER, "1e400 type");
        real = 7.5;
        CHECK(kasko_result_member_double(result, "big", &real) == KASKO_ERR_INVALID_ARGUMENT && real == 7.5,
              "1e400 as double: %g", real);
        real = 7.5;
        CHECK(kasko_result_member_double(result, "small", &real) == KASKO_ERR_INVALID_ARGUMENT && real == 7.5,
              "-1e400 as double: %g", real);
        number = 77;
        CHECK(kasko_result_member_int64(result, "big", &number) == KASKO_ERR_INVALID_ARGUMENT && number == 77,
              "1e400 as int64");
        real = 7.5;
        CHECK(kasko_result_member_double(result, "tiny", &real) == KASKO_OK && real < 1e-300 && real > -1e-300,
              "1e-400 as double: %s %g", kasko_status_name(kasko_result_member_double(result, "tiny", &real)), real);
    }
    kasko_result_free(result);
    kasko_client_free(client);
}

/* traceparent / tracestate headers, on every attempt; invalid values. */
static void test_trace_headers(void) {
    kasko_client *client = client_for(recorder.url, 1, 1, 20000);
    kasko_call_options *options = kasko_call_options_new();
    CHECK(options != NULL, "kasko_call_options_new");
    if (options == NULL) {
        kasko_client_free(client);
        return;
    }
    char value[1024];

    /* No options, default options: no trace headers. */
    recorder_reset(0);
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, "tplain", NULL, &result);
    CHECK(status == KASKO_OK, "recorder view: %s %s", kasko_status_name(status),
          or_null(result ? kasko_result_json(result) : NULL));
    kasko_result_free(result);
    result = NULL;
    status = kasko_payment_get_v2(client, "tplain", options, &result);
    CHECK(status == KASKO_OK, "view with empty options: %s", kasko_status_name(status));
    kasko_result_free(result);
    for (int i = 0; i < 2; i++) {
        struct recorded_request request = recorder_request(i);
        CHECK(header_value(request.head, "traceparent", value, sizeof value) == 0
                  && header_value(request.head, "tracestate", value, sizeof value) == 0,
              "request %d without trace options has trace headers:\n%s", i, request.head);
        CHECK(header_value(request.head, "Authorization", value, sizeof value) == 1, "request %d: no Authorization",
              i);
    }

    /* Both set: sent on a view, on its retry after a 503, and on a create. */
    CHECK(kasko_call_options_set_traceparent(options, TRACEPARENT) == KASKO_OK, "set traceparent");
    CHECK(kasko_call_options_set_tracestate(options, TRACESTATE) == KASKO_OK, "set tracestate");
    recorder_reset(1);
    result = NULL;
    status = kasko_payment_get_v2(client, "ttraced", options, &result);
    CHECK(status == KASKO_OK, "traced view after a 503: %s", kasko_status_name(status));
    CHECK(result != NULL && kasko_result_attempts(result) == 2, "attempts %d", result ? kasko_result_attempts(result) : -1);
    kasko_result_free(result);
    result = NULL;
    status = kasko_payment_create_v2(client, "ptok_traced", "invoice", "invoice", "tpol_traced", options, &result);
    CHECK(status == KASKO_OK, "traced create: %s", kasko_status_name(status));
    kasko_result_free(result);
    CHECK(recorder_count() == 3, "%d requests recorded, want 3", recorder_count());
    for (int i = 0; i < 3; i++) {
        struct recorded_request request = recorder_request(i);
        CHECK(header_value(request.head, "traceparent", value, sizeof value) == 1 && strcmp(value, TRACEPARENT) == 0,
              "request %d (%s %s): traceparent '%s'", i, request.method, request.target, value);
        CHECK(header_value(request.head, "tracestate", value, sizeof value) == 1 && strcmp(value, TRACESTATE) == 0,
              "request %d (%s %s): tracestate '%s'", i, request.method, request.target, value);
    }

    /* NULL clears. */
    CHECK(kasko_call_options_set_tracestate(options, NULL) == KASKO_OK, "clear tracestate");
    recorder_reset(0);
    result = NULL;
    status = kasko_payment_get_v2(client, "ttraced", options, &result);
    CHECK(status == KASKO_OK, "view, tracestate cleared: %s", kasko_status_name(status));
    kasko_result_free(result);
    struct recorded_request request = recorder_request(0);
    CHECK(header_value(request.head, "traceparent", value, sizeof value) == 1
              && header_value(request.head, "tracestate", value, sizeof value) == 0,
          "tracestate cleared, traceparent kept:\n%s", request.head);
    CHECK(kasko_call_options_set_traceparent(options, NULL) == KASKO_OK, "clear traceparent");

    /* Invalid traceparents: the setter says so, the call is refused with a
     * message naming traceparent, and nothing is sent. */
    const char *bad_traceparents[] = {
        "",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", /* upper case */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", /* zero parent id */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", /* version ff */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  /* short trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",  /* short parent id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  /* short flags */
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", /* separators */
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", /* not hex */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Evil: 1",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    recorder_reset(0);
    for (size_t i = 0; i < sizeof bad_traceparents / sizeof bad_traceparents[0]; i++) {
        status = kasko_call_options_set_traceparent(options, bad_traceparents[i]);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "set_traceparent('%s'): %s", bad_traceparents[i],
              kasko_status_name(status));
        result = NULL;
        status = kasko_payment_get_v2(client, "tnotsent", options, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "view with traceparent '%s': %s", bad_traceparents[i],
              kasko_status_name(status));
        check_result_shape(status, result, "bad traceparent", __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "bad traceparent", __LINE__);
        const char *message = result ? kasko_result_message(result) : NULL;
        CHECK(message != NULL && strstr(message, "traceparent") != NULL, "message for traceparent '%s': %s",
              bad_traceparents[i], or_null(message));
        kasko_result_free(result);
        result = NULL;
        status = kasko_payment_create_v2(client, "ptok_x", "invoice", "invoice", "tpol_x", options, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT && result != NULL && kasko_result_attempts(result) == 0,
              "create with traceparent '%s': %s", bad_traceparents[i], kasko_status_name(status));
        kasko_result_free(result);
    }
    /* Setting the other option does not clear the remembered error. */
    CHECK(kasko_call_options_set_tracestate(options, TRACESTATE) == KASKO_OK, "tracestate after a bad traceparent");
    CHECK(kasko_call_options_set_timeout_ms(options, 5000) == KASKO_OK, "timeout after a bad traceparent");
    result = NULL;
    status = kasko_payment_get_v2(client, "tnotsent", options, &result);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT && result != NULL && kasko_result_message(result) != NULL
              && strstr(kasko_result_message(result), "traceparent") != NULL,
          "other setters cleared the traceparent error: %s", kasko_status_name(status));
    kasko_result_free(result);
    CHECK(recorder_count() == 0, "a call with an invalid traceparent sent %d requests", recorder_count());

    /* Set again to a valid value: calls work and send it. */
    CHECK(kasko_call_options_set_traceparent(options, TRACEPARENT) == KASKO_OK, "valid traceparent again");
    result = NULL;
    status = kasko_payment_get_v2(client, "tvalidagain", options, &result);
    CHECK(status == KASKO_OK, "after a valid traceparent: %s %s", kasko_status_name(status),
          or_null(result ? kasko_result_message(result) : NULL));
    kasko_result_free(result);
    request = recorder_request(0);
    CHECK(recorder_count() == 1 && header_value(request.head, "traceparent", value, sizeof value) == 1
              && strcmp(value, TRACEPARENT) == 0,
          "traceparent after a valid set: '%s'", value);

    /* NULL is a valid value too: it clears the error and the header. */
    CHECK(kasko_call_options_set_traceparent(options, "garbage") == KASKO_ERR_INVALID_ARGUMENT, "garbage");
    CHECK(kasko_call_options_set_traceparent(options, NULL) == KASKO_OK, "NULL after garbage");
    CHECK(kasko_call_options_set_tracestate(options, NULL) == KASKO_OK, "NULL tracestate");
    recorder_reset(0);
    result = NULL;
    status = kasko_payment_get_v2(client, "tcleared", options, &result);
    CHECK(status == KASKO_OK, "after NULL: %s %s", kasko_status_name(status),
          or_null(result ? kasko_result_message(result) : NULL));
    kasko_result_free(result);
    request = recorder_request(0);
    CHECK(header_value(request.head, "traceparent", value, sizeof value) == 0, "traceparent after NULL: %s", value);

    /* tracestate: printable ASCII, at most 512 bytes, at most 32 members,
     * each value at most 256 characters (W3C). */
    char longest[513];
    memset(longest, 'v', 512);
    longest[0] = 'a';
    longest[1] = '=';
    longest[256] = ',';
    longest[257] = 'b';
    longest[258] = '=';
    longest[512] = '\0';
    char long_value[260];
    memset(long_value, 'v', 259);
    long_value[0] = 'k';
    long_value[1] = '=';
    long_value[259] = '\0'; /* a value of 257 characters */
    char too_long[514];
    memset(too_long, 'a', 513);
    too_long[1] = '=';
    too_long[513] = '\0';
    char members32[512] = "", members33[512] = "";
    for (int i = 0; i < 33; i++) {
        char member[16];
        snprintf(member, sizeof member, "%sk%d=v", i ? "," : "", i);
        if (i < 32) strcat(members32, member);
        strcat(members33, member);
    }
    CHECK(kasko_call_options_set_traceparent(options, TRACEPARENT) == KASKO_OK, "traceparent for tracestate");
    const char *good_states[] = {longest, members32, "a=b"};
    for (size_t i = 0; i < sizeof good_states / sizeof good_states[0]; i++) {
        CHECK(kasko_call_options_set_tracestate(options, good_states[i]) == KASKO_OK, "tracestate '%.40s...' refused",
              good_states[i]);
        recorder_reset(0);
        result = NULL;
        status = kasko_payment_get_v2(client, "tstate", options, &result);
        CHECK(status == KASKO_OK, "view with tracestate '%.40s...': %s", good_states[i], kasko_status_name(status));
        kasko_result_free(result);
        request = recorder_request(0);
        CHECK(header_value(request.head, "tracestate", value, sizeof value) == 1 && strcmp(value, good_states[i]) == 0,
              "tracestate sent '%.40s...', want '%.40s...'", value, good_states[i]);
    }
    const char *bad_states[] = {too_long, members33, long_value, "a=b\x01", "a=b\r\nX-Evil: 1", "a=\xc3\xa4", "a=b\x7f"};
    recorder_reset(0);
    for (size_t i = 0; i < sizeof bad_states / sizeof bad_states[0]; i++) {
        status = kasko_call_options_set_tracestate(options, bad_states[i]);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "set_tracestate(bad %zu): %s", i, kasko_status_name(status));
        result = NULL;
        status = kasko_payment_get_v2(client, "tnotsent", options, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "view with bad tracestate %zu: %s", i, kasko_status_name(status));
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "bad tracestate", __LINE__);
        const char *message = result ? kasko_result_message(result) : NULL;
        CHECK(message != NULL && strstr(message, "tracestate") != NULL, "message for bad tracestate %zu: %s", i,
              or_null(message));
        kasko_result_free(result);
    }
    CHECK(recorder_count() == 0, "a call with an invalid tracestate sent %d requests", recorder_count());
    kasko_call_options_free(options);
    kasko_client_free(client);
}

/* ---- tests: per-call timeout against the sandbox's delay faults -------- */

static void existing_payment(kasko_client *client, char *id, size_t size) {
    struct offer offer;
    new_offer(&offer);
    kasko_result *result = NULL;
    const char *value = NULL;
    if (kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &result) != KASKO_OK
        || kasko_result_member_string(result, "id", &value, NULL) != KASKO_OK) {
        fprintf(stderr, "cannot create a payment: %s\n", or_null(result ? kasko_result_json(result) : NULL));
        exit(2);
    }
    snprintf(id, size, "%s", value);
    kasko_result_free(result);
}

static void arm_delay(const char *key, int delay_ms) {
    char fault[64];
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", delay_ms);
    long status = sandbox_arm_fault(base_url, key, fault, 1);
    CHECK(status == 201, "arming %s on %s: HTTP %ld (is the sandbox running with --faults?)", fault, key, status);
}

static void test_timeouts(void) {
    kasko_client *client = sandbox_client(0, 20000);
    char id[129];
    existing_payment(client, id, sizeof id);
    kasko_call_options *options = kasko_call_options_new();
    CHECK(options != NULL, "options");
    if (options == NULL) {
        kasko_client_free(client);
        return;
    }

    /* 300 ms per call, the client's 20 s notwithstanding. */
    CHECK(kasko_call_options_set_timeout_ms(options, 300) == KASKO_OK, "set_timeout_ms 300");
    arm_delay(id, 3000);
    double start = now_seconds();
    kasko_result *result = NULL;
    kasko_status status = kasko_payment_get_v2(client, id, options, &result);
    double elapsed = now_seconds() - start;
    CHECK(status == KASKO_ERR_NETWORK, "view of a 3 s answer with a 300 ms timeout: %s", kasko_status_name(status));
    check_result_shape(status, result, "timed out", __LINE__);
    check_error(result, KASKO_ERR_NETWORK, 0, KASKO_OUTCOME_UNKNOWN, 1, "timed out", __LINE__);
    CHECK(elapsed >= 0.25 && elapsed < 2.5, "timed out after %.2f s, want about 0.3 s", elapsed);
    CHECK(result != NULL && kasko_result_message(result) != NULL
              && strstr(kasko_result_message(result), "timed out") != NULL,
          "timeout message: %s", or_null(result ? kasko_result_message(result) : NULL));
    CHECK(result != NULL && kasko_result_retryable(result) == 1, "a timed-out view is retryable");
    CHECK(sandbox_attempts(base_url, id) == 1, "%ld attempts at the sandbox (max_retries 0)",
          sandbox_attempts(base_url, id));
    kasko_result_free(result);

    /* 0: the client's timeout (20 s) again; a 1 s answer succeeds. */
    CHECK(kasko_call_options_set_timeout_ms(options, 0) == KASKO_OK, "set_timeout_ms 0");
    arm_delay(id, 1000);
    start = now_seconds();
    result = NULL;
    status = kasko_payment_get_v2(client, id, options, &result);
    elapsed = now_seconds() - start;
    CHECK(status == KASKO_OK && elapsed >= 0.95, "timeout 0 = the client's: %s after %.2f s",
          kasko_status_name(status), elapsed);
    kasko_result_free(result);
    kasko_client_free(client);

    /* Longer than the client's: a 300 ms client, 10 s for this call. */
    kasko_client *impatient = sandbox_client(0, 300);
    CHECK(kasko_call_options_set_timeout_ms(options, 10000) == KASKO_OK, "set_timeout_ms 10000");
    arm_delay(id, 1000);
    result = NULL;
    status = kasko_payment_get_v2(impatient, id, options, &result);
    CHECK(status == KASKO_OK, "10 s per call on a 300 ms client: %s %s", kasko_status_name(status),
          or_null(result ? kasko_result_message(result) : NULL));
    kasko_result_free(result);
    /* Without options the client's 300 ms apply: the option was per call. */
    arm_delay(id, 1000);
    result = NULL;
    status = kasko_payment_get_v2(impatient, id, NULL, &result);
    CHECK(status == KASKO_ERR_NETWORK, "no options on a 300 ms client: %s", kasko_status_name(status));
    kasko_result_free(result);

    /* Out of range: refused, remembered, nothing sent. */
    long before = sandbox_attempts(base_url, id);
    long bad_timeouts[] = {-1, -1000, 3600001, 100000000L};
    for (size_t i = 0; i < sizeof bad_timeouts / sizeof bad_timeouts[0]; i++) {
        status = kasko_call_options_set_timeout_ms(options, bad_timeouts[i]);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "set_timeout_ms(%ld): %s", bad_timeouts[i],
              kasko_status_name(status));
        result = NULL;
        status = kasko_payment_get_v2(impatient, id, options, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "view with timeout %ld: %s", bad_timeouts[i],
              kasko_status_name(status));
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "bad timeout", __LINE__);
        const char *message = result ? kasko_result_message(result) : NULL;
        CHECK(message != NULL && strstr(message, "timeout_ms") != NULL, "message for timeout %ld: %s",
              bad_timeouts[i], or_null(message));
        kasko_result_free(result);
    }
    CHECK(sandbox_attempts(base_url, id) == before, "a call with a bad timeout reached the sandbox");
    CHECK(kasko_call_options_set_timeout_ms(options, 1) == KASKO_OK, "timeout 1");
    CHECK(kasko_call_options_set_timeout_ms(options, 3600000) == KASKO_OK, "timeout 3600000");
    result = NULL;
    status = kasko_payment_get_v2(impatient, id, options, &result);
    CHECK(status == KASKO_OK, "after a valid timeout: %s", kasko_status_name(status));
    kasko_result_free(result);
    kasko_call_options_free(options);
    kasko_client_free(impatient);
}

/* ---- kasko_result_new_error --------------------------------------------- */

static void test_new_error(void) {
    /* The shape of the library's own INVALID_ARGUMENT error. */
    kasko_client *client = sandbox_client(0, 20000);
    kasko_result *own = NULL;
    kasko_status status = kasko_payment_get_v2(client, "bad id", NULL, &own);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "own error");
    kasko_client_free(client);

    const char *message = "token contains a NUL byte, \"quoted\" \\ and\na newline";
    kasko_status statuses[] = {KASKO_ERR_INVALID_ARGUMENT, KASKO_ERR_NETWORK, KASKO_ERR_INTERNAL,
                               KASKO_ERR_PENDING_PAYMENT};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        kasko_result *result = NULL;
        status = kasko_result_new_error(statuses[i], message, &result);
        CHECK(status == statuses[i], "new_error(%s) returned %s", kasko_status_name(statuses[i]),
              kasko_status_name(status));
        check_result_shape(status, result, "new_error", __LINE__);
        check_error(result, statuses[i], 0, KASKO_OUTCOME_NOT_SENT, 0, "new_error", __LINE__);
        CHECK(result != NULL && same_string(kasko_result_message(result), message), "new_error message %s",
              or_null(result ? kasko_result_message(result) : NULL));
        CHECK(result != NULL && kasko_result_retryable(result) == 0 && kasko_result_request_id(result) == NULL
                  && kasko_result_pending_payment_id(result) == NULL,
              "new_error retryable/request id/pending id");
        const char *names[] = {"object", "code", "http_status", "status", "message", "pending_payment_id",
                               "retryable", "outcome", "attempts", "request_id"};
        for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
            CHECK(kasko_result_member_type(result, names[n]) == kasko_result_member_type(own, names[n]),
                  "new_error member %s: type %d, the library's own error has %d", names[n],
                  (int)kasko_result_member_type(result, names[n]), (int)kasko_result_member_type(own, names[n]));
        }
        kasko_result_free(result);
    }
    /* KASKO_OK is not an error. */
    kasko_result *result = NULL;
    status = kasko_result_new_error(KASKO_OK, "fine", &result);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "new_error(KASKO_OK) returned %s", kasko_status_name(status));
    check_result_shape(status, result, "new_error OK", __LINE__);
    check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "new_error OK", __LINE__);
    kasko_result_free(result);
    /* An unknown status, a NULL, invalid UTF-8 or over-long message: the
     * result says which argument was wrong. */
    static char long_message[64 * 1024 + 2];
    memset(long_message, 'm', sizeof long_message - 1);
    struct {
        const char *what;
        kasko_status status;
        const char *message;
        const char *named;
    } refused[] = {
        /* One past the last status: not an error status (yet). */
        {"one past the last status", (kasko_status)(KASKO_ERR_CANCELLED + 1), "x", "status"},
        {"status -1", (kasko_status)-1, "x", "status"},
        {"NULL message", KASKO_ERR_NETWORK, NULL, "message"},
        {"invalid UTF-8", KASKO_ERR_NETWORK, "bad \xff byte", "message"},
        {"over 64 KiB", KASKO_ERR_NETWORK, long_message, "message"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        result = NULL;
        status = kasko_result_new_error(refused[i].status, refused[i].message, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "new_error(%s): %s", refused[i].what, kasko_status_name(status));
        check_result_shape(status, result, refused[i].what, __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, refused[i].what, __LINE__);
        const char *said = result ? kasko_result_message(result) : NULL;
        CHECK(said != NULL && strstr(said, refused[i].named) != NULL, "new_error(%s): message %s", refused[i].what,
              or_null(said));
        kasko_result_free(result);
    }
    /* Exactly 64 KiB is still a message. */
    long_message[64 * 1024] = '\0';
    result = NULL;
    status = kasko_result_new_error(KASKO_ERR_NETWORK, long_message, &result);
    CHECK(status == KASKO_ERR_NETWORK && result != NULL && same_string(kasko_result_message(result), long_message),
          "new_error with a 64 KiB message: %s", kasko_status_name(status));
    kasko_result_free(result);
    /* out_result NULL. */
    status = kasko_result_new_error(KASKO_ERR_NETWORK, "x", NULL);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "new_error with out_result NULL: %s", kasko_status_name(status));
    kasko_result_free(own);
}

/* ---- kasko_client_new_v2 ------------------------------------------------- */

/* A pointer no call may leave in place: each out parameter starts as this. */
static int not_a_handle;
#define STALE_CLIENT ((kasko_client *)(void *)&not_a_handle)
#define STALE_RESULT ((kasko_result *)(void *)&not_a_handle)

static void test_client_new_v2(void) {
    char config[1024];
    snprintf(config, sizeof config, "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":0}",
             public_key, secret_key, base_url);

    /* Success: *out_result NULL, and a client that works. */
    kasko_client *client = STALE_CLIENT;
    kasko_result *result = STALE_RESULT;
    kasko_status status = kasko_client_new_v2(config, &client, &result);
    CHECK(status == KASKO_OK, "client_new_v2: %s %s", kasko_status_name(status),
          result != NULL && result != STALE_RESULT ? or_null(kasko_result_message(result)) : "");
    CHECK(result == NULL, "client_new_v2 success: *out_result is %p, want NULL", (void *)result);
    CHECK(client != NULL && client != STALE_CLIENT, "client_new_v2 success: no client");
    if (status == KASKO_OK && client != NULL && client != STALE_CLIENT) {
        struct offer offer;
        new_offer(&offer);
        kasko_result *created = NULL;
        status = kasko_payment_create_v2(client, offer.token, "invoice", "invoice", offer.policy_id, NULL, &created);
        check_result_shape(status, created, "create on a v2 client", __LINE__);
        const char *id = NULL;
        CHECK(status == KASKO_OK && kasko_result_member_string(created, "id", &id, NULL) == KASKO_OK,
              "create on a v2 client: %s %s", kasko_status_name(status),
              or_null(created ? kasko_result_json(created) : NULL));
        if (id != NULL) {
            kasko_result *viewed = NULL;
            status = kasko_payment_get_v2(client, id, NULL, &viewed);
            check_result_shape(status, viewed, "view on a v2 client", __LINE__);
            const char *same = NULL;
            CHECK(status == KASKO_OK && kasko_result_member_string(viewed, "id", &same, NULL) == KASKO_OK
                      && same_string(same, id),
                  "view on a v2 client: %s", kasko_status_name(status));
            kasko_result_free(viewed);
        }
        kasko_result_free(created);
        kasko_client_free(client);
    }
    /* Success with out_result NULL: allowed; the client is wired to the sandbox. */
    client = STALE_CLIENT;
    status = kasko_client_new_v2(config, &client, NULL);
    CHECK(status == KASKO_OK && client != NULL && client != STALE_CLIENT, "client_new_v2(out_result NULL): %s",
          kasko_status_name(status));
    if (status == KASKO_OK && client != STALE_CLIENT) {
        result = NULL;
        status = kasko_payment_get_v2(client, "t00000000000000000000000000000000", NULL, &result);
        CHECK(status == KASKO_ERR_NOT_FOUND && result != NULL && kasko_result_http_status(result) == 404,
              "a view of an unknown payment: %s", kasko_status_name(status));
        kasko_result_free(result);
        kasko_client_free(client);
    }

    /* Refusals: the result is the error, as the 1.0 constructor's error
     * object says it, byte for byte; nothing was made. */
    char typo[256], space[256], control[256], mixed[256], remote[256], missing[256], retries[256];
    snprintf(typo, sizeof typo, "{\"public_key\":\"%s\",\"typo\":1}", public_key);
    snprintf(space, sizeof space, "{\"public_key\":\"pk_test_has space\"}");
    snprintf(control, sizeof control, "{\"public_key\":\"%s\",\"secret_key\":\"sk_test_\\u0001verysecretvalue\"}",
             public_key);
    snprintf(mixed, sizeof mixed, "{\"public_key\":\"%s\",\"secret_key\":\"sk_live_verysecretvalue\"}", public_key);
    snprintf(remote, sizeof remote, "{\"public_key\":\"%s\",\"base_url\":\"http://example.com\"}", public_key);
    snprintf(missing, sizeof missing, "{\"secret_key\":\"%s\"}", secret_key);
    snprintf(retries, sizeof retries, "{\"public_key\":\"%s\",\"max_retries\":11}", public_key);
    struct {
        const char *what;
        const char *config;
        const char *named;
    } refused[] = {
        {"unknown key", typo, "\"typo\""},
        {"public key with a space", space, "public_key"},
        {"secret key with a control character", control, "secret_key"},
        {"test and live keys", mixed, "live"},
        {"plain http to another host", remote, "base_url"},
        {"no public key", missing, "public_key"},
        {"max_retries out of range", retries, "max_retries"},
        {"not JSON", "not json", "JSON"},
        {"not an object", "[]", "object"},
        {"NULL config_json", NULL, "config_json"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        client = STALE_CLIENT;
        result = STALE_RESULT;
        status = kasko_client_new_v2(refused[i].config, &client, &result);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "client_new_v2(%s): %s", refused[i].what,
              kasko_status_name(status));
        CHECK(client == NULL, "client_new_v2(%s): *out_client is %p, want NULL", refused[i].what, (void *)client);
        CHECK(result != NULL && result != STALE_RESULT, "client_new_v2(%s): no result", refused[i].what);
        if (result == NULL || result == STALE_RESULT) continue;
        check_result_shape(status, result, refused[i].what, __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, refused[i].what, __LINE__);
        CHECK(kasko_result_attempts(result) == 0 && kasko_result_retryable(result) == 0
                  && kasko_result_request_id(result) == NULL && kasko_result_pending_payment_id(result) == NULL,
              "client_new_v2(%s): attempts %d retryable %d", refused[i].what, kasko_result_attempts(result),
              kasko_result_retryable(result));
        const char *message = kasko_result_message(result);
        CHECK(message != NULL && strstr(message, refused[i].named) != NULL, "client_new_v2(%s): message %s",
              refused[i].what, or_null(message));
        const char *json = kasko_result_json(result);
        CHECK(json != NULL && strstr(json, "verysecretvalue") == NULL && strstr(json, secret_key) == NULL,
              "client_new_v2(%s): a key is quoted: %s", refused[i].what, or_null(json));
        /* The 1.0 constructor says the same, in the same words. */
        kasko_client *old_client = STALE_CLIENT;
        char *old_json = NULL;
        kasko_status old_status = kasko_client_new(refused[i].config, &old_client, &old_json);
        CHECK(old_status == status && old_client == NULL, "client_new(%s): %s", refused[i].what,
              kasko_status_name(old_status));
        CHECK(same_string(old_json, json), "client_new(%s) and _v2 disagree:\n  1.0: %s\n  1.1: %s", refused[i].what,
              or_null(old_json), or_null(json));
        kasko_string_free(old_json);
        kasko_result_free(result);

        /* out_result NULL is allowed on a refusal too: the status says it. */
        client = STALE_CLIENT;
        status = kasko_client_new_v2(refused[i].config, &client, NULL);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT && client == NULL, "client_new_v2(%s, out_result NULL): %s %p",
              refused[i].what, kasko_status_name(status), (void *)client);
    }
    /* NULL out_client: refused, with a result that says so. */
    result = STALE_RESULT;
    status = kasko_client_new_v2(config, NULL, &result);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "client_new_v2(out_client NULL): %s", kasko_status_name(status));
    CHECK(result != NULL && result != STALE_RESULT, "client_new_v2(out_client NULL): no result");
    if (result != NULL && result != STALE_RESULT) {
        check_result_shape(status, result, "out_client NULL", __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "out_client NULL", __LINE__);
        CHECK(strstr(or_null(kasko_result_message(result)), "out_client") != NULL, "out_client NULL: message %s",
              or_null(kasko_result_message(result)));
        kasko_result_free(result);
    }
    CHECK(kasko_client_new_v2(config, NULL, NULL) == KASKO_ERR_INVALID_ARGUMENT, "client_new_v2(config, NULL, NULL)");
    CHECK(kasko_client_new_v2(NULL, NULL, NULL) == KASKO_ERR_INVALID_ARGUMENT, "client_new_v2(NULL, NULL, NULL)");
}

/* ---- kasko_call_options_check -------------------------------------------- */

/* The check's refusal of `options`, compared with what a view made with them
 * returns (the same error object, byte for byte) and that nothing was sent. */
static void check_refused_options(kasko_client *client, const kasko_call_options *options, const char *named,
                                  const char *what, int line) {
    kasko_result *result = STALE_RESULT;
    kasko_status status = kasko_call_options_check(options, &result);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "line %d check(%s): %s", line, what, kasko_status_name(status));
    CHECK(result != NULL && result != STALE_RESULT, "line %d check(%s): no result", line, what);
    if (result == NULL || result == STALE_RESULT) return;
    check_result_shape(status, result, what, line);
    check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, what, line);
    const char *message = kasko_result_message(result);
    CHECK(message != NULL && strstr(message, named) != NULL, "line %d check(%s): message %s", line, what,
          or_null(message));
    CHECK(kasko_call_options_check(options, NULL) == KASKO_ERR_INVALID_ARGUMENT, "line %d check(%s, NULL)", line,
          what);
    kasko_result *call = NULL;
    status = kasko_payment_get_v2(client, "tcheckedoptions", options, &call);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT && call != NULL
              && same_string(kasko_result_json(call), kasko_result_json(result)),
          "line %d %s: the call says\n  %s\nthe check\n  %s", line, what,
          or_null(call ? kasko_result_json(call) : NULL), or_null(kasko_result_json(result)));
    kasko_result_free(call);
    kasko_result_free(result);
}

static void check_accepted_options(const kasko_call_options *options, const char *what, int line) {
    kasko_result *result = STALE_RESULT;
    kasko_status status = kasko_call_options_check(options, &result);
    CHECK(status == KASKO_OK, "line %d check(%s): %s %s", line, what, kasko_status_name(status),
          result != NULL && result != STALE_RESULT ? or_null(kasko_result_message(result)) : "");
    CHECK(result == NULL, "line %d check(%s): *out_result is %p, want NULL", line, what, (void *)result);
    if (result != STALE_RESULT) kasko_result_free(result);
    CHECK(kasko_call_options_check(options, NULL) == KASKO_OK, "line %d check(%s, NULL)", line, what);
}

static void test_call_options_check(void) {
    kasko_client *client = sandbox_client(0, 20000);
    kasko_call_options *options = kasko_call_options_new();
    CHECK(options != NULL, "kasko_call_options_new");
    if (options == NULL) return;

    /* Valid: nothing set, then every option set. */
    check_accepted_options(options, "empty options", __LINE__);
    CHECK(kasko_call_options_set_timeout_ms(options, 5000) == KASKO_OK, "timeout 5000");
    CHECK(kasko_call_options_set_traceparent(options, TRACEPARENT) == KASKO_OK, "traceparent");
    CHECK(kasko_call_options_set_tracestate(options, TRACESTATE) == KASKO_OK, "tracestate");
    check_accepted_options(options, "every option valid", __LINE__);

    /* Refused: each option, the call's own error; until set again. */
    CHECK(kasko_call_options_set_traceparent(options, "bogus") == KASKO_ERR_INVALID_ARGUMENT, "bogus traceparent");
    check_refused_options(client, options, "traceparent", "a bogus traceparent", __LINE__);
    CHECK(kasko_call_options_set_timeout_ms(options, 30000) == KASKO_OK, "another option");
    check_refused_options(client, options, "traceparent", "a bogus traceparent, another option set", __LINE__);
    CHECK(kasko_call_options_set_traceparent(options, TRACEPARENT) == KASKO_OK, "traceparent again");
    check_accepted_options(options, "traceparent set again", __LINE__);

    CHECK(kasko_call_options_set_timeout_ms(options, 3600001) == KASKO_ERR_INVALID_ARGUMENT, "timeout too long");
    check_refused_options(client, options, "timeout_ms", "a timeout out of range", __LINE__);
    CHECK(kasko_call_options_set_timeout_ms(options, 0) == KASKO_OK, "the client's timeout");
    check_accepted_options(options, "timeout set again", __LINE__);

    CHECK(kasko_call_options_set_tracestate(options, "no equals sign") == KASKO_ERR_INVALID_ARGUMENT,
          "bad tracestate");
    check_refused_options(client, options, "tracestate", "a bad tracestate", __LINE__);
    /* Two refused at once: still the error the call would give. */
    CHECK(kasko_call_options_set_timeout_ms(options, -1) == KASKO_ERR_INVALID_ARGUMENT, "negative timeout");
    check_refused_options(client, options, "call option", "two refused options", __LINE__);
    CHECK(kasko_call_options_set_tracestate(options, NULL) == KASKO_OK, "NULL clears tracestate");
    CHECK(kasko_call_options_set_timeout_ms(options, 1) == KASKO_OK, "timeout 1");
    check_accepted_options(options, "both set again", __LINE__);
    CHECK(sandbox_attempts(base_url, "tcheckedoptions") == 0, "a view with refused options reached the sandbox");

    /* NULL options: refused, with a result naming them. */
    kasko_result *result = STALE_RESULT;
    kasko_status status = kasko_call_options_check(NULL, &result);
    CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "check(NULL): %s", kasko_status_name(status));
    CHECK(result != NULL && result != STALE_RESULT, "check(NULL): no result");
    if (result != NULL && result != STALE_RESULT) {
        check_result_shape(status, result, "check(NULL)", __LINE__);
        check_error(result, KASKO_ERR_INVALID_ARGUMENT, 0, KASKO_OUTCOME_NOT_SENT, 0, "check(NULL)", __LINE__);
        CHECK(strstr(or_null(kasko_result_message(result)), "options") != NULL, "check(NULL): message %s",
              or_null(kasko_result_message(result)));
        kasko_result_free(result);
    }
    CHECK(kasko_call_options_check(NULL, NULL) == KASKO_ERR_INVALID_ARGUMENT, "check(NULL, NULL)");

    kasko_call_options_free(options);
    kasko_client_free(client);
}

/* ---- threads ------------------------------------------------------------ */

/* What one result says, copied on the main thread. */
struct snapshot {
    const kasko_result *result;
    char *json, *message, *request_id, *pending, *member_id, *member_links, *member_code;
    kasko_status status;
    kasko_outcome outcome;
    int http_status, retryable, attempts;
    kasko_json_type id_type;
};

static void take_snapshot(struct snapshot *snapshot, const kasko_result *result) {
    const char *text = NULL;
    snapshot->result = result;
    snapshot->json = copy_or_null(kasko_result_json(result));
    snapshot->message = copy_or_null(kasko_result_message(result));
    snapshot->request_id = copy_or_null(kasko_result_request_id(result));
    snapshot->pending = copy_or_null(kasko_result_pending_payment_id(result));
    snapshot->member_id = kasko_result_member_string(result, "id", &text, NULL) == KASKO_OK ? strdup(text) : NULL;
    snapshot->member_links = kasko_result_member_json(result, "_links", &text, NULL) == KASKO_OK ? strdup(text) : NULL;
    snapshot->member_code = kasko_result_member_string(result, "code", &text, NULL) == KASKO_OK ? strdup(text) : NULL;
    snapshot->status = kasko_result_status(result);
    snapshot->outcome = kasko_result_outcome(result);
    snapshot->http_status = kasko_result_http_status(result);
    snapshot->retryable = kasko_result_retryable(result);
    snapshot->attempts = kasko_result_attempts(result);
    snapshot->id_type = kasko_result_member_type(result, "id");
}

static void free_snapshot(struct snapshot *snapshot) {
    free(snapshot->json);
    free(snapshot->message);
    free(snapshot->request_id);
    free(snapshot->pending);
    free(snapshot->member_id);
    free(snapshot->member_links);
    free(snapshot->member_code);
}

struct reader {
    const struct snapshot *snapshots;
    int count;
    int rounds;
    int mismatches;
};

static void *read_results(void *argument) {
    struct reader *reader = argument;
    for (int round = 0; round < reader->rounds; round++) {
        for (int i = 0; i < reader->count; i++) {
            const struct snapshot *s = &reader->snapshots[i];
            const kasko_result *r = s->result;
            const char *text = NULL;
            int ok = same_string(kasko_result_json(r), s->json) && same_string(kasko_result_message(r), s->message)
                     && same_string(kasko_result_request_id(r), s->request_id)
                     && same_string(kasko_result_pending_payment_id(r), s->pending)
                     && kasko_result_status(r) == s->status && kasko_result_outcome(r) == s->outcome
                     && kasko_result_http_status(r) == s->http_status && kasko_result_retryable(r) == s->retryable
                     && kasko_result_attempts(r) == s->attempts && kasko_result_member_type(r, "id") == s->id_type;
            ok = ok && same_string(kasko_result_member_string(r, "id", &text, NULL) == KASKO_OK ? text : NULL,
                                   s->member_id);
            ok = ok && same_string(kasko_result_member_json(r, "_links", &text, NULL) == KASKO_OK ? text : NULL,
                                   s->member_links);
            ok = ok && same_string(kasko_result_member_string(r, "code", &text, NULL) == KASKO_OK ? text : NULL,
                                   s->member_code);
            if (!ok) reader->mismatches++;
        }
    }
    return NULL;
}

struct caller {
    kasko_client *client;
    const kasko_call_options *options;
    int rounds;
    int ok;
};

/* create_v2 + get_v2 with one options object shared by every thread. */
static void *call_with_shared_options(void *argument) {
    struct caller *caller = argument;
    for (int i = 0; i < caller->rounds; i++) {
        char policy_id[128], token[256];
        if (sandbox_new_offer(base_url, policy_id, sizeof policy_id, token, sizeof token) != 0) continue;
        kasko_result *created = NULL, *viewed = NULL;
        const char *id = NULL, *seen = NULL;
        if (kasko_payment_create_v2(caller->client, token, "invoice", "invoice", policy_id, caller->options, &created)
                == KASKO_OK
            && kasko_result_member_string(created, "id", &id, NULL) == KASKO_OK
            && kasko_payment_get_v2(caller->client, id, caller->options, &viewed) == KASKO_OK
            && kasko_result_member_string(viewed, "id", &seen, NULL) == KASKO_OK && strcmp(id, seen) == 0) {
            caller->ok++;
        }
        kasko_result_free(viewed);
        kasko_result_free(created);
    }
    return NULL;
}

static void test_threads(void) {
    enum { THREADS = 8 };
    kasko_client *client = sandbox_client(0, 20000);
    char id[129];
    existing_payment(client, id, sizeof id);
    kasko_result *results[3] = {NULL, NULL, NULL};
    CHECK(kasko_payment_get_v2(client, id, NULL, &results[0]) == KASKO_OK, "view for the threads");
    CHECK(kasko_payment_get_v2(client, "t00000000000000000000000000000000", NULL, &results[1]) == KASKO_ERR_NOT_FOUND,
          "404 for the threads");
    CHECK(kasko_result_new_error(KASKO_ERR_INTERNAL, "made here", &results[2]) == KASKO_ERR_INTERNAL,
          "new_error for the threads");
    struct snapshot snapshots[3];
    for (int i = 0; i < 3; i++) take_snapshot(&snapshots[i], results[i]);
    CHECK(snapshots[0].member_id != NULL && snapshots[0].member_links != NULL && snapshots[1].member_code != NULL,
          "snapshots");

    pthread_t threads[THREADS];
    struct reader readers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        readers[i] = (struct reader){snapshots, 3, quick ? 50 : 2000, 0};
        CHECK(pthread_create(&threads[i], NULL, read_results, &readers[i]) == 0, "reader %d", i);
    }
    int mismatches = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        mismatches += readers[i].mismatches;
    }
    CHECK(mismatches == 0, "%d reads from %d threads at once differed from the main thread's", mismatches, THREADS);
    for (int i = 0; i < 3; i++) {
        free_snapshot(&snapshots[i]);
        kasko_result_free(results[i]);
    }

    /* One options object, many concurrent calls. */
    kasko_call_options *options = kasko_call_options_new();
    CHECK(options != NULL && kasko_call_options_set_timeout_ms(options, 15000) == KASKO_OK
              && kasko_call_options_set_traceparent(options, TRACEPARENT) == KASKO_OK
              && kasko_call_options_set_tracestate(options, TRACESTATE) == KASKO_OK,
          "shared options");
    struct caller callers[THREADS];
    int rounds = quick ? 2 : 10;
    for (int i = 0; i < THREADS; i++) {
        callers[i] = (struct caller){client, options, rounds, 0};
        CHECK(pthread_create(&threads[i], NULL, call_with_shared_options, &callers[i]) == 0, "caller %d", i);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        ok += callers[i].ok;
    }
    CHECK(ok == THREADS * rounds, "%d of %d create+view pairs with shared options correct", ok, THREADS * rounds);
    kasko_call_options_free(options);
    kasko_client_free(client);

    /* The same shared options at the recorder: every request carries them. */
    kasko_client *recorded = client_for(recorder.url, 1, 0, 20000);
    kasko_call_options *traced = kasko_call_options_new();
    CHECK(traced != NULL && kasko_call_options_set_traceparent(traced, TRACEPARENT) == KASKO_OK, "traced options");
    recorder_reset(0);
    struct caller viewers[4];
    for (int i = 0; i < 4; i++) {
        viewers[i] = (struct caller){recorded, traced, 5, 0};
        CHECK(pthread_create(&threads[i], NULL, call_with_shared_options, &viewers[i]) == 0, "viewer %d", i);
    }
    int viewed = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        viewed += viewers[i].ok;
    }
    CHECK(viewed == 4 * 5, "%d of 20 create+view pairs at the recorder", viewed);
    int count = recorder_count();
    int with_header = 0;
    for (int i = 0; i < count && i < RECORDED_MAX; i++) {
        char value[256];
        struct recorded_request request = recorder_request(i);
        if (header_value(request.head, "traceparent", value, sizeof value) == 1 && strcmp(value, TRACEPARENT) == 0) {
            with_header++;
        }
    }
    CHECK(count > 0 && with_header == count, "%d of %d concurrent requests carried the shared traceparent",
          with_header, count);
    kasko_call_options_free(traced);
    kasko_client_free(recorded);
}

int main(void) {
    sandbox_environment(&base_url, &public_key, &secret_key, "KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox");
    quick = getenv("KASKO_TEST_QUICK") != NULL;
    if (sandbox_attempts(base_url, "probe") < 0) {
        fprintf(stderr, "the sandbox has no fault injection: run under KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox\n");
        return 2;
    }
    recorder_start();

    test_version_and_outcome_names();
    test_null_arguments_and_frees();
    test_invalid_fields();
    test_success_accessors();
    test_error_accessors();
    test_request_body_escaping();
    test_member_edge_cases();
    test_trace_headers();
    test_timeouts();
    test_new_error();
    test_client_new_v2();
    test_call_options_check();
    test_threads();

    recorder_stop();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
