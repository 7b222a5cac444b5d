// bramble_scanner_tb: unit testbench of bramble_scanner (generator/tests/units.rs runs it).
//
// Models the activation buffer (lanes_i one clock after rd_en_o, from row rd_row_o; garbage on
// every other clock) and scans many layers: sizes 0, 1, a partial last group, full buffers;
// random densities with all-zero groups; non-zero garbage past the end of the layer; random and
// bursty room_i backpressure. Checks, per layer:
//   - the reads are rows 0, 1, ... of the layer, each once, in order;
//   - the broadcast is exactly the layer's non-zero activations, each once, with
//     bc_idx_o = ptr_base + column and bc_val_o = the activation;
//   - with room_i high throughout: column-ascending order (the design keeps it then; under
//     backpressure both slots can be loaded while the current-slot pointer names the newer
//     group, so only the set is checked), and no gap between broadcasts of a dense layer
//     ("groups follow each other without a gap") when NumPes > 1 (with one lane, measured
//     only: 2 broadcasts per 3 clocks, see the INFO line);
//   - a broadcast in clock t needs room_i high in clock t - 2 (pick P, then X and the
//     broadcast register: the scanner's share of `BRAMBLE_BC_IN_FLIGHT, abi/src/regs.rs);
//   - bc_end_o once, after the last broadcast, never with or before one; done_o once, not
//     before bc_end_o; in_size_i and ptr_base_i are only used as they were in the clock before
//     start_i (they change to garbage from start_i on).
// Prints `UNIT PASS bramble_scanner ...` or `UNIT FAIL bramble_scanner ...`.
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_scanner_tb #(
  parameter integer NumPes     = 3,
  parameter integer ActBits    = 8,
  parameter integer RowBits    = 5,
  parameter integer PtrIdxBits = 10,
  parameter integer Layers     = 80,
  parameter integer Seed       = 1
);

  localparam integer SizeBits = `BRAMBLE_DESC_FIELD_BITS;
  localparam integer Rows     = 1 << RowBits;
  localparam integer MaxCols  = NumPes * Rows;
  localparam integer Lat      = 2;   // pick in clock t -> bc_valid_o in clock t + Lat

  reg                       clk = 1'b0;
  reg                       rst_n = 1'b0;
  reg                       start = 1'b0;
  reg  [SizeBits-1:0]       in_size = {SizeBits{1'b0}};
  reg  [SizeBits-1:0]       ptr_base = {SizeBits{1'b0}};
  wire                      done;
  wire                      rd_en;
  wire [RowBits-1:0]        rd_row;
  reg  [NumPes*ActBits-1:0] lanes = {NumPes*ActBits{1'b0}};
  reg                       room = 1'b1;
  wire                      bc_valid;
  wire [PtrIdxBits-1:0]     bc_idx;
  wire [ActBits-1:0]        bc_val;
  wire                      bc_end;

  bramble_scanner #(
    .NumPes     (NumPes),
    .ActBits    (ActBits),
    .RowBits    (RowBits),
    .PtrIdxBits (PtrIdxBits)
  ) u_dut (
    .clk_i      (clk),
    .rst_ni     (rst_n),
    .start_i    (start),
    .in_size_i  (in_size),
    .ptr_base_i (ptr_base),
    .done_o     (done),
    .rd_en_o    (rd_en),
    .rd_row_o   (rd_row),
    .lanes_i    (lanes),
    .room_i     (room),
    .bc_valid_o (bc_valid),
    .bc_idx_o   (bc_idx),
    .bc_val_o   (bc_val),
    .bc_end_o   (bc_end)
  );

  always #5 clk = !clk;

  // Watchdog: a stuck handshake fails instead of hanging.
  initial begin
    #(10 * 200000);
    $display("UNIT FAIL bramble_scanner P%0d: timeout (200000 clocks)", NumPes);
    $finish;
  end

  // The layer: act[column] (values past in_size are non-zero garbage the scanner must skip).
  reg [ActBits-1:0] act [0:MaxCols-1];
  reg               seen [0:MaxCols-1];
  integer           size;       // the layer's in_size
  integer           base;       // the layer's ptr_base
  integer           nnz;
  integer           rows_used;
  reg               ordered;    // room_i high all layer: expect ascending columns
  reg               dense;      // every activation non-zero: expect no gaps

  integer seed;
  integer gseed;
  integer errors;
  integer cyc;

  // monitor state (per layer)
  integer next_row;
  integer n_got;
  integer last_col;
  integer last_bc_cyc;
  integer n_end;
  integer n_done;
  integer n_gaps;
  reg [7:0] room_hist;          // room_hist[i]: room_i i + 1 clocks before the current one

  // coverage over all layers
  integer c_bc;
  integer c_zero_groups;
  integer c_partial;
  integer c_empty_layers;
  integer c_stall_bc;
  integer c_out_of_order;
  integer c_dense_bc;
  integer c_dense_gaps;

  task fail;
    input [8*64-1:0] what;
    input integer    a;
    input integer    b;
    begin
      errors = errors + 1;
      if (errors <= 10) begin
        $write("UNIT FAIL bramble_scanner P%0d: clock %0d, layer size %0d base %0d: ",
               NumPes, cyc, size, base);
        $display("%0s (%0d, %0d)", what, a, b);
      end
    end
  endtask

  // Buffer: data one clock after the read; random garbage on every other clock.
  always @(posedge clk) begin
    if (rd_en) begin
      lanes <= read_row(rd_row);
    end else begin
      lanes <= garbage(0);
    end
  end

  function [NumPes*ActBits-1:0] read_row;
    input [RowBits-1:0] r;
    integer l;
    begin
      for (l = 0; l < NumPes; l = l + 1) begin
        read_row[l*ActBits +: ActBits] = act[r * NumPes + l];
      end
    end
  endfunction

  function [NumPes*ActBits-1:0] garbage;
    input integer dummy;
    integer l;
    begin
      for (l = 0; l < NumPes; l = l + 1) begin
        garbage[l*ActBits +: ActBits] = $random(gseed);
      end
    end
  endfunction

  // Monitor: samples the outputs of the clock that is ending.
  always @(posedge clk) begin : monitor
    integer col;
    if (rst_n) begin
      if (rd_en) begin
        if (rd_row !== next_row[RowBits-1:0] || next_row >= rows_used) begin
          fail("read of an unexpected row", rd_row, next_row);
        end
        next_row = next_row + 1;
      end
      if (bc_valid === 1'b1) begin
        c_bc = c_bc + 1;
        col = (bc_idx - base) & ((1 << PtrIdxBits) - 1);
        if (n_end != 0) fail("broadcast after bc_end_o", col, n_end);
        if (room_hist[Lat-1] !== 1'b1) begin
          fail("broadcast of a pick made while room_i was low", col, 0);
        end
        if (!room_hist[0]) c_stall_bc = c_stall_bc + 1;
        if (col >= size) begin
          fail("broadcast of a column outside the layer", col, size);
        end else begin
          if (act[col] == {ActBits{1'b0}}) fail("broadcast of a zero activation", col, 0);
          if (seen[col]) fail("column broadcast twice", col, 0);
          if (bc_val !== act[col]) fail("bc_val_o (got, expected)", bc_val, act[col]);
          seen[col] = 1'b1;
        end
        if (col <= last_col) begin
          c_out_of_order = c_out_of_order + 1;
          if (ordered) fail("column order with room_i high (col, previous)", col, last_col);
        end
        if (dense && n_got > 0 && last_bc_cyc != cyc - 1) n_gaps = n_gaps + 1;
        last_col    = col;
        last_bc_cyc = cyc;
        n_got       = n_got + 1;
      end else if (bc_valid !== 1'b0) begin
        fail("bc_valid_o is X", 0, 0);
      end
      if (bc_end === 1'b1) begin
        if (n_end != 0) fail("bc_end_o twice", n_end, 0);
        if (n_got != nnz) fail("bc_end_o before all non-zeros (got, expected)", n_got, nnz);
        if (bc_valid === 1'b1) fail("bc_end_o together with bc_valid_o", 0, 0);
        n_end   = n_end + 1;
      end
      if (done === 1'b1) begin
        if (n_done != 0) fail("done_o twice", n_done, 0);
        if (n_end == 0) fail("done_o before bc_end_o", 0, 0);
        n_done   = n_done + 1;
      end
      room_hist = {room_hist[6:0], room};
    end
    cyc = cyc + 1;
  end

  // Backpressure: mode 0 always high, 1 random, 2 long bursts low.
  integer room_mode;
  always @(negedge clk) begin
    case (room_mode)
      0: room = 1'b1;
      1: room = ({$random(seed)} % 100) < 60;
      2: room = ({$random(seed)} % 100) < 8 ? !room : room;
      default: room = 1'b1;
    endcase
  end

  // One layer: build the activations, start, wait for done_o, check the totals.
  task layer;
    input integer sz;
    input integer density;     // percent of non-zero activations (of the non-zero groups)
    input integer zero_pct;    // percent of all-zero groups
    input integer mode;
    integer c;
    integer wait_clocks;
    reg     zg;
    begin
      size = sz;
      base = {$random(seed)} % ((1 << PtrIdxBits) - sz + 1);
      nnz  = 0;
      rows_used = (sz + NumPes - 1) / NumPes;
      zg = 1'b0;
      dense = (density >= 100 && zero_pct == 0 && mode == 0);
      for (c = 0; c < MaxCols; c = c + 1) begin
        seen[c] = 1'b0;
        if (c % NumPes == 0) begin
          zg = ({$random(seed)} % 100) < zero_pct;
          if (zg && c < sz) c_zero_groups = c_zero_groups + 1;
        end
        if (c >= sz || (!zg && ({$random(seed)} % 100) < density)) begin
          // non-zero: extremes now and then
          case ({$random(seed)} % 8)
            0: act[c] = {1'b1, {(ActBits-1){1'b0}}};
            1: act[c] = {1'b0, {(ActBits-1){1'b1}}};
            2: act[c] = {{(ActBits-1){1'b0}}, 1'b1};
            3: act[c] = {ActBits{1'b1}};
            default: act[c] = $random(seed);
          endcase
          if (act[c] == {ActBits{1'b0}}) act[c] = {{(ActBits-1){1'b0}}, 1'b1};
          if (c < sz) nnz = nnz + 1;
        end else begin
          act[c] = {ActBits{1'b0}};
        end
      end
      if (sz % NumPes != 0) c_partial = c_partial + 1;
      if (nnz == 0) c_empty_layers = c_empty_layers + 1;
      room_mode = mode;
      ordered   = (mode == 0);
      next_row  = 0;
      n_got     = 0;
      last_col  = -1;
      n_end     = 0;
      n_done    = 0;
      n_gaps    = 0;
      // the layer's values from the clock before start_i
      in_size   = sz;
      ptr_base  = base;
      @(negedge clk);
      start     = 1'b1;
      @(negedge clk);
      start     = 1'b0;
      // not used after start_i
      in_size   = $random(seed);
      ptr_base  = $random(seed);
      wait_clocks = 0;
      while (n_done == 0 && wait_clocks < 40 * MaxCols + 200) begin
        @(negedge clk);
        wait_clocks = wait_clocks + 1;
      end
      if (n_done == 0) fail("no done_o", wait_clocks, 0);
      if (n_end != 1) fail("bc_end_o count", n_end, 0);
      if (n_got != nnz) fail("broadcasts (got, expected)", n_got, nnz);
      if (next_row != rows_used) fail("rows read (got, expected)", next_row, rows_used);
      // With one lane a group is one pick: a slot takes 3 clocks from free to picked (fetch,
      // load, pick), so two slots give 2 broadcasts per 3 clocks. Measured, not failed.
      if (dense && NumPes == 1) begin
        c_dense_bc   = c_dense_bc + n_got;
        c_dense_gaps = c_dense_gaps + n_gaps;
      end
      if (dense && NumPes > 1 && n_gaps != 0) begin
        fail("gaps in a dense layer with room_i high", n_gaps, 0);
      end
      for (c = 0; c < sz; c = c + 1) begin
        if (act[c] != {ActBits{1'b0}} && !seen[c]) fail("column not broadcast", c, 0);
      end
      // idle gap before the next start (with the clock above, start_i comes 1 to 4 clocks
      // after the clock done_o was seen in: the second clock after done_o at the earliest)
      repeat ({$random(seed)} % 4) @(negedge clk);
      room_mode = 0;
    end
  endtask

  integer i;
  integer sz;
  integer dens;
  initial begin
    seed           = Seed;
    gseed          = Seed + 7;
    errors         = 0;
    cyc            = 0;
    size           = 0;
    base           = 0;
    nnz            = 0;
    rows_used      = 0;
    ordered        = 1'b1;
    dense          = 1'b0;
    next_row       = 0;
    n_got          = 0;
    last_col       = -1;
    last_bc_cyc    = -1;
    n_end          = 0;
    n_done         = 0;
    n_gaps         = 0;
    room_hist      = 8'hFF;
    room_mode      = 0;
    c_bc           = 0;
    c_zero_groups  = 0;
    c_partial      = 0;
    c_empty_layers = 0;
    c_stall_bc     = 0;
    c_out_of_order = 0;
    c_dense_bc     = 0;
    c_dense_gaps   = 0;
    for (i = 0; i < MaxCols; i = i + 1) begin
      act[i]  = {ActBits{1'b0}};
      seen[i] = 1'b0;
    end
    repeat (3) @(negedge clk);
    rst_n = 1'b1;
    @(negedge clk);
    // corners: empty layer, one activation, one group, the whole buffer, dense, all zero
    layer(0, 50, 0, 0);
    layer(1, 100, 0, 0);
    layer(1, 0, 0, 0);
    layer(NumPes, 100, 0, 0);
    layer(MaxCols, 100, 0, 0);
    layer(MaxCols, 100, 0, 1);
    layer(MaxCols, 0, 0, 0);
    layer(MaxCols - 1, 30, 30, 2);
    layer(NumPes + 1, 100, 0, 0);
    // random layers
    for (i = 0; i < Layers; i = i + 1) begin
      sz = {$random(seed)} % (MaxCols + 1);
      case ({$random(seed)} % 5)
        0: dens = 5;
        1: dens = 30;
        2: dens = 60;
        3: dens = 90;
        default: dens = 100;
      endcase
      layer(sz, dens, ({$random(seed)} % 2) ? 25 : 0, {$random(seed)} % 3);
    end

    if (c_zero_groups == 0 || (NumPes > 1 && c_partial == 0) || c_empty_layers == 0 ||
        c_stall_bc == 0) begin
      $write("UNIT FAIL bramble_scanner P%0d: coverage (all-zero groups %0d, ", NumPes,
             c_zero_groups);
      $display("partial groups %0d, empty layers %0d, broadcasts after room_i fell %0d)",
               c_partial, c_empty_layers, c_stall_bc);
      errors = errors + 1;
    end
    if (errors == 0) begin
      $write("UNIT PASS bramble_scanner P%0d A%0d R%0d: %0d layers, %0d broadcasts, %0d clocks, ",
             NumPes, ActBits, RowBits, Layers + 9, c_bc, cyc);
      $write("%0d all-zero groups, %0d partial last groups, ", c_zero_groups, c_partial);
      $display("%0d out-of-order broadcasts under backpressure", c_out_of_order);
      if (NumPes == 1) begin
        $write("UNIT INFO bramble_scanner P1: dense layers with room_i high: ");
        $display("%0d broadcasts with %0d gaps", c_dense_bc, c_dense_gaps);
      end
    end else begin
      $display("UNIT FAIL bramble_scanner P%0d: %0d errors", NumPes, errors);
    end
    $finish;
  end

endmodule

`resetall
