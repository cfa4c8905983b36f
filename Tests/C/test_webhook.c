/* kasko_webhook_verify (1.3): the reference's test vector (section 6.3 of
 * the wider-API reference, all three lines), tampered bodies, other secrets,
 * a shortened length, bodies with NUL bytes, hex case, malformed headers,
 * NULLs, and many threads at once. No sandbox, no client, no network. */
#include <kasko.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

static const char SECRET[] = "whsec_test_secret";
static const char BODY[] =
    "{\"id\":\"tpol_0000000000000000000000000000\",\"livemode\":false,\"policy_id\":\"TEST-POLICY-12345\"}";
static const char BODY_NL[] =
    "{\"id\":\"tpol_0000000000000000000000000000\",\"livemode\":false,\"policy_id\":\"TEST-POLICY-12345\"}\n";
static const char SIGNATURE[] = "sha1=bed331ec2031e668907869f5ed39cf12136167a9";
static const char SIGNATURE_NL[] = "sha1=f42fe9d573c1ddf6f388aeb10c6e9330a07e1320";
static const char SIGNATURE_NO_PREFIX_KEY[] = "sha1=b99e8a97c5f8540099eae9ce852cd1c0fc335295";

static kasko_status verify(const char *secret, const char *body, size_t length, const char *header) {
    return kasko_webhook_verify(secret, body, length, header);
}

#define EXPECT(expected, call)                                                              \
    do {                                                                                    \
        kasko_status got_ = (call);                                                         \
        CHECK(got_ == (expected), "%s: got %s, expected %s", #call, kasko_status_name(got_), \
              kasko_status_name(expected));                                                 \
    } while (0)

static void test_reference_vector(void) {
    CHECK(strlen(BODY) == 91, "the reference's body is 91 bytes, this is %zu", strlen(BODY));
    EXPECT(KASKO_OK, verify(SECRET, BODY, strlen(BODY), SIGNATURE));
    EXPECT(KASKO_OK, verify(SECRET, BODY_NL, strlen(BODY_NL), SIGNATURE_NL));
    EXPECT(KASKO_OK, verify("test_secret", BODY, strlen(BODY), SIGNATURE_NO_PREFIX_KEY));
    /* each line's signature is not another's */
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY_NL, strlen(BODY_NL), SIGNATURE));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY, strlen(BODY), SIGNATURE_NL));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY, strlen(BODY), SIGNATURE_NO_PREFIX_KEY));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify("test_secret", BODY, strlen(BODY), SIGNATURE));
}

static void test_tampering(void) {
    char body[sizeof BODY];
    memcpy(body, BODY, sizeof BODY);
    body[strlen(body) - 3] = '6'; /* ...12346" */
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, body, strlen(body), SIGNATURE));
    /* a different secret, one byte longer, one byte shorter */
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify("whsec_test_secreT", BODY, strlen(BODY), SIGNATURE));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify("whsec_test_secret ", BODY, strlen(BODY), SIGNATURE));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify("whsec_test_secre", BODY, strlen(BODY), SIGNATURE));
    /* exactly payload_len bytes: the body shortened by one, and lengthened
     * into the NUL terminator */
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY, strlen(BODY) - 1, SIGNATURE));
    EXPECT(KASKO_OK, verify(SECRET, BODY, 90, "sha1=939350d6ff33503753e50caa465a5bdacbf7dce2"));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY, strlen(BODY) + 1, SIGNATURE));
    /* one digit of the digest changed, first and last */
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY, strlen(BODY), "sha1=aed331ec2031e668907869f5ed39cf12136167a9"));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY, strlen(BODY), "sha1=bed331ec2031e668907869f5ed39cf12136167a8"));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, BODY, strlen(BODY), "sha1=0000000000000000000000000000000000000000"));
}

static void test_nul_bytes(void) {
    /* 16 bytes with NULs inside: signed over all of them */
    static const char body[] = "{\"a\":\"x\0y\"}\0tail";
    size_t length = sizeof body - 1;
    CHECK(length == 16, "length %zu", length);
    EXPECT(KASKO_OK, verify(SECRET, body, length, "sha1=64b69479808ca69a18e0c186d6059958e972b6c1"));
    /* what strlen sees (up to the first NUL) is another body */
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, body, strlen(body), "sha1=64b69479808ca69a18e0c186d6059958e972b6c1"));
    EXPECT(KASKO_OK, verify(SECRET, body, strlen(body), "sha1=76564ac2751b22a7fa157e5e9765897092bfc88a"));
    /* a changed byte after the first NUL is seen */
    char copy[sizeof body];
    memcpy(copy, body, sizeof body);
    copy[15] = 'L';
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, copy, length, "sha1=64b69479808ca69a18e0c186d6059958e972b6c1"));
}

static void test_hex_case(void) {
    EXPECT(KASKO_OK, verify(SECRET, BODY, strlen(BODY), "sha1=BED331EC2031E668907869F5ED39CF12136167A9"));
    EXPECT(KASKO_OK, verify(SECRET, BODY, strlen(BODY), "sha1=BeD331eC2031E668907869f5ED39cf12136167A9"));
    /* the prefix is not case-insensitive: KASKO documents "sha1=" */
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(SECRET, BODY, strlen(BODY), "SHA1=bed331ec2031e668907869f5ed39cf12136167a9"));
}

static void test_malformed_headers(void) {
    static const char *const headers[] = {
        "",
        "bed331ec2031e668907869f5ed39cf12136167a9",        /* no prefix */
        "sha1bed331ec2031e668907869f5ed39cf12136167a9",    /* no '=' */
        "Sha1=bed331ec2031e668907869f5ed39cf12136167a9",   /* each byte of the prefix counts */
        "xha1=bed331ec2031e668907869f5ed39cf12136167a9",
        "sxa1=bed331ec2031e668907869f5ed39cf12136167a9",
        "shx1=bed331ec2031e668907869f5ed39cf12136167a9",
        "shax=bed331ec2031e668907869f5ed39cf12136167a9",
        "sha1:bed331ec2031e668907869f5ed39cf12136167a9",
        "sha2=bed331ec2031e668907869f5ed39cf12136167a9",
        "sha256=bed331ec2031e668907869f5ed39cf12136167a9", /* another algorithm */
        "sha1=",                                           /* no digest */
        "sha1=bed331ec2031e668907869f5ed39cf12136167a",    /* 39 digits */
        "sha1=bed331ec2031e668907869f5ed39cf12136167a90",  /* 41 digits */
        "sha1=bed331ec2031e668907869f5ed39cf12136167a9bed331ec2031e668907869f5ed39cf12136167a9",
        "sha1=bed331ec2031e668907869f5ed39cf1213616",      /* 35 digits (odd) */
        "sha1=bed331ec2031e668907869f5ed39cf12136167g9",   /* 'g' */
        "sha1=bed331ec2031e668907869f5ed39cf12136167 9",   /* space inside */
        "sha1=bed331ec2031e668907869f5ed39cf12136167a9 ",  /* trailing space: 41 */
        " sha1=bed331ec2031e668907869f5ed39cf12136167a9",  /* leading space */
        "sha1=bed331ec2031e668907869f5ed39cf12136167a9\n", /* newline */
        "sha1=0xd331ec2031e668907869f5ed39cf12136167a9",   /* 0x */
        "sha1=bed331ec2031e668907869f5ed39cf12136167-9",   /* '-' */
        "sha1=bed331ec2031e668907869f5ed39cf12136167\xc3\xa9", /* UTF-8 */
        "sha1=bed331ec2031e668907869f5ed39cf12136167:9",   /* ':' (after '9') */
        "sha1=bed331ec2031e668907869f5ed39cf12136167@9",   /* '@' (before 'A') */
        "sha1=bed331ec2031e668907869f5ed39cf12136167`9",   /* '`' (before 'a') */
        "sha1=bed331ec2031e668907869f5ed39cf12136167G9",   /* 'G' */
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        kasko_status status = verify(SECRET, BODY, strlen(BODY), headers[i]);
        CHECK(status == KASKO_ERR_INVALID_ARGUMENT, "header %zu \"%s\": %s", i, headers[i], kasko_status_name(status));
    }
    /* a header whose digest is cut short by a NUL */
    static const char cut[] = "sha1=bed331ec2031e668907869f5ed39cf1213616\0" "7a9";
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(SECRET, BODY, strlen(BODY), cut));
}

static void test_null_and_empty(void) {
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(NULL, BODY, strlen(BODY), SIGNATURE));
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(SECRET, BODY, strlen(BODY), NULL));
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(SECRET, NULL, strlen(BODY), SIGNATURE));
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(SECRET, NULL, 1, SIGNATURE));
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(NULL, NULL, 0, NULL));
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(SECRET, NULL, (size_t)-1, SIGNATURE));
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify(SECRET, BODY, (size_t)-1, SIGNATURE));
    /* an empty secret is refused, even with the right HMAC for it */
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify("", BODY, strlen(BODY), SIGNATURE));
    EXPECT(KASKO_ERR_INVALID_ARGUMENT, verify("", "", 0, "sha1=fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"));
    /* an empty body: NULL with length 0 is that body, as is "" */
    static const char empty_signature[] = "sha1=2f0bd1d2d712bf4a22d695e03115fa82101d175e";
    EXPECT(KASKO_OK, verify(SECRET, NULL, 0, empty_signature));
    EXPECT(KASKO_OK, verify(SECRET, "", 0, empty_signature));
    EXPECT(KASKO_OK, verify(SECRET, BODY, 0, empty_signature));
    EXPECT(KASKO_ERR_BAD_SIGNATURE, verify(SECRET, NULL, 0, SIGNATURE));
}

enum { THREADS = 8, ROUNDS = 500 };

static void *verify_many(void *argument) {
    long bad = 0;
    (void)argument;
    for (int i = 0; i < ROUNDS; i++) {
        if (verify(SECRET, BODY, strlen(BODY), SIGNATURE) != KASKO_OK) bad++;
        if (verify(SECRET, BODY_NL, strlen(BODY_NL), SIGNATURE) != KASKO_ERR_BAD_SIGNATURE) bad++;
        if (verify("test_secret", BODY, strlen(BODY), SIGNATURE_NO_PREFIX_KEY) != KASKO_OK) bad++;
    }
    return (void *)bad;
}

static void test_threads(void) {
    pthread_t threads[THREADS];
    int started = 0;
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&threads[i], NULL, verify_many, NULL) == 0) started++;
    CHECK(started == THREADS, "%d of %d threads started", started, THREADS);
    long bad = 0;
    for (int i = 0; i < started; i++) {
        void *result = NULL;
        pthread_join(threads[i], &result);
        bad += (long)result;
    }
    CHECK(bad == 0, "%ld wrong answers from %d threads at once", bad, started);
}

static void test_status_name(void) {
    CHECK(KASKO_ERR_BAD_SIGNATURE == 11, "KASKO_ERR_BAD_SIGNATURE is %d", (int)KASKO_ERR_BAD_SIGNATURE);
    CHECK(strcmp(kasko_status_name(KASKO_ERR_BAD_SIGNATURE), "KASKO_ERR_BAD_SIGNATURE") == 0, "name %s",
          kasko_status_name(KASKO_ERR_BAD_SIGNATURE));
    /* 12 is KASKO_ERR_CANCELLED (1.4); the one after the last status is unknown. */
    CHECK(strcmp(kasko_status_name((kasko_status)(KASKO_ERR_CANCELLED + 1)), "KASKO_STATUS_UNKNOWN") == 0,
          "%d is %s", (int)KASKO_ERR_CANCELLED + 1, kasko_status_name((kasko_status)(KASKO_ERR_CANCELLED + 1)));
    kasko_result *result = NULL;
    kasko_status status = kasko_result_new_error(KASKO_ERR_BAD_SIGNATURE, "bad signature", &result);
    CHECK(status == KASKO_ERR_BAD_SIGNATURE, "kasko_result_new_error: %s", kasko_status_name(status));
    CHECK(result != NULL && kasko_result_status(result) == KASKO_ERR_BAD_SIGNATURE, "the result's status");
    CHECK(result != NULL && strstr(kasko_result_json(result), "\"code\":\"KASKO_ERR_BAD_SIGNATURE\"") != NULL,
          "the error object: %s", result ? kasko_result_json(result) : "(none)");
    kasko_result_free(result);
}

int main(void) {
    CHECK(kasko_version_number() >= 1003000, "the library is %s, older than 1.3.0", kasko_version());
    test_reference_vector();
    test_tampering();
    test_nul_bytes();
    test_hex_case();
    test_malformed_headers();
    test_null_and_empty();
    test_threads();
    test_status_name();
    printf("test_webhook: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
