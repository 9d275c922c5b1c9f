/* deliveries.c — PLACEHOLDER until the webhook work lands. */
#include "flywheel/http.h"
#include "flywheel/server.h"

const struct fw_route fw_delivery_routes[] = {{0}};
const size_t fw_ndelivery_routes = 0;
