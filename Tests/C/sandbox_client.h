/* Test helpers: the sandbox-only endpoints (offers, settling, faults,
 * counters) over plain HTTP sockets, and a small JSON field reader for
 * assertions. */
#ifndef SANDBOX_CLIENT_H
#define SANDBOX_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Reads KASKO_SANDBOX_URL and the sandbox's keys (scripts/with-sandbox sets
 * them); exits with status 2 and `how_to_run` when they are not set. */
void sandbox_environment(const char **base_url, const char **public_key, const char **secret_key,
                         const char *how_to_run);

/* Creates an offer; fills policy_id and token. Returns 0 on success. */
int sandbox_new_offer(const char *base_url, char *policy_id, size_t policy_size, char *token, size_t token_size);

/* Settles a pending payment ("ok" or "failed"). Returns the HTTP status. */
long sandbox_settle(const char *base_url, const char *payment_id, const char *status);

/* Fault injection (a sandbox started with --faults): arms `fault_json` for
 * the next `times` requests whose fault key is `key` (the payment id of a
 * view, the policy id of a create); times 0 means until cleared. Returns the
 * HTTP status (201 when armed). */
long sandbox_arm_fault(const char *base_url, const char *key, const char *fault_json, int times);

/* The same, for one route only ("payment_create", "policy_view", ...). */
long sandbox_arm_route_fault(const char *base_url, const char *key, const char *route, const char *fault_json,
                             int times);

/* How many payments the sandbox has ever created on the policy, or -1
 * (GET /__sandbox/policies/{id}/payments). */
long sandbox_policy_payment_count(const char *base_url, const char *policy_id);

/* Approves an offer awaiting manual underwriting. Returns the HTTP status. */
long sandbox_approve_offer(const char *base_url, const char *policy_id);

/* How many requests with fault key `key` the sandbox has seen, or -1. */
long sandbox_attempts(const char *base_url, const char *key);

/* TCP connections the sandbox has accepted since it started, counting the
 * one this call opens, or -1. */
long sandbox_connections(const char *base_url);

/* Copies the first string member `key` of a flat-enough JSON text into out.
 * Returns 0 when found. Good enough for the library's and sandbox's output. */
int json_string_field(const char *json, const char *key, char *out, size_t size);

/* Whether member `key` exists (with any value). */
int json_has_field(const char *json, const char *key);

/* The integer value of member `key`, or -1 when absent or not a number. */
long json_int_field(const char *json, const char *key);

/* A result's string member `name` copied into out ("" when it is absent,
 * null or not a string), and its integer member (-1 when absent, null or
 * not an integer): how the event tests read a hook's borrowed event. */
struct kasko_result;
void result_string_member(const struct kasko_result *result, const char *name, char *out, size_t size);
int64_t result_int_member(const struct kasko_result *result, const char *name);

/* A loopback TCP port with nothing listening on it (bound, then closed). */
int unused_loopback_port(void);

#endif
