/*
 * coldstart.c - times whole processes: posix_spawn to waitpid, wall clock.
 *
 *   coldstart RUNS PROGRAM [ARGS...]
 *
 * Runs PROGRAM RUNS times, one after another (stdout to /dev/null, stderr
 * kept), fails if any run exits non-zero, and prints the median, minimum and
 * maximum in microseconds: "median_us min_us max_us".
 */
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: coldstart RUNS PROGRAM [ARGS...]\n");
        return 2;
    }
    int runs = atoi(argv[1]);
    if (runs < 1 || runs > 10000) {
        fprintf(stderr, "coldstart: RUNS must be 1..10000\n");
        return 2;
    }
    uint64_t *times = calloc((size_t)runs, sizeof *times);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    for (int i = 0; i < runs; i++) {
        pid_t pid;
        uint64_t start = now_ns();
        int rc = posix_spawn(&pid, argv[2], &actions, NULL, &argv[2], environ);
        if (rc != 0) {
            fprintf(stderr, "coldstart: cannot spawn %s\n", argv[2]);
            return 1;
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0) {
        }
        times[i] = now_ns() - start;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "coldstart: %s failed (status %d)\n", argv[2], status);
            return 1;
        }
    }
    qsort(times, (size_t)runs, sizeof *times, compare);
    uint64_t median = runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    printf("%llu %llu %llu\n", (unsigned long long)(median / 1000), (unsigned long long)(times[0] / 1000),
           (unsigned long long)(times[runs - 1] / 1000));
    return 0;
}
