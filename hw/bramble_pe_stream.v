// bramble_pe_stream: a PE's entry streamer.
//
// Takes column descriptors from the pointer stage and reads the column's stored entries two per
// clock (pair m = entries 2m and 2m+1, through the two read ports of bramble_rom_2r), lanes
// outside the column masked. The next column is taken in the clock that reads the last pair of
// the current one; when the reader is idle, a new column's first pair is read in the clock it
// is taken. Two pipeline stages turn the pairs into work items:
//
//   S1 (entry data): row offsets of the two entries from the row before the pair, and the
//                    pair's total row advance; padding entries (codebook index 0) only advance;
//   S2:              local rows = the running row of the column + the offsets; real entries are
//                    pushed as items {row, codebook index, activation}, lane 0 into item FIFO 0
//                    and lane 1 into item FIFO 1 (the accumulate stage takes them in any order:
//                    the sums do not depend on it).
//
// The item FIFOs live here because their margin is this module's pipeline: a pair is read only
// while both can take the items of every pair still in flight (ItemMargin). Reading pairs is
// faster than the multiplier consumes items, so padding entries cost no clock.
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_pe_stream #(
  // Bits of an activation.
  parameter integer ActBits       = 16,
  // Bits of a codebook index.
  parameter integer IdxBits       = 4,
  // Bits of a column pointer (pairs are PtrBits - 1 wide).
  parameter integer PtrBits       = 5,
  // Depth of the entry memory and its address bits.
  parameter integer EntryDepth    = 16,
  parameter integer EntryAddrBits = 4,
  // 1 = entry memory in block RAM, 0 = LUT logic.
  parameter integer EntryBlock    = 1,
  // Image of the entry memory.
  parameter         EntryFile     = "",
  // Bits of a local row (the PE's rows of the largest layer).
  parameter integer RowBits       = 4,
  // 1 = weights loaded at run time: the entries are bramble_entry_ram (pair words, a write
  // port; EntryDepth counts its words, EntryAddrBits their address bits), 0 = bramble_rom_2r
  // with EntryFile.
  parameter integer Runtime       = 0,
  // Run-time weights: pairs per entry-memory word and its style ("block", "distributed",
  // "ultra").
  parameter integer PairsPerWord  = 1,
  parameter         EntryStyle    = "block"
) (
  input  wire                   clk_i,
  input  wire                   rst_ni,

  // entry memory writes (Runtime = 1; a word of PairsPerWord pairs)
  input  wire                   wr_en_i,
  input  wire [EntryAddrBits-1:0] wr_addr_i,
  input  wire [2*(`BRAMBLE_ENTRY_GAP_BITS+IdxBits)*PairsPerWord-1:0] wr_data_i,

  // column descriptors (first-word-fall-through)
  input  wire                   col_valid_i,
  input  wire [PtrBits-2:0]     col_pair_i,
  input  wire [PtrBits-2:0]     col_more_i,
  input  wire                   col_lo_out_i,
  input  wire                   col_hi_out_i,
  input  wire [ActBits-1:0]     col_val_i,
  output wire                   col_pop_o,

  // items, lane 0 and lane 1 (the FIFO heads, or the new item when its FIFO is empty):
  // {row, codebook index, activation}
  output wire                   item0_valid_o,
  output wire [RowBits+IdxBits+ActBits-1:0] item0_o,
  input  wire                   item0_pop_i,
  output wire                   item1_valid_o,
  output wire [RowBits+IdxBits+ActBits-1:0] item1_o,
  input  wire                   item1_pop_i,

  output wire                   busy_o
);

  // The row-gap field of a stored entry (docs/sparse-format.md).
  localparam integer GapBits   = `BRAMBLE_ENTRY_GAP_BITS;
  localparam integer EntryBits = GapBits + IdxBits;
  localparam integer PairBits  = PtrBits - 1;
  // A pair advances the row by at most 2 * (max gap + 1); offsets never wrap in OffBits.
  localparam integer OffBits   = GapBits + 2;
  // The running row may pass the last row by up to one pair's advance.
  localparam integer PosBits   = RowBits + OffBits;
  localparam integer ItemBits  = RowBits + IdxBits + ActBits;
  // Item FIFOs: pairs in S1 and S2 and the pair being read may all still push.
  localparam integer ItemDepth  = 16;
  localparam integer ItemMargin = 3;

  // ---------------------------------------------------------------------------------------------
  // Pair reader
  reg                act_q;      // a column is being read
  reg [PairBits-1:0] pair_q;     // pair read next
  reg [PairBits-1:0] more_q;     // pairs after pair_q
  reg                first_q;    // pair_q is the column's first pair
  reg                lo_out_q;   // lane 0 of the first pair is outside the column
  reg                hi_out_q;   // lane 1 of the last pair is outside the column
  reg                last_q;     // pair_q is the column's last pair (more_q == 0)
  reg [ActBits-1:0]  val_q;

  wire items_room;
  // A read this clock: the current column's next pair, or (when idle) the new column's first.
  wire rd_cur = act_q && items_room;
  wire rd_new = !act_q && col_valid_i && items_room;
  wire go     = rd_cur || rd_new;
  wire take   = col_valid_i && (rd_new || (rd_cur && last_q));
  // The pair read and its column context.
  wire               new_single = (col_more_i == {PairBits{1'b0}});
  wire [PairBits-1:0] rd_pair   = act_q ? pair_q : col_pair_i;
  wire               rd_first   = act_q ? first_q : 1'b1;
  wire               rd_lo_out  = act_q ? lo_out_q : col_lo_out_i;
  wire               rd_last    = act_q ? last_q : new_single;
  wire               rd_hi_out  = act_q ? hi_out_q : col_hi_out_i;
  wire [ActBits-1:0] rd_val     = act_q ? val_q : col_val_i;

  wire [EntryBits-1:0] ent0;
  wire [EntryBits-1:0] ent1;
  wire [PtrBits-1:0]   addr0 = {rd_pair, 1'b0};
  wire [PtrBits-1:0]   addr1 = {rd_pair, 1'b1};

  generate
    if (Runtime != 0) begin : gen_pairs
      wire [2*EntryBits-1:0] pair;
      bramble_entry_ram #(
        .EntryBits    (EntryBits),
        .PairsPerWord (PairsPerWord),
        .Depth        (EntryDepth),
        .AddrBits     (EntryAddrBits),
        .PairBits     (PairBits),
        .Style        (EntryStyle)
      ) u_entries (
        .clk_i     (clk_i),
        .wr_en_i   (wr_en_i),
        .wr_addr_i (wr_addr_i),
        .wr_data_i (wr_data_i),
        .rd_en_i   (go),
        .rd_pair_i (rd_pair),
        .rd_data_o (pair)
      );
      assign ent0 = pair[EntryBits-1:0];
      assign ent1 = pair[2*EntryBits-1:EntryBits];
      wire unused_addr = ^{addr0, addr1};
    end else begin : gen_rom
      bramble_rom_2r #(
        .Width    (EntryBits),
        .Depth    (EntryDepth),
        .AddrBits (EntryAddrBits),
        .Block    (EntryBlock),
        .InitFile (EntryFile)
      ) u_entries (
        .clk_i      (clk_i),
        .rd_en_i    (go),
        .rd_addr0_i (addr0[EntryAddrBits-1:0]),
        .rd_addr1_i (addr1[EntryAddrBits-1:0]),
        .rd_data0_o (ent0),
        .rd_data1_o (ent1)
      );
      wire unused_wr = ^{wr_en_i, wr_addr_i, wr_data_i};
      if (PtrBits > EntryAddrBits) begin : gen_unused_addr
        wire unused_addr = ^{addr0[PtrBits-1:EntryAddrBits], addr1[PtrBits-1:EntryAddrBits]};
      end
    end
  endgenerate

  // S1 inputs: lane masks and column context of the pair in the entry memory's read register.
  reg               s1_vld_q;
  reg               s1_m0_q;
  reg               s1_m1_q;
  reg               s1_first_q;
  reg [ActBits-1:0] s1_val_q;

  // ---------------------------------------------------------------------------------------------
  // S1: offsets. off0 = z0; off1 = (m0 ? z0 + 1 : 0) + z1; adv = the pair's row advance.
  wire [GapBits-1:0] z0 = ent0[EntryBits-1:IdxBits];
  wire [GapBits-1:0] z1 = ent1[EntryBits-1:IdxBits];
  wire [IdxBits-1:0] k0 = ent0[IdxBits-1:0];
  wire [IdxBits-1:0] k1 = ent1[IdxBits-1:0];
  wire [OffBits-1:0] step0 = s1_m0_q ? ({{(OffBits-GapBits){1'b0}}, z0} + 1'b1) :
                                       {OffBits{1'b0}};
  wire [OffBits-1:0] off1  = step0 + {{(OffBits-GapBits){1'b0}}, z1};
  wire [OffBits-1:0] adv   = s1_m1_q ? (off1 + 1'b1) : step0;

  reg                s2_vld_q;
  reg                s2_first_q;
  reg                s2_real0_q;
  reg                s2_real1_q;
  reg [IdxBits-1:0]  s2_k0_q;
  reg [IdxBits-1:0]  s2_k1_q;
  reg [GapBits-1:0]  s2_off0_q;
  reg [OffBits-1:0]  s2_off1_q;
  reg [OffBits-1:0]  s2_adv_q;
  reg [ActBits-1:0]  s2_val_q;

  // ---------------------------------------------------------------------------------------------
  // S2: rows. The running row restarts at 0 with each column.
  reg  [PosBits-1:0] pos_q;
  wire [PosBits-1:0] base = s2_first_q ? {PosBits{1'b0}} : pos_q;
  wire [PosBits-1:0] row0 = base + {{(PosBits-GapBits){1'b0}}, s2_off0_q};
  wire [PosBits-1:0] row1 = base + {{(PosBits-OffBits){1'b0}}, s2_off1_q};
  wire unused_rows = ^{row0[PosBits-1:RowBits], row1[PosBits-1:RowBits]};

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      act_q      <= 1'b0;
      pair_q     <= {PairBits{1'b0}};
      more_q     <= {PairBits{1'b0}};
      first_q    <= 1'b0;
      lo_out_q   <= 1'b0;
      hi_out_q   <= 1'b0;
      last_q     <= 1'b0;
      val_q      <= {ActBits{1'b0}};
      s1_vld_q   <= 1'b0;
      s1_m0_q    <= 1'b0;
      s1_m1_q    <= 1'b0;
      s1_first_q <= 1'b0;
      s1_val_q   <= {ActBits{1'b0}};
      s2_vld_q   <= 1'b0;
      s2_first_q <= 1'b0;
      s2_real0_q <= 1'b0;
      s2_real1_q <= 1'b0;
      s2_k0_q    <= {IdxBits{1'b0}};
      s2_k1_q    <= {IdxBits{1'b0}};
      s2_off0_q  <= {GapBits{1'b0}};
      s2_off1_q  <= {OffBits{1'b0}};
      s2_adv_q   <= {OffBits{1'b0}};
      s2_val_q   <= {ActBits{1'b0}};
      pos_q      <= {PosBits{1'b0}};
    end else begin
      // pair reader
      if (rd_new) begin
        // First pair read now; the rest of the column (if any) from the next clock.
        act_q    <= !new_single;
        pair_q   <= col_pair_i + 1'b1;
        more_q   <= col_more_i - 1'b1;
        first_q  <= 1'b0;
        lo_out_q <= col_lo_out_i;
        hi_out_q <= col_hi_out_i;
        last_q   <= (col_more_i == {{(PairBits-1){1'b0}}, 1'b1});
        val_q    <= col_val_i;
      end else if (take) begin
        // The current column's last pair is read now; the next column's first pair next clock.
        act_q    <= 1'b1;
        pair_q   <= col_pair_i;
        more_q   <= col_more_i;
        first_q  <= 1'b1;
        lo_out_q <= col_lo_out_i;
        hi_out_q <= col_hi_out_i;
        last_q   <= new_single;
        val_q    <= col_val_i;
      end else if (rd_cur) begin
        if (last_q) begin
          act_q <= 1'b0;
        end
        pair_q  <= pair_q + 1'b1;
        more_q  <= more_q - 1'b1;
        last_q  <= (more_q == {{(PairBits-1){1'b0}}, 1'b1});
        first_q <= 1'b0;
      end

      s1_vld_q <= go;
      if (go) begin
        s1_m0_q    <= !(rd_first && rd_lo_out);
        s1_m1_q    <= !(rd_last && rd_hi_out);
        s1_first_q <= rd_first;
        s1_val_q   <= rd_val;
      end

      s2_vld_q <= s1_vld_q;
      if (s1_vld_q) begin
        s2_first_q <= s1_first_q;
        s2_real0_q <= s1_m0_q && (k0 != {IdxBits{1'b0}});
        s2_real1_q <= s1_m1_q && (k1 != {IdxBits{1'b0}});
        s2_k0_q    <= k0;
        s2_k1_q    <= k1;
        s2_off0_q  <= z0;
        s2_off1_q  <= off1;
        s2_adv_q   <= adv;
        s2_val_q   <= s1_val_q;
      end

      if (s2_vld_q) begin
        pos_q <= base + {{(PosBits-OffBits){1'b0}}, s2_adv_q};
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Item FIFOs. An item reaching an empty FIFO is offered at once (and pushed only if the
  // accumulate stage does not take it in that clock).
  wire item0_empty;
  wire item1_empty;
  wire item0_room;
  wire item1_room;
  wire [ItemBits-1:0] s2_item0 = {row0[RowBits-1:0], s2_k0_q, s2_val_q};
  wire [ItemBits-1:0] s2_item1 = {row1[RowBits-1:0], s2_k1_q, s2_val_q};
  wire                s2_push0 = s2_vld_q && s2_real0_q;
  wire                s2_push1 = s2_vld_q && s2_real1_q;
  wire [ItemBits-1:0] head0;
  wire [ItemBits-1:0] head1;
  wire                pass0 = item0_empty && s2_push0 && item0_pop_i;
  wire                pass1 = item1_empty && s2_push1 && item1_pop_i;

  bramble_fifo #(
    .Width  (ItemBits),
    .Depth  (ItemDepth),
    .Margin (ItemMargin)
  ) u_item0 (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .wr_en_i   (s2_push0 && !pass0),
    .wr_data_i (s2_item0),
    .rd_en_i   (item0_pop_i && !item0_empty),
    .rd_data_o (head0),
    .empty_o   (item0_empty),
    .room_o    (item0_room)
  );

  bramble_fifo #(
    .Width  (ItemBits),
    .Depth  (ItemDepth),
    .Margin (ItemMargin)
  ) u_item1 (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .wr_en_i   (s2_push1 && !pass1),
    .wr_data_i (s2_item1),
    .rd_en_i   (item1_pop_i && !item1_empty),
    .rd_data_o (head1),
    .empty_o   (item1_empty),
    .room_o    (item1_room)
  );

  assign items_room    = item0_room && item1_room;
  assign col_pop_o     = take;
  assign item0_valid_o = !item0_empty || s2_push0;
  assign item1_valid_o = !item1_empty || s2_push1;
  assign item0_o       = item0_empty ? s2_item0 : head0;
  assign item1_o       = item1_empty ? s2_item1 : head1;
  assign busy_o        = act_q || s1_vld_q || s2_vld_q || !item0_empty || !item1_empty;

endmodule

`resetall
