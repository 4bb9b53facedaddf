/* publish: owns how staff commands put items in sites' downstream logs:
 * one item for one site, or a publication (a training plan, a checklist)
 * for every site its audience selects, now and, while it is open, every
 * site added later. The daemon delivers the rows (fanout.c).
 *
 * Staff commands and the daemon both append to the logs; SQLite serialises
 * the writers, each command takes the site's highest seq + 1 inside its
 * transaction, and the daemon re-reads the heads when its own transaction
 * starts after another process committed (hq_ensure_transaction). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

int hq_publish_to_site(sqlite3 *db, const char *site, const Innsync__DownBody *body,
		       uint64_t *seq_out)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	if (wire_pack(&body->base, &bytes, &len) != 0)
		return -1;
	sqlite3_stmt *stmt = NULL;
	int rc = -1;
	if (store_prepare(db,
			  "INSERT INTO downstream (site, seq, kind, body, created_at)"
			  " SELECT ?1, COALESCE(max(seq), 0) + 1, ?2, ?3, ?4 FROM downstream"
			  " WHERE site = ?1 RETURNING seq",
			  &stmt) == 0) {
		sqlite3_bind_text(stmt, 1, site, -1, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 2, (int)body->kind);
		sqlite3_bind_blob(stmt, 3, bytes, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 4, now_ms());
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			if (seq_out != NULL)
				*seq_out = (uint64_t)sqlite3_column_int64(stmt, 0);
			rc = 0;
		}
		sqlite3_finalize(stmt);
	}
	free(bytes);
	return rc;
}

static const char *const audience_keys[] = { "kinds", "regions", "tiers", "sites" };

int hq_audience_check(const char *audience_json, char *err, size_t errlen)
{
	json_error_t error;
	json_t *audience = json_loads(audience_json, JSON_REJECT_DUPLICATES, &error);
	int rc = -1;
	if (!json_is_object(audience) || json_object_size(audience) != 1) {
		snprintf(err, errlen,
			 "audience: want exactly one of {\"all\": true}, {\"kinds\": [...]}, "
			 "{\"regions\": [...]}, {\"tiers\": [...]}, {\"sites\": [...]}");
		goto done;
	}
	if (json_is_true(json_object_get(audience, "all"))) {
		rc = 0;
		goto done;
	}
	for (size_t i = 0; i < sizeof audience_keys / sizeof audience_keys[0]; i++) {
		json_t *list = json_object_get(audience, audience_keys[i]);
		if (list == NULL)
			continue;
		size_t index;
		json_t *value;
		if (!json_is_array(list) || json_array_size(list) == 0) {
			snprintf(err, errlen, "audience.%s: want a non-empty list of names",
				 audience_keys[i]);
			goto done;
		}
		json_array_foreach(list, index, value) {
			if (!json_is_string(value)) {
				snprintf(err, errlen, "audience.%s[%zu]: want a string",
					 audience_keys[i], index);
				goto done;
			}
		}
		rc = 0;
		goto done;
	}
	snprintf(err, errlen, "audience: unknown selector (want all, kinds, regions, tiers or sites)");
done:
	json_decref(audience);
	return rc;
}

/* The SQL condition selecting the audience's sites, bound to ?1 (a JSON
 * list) where needed. */
static const char *audience_condition(json_t *audience, json_t **list)
{
	*list = NULL;
	if (json_is_true(json_object_get(audience, "all")))
		return "1";
	static const char *const conditions[] = {
		"s.kind IN (SELECT value FROM json_each(?1))",
		"s.region IN (SELECT value FROM json_each(?1))",
		"s.tier IN (SELECT value FROM json_each(?1))",
		"s.id IN (SELECT value FROM json_each(?1))",
	};
	for (size_t i = 0; i < sizeof audience_keys / sizeof audience_keys[0]; i++) {
		*list = json_object_get(audience, audience_keys[i]);
		if (*list != NULL)
			return conditions[i];
	}
	return NULL;
}

/* Appends the publication to every selected site (only_site: just that
 * one, if selected). Records each delivery in publication_sites. */
static int deliver(sqlite3 *db, const char *id, const char *audience_json, const char *only_site,
		   const Innsync__DownBody *body, int revision, int *reached)
{
	json_t *audience = json_loads(audience_json, 0, NULL);
	json_t *list = NULL;
	const char *condition = audience ? audience_condition(audience, &list) : NULL;
	if (condition == NULL) {
		json_decref(audience);
		return -1;
	}
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT s.id FROM sites s WHERE %s AND (?2 IS NULL OR s.id = ?2)"
				  " ORDER BY s.id",
		 condition);
	sqlite3_stmt *stmt = NULL, *record = NULL;
	int rc = -1;
	if (store_prepare(db, sql, &stmt) != 0 ||
	    store_prepare(db,
			  "INSERT INTO publication_sites (publication, site, revision, down_seq)"
			  " VALUES (?,?,?,?) ON CONFLICT (publication, site) DO UPDATE SET"
			  " revision = excluded.revision, down_seq = excluded.down_seq",
			  &record) != 0)
		goto done;
	char *list_text = list ? json_dumps(list, JSON_COMPACT) : NULL;
	if (list_text)
		sqlite3_bind_text(stmt, 1, list_text, -1, SQLITE_TRANSIENT);
	free(list_text);
	if (only_site)
		sqlite3_bind_text(stmt, 2, only_site, -1, SQLITE_STATIC);
	rc = 0;
	while (rc == 0 && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *site = (const char *)sqlite3_column_text(stmt, 0);
		uint64_t seq = 0;
		if (hq_publish_to_site(db, site, body, &seq) != 0) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(record, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(record, 2, site, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(record, 3, revision);
		sqlite3_bind_int64(record, 4, (sqlite3_int64)seq);
		if (sqlite3_step(record) != SQLITE_DONE)
			rc = -1;
		sqlite3_reset(record);
		if (reached)
			(*reached)++;
	}
done:
	sqlite3_finalize(stmt);
	sqlite3_finalize(record);
	json_decref(audience);
	return rc;
}

int hq_publication_put(sqlite3 *db, const char *id, const char *audience_json,
		       const Innsync__DownBody *body, bool open, int *sites_reached, char *err,
		       size_t errlen)
{
	if (sites_reached)
		*sites_reached = 0;
	if (hq_audience_check(audience_json, err, errlen) != 0)
		return -1;
	uint8_t *bytes = NULL;
	size_t len = 0;
	if (wire_pack(&body->base, &bytes, &len) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sqlite3_stmt *stmt = NULL;
	int revision = -1;
	if (store_prepare(db,
			  "INSERT INTO publications (id, kind, audience, body, open, created_at,"
			  " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
			  " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind,"
			  " audience = excluded.audience, body = excluded.body, open = excluded.open,"
			  " revision = revision + 1, updated_at = excluded.updated_at"
			  " RETURNING revision",
			  &stmt) == 0) {
		sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 2, (int)body->kind);
		sqlite3_bind_text(stmt, 3, audience_json, -1, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 4, bytes, (int)len, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 5, open ? 1 : 0);
		sqlite3_bind_int64(stmt, 6, now_ms());
		if (sqlite3_step(stmt) == SQLITE_ROW)
			revision = sqlite3_column_int(stmt, 0);
		sqlite3_finalize(stmt);
	}
	free(bytes);
	if (revision < 0 || deliver(db, id, audience_json, NULL, body, revision, sites_reached) != 0) {
		snprintf(err, errlen, "cannot store publication %s: %s", id, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int hq_publications_backfill(sqlite3 *db, const char *site)
{
	sqlite3_stmt *stmt = NULL;
	if (store_prepare(db,
			  "SELECT id, audience, body, revision FROM publications WHERE open = 1"
			  " ORDER BY created_at",
			  &stmt) != 0)
		return -1;
	int rc = 0;
	while (rc == 0 && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(stmt, 0);
		Innsync__DownBody *body = (Innsync__DownBody *)wire_unpack(
			&innsync__down_body__descriptor, sqlite3_column_blob(stmt, 2),
			(size_t)sqlite3_column_bytes(stmt, 2));
		if (body == NULL) {
			log_warnx("publication %s cannot be read; not sent to %s", id, site);
			continue;
		}
		rc = deliver(db, id, (const char *)sqlite3_column_text(stmt, 1), site, body,
			     sqlite3_column_int(stmt, 3), NULL);
		wire_free((ProtobufCMessage *)body);
	}
	sqlite3_finalize(stmt);
	return rc;
}
