/* leads.c — PLACEHOLDER until the scoring work lands. */
#include "flywheel/http.h"
#include "flywheel/server.h"

const struct fw_route fw_leads_routes[] = {{0}};
const size_t fw_nleads_routes = 0;
