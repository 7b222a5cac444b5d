// bramble_fifo_tb: unit testbench of bramble_fifo (generator/tests/units.rs runs it).
//
// Random pushes and pops against a reference queue, checked every clock: rd_data_o is the
// oldest entry, empty_o is high exactly when the queue is empty, room_o is high exactly when
// count <= Depth - Margin (after the pushes and pops of the clock that just ended). Phases:
// random traffic at several push/pop rates (full and empty corners, push + pop in one clock,
// push + pop while full), then the Margin contract itself: a producer that pushes on every clock
// whose room_o, seen Margin - 1 clocks earlier, was high never overflows the FIFO. Prints
// `UNIT PASS bramble_fifo ...` or `UNIT FAIL bramble_fifo ...`.
//
//   iverilog -g2005 -Wall -I <dir of bramble_defs.vh> -Pbramble_fifo_tb.Depth=32 \
//     hw/test/bramble_fifo_tb.v hw/bramble_fifo.v && vvp a.out
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_fifo_tb #(
  parameter integer Width  = 7,
  parameter integer Depth  = 16,
  parameter integer Margin = 3,
  parameter integer Seed   = 1
);

  localparam integer Clocks = 6000;

  reg              clk = 1'b0;
  reg              rst_n = 1'b0;
  reg              wr_en = 1'b0;
  reg  [Width-1:0] wr_data = {Width{1'b0}};
  reg              rd_en = 1'b0;
  wire [Width-1:0] rd_data;
  wire             empty;
  wire             room;

  bramble_fifo #(
    .Width  (Width),
    .Depth  (Depth),
    .Margin (Margin)
  ) u_dut (
    .clk_i     (clk),
    .rst_ni    (rst_n),
    .wr_en_i   (wr_en),
    .wr_data_i (wr_data),
    .rd_en_i   (rd_en),
    .rd_data_o (rd_data),
    .empty_o   (empty),
    .room_o    (room)
  );

  always #5 clk = !clk;

  // Watchdog: a stuck handshake fails instead of hanging.
  initial begin
    #(10 * 200000);
    $display("UNIT FAIL bramble_fifo W%0d D%0d M%0d: timeout (200000 clocks)",
             Width, Depth, Margin);
    $finish;
  end

  // Reference queue (a ring of 64 entries; Depth <= 32).
  reg [Width-1:0] q [0:63];
  integer q_head;
  integer q_count;

  integer seed;
  integer errors;
  integer cyc;
  // coverage
  integer n_full;
  integer n_empty;
  integer n_both;
  integer n_both_full;
  integer n_push;
  integer n_pop;
  integer n_late_full;

  // room_o history for the late producer (room_hist[i] = room_o i clocks ago).
  reg [31:0] room_hist;

  task fail;
    input [8*48-1:0] what;
    begin
      errors = errors + 1;
      if (errors <= 10) begin
        $write("UNIT FAIL bramble_fifo W%0d D%0d M%0d: clock %0d: %0s ", Width, Depth, Margin,
               cyc, what);
        $display("(count %0d, empty_o %b, room_o %b, rd_data_o %h, expected %h)", q_count,
                 empty, room, rd_data, q[q_head]);
      end
    end
  endtask

  // Compare the outputs with the model (after the clock edge has settled).
  task check;
    begin
      if (empty !== (q_count == 0)) fail("empty_o");
      if (room !== (q_count <= Depth - Margin)) fail("room_o");
      if (q_count > 0 && rd_data !== q[q_head]) fail("rd_data_o");
      if (q_count == Depth) n_full = n_full + 1;
      if (q_count == 0) n_empty = n_empty + 1;
    end
  endtask

  // One clock: present (push, data, pop), update the model at the edge, check.
  task step;
    input             push;
    input [Width-1:0] data;
    input             pop;
    reg               popped;
    begin
      wr_en   = push;
      wr_data = data;
      rd_en   = pop;
      popped  = pop && (q_count > 0);
      if (push && !popped && q_count == Depth) fail("push into a full FIFO (TB bug)");
      if (push && popped) n_both = n_both + 1;
      if (push && popped && q_count == Depth) n_both_full = n_both_full + 1;
      @(posedge clk);
      #1;
      if (popped) begin
        q_head  = (q_head + 1) % 64;
        q_count = q_count - 1;
        n_pop   = n_pop + 1;
      end
      if (push) begin
        q[(q_head + q_count) % 64] = data;
        q_count = q_count + 1;
        n_push  = n_push + 1;
      end
      room_hist = {room_hist[30:0], room};
      cyc = cyc + 1;
      check;
    end
  endtask

  // Random traffic: push with probability push_pct, pop with pop_pct (a push that would
  // overflow is dropped, since that is a caller bug by contract).
  task traffic;
    input integer clocks;
    input integer push_pct;
    input integer pop_pct;
    integer i;
    reg p;
    reg r;
    begin
      for (i = 0; i < clocks; i = i + 1) begin
        p = ({$random(seed)} % 100) < push_pct;
        r = ({$random(seed)} % 100) < pop_pct;
        if (p && q_count == Depth && !r) p = 1'b0;
        step(p, $random(seed), r);
      end
    end
  endtask

  // The Margin contract: push whenever room_o was high Margin - 1 clocks ago.
  task late_producer;
    input integer clocks;
    input integer pop_pct;
    integer i;
    reg p;
    reg r;
    reg over;
    begin
      for (i = 0; i < clocks; i = i + 1) begin
        p    = room_hist[Margin-1];
        r    = ({$random(seed)} % 100) < pop_pct;
        over = p && !(r && q_count > 0) && q_count == Depth;
        if (over) fail("late producer overflows (room_o too late)");
        if (q_count == Depth) n_late_full = n_late_full + 1;
        step(p && !over, $random(seed), r);
      end
    end
  endtask

  initial begin
    seed        = Seed;
    errors      = 0;
    cyc         = 0;
    q_head      = 0;
    q_count     = 0;
    n_full      = 0;
    n_empty     = 0;
    n_both      = 0;
    n_both_full = 0;
    n_push      = 0;
    n_pop       = 0;
    n_late_full = 0;
    room_hist   = 32'hFFFF_FFFF;
    repeat (3) @(posedge clk);
    #1;
    check;
    rst_n = 1'b1;
    // pops on an empty FIFO are ignored
    step(1'b0, {Width{1'b0}}, 1'b1);
    step(1'b1, {Width{1'b1}}, 1'b1);   // push + pop while empty: only the push happens
    step(1'b0, {Width{1'b0}}, 1'b1);
    traffic(Clocks / 6, 50, 50);
    traffic(Clocks / 6, 90, 20);      // fill up: full corner, push + pop while full
    traffic(Clocks / 12, 100, 100);   // push + pop every clock (full or not)
    traffic(Clocks / 6, 20, 90);      // drain: empty corner
    traffic(Clocks / 12, 70, 70);
    // fill to exactly full, then push + pop while full, then drain to empty
    while (q_count < Depth) step(1'b1, $random(seed), 1'b0);
    traffic(40, 100, 100);
    while (q_count > 0) step(1'b0, {Width{1'b0}}, 1'b1);
    step(1'b1, $random(seed), 1'b0);   // one entry: push + pop at count 1
    step(1'b1, $random(seed), 1'b1);
    step(1'b0, {Width{1'b0}}, 1'b1);
    late_producer(Clocks / 6, 10);
    late_producer(Clocks / 12, 0);
    late_producer(Clocks / 12, 60);
    wr_en = 1'b0;
    rd_en = 1'b0;

    if (n_full == 0 || n_empty == 0 || n_both == 0 || n_both_full == 0 || n_late_full == 0) begin
      $write("UNIT FAIL bramble_fifo W%0d D%0d M%0d: coverage ", Width, Depth, Margin);
      $display("(full %0d, empty %0d, push+pop %0d, push+pop full %0d, late producer full %0d)",
               n_full, n_empty, n_both, n_both_full, n_late_full);
      errors = errors + 1;
    end
    if (errors == 0) begin
      $write("UNIT PASS bramble_fifo W%0d D%0d M%0d: %0d clocks, %0d pushes, %0d pops, ",
             Width, Depth, Margin, cyc, n_push, n_pop);
      $display("full %0d, empty %0d, push+pop %0d (%0d while full, %0d late producer full)",
               n_full, n_empty, n_both, n_both_full, n_late_full);
    end else begin
      $display("UNIT FAIL bramble_fifo W%0d D%0d M%0d: %0d errors", Width, Depth, Margin, errors);
    end
    $finish;
  end

endmodule

`resetall
