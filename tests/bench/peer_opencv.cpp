// peer_opencv.cpp - the peer hashwatch's image benchmark compares with:
// what a developer would write with OpenCV, cv::imread (full-size colour
// decode) then cv::img_hash::PHash.  One round over a corpus manifest (one
// image path a line), one thread; prints "FORMAT CPU-SECONDS IMAGES" for JPEG,
// PNG and WebP.  bench_images runs it inside its own rounds so that both
// see the same machine load.  Built only for `make bench` (it links OpenCV,
// which nothing else in the core does).
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <strings.h>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgcodecs.hpp>

namespace {

enum Fmt { JPEG, PNG, WEBP, NFMT };
const char *const fmt_name[NFMT] = { "JPEG", "PNG", "WebP" };

int fmt_of(const std::string &path)
{
	size_t dot = path.rfind('.');
	if (dot == std::string::npos)
		return -1;
	const char *ext = path.c_str() + dot;
	if (!strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg"))
		return JPEG;
	if (!strcasecmp(ext, ".png"))
		return PNG;
	if (!strcasecmp(ext, ".webp"))
		return WEBP;
	return -1;
}

// CPU time of the process, as bench_images measures its own modes.
double cpu_seconds()
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2 || std::string(argv[1]) == "--help") {
		std::fprintf(stderr, "usage: peer_opencv MANIFEST\n"
				     "  one round of cv::imread + img_hash::PHash over the\n"
				     "  images listed in MANIFEST; prints FORMAT SECONDS IMAGES\n");
		return 2;
	}
	std::ifstream in(argv[1]);
	if (!in) {
		std::fprintf(stderr, "peer_opencv: cannot read %s\n", argv[1]);
		return 2;
	}
	std::vector<std::string> files[NFMT];
	std::string line;
	while (std::getline(in, line)) {
		int f = fmt_of(line);
		if (f >= 0)
			files[f].push_back(line);
	}
	cv::setNumThreads(1);
	cv::Ptr<cv::img_hash::PHash> phash = cv::img_hash::PHash::create();
	int rc = 0;
	for (int f = 0; f < NFMT; f++) {
		double t0 = cpu_seconds();
		for (const std::string &p : files[f]) {
			cv::Mat img = cv::imread(p, cv::IMREAD_COLOR), hash;
			if (img.empty()) {
				std::fprintf(stderr, "peer_opencv: cannot decode %s\n", p.c_str());
				rc = 1;
				continue;
			}
			phash->compute(img, hash);
		}
		std::printf("%s %.6f %zu\n", fmt_name[f], cpu_seconds() - t0, files[f].size());
	}
	return rc;
}
