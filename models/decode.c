/* decode.c - placeholder until the libvips decoder front lands. */
#include <errno.h>
#include <stdio.h>

#include "decode.h"

int decode_init(const char *argv0)
{
	(void)argv0;
	return 0;
}

int decode_buffer(const void *buf, size_t len, const struct decode_opts *opts,
		  struct hw_image *ret, struct decode_info *ret_info,
		  char *err, size_t errlen)
{
	(void)buf;
	(void)len;
	(void)opts;
	(void)ret;
	(void)ret_info;
	if (err)
		snprintf(err, errlen, "decoder not built yet");
	return -EMEDIUMTYPE;
}

const char *decode_strerror(int code)
{
	(void)code;
	return "decoder not built yet";
}
