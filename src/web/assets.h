/*
 * assets.h — the dashboard's files, built into the binary. `make` runs
 * web/embed.c over web/dist/ to write $(BUILD)/gen/assets.c, which defines
 * the table below; src/web/dashboard.c serves it. Everything is static data.
 */
#ifndef FLYWHEEL_WEB_ASSETS_H
#define FLYWHEEL_WEB_ASSETS_H

#include <stddef.h>

struct fw_asset {
	const char *name;         /* file name in web/dist ("index.html", "app-3F2A.js") */
	const char *content_type; /* from the extension, with charset for text */
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;  /* the same bytes gzip'd, or NULL when that is not smaller */
	size_t gz_len;
	const char *etag;         /* "\"<xxh64 of data, hex>\"" */
	const char *etag_gz;      /* "\"<xxh64 of data, hex>-gz\"" */
};

extern const struct fw_asset fw_assets[];
extern const size_t fw_nassets;

#endif
