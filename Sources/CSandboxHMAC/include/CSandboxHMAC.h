/*
 * HMAC-SHA1 for the sandbox: webhook signatures (X-KASKO-Signature) and
 * the deterministic quote tokens. A thin wrapper over the system
 * libcrypto (OpenSSL 3), so that no SHA-1 is written by hand.
 */
#ifndef CSANDBOX_HMAC_H
#define CSANDBOX_HMAC_H

#include <stddef.h>

/* Writes the 20-byte HMAC-SHA1 of message under key to digest.
 * Returns 0 on success, -1 on bad arguments or a libcrypto failure
 * (digest is then zeroed). An empty key or message is allowed. */
int csandbox_hmac_sha1(const void *key, size_t key_length, const void *message, size_t message_length,
                       unsigned char digest[20]);

#endif
