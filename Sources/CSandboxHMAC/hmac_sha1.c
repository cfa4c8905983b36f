/*
 * See CSandboxHMAC.h. The one-shot HMAC() of libcrypto; the sandbox is a
 * plain process (no fork gate needed, unlike the library's CCurl copy).
 */
#include "CSandboxHMAC.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int csandbox_hmac_sha1(const void *key, size_t key_length, const void *message, size_t message_length,
                       unsigned char digest[20]) {
    static const unsigned char empty[1] = {0};
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_length = 0;
    if (digest == NULL || key_length > (size_t)INT_MAX) return -1;
    if (key == NULL) {
        if (key_length != 0) return -1;
        key = empty;
    }
    if (message == NULL) {
        if (message_length != 0) return -1;
        message = empty;
    }
    const unsigned char *made = HMAC(EVP_sha1(), key, (int)key_length, message, message_length, out, &out_length);
    if (made == NULL || out_length != 20) {
        memset(digest, 0, 20);
        return -1;
    }
    memcpy(digest, out, 20);
    return 0;
}
