/* auditlog_stub.c - TEMPORARY, owned by the daemon branch: lets hashwatchd
 * link until the real util/auditlog.c lands on main; delete it then.
 * auditlog_open() fails with -ENOSYS, so no log object ever exists. */
#include <errno.h>

#include "auditlog.h"

int auditlog_open(const char *path, struct auditlog **ret)
{
	(void)path;
	(void)ret;
	return -ENOSYS;
}

void auditlog_close(struct auditlog *log)
{
	(void)log;
}

int auditlog_append(struct auditlog *log, const char *type, json_object *fields,
		    bool sync, uint64_t *ret_seq, char ret_head[AUDIT_HEAD_HEX])
{
	(void)log;
	(void)type;
	(void)fields;
	(void)sync;
	(void)ret_seq;
	(void)ret_head;
	return -ENOSYS;
}

uint64_t auditlog_seq(const struct auditlog *log)
{
	(void)log;
	return 0;
}

const char *auditlog_head(const struct auditlog *log)
{
	(void)log;
	return "";
}
