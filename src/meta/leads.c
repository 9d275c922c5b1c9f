/* leads.c — PLACEHOLDER until the scoring work lands. */
#include "rulesdb_int.h"

const char fw_leads_schema[] = "SELECT 1;";
