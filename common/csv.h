/* csv: an RFC 4180 reader for files exported from spreadsheets: quoted
 * fields with doubled quotes and line breaks inside, CRLF, LF or CR line
 * ends, a UTF-8 byte-order mark, blank lines skipped, every record tagged
 * with the line it starts on, and bounded sizes. No domain rules. */
#ifndef INNSYNC_CSV_H
#define INNSYNC_CSV_H

#include <stddef.h>

struct csv_limits {
	size_t max_records;      /* records, the header included */
	size_t max_fields;       /* fields in one record */
	size_t max_field_bytes;  /* bytes in one field (after unquoting) */
};

/* Generous defaults for the files innsync reads. */
#define CSV_DEFAULT_LIMITS ((struct csv_limits){ 10000, 64, 4096 })

struct csv_record {
	size_t line;         /* 1-based line on which the record starts */
	size_t n_fields;
	char **fields;       /* owned; each NUL-terminated UTF-8 */
};

struct csv_table {
	struct csv_record *records; /* owned; blank lines are not records */
	size_t n_records;
};

/* Parses len bytes of CSV. The text must be UTF-8 (a leading byte-order
 * mark is skipped) without NUL bytes. A line that is empty (or only a line
 * end) is skipped. On success returns 0 and *out (free with
 * csv_table_destroy). On failure returns -1, *out is NULL, and err holds one
 * line that starts with the line number, e.g.
 * "line 7: unterminated quoted field (opened on this line)". */
int csv_parse(const char *text, size_t len, const struct csv_limits *limits,
	      struct csv_table **out, char *err, size_t errlen);

/* Frees the table and sets *table_p to NULL. Accepts NULL. */
void csv_table_destroy(struct csv_table **table_p);

#endif
