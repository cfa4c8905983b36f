/*
 * common.h - what the C benchmark programs share: the clock, VmRSS, the
 * command loop they serve on stdin, and a start barrier for thread runs.
 *
 * Every loop program (floor, kasko_loop) is a long-lived worker driven by
 * bench/compare.py over a pipe, so that all peers run in one process tree,
 * interleaved round by round, each on its own warm keep-alive connection:
 *
 *   get N        N views, each timed; answers "TOTAL_NS MEDIAN_NS CPU_NS": the
 *                elapsed time of all N, the median time of one call and the
 *                CPU time (user + system) the process used meanwhile
 *   post N       the same with N creates
 *   threads T N [own]
 *                T threads, N views each, timed from a common start to the
 *                last join; answers "ELAPSED_NS CPU_NS". With "own",
 *                each thread uses its own client (a peer without
 *                thread_get_own refuses it)
 *   rss          answers VmRSS in KiB
 *   quit         exits
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_MAX_THREADS 64

static inline uint64_t bench_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* CPU time (user + system) this process has used, in nanoseconds. */
static inline uint64_t bench_cpu_ns(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return ((uint64_t)u.ru_utime.tv_sec + (uint64_t)u.ru_stime.tv_sec) * 1000000000u
        + ((uint64_t)u.ru_utime.tv_usec + (uint64_t)u.ru_stime.tv_usec) * 1000u;
}

/* VmRSS of this process in KiB, or -1. */
static inline long bench_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

static inline void bench_die(const char *who, const char *what) {
    fprintf(stderr, "%s: %s\n", who, what);
    exit(1);
}

/*
 * Keeps the compiler from eliding a malloc/memcpy/free whose result is never
 * read: both peers copy the body into a fresh heap string, as a caller of
 * libkasko receives it.
 */
static inline void bench_consume(const char *text) {
    __asm__ volatile("" : : "r"(text) : "memory");
}

static int bench_compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median of `n` samples (sorts them). */
static uint64_t bench_median(uint64_t *samples, size_t n) {
    qsort(samples, n, sizeof *samples, bench_compare_u64);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

/* The peer's operations. Each exits the process on failure. */
typedef struct bench_ops {
    const char *name;
    void (*get)(void);
    void (*post)(void);
    /* Runs `per_thread` views on thread `index` of `threads`. */
    void (*thread_get)(int index, long per_thread);
    /* The same, each thread with its own client (may be NULL). */
    void (*thread_get_own)(int index, long per_thread);
    /* Called before each thread run, from the main thread (may be NULL). */
    void (*threads_prepare)(int threads, int own);
} bench_ops;

typedef struct bench_thread_arg {
    void (*run)(int index, long per_thread);
    int index;
    long calls;
    pthread_barrier_t *barrier;
} bench_thread_arg;

static void *bench_thread_main(void *raw) {
    bench_thread_arg *arg = raw;
    pthread_barrier_wait(arg->barrier);
    arg->run(arg->index, arg->calls);
    return NULL;
}

static uint64_t bench_run_threads(const bench_ops *ops, int threads, long per_thread, int own) {
    pthread_t ids[BENCH_MAX_THREADS];
    bench_thread_arg args[BENCH_MAX_THREADS];
    pthread_barrier_t barrier;
    if (ops->threads_prepare != NULL) {
        ops->threads_prepare(threads, own);
    }
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        args[i] = (bench_thread_arg){own ? ops->thread_get_own : ops->thread_get, i, per_thread, &barrier};
        if (pthread_create(&ids[i], NULL, bench_thread_main, &args[i]) != 0) {
            bench_die(ops->name, "pthread_create failed");
        }
    }
    pthread_barrier_wait(&barrier);
    uint64_t start = bench_now_ns();
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
    }
    uint64_t elapsed = bench_now_ns() - start;
    pthread_barrier_destroy(&barrier);
    return elapsed;
}

/* Serves commands from stdin until "quit" or end of input. */
static int bench_serve(const bench_ops *ops) {
    char line[256];
    uint64_t *samples = NULL;
    size_t sample_capacity = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin) != NULL) {
        long a = 0, b = 0;
        if (sscanf(line, "get %ld", &a) == 1 || sscanf(line, "post %ld", &a) == 1) {
            void (*call)(void) = line[0] == 'g' ? ops->get : ops->post;
            if (a < 1) {
                bench_die(ops->name, "call count must be positive");
            }
            if ((size_t)a > sample_capacity) {
                free(samples);
                samples = malloc((size_t)a * sizeof *samples);
                if (samples == NULL) {
                    bench_die(ops->name, "out of memory");
                }
                sample_capacity = (size_t)a;
            }
            uint64_t cpu = bench_cpu_ns();
            uint64_t start = bench_now_ns(), before = start;
            for (long i = 0; i < a; i++) {
                call();
                uint64_t after = bench_now_ns();
                samples[i] = after - before;
                before = after;
            }
            uint64_t total = before - start;
            cpu = bench_cpu_ns() - cpu;
            printf("%llu %llu %llu\n", (unsigned long long)total, (unsigned long long)bench_median(samples, (size_t)a),
                   (unsigned long long)cpu);
        } else if (sscanf(line, "threads %ld %ld", &a, &b) == 2) {
            int own = strstr(line, "own") != NULL;
            if (a < 1 || a > BENCH_MAX_THREADS) {
                bench_die(ops->name, "thread count out of range");
            }
            if (own && ops->thread_get_own == NULL) {
                bench_die(ops->name, "this peer has no client per thread");
            }
            uint64_t cpu = bench_cpu_ns();
            uint64_t elapsed = bench_run_threads(ops, (int)a, b, own);
            printf("%llu %llu\n", (unsigned long long)elapsed, (unsigned long long)(bench_cpu_ns() - cpu));
        } else if (strncmp(line, "rss", 3) == 0) {
            printf("%ld\n", bench_rss_kib());
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            fprintf(stderr, "%s: unknown command: %s", ops->name, line);
            free(samples);
            return 2;
        }
    }
    free(samples);
    return 0;
}

#endif /* BENCH_COMMON_H */
