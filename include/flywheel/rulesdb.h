/*
 * rulesdb.h — DATA/rules.db: what Flywheel decides and must not lose, in
 * SQLite (WAL, synchronous=FULL), beside meta.db:
 *   leads and their score history, route changes, signals (src/meta/leads.c)
 *   the webhook outbox and its deliveries (src/meta/outbox.c)
 *
 * It is a separate file from meta.db so that the people/accounts applier and
 * the rules never wait for each other's transactions; within rules.db a
 * change and the webhooks it causes are written in one transaction
 * (fw_rulesdb_begin ... fw_rulesdb_commit), so a webhook exists if and only
 * if its change does.
 *
 * Thread-safe: one connection behind a mutex. fw_rulesdb_begin takes the
 * mutex and fw_rulesdb_commit / fw_rulesdb_rollback release it; every other
 * call takes it for itself and must not be made between begin and commit by
 * the same thread except the *_tx functions, which expect it held.
 */
#ifndef FLYWHEEL_RULESDB_H
#define FLYWHEEL_RULESDB_H

#include "flywheel/base.h"

struct fw_rulesdb;

int fw_rulesdb_open(const char *path, struct fw_rulesdb **out, struct fw_err *err);
void fw_rulesdb_close(struct fw_rulesdb *db);

int fw_rulesdb_begin(struct fw_rulesdb *db, struct fw_err *err);
int fw_rulesdb_commit(struct fw_rulesdb *db, struct fw_err *err);
void fw_rulesdb_rollback(struct fw_rulesdb *db);

#endif
