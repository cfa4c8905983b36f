#define _POSIX_C_SOURCE 200809L
#include "sandbox_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct buffer {
    char data[8192];
    size_t used;
};

static size_t collect(char *data, size_t size, size_t count, void *user) {
    struct buffer *buffer = user;
    size_t total = size * count;
    if (buffer->used + total >= sizeof buffer->data) return 0;
    memcpy(buffer->data + buffer->used, data, total);
    buffer->used += total;
    buffer->data[buffer->used] = '\0';
    return total;
}

/* POST `body` (or GET when body is NULL) to url; returns the HTTP status. */
static long request(const char *url, const char *body, struct buffer *out) {
    CURL *curl = curl_easy_init();
    if (curl == NULL) return -1;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    out->used = 0;
    out->data[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (body != NULL) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    long status = -1;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
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
