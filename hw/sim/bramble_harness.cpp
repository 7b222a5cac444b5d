//! C-ABI harness around a Verilated Bramble top level (`--prefix Vbramble`), loaded at run time by
//! the host crate's Verilator backend (host/src/sim/). It drives the AXI4-Lite slave cycle by cycle
//! as a bus master would: every access is a real valid/ready handshake, never a backdoor write.
//!
//! Build (what host/src/sim/build.rs runs; see docs/host.md):
//!   verilator --cc --exe --build -O2 --no-timing -Wno-fatal --prefix Vbramble \
//!     --top-module <top> +define+BRAMBLE_MEM_DIR_PLUSARG -I<rtl> \
//!     -CFLAGS "-fPIC -DVL_VALUE_STRING_MAX_WORDS=<n>" -LDFLAGS -shared -MAKEFLAGS OPT_FAST=-O2 \
//!     -o libbramble_sim.so bramble_harness.cpp <rtl/*.v>     [--trace-fst -CFLAGS -DBRAMBLE_TRACE]
//!
//! Memory images: bramble_sim_new passes the bundle's rtl/ directory to the model as the plusarg
//! +bramble_mem_dir=<dir> before the model exists; with BRAMBLE_MEM_DIR_PLUSARG defined, the
//! memory primitives (hw/bramble_ram_sdp.v, hw/bramble_rom_2r.v) $readmemh <dir>/<image>. Nothing
//! depends on the process working directory. The path is built in a register of
//! `BRAMBLE_MEM_PATH_BYTES bytes; Verilator's runtime turns it into a file name through a buffer
//! of VL_VALUE_STRING_MAX_WORDS words (default 64, i.e. 256 bytes, and a longer name overruns
//! it), hence the -D above.
//!
//! Status codes: 0 OK, 1 handshake timeout (max_cycles reached), 2 AXI error response (SLVERR or
//! DECERR; the response code is stored and readable through bramble_sim_last_resp).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "Vbramble.h"
#include "verilated.h"
#ifdef BRAMBLE_TRACE
#include "verilated_fst_c.h"
#endif

// 2: bramble_sim_new takes the memory directory.
#define BRAMBLE_SIM_ABI 2

// Built with -DVL_USER_FINISH -DVL_USER_STOP -DVL_USER_FATAL: a $finish, $stop or fatal error in
// the design must never end the host process (Verilator's defaults call exit() on the second
// $finish and on errors). They mark the context finished; the host reports it as an error.
void vl_finish(const char* /*filename*/, int /*linenum*/, const char* /*hier*/) {
    Verilated::threadContextp()->gotFinish(true);
}
void vl_stop(const char* /*filename*/, int /*linenum*/, const char* /*hier*/) {
    Verilated::threadContextp()->gotFinish(true);
}
void vl_fatal(const char* filename, int linenum, const char* /*hier*/, const char* msg) {
    std::fprintf(stderr, "%%Error: %s:%d: %s\n", filename, linenum, msg);
    Verilated::threadContextp()->gotFinish(true);
}

namespace {

struct Sim {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vbramble> top;
#ifdef BRAMBLE_TRACE
    std::unique_ptr<VerilatedFstC> fst;
#endif
    uint64_t cycles = 0;
    uint32_t last_resp = 0;

    void dump() {
#ifdef BRAMBLE_TRACE
        if (fst) fst->dump(ctx->time());
#endif
    }

    // The clock is split in two so that every cycle costs exactly two eval() calls: inputs a
    // caller changes between rise() and fall() are settled by the falling-edge eval and sampled
    // at the next rising edge, and outputs read after fall() already reflect them (no extra eval
    // to settle combinational ready/valid). Only a caller that changes inputs after fall() must
    // call settle() before reading outputs that depend on them.
    void rise() {
        top->clk_i = 1;
        top->eval();
        ctx->timeInc(5);
        dump();
    }
    void fall() {
        top->clk_i = 0;
        top->eval();
        ctx->timeInc(5);
        dump();
        cycles++;
    }
    void tick() {
        rise();
        fall();
    }
    void settle() { top->eval(); }

    void idle_bus() {
        top->s_axil_awvalid_i = 0;
        top->s_axil_wvalid_i = 0;
        top->s_axil_bready_i = 0;
        top->s_axil_arvalid_i = 0;
        top->s_axil_rready_i = 0;
        top->s_axil_awprot_i = 0;
        top->s_axil_arprot_i = 0;
        top->s_axil_wstrb_i = 0;
    }
};

}  // namespace

extern "C" {

uint32_t bramble_sim_abi_version(void) { return BRAMBLE_SIM_ABI; }

int bramble_sim_traced(void) {
#ifdef BRAMBLE_TRACE
    return 1;
#else
    return 0;
#endif
}

// Creates the model, opens the FST trace if `trace_path` is non-NULL (and the library was built
// with tracing), and runs the initial blocks (where $readmemh happens). Memory images are read
// from the directory `mem_dir` (an absolute path; NULL: the working directory). Returns NULL on
// failure.
void* bramble_sim_new(const char* mem_dir, const char* trace_path) {
    Sim* s = new Sim();
    s->ctx.reset(new VerilatedContext());
    s->ctx->debug(0);
    s->ctx->randReset(0);
    // The plusargs must be in place before the first eval() runs the initial blocks; a design
    // that asks for plusargs when none were ever set makes Verilator abort the process.
    const std::string mem_arg = std::string("+bramble_mem_dir=") + (mem_dir ? mem_dir : "");
    const char* argv[] = {"bramble_sim", mem_arg.c_str()};
    s->ctx->commandArgs(mem_dir ? 2 : 1, argv);
#ifdef BRAMBLE_TRACE
    if (trace_path) s->ctx->traceEverOn(true);
#endif
    s->top.reset(new Vbramble(s->ctx.get(), "TOP"));
#ifdef BRAMBLE_TRACE
    if (trace_path) {
        s->fst.reset(new VerilatedFstC());
        s->top->trace(s->fst.get(), 99);
        s->fst->open(trace_path);
        if (!s->fst->isOpen()) {
            delete s;
            return nullptr;
        }
    }
#else
    (void)trace_path;
#endif
    s->idle_bus();
    s->top->clk_i = 0;
    s->top->rst_ni = 0;
    s->top->eval();
    s->dump();
    return s;
}

void bramble_sim_free(void* h) {
    Sim* s = static_cast<Sim*>(h);
    if (!s) return;
    s->top->final();
#ifdef BRAMBLE_TRACE
    if (s->fst) s->fst->close();
#endif
    delete s;
}

// Holds rst_ni low for `cycles` cycles (at least 1) with the bus idle, then releases it.
void bramble_sim_reset(void* h, uint32_t cycles) {
    Sim* s = static_cast<Sim*>(h);
    s->idle_bus();
    s->top->rst_ni = 0;
    if (cycles == 0) cycles = 1;
    for (uint32_t i = 0; i < cycles; i++) s->tick();
    s->top->rst_ni = 1;
    s->settle();
}

void bramble_sim_step(void* h, uint64_t n) {
    Sim* s = static_cast<Sim*>(h);
    for (uint64_t i = 0; i < n; i++) s->tick();
}

// Steps until irq_o is high or `max_cycles` have passed. Returns the cycles stepped.
uint64_t bramble_sim_step_until_irq(void* h, uint64_t max_cycles) {
    Sim* s = static_cast<Sim*>(h);
    uint64_t n = 0;
    while (n < max_cycles && !s->top->irq_o) {
        s->tick();
        n++;
    }
    return n;
}

int bramble_sim_irq(void* h) { return static_cast<Sim*>(h)->top->irq_o ? 1 : 0; }

uint64_t bramble_sim_cycles(void* h) { return static_cast<Sim*>(h)->cycles; }

// True once the design executed $finish (e.g. a failed parameter check in an initial block).
int bramble_sim_finished(void* h) { return static_cast<Sim*>(h)->ctx->gotFinish() ? 1 : 0; }

uint32_t bramble_sim_last_resp(void* h) { return static_cast<Sim*>(h)->last_resp; }

// One AXI4-Lite write: AW and W presented together, each dropped after its own handshake, then
// the B handshake. A handshake happens at a rising edge where valid and ready are both high; it is
// decided from the outputs settled before that edge, and the inputs it changes are applied before
// the falling-edge eval, so a cycle costs two evals however many signals move.
int bramble_sim_write32(void* h, uint32_t addr, uint32_t data, uint64_t max_cycles) {
    Sim* s = static_cast<Sim*>(h);
    Vbramble* t = s->top.get();
    t->s_axil_awaddr_i = addr;
    t->s_axil_awprot_i = 0;
    t->s_axil_awvalid_i = 1;
    t->s_axil_wdata_i = data;
    t->s_axil_wstrb_i = 0xf;
    t->s_axil_wvalid_i = 1;
    t->s_axil_bready_i = 1;
    s->settle();  // ready/valid may depend combinationally on the inputs just set
    for (uint64_t n = 0; n < max_cycles; n++) {
        bool aw = t->s_axil_awvalid_i && t->s_axil_awready_o;
        bool w = t->s_axil_wvalid_i && t->s_axil_wready_o;
        bool b = t->s_axil_bready_i && t->s_axil_bvalid_o;
        uint32_t resp = t->s_axil_bresp_o;
        s->rise();
        if (aw) t->s_axil_awvalid_i = 0;
        if (w) t->s_axil_wvalid_i = 0;
        if (b) {
            t->s_axil_bready_i = 0;
            t->s_axil_wstrb_i = 0;
        }
        s->fall();
        if (b) {
            s->last_resp = resp;
            return resp >= 2 ? 2 : 0;
        }
    }
    s->idle_bus();
    s->settle();
    return 1;
}

// One AXI4-Lite read: AR handshake, then the R handshake (same cycle structure as the write).
int bramble_sim_read32(void* h, uint32_t addr, uint32_t* data, uint64_t max_cycles) {
    Sim* s = static_cast<Sim*>(h);
    Vbramble* t = s->top.get();
    t->s_axil_araddr_i = addr;
    t->s_axil_arprot_i = 0;
    t->s_axil_arvalid_i = 1;
    t->s_axil_rready_i = 1;
    s->settle();
    for (uint64_t n = 0; n < max_cycles; n++) {
        bool ar = t->s_axil_arvalid_i && t->s_axil_arready_o;
        bool r = t->s_axil_rready_i && t->s_axil_rvalid_o;
        uint32_t value = t->s_axil_rdata_o;
        uint32_t resp = t->s_axil_rresp_o;
        s->rise();
        if (ar) t->s_axil_arvalid_i = 0;
        if (r) t->s_axil_rready_i = 0;
        s->fall();
        if (r) {
            *data = value;
            s->last_resp = resp;
            return resp >= 2 ? 2 : 0;
        }
    }
    s->idle_bus();
    s->settle();
    return 1;
}

}  // extern "C"
