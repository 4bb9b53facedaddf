/* crypto: owns every use of OpenSSL (Ed25519, SHA-256, RNG) and the CURVE
 * key files. Every sign/verify uses a fresh EVP_MD_CTX: on OpenSSL 3.0 a
 * reused context keeps its first key (ARCHITECTURE.md). */
#include "crypto.h"

#include <errno.h>
#include <stdbool.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "util.h"

struct signing_key {
	EVP_PKEY *pkey; /* owned */
};

struct verify_key {
	EVP_PKEY *pkey; /* owned */
};

int signing_key_generate(signing_key **out)
{
	*out = NULL;
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL)
		return -1;
	signing_key *key = calloc(1, sizeof *key);
	if (key == NULL) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	key->pkey = pkey;
	*out = key;
	return 0;
}

int signing_key_load(const char *path, signing_key **out)
{
	*out = NULL;
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return -1;
	EVP_PKEY *pkey = PEM_read_PrivateKey(file, NULL, NULL, NULL);
	fclose(file);
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	signing_key *key = calloc(1, sizeof *key);
	if (key == NULL) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	key->pkey = pkey;
	*out = key;
	return 0;
}

int signing_key_save(const signing_key *key, const char *path)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return -1;
	int rc = -1;
	if (PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) == 1) {
		char *data = NULL;
		long len = BIO_get_mem_data(bio, &data);
		if (len > 0)
			rc = write_file_atomic(path, data, (size_t)len, 0600);
	}
	BIO_free(bio);
	return rc;
}

int signing_key_public(const signing_key *key, uint8_t out[SIGN_PUBLIC_LEN])
{
	size_t len = SIGN_PUBLIC_LEN;
	if (EVP_PKEY_get_raw_public_key(key->pkey, out, &len) != 1 || len != SIGN_PUBLIC_LEN)
		return -1;
	return 0;
}

int signing_key_sign(const signing_key *key, const uint8_t *msg, size_t len,
		     uint8_t sig[SIGNATURE_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	size_t siglen = SIGNATURE_LEN;
	int ok = EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1 &&
		 EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == SIGNATURE_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

void signing_key_destroy(signing_key **key_p)
{
	if (key_p == NULL || *key_p == NULL)
		return;
	EVP_PKEY_free((*key_p)->pkey);
	free(*key_p);
	*key_p = NULL;
}

/* Encodings of the Ed25519 points of small order (and their non-canonical
 * twins), with the sign bit cleared. Under such a key one fixed signature
 * verifies every message, so an agent enrolled with one could disown its
 * records: refuse them (the list libsodium's crypto_sign_verify uses). */
static const uint8_t small_order_points[][SIGN_PUBLIC_LEN] = {
	{ 0x00 },                                                   /* order 4 */
	{ 0x01 },                                                   /* order 1 */
	{ 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
	  0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
	{ 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
	  0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};

static bool has_small_order(const uint8_t *raw)
{
	uint8_t point[SIGN_PUBLIC_LEN];
	memcpy(point, raw, SIGN_PUBLIC_LEN);
	point[SIGN_PUBLIC_LEN - 1] &= 0x7f;
	for (size_t i = 0; i < sizeof small_order_points / sizeof small_order_points[0]; i++)
		if (memcmp(point, small_order_points[i], SIGN_PUBLIC_LEN) == 0)
			return true;
	return false;
}

int verify_key_from_raw(const uint8_t *raw, size_t len, verify_key **out)
{
	*out = NULL;
	if (raw == NULL || len != SIGN_PUBLIC_LEN || has_small_order(raw))
		return -1;
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, raw, len);
	if (pkey == NULL)
		return -1;
	verify_key *key = calloc(1, sizeof *key);
	if (key == NULL) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	key->pkey = pkey;
	*out = key;
	return 0;
}

int verify_key_check(const verify_key *key, const uint8_t *msg, size_t len,
		     const uint8_t *sig, size_t siglen)
{
	if (key == NULL || sig == NULL || siglen != SIGNATURE_LEN)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	int ok = EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1 &&
		 EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

void verify_key_destroy(verify_key **key_p)
{
	if (key_p == NULL || *key_p == NULL)
		return;
	EVP_PKEY_free((*key_p)->pkey);
	free(*key_p);
	*key_p = NULL;
}

void sha256_digest(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int outlen = SHA256_LEN;
	/* EVP_Digest with SHA-256 cannot fail short of memory exhaustion; a
	 * failure leaves a hash that matches nothing. */
	if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1)
		memset(out, 0, SHA256_LEN);
}

int random_fill(uint8_t *out, size_t len)
{
	return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}

int curve_keypair_generate(struct curve_keypair *out)
{
	memset(out, 0, sizeof *out);
	return zmq_curve_keypair(out->public_z85, out->secret_z85) == 0 ? 0 : -1;
}

static int write_key_line(const char *dir, const char *name, const char *z85, mode_t mode)
{
	char path[4096];
	char line[CURVE_KEY_Z85_LEN + 2];
	if (path_join(path, sizeof path, dir, name) != 0)
		return -1;
	snprintf(line, sizeof line, "%s\n", z85);
	return write_file_atomic(path, line, strlen(line), mode);
}

int curve_keypair_save(const struct curve_keypair *pair, const char *dir)
{
	if (write_key_line(dir, "curve.pub", pair->public_z85, 0644) != 0)
		return -1;
	return write_key_line(dir, "curve.secret", pair->secret_z85, 0600);
}

static int read_key_line(const char *dir, const char *name, char *out)
{
	char path[4096];
	char err[256];
	char *text = NULL;
	size_t len = 0;
	if (path_join(path, sizeof path, dir, name) != 0)
		return -1;
	if (read_file_bounded(path, 256, &text, &len, err, sizeof err) != 0)
		return -1;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	int rc = -1;
	if (len == CURVE_KEY_Z85_LEN && curve_key_valid(text) == 0) {
		memcpy(out, text, CURVE_KEY_Z85_LEN + 1);
		rc = 0;
	}
	free(text);
	return rc;
}

int curve_keypair_load(const char *dir, struct curve_keypair *out)
{
	memset(out, 0, sizeof *out);
	if (read_key_line(dir, "curve.pub", out->public_z85) != 0)
		return -1;
	return read_key_line(dir, "curve.secret", out->secret_z85);
}

int curve_key_valid(const char *z85)
{
	if (z85 == NULL || strlen(z85) != CURVE_KEY_Z85_LEN)
		return -1;
	uint8_t raw[32];
	return zmq_z85_decode(raw, z85) != NULL ? 0 : -1;
}
