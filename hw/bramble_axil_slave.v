// bramble_axil_slave: the AXI4-Lite slave of the engine (docs/register-map.md).
//
// All five channels use full valid/ready handshakes and every output is a register. AW and W are
// captured independently (in either order, or together) into one-deep holding registers; a write
// is carried out once both are held and no write response is waiting, a read once AR is held and
// no read data is waiting, so BREADY/RREADY may stay low for any number of clocks. One access is
// carried out at a time; when both a read and a write are ready they alternate.
//
// Window 0 (the registers) is implemented here. Windows 1 (input buffer) and 2 (output buffer)
// are forwarded over a request/acknowledge interface (win_*): win_req_o stays high with stable
// win_we_o/win_sel_o/win_word_o/win_wdata_o until win_ack_i; for a read win_rdata_i is sampled
// with win_ack_i. Window 3, unmapped registers, writes to window 2 and writes whose WSTRB is not
// all ones are answered OKAY and change nothing (unmapped reads return 0). Responses are always
// OKAY.
//
// Version 3 adds the stream registers (0x030..0x05C): SCTRL, TLAST_EVERY and IRQ_COUNT are held
// here and go to bramble_stream_ctrl, which keeps the counters and SSTATUS; CLEAR and the
// SSTATUS write-1-to-clear bits are one-clock pulses. START is ignored while the engine is busy
// or a stream is active (stream_busy_i), and IRQ_PENDING is also set by count_set_i.
//
// Version 4 adds the weight loader's registers (0x060..0x06C). With Runtime = 1, WCTRL.LOAD and
// CLEAR go to bramble_wload, WSTATUS/WWORDS/WHASH read its state, and START and RUN are ignored
// while the weights are not loaded (or LOAD is set). With Runtime = 0 (weights in the bitstream)
// WSTATUS reads LOADED, WWORDS 0 and WHASH the constant WeightsCrc.
//
// Offsets, bit positions, field layouts and the MAGIC/VERSION values come from bramble_defs.vh
// (generated from bramble-abi, the host's source of the same numbers).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_axil_slave #(
  // AXI address bits: four windows of 2^(AddrBits-2) bytes (bramble-abi's window rule).
  parameter integer AddrBits  = 14,
  // Values of the identification registers GEOMETRY and SIZES.
  parameter integer NumPes    = 1,
  parameter integer NumLayers = 1,
  parameter integer ActBits   = 16,
  parameter integer InSize    = 1,
  parameter integer OutSize   = 1,
  // STREAM register: TDATA bits and lane bits.
  parameter integer TdataBits = 32,
  parameter integer LaneBits  = 16,
  // Network hash (HASH_LO, HASH_HI).
  parameter [31:0]  HashLo    = 32'h00000000,
  parameter [31:0]  HashHi    = 32'h00000000,
  // 1 = weights loaded at run time; WeightsCrc: WHASH of a bitstream-weights design.
  parameter integer Runtime   = 0,
  parameter [31:0]  WeightsCrc = 32'h00000000
) (
  input  wire                clk_i,
  input  wire                rst_ni,

  input  wire [AddrBits-1:0] s_axil_awaddr_i,
  input  wire [2:0]          s_axil_awprot_i,
  input  wire                s_axil_awvalid_i,
  output wire                s_axil_awready_o,
  input  wire [31:0]         s_axil_wdata_i,
  input  wire [3:0]          s_axil_wstrb_i,
  input  wire                s_axil_wvalid_i,
  output wire                s_axil_wready_o,
  output wire [1:0]          s_axil_bresp_o,
  output wire                s_axil_bvalid_o,
  input  wire                s_axil_bready_i,
  input  wire [AddrBits-1:0] s_axil_araddr_i,
  input  wire [2:0]          s_axil_arprot_i,
  input  wire                s_axil_arvalid_i,
  output wire                s_axil_arready_o,
  output wire [31:0]         s_axil_rdata_o,
  output wire [1:0]          s_axil_rresp_o,
  output wire                s_axil_rvalid_o,
  input  wire                s_axil_rready_i,

  // engine control
  output wire                start_o,
  input  wire                busy_i,
  input  wire                done_i,
  input  wire [63:0]         cycles_i,
  output wire                irq_o,

  // stream registers
  input  wire                stream_busy_i,   // a stream is active or a first beat arrives
  output wire                run_o,
  output wire                cyc_beat_o,
  output wire                clear_o,
  output wire                clr_count_o,
  output wire                clr_framing_o,
  output wire [31:0]         tlast_every_o,
  output wire [31:0]         irq_count_o,
  input  wire                active_i,
  input  wire                count_i,
  input  wire                framing_i,
  input  wire                count_set_i,
  input  wire [31:0]         vectors_i,
  input  wire [31:0]         in_beats_i,
  input  wire [31:0]         out_beats_i,
  input  wire [63:0]         sbusy_i,
  input  wire [63:0]         total_i,

  // weight loader (Runtime = 1)
  output wire                wload_o,
  output wire                wclear_o,
  input  wire                wloaded_i,
  input  wire                werror_i,
  input  wire [31:0]         wwords_i,
  input  wire [31:0]         whash_i,

  // input/output window access
  output wire                win_req_o,
  output wire                win_we_o,
  output wire                win_sel_o,
  output wire [AddrBits-5:0] win_word_o,
  output wire [31:0]         win_wdata_o,
  input  wire                win_ack_i,
  input  wire [31:0]         win_rdata_i
);

  localparam integer WordBits = AddrBits - 4;
  // Window size in bytes is 2**(AddrBits-2): IN_BASE = W, OUT_BASE = 2W.
  localparam [31:0] InBase   = 32'd1 << (AddrBits - 2);
  localparam [31:0] OutBase  = 32'd2 << (AddrBits - 2);
  localparam [31:0] Geometry =
    ((NumPes    & `BRAMBLE_GEOMETRY_FIELD_MAX) << `BRAMBLE_GEOMETRY_PES_LSB) |
    ((NumLayers & `BRAMBLE_GEOMETRY_FIELD_MAX) << `BRAMBLE_GEOMETRY_LAYERS_LSB) |
    ((ActBits   & `BRAMBLE_GEOMETRY_FIELD_MAX) << `BRAMBLE_GEOMETRY_ACT_BITS_LSB);
  localparam [31:0] Sizes =
    ((InSize  & `BRAMBLE_SIZES_FIELD_MAX) << `BRAMBLE_SIZES_IN_LSB) |
    ((OutSize & `BRAMBLE_SIZES_FIELD_MAX) << `BRAMBLE_SIZES_OUT_LSB);
  // Register words are decoded from the low RegWordBits of the word index; higher bits must be 0.
  localparam integer RegWordBits = `BRAMBLE_REG_WORD_BITS;
  localparam [31:0] Stream =
    ((TdataBits & 32'hFF) << `BRAMBLE_STREAM_TDATA_LSB) |
    ((LaneBits  & 32'hFF) << `BRAMBLE_STREAM_LANE_LSB);

  initial begin
    if (AddrBits < `BRAMBLE_MIN_ADDR_BITS || WordBits <= RegWordBits) begin
      $display("bramble_axil_slave: AddrBits must be >= %0d (window >= %0d bytes)",
               `BRAMBLE_MIN_ADDR_BITS, `BRAMBLE_MIN_WINDOW_BYTES);
      $finish;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Channel holding registers
  reg                aw_hold_q;
  reg [AddrBits-1:0] aw_addr_q;
  reg                w_hold_q;
  reg [31:0]         w_data_q;
  reg                w_full_strb_q;
  reg                ar_hold_q;
  reg [AddrBits-1:0] ar_addr_q;
  reg                bvalid_q;
  reg                rvalid_q;
  reg [31:0]         rdata_q;

  // Access state: 0 idle, 1 window write pending, 2 window read pending.
  localparam [1:0] OpIdle = 2'd0;
  localparam [1:0] OpWinWr = 2'd1;
  localparam [1:0] OpWinRd = 2'd2;
  reg [1:0]  op_q;
  reg        last_wr_q;

  // Registers
  reg        irq_en_q;
  reg        done_q;
  reg        irq_pend_q;
  reg        start_q;
  reg        run_q;
  reg        cyc_beat_q;
  reg        clear_q;
  reg        clr_count_q;
  reg        clr_framing_q;
  reg [31:0] tlast_every_q;
  reg [31:0] irq_count_q;
  reg        wload_q;
  reg        wclear_q;

  // Run-time weights: no run without loaded weights, none while loading.
  wire       weights_ok = (Runtime == 0) || (wloaded_i && !wload_q);

  wire aw_hs = s_axil_awvalid_i && !aw_hold_q;
  wire w_hs  = s_axil_wvalid_i && !w_hold_q;
  wire ar_hs = s_axil_arvalid_i && !ar_hold_q;

  wire wr_ready = (op_q == OpIdle) && aw_hold_q && w_hold_q && !bvalid_q;
  wire rd_ready = (op_q == OpIdle) && ar_hold_q && !rvalid_q;
  // Alternate when both are ready, so neither direction can starve the other.
  wire do_wr = wr_ready && (!rd_ready || !last_wr_q);
  wire do_rd = rd_ready && !do_wr;

  wire [1:0]          aw_win  = aw_addr_q[AddrBits-1:AddrBits-2];
  wire [1:0]          ar_win  = ar_addr_q[AddrBits-1:AddrBits-2];
  wire [WordBits-1:0] aw_word = aw_addr_q[AddrBits-3:2];
  wire [WordBits-1:0] ar_word = ar_addr_q[AddrBits-3:2];

  // Register write decode (window 0)
  wire reg_wr      = do_wr && (aw_win == 2'd0) && w_full_strb_q;
  wire aw_reg_ok   = (aw_word[WordBits-1:RegWordBits] == {(WordBits-RegWordBits){1'b0}});
  wire wr_control  = reg_wr && aw_reg_ok &&
                     (aw_word[RegWordBits-1:0] == `BRAMBLE_REG_CONTROL_WORD);
  wire wr_status   = reg_wr && aw_reg_ok &&
                     (aw_word[RegWordBits-1:0] == `BRAMBLE_REG_STATUS_WORD);
  wire wr_sctrl    = reg_wr && aw_reg_ok &&
                     (aw_word[RegWordBits-1:0] == `BRAMBLE_REG_SCTRL_WORD);
  wire wr_tlast    = reg_wr && aw_reg_ok &&
                     (aw_word[RegWordBits-1:0] == `BRAMBLE_REG_TLAST_EVERY_WORD);
  wire wr_irqcnt   = reg_wr && aw_reg_ok &&
                     (aw_word[RegWordBits-1:0] == `BRAMBLE_REG_IRQ_COUNT_WORD);
  wire wr_sstatus  = reg_wr && aw_reg_ok &&
                     (aw_word[RegWordBits-1:0] == `BRAMBLE_REG_SSTATUS_WORD);
  wire wr_wctrl    = reg_wr && aw_reg_ok &&
                     (aw_word[RegWordBits-1:0] == `BRAMBLE_REG_WCTRL_WORD);
  wire start_d     = wr_control && w_data_q[`BRAMBLE_CONTROL_START_BIT] && !busy_i &&
                     !stream_busy_i && weights_ok;
  // Window write: only the input window is writable.
  wire win_wr_start = do_wr && (aw_win == 2'd1) && w_full_strb_q;
  wire win_rd_start = do_rd && ((ar_win == 2'd1) || (ar_win == 2'd2));

  // CONTROL reads IRQ_ENABLE (START reads 0); STATUS reads DONE, BUSY and IRQ_PENDING.
  reg [31:0] control_rd;
  reg [31:0] status_rd;
  reg [31:0] sctrl_rd;
  reg [31:0] sstatus_rd;
  reg [31:0] wctrl_rd;
  reg [31:0] wstatus_rd;
  always @* begin
    control_rd = 32'd0;
    control_rd[`BRAMBLE_CONTROL_IRQ_ENABLE_BIT] = irq_en_q;
    status_rd = 32'd0;
    status_rd[`BRAMBLE_STATUS_DONE_BIT]        = done_q;
    status_rd[`BRAMBLE_STATUS_BUSY_BIT]        = busy_i;
    status_rd[`BRAMBLE_STATUS_IRQ_PENDING_BIT] = irq_pend_q;
    sctrl_rd = 32'd0;
    sctrl_rd[`BRAMBLE_SCTRL_RUN_BIT]         = run_q;
    sctrl_rd[`BRAMBLE_SCTRL_CYCLES_BEAT_BIT] = cyc_beat_q;
    sstatus_rd = 32'd0;
    sstatus_rd[`BRAMBLE_SSTATUS_COUNT_BIT]   = count_i;
    sstatus_rd[`BRAMBLE_SSTATUS_ACTIVE_BIT]  = active_i;
    sstatus_rd[`BRAMBLE_SSTATUS_FRAMING_BIT] = framing_i;
    wctrl_rd = 32'd0;
    wctrl_rd[`BRAMBLE_WCTRL_LOAD_BIT] = (Runtime != 0) && wload_q;
    wstatus_rd = 32'd0;
    wstatus_rd[`BRAMBLE_WSTATUS_LOADED_BIT]  = (Runtime == 0) || wloaded_i;
    wstatus_rd[`BRAMBLE_WSTATUS_ERROR_BIT]   = (Runtime != 0) && werror_i;
    wstatus_rd[`BRAMBLE_WSTATUS_RUNTIME_BIT] = (Runtime != 0);
  end

  reg [31:0] reg_rdata;
  always @* begin
    case (ar_word[RegWordBits-1:0])
      `BRAMBLE_REG_MAGIC_WORD:     reg_rdata = `BRAMBLE_MAGIC;
      `BRAMBLE_REG_VERSION_WORD:   reg_rdata = `BRAMBLE_REGMAP_VERSION;
      `BRAMBLE_REG_HASH_LO_WORD:   reg_rdata = HashLo;
      `BRAMBLE_REG_HASH_HI_WORD:   reg_rdata = HashHi;
      `BRAMBLE_REG_GEOMETRY_WORD:  reg_rdata = Geometry;
      `BRAMBLE_REG_SIZES_WORD:     reg_rdata = Sizes;
      `BRAMBLE_REG_IN_BASE_WORD:   reg_rdata = InBase;
      `BRAMBLE_REG_OUT_BASE_WORD:  reg_rdata = OutBase;
      `BRAMBLE_REG_CONTROL_WORD:   reg_rdata = control_rd;
      `BRAMBLE_REG_STATUS_WORD:    reg_rdata = status_rd;
      `BRAMBLE_REG_CYCLES_LO_WORD: reg_rdata = cycles_i[31:0];
      `BRAMBLE_REG_CYCLES_HI_WORD: reg_rdata = cycles_i[63:32];
      `BRAMBLE_REG_STREAM_WORD:    reg_rdata = Stream;
      `BRAMBLE_REG_SCTRL_WORD:     reg_rdata = sctrl_rd;
      `BRAMBLE_REG_TLAST_EVERY_WORD: reg_rdata = tlast_every_q;
      `BRAMBLE_REG_IRQ_COUNT_WORD: reg_rdata = irq_count_q;
      `BRAMBLE_REG_VECTORS_WORD:   reg_rdata = vectors_i;
      `BRAMBLE_REG_IN_BEATS_WORD:  reg_rdata = in_beats_i;
      `BRAMBLE_REG_OUT_BEATS_WORD: reg_rdata = out_beats_i;
      `BRAMBLE_REG_SSTATUS_WORD:   reg_rdata = sstatus_rd;
      `BRAMBLE_REG_BUSY_LO_WORD:   reg_rdata = sbusy_i[31:0];
      `BRAMBLE_REG_BUSY_HI_WORD:   reg_rdata = sbusy_i[63:32];
      `BRAMBLE_REG_TOTAL_LO_WORD:  reg_rdata = total_i[31:0];
      `BRAMBLE_REG_TOTAL_HI_WORD:  reg_rdata = total_i[63:32];
      `BRAMBLE_REG_WCTRL_WORD:     reg_rdata = wctrl_rd;
      `BRAMBLE_REG_WSTATUS_WORD:   reg_rdata = wstatus_rd;
      `BRAMBLE_REG_WWORDS_WORD:    reg_rdata = (Runtime != 0) ? wwords_i : 32'd0;
      `BRAMBLE_REG_WHASH_WORD:     reg_rdata = (Runtime != 0) ? whash_i : WeightsCrc;
      default:                     reg_rdata = 32'd0;
    endcase
    if (ar_word[WordBits-1:RegWordBits] != {(WordBits-RegWordBits){1'b0}}) begin
      reg_rdata = 32'd0;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_hold_q     <= 1'b0;
      aw_addr_q     <= {AddrBits{1'b0}};
      w_hold_q      <= 1'b0;
      w_data_q      <= 32'd0;
      w_full_strb_q <= 1'b0;
      ar_hold_q     <= 1'b0;
      ar_addr_q     <= {AddrBits{1'b0}};
      bvalid_q      <= 1'b0;
      rvalid_q      <= 1'b0;
      rdata_q       <= 32'd0;
      op_q          <= OpIdle;
      last_wr_q     <= 1'b0;
      irq_en_q      <= 1'b0;
      done_q        <= 1'b0;
      irq_pend_q    <= 1'b0;
      start_q       <= 1'b0;
      run_q         <= 1'b0;
      cyc_beat_q    <= 1'b0;
      clear_q       <= 1'b0;
      clr_count_q   <= 1'b0;
      clr_framing_q <= 1'b0;
      tlast_every_q <= 32'd1;
      irq_count_q   <= 32'd0;
      wload_q       <= 1'b0;
      wclear_q      <= 1'b0;
    end else begin
      wclear_q      <= wr_wctrl && w_data_q[`BRAMBLE_WCTRL_CLEAR_BIT];
      if (wr_wctrl) begin
        wload_q <= w_data_q[`BRAMBLE_WCTRL_LOAD_BIT];
      end
      start_q       <= start_d;
      clear_q       <= wr_sctrl && w_data_q[`BRAMBLE_SCTRL_CLEAR_BIT];
      clr_count_q   <= wr_sstatus && w_data_q[`BRAMBLE_SSTATUS_COUNT_BIT];
      clr_framing_q <= wr_sstatus && w_data_q[`BRAMBLE_SSTATUS_FRAMING_BIT];
      if (wr_sctrl) begin
        run_q      <= w_data_q[`BRAMBLE_SCTRL_RUN_BIT];
        cyc_beat_q <= w_data_q[`BRAMBLE_SCTRL_CYCLES_BEAT_BIT];
      end
      if (wr_tlast) begin
        tlast_every_q <= w_data_q;
      end
      if (wr_irqcnt) begin
        irq_count_q <= w_data_q;
      end

      if (aw_hs) begin
        aw_hold_q <= 1'b1;
        aw_addr_q <= s_axil_awaddr_i;
      end
      if (w_hs) begin
        w_hold_q      <= 1'b1;
        w_data_q      <= s_axil_wdata_i;
        w_full_strb_q <= (s_axil_wstrb_i == 4'hF);
      end
      if (ar_hs) begin
        ar_hold_q <= 1'b1;
        ar_addr_q <= s_axil_araddr_i;
      end
      if (s_axil_bvalid_o && s_axil_bready_i) begin
        bvalid_q <= 1'b0;
      end
      if (s_axil_rvalid_o && s_axil_rready_i) begin
        rvalid_q <= 1'b0;
      end

      // Writes
      if (do_wr) begin
        last_wr_q <= 1'b1;
        if (win_wr_start) begin
          op_q <= OpWinWr;
        end else begin
          aw_hold_q <= 1'b0;
          w_hold_q  <= 1'b0;
          bvalid_q  <= 1'b1;
        end
      end
      if (op_q == OpWinWr && win_ack_i) begin
        op_q      <= OpIdle;
        aw_hold_q <= 1'b0;
        w_hold_q  <= 1'b0;
        bvalid_q  <= 1'b1;
      end

      // Reads
      if (do_rd) begin
        last_wr_q <= 1'b0;
        if (win_rd_start) begin
          op_q <= OpWinRd;
        end else begin
          ar_hold_q <= 1'b0;
          rvalid_q  <= 1'b1;
          rdata_q   <= (ar_win == 2'd0) ? reg_rdata : 32'd0;
        end
      end
      if (op_q == OpWinRd && win_ack_i) begin
        op_q      <= OpIdle;
        ar_hold_q <= 1'b0;
        rvalid_q  <= 1'b1;
        rdata_q   <= win_rdata_i;
      end

      // Control and status
      if (wr_control) begin
        irq_en_q <= w_data_q[`BRAMBLE_CONTROL_IRQ_ENABLE_BIT];
      end
      if (start_d) begin
        done_q <= 1'b0;
      end else if (wr_status && w_data_q[`BRAMBLE_STATUS_DONE_BIT]) begin
        done_q <= 1'b0;
      end
      if (wr_status && w_data_q[`BRAMBLE_STATUS_IRQ_PENDING_BIT]) begin
        irq_pend_q <= 1'b0;
      end
      if (done_i) begin
        done_q     <= 1'b1;
        irq_pend_q <= 1'b1;
      end
      if (count_set_i) begin
        irq_pend_q <= 1'b1;
      end
    end
  end

  assign s_axil_awready_o = !aw_hold_q;
  assign s_axil_wready_o  = !w_hold_q;
  assign s_axil_bresp_o   = 2'b00;
  assign s_axil_bvalid_o  = bvalid_q;
  assign s_axil_arready_o = !ar_hold_q;
  assign s_axil_rdata_o   = rdata_q;
  assign s_axil_rresp_o   = 2'b00;
  assign s_axil_rvalid_o  = rvalid_q;

  assign start_o     = start_q;
  assign irq_o       = irq_pend_q && irq_en_q;

  assign run_o         = run_q && weights_ok;
  assign wload_o       = (Runtime != 0) && wload_q;
  assign wclear_o      = (Runtime != 0) && wclear_q;
  assign cyc_beat_o    = cyc_beat_q;
  assign clear_o       = clear_q;
  assign clr_count_o   = clr_count_q;
  assign clr_framing_o = clr_framing_q;
  assign tlast_every_o = tlast_every_q;
  assign irq_count_o   = irq_count_q;

  assign win_req_o   = (op_q != OpIdle);
  assign win_we_o    = (op_q == OpWinWr);
  assign win_sel_o   = (op_q == OpWinRd) && (ar_win == 2'd2);
  assign win_word_o  = (op_q == OpWinWr) ? aw_word : ar_word;
  assign win_wdata_o = w_data_q;

  // AxPROT carries nothing the engine uses; the byte offset within a word is ignored.
  wire unused_bits = ^{s_axil_awprot_i, s_axil_arprot_i, aw_addr_q[1:0], ar_addr_q[1:0]};
  // The loader's state is only read with Runtime = 1.
  wire unused_wl = ^{wloaded_i, werror_i, wwords_i, whash_i};

endmodule

`resetall
