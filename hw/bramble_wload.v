// bramble_wload: the weight loader of a run-time-weights engine (docs/engine.md "Weight loader").
//
// While on_i (WCTRL.LOAD, the engine idle) the AXI4-Stream input carries weight-image words
// (bramble_abi::weights, docs/bundle.md "Weight loading"): one word per beat on a 32-bit TDATA,
// two per beat (low first) on a 64-bit one. The loader takes one word per clock, so s_axis_tready_o
// stays high on 32 bits and is high every other clock on 64 bits. Three stages:
//
//   S0  the word (from TDATA, or the high half of the previous 64-bit beat); WWORDS counts it
//   S1  pre-decode: flags of the word (zero, one, header fields) computed from the S0 register
//   S2  the record parser (two-process FSM) and the CRC-32, one word per clock
//
// A completed memory word is written one clock after its last chunk (the pending stage, which
// lets the depth check of its record land first) through the output registers wr_*: a one-hot
// PE select (or wr_layers_o for the engine's layer table), the memory code, the word address and
// the data (up to 128 bits, chunks low first). The PEs register the bus again at their boundary.
//
// error_o (sticky until clear_i): a header with bits [31:16] set, an unknown memory code, a PE
// >= NumPes (or not 0 for the layer table), a record of zero words or one past the memory's
// depth, a word after END, or an END whose CRC word differs from the CRC of every word before
// the END header. Nothing is written after an error. loaded_o: an END matched with no error;
// hash_o then holds the CRC (0 after reset, clear_i and any error: WHASH never names weights
// that failed to load).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_wload #(
  // PEs (bits of wr_pe_o) and AXI4-Stream TDATA bits (32 or 64).
  parameter integer NumPes      = 1,
  parameter integer TdataBits   = 32,
  // Bits of the write bus address (the deepest memory's address bits).
  parameter integer AddrBits    = 4,
  // Per memory: word width in bits and depth in words (bramble::weight_image::shape).
  parameter integer EntryWidth  = 16,
  parameter integer EntryDepth  = 16,
  parameter integer PtrWidth    = 5,
  parameter integer PtrDepth    = 16,
  parameter integer BiasWidth   = 40,
  parameter integer BiasDepth   = 16,
  parameter integer CbWidth     = 16,
  parameter integer CbDepth     = 32,
  parameter integer LayersDepth = 1
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,

  input  wire                 on_i,       // WCTRL.LOAD and the engine idle
  input  wire                 clear_i,    // WCTRL.CLEAR (one-clock pulse)

  input  wire [TdataBits-1:0] s_axis_tdata_i,
  input  wire                 s_axis_tvalid_i,
  output wire                 s_axis_tready_o,

  output wire                 loaded_o,
  output wire                 loaded_set_o,  // loaded_o rises (one clock)
  output wire                 error_o,
  output wire [31:0]          words_o,
  output wire [31:0]          hash_o,

  // write bus (registered)
  output wire [NumPes-1:0]    wr_pe_o,
  output wire                 wr_layers_o,
  output wire [`BRAMBLE_WMEM_BITS-1:0] wr_mem_o,
  output wire [AddrBits-1:0]  wr_addr_o,
  output wire [`BRAMBLE_WIMG_MAX_WIDTH-1:0] wr_data_o
);

  localparam integer DataBits = `BRAMBLE_WIMG_MAX_WIDTH;
  localparam integer MemBits  = `BRAMBLE_WMEM_BITS;
  localparam integer Chunks   = DataBits / 32;
  // Chunks of each memory's words (ceil(width / 32)), one-hot at the last chunk.
  localparam [3:0] LastEntry  = 4'd1 << ((EntryWidth + 31) / 32 - 1);
  localparam [3:0] LastPtr    = 4'd1 << ((PtrWidth + 31) / 32 - 1);
  localparam [3:0] LastBias   = 4'd1 << ((BiasWidth + 31) / 32 - 1);
  localparam [3:0] LastCb     = 4'd1 << ((CbWidth + 31) / 32 - 1);
  localparam [3:0] LastLayers = 4'd1 << (Chunks - 1);
  localparam [31:0] LimEntry  = EntryDepth[31:0];
  localparam [31:0] LimPtr    = PtrDepth[31:0];
  localparam [31:0] LimBias   = BiasDepth[31:0];
  localparam [31:0] LimCb     = CbDepth[31:0];
  localparam [31:0] LimLayers = LayersDepth[31:0];
  localparam [7:0]  PeCount   = NumPes[7:0];

  initial begin
    if ((TdataBits != 32 && TdataBits != 64) || NumPes < 1 || NumPes > 255 || Chunks != 4 ||
        EntryWidth > DataBits || PtrWidth > DataBits || BiasWidth > DataBits ||
        CbWidth > DataBits || AddrBits < 1 || AddrBits > 31) begin
      $display("bramble_wload: inconsistent parameters");
      $finish;
    end
  end

  // Word-at-a-time CRC-32 (reflected; the word's bytes little-endian, LSB first).
  function [31:0] crc_next;
    input [31:0] crc;
    input [31:0] word;
    integer b;
    reg [31:0] x;
    begin
      x = crc ^ word;
      for (b = 0; b < 32; b = b + 1) begin
        x = x[0] ? ((x >> 1) ^ `BRAMBLE_CRC32_POLY) : (x >> 1);
      end
      crc_next = x;
    end
  endfunction

  // ---------------------------------------------------------------------------------------------
  // S0: one word per clock
  reg        s0_vld_q;
  reg [31:0] s0_q;
  reg [31:0] words_q;
  wire       ready;
  wire       hs = s_axis_tvalid_i && ready;

  generate
    if (TdataBits == 64) begin : gen_two
      // The high word waits one clock; no beat is taken meanwhile.
      reg        hi_pend_q;
      reg [31:0] hi_q;
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          hi_pend_q <= 1'b0;
          hi_q      <= 32'd0;
        end else if (clear_i) begin
          hi_pend_q <= 1'b0;
        end else begin
          hi_pend_q <= hs;
          if (hs) begin
            hi_q <= s_axis_tdata_i[63:32];
          end
        end
      end
      assign ready = on_i && !hi_pend_q;
      wire        w_vld = hs || hi_pend_q;
      wire [31:0] w     = hi_pend_q ? hi_q : s_axis_tdata_i[31:0];
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          s0_vld_q <= 1'b0;
          s0_q     <= 32'd0;
        end else begin
          s0_vld_q <= w_vld && !clear_i;
          if (w_vld) begin
            s0_q <= w;
          end
        end
      end
    end else begin : gen_one
      assign ready = on_i;
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          s0_vld_q <= 1'b0;
          s0_q     <= 32'd0;
        end else begin
          s0_vld_q <= hs && !clear_i;
          if (hs) begin
            s0_q <= s_axis_tdata_i[31:0];
          end
        end
      end
    end
  endgenerate

  // ---------------------------------------------------------------------------------------------
  // S1: pre-decode (every flag a register, so the parser sees single bits)
  reg        s1_vld_q;
  reg [31:0] s1_q;
  reg        f_zero_q;   // word == 0 (a NOP, or a count of zero)
  reg        f_one_q;    // word == 1
  reg        f_hi0_q;    // bits [31:16] are zero
  reg        f_end_q;    // [7:0] is END
  reg [6:1]  f_mem_q;    // [7:0] is memory code k
  reg        f_pe_ok_q;  // [15:8] < NumPes
  reg        f_pe0_q;    // [15:8] == 0

  integer k;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_vld_q  <= 1'b0;
      s1_q      <= 32'd0;
      f_zero_q  <= 1'b0;
      f_one_q   <= 1'b0;
      f_hi0_q   <= 1'b0;
      f_end_q   <= 1'b0;
      f_mem_q   <= 6'd0;
      f_pe_ok_q <= 1'b0;
      f_pe0_q   <= 1'b0;
    end else begin
      s1_vld_q  <= s0_vld_q && !clear_i;
      s1_q      <= s0_q;
      f_zero_q  <= (s0_q == 32'd0);
      f_one_q   <= (s0_q == 32'd1);
      f_hi0_q   <= (s0_q[31:16] == 16'd0);
      f_end_q   <= (s0_q[7:0] == `BRAMBLE_WIMG_END);
      for (k = 1; k <= 6; k = k + 1) begin
        f_mem_q[k] <= (s0_q[7:0] == k[7:0]);
      end
      f_pe_ok_q <= (s0_q[15:8] < PeCount);
      f_pe0_q   <= (s0_q[15:8] == 8'd0);
    end
  end

  // ---------------------------------------------------------------------------------------------
  // S2: record parser
  localparam [2:0] StHdr   = 3'd0;  // a header (or NOP) next
  localparam [2:0] StAddr  = 3'd1;
  localparam [2:0] StCount = 3'd2;
  localparam [2:0] StData  = 3'd3;
  localparam [2:0] StCrc   = 3'd4;  // the CRC word after END
  localparam [2:0] StDone  = 3'd5;  // after END: no more words
  localparam [2:0] StErr   = 3'd6;  // swallow words until clear_i

  reg [2:0]          st_q;
  reg [2:0]          st_d;
  reg [31:0]         crc_q;       // running CRC register (the CRC is its complement)
  reg [31:0]         end_crc_q;   // the CRC of every word before the END header
  reg [MemBits-1:0]  mem_q;
  reg [6:1]          mem_oh_q;
  reg [7:0]          pe_q;
  reg [NumPes-1:0]   pe_oh_q;
  reg [31:0]         lim_q;       // depth of the record's memory
  reg [3:0]          lastc_q;     // one-hot last chunk of a word of that memory
  reg [31:0]         addr_q;      // address of the word being assembled
  reg [32:0]         end_q;       // address + count of the record
  reg                chk_q;       // check end_q against lim_q this clock
  reg [31:0]         cnt_q;       // words of the record after the current one
  reg                last_q;      // the current word is the record's last
  reg [3:0]          chunk_q;     // one-hot chunk of the current word
  reg [DataBits-1:0] data_q;
  reg                pend_q;      // a completed word goes out this clock
  reg [AddrBits-1:0] pend_addr_q;
  reg                crc_ok_q;
  reg                chk_end_q;
  reg                err_q;
  reg                loaded_q;
  reg                loaded_set_q;
  reg [31:0]         hash_q;
  reg [NumPes-1:0]   wr_pe_q;
  reg                wr_layers_q;
  reg [MemBits-1:0]  wr_mem_q;
  reg [AddrBits-1:0] wr_addr_q;
  reg [DataBits-1:0] wr_data_q;

  wire hdr_ok   = f_hi0_q && ((|f_mem_q[5:1] && f_pe_ok_q) || (f_mem_q[6] && f_pe0_q));
  wire complete = |(chunk_q & lastc_q);
  wire range_bad = chk_q && (end_q > {1'b0, lim_q});

  always @* begin
    st_d = st_q;
    if (s1_vld_q) begin
      case (st_q)
        StHdr: begin
          if (f_zero_q) begin
            st_d = StHdr;
          end else if (f_hi0_q && f_end_q) begin
            st_d = StCrc;
          end else if (hdr_ok) begin
            st_d = StAddr;
          end else begin
            st_d = StErr;
          end
        end
        StAddr:  st_d = StCount;
        StCount: st_d = f_zero_q ? StErr : StData;
        StData:  if (complete && last_q) st_d = StHdr;
        StCrc:   st_d = StDone;
        StDone:  st_d = StErr;
        default: st_d = StErr;
      endcase
    end
  end

  integer c;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q         <= StHdr;
      crc_q        <= 32'hFFFFFFFF;
      end_crc_q    <= 32'd0;
      mem_q        <= {MemBits{1'b0}};
      mem_oh_q     <= 6'd0;
      pe_q         <= 8'd0;
      pe_oh_q      <= {NumPes{1'b0}};
      lim_q        <= 32'd0;
      lastc_q      <= 4'd1;
      addr_q       <= 32'd0;
      end_q        <= 33'd0;
      chk_q        <= 1'b0;
      cnt_q        <= 32'd0;
      last_q       <= 1'b0;
      chunk_q      <= 4'd1;
      data_q       <= {DataBits{1'b0}};
      pend_q       <= 1'b0;
      pend_addr_q  <= {AddrBits{1'b0}};
      crc_ok_q     <= 1'b0;
      chk_end_q    <= 1'b0;
      err_q        <= 1'b0;
      loaded_q     <= 1'b0;
      loaded_set_q <= 1'b0;
      hash_q       <= 32'd0;
      words_q      <= 32'd0;
      wr_pe_q      <= {NumPes{1'b0}};
      wr_layers_q  <= 1'b0;
      wr_mem_q     <= {MemBits{1'b0}};
      wr_addr_q    <= {AddrBits{1'b0}};
      wr_data_q    <= {DataBits{1'b0}};
    end else if (clear_i) begin
      st_q         <= StHdr;
      crc_q        <= 32'hFFFFFFFF;
      chk_q        <= 1'b0;
      pend_q       <= 1'b0;
      chk_end_q    <= 1'b0;
      err_q        <= 1'b0;
      loaded_q     <= 1'b0;
      loaded_set_q <= 1'b0;
      hash_q       <= 32'd0;
      words_q      <= 32'd0;
      wr_pe_q      <= {NumPes{1'b0}};
      wr_layers_q  <= 1'b0;
    end else begin
      st_q         <= st_d;
      chk_q        <= 1'b0;
      pend_q       <= 1'b0;
      chk_end_q    <= 1'b0;
      loaded_set_q <= 1'b0;
      if (hs) begin
        words_q <= words_q + ((TdataBits == 64) ? 32'd2 : 32'd1);
      end
      // The PE select follows the latched PE number (three clocks before any write).
      for (k = 0; k < NumPes; k = k + 1) begin
        pe_oh_q[k] <= (pe_q == k[7:0]);
      end

      if (s1_vld_q) begin
        crc_q <= crc_next(crc_q, s1_q);
        case (st_q)
          StHdr: begin
            end_crc_q <= ~crc_q;
            mem_q     <= s1_q[MemBits-1:0];
            mem_oh_q  <= f_mem_q;
            pe_q      <= s1_q[15:8];
          end
          StAddr: begin
            addr_q  <= s1_q;
            lim_q   <= (mem_oh_q[1] ? LimEntry : 32'd0) | (mem_oh_q[2] ? LimPtr : 32'd0) |
                       (mem_oh_q[3] ? LimPtr : 32'd0) | (mem_oh_q[4] ? LimBias : 32'd0) |
                       (mem_oh_q[5] ? LimCb : 32'd0) | (mem_oh_q[6] ? LimLayers : 32'd0);
            lastc_q <= (mem_oh_q[1] ? LastEntry : 4'd0) | (mem_oh_q[2] ? LastPtr : 4'd0) |
                       (mem_oh_q[3] ? LastPtr : 4'd0) | (mem_oh_q[4] ? LastBias : 4'd0) |
                       (mem_oh_q[5] ? LastCb : 4'd0) | (mem_oh_q[6] ? LastLayers : 4'd0);
          end
          StCount: begin
            end_q   <= {1'b0, addr_q} + {1'b0, s1_q};
            chk_q   <= 1'b1;
            cnt_q   <= s1_q - 32'd1;
            last_q  <= f_one_q;
            chunk_q <= 4'd1;
          end
          StData: begin
            for (c = 0; c < Chunks; c = c + 1) begin
              if (chunk_q[c]) begin
                data_q[32*c +: 32] <= s1_q;
              end
            end
            if (complete) begin
              pend_q      <= 1'b1;
              pend_addr_q <= addr_q[AddrBits-1:0];
              addr_q      <= addr_q + 32'd1;
              chunk_q     <= 4'd1;
              cnt_q       <= cnt_q - 32'd1;
              last_q      <= (cnt_q == 32'd1);
            end else begin
              chunk_q <= {chunk_q[2:0], 1'b0};
            end
          end
          StCrc: begin
            crc_ok_q  <= (s1_q == end_crc_q);
            chk_end_q <= 1'b1;
          end
          default: begin
          end
        endcase
        if (st_d == StErr) begin
          err_q <= 1'b1;
        end
      end

      if (range_bad) begin
        err_q <= 1'b1;
      end
      if (chk_end_q) begin
        if (crc_ok_q && !err_q) begin
          loaded_q     <= 1'b1;
          loaded_set_q <= 1'b1;
          hash_q       <= end_crc_q;
        end else begin
          err_q <= 1'b1;
        end
      end

      // Write bus: the word completed last clock, unless an error came first.
      for (k = 0; k < NumPes; k = k + 1) begin
        wr_pe_q[k] <= pend_q && !err_q && !mem_oh_q[6] && pe_oh_q[k];
      end
      wr_layers_q <= pend_q && !err_q && mem_oh_q[6];
      if (pend_q) begin
        wr_mem_q  <= mem_q;
        wr_addr_q <= pend_addr_q;
        wr_data_q <= data_q;
      end
    end
  end

  // Address bits above the bus: a record past them fails the depth check instead.
  wire unused_addr = ^addr_q[31:AddrBits];

  assign s_axis_tready_o = ready;
  assign loaded_o        = loaded_q && !err_q;
  // A word right after END's CRC word sets the error in the clock loaded_q is set: no pulse then.
  assign loaded_set_o    = loaded_set_q && !err_q;
  assign error_o         = err_q;
  assign words_o         = words_q;
  assign hash_o          = err_q ? 32'd0 : hash_q;
  assign wr_pe_o         = wr_pe_q;
  assign wr_layers_o     = wr_layers_q;
  assign wr_mem_o        = wr_mem_q;
  assign wr_addr_o       = wr_addr_q;
  assign wr_data_o       = wr_data_q;

endmodule

`resetall
