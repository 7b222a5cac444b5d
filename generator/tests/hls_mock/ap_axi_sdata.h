// Minimal stand-in for Xilinx's ap_axi_sdata.h (tests/hls.rs only; see ap_int.h).
#ifndef BRAMBLE_TEST_MOCK_AP_AXI_SDATA_H
#define BRAMBLE_TEST_MOCK_AP_AXI_SDATA_H

#include "ap_int.h"

template <int D, int U, int TI, int TD>
struct ap_axiu {
    ap_uint<D> data;
    ap_uint<(D + 7) / 8> keep;
    ap_uint<(D + 7) / 8> strb;
    ap_uint<1> last;
};

#endif
