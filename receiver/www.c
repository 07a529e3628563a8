/* www.c - the dashboard's files, built into the program with the
 * assembler's .incbin (the Makefile makes www.o depend on receiver/www/),
 * and the server-made incident report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "www.h"

/* sym[] holds the file's bytes, sym_end marks their end. */
#define INCBIN(sym, file)                                                      \
	__asm__(".pushsection .rodata\n"                                       \
		".balign 16\n" #sym ":\n"                                      \
		".incbin \"receiver/www/" file "\"\n" #sym "_end:\n"           \
		".byte 0\n"                                                    \
		".popsection\n");                                              \
	extern const unsigned char sym[], sym##_end[]

INCBIN(www_index_html, "index.html");
INCBIN(www_login_html, "login.html");
INCBIN(www_app_js, "app.js");
INCBIN(www_login_js, "login.js");
INCBIN(www_report_js, "report.js");
INCBIN(www_style_css, "style.css");

#define ASSET(url, sym, type, pub) { url, type, sym, 0, pub }

static struct www_asset assets[] = {
	ASSET("/index.html", www_index_html, "text/html; charset=utf-8", false),
	ASSET("/login.html", www_login_html, "text/html; charset=utf-8", true),
	ASSET("/static/app.js", www_app_js, "text/javascript; charset=utf-8", false),
	ASSET("/static/login.js", www_login_js, "text/javascript; charset=utf-8", true),
	ASSET("/static/report.js", www_report_js, "text/javascript; charset=utf-8", false),
	ASSET("/static/style.css", www_style_css, "text/css; charset=utf-8", true),
};

static const unsigned char *const asset_ends[] = {
	www_index_html_end, www_login_html_end, www_app_js_end,
	www_login_js_end,   www_report_js_end,	www_style_css_end,
};

const struct www_asset *www_find(const char *path)
{
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(assets[i].path, path) != 0)
			continue;
		/* Lengths are filled on first use; every thread writes the
		 * same value, so the race is harmless but keep it atomic. */
		__atomic_store_n(&assets[i].len, (size_t)(asset_ends[i] - assets[i].data),
				 __ATOMIC_RELAXED);
		return &assets[i];
	}
	return NULL;
}

/* --- the incident report ---------------------------------------------- */

#define REPORT_MAX (1024 * 1024)

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The value of key as text; "" when absent or null. */
static const char *val(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);
	if (!v)
		return "";
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "yes" : "no";
	return json_object_get_string(v);
}

/* One row of a definition list; skipped when the value is empty. */
static void row(FILE *f, const char *label, const char *value)
{
	if (!value || !*value)
		return;
	fputs("<tr><th>", f);
	esc(f, label);
	fputs("</th><td>", f);
	esc(f, value);
	fputs("</td></tr>\n", f);
}

static const char *status_words(const char *status)
{
	if (strcmp(status, "new") == 0)
		return "New: not yet acknowledged by the response team";
	if (strcmp(status, "acknowledged") == 0)
		return "Acknowledged: being handled";
	if (strcmp(status, "closed") == 0)
		return "Closed";
	if (strcmp(status, "false_positive") == 0)
		return "Closed as a false positive";
	return status;
}

static void circumstances(FILE *f, json_object *a)
{
	bool confirmed = json_object_get_boolean(json_object_object_get(a, "confirmed"));
	const char *path = val(a, "path");

	fputs("<p>The hashwatch scanner on the school-issued laptop with asset tag <b>", f);
	esc(f, val(a, "device_id"));
	fputs("</b> found a file whose <b>", f);
	esc(f, val(a, "model"));
	fputs("</b> hash is at distance <b>", f);
	esc(f, val(a, "distance"));
	fputs("</b> from entry <b>", f);
	esc(f, val(a, "entry_id"));
	fputs("</b> of the signed hash list <b>", f);
	esc(f, val(a, "list_id"));
	fputs("</b> (version ", f);
	esc(f, val(a, "list_version"));
	fputs("). The list classifies this entry as <b>", f);
	esc(f, val(a, "entry_category"));
	fputs("</b>", f);
	if (*val(a, "entry_source")) {
		fputs(", reported by ", f);
		esc(f, val(a, "entry_source"));
	}
	fputs(".</p>\n<p>", f);
	fputs(confirmed ? "The match is <b>confirmed</b>: a second, independent check (an exact "
			  "file digest or a second hash method) agreed."
			: "The match is <b>not confirmed</b>: a single perceptual hash matched, "
			  "which can be a false positive. Verify before acting on it.",
	      f);
	fputs("</p>\n<p>No image, thumbnail or file content was transmitted. The file can be "
	      "identified on the laptop by its SHA-256 digest <code>",
	      f);
	esc(f, val(a, "file_sha256"));
	fputs("</code>", f);
	if (*path) {
		fputs(", at <code>", f);
		esc(f, path);
		fputs("</code> (the district's policy sends the path)", f);
	}
	fputs(".</p>\n", f);
}

/* Notes or staff actions as a table: cols are key/heading pairs. */
static void history(FILE *f, json_object *arr, const char *const cols[][2], size_t ncols,
		    const char *empty)
{
	size_t n = json_object_array_length(arr);
	if (n == 0) {
		fputs("<p class=\"muted\">", f);
		esc(f, empty);
		fputs("</p>\n", f);
		return;
	}
	fputs("<table class=\"grid\"><thead><tr>", f);
	for (size_t c = 0; c < ncols; c++) {
		fputs("<th>", f);
		esc(f, cols[c][1]);
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		fputs("<tr>", f);
		for (size_t c = 0; c < ncols; c++) {
			fputs("<td>", f);
			esc(f, val(o, cols[c][0]));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

int www_report(json_object *a, const char *user, char **ret, size_t *ret_len)
{
	static const char *const note_cols[][2] = { { "at", "Time (UTC)" },
						    { "user", "By" },
						    { "text", "Note" } };
	static const char *const action_cols[][2] = { { "at", "Time (UTC)" },
						      { "user", "By" },
						      { "action", "Action" },
						      { "detail", "Detail" } };
	char now[32], *buf = NULL;
	size_t len = 0;
	time_t t = time(NULL);
	struct tm tm;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", &tm);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>Incident report</title>\n"
	      "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
	      "<script src=\"/static/report.js\" defer></script>\n"
	      "</head><body class=\"report\">\n<header class=\"report-head\">\n"
	      "<h1>Incident report: known harmful image detected</h1>\n<p>hashwatch alert <code>",
	      f);
	esc(f, val(a, "alert_id"));
	fputs("</code> &middot; prepared by ", f);
	esc(f, user);
	fprintf(f, " on %s UTC</p>\n<button id=\"print\" class=\"no-print\">Print</button>\n"
		   "</header>\n",
		now);

	fputs("<section><h2>1. Date and time</h2><table class=\"kv\">\n", f);
	row(f, "Detected on the laptop (UTC, laptop clock)", val(a, "detected_at"));
	row(f, "Received by the response team (UTC)", val(a, "received_at"));
	row(f, "Acknowledged (UTC)", val(a, "acknowledged_at"));
	row(f, "Acknowledged by", val(a, "acknowledged_by"));
	fputs("</table></section>\n", f);

	fputs("<section><h2>2. Device</h2><table class=\"kv\">\n", f);
	row(f, "Asset tag", val(a, "device_id"));
	row(f, "Scanner version", val(a, "scanner_version"));
	row(f, "Scanner configuration digest", val(a, "config_digest"));
	row(f, "Scan log record number", val(a, "audit_seq"));
	row(f, "Scan log chain head", val(a, "audit_head"));
	fputs("</table></section>\n", f);

	fputs("<section><h2>3. Circumstances</h2>\n", f);
	circumstances(f, a);
	fputs("<table class=\"kv\">\n", f);
	row(f, "Hash list", val(a, "list_id"));
	row(f, "List version", val(a, "list_version"));
	row(f, "List digest", val(a, "list_digest"));
	row(f, "List entry", val(a, "entry_id"));
	row(f, "Entry source", val(a, "entry_source"));
	row(f, "Category", val(a, "entry_category"));
	row(f, "Hash method", val(a, "model"));
	row(f, "Distance", val(a, "distance"));
	row(f, "Image quality", val(a, "quality"));
	row(f, "Confirmed by a second check", val(a, "confirmed"));
	row(f, "Distinct matches in this category", val(a, "match_count"));
	row(f, "File SHA-256", val(a, "file_sha256"));
	fputs("</table></section>\n", f);

	fputs("<section><h2>4. Action taken</h2><table class=\"kv\">\n", f);
	row(f, "Status", status_words(val(a, "status")));
	row(f, "Assigned to", val(a, "assignee"));
	row(f, "Closed (UTC)", val(a, "closed_at"));
	row(f, "Closed by", val(a, "closed_by"));
	row(f, "Resolution", val(a, "resolution"));
	fputs("</table>\n<h3>Notes</h3>\n", f);
	history(f, json_object_object_get(a, "notes"), note_cols, 3, "No notes.");
	fputs("<h3>Staff actions</h3>\n", f);
	history(f, json_object_object_get(a, "actions"), action_cols, 4, "No staff actions yet.");
	fputs("</section>\n", f);

	fputs("<section><h2>5. Integrity</h2><p>The alert was signed on the laptop with the "
	      "device key enrolled for this asset tag, and the receiver verified the signature "
	      "before storing it. SHA-256 of the signed alert: <code>",
	      f);
	esc(f, val(a, "signed_sha256"));
	fputs("</code>. The signed original is in the JSON export.</p></section>\n"
	      "<footer class=\"sign\"><div>Prepared by: ____________________ Date: ____________"
	      "</div><div>Reviewed by: ____________________ Date: ____________</div></footer>\n"
	      "</body></html>\n",
	      f);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	if (len > REPORT_MAX) {
		free(buf);
		return -EFBIG;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}
