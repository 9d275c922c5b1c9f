/*
 * rulesdb_int.h — private to src/meta: the connection behind struct
 * fw_rulesdb, shared by the modules that keep tables in rules.db
 * (leads.c, outbox.c, trial_notes.c). Each module creates its own tables with
 * CREATE TABLE IF NOT EXISTS from the schema string it registers in
 * rulesdb.c's list.
 */
#ifndef FLYWHEEL_META_RULESDB_INT_H
#define FLYWHEEL_META_RULESDB_INT_H

#include "flywheel/rulesdb.h"

#include <pthread.h>
#include <sqlite3.h>

struct fw_rulesdb {
	sqlite3 *db;
	pthread_mutex_t mu;
	int in_tx;
};

/* The tables of each module (leads.c, outbox.c). */
extern const char fw_leads_schema[], fw_outbox_schema[], fw_trial_notes_schema[];

/* "rules database: WHAT: sqlite's message" as FW_EIO. */
int fw_rulesdb_error(struct fw_rulesdb *db, struct fw_err *err, const char *what);

#endif
