/* crypto: Ed25519 signing keys (OpenSSL EVP, one fresh context per operation,
 * see ARCHITECTURE.md on context reuse), SHA-256, randomness, and CURVE key
 * files. */
#ifndef INNSYNC_CRYPTO_H
#define INNSYNC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_PUBLIC_LEN 32
#define SIGNATURE_LEN 64
#define SHA256_LEN 32
#define CURVE_KEY_Z85_LEN 40   /* characters, without NUL */

typedef struct signing_key signing_key;  /* private Ed25519 key */
typedef struct verify_key verify_key;    /* public Ed25519 key */

int signing_key_generate(signing_key **out);
/* Reads/writes a PKCS#8 PEM file; save creates it with mode 0600. */
int signing_key_load(const char *path, signing_key **out);
int signing_key_save(const signing_key *key, const char *path);
int signing_key_public(const signing_key *key, uint8_t out[SIGN_PUBLIC_LEN]);
/* Signs the exact bytes given. 0 or -1. */
int signing_key_sign(const signing_key *key, const uint8_t *msg, size_t len,
		     uint8_t sig[SIGNATURE_LEN]);
void signing_key_destroy(signing_key **key_p);

/* -1 if raw is not a valid Ed25519 public key. */
int verify_key_from_raw(const uint8_t *raw, size_t len, verify_key **out);
/* 0 if sig is a valid signature of msg by this key; -1 otherwise. */
int verify_key_check(const verify_key *key, const uint8_t *msg, size_t len,
		     const uint8_t *sig, size_t siglen);
void verify_key_destroy(verify_key **key_p);

void sha256_digest(const void *data, size_t len, uint8_t out[SHA256_LEN]);
/* Cryptographically strong random bytes. 0 or -1. */
int random_fill(uint8_t *out, size_t len);

/* CURVE key pair as Z85 text. Files hold one line: the key. */
struct curve_keypair {
	char public_z85[CURVE_KEY_Z85_LEN + 1];
	char secret_z85[CURVE_KEY_Z85_LEN + 1];
};
int curve_keypair_generate(struct curve_keypair *out);
/* Saves public to dir/curve.pub (0644) and secret to dir/curve.secret (0600). */
int curve_keypair_save(const struct curve_keypair *pair, const char *dir);
int curve_keypair_load(const char *dir, struct curve_keypair *out);
/* 0 if text is 40 Z85 characters decoding to 32 bytes. */
int curve_key_valid(const char *z85);

#endif
