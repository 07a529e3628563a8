/* www.c - the dashboard's files, built into the program with the
 * assembler's .incbin (the Makefile makes www.o depend on receiver/www/),
 * and the server-made incident report. */
#include <errno.h>
#include <inttypes.h>
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

/* Literal HTML text, then a value escaped. */
static void put(FILE *f, const char *html, const char *value)
{
	fputs(html, f);
	esc(f, value);
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
	put(f, "<tr><th>", label);
	put(f, "</th><td>", value);
	fputs("</td></tr>\n", f);
}

/* Report tables: label and alert key, NULL-terminated. */
typedef const char *const report_rows[][2];
static report_rows when_rows = {
	{ "Detected on the laptop (UTC, laptop clock)", "detected_at" },
	{ "Received by the response team (UTC)", "received_at" },
	{ "Acknowledged (UTC)", "acknowledged_at" },
	{ "Acknowledged by", "acknowledged_by" },
	{ NULL, NULL },
};
static report_rows device_rows = {
	{ "Asset tag", "device_id" },
	{ "Scanner version", "scanner_version" },
	{ "Scanner configuration digest", "config_digest" },
	{ "Scan log record number", "audit_seq" },
	{ "Scan log chain head", "audit_head" },
	{ NULL, NULL },
};
static report_rows match_rows = {
	{ "Hash list", "list_id" },
	{ "List version", "list_version" },
	{ "List digest", "list_digest" },
	{ "List entry", "entry_id" },
	{ "Entry source", "entry_source" },
	{ "Category", "entry_category" },
	{ "Hash method", "model" },
	{ "Distance", "distance" },
	{ "Image quality", "quality" },
	{ "Region of the image that matched", "region" },
	{ "Confirmed by a second check", "confirmed" },
	{ "Distinct matches in this category", "match_count" },
	{ "File SHA-256", "file_sha256" },
	{ NULL, NULL },
};
static report_rows action_rows = {
	{ "Assigned to", "assignee" },
	{ "Closed (UTC)", "closed_at" },
	{ "Closed by", "closed_by" },
	{ "Resolution", "resolution" },
	{ NULL, NULL },
};

/* A table of the alert's values for the rows that have one. */
static void rows(FILE *f, json_object *a, report_rows table)
{
	fputs("<table class=\"kv\">\n", f);
	for (size_t i = 0; table[i][0]; i++)
		row(f, table[i][0], val(a, table[i][1]));
	fputs("</table>\n", f);
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

/* For a match inside a frame: where the listed picture sits in the file. */
static void region(FILE *f, json_object *a)
{
	json_object *box = json_object_object_get(a, "box");
	int64_t b[4];

	if (!json_object_is_type(box, json_type_array) || json_object_array_length(box) != 4)
		return;
	for (size_t i = 0; i < 4; i++)
		b[i] = json_object_get_int64(json_object_array_get_idx(box, i));
	fprintf(f, "<p>The listed picture was found <b>inside a border or frame</b> of the file "
		"(a letterbox, a plain background or a screenshot around it): a region of "
		"%" PRId64 " &times; %" PRId64 " pixels whose top left corner is %" PRId64
		" pixels from the left and %" PRId64 " from the top of the file's image.</p>\n",
		b[2], b[3], b[0], b[1]);
}

static void circumstances(FILE *f, json_object *a)
{
	bool confirmed = json_object_get_boolean(json_object_object_get(a, "confirmed"));
	const char *path = val(a, "path");

	put(f, "<p>The hashwatch scanner on the school-issued laptop with asset tag <b>",
	    val(a, "device_id"));
	put(f, "</b> found a file whose <b>", val(a, "model"));
	put(f, "</b> hash is at distance <b>", val(a, "distance"));
	put(f, "</b> from entry <b>", val(a, "entry_id"));
	put(f, "</b> of the signed hash list <b>", val(a, "list_id"));
	put(f, "</b> (version ", val(a, "list_version"));
	put(f, "). The list classifies this entry as <b>", val(a, "entry_category"));
	fputs("</b>", f);
	if (*val(a, "entry_source"))
		put(f, ", reported by ", val(a, "entry_source"));
	fputs(".</p>\n", f);
	region(f, a);
	fputs("<p>", f);
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

	fputs("<section><h2>1. Date and time</h2>\n", f);
	rows(f, a, when_rows);
	fputs("</section>\n<section><h2>2. Device</h2>\n", f);
	rows(f, a, device_rows);
	fputs("</section>\n<section><h2>3. Circumstances</h2>\n", f);
	circumstances(f, a);
	rows(f, a, match_rows);
	fputs("</section>\n<section><h2>4. Action taken</h2><table class=\"kv\">\n", f);
	row(f, "Status", status_words(val(a, "status")));
	fputs("</table>\n", f);
	rows(f, a, action_rows);
	fputs("<h3>Notes</h3>\n", f);
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
