// bramble_scanner: finds the non-zero activations of a layer's input and broadcasts them.
//
// The input vector lives in NumPes banks (activation j in bank j mod NumPes at row
// j div NumPes), so one read of a row gives a group of NumPes consecutive activations. Groups
// are fetched into two slots (A and B), so one slot is refilled while the other is scanned and
// groups follow each other without a gap. Per slot, pend_q marks the lanes still to broadcast
// (non-zero and inside the layer). Stages:
//
//   F  (fetch):   read the next group into the buffers' read registers (the first one in the
//                 clock of start_i);
//   L  (load):    non-zero mask and values into the free slot;
//   P  (pick):    the lowest pending lane of the current slot (x & ~(x - 1)), cleared from
//                 pend_q, one per clock while the PEs have room (room_i);
//   X  (extract): the picked lane's value and lane number (one-hot AND-OR), pointer index =
//                 ptr_base + group base + lane -> broadcast register.
//
// in_size_i and ptr_base_i are loaded into the fetch registers on every idle clock, so they must
// hold the layer's values from the clock before start_i (bramble_seq sets them clocks earlier),
// and start_i comes no earlier than the second clock after done_o.
//
// After the layer's last non-zero, end_o is pulsed once on the broadcast (behind it), and
// done_o tells the sequencer the scanner is finished. room_i is a registered AND over the PEs'
// activation FIFOs; each keeps `BRAMBLE_BC_IN_FLIGHT entries of room for the picks that are
// already between P and its FIFO when it reports full.
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_scanner #(
  // Lanes per group (the PE count).
  parameter integer NumPes      = 1,
  // Bits of an activation.
  parameter integer ActBits     = 16,
  // Bits of a buffer row and of a pointer index.
  parameter integer RowBits     = 4,
  parameter integer PtrIdxBits  = 5
) (
  input  wire                      clk_i,
  input  wire                      rst_ni,

  input  wire                      start_i,
  input  wire [`BRAMBLE_DESC_FIELD_BITS-1:0] in_size_i,
  input  wire [`BRAMBLE_DESC_FIELD_BITS-1:0] ptr_base_i,
  output wire                      done_o,

  // group reads (data in lanes_i one clock after rd_en_o)
  output wire                      rd_en_o,
  output wire [RowBits-1:0]        rd_row_o,
  input  wire [NumPes*ActBits-1:0] lanes_i,

  // broadcast
  input  wire                      room_i,
  output wire                      bc_valid_o,
  output wire [PtrIdxBits-1:0]     bc_idx_o,
  output wire [ActBits-1:0]        bc_val_o,
  output wire                      bc_end_o
);

  localparam integer SizeBits = `BRAMBLE_DESC_FIELD_BITS;
  localparam integer LaneBits = (NumPes <= 1) ? 1 : $clog2(NumPes);

  // ---------------------------------------------------------------------------------------------
  // F: fetch
  reg                 act_q;       // the layer is being scanned
  reg [RowBits-1:0]   f_row_q;     // next row to read
  reg [SizeBits-1:0]  f_left_q;    // activations from the next row to the end of the layer
  reg [SizeBits-1:0]  f_base_q;    // ptr_base + column of the next row's lane 0
  reg                 l_vld_q;     // a read is in flight: load it into slot l_slot_q
  reg                 l_slot_q;
  reg [NumPes-1:0]    l_ok_q;      // lanes of the read inside the layer
  reg [SizeBits-1:0]  l_base_q;

  reg [NumPes-1:0]         a_pend_q;
  reg [NumPes*ActBits-1:0] a_val_q;
  reg [SizeBits-1:0]       a_base_q;
  reg [NumPes-1:0]         b_pend_q;
  reg [NumPes*ActBits-1:0] b_val_q;
  reg [SizeBits-1:0]       b_base_q;

  // Empty slots, from the borrow of pend - 1 (the carry chain, not an OR tree).
  wire [NumPes:0] a_dec = {1'b0, a_pend_q} - 1'b1;
  wire [NumPes:0] b_dec = {1'b0, b_pend_q} - 1'b1;
  wire            a_empty = a_dec[NumPes];
  wire            b_empty = b_dec[NumPes];

  // The row fetched now. While idle the fetch registers hold the next layer's first row (row 0,
  // in_size_i, ptr_base_i, loaded every idle clock), so the first fetch in the clock of start_i
  // reads registers only and start_i does not reach the size arithmetic (a 64-PE start_i is a
  // high-fanout net).
  wire [RowBits-1:0]  cur_row  = f_row_q;
  wire [SizeBits-1:0] cur_left = f_left_q;
  wire [SizeBits-1:0] cur_base = f_base_q;
  wire more    = (cur_left != {SizeBits{1'b0}});
  // A slot is free when empty and not the target of the read in flight.
  wire a_free  = a_empty && !(l_vld_q && !l_slot_q);
  wire b_free  = b_empty && !(l_vld_q && l_slot_q);
  wire fetch   = (act_q || start_i) && more && (a_free || b_free);
  wire f_slot  = !a_free;          // fill A first

  reg  [NumPes-1:0] f_ok;
  integer           lo;
  always @* begin
    for (lo = 0; lo < NumPes; lo = lo + 1) begin
      f_ok[lo] = (cur_left > lo[SizeBits-1:0]);
    end
  end

  // ---------------------------------------------------------------------------------------------
  // L: non-zero mask of the group just read
  reg [NumPes-1:0] l_mask;
  integer          ln;
  always @* begin
    for (ln = 0; ln < NumPes; ln = ln + 1) begin
      l_mask[ln] = l_ok_q[ln] && (lanes_i[ln*ActBits +: ActBits] != {ActBits{1'b0}});
    end
  end

  // ---------------------------------------------------------------------------------------------
  // P: pick from the current slot until it is empty, then from the other.
  reg          cur_q;            // 0 = A, 1 = B
  wire         use_b = cur_q ? !b_empty : a_empty;
  wire         any   = !(a_empty && b_empty);
  wire         pick  = act_q && any && room_i;
  wire [NumPes-1:0] a_low = a_pend_q & ~a_dec[NumPes-1:0];
  wire [NumPes-1:0] b_low = b_pend_q & ~b_dec[NumPes-1:0];

  reg                x_vld_q;
  reg [NumPes-1:0]   x_a_q;        // one-hot lane picked from A (or zero)
  reg [NumPes-1:0]   x_b_q;        // one-hot lane picked from B (or zero)
  reg [SizeBits-1:0] x_base_q;

  // ---------------------------------------------------------------------------------------------
  // X: value and lane of the pick
  reg [ActBits-1:0]  x_val;
  reg [LaneBits-1:0] x_lane;
  integer            xl;
  always @* begin
    x_val  = {ActBits{1'b0}};
    x_lane = {LaneBits{1'b0}};
    for (xl = 0; xl < NumPes; xl = xl + 1) begin
      x_val = x_val | ({ActBits{x_a_q[xl]}} & a_val_q[xl*ActBits +: ActBits]) |
                      ({ActBits{x_b_q[xl]}} & b_val_q[xl*ActBits +: ActBits]);
      if (x_a_q[xl] || x_b_q[xl]) begin
        x_lane = x_lane | xl[LaneBits-1:0];
      end
    end
  end

  wire [SizeBits-1:0] x_idx = x_base_q + {{(SizeBits-LaneBits){1'b0}}, x_lane};
  wire                unused_idx = ^x_idx[SizeBits-1:PtrIdxBits];

  reg                  bc_vld_q;
  reg [PtrIdxBits-1:0] bc_idx_q;
  reg [ActBits-1:0]    bc_val_q;
  reg                  bc_end_q;
  reg                  done_q;

  // Finished: nothing left to fetch, load, pick or extract.
  wire finished = act_q && !more && !l_vld_q && a_empty && b_empty && !x_vld_q;

  wire [SizeBits-1:0] num_pes = NumPes[SizeBits-1:0];

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      act_q        <= 1'b0;
      f_row_q      <= {RowBits{1'b0}};
      f_left_q     <= {SizeBits{1'b0}};
      f_base_q     <= {SizeBits{1'b0}};
      l_vld_q      <= 1'b0;
      l_slot_q     <= 1'b0;
      l_ok_q       <= {NumPes{1'b0}};
      l_base_q     <= {SizeBits{1'b0}};
      a_pend_q     <= {NumPes{1'b0}};
      a_base_q     <= {SizeBits{1'b0}};
      b_pend_q     <= {NumPes{1'b0}};
      b_base_q     <= {SizeBits{1'b0}};
      cur_q        <= 1'b0;
      x_vld_q      <= 1'b0;
      x_a_q        <= {NumPes{1'b0}};
      x_b_q        <= {NumPes{1'b0}};
      x_base_q     <= {SizeBits{1'b0}};
      bc_vld_q     <= 1'b0;
      bc_idx_q     <= {PtrIdxBits{1'b0}};
      bc_val_q     <= {ActBits{1'b0}};
      bc_end_q     <= 1'b0;
      done_q       <= 1'b0;
    end else begin
      // F
      if (start_i) begin
        act_q <= 1'b1;
        cur_q <= 1'b0;
      end
      if (fetch) begin
        f_row_q  <= cur_row + 1'b1;
        f_left_q <= (cur_left > num_pes) ? (cur_left - num_pes) : {SizeBits{1'b0}};
        f_base_q <= cur_base + num_pes;
      end else if (!act_q && !start_i) begin
        // Idle: preload the next layer's first row.
        f_row_q  <= {RowBits{1'b0}};
        f_left_q <= in_size_i;
        f_base_q <= ptr_base_i;
      end
      l_vld_q <= fetch;
      if (fetch) begin
        l_slot_q <= f_slot;
        l_ok_q   <= f_ok;
        l_base_q <= cur_base;
      end

      // L and P
      if (l_vld_q && !l_slot_q) begin
        a_pend_q <= l_mask;
        a_base_q <= l_base_q;
      end else if (pick && !use_b) begin
        a_pend_q <= a_pend_q & a_dec[NumPes-1:0];
      end
      if (l_vld_q && l_slot_q) begin
        b_pend_q <= l_mask;
        b_base_q <= l_base_q;
      end else if (pick && use_b) begin
        b_pend_q <= b_pend_q & b_dec[NumPes-1:0];
      end
      if (pick) begin
        cur_q <= use_b;
      end

      x_vld_q <= pick;
      x_a_q   <= (pick && !use_b) ? a_low : {NumPes{1'b0}};
      x_b_q   <= (pick && use_b) ? b_low : {NumPes{1'b0}};
      if (pick) begin
        x_base_q <= use_b ? b_base_q : a_base_q;
      end

      // X
      bc_vld_q <= x_vld_q;
      if (x_vld_q) begin
        bc_idx_q <= x_idx[PtrIdxBits-1:0];
        bc_val_q <= x_val;
      end
      bc_end_q <= finished;
      done_q   <= finished;
      if (finished) begin
        act_q <= 1'b0;
      end
    end
  end

  // Slot values load with the mask (no reset: data only).
  always @(posedge clk_i) begin
    if (l_vld_q && !l_slot_q) begin
      a_val_q <= lanes_i;
    end
    if (l_vld_q && l_slot_q) begin
      b_val_q <= lanes_i;
    end
  end

  assign rd_en_o    = fetch;
  assign rd_row_o   = cur_row;
  assign bc_valid_o = bc_vld_q;
  assign bc_idx_o   = bc_idx_q;
  assign bc_val_o   = bc_val_q;
  assign bc_end_o   = bc_end_q;
  assign done_o     = done_q;

endmodule

`resetall
