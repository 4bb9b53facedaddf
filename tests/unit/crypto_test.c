/* crypto_test: unit tests of common/crypto.c: Ed25519 key generation,
 * signing and verification (including the OpenSSL 3.0 context-reuse trap of
 * ARCHITECTURE.md: a signature by one key must never verify under another,
 * however calls alternate), PEM key files, SHA-256 known answers, CURVE key
 * files and validation, and randomness. Key files go to a fresh temporary
 * directory per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "crypto.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------ */

struct fixture {
	char dir[256]; /* temporary directory, removed with its files */
};

static int setup_dir(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	const char *base = getenv("TMPDIR");
	snprintf(fx->dir, sizeof fx->dir, "%s/crypto_test.XXXXXX",
		 base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown_dir(void **state)
{
	struct fixture *fx = *state;
	DIR *dir = opendir(fx->dir);
	if (dir != NULL) {
		struct dirent *entry;
		while ((entry = readdir(dir)) != NULL) {
			char path[512];
			if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
				continue;
			if (path_join(path, sizeof path, fx->dir, entry->d_name) == 0)
				unlink(path);
		}
		closedir(dir);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void fixture_path(const struct fixture *fx, const char *name, char *out, size_t outlen)
{
	assert_int_equal(path_join(out, outlen, fx->dir, name), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fputs(text, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
}

static mode_t file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static verify_key *public_of(const signing_key *key)
{
	uint8_t raw[SIGN_PUBLIC_LEN];
	verify_key *vk = NULL;
	assert_int_equal(signing_key_public(key, raw), 0);
	assert_int_equal(verify_key_from_raw(raw, sizeof raw, &vk), 0);
	assert_non_null(vk);
	return vk;
}

static const uint8_t message[] = "2026-11 sales report, site S001, rooms sold 2976";
#define MESSAGE_LEN (sizeof message - 1)

/* ---- Ed25519 signing and verification ----------------------------------- */

static void test_sign_verify_round_trip(void **state)
{
	(void)state;
	signing_key *key = NULL;
	assert_int_equal(signing_key_generate(&key), 0);
	assert_non_null(key);
	verify_key *vk = public_of(key);

	/* Lengths around Ed25519's internal block boundaries, and empty. */
	static const size_t lengths[] = { 0, 1, 31, 32, 63, 64, 65, 127, 128, 1000, 65536 };
	uint8_t *buffer = malloc(65536);
	assert_non_null(buffer);
	assert_int_equal(random_fill(buffer, 65536), 0);
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		uint8_t sig[SIGNATURE_LEN];
		uint8_t again[SIGNATURE_LEN];
		if (signing_key_sign(key, buffer, lengths[i], sig) != 0)
			fail_msg("sign of %zu bytes failed", lengths[i]);
		if (verify_key_check(vk, buffer, lengths[i], sig, sizeof sig) != 0)
			fail_msg("own signature of %zu bytes refused", lengths[i]);
		/* Ed25519 is deterministic: same key and bytes, same signature. */
		assert_int_equal(signing_key_sign(key, buffer, lengths[i], again), 0);
		assert_memory_equal(sig, again, SIGNATURE_LEN);
	}
	free(buffer);
	verify_key_destroy(&vk);
	assert_null(vk);
	signing_key_destroy(&key);
	assert_null(key);
	/* Destructors accept NULL and an already-destroyed pointer. */
	signing_key_destroy(&key);
	signing_key_destroy(NULL);
	verify_key_destroy(&vk);
	verify_key_destroy(NULL);
}

static void test_two_keys_differ(void **state)
{
	(void)state;
	signing_key *a = NULL;
	signing_key *b = NULL;
	uint8_t pa[SIGN_PUBLIC_LEN];
	uint8_t pb[SIGN_PUBLIC_LEN];
	assert_int_equal(signing_key_generate(&a), 0);
	assert_int_equal(signing_key_generate(&b), 0);
	assert_int_equal(signing_key_public(a, pa), 0);
	assert_int_equal(signing_key_public(b, pb), 0);
	assert_memory_not_equal(pa, pb, SIGN_PUBLIC_LEN);
	signing_key_destroy(&a);
	signing_key_destroy(&b);
}

/* ARCHITECTURE.md: a reused OpenSSL 3.0 context keeps its first key, signs
 * with it and accepts A's signature under B. Alternate keys in every order
 * many times; each answer must depend only on the arguments of that call. */
#define N_KEYS 4
#define ROUNDS 50

static void test_wrong_key_refused_alternating(void **state)
{
	(void)state;
	signing_key *keys[N_KEYS];
	verify_key *vks[N_KEYS];
	uint8_t first_sig[N_KEYS][SIGNATURE_LEN];

	for (int k = 0; k < N_KEYS; k++) {
		assert_int_equal(signing_key_generate(&keys[k]), 0);
		vks[k] = public_of(keys[k]);
		assert_int_equal(signing_key_sign(keys[k], message, MESSAGE_LEN, first_sig[k]), 0);
	}
	for (int round = 0; round < ROUNDS; round++) {
		/* Signing alternately must give each key's own signature back. */
		for (int k = 0; k < N_KEYS; k++) {
			int key = (round % 2 == 0) ? k : N_KEYS - 1 - k;
			uint8_t sig[SIGNATURE_LEN];
			assert_int_equal(signing_key_sign(keys[key], message, MESSAGE_LEN, sig), 0);
			if (memcmp(sig, first_sig[key], SIGNATURE_LEN) != 0)
				fail_msg("round %d: key %d signed with another key's state", round,
					 key);
		}
		/* Verify every (signer, verifier) pair, A,B,A,B... order. */
		for (int signer = 0; signer < N_KEYS; signer++) {
			for (int verifier = 0; verifier < N_KEYS; verifier++) {
				int rc = verify_key_check(vks[verifier], message, MESSAGE_LEN,
							  first_sig[signer], SIGNATURE_LEN);
				int want = signer == verifier ? 0 : -1;
				if (rc != want)
					fail_msg("round %d: signature by key %d %s under key %d",
						 round, signer, rc == 0 ? "ACCEPTED" : "refused",
						 verifier);
			}
		}
	}
	/* The strict A,B,A,B alternation of the brief, on one message. */
	for (int i = 0; i < 2 * ROUNDS; i++) {
		int k = i % 2;
		assert_int_equal(verify_key_check(vks[k], message, MESSAGE_LEN, first_sig[0],
						  SIGNATURE_LEN),
				 k == 0 ? 0 : -1);
	}
	for (int k = 0; k < N_KEYS; k++) {
		verify_key_destroy(&vks[k]);
		signing_key_destroy(&keys[k]);
	}
}

static void test_flipped_bit_refused(void **state)
{
	(void)state;
	signing_key *key = NULL;
	assert_int_equal(signing_key_generate(&key), 0);
	verify_key *vk = public_of(key);
	uint8_t sig[SIGNATURE_LEN];
	assert_int_equal(signing_key_sign(key, message, MESSAGE_LEN, sig), 0);

	uint8_t msg[MESSAGE_LEN];
	for (size_t bit = 0; bit < 8 * MESSAGE_LEN; bit++) {
		memcpy(msg, message, MESSAGE_LEN);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (verify_key_check(vk, msg, MESSAGE_LEN, sig, SIGNATURE_LEN) == 0)
			fail_msg("message with bit %zu flipped accepted", bit);
	}
	uint8_t bad[SIGNATURE_LEN];
	for (size_t bit = 0; bit < 8 * SIGNATURE_LEN; bit++) {
		memcpy(bad, sig, SIGNATURE_LEN);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (verify_key_check(vk, message, MESSAGE_LEN, bad, SIGNATURE_LEN) == 0)
			fail_msg("signature with bit %zu flipped accepted", bit);
	}
	/* Truncated or extended message under the right signature. */
	assert_int_equal(verify_key_check(vk, message, MESSAGE_LEN - 1, sig, SIGNATURE_LEN), -1);
	assert_int_equal(verify_key_check(vk, message, MESSAGE_LEN + 1, sig, SIGNATURE_LEN), -1);
	/* The untouched pair still verifies (nothing above was sticky). */
	assert_int_equal(verify_key_check(vk, message, MESSAGE_LEN, sig, SIGNATURE_LEN), 0);
	verify_key_destroy(&vk);
	signing_key_destroy(&key);
}

static void test_wrong_signature_length_refused(void **state)
{
	(void)state;
	signing_key *key = NULL;
	assert_int_equal(signing_key_generate(&key), 0);
	verify_key *vk = public_of(key);
	/* A valid signature followed by more bytes: every length but 64 is refused,
	 * including longer ones whose first 64 bytes are the real signature. */
	uint8_t sig[2 * SIGNATURE_LEN] = { 0 };
	assert_int_equal(signing_key_sign(key, message, MESSAGE_LEN, sig), 0);
	static const size_t lengths[] = { 0, 1, 32, 63, 65, 96, 128 };
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		if (verify_key_check(vk, message, MESSAGE_LEN, sig, lengths[i]) == 0)
			fail_msg("signature of %zu bytes accepted", lengths[i]);
	}
	assert_int_equal(verify_key_check(vk, message, MESSAGE_LEN, NULL, SIGNATURE_LEN), -1);
	assert_int_equal(verify_key_check(NULL, message, MESSAGE_LEN, sig, SIGNATURE_LEN), -1);
	assert_int_equal(verify_key_check(vk, message, MESSAGE_LEN, sig, SIGNATURE_LEN), 0);
	verify_key_destroy(&vk);
	signing_key_destroy(&key);
}

static void test_verify_key_from_raw_lengths(void **state)
{
	(void)state;
	uint8_t raw[2 * SIGN_PUBLIC_LEN];
	signing_key *key = NULL;
	assert_int_equal(signing_key_generate(&key), 0);
	assert_int_equal(signing_key_public(key, raw), 0);
	memcpy(raw + SIGN_PUBLIC_LEN, raw, SIGN_PUBLIC_LEN);

	static const size_t lengths[] = { 0, 1, 16, 31, 33, 48, 64 };
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		verify_key *vk = (verify_key *)&raw; /* must be reset to NULL */
		if (verify_key_from_raw(raw, lengths[i], &vk) != -1)
			fail_msg("public key of %zu bytes accepted", lengths[i]);
		assert_null(vk);
	}
	verify_key *vk = (verify_key *)&raw;
	assert_int_equal(verify_key_from_raw(NULL, SIGN_PUBLIC_LEN, &vk), -1);
	assert_null(vk);
	assert_int_equal(verify_key_from_raw(raw, SIGN_PUBLIC_LEN, &vk), 0);
	assert_non_null(vk);
	verify_key_destroy(&vk);
	signing_key_destroy(&key);
}

/* Small-order points are well-formed encodings no honest key generator
 * produces. Under the identity point (order 1) the 64 bytes 01 00..00 00..00
 * (R = identity, S = 0) verify as a signature of every message, so an agent
 * enrolled with it could disown any record ("anyone could have signed that").
 * verify_key_from_raw must refuse all eight. */
static void test_verify_key_refuses_small_order(void **state)
{
	(void)state;
	static const char *const small_order_hex[] = {
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* 2 */
		"0000000000000000000000000000000000000000000000000000000000000000", /* 4 */
		"0000000000000000000000000000000000000000000000000000000000000080", /* 4 */
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", /* 8 */
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", /* 8 */
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", /* 8 */
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", /* 8 */
	};
	static const char *const messages[] = { "record 1", "record 2", "anything at all" };
	uint8_t forged[SIGNATURE_LEN] = { 0x01 }; /* R = identity, S = 0 */
	for (size_t i = 0; i < sizeof small_order_hex / sizeof small_order_hex[0]; i++) {
		uint8_t raw[SIGN_PUBLIC_LEN];
		for (size_t j = 0; j < SIGN_PUBLIC_LEN; j++) {
			unsigned byte = 0;
			assert_int_equal(sscanf(small_order_hex[i] + 2 * j, "%2x", &byte), 1);
			raw[j] = (uint8_t)byte;
		}
		verify_key *vk = NULL;
		if (verify_key_from_raw(raw, sizeof raw, &vk) != 0)
			continue;
		size_t forgeries = 0;
		for (size_t m = 0; m < sizeof messages / sizeof messages[0]; m++)
			if (verify_key_check(vk, (const uint8_t *)messages[m],
					     strlen(messages[m]), forged, sizeof forged) == 0)
				forgeries++;
		verify_key_destroy(&vk);
		fail_msg("small-order public key %s accepted (the fixed forged signature "
			 "verified %zu of %zu messages)",
			 small_order_hex[i], forgeries, sizeof messages / sizeof messages[0]);
	}
}

/* ---- PEM key files ------------------------------------------------------ */

static void test_signing_key_save_load(void **state)
{
	struct fixture *fx = *state;
	char path[512];
	fixture_path(fx, "sign.pem", path, sizeof path);

	signing_key *original = NULL;
	assert_int_equal(signing_key_generate(&original), 0);
	assert_int_equal(signing_key_save(original, path), 0);
	assert_int_equal(file_mode(path), 0600);

	signing_key *loaded = NULL;
	assert_int_equal(signing_key_load(path, &loaded), 0);
	assert_non_null(loaded);

	uint8_t p1[SIGN_PUBLIC_LEN];
	uint8_t p2[SIGN_PUBLIC_LEN];
	assert_int_equal(signing_key_public(original, p1), 0);
	assert_int_equal(signing_key_public(loaded, p2), 0);
	assert_memory_equal(p1, p2, SIGN_PUBLIC_LEN);

	/* The loaded key signs what the original's public key accepts. */
	verify_key *vk = public_of(original);
	uint8_t sig[SIGNATURE_LEN];
	assert_int_equal(signing_key_sign(loaded, message, MESSAGE_LEN, sig), 0);
	assert_int_equal(verify_key_check(vk, message, MESSAGE_LEN, sig, SIGNATURE_LEN), 0);

	/* Saving over an existing key file replaces it, still 0600. */
	signing_key *other = NULL;
	assert_int_equal(signing_key_generate(&other), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(signing_key_save(other, path), 0);
	assert_int_equal(file_mode(path), 0600);
	signing_key_destroy(&loaded);
	assert_int_equal(signing_key_load(path, &loaded), 0);
	assert_int_equal(signing_key_public(loaded, p2), 0);
	assert_memory_not_equal(p1, p2, SIGN_PUBLIC_LEN);

	verify_key_destroy(&vk);
	signing_key_destroy(&other);
	signing_key_destroy(&loaded);
	signing_key_destroy(&original);
}

/* The private key file must be 0600 even when a stale "<path>.tmp" of a
 * wider mode is in the way (left by another tool or another user). */
static void test_signing_key_save_stale_tmp(void **state)
{
	struct fixture *fx = *state;
	char path[512];
	char tmp[600];
	fixture_path(fx, "sign.pem", path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	write_text(tmp, "stale\n");
	assert_int_equal(chmod(tmp, 0644), 0);

	signing_key *key = NULL;
	assert_int_equal(signing_key_generate(&key), 0);
	int rc = signing_key_save(key, path);
	signing_key_destroy(&key);
	assert_int_equal(rc, 0);
	mode_t mode = file_mode(path);
	if (mode != 0600)
		fail_msg("private key file saved with mode %04o, want 0600", (unsigned)mode);
}

/* Writes a private key of another algorithm as PKCS#8 PEM. */
static void write_foreign_key(const char *path, const char *algorithm)
{
	EVP_PKEY *pkey = NULL;
	if (strcmp(algorithm, "EC") == 0)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(algorithm, "RSA") == 0)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, algorithm);
	assert_non_null(pkey);
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(PEM_write_PrivateKey(file, pkey, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(file), 0);
	EVP_PKEY_free(pkey);
}

static void test_signing_key_load_refuses_other_algorithms(void **state)
{
	struct fixture *fx = *state;
	/* X25519 has the same raw size as Ed25519: it must still be refused. */
	static const char *const algorithms[] = { "X25519", "ED448", "X448", "EC", "RSA" };
	for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
		char path[512];
		fixture_path(fx, "foreign.pem", path, sizeof path);
		write_foreign_key(path, algorithms[i]);
		signing_key *key = (signing_key *)path; /* must be reset to NULL */
		if (signing_key_load(path, &key) != -1)
			fail_msg("%s private key loaded as an Ed25519 signing key", algorithms[i]);
		assert_null(key);
	}
}

static void test_signing_key_load_refuses_garbage(void **state)
{
	struct fixture *fx = *state;
	char path[512];
	fixture_path(fx, "key.pem", path, sizeof path);

	/* A valid key's PEM, to cut and corrupt. */
	signing_key *key = NULL;
	assert_int_equal(signing_key_generate(&key), 0);
	assert_int_equal(signing_key_save(key, path), 0);
	char *pem = NULL;
	size_t pem_len = 0;
	char err[256];
	assert_int_equal(read_file_bounded(path, 4096, &pem, &pem_len, err, sizeof err), 0);
	char half[4096];
	snprintf(half, sizeof half, "%.*s", (int)(pem_len / 2), pem);
	char no_end[4096];
	const char *end = strstr(pem, "-----END");
	assert_non_null(end);
	snprintf(no_end, sizeof no_end, "%.*s", (int)(end - pem), pem);

	/* The public half as PEM: a key file, but not a private key. */
	char pub_path[512];
	fixture_path(fx, "pub.pem", pub_path, sizeof pub_path);
	{
		EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(pkey);
		FILE *file = fopen(pub_path, "w");
		assert_non_null(file);
		assert_int_equal(PEM_write_PUBKEY(file, pkey), 1);
		assert_int_equal(fclose(file), 0);
		EVP_PKEY_free(pkey);
	}

	const struct {
		const char *name;
		const char *text;
	} cases[] = {
		{ "empty file", "" },
		{ "plain text", "this is not a key\n" },
		{ "bad base64", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n" },
		{ "empty PEM", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n" },
		{ "short DER", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" },
		{ "truncated key", half },
		{ "missing END line", no_end },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_text(path, cases[i].text);
		signing_key *loaded = (signing_key *)path;
		if (signing_key_load(path, &loaded) != -1)
			fail_msg("%s loaded as a signing key", cases[i].name);
		assert_null(loaded);
	}
	signing_key *loaded = (signing_key *)path;
	assert_int_equal(signing_key_load(pub_path, &loaded), -1);
	assert_null(loaded);
	fixture_path(fx, "missing.pem", path, sizeof path);
	assert_int_equal(signing_key_load(path, &loaded), -1);
	assert_null(loaded);
	assert_int_equal(signing_key_load(fx->dir, &loaded), -1); /* a directory */
	assert_null(loaded);
	free(pem);
	signing_key_destroy(&key);
}

/* ---- SHA-256 ------------------------------------------------------------ */

static void test_sha256_known_answers(void **state)
{
	(void)state;
	/* FIPS 180-2 examples and the empty string. */
	static const struct {
		const char *input;
		const char *hex;
	} cases[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t digest[SHA256_LEN];
		char hex[2 * SHA256_LEN + 1];
		sha256_digest(cases[i].input, strlen(cases[i].input), digest);
		hex_encode(digest, SHA256_LEN, hex);
		if (strcmp(hex, cases[i].hex) != 0)
			fail_msg("sha256(\"%s\") = %s, want %s", cases[i].input, hex, cases[i].hex);
	}
	/* One million 'a'. */
	size_t len = 1000000;
	char *million = malloc(len);
	assert_non_null(million);
	memset(million, 'a', len);
	uint8_t digest[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	sha256_digest(million, len, digest);
	hex_encode(digest, SHA256_LEN, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

/* ---- CURVE keys --------------------------------------------------------- */

static void test_curve_keypair_generate(void **state)
{
	(void)state;
	struct curve_keypair a;
	struct curve_keypair b;
	assert_int_equal(curve_keypair_generate(&a), 0);
	assert_int_equal(curve_keypair_generate(&b), 0);
	assert_int_equal(strlen(a.public_z85), CURVE_KEY_Z85_LEN);
	assert_int_equal(strlen(a.secret_z85), CURVE_KEY_Z85_LEN);
	assert_int_equal(curve_key_valid(a.public_z85), 0);
	assert_int_equal(curve_key_valid(a.secret_z85), 0);
	assert_string_not_equal(a.public_z85, b.public_z85);
	assert_string_not_equal(a.secret_z85, b.secret_z85);
	/* The public key is the one the secret key derives. */
	char derived[CURVE_KEY_Z85_LEN + 1];
	assert_int_equal(zmq_curve_public(derived, a.secret_z85), 0);
	assert_string_equal(derived, a.public_z85);
}

static void test_curve_keypair_save_load(void **state)
{
	struct fixture *fx = *state;
	struct curve_keypair pair;
	struct curve_keypair loaded;
	assert_int_equal(curve_keypair_generate(&pair), 0);
	assert_int_equal(curve_keypair_save(&pair, fx->dir), 0);

	char pub[512];
	char secret[512];
	fixture_path(fx, "curve.pub", pub, sizeof pub);
	fixture_path(fx, "curve.secret", secret, sizeof secret);
	assert_int_equal(file_mode(secret), 0600);
	/* 0644 at most (the umask may narrow it). */
	assert_int_equal(file_mode(pub) & ~0644, 0);

	memset(&loaded, 'x', sizeof loaded);
	assert_int_equal(curve_keypair_load(fx->dir, &loaded), 0);
	assert_string_equal(loaded.public_z85, pair.public_z85);
	assert_string_equal(loaded.secret_z85, pair.secret_z85);

	/* A key edited on Windows (CRLF) still loads. */
	char line[64];
	snprintf(line, sizeof line, "%s\r\n", pair.public_z85);
	write_text(pub, line);
	assert_int_equal(curve_keypair_load(fx->dir, &loaded), 0);
	assert_string_equal(loaded.public_z85, pair.public_z85);
}

static void test_curve_keypair_load_refuses_bad_files(void **state)
{
	struct fixture *fx = *state;
	struct curve_keypair pair;
	struct curve_keypair loaded;
	assert_int_equal(curve_keypair_generate(&pair), 0);

	/* Nothing saved yet. */
	assert_int_equal(curve_keypair_load(fx->dir, &loaded), -1);

	char pub[512];
	char secret[512];
	fixture_path(fx, "curve.pub", pub, sizeof pub);
	fixture_path(fx, "curve.secret", secret, sizeof secret);
	char good_pub[64];
	char good_secret[64];
	snprintf(good_pub, sizeof good_pub, "%s\n", pair.public_z85);
	snprintf(good_secret, sizeof good_secret, "%s\n", pair.secret_z85);
	char short_key[64];
	snprintf(short_key, sizeof short_key, "%.39s\n", pair.public_z85);
	char long_key[64];
	snprintf(long_key, sizeof long_key, "%sA\n", pair.public_z85);
	char spaced[64];
	snprintf(spaced, sizeof spaced, " %s\n", pair.public_z85);
	char big[600];
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';

	const struct {
		const char *name;
		const char *pub_text;    /* NULL: no file */
		const char *secret_text; /* NULL: no file */
	} cases[] = {
		{ "no secret file", good_pub, NULL },
		{ "no public file", NULL, good_secret },
		{ "empty public", "", good_secret },
		{ "empty secret", good_pub, "" },
		{ "39 characters", short_key, good_secret },
		{ "41 characters", long_key, good_secret },
		{ "leading space", spaced, good_secret },
		{ "not Z85", "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n", good_secret },
		{ "oversized file", big, good_secret },
		{ "two keys in one file", good_pub, "0000000000000000000000000000000000000000\n"
						    "0000000000000000000000000000000000000000\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unlink(pub);
		unlink(secret);
		if (cases[i].pub_text != NULL)
			write_text(pub, cases[i].pub_text);
		if (cases[i].secret_text != NULL)
			write_text(secret, cases[i].secret_text);
		if (curve_keypair_load(fx->dir, &loaded) != -1)
			fail_msg("%s: key pair loaded", cases[i].name);
	}
}

static void test_curve_key_valid(void **state)
{
	(void)state;
	struct curve_keypair pair;
	assert_int_equal(curve_keypair_generate(&pair), 0);
	char with_space[CURVE_KEY_Z85_LEN + 1];
	memcpy(with_space, pair.public_z85, sizeof with_space);
	with_space[17] = ' ';
	char with_quote[CURVE_KEY_Z85_LEN + 1];
	memcpy(with_quote, pair.public_z85, sizeof with_quote);
	with_quote[0] = '"';
	char with_high[CURVE_KEY_Z85_LEN + 1];
	memcpy(with_high, pair.public_z85, sizeof with_high);
	with_high[39] = (char)0xc3;
	/* All ones: every group of 5 characters encodes 0xffffffff, the largest
	 * value a group may hold. */
	uint8_t ones[32];
	memset(ones, 0xff, sizeof ones);
	char all_ones[CURVE_KEY_Z85_LEN + 1];
	assert_non_null(zmq_z85_encode(all_ones, ones, sizeof ones));

	const struct {
		const char *text;
		int valid;
	} cases[] = {
		{ pair.public_z85, 1 },
		{ pair.secret_z85, 1 },
		{ "0000000000000000000000000000000000000000", 1 },
		{ NULL, 0 },
		{ "", 0 },
		{ "0000000000000000000000000000000000000000\n", 0 },
		{ "000000000000000000000000000000000000000", 0 },
		{ "00000000000000000000000000000000000000000", 0 },
		{ with_space, 0 },
		{ with_quote, 0 },
		{ with_high, 0 },
		{ "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", 0 },
		{ "0000000000000000000000000000000000000_00", 0 },
		{ all_ones, 1 },
		/* "#####" is 85^5 - 1, more than 32 bits. */
		{ "########################################", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = curve_key_valid(cases[i].text);
		if (rc != (cases[i].valid ? 0 : -1))
			fail_msg("curve_key_valid(\"%s\") = %d, want %s",
				 cases[i].text ? cases[i].text : "(null)", rc,
				 cases[i].valid ? "valid" : "invalid");
	}
}

/* ---- randomness --------------------------------------------------------- */

static void test_random_fill(void **state)
{
	(void)state;
	/* Sixteen 32-byte draws are pairwise different and not all zero; the
	 * bytes after the requested length are never touched. */
	enum { DRAWS = 16, LEN = 32 };
	uint8_t draws[DRAWS][LEN + 8];
	for (int i = 0; i < DRAWS; i++) {
		memset(draws[i], 0xa5, sizeof draws[i]);
		assert_int_equal(random_fill(draws[i], LEN), 0);
		for (int j = LEN; j < LEN + 8; j++)
			assert_int_equal(draws[i][j], 0xa5);
		static const uint8_t zero[LEN];
		assert_memory_not_equal(draws[i], zero, LEN);
	}
	for (int i = 0; i < DRAWS; i++)
		for (int j = i + 1; j < DRAWS; j++)
			if (memcmp(draws[i], draws[j], LEN) == 0)
				fail_msg("random draws %d and %d are equal", i, j);
	/* Zero bytes is a no-op success; a large draw uses every byte value. */
	uint8_t canary = 0x5a;
	assert_int_equal(random_fill(&canary, 0), 0);
	assert_int_equal(canary, 0x5a);
	size_t big = 1 << 16;
	uint8_t *buffer = malloc(big);
	assert_non_null(buffer);
	assert_int_equal(random_fill(buffer, big), 0);
	int seen[256] = { 0 };
	for (size_t i = 0; i < big; i++)
		seen[buffer[i]]++;
	for (int v = 0; v < 256; v++)
		if (seen[v] == 0)
			fail_msg("byte value %d never drawn in %zu random bytes", v, big);
	free(buffer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify_round_trip),
		cmocka_unit_test(test_two_keys_differ),
		cmocka_unit_test(test_wrong_key_refused_alternating),
		cmocka_unit_test(test_flipped_bit_refused),
		cmocka_unit_test(test_wrong_signature_length_refused),
		cmocka_unit_test(test_verify_key_from_raw_lengths),
		cmocka_unit_test(test_verify_key_refuses_small_order),
		cmocka_unit_test_setup_teardown(test_signing_key_save_load, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_signing_key_save_stale_tmp, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_signing_key_load_refuses_other_algorithms,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_signing_key_load_refuses_garbage, setup_dir,
						teardown_dir),
		cmocka_unit_test(test_sha256_known_answers),
		cmocka_unit_test(test_curve_keypair_generate),
		cmocka_unit_test_setup_teardown(test_curve_keypair_save_load, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_curve_keypair_load_refuses_bad_files,
						setup_dir, teardown_dir),
		cmocka_unit_test(test_curve_key_valid),
		cmocka_unit_test(test_random_fill),
	};
	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
