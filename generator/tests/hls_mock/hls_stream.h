// Minimal stand-in for Xilinx's hls_stream.h (tests/hls.rs only; see ap_int.h).
#ifndef BRAMBLE_TEST_MOCK_HLS_STREAM_H
#define BRAMBLE_TEST_MOCK_HLS_STREAM_H

#include <cstdio>
#include <cstdlib>
#include <deque>

namespace hls {
template <class T>
class stream {
public:
    void write(const T &v) { q_.push_back(v); }
    T read() {
        if (q_.empty()) {
            std::fprintf(stderr, "mock hls::stream: read from an empty stream\n");
            std::abort();
        }
        T v = q_.front();
        q_.pop_front();
        return v;
    }
    bool empty() const { return q_.empty(); }

private:
    std::deque<T> q_;
};
} // namespace hls

#endif
