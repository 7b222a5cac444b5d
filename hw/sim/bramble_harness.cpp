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
//!
//! Streams and the DMA model (ABI 3). The top level has the AXI4-Stream ports of
//! docs/register-map.md "Streams"; every clock (idle steps and bus accesses alike) the harness
//! drives s_axis from the MM2S channel and m_axis into the S2MM channel of a model of the Xilinx
//! AXI DMA (PG021) in simple (direct register) mode. The model's registers (bramble_sim_dma_read32
//! / _write32, byte offsets as in PG021) cost DMA_ACCESS_CYCLES clocks each, like a bus access.
//! It reads and writes a host-memory buffer the harness owns, at a nonzero "physical" base address
//! (bramble_sim_dma_config), so the driver's address arithmetic is exercised; an address range
//! outside it is a decode error (DMASR.DMADecErr + Err_Irq, the channel halts). Seeded random
//! TVALID gaps on MM2S and TREADY stalls on S2MM model a bursty producer and a slow consumer.
//!
//! Cycle structure: handshakes are sampled from the outputs settled before a rising edge (as for
//! the bus), the model advances after that edge and sets the next stream inputs before the
//! falling-edge eval, so streaming costs no extra eval per clock.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vbramble.h"
#include "verilated.h"
#ifdef BRAMBLE_TRACE
#include "verilated_fst_c.h"
#endif

// 2: bramble_sim_new takes the memory directory. 3: stream ports and the AXI DMA model.
#define BRAMBLE_SIM_ABI 3

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

// PG021 register offsets (simple mode) and bits.
enum : uint32_t {
    MM2S_DMACR = 0x00,
    MM2S_DMASR = 0x04,
    MM2S_SA = 0x18,
    MM2S_SA_MSB = 0x1C,
    MM2S_LENGTH = 0x28,
    S2MM_DMACR = 0x30,
    S2MM_DMASR = 0x34,
    S2MM_DA = 0x48,
    S2MM_DA_MSB = 0x4C,
    S2MM_LENGTH = 0x58,
    CR_RS = 1u << 0,
    CR_RESET = 1u << 2,
    CR_IOC_IRQ_EN = 1u << 12,
    CR_ERR_IRQ_EN = 1u << 14,
    CR_IRQ_THRESHOLD_1 = 1u << 16,  // IRQThreshold reset value (simple mode ignores it)
    SR_HALTED = 1u << 0,
    SR_IDLE = 1u << 1,
    SR_INT_ERR = 1u << 4,
    SR_SLV_ERR = 1u << 5,
    SR_DEC_ERR = 1u << 6,
    SR_IOC_IRQ = 1u << 12,
    SR_ERR_IRQ = 1u << 14,
    SR_W1C = SR_IOC_IRQ | SR_ERR_IRQ,
    // Buffer Length Register width (c_sg_length_width): 26 bits, the largest PG021 allows.
    LENGTH_MASK = (1u << 26) - 1,
};

// Clocks one DMA register access costs (an AXI4-Lite handshake through an interconnect).
constexpr uint64_t DMA_ACCESS_CYCLES = 4;

// Whether the top level has the stream ports (register map v3). Detected from the Verilated
// class, so the same harness builds for a design without them (the DMA model then refuses to be
// configured, and the host falls back to the register windows).
template <typename...>
struct Voider {
    using type = void;
};
template <typename T, typename = void>
struct HasStreams : std::false_type {};
template <typename T>
struct HasStreams<T, typename Voider<decltype(std::declval<T&>().s_axis_tdata_i)>::type>
    : std::true_type {};
using Streams = HasStreams<Vbramble>;

template <typename T>
constexpr size_t beat_bytes_of(std::true_type) {
    return sizeof(std::declval<T&>().s_axis_tdata_i);
}
template <typename T>
constexpr size_t beat_bytes_of(std::false_type) {
    return 0;
}
// Beat width of the streams: the Verilated type of s_axis_tdata_i (IData for 32 bits, QData for
// 64), so the harness follows the design's TDATA width with nothing to configure; 0 without
// stream ports.
constexpr size_t BEAT_BYTES = beat_bytes_of<Vbramble>(Streams{});

// xorshift64*: small, seeded, identical everywhere.
struct Rng {
    uint64_t s = 0x9E3779B97F4A7C15ull;
    void seed(uint64_t v) { s = v ? v : 0x9E3779B97F4A7C15ull; }
    uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545F4914F6CDD1Dull;
    }
    // True with probability pct/100.
    bool chance(uint32_t pct) { return pct >= 100 || (next() >> 33) % 100 < pct; }
};

// One DMA channel: control, status, address and the transfer in progress.
struct Channel {
    uint32_t cr = CR_IRQ_THRESHOLD_1;
    uint32_t sr = SR_HALTED;
    uint64_t addr = 0;
    uint32_t length = 0;
    bool busy = false;      // a transfer is in progress
    uint64_t done = 0;      // bytes moved in the transfer in progress
    uint64_t moved = 0;     // bytes moved since the model was configured (diagnostics)

    void reset() {
        cr = CR_IRQ_THRESHOLD_1;
        sr = SR_HALTED;
        addr = 0;
        length = 0;
        busy = false;
        done = 0;
    }
    bool irq() const {
        return ((sr & SR_IOC_IRQ) && (cr & CR_IOC_IRQ_EN)) ||
               ((sr & SR_ERR_IRQ) && (cr & CR_ERR_IRQ_EN));
    }
    void write_cr(uint32_t v) {
        cr = v & ~CR_RESET;
        if (cr & CR_RS) {
            sr &= ~SR_HALTED;
        } else if (!busy) {
            sr |= SR_HALTED;
        }
    }
    void write_sr(uint32_t v) { sr &= ~(v & SR_W1C); }
    // PG021: an error halts the channel (RS reads 0, Halted set) until a reset.
    void fail(uint32_t bits) {
        sr |= bits | SR_ERR_IRQ | SR_HALTED;
        sr &= ~SR_IDLE;
        cr &= ~CR_RS;
        busy = false;
    }
    void complete() {
        busy = false;
        sr |= SR_IDLE | SR_IOC_IRQ;
    }
};

struct Dma {
    bool configured = false;
    uint64_t base = 0;                 // "physical" address of buf[0]
    std::vector<uint8_t> buf;
    uint32_t valid_pct = 100;          // MM2S: chance per clock of presenting a beat
    uint32_t ready_pct = 100;          // S2MM: chance per clock of TREADY
    Rng rng;
    Channel mm2s, s2mm;
    // MM2S beat being presented (held until accepted, as AXI4-Stream requires).
    bool tvalid = false;
    uint64_t tdata = 0;
    bool tlast = false;
    bool tready = false;
    // Sampled before the rising edge.
    bool s_fire = false, m_fire = false, m_last = false;
    uint64_t m_data = 0;

    void reset() {
        mm2s.reset();
        s2mm.reset();
        tvalid = tlast = tready = false;
        tdata = 0;
    }
    // True when [addr, addr + len) lies inside the buffer.
    bool in_buffer(uint64_t addr, uint64_t len) const {
        return addr >= base && addr - base <= buf.size() && len <= buf.size() - (addr - base);
    }
    void start(Channel& c) {
        if (!(c.cr & CR_RS) || c.busy || c.length == 0) return;  // PG021: ignored
        if (!in_buffer(c.addr, c.length)) {
            c.fail(SR_DEC_ERR);
            return;
        }
        c.busy = true;
        c.done = 0;
        c.sr &= ~SR_IDLE;
    }
    // Loads the next MM2S beat into tdata/tlast (bytes past the transfer's end are zero).
    void load_beat() {
        uint64_t off = mm2s.addr - base + mm2s.done;
        uint64_t n = std::min<uint64_t>(BEAT_BYTES, mm2s.length - mm2s.done);
        uint64_t v = 0;
        std::memcpy(&v, &buf[off], n);  // little-endian host, as the Zynq and x86 are
        tdata = v;
        tlast = mm2s.done + n >= mm2s.length;
    }
};


// The stream ports, for a design that has them (only instantiated then).
template <typename T>
void sample_ports(T* top, Dma& d, std::true_type) {
    d.s_fire = top->s_axis_tvalid_i && top->s_axis_tready_o;
    d.m_fire = top->m_axis_tvalid_o && top->m_axis_tready_i;
    d.m_data = top->m_axis_tdata_o;
    d.m_last = top->m_axis_tlast_o;
}
template <typename T>
void sample_ports(T*, Dma& d, std::false_type) {
    d.s_fire = d.m_fire = d.m_last = false;
}
template <typename T>
void drive_ports(T* top, const Dma& d, std::true_type) {
    top->s_axis_tvalid_i = d.tvalid;
    top->s_axis_tdata_i = d.tdata;
    top->s_axis_tlast_i = d.tlast && d.tvalid;
    top->m_axis_tready_i = d.tready;
}
template <typename T>
void drive_ports(T*, const Dma&, std::false_type) {}

struct Sim {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vbramble> top;
#ifdef BRAMBLE_TRACE
    std::unique_ptr<VerilatedFstC> fst;
#endif
    uint64_t cycles = 0;
    uint32_t last_resp = 0;
    Dma dma;

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
        sample_streams();
        top->clk_i = 1;
        top->eval();
        ctx->timeInc(5);
        dump();
        advance_streams();
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

    // Handshakes of this edge, from the outputs settled before it.
    void sample_streams() { sample_ports(top.get(), dma, Streams{}); }

    // The DMA model after a rising edge: account the beats that moved, end transfers, and set the
    // stream inputs for the next edge (settled by the falling-edge eval).
    void advance_streams() {
        Dma& d = dma;
        if (d.s_fire && d.mm2s.busy) {
            d.tvalid = false;
            uint64_t n = std::min<uint64_t>(BEAT_BYTES, d.mm2s.length - d.mm2s.done);
            d.mm2s.done += n;
            d.mm2s.moved += n;
            if (d.mm2s.done >= d.mm2s.length) d.mm2s.complete();
        }
        if (d.m_fire && d.s2mm.busy) {
            uint64_t off = d.s2mm.addr - d.base + d.s2mm.done;
            uint64_t n = std::min<uint64_t>(BEAT_BYTES, d.s2mm.length - d.s2mm.done);
            std::memcpy(&d.buf[off], &d.m_data, n);
            d.s2mm.done += n;
            d.s2mm.moved += n;
            if (d.m_last || d.s2mm.done >= d.s2mm.length) {
                // PG021 simple mode: the bytes received are written back into S2MM_LENGTH. A
                // packet longer than the buffer ends the transfer at LENGTH with DMAIntErr.
                bool overrun = !d.m_last;
                d.s2mm.length = static_cast<uint32_t>(d.s2mm.done);
                d.s2mm.complete();
                if (overrun) d.s2mm.fail(SR_INT_ERR);
            }
        }
        if (!d.tvalid && d.mm2s.busy && d.rng.chance(d.valid_pct)) {
            d.load_beat();
            d.tvalid = true;
        }
        d.tready = d.s2mm.busy && d.rng.chance(d.ready_pct);
        drive_ports(top.get(), d, Streams{});
    }

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

// Holds rst_ni low for `cycles` cycles (at least 1) with the bus and the streams idle and the DMA
// model reset, then releases it.
void bramble_sim_reset(void* h, uint32_t cycles) {
    Sim* s = static_cast<Sim*>(h);
    s->idle_bus();
    s->dma.reset();  // the DMA shares the design's reset, as in a block design
    drive_ports(s->top.get(), s->dma, Streams{});
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

// ---- streams and the AXI DMA model (ABI 3) ----

// Gives the DMA model a buffer of `size` bytes at "physical" address `base` (nonzero, so address
// arithmetic is exercised), the chance per clock (percent, 0..100) that MM2S presents a beat and
// that S2MM is ready, and the seed of those choices. Resets the DMA. Returns 0, -1 for a size
// of 0, a base of 0 or a buffer that would wrap the 64-bit address space, -2 when the design has
// no stream ports.
int bramble_sim_dma_config(void* h, uint64_t base, uint64_t size, uint32_t valid_pct,
                           uint32_t ready_pct, uint64_t seed) {
    Sim* s = static_cast<Sim*>(h);
    if (!Streams::value) return -2;
    if (size == 0 || base == 0 || base + size < base) return -1;
    Dma& d = s->dma;
    d.configured = true;
    d.base = base;
    d.buf.assign(size, 0);
    d.valid_pct = valid_pct > 100 ? 100 : valid_pct;
    d.ready_pct = ready_pct > 100 ? 100 : ready_pct;
    d.rng.seed(seed);
    d.reset();
    d.mm2s.moved = d.s2mm.moved = 0;
    return 0;
}

// Bytes of the DMA buffer (0 before bramble_sim_dma_config) and its base address.
uint64_t bramble_sim_dma_buf_size(void* h) { return static_cast<Sim*>(h)->dma.buf.size(); }
uint64_t bramble_sim_dma_buf_base(void* h) { return static_cast<Sim*>(h)->dma.base; }

// Copies `len` bytes into / out of the DMA buffer at byte offset `off`. Returns 0, or -1 when the
// range is outside the buffer (nothing is copied).
int bramble_sim_dma_buf_write(void* h, uint64_t off, const uint8_t* src, uint64_t len) {
    Dma& d = static_cast<Sim*>(h)->dma;
    if (off > d.buf.size() || len > d.buf.size() - off) return -1;
    if (len) std::memcpy(&d.buf[off], src, len);
    return 0;
}
int bramble_sim_dma_buf_read(void* h, uint64_t off, uint8_t* dst, uint64_t len) {
    Dma& d = static_cast<Sim*>(h)->dma;
    if (off > d.buf.size() || len > d.buf.size() - off) return -1;
    if (len) std::memcpy(dst, &d.buf[off], len);
    return 0;
}

// A DMA register read or write (PG021 byte offsets; other offsets read 0, writes are ignored).
// Each costs DMA_ACCESS_CYCLES clocks, during which the streams keep moving.
uint32_t bramble_sim_dma_read32(void* h, uint32_t off) {
    Sim* s = static_cast<Sim*>(h);
    for (uint64_t i = 0; i < DMA_ACCESS_CYCLES; i++) s->tick();
    Dma& d = s->dma;
    switch (off) {
        case MM2S_DMACR: return d.mm2s.cr;
        case MM2S_DMASR: return d.mm2s.sr;
        case MM2S_SA: return static_cast<uint32_t>(d.mm2s.addr);
        case MM2S_SA_MSB: return static_cast<uint32_t>(d.mm2s.addr >> 32);
        case MM2S_LENGTH: return d.mm2s.length;
        case S2MM_DMACR: return d.s2mm.cr;
        case S2MM_DMASR: return d.s2mm.sr;
        case S2MM_DA: return static_cast<uint32_t>(d.s2mm.addr);
        case S2MM_DA_MSB: return static_cast<uint32_t>(d.s2mm.addr >> 32);
        case S2MM_LENGTH: return d.s2mm.length;
        default: return 0;
    }
}

void bramble_sim_dma_write32(void* h, uint32_t off, uint32_t v) {
    Sim* s = static_cast<Sim*>(h);
    for (uint64_t i = 0; i < DMA_ACCESS_CYCLES; i++) s->tick();
    Dma& d = s->dma;
    auto lo = [](uint64_t a, uint32_t v) { return (a & ~0xFFFFFFFFull) | v; };
    auto hi = [](uint64_t a, uint32_t v) { return (a & 0xFFFFFFFFull) | (uint64_t(v) << 32); };
    switch (off) {
        case MM2S_DMACR:
        case S2MM_DMACR:
            // PG021: a reset of either channel resets the whole core (both channels).
            if (v & CR_RESET) {
                d.reset();
                break;
            }
            (off == MM2S_DMACR ? d.mm2s : d.s2mm).write_cr(v);
            break;
        case MM2S_DMASR: d.mm2s.write_sr(v); break;
        case S2MM_DMASR: d.s2mm.write_sr(v); break;
        case MM2S_SA: d.mm2s.addr = lo(d.mm2s.addr, v); break;
        case MM2S_SA_MSB: d.mm2s.addr = hi(d.mm2s.addr, v); break;
        case S2MM_DA: d.s2mm.addr = lo(d.s2mm.addr, v); break;
        case S2MM_DA_MSB: d.s2mm.addr = hi(d.s2mm.addr, v); break;
        case MM2S_LENGTH:
            if (!d.mm2s.busy) {
                d.mm2s.length = v & LENGTH_MASK;
                d.start(d.mm2s);
            }
            break;
        case S2MM_LENGTH:
            if (!d.s2mm.busy) {
                d.s2mm.length = v & LENGTH_MASK;
                d.start(d.s2mm);
            }
            break;
        default: break;
    }
    if (!d.configured && (d.mm2s.busy || d.s2mm.busy)) {
        // No buffer: every address decodes to nothing.
        if (d.mm2s.busy) d.mm2s.fail(SR_DEC_ERR);
        if (d.s2mm.busy) d.s2mm.fail(SR_DEC_ERR);
    }
    // A reset drops TVALID/TREADY at once: the next edge must not see the old handshake.
    if (!d.mm2s.busy && !d.s2mm.busy) {
        d.tvalid = d.tready = false;
        drive_ports(s->top.get(), d, Streams{});
        s->settle();
    }
}

// The DMA's interrupt lines: bit 0 mm2s_introut, bit 1 s2mm_introut.
int bramble_sim_dma_irq(void* h) {
    Dma& d = static_cast<Sim*>(h)->dma;
    return (d.mm2s.irq() ? 1 : 0) | (d.s2mm.irq() ? 2 : 0);
}

// Steps until both DMA interrupt lines in `mask` (bit 0 MM2S, bit 1 S2MM) are high, either line
// signals an error (Err_Irq), or `max_cycles` have passed. Returns the cycles stepped.
uint64_t bramble_sim_step_until_dma_irq(void* h, uint32_t mask, uint64_t max_cycles) {
    Sim* s = static_cast<Sim*>(h);
    Dma& d = s->dma;
    uint64_t n = 0;
    auto ready = [&]() {
        int irq = bramble_sim_dma_irq(h);
        bool err = ((d.mm2s.sr | d.s2mm.sr) & SR_ERR_IRQ) != 0;
        return (irq & mask) == int(mask) || (err && irq);
    };
    while (n < max_cycles && !ready()) {
        s->tick();
        n++;
    }
    return n;
}

// Bytes the MM2S and S2MM channels moved since bramble_sim_dma_config (diagnostics: a stalled
// stream reports them).
uint64_t bramble_sim_dma_moved(void* h, int s2mm) {
    Dma& d = static_cast<Sim*>(h)->dma;
    return s2mm ? d.s2mm.moved : d.mm2s.moved;
}

// TDATA bytes of the design's streams (4 or 8; 0: the design has no stream ports).
uint32_t bramble_sim_beat_bytes(void) { return static_cast<uint32_t>(BEAT_BYTES); }

}  // extern "C"
