// A minimal stand-in for Xilinx's ap_int.h, for tests/hls.rs only: enough of ap_int/ap_uint to
// compile and run the kernel's BRAMBLE_XILINX_TYPES branch with g++. Values are held in 64 bits
// and wrapped to W bits on construction, as ap_int does on assignment; arithmetic goes through
// the implicit conversion to a 64-bit integer (exact for the widths bramble uses, <= 62 bits).
// It is not the real header and proves nothing about Vitis HLS itself.
#ifndef BRAMBLE_TEST_MOCK_AP_INT_H
#define BRAMBLE_TEST_MOCK_AP_INT_H

#include <cstdint>

template <int W>
struct ap_int {
    static_assert(W >= 1 && W <= 64, "mock ap_int supports 1..64 bits");
    int64_t v;
    ap_int() : v(0) {}
    template <class T>
    ap_int(T x) : v(wrap(static_cast<int64_t>(x))) {}
    operator int64_t() const { return v; }
    int64_t to_int64() const { return v; }
    static int64_t wrap(int64_t x) {
        if (W == 64) return x;
        const uint64_t m = (uint64_t(1) << W) - 1, s = uint64_t(1) << (W - 1);
        return static_cast<int64_t>(((static_cast<uint64_t>(x) & m) ^ s)) - static_cast<int64_t>(s);
    }
};

template <int W>
struct ap_uint {
    static_assert(W >= 1 && W <= 64, "mock ap_uint supports 1..64 bits");
    uint64_t v;
    ap_uint() : v(0) {}
    template <class T>
    ap_uint(T x) : v(static_cast<uint64_t>(x) & (W == 64 ? ~uint64_t(0) : (uint64_t(1) << W) - 1)) {}
    operator uint64_t() const { return v; }
    uint64_t to_uint64() const { return v; }
};

#endif
