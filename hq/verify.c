/* verify: owns `innsync-hq verify`: re-checks, from the store alone, that
 * nothing HQ holds was changed after it arrived:
 *   1. every record's body hashes to its stored SHA-256;
 *   2. every record's Ed25519 signature verifies over its body with the
 *      signing key of the agent that wrote it (a fresh key object per
 *      agent: ARCHITECTURE.md on OpenSSL context reuse);
 *   3. every manifest's signature verifies with its agent's key, names that
 *      agent, and lists at position seq - first_seq the hash of each
 *      record that points to it;
 *   4. every complete attachment (photo) file hashes to its SHA-256 and has
 *      its recorded size.
 * Every mismatch is reported (agent/seq or photo hash, and what is wrong);
 * the exit status is 1 if there is any. Records are streamed in (agent,
 * seq) order so that one key and one manifest are held at a time. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "cli.h"
#include "hq.h"
#include "store.h"
#include "util.h"
#include "wire.h"

struct verifier {
	sqlite3 *db;
	sqlite3_stmt *key_stmt;	     /* owned */
	sqlite3_stmt *manifest_stmt; /* owned */
	char agent[64];		     /* whose key is loaded */
	verify_key *key;	     /* owned; NULL if the agent's key is unusable */
	int64_t manifest_id;	     /* loaded manifest, 0: none */
	Innsync__Manifest *manifest; /* owned; NULL if it is unusable */
	long long records, manifests, photos;
	json_t *problems; /* owned */
};

static void problem_record(struct verifier *v, const char *agent, int64_t seq,
			   const char *record_id, const char *what)
{
	json_array_append_new(v->problems, json_pack("{s:s, s:s, s:I, s:s, s:s}", "kind", "record",
						     "agent", agent, "seq", (json_int_t)seq,
						     "record_id", record_id, "problem", what));
}

static void problem_manifest(struct verifier *v, const char *agent, int64_t id, const char *what)
{
	json_array_append_new(v->problems,
			      json_pack("{s:s, s:s, s:I, s:s}", "kind", "manifest", "agent", agent,
					"manifest", (json_int_t)id, "problem", what));
}

static void problem_photo(struct verifier *v, const uint8_t *sha256, const char *what)
{
	char hex[2 * SHA256_LEN + 1];
	hex_encode(sha256, SHA256_LEN, hex);
	json_array_append_new(v->problems, json_pack("{s:s, s:s, s:s}", "kind", "photo", "sha256",
						     hex, "problem", what));
}

/* Makes agent's key current (a fresh object per agent). */
static void use_agent(struct verifier *v, const char *agent)
{
	if (strcmp(v->agent, agent) == 0)
		return;
	verify_key_destroy(&v->key);
	copy_string(v->agent, sizeof v->agent, agent);
	sqlite3_bind_text(v->key_stmt, 1, agent, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(v->key_stmt) == SQLITE_ROW)
		verify_key_from_raw(sqlite3_column_blob(v->key_stmt, 0),
				    (size_t)sqlite3_column_bytes(v->key_stmt, 0), &v->key);
	sqlite3_reset(v->key_stmt);
}

/* Loads and checks manifest id (rule 3, its own part) unless current. */
static void use_manifest(struct verifier *v, int64_t id, const char *agent)
{
	if (id == v->manifest_id)
		return;
	wire_free((ProtobufCMessage *)v->manifest);
	v->manifest = NULL;
	v->manifest_id = id;
	v->manifests++;
	sqlite3_stmt *stmt = v->manifest_stmt;
	sqlite3_bind_int64(stmt, 1, id);
	const char *problem = NULL;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		problem = "the manifest the records point to is missing";
	} else if (strcmp((const char *)sqlite3_column_text(stmt, 0), agent) != 0) {
		problem = "the manifest row belongs to another agent";
	} else {
		const uint8_t *bytes = sqlite3_column_blob(stmt, 1);
		size_t len = (size_t)sqlite3_column_bytes(stmt, 1);
		v->manifest =
		    (Innsync__Manifest *)wire_unpack(&innsync__manifest__descriptor, bytes, len);
		if (v->manifest == NULL)
			problem = "the manifest is not a valid Manifest";
		else if (strcmp(v->manifest->agent, agent) != 0)
			problem = "the manifest names another agent";
		else if (v->key == NULL ||
			 verify_key_check(v->key, bytes, len, sqlite3_column_blob(stmt, 2),
					  (size_t)sqlite3_column_bytes(stmt, 2)) != 0)
			problem = "the manifest signature does not verify with the agent's key";
		else if ((int64_t)v->manifest->first_seq != sqlite3_column_int64(stmt, 3))
			problem = "the manifest's first sequence differs from the one stored";
	}
	sqlite3_reset(stmt);
	if (problem != NULL) {
		problem_manifest(v, agent, id, problem);
		wire_free((ProtobufCMessage *)v->manifest);
		v->manifest = NULL;
	}
}

/* Rules 1-3 for one row of the records query. */
static void verify_record(struct verifier *v, sqlite3_stmt *row)
{
	const char *agent = (const char *)sqlite3_column_text(row, 0);
	int64_t seq = sqlite3_column_int64(row, 1);
	const char *record_id = (const char *)sqlite3_column_text(row, 2);
	const uint8_t *body = sqlite3_column_blob(row, 4);
	size_t len = (size_t)sqlite3_column_bytes(row, 4);
	uint8_t hash[SHA256_LEN];
	sha256_digest(body ? (const void *)body : "", len, hash);
	v->records++;
	use_agent(v, agent);
	if (sqlite3_column_bytes(row, 3) != SHA256_LEN ||
	    memcmp(sqlite3_column_blob(row, 3), hash, SHA256_LEN) != 0)
		problem_record(v, agent, seq, record_id,
			       "the record body does not match its stored SHA-256");
	if (v->key == NULL)
		problem_record(v, agent, seq, record_id,
			       "the agent's signing key is missing or unusable");
	else if (verify_key_check(v->key, body ? body : (const uint8_t *)"", len,
				  sqlite3_column_blob(row, 5),
				  (size_t)sqlite3_column_bytes(row, 5)) != 0)
		problem_record(v, agent, seq, record_id,
			       "the record signature does not verify with the agent's key");
	use_manifest(v, sqlite3_column_int64(row, 6), agent);
	if (v->manifest == NULL)
		return; /* reported once, with the manifest */
	uint64_t index = (uint64_t)seq - v->manifest->first_seq;
	if ((uint64_t)seq < v->manifest->first_seq || index >= v->manifest->n_sha256 ||
	    v->manifest->sha256[index].len != SHA256_LEN)
		problem_record(v, agent, seq, record_id,
			       "the record is not listed in its manifest");
	else if (memcmp(v->manifest->sha256[index].data, hash, SHA256_LEN) != 0)
		problem_record(v, agent, seq, record_id,
			       "the record body does not match the hash its signed manifest lists");
}

static int verify_records(struct verifier *v)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(v->db,
			  "SELECT agent, seq, record_id, sha256, body, signature, manifest"
			  " FROM records ORDER BY agent, seq",
			  &stmt) != 0 ||
	    store_prepare(v->db, "SELECT sign_key FROM agents WHERE id = ?", &v->key_stmt) != 0 ||
	    store_prepare(v->db,
			  "SELECT agent, bytes, signature, first_seq FROM manifests WHERE id = ?",
			  &v->manifest_stmt) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		verify_record(v, stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Rule 4. */
static int verify_photos(struct verifier *v, const char *data_dir)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(v->db,
			  "SELECT sha256, size FROM attachments WHERE state = 'complete'"
			  " ORDER BY sha256",
			  &stmt) != 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(stmt, 0) != SHA256_LEN)
			continue;
		const uint8_t *sha256 = sqlite3_column_blob(stmt, 0);
		uint64_t size = (uint64_t)sqlite3_column_int64(stmt, 1), actual_size = 0;
		uint8_t actual[SHA256_LEN];
		char path[4096];
		v->photos++;
		if (hq_blob_path(data_dir, sha256, path, sizeof path) != 0 ||
		    access(path, F_OK) != 0)
			problem_photo(v, sha256, "the stored photo file is missing");
		else if (file_sha256(path, actual, &actual_size) != 0)
			problem_photo(v, sha256, "the stored photo file cannot be read");
		else if (memcmp(actual, sha256, SHA256_LEN) != 0)
			problem_photo(v, sha256,
				      "the stored photo's bytes do not match its SHA-256");
		else if (actual_size != size)
			problem_photo(v, sha256,
				      "the stored photo's size differs from the record's");
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void verifier_close(struct verifier *v)
{
	sqlite3_finalize(v->key_stmt);
	sqlite3_finalize(v->manifest_stmt);
	verify_key_destroy(&v->key);
	wire_free((ProtobufCMessage *)v->manifest);
	json_decref(v->problems);
	sqlite3_close(v->db);
}

static void print_text(const struct verifier *v)
{
	size_t i;
	json_t *p;
	json_array_foreach(v->problems, i, p)
	{
		const char *kind = json_string_value(json_object_get(p, "kind"));
		const char *problem = json_string_value(json_object_get(p, "problem"));
		if (strcmp(kind, "record") == 0)
			printf("record %s/%lld (%s): %s\n",
			       json_string_value(json_object_get(p, "agent")),
			       (long long)json_integer_value(json_object_get(p, "seq")),
			       json_string_value(json_object_get(p, "record_id")), problem);
		else if (strcmp(kind, "manifest") == 0)
			printf("manifest %lld of agent %s: %s\n",
			       (long long)json_integer_value(json_object_get(p, "manifest")),
			       json_string_value(json_object_get(p, "agent")), problem);
		else
			printf("photo %s: %s\n", json_string_value(json_object_get(p, "sha256")),
			       problem);
	}
	printf("checked %lld records, %lld manifests, %lld photos: %s\n", v->records, v->manifests,
	       v->photos, json_array_size(v->problems) ? "MISMATCHES FOUND" : "all verified");
}

int hq_cmd_verify(int argc, char **argv)
{
	static const struct option options[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *data = NULL;
	bool json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			data = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: innsync-hq verify --data DIR [--json]\n"
			       "Re-checks every stored record (SHA-256, Ed25519 signature, signed\n"
			       "manifest) and every stored photo (SHA-256, size); reports each\n"
			       "mismatch. Exit status 1 if there is any.\n");
			return CLI_OK;
		default:
			return CLI_USAGE;
		}
	}
	if (data == NULL)
		return cli_usage("--data DIR is required");
	if (optind < argc)
		return cli_usage("unexpected argument \"%s\"", argv[optind]);
	struct verifier v;
	memset(&v, 0, sizeof v);
	char err[512];
	if (hq_store_open(data, &v.db, err, sizeof err) != 0)
		return cli_fail("%s", err);
	v.problems = json_array();
	if (verify_records(&v) != 0 || verify_photos(&v, data) != 0) {
		verifier_close(&v);
		return cli_fail("cannot read HQ's store in %s", data);
	}
	size_t problems = json_array_size(v.problems);
	if (json) {
		cli_print_json(json_pack("{s:b, s:I, s:I, s:I, s:O}", "ok", problems == 0,
					 "records", (json_int_t)v.records, "manifests",
					 (json_int_t)v.manifests, "photos", (json_int_t)v.photos,
					 "problems", v.problems));
	} else {
		print_text(&v);
	}
	verifier_close(&v);
	return problems == 0 ? CLI_OK : CLI_FAIL;
}
