/* cvshim.cpp - the OpenCV img_hash models behind a C ABI: the only C++ in
 * hashwatch, built as the optional module hashwatch-opencv.so and loaded by
 * models/cvhash.c with dlopen().  It hands OpenCV exactly the Mat that
 * cv::imread(path, IMREAD_COLOR) would have produced from the same pixels
 * (BGR, grey replicated to three channels), so that its hashes equal those
 * of any OpenCV user's list; it runs every model with OpenCV's default
 * parameters; and it turns every C++ exception into a negative errno at the
 * boundary.  The exported functions are documented in models/cvhash.h.
 */
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgproc.hpp>

#include "cvhash.h"

// The loader calls these through the typedefs; keep them in step.
static_assert(std::is_same<decltype(&hashwatch_cv_abi_version),
			   cvhash_abi_version_fn>::value, "ABI drift");
static_assert(std::is_same<decltype(&hashwatch_cv_compute),
			   cvhash_compute_fn>::value, "ABI drift");
static_assert(std::is_same<decltype(&hashwatch_cv_compare),
			   cvhash_compare_fn>::value, "ABI drift");

namespace {

enum { CM_VALUES = 42 }; // ColorMomentHash: 7 Hu moments x 6 channels

// Output size of each model with default parameters (models/model.c's
// registry must agree; the unit test checks it).  0 = not ours.
size_t model_bytes(int model)
{
	switch (model) {
	case HW_MODEL_CV_AVERAGE:
	case HW_MODEL_CV_PHASH:
		return 8;
	case HW_MODEL_CV_MARRHILDRETH:
		return 72;
	case HW_MODEL_CV_RADIALVARIANCE:
		return 40;
	case HW_MODEL_CV_BLOCKMEAN:
		return 32;
	case HW_MODEL_CV_COLORMOMENT:
		return CM_VALUES * sizeof(double);
	default:
		return 0;
	}
}

cv::Ptr<cv::img_hash::ImgHashBase> make_algorithm(int model)
{
	namespace ih = cv::img_hash;
	switch (model) {
	case HW_MODEL_CV_AVERAGE:
		return ih::AverageHash::create();
	case HW_MODEL_CV_PHASH:
		return ih::PHash::create();
	case HW_MODEL_CV_MARRHILDRETH:
		return ih::MarrHildrethHash::create();
	case HW_MODEL_CV_RADIALVARIANCE:
		return ih::RadialVarianceHash::create();
	case HW_MODEL_CV_BLOCKMEAN:
		return ih::BlockMeanHash::create(ih::BLOCK_MEAN_HASH_MODE_0);
	case HW_MODEL_CV_COLORMOMENT:
		return ih::ColorMomentHash::create();
	default:
		return cv::Ptr<ih::ImgHashBase>();
	}
}

// The compare() objects are stateless but not free to build (Marr-Hildreth
// computes its kernel), and matching calls compare() once per list entry:
// keep one per thread and model.
cv::img_hash::ImgHashBase &comparer(int model)
{
	thread_local cv::Ptr<cv::img_hash::ImgHashBase> cache[HW_MODEL__MAX];
	cv::Ptr<cv::img_hash::ImgHashBase> &p = cache[model];
	if (!p)
		p = make_algorithm(model);
	return *p;
}

// Process-wide settings, once: OpenCV must not start its own thread pool
// (hashwatch sizes its workers itself, and the scanner's sandbox expects
// no threads it did not make) and must never print (library code is
// silent; the program reports errors).
void init_once()
{
	static std::once_flag flag;
	std::call_once(flag, [] {
		cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
		cv::setNumThreads(0);
	});
}

// The Mat a model is given.  What imread(IMREAD_COLOR) makes is BGR with
// grey replicated; where the model's first step turns that into grey we
// may skip the round trip, because OpenCV's BGR2GRAY is exact on equal
// channels (its fixed-point weights sum to 1 << 14) and RGB2GRAY on RGB is
// the same integer sum as BGR2GRAY on BGR.
//  - Marr-Hildreth and radial variance convert to grey first: give them
//    grey (the caller's rows when grey, a one-channel conversion when RGB).
//  - Average, pHash and block mean resize first, then convert: resizing
//    works per channel, so grey stays exact given as grey; RGB must be
//    swapped to BGR.
//  - Colour moment works in colour and needs three channels.
cv::Mat model_input(int model, const cv::Mat &view)
{
	cv::Mat in;
	bool grey_first = model == HW_MODEL_CV_MARRHILDRETH ||
			  model == HW_MODEL_CV_RADIALVARIANCE;

	if (view.channels() == 1) {
		if (model == HW_MODEL_CV_COLORMOMENT)
			cv::cvtColor(view, in, cv::COLOR_GRAY2BGR);
		else
			in = view;
	} else if (grey_first) {
		cv::cvtColor(view, in, cv::COLOR_RGB2GRAY);
	} else {
		cv::cvtColor(view, in, cv::COLOR_RGB2BGR);
	}
	return in;
}

// Colour moment hashes are doubles; store them little-endian so that a
// hash list means the same on every host.
void put_le_double(uint8_t *p, double v)
{
	uint64_t u;
	std::memcpy(&u, &v, sizeof(u));
	for (int i = 0; i < 8; i++)
		p[i] = static_cast<uint8_t>(u >> (8 * i));
}

double get_le_double(const uint8_t *p)
{
	uint64_t u = 0;
	double v;
	for (int i = 0; i < 8; i++)
		u |= static_cast<uint64_t>(p[i]) << (8 * i);
	std::memcpy(&v, &u, sizeof(v));
	return v;
}

int compute(int model, const uint8_t *pixels, uint32_t width, uint32_t height,
	    uint32_t channels, size_t stride, uint8_t *out, size_t cap)
{
	size_t want = model_bytes(model);
	cv::Mat hash;

	if (!want || !pixels || !out || width == 0 || height == 0 ||
	    width > INT_MAX || height > INT_MAX ||
	    (channels != 1 && channels != 3) ||
	    stride / channels < width)
		return -EINVAL;
	if (cap < want)
		return -ENOBUFS;
	init_once();

	// A header over the caller's rows: no copy.  OpenCV only reads it.
	cv::Mat view(static_cast<int>(height), static_cast<int>(width),
		     channels == 3 ? CV_8UC3 : CV_8UC1,
		     const_cast<uint8_t *>(pixels), stride);
	make_algorithm(model)->compute(model_input(model, view), hash);

	if (hash.total() * hash.elemSize() != want || !hash.isContinuous())
		return -EIO;
	if (model == HW_MODEL_CV_COLORMOMENT) {
		if (hash.depth() != CV_64F)
			return -EIO;
		const double *v = hash.ptr<double>(0);
		for (int i = 0; i < CM_VALUES; i++)
			put_le_double(out + 8 * i, v[i]);
	} else {
		std::memcpy(out, hash.data, want);
	}
	return static_cast<int>(want);
}

double compare(int model, const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t want = model_bytes(model);
	double d;

	if (!want || !a || !b || len != want)
		return -EINVAL;
	init_once();
	if (model == HW_MODEL_CV_COLORMOMENT) {
		std::array<double, CM_VALUES> va, vb;
		for (int i = 0; i < CM_VALUES; i++) {
			va[i] = get_le_double(a + 8 * i);
			vb[i] = get_le_double(b + 8 * i);
		}
		cv::Mat ma(1, CM_VALUES, CV_64F, va.data());
		cv::Mat mb(1, CM_VALUES, CV_64F, vb.data());
		d = comparer(model).compare(ma, mb);
	} else {
		cv::Mat ma(1, static_cast<int>(len), CV_8U, const_cast<uint8_t *>(a));
		cv::Mat mb(1, static_cast<int>(len), CV_8U, const_cast<uint8_t *>(b));
		d = comparer(model).compare(ma, mb);
	}
	if (model == HW_MODEL_CV_RADIALVARIANCE) {
		// OpenCV gives the peak correlation (higher = closer); we want a
		// distance.  Equal hashes correlate exactly 1 at shift 0, but the
		// float sums can land a rounding step off (and a flat hash has no
		// variance at all): say 0 for them, and never below 0.
		if (std::memcmp(a, b, len) == 0)
			return 0;
		d = 1.0 - d;
		if (d < 0)
			d = 0;
	}
	if (std::isnan(d) || d < 0)
		return -EIO;
	return d;
}

// Runs f and turns whatever it throws into a negative errno: no C++
// exception may cross into C.
template <typename T, typename F> T guarded(F f)
{
	try {
		return f();
	} catch (const cv::Exception &e) {
		return e.code == cv::Error::StsNoMem ? -ENOMEM : -EIO;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}

} // namespace

// The module is built with -fvisibility=hidden: these three are its only
// exported symbols.
#define HW_EXPORT extern "C" __attribute__((visibility("default")))

HW_EXPORT int hashwatch_cv_abi_version(void)
{
	return CVHASH_ABI_VERSION;
}

HW_EXPORT int hashwatch_cv_compute(int model, const uint8_t *pixels,
				   uint32_t width, uint32_t height,
				   uint32_t channels, size_t stride, uint8_t *out,
				   size_t cap)
{
	return guarded<int>([&] {
		return compute(model, pixels, width, height, channels, stride,
			       out, cap);
	});
}

HW_EXPORT double hashwatch_cv_compare(int model, const uint8_t *a,
				      const uint8_t *b, size_t len)
{
	return guarded<double>([&] { return compare(model, a, b, len); });
}
