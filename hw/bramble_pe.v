// bramble_pe: one processing element of the EIE-style engine (docs/engine.md).
//
// Owns the memories of its rows: stored entries, column pointers (even/odd banks), biases,
// codebook and accumulators. Input (pointer index, activation) pairs arrive from the scanner and
// are queued in the activation FIFO; the pointer stage turns them into (start, end) column
// descriptors (empty columns are dropped there); the entry streamer reads the stored entries two
// per clock, decodes their local rows, drops padding entries and queues the real ones; the
// multiply-accumulate side takes one queued entry per clock, across column boundaries:
// codebook read -> multiply + accumulator read -> accumulate + write, forwarding the previous
// clock's write when consecutive updates hit the same row. After the scanner has finished a
// layer and every PE is idle, wb_start_i starts the write-back of the PE's rows: acc + bias,
// shift with round half up, saturate, ReLU, written to the next activation buffer; the
// accumulator rows are cleared on the way. After reset the PE clears its accumulators (idle_o
// stays low until that is done). docs/engine.md has the pipeline diagram.
//
// The entry layout (row gap width) and the widths of the layer fields come from bramble_defs.vh
// (generated from bramble-abi).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_pe #(
  parameter integer PeIndex       = 0,
  parameter integer NumPes        = 1,
  parameter integer ActBits       = 16,
  parameter integer IdxBits       = 4,
  parameter integer CbBits        = 16,
  parameter integer AccBits       = 40,
  parameter integer LayerBits     = 1,
  parameter integer EntryDepth    = 16,
  parameter integer EntryAddrBits = 4,
  parameter integer PtrBits       = 5,
  parameter integer PtrDepth      = 16,
  parameter integer PtrAddrBits   = 4,
  parameter integer BiasDepth     = 16,
  parameter integer BiasAddrBits  = 4,
  parameter integer CbDepth       = 32,
  parameter integer AccDepth      = 16,
  parameter integer RowBits       = 4,
  parameter integer FifoDepth     = 8,
  parameter integer EntryBlock    = 1,
  parameter integer PtrBlock      = 0,
  parameter integer BiasBlock     = 0,
  parameter integer CbBlock       = 0,
  parameter integer AccBlock      = 1,
  parameter         EntryFile     = "",
  parameter         PtrEvenFile   = "",
  parameter         PtrOddFile    = "",
  parameter         BiasFile      = "",
  parameter         CbFile        = ""
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,

  // current layer (stable while the layer runs)
  input  wire [LayerBits-1:0]     layer_i,
  input  wire [`BRAMBLE_DESC_FIELD_BITS-1:0] bias_base_i,
  input  wire [`BRAMBLE_DESC_FIELD_BITS-1:0] out_size_i,
  input  wire [`BRAMBLE_DESC_SHIFT_BITS-1:0] shift_i,
  input  wire                     relu_i,

  // broadcast from the scanner: pointer index (ptr_base + column) and activation
  input  wire                     act_valid_i,
  input  wire [PtrAddrBits:0]     act_idx_i,
  input  wire [ActBits-1:0]       act_val_i,
  output wire                     act_ready_o,

  input  wire                     wb_start_i,
  output wire                     idle_o,

  // write-back into bank PeIndex of the next activation buffer
  output wire                     out_we_o,
  output wire [RowBits-1:0]       out_addr_o,
  output wire [ActBits-1:0]       out_data_o
);

  // A stored entry is {row gap, codebook index}; the gap field is GapBits wide.
  localparam integer GapBits    = `BRAMBLE_ENTRY_GAP_BITS;
  localparam integer EntryBits  = GapBits + IdxBits;
  // Sizes and bases of the layer descriptor, and the output shift.
  localparam integer SizeBits   = `BRAMBLE_DESC_FIELD_BITS;
  localparam integer ShiftBits  = `BRAMBLE_DESC_SHIFT_BITS;
  localparam integer PtrIdxBits = PtrAddrBits + 1;
  localparam integer ProdBits   = ActBits + CbBits;
  localparam integer CbAddrBits = LayerBits + IdxBits;
  localparam integer FifoCountBits = $clog2(FifoDepth + 1);
  localparam integer DescBits   = 2 * PtrBits + ActBits;
  // A local row position: a row plus two gaps (and the two steps past them) never wraps.
  localparam integer PosBits    = RowBits + GapBits + 1;

  initial begin
    if (AccBits < ProdBits || AccBits > 64 || ActBits < 2 || CbBits < 2 ||
        PtrBits < 2 || PtrBits < EntryAddrBits || RowBits > SizeBits - 2 ||
        BiasAddrBits > SizeBits - 1 || FifoDepth < 2) begin
      $display("bramble_pe: inconsistent parameters (see docs/engine.md)");
      $finish;
    end
  end

  // =============================================================================================
  // Activation FIFO
  wire                     fifo_empty;
  wire [FifoCountBits-1:0] fifo_count;
  wire [PtrIdxBits+ActBits-1:0] fifo_head;
  wire                     pf_issue;

  bramble_fifo #(
    .Width     (PtrIdxBits + ActBits),
    .Depth     (FifoDepth),
    .CountBits (FifoCountBits)
  ) u_act_fifo (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .wr_en_i   (act_valid_i),
    .wr_data_i ({act_idx_i, act_val_i}),
    .rd_en_i   (pf_issue),
    .rd_data_o (fifo_head),
    .empty_o   (fifo_empty),
    .count_o   (fifo_count)
  );

  // Room for two more: the scanner registers its broadcast, so one push may be in flight.
  assign act_ready_o = (fifo_count < FifoDepth[FifoCountBits-1:0] - 1'b1);

  // =============================================================================================
  // Pointer stage: read ptr[idx] and ptr[idx+1] from the two banks in one clock.
  wire [PtrIdxBits-1:0] head_idx = fifo_head[PtrIdxBits+ActBits-1:ActBits];
  wire [ActBits-1:0]    head_val = fifo_head[ActBits-1:0];
  wire [PtrAddrBits-1:0] even_addr = head_idx[PtrIdxBits-1:1] +
                                     {{(PtrAddrBits-1){1'b0}}, head_idx[0]};
  wire [PtrAddrBits-1:0] odd_addr  = head_idx[PtrIdxBits-1:1];

  wire [PtrBits-1:0] ptr_even_rd;
  wire [PtrBits-1:0] ptr_odd_rd;
  reg                pf_vld_q;
  reg                pf_odd_q;
  reg [ActBits-1:0]  pf_val_q;

  // Column descriptor FIFO. Its count also holds the count plus the pointer read in flight, which
  // pf_issue adds so the FIFO never overflows.
  localparam integer DescDepth     = 4;
  localparam integer DescCountBits = $clog2(DescDepth + 2);

  wire                     desc_empty;
  wire [DescCountBits-1:0] desc_count;
  wire [DescBits-1:0]      desc_head;
  wire                     desc_pop;

  assign pf_issue = !fifo_empty &&
                    ((desc_count + {{(DescCountBits-1){1'b0}}, pf_vld_q}) <
                     DescDepth[DescCountBits-1:0]);

  bramble_ram_sdp #(
    .Width    (PtrBits),
    .Depth    (PtrDepth),
    .AddrBits (PtrAddrBits),
    .Block    (PtrBlock),
    .Rom      (1),
    .InitFile (PtrEvenFile)
  ) u_ptr_even (
    .clk_i     (clk_i),
    .wr_en_i   (1'b0),
    .wr_addr_i ({PtrAddrBits{1'b0}}),
    .wr_data_i ({PtrBits{1'b0}}),
    .rd_en_i   (pf_issue),
    .rd_addr_i (even_addr),
    .rd_data_o (ptr_even_rd)
  );

  bramble_ram_sdp #(
    .Width    (PtrBits),
    .Depth    (PtrDepth),
    .AddrBits (PtrAddrBits),
    .Block    (PtrBlock),
    .Rom      (1),
    .InitFile (PtrOddFile)
  ) u_ptr_odd (
    .clk_i     (clk_i),
    .wr_en_i   (1'b0),
    .wr_addr_i ({PtrAddrBits{1'b0}}),
    .wr_data_i ({PtrBits{1'b0}}),
    .rd_en_i   (pf_issue),
    .rd_addr_i (odd_addr),
    .rd_data_o (ptr_odd_rd)
  );

  wire [PtrBits-1:0] col_start = pf_odd_q ? ptr_odd_rd : ptr_even_rd;
  wire [PtrBits-1:0] col_end   = pf_odd_q ? ptr_even_rd : ptr_odd_rd;
  wire               desc_push = pf_vld_q && (col_start != col_end);

  bramble_fifo #(
    .Width     (DescBits),
    .Depth     (DescDepth),
    .CountBits (DescCountBits)
  ) u_desc_fifo (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .wr_en_i   (desc_push),
    .wr_data_i ({col_start, col_end, pf_val_q}),
    .rd_en_i   (desc_pop),
    .rd_data_o (desc_head),
    .empty_o   (desc_empty),
    .count_o   (desc_count)
  );

  // =============================================================================================
  // Entry streamer: reads the stored entries two at a time (pair m = entries 2m and 2m+1), lanes
  // outside [start, end) masked. The next column is loaded while the last pair of the current
  // one is read. Pairs are read faster than the multiplier consumes entries, so padding entries
  // (codebook index 0), which only advance the row, cost no clock. A pair is read only when the
  // item queue has room for everything already in flight plus two.
  // Item queue depth: a power of two, so the QPtrBits pointers wrap by themselves.
  localparam integer QDepth     = 8;
  localparam integer QPtrBits   = $clog2(QDepth);
  localparam integer QCountBits = QPtrBits + 1;
  localparam integer ItemBits = RowBits + IdxBits + ActBits;

  reg               st_act_q;
  reg [PtrBits-1:0] st_pair_q;
  reg [PtrBits-1:0] st_last_q;
  reg [PtrBits-1:0] st_start_q;
  reg [PtrBits-1:0] st_end_q;
  reg [ActBits-1:0] st_val_q;
  reg               st_first_q;

  reg               s1_vld_q;
  reg               s1_m0_q;
  reg               s1_m1_q;
  reg               s1_first_q;
  reg [ActBits-1:0] s1_val_q;
  reg [PosBits-1:0] nxt_q;      // local row after the previous entry of the column

  reg [QCountBits-1:0] q_count_q;
  // Room for the pair in stage 1 (up to two items) and the pair this read produces (two more).
  wire              q_room = ({1'b0, q_count_q} +
                              {{(QCountBits-1){1'b0}}, s1_vld_q, 1'b0} +
                              {{(QCountBits-1){1'b0}}, 2'd2}) <= QDepth[QCountBits:0];
  wire              st_go = st_act_q && q_room;
  wire              st_last = st_go && (st_pair_q == st_last_q);
  assign desc_pop = !desc_empty && (!st_act_q || st_last);

  wire [PtrBits-1:0] desc_start = desc_head[DescBits-1:PtrBits+ActBits];
  wire [PtrBits-1:0] desc_end   = desc_head[PtrBits+ActBits-1:ActBits];
  wire [PtrBits-1:0] desc_endm1 = desc_end - 1'b1;
  wire [PtrBits-1:0] pair_lo    = {st_pair_q[PtrBits-2:0], 1'b0};
  wire [PtrBits-1:0] pair_hi    = {st_pair_q[PtrBits-2:0], 1'b1};
  wire               lane0_in   = (pair_lo >= st_start_q);
  wire               lane1_in   = (pair_hi < st_end_q);

  wire [EntryBits-1:0] entry0_rd;
  wire [EntryBits-1:0] entry1_rd;

  bramble_rom_2r #(
    .Width    (EntryBits),
    .Depth    (EntryDepth),
    .AddrBits (EntryAddrBits),
    .Block    (EntryBlock),
    .InitFile (EntryFile)
  ) u_entries (
    .clk_i      (clk_i),
    .rd_en_i    (st_go),
    .rd_addr0_i (pair_lo[EntryAddrBits-1:0]),
    .rd_addr1_i (pair_hi[EntryAddrBits-1:0]),
    .rd_data0_o (entry0_rd),
    .rd_data1_o (entry1_rd)
  );

  // Stage 1: pair data -> local rows; real entries (k != 0) go to the item queue.
  wire [GapBits-1:0] ent0_z = entry0_rd[EntryBits-1:IdxBits];
  wire [IdxBits-1:0] ent0_k = entry0_rd[IdxBits-1:0];
  wire [GapBits-1:0] ent1_z = entry1_rd[EntryBits-1:IdxBits];
  wire [IdxBits-1:0] ent1_k = entry1_rd[IdxBits-1:0];
  wire [PosBits-1:0] base0  = s1_first_q ? {PosBits{1'b0}} : nxt_q;
  wire [PosBits-1:0] row0   = base0 + {{(PosBits-GapBits){1'b0}}, ent0_z};
  wire [PosBits-1:0] base1  = s1_m0_q ? (row0 + 1'b1) : base0;
  wire [PosBits-1:0] row1   = base1 + {{(PosBits-GapBits){1'b0}}, ent1_z};
  wire [PosBits-1:0] nxt_d  = s1_m1_q ? (row1 + 1'b1) : base1;
  wire               real0  = s1_vld_q && s1_m0_q && (ent0_k != {IdxBits{1'b0}});
  wire               real1  = s1_vld_q && s1_m1_q && (ent1_k != {IdxBits{1'b0}});
  wire [ItemBits-1:0] item0 = {row0[RowBits-1:0], ent0_k, s1_val_q};
  wire [ItemBits-1:0] item1 = {row1[RowBits-1:0], ent1_k, s1_val_q};
  wire               unused_pos = ^{row0[PosBits-1:RowBits], row1[PosBits-1:RowBits],
                                    desc_endm1[0]};

  // Item queue: up to two pushes, one pop per clock (flat registers).
  reg [QDepth*ItemBits-1:0] q_data_q;
  reg [QPtrBits-1:0]        q_wp_q;
  reg [QPtrBits-1:0]        q_rp_q;
  wire                      q_pop = (q_count_q != {QCountBits{1'b0}});
  reg  [ItemBits-1:0]       q_head;
  wire [QPtrBits-1:0]       q_wp1 = q_wp_q + 1'b1;
  wire [QPtrBits-1:0]       q_wp_2nd = real0 ? q_wp1 : q_wp_q;
  wire [QCountBits-1:0]     q_npush = {{(QCountBits-1){1'b0}}, real0} +
                                      {{(QCountBits-1){1'b0}}, real1};

  // Constant slot indices only (a variable part-select base would infer a multiplier).
  integer qs;
  integer qr;

  always @(posedge clk_i) begin
    for (qs = 0; qs < QDepth; qs = qs + 1) begin
      if (real0 && (q_wp_q == qs[QPtrBits-1:0])) begin
        q_data_q[qs*ItemBits +: ItemBits] <= item0;
      end
      if (real1 && (q_wp_2nd == qs[QPtrBits-1:0])) begin
        q_data_q[qs*ItemBits +: ItemBits] <= item1;
      end
    end
  end

  always @* begin
    q_head = {ItemBits{1'b0}};
    for (qr = 0; qr < QDepth; qr = qr + 1) begin
      if (q_rp_q == qr[QPtrBits-1:0]) begin
        q_head = q_data_q[qr*ItemBits +: ItemBits];
      end
    end
  end

  // Pop: codebook read for the head item.
  wire [RowBits-1:0] head_row = q_head[ItemBits-1:IdxBits+ActBits];
  wire [IdxBits-1:0] head_k   = q_head[IdxBits+ActBits-1:ActBits];
  wire [ActBits-1:0] head_v   = q_head[ActBits-1:0];

  wire [CbBits-1:0] cb_rd;

  bramble_ram_sdp #(
    .Width    (CbBits),
    .Depth    (CbDepth),
    .AddrBits (CbAddrBits),
    .Block    (CbBlock),
    .Rom      (1),
    .InitFile (CbFile)
  ) u_codebook (
    .clk_i     (clk_i),
    .wr_en_i   (1'b0),
    .wr_addr_i ({CbAddrBits{1'b0}}),
    .wr_data_i ({CbBits{1'b0}}),
    .rd_en_i   (q_pop),
    .rd_addr_i ({layer_i, head_k}),
    .rd_data_o (cb_rd)
  );

  // Stage 2: codebook data -> product, accumulator read
  reg               s2_vld_q;
  reg [RowBits-1:0] s2_row_q;
  reg [ActBits-1:0] s2_val_q;

  wire signed [ProdBits-1:0] mul_a = {{CbBits{s2_val_q[ActBits-1]}}, s2_val_q};
  wire signed [ProdBits-1:0] mul_b = {{ActBits{cb_rd[CbBits-1]}}, cb_rd};
  wire signed [ProdBits-1:0] prod_d = mul_a * mul_b;

  // Stage 3: accumulate and write, forwarding the previous clock's write
  reg                s3_vld_q;
  reg [RowBits-1:0]  s3_row_q;
  reg [ProdBits-1:0] s3_prod_q;
  reg                fw_vld_q;
  reg [RowBits-1:0]  fw_row_q;
  reg [AccBits-1:0]  fw_data_q;

  wire [AccBits-1:0] prod_ext;
  generate
    if (AccBits > ProdBits) begin : gen_prod_ext
      assign prod_ext = {{(AccBits-ProdBits){s3_prod_q[ProdBits-1]}}, s3_prod_q};
    end else begin : gen_prod_same
      assign prod_ext = s3_prod_q;
    end
  endgenerate

  wire [AccBits-1:0] acc_rd;
  wire [AccBits-1:0] acc_old = (fw_vld_q && (fw_row_q == s3_row_q)) ? fw_data_q : acc_rd;
  wire [AccBits-1:0] acc_sum = acc_old + prod_ext;

  // =============================================================================================
  // Write-back: W0 read acc + bias, W1 add bias and rounding constant (and clear the row),
  // W2 arithmetic shift, W3 saturate + ReLU -> output register.
  reg               wb_act_q;
  reg [RowBits-1:0] wb_row_q;
  reg [SizeBits-1:0] wb_gi_q;
  reg               w1_vld_q;
  reg [RowBits-1:0] w1_row_q;
  reg               w2_vld_q;
  reg [RowBits-1:0] w2_row_q;
  reg [AccBits-1:0] w2_sum_q;
  reg               w3_vld_q;
  reg [RowBits-1:0] w3_row_q;
  reg [AccBits-1:0] w3_shr_q;
  reg               out_we_q;
  reg [RowBits-1:0] out_addr_q;
  reg [ActBits-1:0] out_data_q;

  // Accumulator clearing after reset
  reg               clr_act_q;
  reg [RowBits-1:0] clr_row_q;

  wire [SizeBits-1:0] pe_index = PeIndex[SizeBits-1:0];
  wire [SizeBits-1:0] num_pes  = NumPes[SizeBits-1:0];
  wire [SizeBits-1:0] gi_next  = wb_gi_q + num_pes;
  wire [SizeBits-1:0] row_wide = {{(SizeBits-RowBits){1'b0}}, wb_row_q};
  wire [SizeBits-1:0] bias_addr_wide = bias_base_i + row_wide;
  wire                unused_bias_hi = ^bias_addr_wide[SizeBits-1:BiasAddrBits];

  wire [AccBits-1:0] bias_rd;

  bramble_ram_sdp #(
    .Width    (AccBits),
    .Depth    (BiasDepth),
    .AddrBits (BiasAddrBits),
    .Block    (BiasBlock),
    .Rom      (1),
    .InitFile (BiasFile)
  ) u_bias (
    .clk_i     (clk_i),
    .wr_en_i   (1'b0),
    .wr_addr_i ({BiasAddrBits{1'b0}}),
    .wr_data_i ({AccBits{1'b0}}),
    .rd_en_i   (wb_act_q),
    .rd_addr_i (bias_addr_wide[BiasAddrBits-1:0]),
    .rd_data_o (bias_rd)
  );

  wire               acc_rd_en   = s2_vld_q || wb_act_q;
  wire [RowBits-1:0] acc_rd_addr = wb_act_q ? wb_row_q : s2_row_q;
  wire               acc_wr_en   = s3_vld_q || w1_vld_q || clr_act_q;
  wire [RowBits-1:0] acc_wr_addr = s3_vld_q ? s3_row_q : (w1_vld_q ? w1_row_q : clr_row_q);
  wire [AccBits-1:0] acc_wr_data = s3_vld_q ? acc_sum : {AccBits{1'b0}};

  bramble_ram_sdp #(
    .Width    (AccBits),
    .Depth    (AccDepth),
    .AddrBits (RowBits),
    .Block    (AccBlock),
    .InitFile ("")
  ) u_acc (
    .clk_i     (clk_i),
    .wr_en_i   (acc_wr_en),
    .wr_addr_i (acc_wr_addr),
    .wr_data_i (acc_wr_data),
    .rd_en_i   (acc_rd_en),
    .rd_addr_i (acc_rd_addr),
    .rd_data_o (acc_rd)
  );

  // Rounding constant 2^(s-1) for s > 0 (round half up), applied before the arithmetic shift.
  wire [AccBits-1:0] one_acc = {{(AccBits-1){1'b0}}, 1'b1};
  wire [ShiftBits-1:0] shift_m1 = shift_i - 1'b1;
  wire [AccBits-1:0]   round_c  = (shift_i == {ShiftBits{1'b0}}) ? {AccBits{1'b0}} :
                                  (one_acc << shift_m1);
  wire [AccBits-1:0] w1_sum  = acc_rd + bias_rd + round_c;
  wire [AccBits-1:0] w2_shr  = $signed(w2_sum_q) >>> shift_i;

  // Saturate to ActBits: in range when the bits above the sign bit all equal the sign.
  wire [AccBits-ActBits:0] w3_top = w3_shr_q[AccBits-1:ActBits-1];
  wire                     w3_fits = (&w3_top) || !(|w3_top);
  wire                     w3_neg  = w3_shr_q[AccBits-1];
  wire [ActBits-1:0]       w3_sat  = w3_fits ? w3_shr_q[ActBits-1:0] :
                                     (w3_neg ? {1'b1, {(ActBits-1){1'b0}}}
                                             : {1'b0, {(ActBits-1){1'b1}}});
  wire [ActBits-1:0]       w3_out  = (relu_i && w3_sat[ActBits-1]) ? {ActBits{1'b0}} : w3_sat;

  // =============================================================================================
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pf_vld_q   <= 1'b0;
      pf_odd_q   <= 1'b0;
      pf_val_q   <= {ActBits{1'b0}};
      st_act_q   <= 1'b0;
      st_pair_q  <= {PtrBits{1'b0}};
      st_last_q  <= {PtrBits{1'b0}};
      st_start_q <= {PtrBits{1'b0}};
      st_end_q   <= {PtrBits{1'b0}};
      st_val_q   <= {ActBits{1'b0}};
      st_first_q <= 1'b0;
      s1_vld_q   <= 1'b0;
      s1_m0_q    <= 1'b0;
      s1_m1_q    <= 1'b0;
      s1_first_q <= 1'b0;
      s1_val_q   <= {ActBits{1'b0}};
      nxt_q      <= {PosBits{1'b0}};
      q_count_q  <= {QCountBits{1'b0}};
      q_wp_q     <= {QPtrBits{1'b0}};
      q_rp_q     <= {QPtrBits{1'b0}};
      s2_vld_q   <= 1'b0;
      s2_row_q   <= {RowBits{1'b0}};
      s2_val_q   <= {ActBits{1'b0}};
      s3_vld_q   <= 1'b0;
      s3_row_q   <= {RowBits{1'b0}};
      s3_prod_q  <= {ProdBits{1'b0}};
      fw_vld_q   <= 1'b0;
      fw_row_q   <= {RowBits{1'b0}};
      fw_data_q  <= {AccBits{1'b0}};
      wb_act_q   <= 1'b0;
      wb_row_q   <= {RowBits{1'b0}};
      wb_gi_q    <= {SizeBits{1'b0}};
      w1_vld_q   <= 1'b0;
      w1_row_q   <= {RowBits{1'b0}};
      w2_vld_q   <= 1'b0;
      w2_row_q   <= {RowBits{1'b0}};
      w2_sum_q   <= {AccBits{1'b0}};
      w3_vld_q   <= 1'b0;
      w3_row_q   <= {RowBits{1'b0}};
      w3_shr_q   <= {AccBits{1'b0}};
      out_we_q   <= 1'b0;
      out_addr_q <= {RowBits{1'b0}};
      out_data_q <= {ActBits{1'b0}};
      clr_act_q  <= 1'b1;
      clr_row_q  <= {RowBits{1'b0}};
    end else begin
      // pointer stage
      pf_vld_q <= pf_issue;
      if (pf_issue) begin
        pf_odd_q <= head_idx[0];
        pf_val_q <= head_val;
      end

      // streamer
      if (desc_pop) begin
        st_act_q   <= 1'b1;
        st_pair_q  <= {1'b0, desc_start[PtrBits-1:1]};
        st_last_q  <= {1'b0, desc_endm1[PtrBits-1:1]};
        st_start_q <= desc_start;
        st_end_q   <= desc_end;
        st_val_q   <= desc_head[ActBits-1:0];
        st_first_q <= 1'b1;
      end else if (st_last) begin
        st_act_q <= 1'b0;
      end else if (st_go) begin
        st_pair_q  <= st_pair_q + 1'b1;
        st_first_q <= 1'b0;
      end

      // stage 1
      s1_vld_q <= st_go;
      if (st_go) begin
        s1_m0_q    <= lane0_in;
        s1_m1_q    <= lane1_in;
        s1_first_q <= st_first_q;
        s1_val_q   <= st_val_q;
      end
      if (s1_vld_q) begin
        nxt_q <= nxt_d;
      end

      // item queue
      q_count_q <= q_count_q + q_npush - {{(QCountBits-1){1'b0}}, q_pop};
      q_wp_q    <= q_wp_q + q_npush[QPtrBits-1:0];
      if (q_pop) begin
        q_rp_q <= q_rp_q + 1'b1;
      end

      // stage 2
      s2_vld_q <= q_pop;
      s2_row_q <= head_row;
      s2_val_q <= head_v;

      // stage 3
      s3_vld_q  <= s2_vld_q;
      s3_row_q  <= s2_row_q;
      s3_prod_q <= prod_d;

      fw_vld_q  <= s3_vld_q;
      fw_row_q  <= s3_row_q;
      fw_data_q <= acc_sum;

      // write-back
      if (wb_start_i) begin
        wb_act_q <= (pe_index < out_size_i);
        wb_row_q <= {RowBits{1'b0}};
        wb_gi_q  <= pe_index;
      end else if (wb_act_q) begin
        wb_row_q <= wb_row_q + 1'b1;
        wb_gi_q  <= gi_next;
        if (gi_next >= out_size_i) begin
          wb_act_q <= 1'b0;
        end
      end
      w1_vld_q <= wb_act_q;
      w1_row_q <= wb_row_q;
      w2_vld_q <= w1_vld_q;
      w2_row_q <= w1_row_q;
      w2_sum_q <= w1_sum;
      w3_vld_q <= w2_vld_q;
      w3_row_q <= w2_row_q;
      w3_shr_q <= w2_shr;
      out_we_q   <= w3_vld_q;
      out_addr_q <= w3_row_q;
      out_data_q <= w3_out;

      // clearing after reset
      if (clr_act_q) begin
        clr_row_q <= clr_row_q + 1'b1;
        if (clr_row_q == AccDepth[RowBits-1:0] - 1'b1) begin
          clr_act_q <= 1'b0;
        end
      end
    end
  end

  assign idle_o = fifo_empty && !pf_vld_q && desc_empty && !st_act_q && !s1_vld_q &&
                  (q_count_q == {QCountBits{1'b0}}) && !s2_vld_q && !s3_vld_q && !wb_act_q && !w1_vld_q &&
                  !w2_vld_q && !w3_vld_q && !out_we_q && !clr_act_q;

  assign out_we_o   = out_we_q;
  assign out_addr_o = out_addr_q;
  assign out_data_o = out_data_q;

endmodule

`resetall
