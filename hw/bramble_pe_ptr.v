// bramble_pe_ptr: a PE's front: the activation FIFO and the pointer stage.
//
// (pointer index, activation) pairs from the broadcast are queued in the activation FIFO
// (`BRAMBLE_ACT_FIFO_DEPTH deep, shift-register LUTs). The pointer stage pops one per clock
// while the column FIFO has room, reads ptr[idx] and ptr[idx+1] in one clock from the even and
// odd banks, and pushes the column's entry range as a column descriptor: the first entry pair
// (start / 2), how many more pairs follow, whether lane 0 of the first pair and lane 1 of the
// last pair lie outside the column, and the activation. Empty columns (start == end) are dropped
// here. room_o tells the scanner whether the activation FIFO can take every push that may still
// be in flight towards it (`BRAMBLE_BC_IN_FLIGHT).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_pe_ptr #(
  // Bits of an activation.
  parameter integer ActBits     = 16,
  // Bits of a column pointer (an absolute entry address, which may equal the entry depth).
  parameter integer PtrBits     = 5,
  // Depth of each pointer bank and its address bits (a pointer index has one bit more).
  parameter integer PtrDepth    = 16,
  parameter integer PtrAddrBits = 4,
  // 1 = pointer banks in block RAM, 0 = LUT logic.
  parameter integer PtrBlock    = 0,
  // Images of the even and odd pointer banks.
  parameter         PtrEvenFile = "",
  parameter         PtrOddFile  = "",
  // 1 = weights loaded at run time: the banks have write ports and no image.
  parameter integer Runtime     = 0
) (
  input  wire                   clk_i,
  input  wire                   rst_ni,

  // pointer bank writes (Runtime = 1)
  input  wire                   wr_even_i,
  input  wire                   wr_odd_i,
  input  wire [PtrAddrBits-1:0] wr_addr_i,
  input  wire [PtrBits-1:0]     wr_data_i,

  // broadcast (registered at the PE boundary)
  input  wire                   act_valid_i,
  input  wire [PtrAddrBits:0]   act_idx_i,
  input  wire [ActBits-1:0]     act_val_i,
  output wire                   room_o,

  // column descriptors, to the entry streamer
  output wire                   col_valid_o,
  output wire [PtrBits-2:0]     col_pair_o,
  output wire [PtrBits-2:0]     col_more_o,
  output wire                   col_lo_out_o,
  output wire                   col_hi_out_o,
  output wire [ActBits-1:0]     col_val_o,
  input  wire                   col_pop_i,

  output wire                   busy_o
);

  localparam integer IdxBits   = PtrAddrBits + 1;
  localparam integer PairBits  = PtrBits - 1;
  // A column descriptor: first pair, further pairs, two lane flags, the activation.
  localparam integer ColBits   = 2 * PairBits + 2 + ActBits;
  // Column FIFO: a pointer read may be in flight when the pop decision is taken.
  localparam integer ColDepth  = 16;
  localparam integer ColMargin = 2;

  initial begin
    if (PtrBits < 2 || ActBits < 2) begin
      $display("bramble_pe_ptr: inconsistent parameters (see docs/engine.md)");
      $finish;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Activation FIFO
  // An activation arriving at an empty FIFO is issued at once when the column FIFO has room.
  wire               act_empty;
  wire [IdxBits-1:0] fifo_idx;
  wire [ActBits-1:0] fifo_val;
  wire               col_room;
  wire               issue_fifo = !act_empty && col_room;
  wire               issue_in   = act_empty && act_valid_i && col_room;
  wire               issue      = issue_fifo || issue_in;
  wire [IdxBits-1:0] head_idx   = act_empty ? act_idx_i : fifo_idx;
  wire [ActBits-1:0] head_val   = act_empty ? act_val_i : fifo_val;

  bramble_fifo #(
    .Width  (IdxBits + ActBits),
    .Depth  (`BRAMBLE_ACT_FIFO_DEPTH),
    .Margin (`BRAMBLE_BC_IN_FLIGHT)
  ) u_act_fifo (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .wr_en_i   (act_valid_i && !issue_in),
    .wr_data_i ({act_idx_i, act_val_i}),
    .rd_en_i   (issue_fifo),
    .rd_data_o ({fifo_idx, fifo_val}),
    .empty_o   (act_empty),
    .room_o    (room_o)
  );

  // ---------------------------------------------------------------------------------------------
  // Pointer read: ptr[idx] and ptr[idx + 1] live in different banks (even indices at idx / 2 of
  // the even bank, odd ones at idx / 2 of the odd bank).
  wire [PtrAddrBits-1:0] even_addr = head_idx[IdxBits-1:1] +
                                     {{(PtrAddrBits-1){1'b0}}, head_idx[0]};
  wire [PtrAddrBits-1:0] odd_addr  = head_idx[IdxBits-1:1];
  wire [PtrBits-1:0]     ptr_even;
  wire [PtrBits-1:0]     ptr_odd;

  bramble_ram_sdp #(
    .Width    (PtrBits),
    .Depth    (PtrDepth),
    .AddrBits (PtrAddrBits),
    .Block    (PtrBlock),
    .Rom      ((Runtime != 0) ? 0 : 1),
    .InitFile ((Runtime != 0) ? "" : PtrEvenFile)
  ) u_ptr_even (
    .clk_i     (clk_i),
    .wr_en_i   ((Runtime != 0) && wr_even_i),
    .wr_addr_i ((Runtime != 0) ? wr_addr_i : {PtrAddrBits{1'b0}}),
    .wr_data_i ((Runtime != 0) ? wr_data_i : {PtrBits{1'b0}}),
    .rd_en_i   (issue),
    .rd_addr_i (even_addr),
    .rd_data_o (ptr_even)
  );

  bramble_ram_sdp #(
    .Width    (PtrBits),
    .Depth    (PtrDepth),
    .AddrBits (PtrAddrBits),
    .Block    (PtrBlock),
    .Rom      ((Runtime != 0) ? 0 : 1),
    .InitFile ((Runtime != 0) ? "" : PtrOddFile)
  ) u_ptr_odd (
    .clk_i     (clk_i),
    .wr_en_i   ((Runtime != 0) && wr_odd_i),
    .wr_addr_i ((Runtime != 0) ? wr_addr_i : {PtrAddrBits{1'b0}}),
    .wr_data_i ((Runtime != 0) ? wr_data_i : {PtrBits{1'b0}}),
    .rd_en_i   (issue),
    .rd_addr_i (odd_addr),
    .rd_data_o (ptr_odd)
  );

  reg               rd_vld_q;
  reg               rd_odd_q;
  reg [ActBits-1:0] rd_val_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_vld_q <= 1'b0;
      rd_odd_q <= 1'b0;
      rd_val_q <= {ActBits{1'b0}};
    end else begin
      rd_vld_q <= issue;
      if (issue) begin
        rd_odd_q <= head_idx[0];
        rd_val_q <= head_val;
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Column descriptor: entries [start, end) are pairs start/2 .. (end-1)/2.
  wire [PtrBits-1:0]  col_start = rd_odd_q ? ptr_odd : ptr_even;
  wire [PtrBits-1:0]  col_end   = rd_odd_q ? ptr_even : ptr_odd;
  wire [PtrBits-1:0]  col_last  = col_end - 1'b1;
  wire [PairBits-1:0] pair_first = col_start[PtrBits-1:1];
  wire [PairBits-1:0] pair_more  = col_last[PtrBits-1:1] - col_start[PtrBits-1:1];
  wire                col_push   = rd_vld_q && (col_start != col_end);
  wire                col_empty;
  wire                unused_last = col_last[0];

  bramble_fifo #(
    .Width  (ColBits),
    .Depth  (ColDepth),
    .Margin (ColMargin)
  ) u_col_fifo (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .wr_en_i   (col_push),
    .wr_data_i ({pair_first, pair_more, col_start[0], col_end[0], rd_val_q}),
    .rd_en_i   (col_pop_i),
    .rd_data_o ({col_pair_o, col_more_o, col_lo_out_o, col_hi_out_o, col_val_o}),
    .empty_o   (col_empty),
    .room_o    (col_room)
  );

  assign col_valid_o = !col_empty;
  assign busy_o      = !act_empty || rd_vld_q || !col_empty;

endmodule

`resetall
