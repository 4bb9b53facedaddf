/* enroll: owns `innsync-branch enroll`: generates the agent's key pairs,
 * presents the one-time token to HQ's enrolment endpoint over CURVE, and
 * records what HQ answered (agent id, sites, sync endpoint, HQ's keys). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "branch.h"
#include "cli.h"
#include "store.h"
#include "util.h"
#include "wire.h"

struct enroll_args {
	const char *data;
	const char *hq;
	const char *hq_key;
	const char *token;
	const char *sync;
	const char *timeout_text;
	int timeout_s;
	bool json;
};

static int parse_args(int argc, char **argv, struct enroll_args *args)
{
	static const struct cli_option options[] = {
		CLI_STRING("data", struct enroll_args, data),
		CLI_STRING("hq", struct enroll_args, hq),
		CLI_STRING("hq-key", struct enroll_args, hq_key),
		CLI_STRING("token", struct enroll_args, token),
		CLI_STRING("sync", struct enroll_args, sync),
		CLI_STRING("timeout", struct enroll_args, timeout_text),
		CLI_FLAG("json", struct enroll_args, json),
	};
	int parsed = cli_parse(argc, argv, options, sizeof options / sizeof options[0], args,
			       "usage: innsync-branch enroll --data DIR --hq ENDPOINT --hq-key Z85\n"
			       "                             --token TOKEN [--sync ENDPOINT] [--timeout S]\n"
			       "Generates this agent's keys and enrols it with HQ. ENDPOINT is HQ's\n"
			       "enrolment endpoint (e.g. tcp://hq.example:7401); --sync overrides\n"
			       "the sync endpoint HQ advertises.\n",
			       NULL, 0, NULL);
	if (parsed != 0)
		return parsed;
	uint64_t timeout = 15;
	if (args->timeout_text != NULL && parse_u64(args->timeout_text, 1, 3600, &timeout) != 0)
		return cli_usage("--timeout must be seconds from 1 to 3600");
	args->timeout_s = (int)timeout;
	if (args->data == NULL || args->hq == NULL || args->hq_key == NULL || args->token == NULL)
		return cli_usage("enroll needs --data, --hq, --hq-key and --token");
	if (curve_key_valid(args->hq_key) != 0)
		return cli_usage("--hq-key must be HQ's 40-character Z85 key (the hq-key line of "
				 "innsync-hq init)");
	return 0;
}

static int make_keys(const char *data, struct curve_keypair *curve, signing_key **sign)
{
	char keys[4096], sign_path[4096];
	if (path_join(keys, sizeof keys, data, BRANCH_KEYS_DIR) != 0 ||
	    path_join(sign_path, sizeof sign_path, keys, "sign.pem") != 0)
		return cli_fail("data directory path too long");
	if (mkdir_p(keys, 0700) != 0)
		return cli_fail("cannot create %s: %s", keys, strerror(errno));
	if (curve_keypair_generate(curve) != 0 || signing_key_generate(sign) != 0)
		return cli_fail("cannot generate keys");
	if (curve_keypair_save(curve, keys) != 0 || signing_key_save(*sign, sign_path) != 0)
		return cli_fail("cannot write keys in %s: %s", keys, strerror(errno));
	return CLI_OK;
}

/* Sends the request and waits for HQ's reply. Caller frees *reply_out. */
static int exchange(const struct enroll_args *args, const struct curve_keypair *curve,
		    const Innsync__EnrollRequest *req, Innsync__EnrollReply **reply_out)
{
	*reply_out = NULL;
	void *ctx = zmq_ctx_new();
	void *socket = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
	int rc = CLI_FAIL;
	if (socket == NULL ||
	    wire_setup_client(socket, args->hq_key, curve->public_z85, curve->secret_z85,
			      WIRE_MAX_ENROLL_MESSAGE) != 0) {
		cli_fail("cannot create a socket: %s", zmq_strerror(errno));
		goto done;
	}
	int immediate = 0;
	zmq_setsockopt(socket, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
	if (zmq_connect(socket, args->hq) != 0) {
		cli_fail("cannot connect to %s: %s", args->hq, zmq_strerror(errno));
		goto done;
	}
	if (wire_send(socket, &req->base, 0) != 0) {
		cli_fail("cannot send the enrolment request: %s", zmq_strerror(errno));
		goto done;
	}
	zmq_pollitem_t item = { socket, 0, ZMQ_POLLIN, 0 };
	int ready = zmq_poll(&item, 1, (long)args->timeout_s * 1000);
	if (ready <= 0) {
		cli_fail("no answer from HQ at %s within %d s: check the endpoint, that HQ runs, "
			 "and that --hq-key is HQ's key",
			 args->hq, args->timeout_s);
		goto done;
	}
	zmq_msg_t frame;
	zmq_msg_init(&frame);
	if (zmq_msg_recv(&frame, socket, 0) >= 0)
		*reply_out = (Innsync__EnrollReply *)wire_unpack(
			&innsync__enroll_reply__descriptor, zmq_msg_data(&frame), zmq_msg_size(&frame));
	zmq_msg_close(&frame);
	if (*reply_out == NULL)
		cli_fail("HQ's answer could not be read");
	else
		rc = CLI_OK;
done:
	if (socket)
		zmq_close(socket);
	if (ctx)
		zmq_ctx_term(ctx);
	return rc;
}

static int save_identity(const struct enroll_args *args, const Innsync__EnrollAccepted *ok)
{
	char err[512];
	sqlite3 *db = NULL;
	if (branch_store_create(args->data, &db, err, sizeof err) != 0)
		return cli_fail("%s", err);
	const char *sync = args->sync ? args->sync : ok->sync_endpoint;
	char sign_hex[2 * SIGN_PUBLIC_LEN + 1] = "";
	if (ok->hq_sign_public_key.len == SIGN_PUBLIC_LEN)
		hex_encode(ok->hq_sign_public_key.data, SIGN_PUBLIC_LEN, sign_hex);
	char enrolled[32];
	snprintf(enrolled, sizeof enrolled, "%lld", (long long)now_ms());
	bool inspector = ok->role == INNSYNC__AGENT_ROLE__AGENT_ROLE_INSPECTOR;
	int failed = store_begin(db);
	failed |= branch_config_set(db, "agent_id", ok->agent_id);
	failed |= branch_config_set(db, "role", inspector ? "inspector" : "branch");
	failed |= branch_config_set(db, "site_kind", ok->site_kind);
	failed |= branch_config_set(db, "inspector", ok->inspector);
	failed |= branch_config_set(db, "hq_sync", sync);
	failed |= branch_config_set(db, "hq_enroll", args->hq);
	failed |= branch_config_set(db, "hq_key", args->hq_key);
	failed |= branch_config_set(db, "hq_sign_key", sign_hex);
	failed |= branch_config_set(db, "enrolled_at", enrolled);
	failed |= branch_config_set(db, "acked", "0");
	sqlite3_stmt *stmt = NULL;
	failed |= store_prepare(db, "INSERT INTO agent_sites (site) VALUES (?)", &stmt);
	for (size_t i = 0; failed == 0 && i < ok->n_sites; i++) {
		sqlite3_bind_text(stmt, 1, ok->sites[i], -1, SQLITE_STATIC);
		failed |= sqlite3_step(stmt) != SQLITE_DONE;
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	if (failed == 0)
		failed = store_commit(db);
	sqlite3_close(db);
	if (failed)
		return cli_fail("cannot record the enrolment in %s", args->data);
	return CLI_OK;
}

static int print_result(const struct enroll_args *args, const Innsync__EnrollAccepted *ok)
{
	const char *sync = args->sync ? args->sync : ok->sync_endpoint;
	bool inspector = ok->role == INNSYNC__AGENT_ROLE__AGENT_ROLE_INSPECTOR;
	if (args->json) {
		json_t *sites = json_array();
		for (size_t i = 0; i < ok->n_sites; i++)
			json_array_append_new(sites, json_string(ok->sites[i]));
		return cli_print_json(json_pack("{s:s, s:s, s:o, s:s}", "agent", ok->agent_id, "role",
						inspector ? "inspector" : "branch", "sites", sites,
						"sync_endpoint", sync));
	}
	printf("enrolled as agent %s (%s) for ", ok->agent_id, inspector ? "inspector" : "branch");
	for (size_t i = 0; i < ok->n_sites; i++)
		printf("%s%s", i ? "," : "", ok->sites[i]);
	printf("\nsync endpoint: %s\nnext: innsync-branch run --data %s\n", sync, args->data);
	return CLI_OK;
}

int branch_cmd_enroll(int argc, char **argv)
{
	struct enroll_args args = { 0 };
	int parsed = parse_args(argc, argv, &args);
	if (parsed != 0)
		return parsed == 1 ? CLI_OK : parsed;
	char db_path[4096];
	if (path_join(db_path, sizeof db_path, args.data, BRANCH_DB_NAME) != 0)
		return cli_fail("data directory path too long");
	if (access(db_path, F_OK) == 0)
		return cli_fail("%s already holds an enrolled agent; use another --data directory",
				args.data);
	struct curve_keypair curve;
	signing_key *sign = NULL;
	int rc = make_keys(args.data, &curve, &sign);
	uint8_t sign_public[SIGN_PUBLIC_LEN];
	if (rc == CLI_OK && signing_key_public(sign, sign_public) != 0)
		rc = cli_fail("cannot read the new signing key");
	signing_key_destroy(&sign);
	if (rc != CLI_OK)
		return rc;

	char hostname[256] = "";
	gethostname(hostname, sizeof hostname - 1);
	Innsync__EnrollRequest req = INNSYNC__ENROLL_REQUEST__INIT;
	req.protocol_version = WIRE_PROTOCOL_VERSION;
	req.token = (char *)args.token;
	req.sign_public_key.data = sign_public;
	req.sign_public_key.len = SIGN_PUBLIC_LEN;
	req.curve_public_key = curve.public_z85;
	req.hostname = hostname;
	Innsync__EnrollReply *reply = NULL;
	rc = exchange(&args, &curve, &req, &reply);
	if (rc != CLI_OK)
		return rc;
	if (reply->result_case == INNSYNC__ENROLL_REPLY__RESULT_REFUSED)
		rc = cli_fail("HQ refused the enrolment: %s", reply->refused->reason);
	else if (reply->result_case != INNSYNC__ENROLL_REPLY__RESULT_ACCEPTED ||
		 reply->accepted->agent_id == NULL || reply->accepted->agent_id[0] == '\0')
		rc = cli_fail("HQ's answer is incomplete");
	else
		rc = save_identity(&args, reply->accepted);
	if (rc == CLI_OK)
		rc = print_result(&args, reply->accepted);
	wire_free((ProtobufCMessage *)reply);
	return rc;
}
