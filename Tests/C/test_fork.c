/*
 * fork() tests of libkasko.so: a client made and used before fork(), then
 * used in the parent and in the child (and a grandchild), over plain HTTP
 * (the sandbox) and over TLS (a loopback nginx in front of it).
 *
 * Run by scripts/check-fork inside scripts/with-sandbox, with fault
 * injection on (KASKO_SANDBOX_ARGS=--faults). The environment:
 *
 *   KASKO_SANDBOX_URL       the sandbox (plain HTTP): offers, faults, attempts
 *   KASKO_TLS_URL           https://localhost:P, nginx terminating TLS in front
 *                           of the sandbox, with keep-alive
 *   KASKO_TEST_CA           the test CA that signed nginx's certificate
 *   KASKO_NGINX_STATUS_URL  nginx's stub_status page (its "accepts" counter)
 *
 * Without KASKO_TLS_URL / KASKO_TEST_CA the TLS half is skipped, saying so.
 *
 * What a client must do in a process other than the one that made it: work
 * there on fresh connections of its own, and never read, write or shut down
 * (no TLS close_notify) a connection it inherited, even when it is freed
 * there; the parent's connections keep working and are reused. A fork while
 * other threads are mid-call must not deadlock the child.
 *
 * Scenarios, each over HTTP and over TLS:
 *   a. fork while idle; parent and child then make >= 50 mixed calls each at
 *      the same time (and go on until the other is done too); every answer
 *      must be the one asked for; the child frees the client at the end.
 *   b. fork while 4 parent threads are mid-call (a sandbox delay holds their
 *      answers; the fork waits until the sandbox has counted all 4 requests);
 *      the child makes its calls while the threads wait, then while they make
 *      their next calls; a second child frees the client at once; everybody
 *      gets their own answers.
 *   c. the child frees the inherited client (c1: without using it; c2: after
 *      using it) and exits; the parent's connection was not touched (its TCP
 *      byte counters did not move), and the parent's next view reuses it (no
 *      new socket in the parent; for TLS, nginx accepted no new connection).
 *   d. a grandchild (fork in the child), the child and the parent all call.
 * And once:
 *   e. fork while a thread is inside a TLS handshake (a server that never
 *      answers the ClientHello): fork() waits until that setup is over, so a
 *      child never inherits a lock OpenSSL takes during one.
 * In every child: none of the parent's sockets is left open (a fork handler
 * closes the copies, which sends nothing).
 *
 * Every child is watched: a child that does not report and exit in time is
 * killed and the scenario fails; a whole-program alarm is the last resort.
 * Nothing waits by sleeping: every wait is for a condition, with a deadline.
 */
#define _DEFAULT_SOURCE
#include <kasko.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_client.h"
#include "testing.h"

enum {
    CALL_TIMEOUT_MS = 4000,   /* per attempt; no retries (max_retries 0) */
    DELAY_MS = 1500,          /* scenario b: how long the sandbox holds the 4 calls */
    HOLD_MS = 300,            /* scenario b: holds the first connection while the 4 calls start */
    CHILD_WAIT_MS = 15000,    /* a child must have reported and exited by then */
    WORK_MS = 10000,          /* a process's calls of one scenario must be done by then */
    PROGRAM_SECONDS = 55,     /* the last resort: the whole program */
    MAX_OFFERS = 40,
    MAX_EXTRA_CALLS = 3000,
    PROBLEMS = 4,
    ID_SIZE = 130,
    REPORT_MAGIC = 0x4b41534b,
};

static const char *sandbox_url;
static const char *public_key;
static const char *secret_key;

struct target {
    const char *name;       /* "http" or "tls" */
    const char *base_url;
    const char *ca;         /* NULL for http */
    const char *status_url; /* nginx stub_status, or NULL */
    int port;               /* the server port the client connects to */
};

/* ---- time, pipes, children ------------------------------------------- */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static int remaining_ms(double deadline) {
    double left = deadline - now_ms();
    return left <= 0 ? 0 : (int)left + 1;
}

static volatile pid_t watched[8];

static void watch(pid_t pid) {
    for (int i = 0; i < 8; i++) {
        if (watched[i] == 0) {
            watched[i] = pid;
            return;
        }
    }
}

static void unwatch(pid_t pid) {
    for (int i = 0; i < 8; i++) {
        if (watched[i] == pid) watched[i] = 0;
    }
}

/* Appends the decimal digits of n to p; returns the new end. Async-signal-safe. */
static char *append_number(char *p, int n) {
    char digits[16];
    int count = 0;
    do {
        digits[count++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0 && count < 15);
    while (count > 0) *p++ = digits[--count];
    return p;
}

/* Kills a child and, when it leads a process group (the test's own
 * children do), whatever it forked. */
static void kill_child(pid_t pid) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

static void on_alarm(int signal_number) {
    (void)signal_number;
    for (int i = 0; i < 8; i++) {
        if (watched[i] > 0) kill_child(watched[i]);
    }
    static const char message[] = "FAIL test_fork: watchdog: the program did not finish in time; killed\n";
    char summary[64];
    char *p = append_number(summary, passed);
    memcpy(p, " passed, ", 9);
    p = append_number(p + 9, failed + 1);
    memcpy(p, " failed\n", 8);
    ssize_t ignored = write(2, message, sizeof message - 1);
    ignored = write(1, summary, (size_t)(p + 8 - summary));
    (void)ignored;
    _exit(1);
}

/* Writes all of data; 0 on success. */
static int write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static void send_byte(int fd, char byte) {
    if (fd >= 0) (void)write_all(fd, &byte, 1);
}

/* One byte from fd within timeout_ms: the byte, 0 on timeout, -1 on EOF or error. */
static int read_byte(int fd, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int ready;
    do {
        ready = poll(&p, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) return 0;
    if (ready < 0) return -1;
    unsigned char byte;
    ssize_t n;
    do {
        n = read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1 ? byte : -1;
}

/* Reads exactly size bytes before deadline; 0 on success. */
static int read_all(int fd, void *data, size_t size, double deadline) {
    char *p = data;
    while (size > 0) {
        struct pollfd poller = {fd, POLLIN, 0};
        int ready = poll(&poller, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return -1;
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* Waits for a child until deadline (a pidfd's readiness, so no sleeping);
 * kills it when the time is up. Returns 1 when it exited by itself. */
static int wait_child(pid_t pid, double deadline, int *status) {
    int exited = 0;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        int ready;
        do {
            ready = poll(&p, 1, remaining_ms(deadline));
        } while (ready < 0 && errno == EINTR);
        close(fd);
        exited = ready > 0;
    } else {
        /* No pidfd (an old kernel): check every 10 ms until the deadline. */
        while (!exited && now_ms() < deadline) {
            pid_t done = waitpid(pid, status, WNOHANG);
            if (done == pid) {
                unwatch(pid);
                return 1;
            }
            poll(NULL, 0, 10);
        }
    }
    if (!exited) kill_child(pid);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    unwatch(pid);
    return exited;
}

static int is_test_process = 1; /* the program itself, not one of its children */

/* fork(); the test's own children each lead a process group, so that a
 * watchdog kills a grandchild with its parent. */
static pid_t fork_child(void) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        for (int i = 0; i < 8; i++) watched[i] = 0;
        if (is_test_process) setpgid(0, 0);
        is_test_process = 0;
    } else {
        if (is_test_process) setpgid(pid, pid);
        watch(pid);
    }
    return pid;
}

/* ---- clients, offers, checked calls ----------------------------------- */

static kasko_client *make_client(const struct target *target) {
    char config[2048];
    char ca[1024] = "";
    if (target->ca != NULL) snprintf(ca, sizeof ca, ",\"ca_bundle\":\"%s\"", target->ca);
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"max_retries\":0,"
             "\"timeout_ms\":%d,\"connect_timeout_ms\":3000,\"proxy\":\"\"%s}",
             public_key, secret_key, target->base_url, CALL_TIMEOUT_MS, ca);
    kasko_client *client = NULL;
    char *error = NULL;
    kasko_status status = kasko_client_new(config, &client, &error);
    CHECK(status == KASKO_OK && client != NULL, "kasko_client_new for %s: %s %s", target->base_url,
          kasko_status_name(status), error ? error : "");
    kasko_string_free(error);
    return client;
}

struct offer {
    char policy_id[128];
    char token[256];
};

static void new_offers(struct offer *offers, int count) {
    for (int i = 0; i < count; i++) {
        if (sandbox_new_offer(sandbox_url, offers[i].policy_id, sizeof offers[i].policy_id, offers[i].token,
                              sizeof offers[i].token)
            != 0) {
            fprintf(stderr, "test_fork: the sandbox gave no offer\n");
            exit(2);
        }
    }
}

/* What one process (or thread) saw: every call is right, wrong (an answer
 * to another request) or failed (not KASKO_OK). */
struct stats {
    int calls;
    int right;
    int wrong;
    int failed;
    int problem_count;
    char problems[PROBLEMS][256]; /* the first few wrong or failed calls, in order */
    char first_wrong[256];
    char first_failed[256];
};

/* Notes a problem among the first few, and as `first` (first_wrong or
 * first_failed, or NULL) if it is the first of its kind. */
static void note(struct stats *stats, char *first, const char *format, ...) {
    char text[256];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    if (stats->problem_count < PROBLEMS) memcpy(stats->problems[stats->problem_count++], text, sizeof text);
    if (first != NULL && first[0] == '\0') memcpy(first, text, sizeof text);
}

static void merge(struct stats *into, const struct stats *from) {
    if (into->first_wrong[0] == '\0') memcpy(into->first_wrong, from->first_wrong, sizeof into->first_wrong);
    if (into->first_failed[0] == '\0') memcpy(into->first_failed, from->first_failed, sizeof into->first_failed);
    into->calls += from->calls;
    into->right += from->right;
    into->wrong += from->wrong;
    into->failed += from->failed;
    for (int i = 0; i < from->problem_count; i++) note(into, NULL, "%s", from->problems[i]);
}

/* Creates a payment for offer; on a right answer copies its id and returns 1. */
static int checked_create(kasko_client *client, const struct offer *offer, char *id, struct stats *stats) {
    char request[1024];
    snprintf(request, sizeof request,
             "{\"token\":\"%s\",\"provider\":\"invoice\",\"method\":\"invoice\",\"policy_id\":\"%s\"}", offer->token,
             offer->policy_id);
    char *json = NULL;
    kasko_status status = kasko_payment_create(client, request, &json);
    char policy[128] = "", got_id[ID_SIZE] = "";
    int right = 0;
    stats->calls++;
    if (status != KASKO_OK) {
        stats->failed++;
        note(stats, stats->first_failed, "[pid %d] create for %s: %s %.160s", (int)getpid(), offer->policy_id,
             kasko_status_name(status), json ? json : "(null)");
    } else {
        json_string_field(json, "id", got_id, sizeof got_id);
        if (json_string_field(json, "policy_id", policy, sizeof policy) == 0 && strcmp(policy, offer->policy_id) == 0
            && got_id[0] != '\0') {
            stats->right++;
            right = 1;
            memcpy(id, got_id, sizeof got_id);
        } else {
            stats->wrong++;
            note(stats, stats->first_wrong, "[pid %d] create for %s answered KASKO_OK with payment %s of policy %s",
                 (int)getpid(), offer->policy_id, got_id, policy);
        }
    }
    kasko_string_free(json);
    return right;
}

static int checked_view(kasko_client *client, const char *id, struct stats *stats) {
    char *json = NULL;
    kasko_status status = kasko_payment_get(client, id, &json);
    char got[ID_SIZE] = "";
    int right = 0;
    stats->calls++;
    if (status != KASKO_OK) {
        stats->failed++;
        note(stats, stats->first_failed, "[pid %d] view of %s: %s %.160s", (int)getpid(), id, kasko_status_name(status),
             json ? json : "(null)");
    } else if (json_string_field(json, "id", got, sizeof got) == 0 && strcmp(got, id) == 0) {
        stats->right++;
        right = 1;
    } else {
        stats->wrong++;
        note(stats, stats->first_wrong, "[pid %d] view of %s answered KASKO_OK with payment %s", (int)getpid(), id,
             got);
    }
    kasko_string_free(json);
    return right;
}

/* A create and a view of it, before the fork: returns the payment's id. */
static int seed_payment(kasko_client *client, char *id, const char *what) {
    struct offer offer;
    struct stats stats;
    memset(&stats, 0, sizeof stats);
    new_offers(&offer, 1);
    int ok = checked_create(client, &offer, id, &stats) && checked_view(client, id, &stats);
    CHECK(ok, "%s: %s", what, stats.problem_count ? stats.problems[0] : "?");
    return ok;
}

/* ---- a process's share of the calls ----------------------------------- */

struct plan {
    kasko_client *client;
    const struct offer *offers; /* a create for each, each followed by a view of it */
    int offer_count;
    const char *seed;           /* this process's own payment, viewed until it has made one */
    int done_fd;                /* 'D' goes here once the planned calls are made; -1: none */
    int peer_fd;                /* then views go on until the peer's 'D' (or EOF) is read here; -1: none */
    int gate;                   /* and before those views, a 'W' is awaited on peer_fd */
    double deadline;
};

static void run_plan(const struct plan *plan, struct stats *stats) {
    char mine[MAX_OFFERS][ID_SIZE];
    int owned = 0;
    for (int i = 0; i < plan->offer_count; i++) {
        if (now_ms() > plan->deadline) {
            stats->failed += 2 * (plan->offer_count - i);
            note(stats, stats->first_failed, "[pid %d] out of time after %d of %d creates", (int)getpid(), i,
                 plan->offer_count);
            break;
        }
        if (checked_create(plan->client, &plan->offers[i], mine[owned], stats)) owned++;
        checked_view(plan->client, owned > 0 ? mine[owned - 1] : plan->seed, stats);
    }
    send_byte(plan->done_fd, 'D');
    if (plan->peer_fd < 0) return;
    if (plan->gate) {
        int byte;
        do {
            byte = read_byte(plan->peer_fd, remaining_ms(plan->deadline));
        } while (byte != 'W' && byte != 'D' && byte > 0);
        if (byte != 'W') return;
    }
    for (int extra = 0; extra < MAX_EXTRA_CALLS && now_ms() < plan->deadline; extra++) {
        int byte = read_byte(plan->peer_fd, 0);
        if (byte == 'D' || byte < 0) break;
        checked_view(plan->client, owned > 0 ? mine[extra % owned] : plan->seed, stats);
    }
}

/* ---- child reports ------------------------------------------------------ */

struct report {
    int magic;
    struct stats self;
    int has_grandchild;
    int grandchild_exited; /* by itself, in time */
    int grandchild_status;
    int grandchild_reported;
    struct stats grandchild;
};

static void send_report(int fd, struct report *report) {
    report->magic = REPORT_MAGIC;
    (void)write_all(fd, report, sizeof *report);
}

/* Reads a child's report, skipping the protocol bytes before it. */
static int receive_report(int fd, struct report *report, double deadline) {
    int byte;
    do {
        byte = read_byte(fd, remaining_ms(deadline));
    } while (byte == 'D' || byte == 'W' || byte == 'R');
    if (byte <= 0) return -1;
    char *p = (char *)report;
    p[0] = (char)byte;
    if (read_all(fd, p + 1, sizeof *report - 1, deadline) != 0) return -1;
    return report->magic == REPORT_MAGIC ? 0 : -1;
}

static void print_stats(const char *label, const char *who, const struct stats *stats) {
    printf("  %s: %s: %d calls, %d right, %d wrong, %d failed\n", label, who, stats->calls, stats->right,
           stats->wrong, stats->failed);
    for (int i = 0; i < stats->problem_count; i++) printf("      e.g. %s\n", stats->problems[i]);
}

static void check_stats(const char *label, const char *who, const struct stats *stats, int min_calls) {
    print_stats(label, who, stats);
    CHECK(stats->calls >= min_calls, "%s: %s made %d calls, want at least %d", label, who, stats->calls, min_calls);
    CHECK(stats->wrong == 0, "%s: %s: %d of %d calls answered KASKO_OK with another request's answer; e.g. %s",
          label, who, stats->wrong, stats->calls, stats->first_wrong);
    CHECK(stats->failed == 0, "%s: %s: %d of %d calls failed; e.g. %s", label, who, stats->failed, stats->calls,
          stats->first_failed[0] ? stats->first_failed : (stats->problem_count ? stats->problems[0] : ""));
}

/* Waits for a child's report and exit; checks both. Returns 1 if it reported. */
static int collect_child(const char *label, pid_t pid, int fd, struct report *report, double deadline) {
    memset(report, 0, sizeof *report);
    int reported = receive_report(fd, report, deadline) == 0;
    int status = 0;
    int exited = wait_child(pid, deadline, &status);
    CHECK(exited, "%s: the child did not finish within %d ms (deadlock?): killed", label, CHILD_WAIT_MS);
    CHECK(!exited || (WIFEXITED(status) && WEXITSTATUS(status) == 0), "%s: the child ended with %s %d", label,
          WIFSIGNALED(status) ? "signal" : "exit status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    CHECK(reported, "%s: no report from the child", label);
    return reported;
}

static void child_exit(const struct report *report) {
    int bad = report->self.wrong || report->self.failed;
    if (report->has_grandchild) {
        bad = bad || !report->grandchild_exited || !report->grandchild_reported || report->grandchild_status != 0
              || report->grandchild.wrong || report->grandchild.failed;
    }
    _exit(bad ? 1 : 0);
}

/* ---- a: fork while idle, then both at once ------------------------------ */

enum { A_OFFERS = 25 }; /* 25 creates + 25 views each, then more views until the other is done */

static void scenario_a(const struct target *target) {
    char label[64];
    snprintf(label, sizeof label, "a/%s fork while idle", target->name);
    printf("%s\n", label);
    kasko_client *client = make_client(target);
    if (client == NULL) return;
    char parent_seed[ID_SIZE], child_seed[ID_SIZE];
    if (!seed_payment(client, parent_seed, label) || !seed_payment(client, child_seed, label)) {
        kasko_client_free(client);
        return;
    }
    static struct offer parent_offers[A_OFFERS], child_offers[A_OFFERS];
    new_offers(parent_offers, A_OFFERS);
    new_offers(child_offers, A_OFFERS);

    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) exit(2);
    pid_t pid = fork_child();
    if (pid == 0) {
        close(to_child[1]);
        close(from_child[0]);
        struct report report;
        memset(&report, 0, sizeof report);
        send_byte(from_child[1], 'R');
        if (read_byte(to_child[0], CHILD_WAIT_MS) != 'G') {
            note(&report.self, report.self.first_failed, "child: no go from the parent");
            report.self.failed++;
        } else {
            struct plan plan = {client, child_offers, A_OFFERS, child_seed, from_child[1], to_child[0], 0,
                                now_ms() + WORK_MS};
            run_plan(&plan, &report.self);
        }
        kasko_client_free(client); /* a child that cleans up */
        send_byte(from_child[1], 'D');
        send_report(from_child[1], &report);
        child_exit(&report);
    }
    close(to_child[0]);
    close(from_child[1]);
    double deadline = now_ms() + CHILD_WAIT_MS;
    struct stats parent;
    memset(&parent, 0, sizeof parent);
    int ready = read_byte(from_child[0], remaining_ms(deadline));
    CHECK(ready == 'R', "%s: the child never got going (%d)", label, ready);
    send_byte(to_child[1], 'G');
    if (ready == 'R') {
        struct plan plan = {client, parent_offers, A_OFFERS, parent_seed, to_child[1], from_child[0], 0,
                            now_ms() + WORK_MS};
        run_plan(&plan, &parent);
    }
    struct report report;
    int reported = collect_child(label, pid, from_child[0], &report, deadline);
    close(to_child[1]);
    close(from_child[0]);
    check_stats(label, "parent", &parent, 2 * A_OFFERS);
    if (reported) check_stats(label, "child", &report.self, 2 * A_OFFERS);

    /* The parent goes on working after the child freed the client and left. */
    struct stats after;
    memset(&after, 0, sizeof after);
    checked_view(client, parent_seed, &after);
    check_stats(label, "parent, after the child exited", &after, 1);
    kasko_client_free(client);
}

/* ---- b: fork while 4 threads are mid-call -------------------------------- */

enum { MID_THREADS = 4, POST_OFFERS = 5, B_CHILD_OFFERS = 20 };

static pthread_mutex_t mid_lock = PTHREAD_MUTEX_INITIALIZER;
static int mid_returned;

struct mid_call {
    kasko_client *client;
    int is_create;
    char key[ID_SIZE];    /* the fault key: the payment viewed, or the offer's policy */
    struct offer offer;   /* a create's offer */
    struct offer post[POST_OFFERS];
    struct stats delayed; /* the call that was mid-flight at the fork */
    struct stats post_stats;
    int events_fd;        /* 'w' when the delayed call returned, 'f' when all are done */
};

static void *mid_call_thread(void *argument) {
    struct mid_call *call = argument;
    char id[ID_SIZE];
    if (call->is_create) {
        if (!checked_create(call->client, &call->offer, id, &call->delayed)) snprintf(id, sizeof id, "%s", "none");
    } else {
        checked_view(call->client, call->key, &call->delayed);
        snprintf(id, sizeof id, "%s", call->key);
    }
    pthread_mutex_lock(&mid_lock);
    mid_returned++;
    pthread_mutex_unlock(&mid_lock);
    send_byte(call->events_fd, 'w');
    struct plan plan = {call->client, call->post, POST_OFFERS, id, -1, -1, 0, now_ms() + WORK_MS};
    run_plan(&plan, &call->post_stats);
    send_byte(call->events_fd, 'f');
    return NULL;
}

struct held_view {
    kasko_client *client;
    char id[ID_SIZE];
    struct stats stats;
};

static void *held_view_thread(void *argument) {
    struct held_view *view = argument;
    checked_view(view->client, view->id, &view->stats);
    return NULL;
}

/* Waits until the sandbox has counted a request for each key (polling its
 * counters: the condition itself); 1 if it has before the deadline. */
static int await_attempts(const char *const *keys, int count, double deadline) {
    for (int i = 0; i < count; i++) {
        long seen;
        while ((seen = sandbox_attempts(sandbox_url, keys[i])) < 1) {
            if (seen < 0 || now_ms() > deadline) return 0;
            poll(NULL, 0, 2); /* between two looks at the counter */
        }
    }
    return 1;
}

static void scenario_b(const struct target *target) {
    char label[64];
    snprintf(label, sizeof label, "b/%s fork while 4 threads are mid-call", target->name);
    printf("%s\n", label);
    kasko_client *client = make_client(target);
    if (client == NULL) return;
    char child_seed[ID_SIZE];
    if (!seed_payment(client, child_seed, label)) {
        kasko_client_free(client);
        return;
    }

    /* The 4 calls to be mid-flight at the fork: 2 views, 2 creates. */
    static struct mid_call calls[MID_THREADS];
    struct stats setup;
    memset(&setup, 0, sizeof setup);
    int events[2];
    if (pipe(events) != 0) exit(2);
    for (int i = 0; i < MID_THREADS; i++) {
        memset(&calls[i], 0, sizeof calls[i]);
        calls[i].client = client;
        calls[i].events_fd = events[1];
        calls[i].is_create = i >= 2;
        new_offers(&calls[i].offer, 1);
        if (calls[i].is_create) {
            snprintf(calls[i].key, ID_SIZE, "%s", calls[i].offer.policy_id);
        } else if (!checked_create(client, &calls[i].offer, calls[i].key, &setup)) {
            snprintf(calls[i].key, ID_SIZE, "%s", child_seed);
        }
        new_offers(calls[i].post, POST_OFFERS);
    }
    static struct held_view holder;
    memset(&holder, 0, sizeof holder);
    holder.client = client;
    struct offer holder_offer;
    new_offers(&holder_offer, 1);
    if (!checked_create(client, &holder_offer, holder.id, &setup)) snprintf(holder.id, ID_SIZE, "%s", child_seed);
    CHECK(setup.wrong == 0 && setup.failed == 0, "%s: set-up calls before the fork went wrong: %s", label,
          setup.problem_count ? setup.problems[0] : "");
    static struct offer child_offers[B_CHILD_OFFERS];
    new_offers(child_offers, B_CHILD_OFFERS);
    char fault[64];
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", HOLD_MS);
    int armed = sandbox_arm_fault(sandbox_url, holder.id, fault, 1) == 201;
    snprintf(fault, sizeof fault, "{\"delay_ms\":%d}", DELAY_MS);
    for (int i = 0; i < MID_THREADS; i++) {
        armed = armed && sandbox_arm_fault(sandbox_url, calls[i].key, fault, 1) == 201;
    }
    CHECK(armed, "%s: cannot arm a delay fault: is the sandbox running with --faults?", label);
    if (!armed) {
        kasko_client_free(client);
        return;
    }

    /* The client's one connection so far is held by a view (answered after
     * HOLD_MS) while the 4 threads start, so they open 4 of their own. When
     * it is answered, that first connection is idle again: the one a child
     * would inherit, and the one the pool offers first. */
    pthread_t holder_thread;
    pthread_create(&holder_thread, NULL, held_view_thread, &holder);
    const char *holder_key = holder.id;
    int held = await_attempts(&holder_key, 1, now_ms() + 5000);
    CHECK(held, "%s: the holding view never reached the sandbox", label);
    mid_returned = 0;
    pthread_t threads[MID_THREADS];
    for (int i = 0; i < MID_THREADS; i++) pthread_create(&threads[i], NULL, mid_call_thread, &calls[i]);
    /* The condition for the fork: the sandbox has counted all 4 requests
     * (and is holding their answers for DELAY_MS). */
    const char *keys[MID_THREADS];
    for (int i = 0; i < MID_THREADS; i++) keys[i] = calls[i].key;
    int all_arrived = await_attempts(keys, MID_THREADS, now_ms() + 5000);
    CHECK(all_arrived, "%s: the 4 delayed requests never all reached the sandbox", label);
    pthread_join(holder_thread, NULL);
    check_stats(label, "parent, the view that held the first connection", &holder.stats, 1);
    pthread_mutex_lock(&mid_lock);
    int returned_before_fork = mid_returned;
    pthread_mutex_unlock(&mid_lock);
    CHECK(returned_before_fork == 0, "%s: %d of the 4 calls had returned before the fork (test too slow?)", label,
          returned_before_fork);

    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) exit(2);
    pid_t pid = fork_child();
    if (pid == 0) {
        /* Only this thread exists here; the 4 calls are the parent's. */
        close(to_child[1]);
        close(from_child[0]);
        struct report report;
        memset(&report, 0, sizeof report);
        struct plan plan = {client, child_offers, B_CHILD_OFFERS, child_seed, -1, to_child[0], 1,
                            now_ms() + WORK_MS};
        run_plan(&plan, &report.self);
        /* Freed while the parent's threads still use their connections:
         * nothing of theirs may be closed or shut down from here. */
        kasko_client_free(client);
        send_report(from_child[1], &report);
        child_exit(&report);
    }
    /* A second child, forked while the 4 calls are still in flight, frees
     * the client at once: their connections must come through untouched. */
    int from_freer[2];
    if (pipe(from_freer) != 0) exit(2);
    pid_t freer = fork_child();
    if (freer == 0) {
        close(from_freer[0]);
        close(to_child[0]);
        close(to_child[1]);
        close(from_child[0]);
        close(from_child[1]);
        struct report report;
        memset(&report, 0, sizeof report);
        kasko_client_free(client);
        send_report(from_freer[1], &report);
        child_exit(&report);
    }
    close(from_freer[1]);
    close(to_child[0]);
    close(from_child[1]);
    double deadline = now_ms() + CHILD_WAIT_MS;
    /* Tell the child when the threads are making calls again, and when they are done. */
    int finished = 0, woken = 0;
    while (finished < MID_THREADS) {
        int byte = read_byte(events[0], remaining_ms(deadline));
        if (byte == 'w' && woken++ == 0) send_byte(to_child[1], 'W');
        if (byte == 'f') finished++;
        if (byte <= 0) break;
    }
    send_byte(to_child[1], 'D');
    struct report report;
    int reported = collect_child(label, pid, from_child[0], &report, deadline);
    struct report freer_report;
    char freer_label[160];
    snprintf(freer_label, sizeof freer_label, "%s (the second child, which frees the client)", label);
    collect_child(freer_label, freer, from_freer[0], &freer_report, deadline);
    close(from_freer[0]);
    if (finished < MID_THREADS) {
        CHECK(0, "%s: only %d of the parent's 4 threads finished in time (deadlock?)", label, finished);
        printf("%d passed, %d failed\n", passed, failed);
        fflush(NULL);
        _exit(1); /* threads are stuck inside the library: nothing safe to do */
    }
    for (int i = 0; i < MID_THREADS; i++) pthread_join(threads[i], NULL);
    close(events[0]);
    close(events[1]);
    close(to_child[1]);
    close(from_child[0]);
    if (reported) check_stats(label, "child (while the threads were mid-call, then alongside)", &report.self,
                              2 * B_CHILD_OFFERS);
    struct stats delayed, post;
    memset(&delayed, 0, sizeof delayed);
    memset(&post, 0, sizeof post);
    for (int i = 0; i < MID_THREADS; i++) {
        merge(&delayed, &calls[i].delayed);
        merge(&post, &calls[i].post_stats);
    }
    check_stats(label, "parent threads, the calls in flight at the fork", &delayed, MID_THREADS);
    check_stats(label, "parent threads, their calls after it", &post, MID_THREADS * 2 * POST_OFFERS);
    /* And after both children freed the client and left. */
    struct stats after;
    memset(&after, 0, sizeof after);
    for (int i = 0; i < MID_THREADS; i++) checked_view(client, calls[i].is_create ? child_seed : calls[i].key, &after);
    check_stats(label, "parent, after the children exited", &after, MID_THREADS);
    kasko_client_free(client);
}

/* ---- c: the child frees the inherited client ------------------------------ */

enum { STATE_ESTABLISHED = 1 }; /* tcpi_state values are the kernel's TCP states */

struct connection {
    ino_t inode;
    int state; /* tcpi_state: 1 is ESTABLISHED */
    unsigned long long sent;
    unsigned long long received;
};

/* This process's TCP connections to loopback port `port`. */
static int connections_to(int port, struct connection *out, int max) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < max) {
        if (entry->d_name[0] == '.') continue;
        int fd = atoi(entry->d_name);
        if (fd == dirfd(dir)) continue;
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &length) != 0) continue;
        int peer_port = -1;
        if (peer.ss_family == AF_INET) peer_port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
        if (peer.ss_family == AF_INET6) peer_port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
        if (peer_port != port) continue;
        struct tcp_info info;
        socklen_t info_length = sizeof info;
        memset(&info, 0, sizeof info);
        struct stat st;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_length) != 0 || fstat(fd, &st) != 0) continue;
        out[count].inode = st.st_ino;
        out[count].state = info.tcpi_state;
        out[count].sent = info.tcpi_bytes_sent;
        out[count].received = info.tcpi_bytes_received;
        count++;
    }
    closedir(dir);
    return count;
}

static const struct connection *find_connection(const struct connection *list, int count, ino_t inode) {
    for (int i = 0; i < count; i++) {
        if (list[i].inode == inode) return &list[i];
    }
    return NULL;
}

struct text {
    char data[8192];
    size_t used;
};

static size_t collect_text(char *data, size_t size, size_t count, void *user) {
    struct text *text = user;
    size_t total = size * count;
    if (text->used + total >= sizeof text->data) return 0;
    memcpy(text->data + text->used, data, total);
    text->used += total;
    text->data[text->used] = '\0';
    return total;
}

/* nginx's "accepts" counter (each query is one more connection), or -1. */
static long nginx_accepts(const char *status_url) {
    CURL *curl = curl_easy_init();
    if (curl == NULL) return -1;
    struct text text = {"", 0};
    curl_easy_setopt(curl, CURLOPT_URL, status_url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_text);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    long accepts = -1, handled, requests;
    if (curl_easy_perform(curl) == CURLE_OK) {
        const char *numbers = strstr(text.data, "server accepts handled requests");
        if (numbers != NULL && sscanf(numbers + strlen("server accepts handled requests"), "%ld %ld %ld", &accepts,
                                      &handled, &requests)
                                   != 3) {
            accepts = -1;
        }
    }
    curl_easy_cleanup(curl);
    return accepts;
}

enum { C_CHILD_OFFERS = 3 };

static void scenario_c(const struct target *target, int child_uses_it) {
    char label[96];
    snprintf(label, sizeof label, "c%d/%s the child %s frees the client and exits", child_uses_it ? 2 : 1,
             target->name, child_uses_it ? "uses, then" : "only");
    printf("%s\n", label);
    kasko_client *client = make_client(target);
    if (client == NULL) return;
    char seed[ID_SIZE], child_seed[ID_SIZE];
    if (!seed_payment(client, seed, label) || !seed_payment(client, child_seed, label)) {
        kasko_client_free(client);
        return;
    }
    static struct offer child_offers[C_CHILD_OFFERS];
    struct offer parent_offer;
    new_offers(child_offers, C_CHILD_OFFERS);
    new_offers(&parent_offer, 1);

    struct connection before[64];
    int before_count = connections_to(target->port, before, 64);
    CHECK(before_count >= 1, "%s: the parent has no kept-alive connection to port %d before the fork (%d)", label,
          target->port, before_count);

    int from_child[2];
    if (pipe(from_child) != 0) exit(2);
    pid_t pid = fork_child();
    if (pid == 0) {
        close(from_child[0]);
        struct report report;
        memset(&report, 0, sizeof report);
        /* The child's copies of the parent's sockets are closed at once (a
         * fork handler): held, they would keep the parent's close of a
         * connection from reaching the server. Closing a copy sends nothing. */
        struct connection inherited[64];
        int inherited_count = connections_to(target->port, inherited, 64);
        if (inherited_count != 0) {
            report.self.failed++;
            note(&report.self, report.self.first_failed,
                 "the child still holds %d of the parent's connections to port %d", inherited_count, target->port);
        }
        if (child_uses_it) {
            struct plan plan = {client, child_offers, C_CHILD_OFFERS, child_seed, -1, -1, 0, now_ms() + WORK_MS};
            run_plan(&plan, &report.self);
        }
        kasko_client_free(client);
        send_report(from_child[1], &report);
        child_exit(&report);
    }
    close(from_child[1]);
    struct report report;
    int reported = collect_child(label, pid, from_child[0], &report, now_ms() + CHILD_WAIT_MS);
    close(from_child[0]);
    if (reported) check_stats(label, "child", &report.self, child_uses_it ? 2 * C_CHILD_OFFERS : 0);

    /* The child left the parent's connections alone: not a byte more was
     * sent or received on them (a request, a TLS close_notify, nginx's
     * answer to either), and they are still open. */
    struct connection after_child[64];
    int after_child_count = connections_to(target->port, after_child, 64);
    for (int i = 0; i < before_count; i++) {
        const struct connection *now = find_connection(after_child, after_child_count, before[i].inode);
        CHECK(now != NULL, "%s: the parent's connection (socket %lu) is gone", label, (unsigned long)before[i].inode);
        if (now == NULL) continue;
        CHECK(now->sent == before[i].sent && now->received == before[i].received,
              "%s: the child used the parent's connection (socket %lu): %llu bytes were sent and %llu received on it "
              "while the parent was idle",
              label, (unsigned long)before[i].inode, now->sent - before[i].sent, now->received - before[i].received);
        CHECK(now->state == STATE_ESTABLISHED, "%s: the parent's connection (socket %lu) is no longer established "
              "(TCP state %d): the server closed it",
              label, (unsigned long)before[i].inode, now->state);
    }

    /* The parent's next view reuses its connection: no new socket in the
     * parent, and (TLS) no new connection accepted by nginx but the status
     * query itself. */
    long accepts_before = target->status_url ? nginx_accepts(target->status_url) : -1;
    struct stats parent;
    memset(&parent, 0, sizeof parent);
    checked_view(client, seed, &parent);
    long accepts_after = target->status_url ? nginx_accepts(target->status_url) : -1;
    struct connection after_view[64];
    int after_view_count = connections_to(target->port, after_view, 64);
    int same = after_view_count == before_count;
    unsigned long long received_before_view = 0, received_after_view = 0;
    for (int i = 0; same && i < before_count; i++) {
        const struct connection *then = find_connection(after_child, after_child_count, before[i].inode);
        const struct connection *now = find_connection(after_view, after_view_count, before[i].inode);
        same = now != NULL;
        if (then != NULL) received_before_view += then->received;
        if (now != NULL) received_after_view += now->received;
    }
    CHECK(same && received_after_view > received_before_view,
          "%s: the parent's next view did not reuse its kept-alive connection: %d connection(s) before the "
          "fork, %d after the view, %s",
          label, before_count, after_view_count, same ? "the answer came on none of them" : "not the same sockets");
    if (target->status_url) {
        CHECK(accepts_before >= 0 && accepts_after >= 0, "%s: cannot read nginx's stub_status at %s", label,
              target->status_url);
        CHECK(accepts_after - accepts_before == 1,
              "%s: nginx accepted %ld new connection(s) for the parent's next view, want 0 (it reuses its own)", label,
              accepts_after - accepts_before - 1);
    }
    char id[ID_SIZE];
    if (checked_create(client, &parent_offer, id, &parent)) checked_view(client, id, &parent);
    check_stats(label, "parent, after the child", &parent, 3);
    kasko_client_free(client);
}

/* ---- d: a grandchild ------------------------------------------------------- */

enum { D_OFFERS = 10 };

static void scenario_d(const struct target *target) {
    char label[64];
    snprintf(label, sizeof label, "d/%s a grandchild", target->name);
    printf("%s\n", label);
    kasko_client *client = make_client(target);
    if (client == NULL) return;
    char parent_seed[ID_SIZE], child_seed[ID_SIZE], grandchild_seed[ID_SIZE];
    if (!seed_payment(client, parent_seed, label) || !seed_payment(client, child_seed, label)
        || !seed_payment(client, grandchild_seed, label)) {
        kasko_client_free(client);
        return;
    }
    static struct offer parent_offers[D_OFFERS], child_first[D_OFFERS / 2], child_offers[D_OFFERS],
        grandchild_offers[D_OFFERS];
    new_offers(parent_offers, D_OFFERS);
    new_offers(child_first, D_OFFERS / 2);
    new_offers(child_offers, D_OFFERS);
    new_offers(grandchild_offers, D_OFFERS);

    int from_child[2];
    if (pipe(from_child) != 0) exit(2);
    pid_t pid = fork_child();
    if (pid == 0) {
        close(from_child[0]);
        struct report report;
        memset(&report, 0, sizeof report);
        report.has_grandchild = 1;
        /* The child uses the client first, so that it has connections of its own to pass on. */
        struct plan first = {client, child_first, D_OFFERS / 2, child_seed, -1, -1, 0, now_ms() + WORK_MS};
        run_plan(&first, &report.self);
        int from_grandchild[2];
        if (pipe(from_grandchild) != 0) _exit(2);
        pid_t grandchild = fork_child();
        if (grandchild == 0) {
            close(from_grandchild[0]);
            close(from_child[1]);
            struct report mine;
            memset(&mine, 0, sizeof mine);
            struct plan plan = {client, grandchild_offers, D_OFFERS, grandchild_seed, -1, -1, 0, now_ms() + WORK_MS};
            run_plan(&plan, &mine.self);
            kasko_client_free(client);
            send_report(from_grandchild[1], &mine);
            child_exit(&mine);
        }
        close(from_grandchild[1]);
        send_byte(from_child[1], 'R'); /* the parent starts its calls now */
        struct plan plan = {client, child_offers, D_OFFERS, child_seed, -1, -1, 0, now_ms() + WORK_MS};
        run_plan(&plan, &report.self);
        struct report theirs;
        memset(&theirs, 0, sizeof theirs);
        double deadline = now_ms() + CHILD_WAIT_MS * 2 / 3;
        report.grandchild_reported = receive_report(from_grandchild[0], &theirs, deadline) == 0;
        int status = 0;
        report.grandchild_exited = wait_child(grandchild, deadline, &status);
        report.grandchild_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        report.grandchild = theirs.self;
        send_report(from_child[1], &report);
        child_exit(&report);
    }
    close(from_child[1]);
    double deadline = now_ms() + CHILD_WAIT_MS;
    int ready = read_byte(from_child[0], remaining_ms(deadline));
    CHECK(ready == 'R', "%s: the child never forked the grandchild (%d)", label, ready);
    struct stats parent;
    memset(&parent, 0, sizeof parent);
    struct plan plan = {client, parent_offers, D_OFFERS, parent_seed, -1, -1, 0, now_ms() + WORK_MS};
    run_plan(&plan, &parent);
    struct report report;
    int reported = collect_child(label, pid, from_child[0], &report, deadline);
    close(from_child[0]);
    check_stats(label, "parent", &parent, 2 * D_OFFERS);
    if (reported) {
        check_stats(label, "child", &report.self, 3 * D_OFFERS);
        CHECK(report.grandchild_exited, "%s: the grandchild did not finish in time (deadlock?): killed", label);
        CHECK(report.grandchild_status == 0, "%s: the grandchild ended with status %d", label,
              report.grandchild_status);
        CHECK(report.grandchild_reported, "%s: no report from the grandchild", label);
        if (report.grandchild_reported) check_stats(label, "grandchild", &report.grandchild, 2 * D_OFFERS);
    }
    kasko_client_free(client);
}

/* ---- e: a fork waits for a connection being set up ----------------------- */

/* OpenSSL and the resolver take global locks while a connection is set up
 * (RAND, the EVP method store, X509_STORE_new); a fork at that instant can
 * leave the child blocked on one for ever, as a stress of TLS handshakes on
 * six threads with 1,500 forks showed (1 to 2 children hung). So fork()
 * waits until the connection setups in flight are over. Here a server
 * accepts the TCP connection and never answers the ClientHello, which holds
 * a call inside its setup until connect_timeout_ms: fork() must wait for it.
 * Deterministic: the accept proves the call is inside its setup, and the
 * parent's own descriptors show whether it was still there when fork()
 * returned (closing a socket takes effect at once in the process). */

static kasko_status stalled_status;

static void *stalled_call(void *argument) {
    kasko_client *client = argument;
    char *json = NULL;
    kasko_status status = kasko_payment_get(client, "t00000000000000000000000000000000", &json);
    kasko_string_free(json);
    stalled_status = status; /* read after pthread_join */
    return NULL;
}

static void scenario_e(void) {
    const char *label = "e fork while a TLS handshake is in progress";
    printf("%s\n", label);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int listening = listener >= 0 && bind(listener, (struct sockaddr *)&address, sizeof address) == 0
                    && listen(listener, 4) == 0 && getsockname(listener, (struct sockaddr *)&address, &length) == 0;
    CHECK(listening, "%s: a listener", label);
    if (!listening) return;
    char config[1024];
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"https://127.0.0.1:%d\","
             "\"max_retries\":0,\"connect_timeout_ms\":3000}",
             public_key, secret_key, ntohs(address.sin_port));
    kasko_client *client = NULL;
    CHECK(kasko_client_new(config, &client, NULL) == KASKO_OK, "%s: client", label);
    if (client == NULL) {
        close(listener);
        return;
    }
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, stalled_call, client) == 0, "%s: thread", label);
    struct pollfd ready = {listener, POLLIN, 0};
    int accepted = poll(&ready, 1, 10000) == 1 ? accept(listener, NULL, NULL) : -1;
    CHECK(accepted >= 0, "%s: the call connected", label);
    /* The call is now inside its connection setup, and the fork must wait
     * until it is over: libcurl has closed that connection by then. So the
     * child, a copy of the parent at the moment of the fork, must hold no
     * socket connected to the listener. */
    int port = ntohs(address.sin_port);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct connection inherited[8];
        _exit(connections_to(port, inherited, 8));
    }
    /* libcurl closed the half-made connection before the call left its
     * setup, so if the fork waited, the parent no longer has it. */
    struct connection open_after_fork[8];
    int open_count = connections_to(port, open_after_fork, 8);
    CHECK(open_count == 0,
          "%s: fork() returned in the middle of the handshake (the parent still had %d connection(s) being set up)",
          label, open_count);
    int status = 0;
    CHECK(wait_child(pid, now_ms() + 15000, &status) && WIFEXITED(status), "%s: the child exited", label);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the child holds %d socket(s) of the parent's", label,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    pthread_join(thread, NULL);
    CHECK(stalled_status == KASKO_ERR_NETWORK, "%s: the stalled call: %s", label, kasko_status_name(stalled_status));
    kasko_client_free(client);
    if (accepted >= 0) close(accepted);
    close(listener);
}

/* ---- main ------------------------------------------------------------------- */

static int url_port(const char *url) {
    const char *colon = strrchr(url, ':');
    return colon != NULL && colon[1] >= '0' && colon[1] <= '9' ? atoi(colon + 1) : -1;
}

static void run_all(const struct target *target) {
    scenario_a(target);
    scenario_b(target);
    scenario_c(target, 0);
    scenario_c(target, 1);
    scenario_d(target);
}

int main(void) {
    sandbox_environment(&sandbox_url, &public_key, &secret_key,
                        "scripts/with-sandbox (KASKO_SANDBOX_ARGS=--faults) and scripts/check-fork");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm(PROGRAM_SECONDS);
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct target http = {"http", sandbox_url, NULL, NULL, url_port(sandbox_url)};
    run_all(&http);
    scenario_e();

    const char *tls_url = getenv("KASKO_TLS_URL");
    const char *ca = getenv("KASKO_TEST_CA");
    if (tls_url != NULL && ca != NULL) {
        const char *status_url = getenv("KASKO_NGINX_STATUS_URL");
        if (status_url == NULL) printf("note: KASKO_NGINX_STATUS_URL is not set: nginx's accepts are not checked\n");
        struct target tls = {"tls", tls_url, ca, status_url, url_port(tls_url)};
        run_all(&tls);
    } else {
        printf("SKIP the TLS scenarios: KASKO_TLS_URL and KASKO_TEST_CA are not set (run under scripts/check-fork)\n");
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
