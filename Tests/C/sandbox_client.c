#define _DEFAULT_SOURCE
#include "sandbox_client.h"
#include <kasko.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct buffer {
    char data[8192];
    size_t used;
};

/* POST `body` (or GET when body is NULL) to url; returns the HTTP status and
 * leaves the response body in `out`. Plain HTTP/1.1 over a socket of its
 * own, one request per connection: these helpers run on the test's threads
 * beside the library, and using libcurl here too would put its global-init
 * spin lock (C11 atomics, invisible to helgrind) between test and library
 * threads in the race detectors' reports. */
static long request(const char *url, const char *body, struct buffer *out) {
    out->used = 0;
    out->data[0] = '\0';
    const char *prefix = "http://";
    if (strncmp(url, prefix, strlen(prefix)) != 0) return -1;
    const char *authority = url + strlen(prefix);
    const char *path = strchr(authority, '/');
    if (path == NULL) return -1;
    char host[256];
    const char *colon = memchr(authority, ':', (size_t)(path - authority));
    if (colon == NULL || (size_t)(colon - authority) >= sizeof host) return -1;
    memcpy(host, authority, (size_t)(colon - authority));
    host[colon - authority] = '\0';
    char port[16];
    if ((size_t)(path - colon - 1) >= sizeof port) return -1;
    memcpy(port, colon + 1, (size_t)(path - colon - 1));
    port[path - colon - 1] = '\0';

    struct addrinfo hints, *address = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &address) != 0 || address == NULL) return -1;
    int fd = socket(address->ai_family, SOCK_STREAM, 0);
    struct timeval timeout = {30, 0};
    int connected = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0
                    && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) == 0
                    && connect(fd, address->ai_addr, address->ai_addrlen) == 0;
    freeaddrinfo(address);
    if (!connected) {
        if (fd >= 0) close(fd);
        return -1;
    }
    char head[1024];
    size_t body_length = body != NULL ? strlen(body) : 0;
    int head_length = snprintf(head, sizeof head,
                               "%s %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                               "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                               body != NULL ? "POST" : "GET", path, host, port, body_length);
    int sent = head_length > 0 && (size_t)head_length < sizeof head
               && send(fd, head, (size_t)head_length, MSG_NOSIGNAL) == head_length
               && (body_length == 0 || send(fd, body, body_length, MSG_NOSIGNAL) == (ssize_t)body_length);
    /* The whole response, until the server closes (Connection: close). */
    char response[sizeof out->data + 2048];
    size_t used = 0;
    ssize_t count;
    while (sent && used < sizeof response - 1 && (count = recv(fd, response + used, sizeof response - 1 - used, 0)) > 0) {
        used += (size_t)count;
    }
    close(fd);
    response[used] = '\0';
    long status = -1;
    if (!sent || sscanf(response, "HTTP/1.%*d %ld", &status) != 1) return -1;
    const char *content = strstr(response, "\r\n\r\n");
    if (content != NULL) {
        content += 4;
        size_t length = strlen(content);
        if (length >= sizeof out->data) return -1;
        memcpy(out->data, content, length + 1);
        out->used = length;
    }
    return status;
}

void sandbox_environment(const char **base_url, const char **public_key, const char **secret_key,
                         const char *how_to_run) {
    *base_url = getenv("KASKO_SANDBOX_URL");
    *public_key = getenv("KASKO_SANDBOX_PUBLIC_KEY");
    *secret_key = getenv("KASKO_SANDBOX_SECRET_KEY");
    if (*base_url == NULL || *public_key == NULL || *secret_key == NULL) {
        fprintf(stderr, "KASKO_SANDBOX_URL and the sandbox keys are not set: run under %s\n", how_to_run);
        exit(2);
    }
}

int sandbox_new_offer(const char *base_url, char *policy_id, size_t policy_size, char *token, size_t token_size) {
    char url[512];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/offers", base_url);
    long status = request(url, "{}", &out);
    if (status < 200 || status > 299) return -1;
    if (json_string_field(out.data, "policy_id", policy_id, policy_size) != 0) return -1;
    return json_string_field(out.data, "token", token, token_size);
}

long sandbox_settle(const char *base_url, const char *payment_id, const char *status) {
    char url[512];
    char body[64];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/payments/%s/settle", base_url, payment_id);
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    return request(url, body, &out);
}

long sandbox_arm_fault(const char *base_url, const char *key, const char *fault_json, int times) {
    char url[512];
    char body[2048];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/faults", base_url);
    if (times > 0) {
        snprintf(body, sizeof body, "{\"key\":\"%s\",\"fault\":%s,\"times\":%d}", key, fault_json, times);
    } else {
        snprintf(body, sizeof body, "{\"key\":\"%s\",\"fault\":%s}", key, fault_json);
    }
    return request(url, body, &out);
}

long sandbox_arm_route_fault(const char *base_url, const char *key, const char *route, const char *fault_json,
                             int times) {
    char url[512];
    char body[2048];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/faults", base_url);
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"route\":\"%s\",\"fault\":%s,\"times\":%d}", key, route,
             fault_json, times);
    return request(url, body, &out);
}

long sandbox_policy_payment_count(const char *base_url, const char *policy_id) {
    char url[512];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/policies/%s/payments", base_url, policy_id);
    if (request(url, NULL, &out) != 200) return -1;
    /* {"policy_id":"…","payments":["t…",…]}: count the strings in the array. */
    const char *list = strstr(out.data, "\"payments\"");
    if (list == NULL || (list = strchr(list, '[')) == NULL) return -1;
    long quotes = 0;
    for (const char *c = list + 1; *c != '\0' && *c != ']'; c++) {
        if (*c == '"') quotes++;
    }
    return quotes / 2;
}

long sandbox_approve_offer(const char *base_url, const char *policy_id) {
    char url[512];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/offers/%s/approve", base_url, policy_id);
    return request(url, "{}", &out);
}

long sandbox_attempts(const char *base_url, const char *key) {
    char url[512];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/attempts/%s", base_url, key);
    if (request(url, NULL, &out) != 200) return -1;
    return json_int_field(out.data, "attempts");
}

/* Points at the first character of member `key`'s value, or NULL. */
static const char *member_value(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *at = json;
    while ((at = strstr(at, pattern)) != NULL) {
        const char *p = at + strlen(pattern);
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
        if (*p == ':') {
            p++;
            while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
            return p;
        }
        at = p;
    }
    return NULL;
}

int json_string_field(const char *json, const char *key, char *out, size_t size) {
    const char *value = member_value(json, key);
    if (value == NULL || *value != '"') return -1;
    value++;
    size_t length = 0;
    while (value[length] != '\0' && value[length] != '"') {
        if (value[length] == '\\' && value[length + 1] != '\0') length++;
        length++;
    }
    if (length >= size) return -1;
    memcpy(out, value, length);
    out[length] = '\0';
    return 0;
}

int json_has_field(const char *json, const char *key) {
    return member_value(json, key) != NULL;
}

long json_int_field(const char *json, const char *key) {
    const char *value = member_value(json, key);
    if (value == NULL || *value < '0' || *value > '9') return -1;
    return strtol(value, NULL, 10);
}

int unused_loopback_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) == 0
        && getsockname(fd, (struct sockaddr *)&address, &length) == 0) {
        port = ntohs(address.sin_port);
    }
    close(fd);
    return port;
}

long sandbox_connections(const char *base_url) {
    char url[512];
    struct buffer out;
    snprintf(url, sizeof url, "%s/__sandbox/connections", base_url);
    if (request(url, NULL, &out) != 200) return -1;
    return json_int_field(out.data, "accepted");
}

void result_string_member(const kasko_result *result, const char *name, char *out, size_t size) {
    const char *value = NULL;
    out[0] = 0;
    if (kasko_result_member_string(result, name, &value, NULL) == KASKO_OK && value != NULL)
        snprintf(out, size, "%s", value);
}

int64_t result_int_member(const kasko_result *result, const char *name) {
    int64_t value = -1;
    if (kasko_result_member_int64(result, name, &value) != KASKO_OK) return -1;
    return value;
}
