/* common.c — option parsing and the --url HTTP client shared by the subcommands. */
#include "flywheel/cmd.h"
#include "flywheel/server.h"

#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdlib.h>
#include <string.h>

int fw_cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int fw_cmd_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] == 0 && *i + 1 < argc) {
		*value = argv[++*i];
		return 1;
	}
	return 0;
}

const char *fw_cmd_default_data(void)
{
	const char *d = getenv("FLYWHEEL_DATA");
	return d && *d ? d : "./flywheel-data";
}

/* Minimal HTTP/1.1 client for --url: Connection: close, reads to EOF. A
 * request body (post != NULL) is sent as a JSON POST. */
void fw_cmd_url_escape(struct fw_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~", c))
			fw_buf_addc(b, (char)c);
		else
			fw_buf_printf(b, "%%%02X", c);
	}
}

int fw_cmd_http(const char *url, const char *key, const char *path, const struct fw_buf *post,
		     struct fw_buf *body, int *status, struct fw_err *err)
{
	char host[256] = "127.0.0.1", port[16] = "80";
	const char *p = url;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strstr(p, "://"))
		return fw_error(err, FW_EINVAL, "only http:// URLs are supported (got %s)", url);
	size_t hl = strcspn(p, ":/");
	if (hl >= sizeof host)
		return fw_error(err, FW_EINVAL, "host name too long in %s", url);
	memcpy(host, p, hl);
	host[hl] = 0;
	if (p[hl] == ':')
		snprintf(port, sizeof port, "%.*s", (int)strcspn(p + hl + 1, "/"), p + hl + 1);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, port, &hints, &ai))
		return fw_error(err, FW_EIO, "cannot resolve %s", host);
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return fw_error(err, FW_EIO, "cannot connect to %s: is `flywheel serve` running?", url);
	}
	freeaddrinfo(ai);
	struct fw_buf req = {0};
	fw_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n",
		      post ? "POST" : "GET", path, host, key ? key : "");
	if (post) {
		fw_buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", post->len);
		fw_buf_add(&req, post->data, post->len);
	} else {
		fw_buf_adds(&req, "\r\n");
	}
	if (write(fd, req.data, req.len) != (ssize_t)req.len) {
		fw_buf_release(&req);
		close(fd);
		return fw_error(err, FW_EIO, "cannot send the request to %s", url);
	}
	fw_buf_release(&req);
	struct fw_buf resp = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof chunk)) > 0)
		fw_buf_add(&resp, chunk, (size_t)r);
	close(fd);
	char *hdr_end = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
	if (!hdr_end || sscanf(resp.data, "HTTP/1.%*d %d", status) != 1) {
		fw_buf_release(&resp);
		return fw_error(err, FW_EIO, "%s did not answer with HTTP", url);
	}
	const char *b = hdr_end + 4;
	int chunked = strcasestr(resp.data, "transfer-encoding: chunked") &&
		      strcasestr(resp.data, "transfer-encoding: chunked") < hdr_end;
	if (chunked) {
		while (*b) {
			unsigned long n = strtoul(b, NULL, 16);
			b = strstr(b, "\r\n");
			if (!n || !b)
				break;
			fw_buf_add(body, b + 2, n);
			b += 2 + n + 2;
		}
	} else {
		fw_buf_add(body, b, resp.len - (size_t)(b - resp.data));
	}
	fw_buf_release(&resp);
	return 0;
}

int fw_cmd_open_data(const char *data, const char *config, struct fw_server **out,
		     struct fw_err *err)
{
	struct fw_server_options so = {.data_dir = data ? data : fw_cmd_default_data(),
				       .config_path = config};
	if (access(so.data_dir, F_OK))
		return fw_error(err, FW_ENOTFOUND,
				"no data directory at %s; give --data DIR, or --url http://HOST:PORT "
				"--key SECRET for a running server",
				so.data_dir);
	return fw_server_open(&so, out, err);
}
