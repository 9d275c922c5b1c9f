/* rulesdb.c — the rules database connection and its transactions (rulesdb.h). */
#include "rulesdb_int.h"

#include <stdlib.h>

static const char PRAGMAS[] = "PRAGMA journal_mode=WAL;"
			      "PRAGMA synchronous=FULL;"
			      "PRAGMA foreign_keys=OFF;";

int fw_rulesdb_error(struct fw_rulesdb *db, struct fw_err *err, const char *what)
{
	return fw_error(err, FW_EIO, "rules database: %s: %s", what, sqlite3_errmsg(db->db));
}

int fw_rulesdb_open(const char *path, struct fw_rulesdb **out, struct fw_err *err)
{
	struct fw_rulesdb *db = fw_xcalloc(1, sizeof *db);
	pthread_mutex_init(&db->mu, NULL);
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					       SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		fw_error(err, FW_EIO, "cannot open rules database %s: %s", path,
			 db->db ? sqlite3_errmsg(db->db) : "out of memory");
		fw_rulesdb_close(db);
		return FW_EIO;
	}
	sqlite3_busy_timeout(db->db, 5000);
	const char *schemas[] = {PRAGMAS, fw_leads_schema, fw_outbox_schema, fw_trial_notes_schema};
	for (size_t i = 0; i < FW_ARRAY_LEN(schemas); i++) {
		char *emsg = NULL;
		if (sqlite3_exec(db->db, schemas[i], NULL, NULL, &emsg) != SQLITE_OK) {
			fw_error(err, FW_EIO, "cannot initialise rules database %s: %s", path,
				 emsg ? emsg : "?");
			sqlite3_free(emsg);
			fw_rulesdb_close(db);
			return FW_EIO;
		}
	}
	*out = db;
	return 0;
}

void fw_rulesdb_close(struct fw_rulesdb *db)
{
	if (!db)
		return;
	sqlite3_close_v2(db->db);
	pthread_mutex_destroy(&db->mu);
	free(db);
}

int fw_rulesdb_begin(struct fw_rulesdb *db, struct fw_err *err)
{
	pthread_mutex_lock(&db->mu);
	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = fw_rulesdb_error(db, err, "begin");
		pthread_mutex_unlock(&db->mu);
		return rc;
	}
	db->in_tx = 1;
	return 0;
}

int fw_rulesdb_commit(struct fw_rulesdb *db, struct fw_err *err)
{
	int rc = 0;
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = fw_rulesdb_error(db, err, "commit");
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	}
	db->in_tx = 0;
	pthread_mutex_unlock(&db->mu);
	return rc;
}

void fw_rulesdb_rollback(struct fw_rulesdb *db)
{
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	db->in_tx = 0;
	pthread_mutex_unlock(&db->mu);
}
