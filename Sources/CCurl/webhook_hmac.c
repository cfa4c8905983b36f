/*
 * HMAC-SHA1 for webhook signatures (kasko_webhook_verify), from the
 * system's libcrypto (OpenSSL 3): the one-shot HMAC() and CRYPTO_memcmp for
 * a comparison whose time does not depend on where the digests differ.
 * Nothing here is hand-written cryptography. See CCurl.h for the contract.
 */
#include "CCurl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int ccurl_webhook_hmac_sha1_matches(const void *key, size_t key_length, const void *message,
                                    size_t message_length, const unsigned char expected[20]) {
    static const unsigned char empty[1] = {0};
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (key == NULL || key_length == 0 || key_length > (size_t)INT_MAX || expected == NULL) return -1;
    if (message == NULL) {
        if (message_length != 0) return -1;
        message = empty;
    }
    /* OpenSSL takes its library context's locks while it fetches HMAC and
     * SHA-1: inside the fork gate, so that a child never inherits them held
     * by a thread it does not have (fork_gate.c). */
    ccurl_fork_gate_enter();
    const unsigned char *made = HMAC(EVP_sha1(), key, (int)key_length, message, message_length, digest, &digest_length);
    ccurl_fork_gate_leave();
    if (made == NULL || digest_length != 20) {
        OPENSSL_cleanse(digest, sizeof digest);
        return -1;
    }
    int differs = CRYPTO_memcmp(digest, expected, 20);
    OPENSSL_cleanse(digest, sizeof digest);
    return differs == 0 ? 1 : 0;
}
