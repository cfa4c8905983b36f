/* The bench at scale (issue 15): N views of one payment against a sandbox
 * with a fixed response delay, K in flight at a time, either
 *   async    libkasko's asynchronous calls, refilled from the callbacks, or
 *   threads  libkasko's blocking calls on K threads,
 * and one JSON line of what it cost: throughput, latency percentiles, CPU
 * time per request, the most threads the process had, its peak RSS.
 *
 *   async_load async|threads URL PUBLIC_KEY SECRET_KEY PAYMENT_ID N K */
#define _GNU_SOURCE
#include <kasko.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static kasko_client *client;
static const char *payment_id;
static long total, in_flight;
static double *latencies_ms;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_done = PTHREAD_COND_INITIALIZER;
static long submitted, completed, failed;
static long threads_max;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* "Threads:" and "VmHWM:" of /proc/self/status. */
static long status_field(const char *name) {
    FILE *file = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    size_t length = strlen(name);
    while (file != NULL && fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, name, length) == 0) {
            value = strtol(line + length, NULL, 10);
            break;
        }
    }
    if (file != NULL) fclose(file);
    return value;
}

static void note_threads(void) {
    long threads = status_field("Threads:");
    if (threads > threads_max) threads_max = threads;
}

struct slot {
    long index;
    double started;
};

static void submit_next(struct slot *slot);

static void on_done(kasko_result *result, void *user_data) {
    struct slot *slot = user_data;
    double ended = now_ms();
    int ok = kasko_result_status(result) == KASKO_OK;
    if (!ok && failed < 3) fprintf(stderr, "async_load: %s\n", kasko_result_message(result));
    kasko_result_free(result);
    pthread_mutex_lock(&lock);
    latencies_ms[slot->index] = ended - slot->started;
    if (!ok) failed++;
    completed++;
    int finished = completed == total;
    if (completed % 1000 == 0) note_threads();
    pthread_mutex_unlock(&lock);
    if (finished) {
        pthread_mutex_lock(&lock);
        pthread_cond_signal(&all_done);
        pthread_mutex_unlock(&lock);
    }
    submit_next(slot);
}

/* Takes the next request number for `slot`, or frees it when none is left. */
static void submit_next(struct slot *slot) {
    pthread_mutex_lock(&lock);
    long index = submitted < total ? submitted++ : -1;
    pthread_mutex_unlock(&lock);
    if (index < 0) {
        free(slot);
        return;
    }
    slot->index = index;
    slot->started = now_ms();
    kasko_status status = kasko_payment_get_async(client, payment_id, NULL, on_done, slot, NULL);
    if (status != KASKO_OK) {
        fprintf(stderr, "async_load: submit refused: %s\n", kasko_status_name(status));
        exit(1);
    }
}

static void *blocking_worker(void *unused) {
    (void)unused;
    while (1) {
        pthread_mutex_lock(&lock);
        long index = submitted < total ? submitted++ : -1;
        pthread_mutex_unlock(&lock);
        if (index < 0) return NULL;
        double started = now_ms();
        kasko_result *result = NULL;
        int ok = kasko_payment_get_v2(client, payment_id, NULL, &result) == KASKO_OK;
        if (!ok && failed < 3) fprintf(stderr, "async_load: %s\n", kasko_result_message(result));
        kasko_result_free(result);
        double ended = now_ms();
        pthread_mutex_lock(&lock);
        latencies_ms[index] = ended - started;
        if (!ok) failed++;
        completed++;
        if (completed % 1000 == 0) note_threads();
        pthread_mutex_unlock(&lock);
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s async|threads URL PUBLIC_KEY SECRET_KEY PAYMENT_ID N K\n", argv[0]);
        return 2;
    }
    int threads_mode = strcmp(argv[1], "threads") == 0;
    payment_id = argv[5];
    total = atol(argv[6]);
    in_flight = atol(argv[7]);
    if (total <= 0 || in_flight <= 0 || in_flight > total) return 2;
    latencies_ms = calloc((size_t)total, sizeof *latencies_ms);
    char config[1024];
    /* Generous limits: the bench measures throughput, not give-up times. */
    snprintf(config, sizeof config,
             "{\"public_key\":\"%s\",\"secret_key\":\"%s\",\"base_url\":\"%s\",\"timeout_ms\":60000,"
             "\"connect_timeout_ms\":30000,\"max_retries\":0}",
             argv[3], argv[4], argv[2]);
    kasko_result *refusal = NULL;
    if (kasko_client_new_v2(config, &client, &refusal) != KASKO_OK) {
        fprintf(stderr, "async_load: %s\n", kasko_result_message(refusal));
        return 1;
    }
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    double started = now_ms();
    pthread_t *workers = NULL;
    if (threads_mode) {
        workers = calloc((size_t)in_flight, sizeof *workers);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setstacksize(&attributes, 256 * 1024);
        for (long i = 0; i < in_flight; i++) {
            if (pthread_create(&workers[i], &attributes, blocking_worker, NULL) != 0) {
                fprintf(stderr, "async_load: thread %ld could not start\n", i);
                return 1;
            }
        }
        pthread_mutex_lock(&lock);
        note_threads();
        pthread_mutex_unlock(&lock);
        for (long i = 0; i < in_flight; i++) pthread_join(workers[i], NULL);
    } else {
        for (long i = 0; i < in_flight; i++) {
            struct slot *slot = malloc(sizeof *slot);
            submit_next(slot);
        }
        pthread_mutex_lock(&lock);
        note_threads();
        while (completed < total) pthread_cond_wait(&all_done, &lock);
        pthread_mutex_unlock(&lock);
    }
    double elapsed_ms = now_ms() - started;
    getrusage(RUSAGE_SELF, &after);
    long rss_kb = status_field("VmHWM:");
    double cpu_us = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) * 1e6 + (after.ru_utime.tv_usec - before.ru_utime.tv_usec)
                    + (after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e6 + (after.ru_stime.tv_usec - before.ru_stime.tv_usec);
    qsort(latencies_ms, (size_t)total, sizeof *latencies_ms, by_value);
    printf("{\"peer\":\"libkasko C %s\",\"requests\":%ld,\"in_flight\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
           "\"rps\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"cpu_us_per_request\":%.1f,\"threads\":%ld,\"rss_mb\":%.1f}\n",
           threads_mode ? "blocking, a thread per call" : "async", total, in_flight, failed, elapsed_ms / 1e3,
           total / (elapsed_ms / 1e3), latencies_ms[total / 2], latencies_ms[(long)(total * 0.99)], cpu_us / total,
           threads_max, rss_kb / 1024.0);
    kasko_client_free(client);
    free(workers);
    free(latencies_ms);
    return failed == 0 ? 0 : 1;
}
