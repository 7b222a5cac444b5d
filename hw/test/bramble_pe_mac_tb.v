// bramble_pe_mac_tb: unit testbench of bramble_pe_mac and its forwarding (generator/tests/
// units.rs runs it, in a directory holding the codebook image CbFile).
//
// Per round: pick a layer, clear every accumulator row through wb_clr_* (the memory starts
// uninitialised), push items (row, codebook index, activation) through the two item inputs in
// phases that make the read-after-write hazards happen (the same row back to back, two and
// three clocks apart, across a bubble, alternating lanes, both lanes valid at once, random
// traffic on few and on all rows), then read every row through wb_rd_* from the first clock
// busy_o is low and compare with a reference sum (activation x codebook entry, both signed,
// modulo 2^AccBits). Also checks the pop contract: one pop per clock, lane 0 first, a pop
// whenever an item is valid. The reference codebook is read from the same image. Prints
// `UNIT PASS bramble_pe_mac ...` or `UNIT FAIL bramble_pe_mac ...`.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_pe_mac_tb #(
  parameter integer ActBits   = 16,
  parameter integer IdxBits   = 4,
  parameter integer CbBits    = 16,
  parameter integer AccBits   = 40,
  parameter integer LayerBits = 1,
  parameter integer CbDepth   = 32,
  parameter integer CbBlock   = 0,
  parameter         CbFile    = "cb.mem",
  parameter integer AccDepth  = 16,
  parameter integer RowBits   = 4,
  parameter integer AccBlock  = 1,
  parameter integer Rounds    = 12,
  parameter integer Seed      = 1
);

  localparam integer ItemBits = RowBits + IdxBits + ActBits;
  localparam integer Layers   = CbDepth >> IdxBits;
  localparam integer QLen     = 1024;

  reg                  clk = 1'b0;
  reg                  rst_n = 1'b0;
  reg  [LayerBits-1:0] layer = {LayerBits{1'b0}};
  reg                  item0_valid = 1'b0;
  reg  [ItemBits-1:0]  item0 = {ItemBits{1'b0}};
  wire                 item0_pop;
  reg                  item1_valid = 1'b0;
  reg  [ItemBits-1:0]  item1 = {ItemBits{1'b0}};
  wire                 item1_pop;
  reg                  wb_rd_en = 1'b0;
  reg  [RowBits-1:0]   wb_rd_row = {RowBits{1'b0}};
  wire [AccBits-1:0]   wb_rd_data;
  reg                  wb_clr_en = 1'b0;
  reg  [RowBits-1:0]   wb_clr_row = {RowBits{1'b0}};
  wire                 busy;

  bramble_pe_mac #(
    .ActBits   (ActBits),
    .IdxBits   (IdxBits),
    .CbBits    (CbBits),
    .AccBits   (AccBits),
    .LayerBits (LayerBits),
    .CbDepth   (CbDepth),
    .CbBlock   (CbBlock),
    .CbFile    (CbFile),
    .AccDepth  (AccDepth),
    .RowBits   (RowBits),
    .AccBlock  (AccBlock)
  ) u_dut (
    .clk_i         (clk),
    .rst_ni        (rst_n),
    .cb_wr_en_i    (1'b0),
    .cb_wr_addr_i  ({(LayerBits+IdxBits){1'b0}}),
    .cb_wr_data_i  ({CbBits{1'b0}}),
    .layer_i       (layer),
    .item0_valid_i (item0_valid),
    .item0_i       (item0),
    .item0_pop_o   (item0_pop),
    .item1_valid_i (item1_valid),
    .item1_i       (item1),
    .item1_pop_o   (item1_pop),
    .wb_rd_en_i    (wb_rd_en),
    .wb_rd_row_i   (wb_rd_row),
    .wb_rd_data_o  (wb_rd_data),
    .wb_clr_en_i   (wb_clr_en),
    .wb_clr_row_i  (wb_clr_row),
    .busy_o        (busy)
  );

  always #5 clk = !clk;

  // Watchdog: a stuck handshake fails instead of hanging.
  initial begin
    #(10 * 200000);
    $display("UNIT FAIL bramble_pe_mac A%0d C%0d Acc%0d: timeout (200000 clocks)",
             ActBits, CbBits, AccBits);
    $finish;
  end

  reg [CbBits-1:0] cb [0:CbDepth-1];
  initial $readmemh(CbFile, cb);

  // Reference accumulators (low AccBits bits used).
  reg [63:0] acc_ref [0:AccDepth-1];

  // The two item queues.
  reg [ItemBits-1:0] q0 [0:QLen-1];
  reg [ItemBits-1:0] q1 [0:QLen-1];
  integer h0;
  integer n0;
  integer h1;
  integer n1;
  integer gate_mode;   // 0 both always, 1 random, 2 lane 0 even / lane 1 odd clocks, 3 sparse

  integer seed;
  integer errors;
  integer cyc;
  // processed rows of the last clocks (hist_vld[i]: an item was popped i + 1 clocks ago)
  reg [RowBits-1:0] hist_row [0:2];
  reg [2:0]         hist_vld;
  reg               last_lane;
  integer           last_row;   // row of the last item popped
  integer c_d1;
  integer c_d1_switch;
  integer c_d2;
  integer c_d3;
  integer c_items;
  integer c_wait1;

  task fail;
    input [8*48-1:0] what;
    input [63:0]     got;
    input [63:0]     exp;
    begin
      errors = errors + 1;
      if (errors <= 10) begin
        $write("UNIT FAIL bramble_pe_mac A%0d C%0d Acc%0d: clock %0d, layer %0d: ",
               ActBits, CbBits, AccBits, cyc, layer);
        $display("%0s (got %h, expected %h)", what, got, exp);
      end
    end
  endtask

  function [63:0] product;
    input [ActBits-1:0] a;
    input [CbBits-1:0]  b;
    reg signed [63:0]   sa;
    reg signed [63:0]   sb;
    begin
      sa = {{(64-ActBits){a[ActBits-1]}}, a};
      sb = {{(64-CbBits){b[CbBits-1]}}, b};
      product = sa * sb;
    end
  endfunction

  function [63:0] acc_mask;
    input [63:0] v;
    begin
      acc_mask = (AccBits >= 64) ? v : (v & ((64'd1 << AccBits) - 64'd1));
    end
  endfunction

  // Monitor: pops, reference sums, hazard coverage.
  always @(posedge clk) begin : monitor
    reg [ItemBits-1:0] it;
    reg [RowBits-1:0]  r;
    reg                popped;
    reg                lane;
    if (rst_n) begin
      if (item0_pop !== item0_valid) fail("item0_pop_o", item0_pop, item0_valid);
      if (item1_pop !== (item1_valid && !item0_valid)) fail("item1_pop_o", item1_pop, item1_valid);
      if (item0_valid && item1_valid) c_wait1 = c_wait1 + 1;
      popped = 1'b0;
      lane   = 1'b0;
      it     = {ItemBits{1'b0}};
      if (item0_valid) begin
        it = item0;
        popped = 1'b1;
        h0 = h0 + 1;
      end else if (item1_valid) begin
        it = item1;
        popped = 1'b1;
        lane = 1'b1;
        h1 = h1 + 1;
      end
      if (popped) begin
        r = it[ItemBits-1:IdxBits+ActBits];
        acc_ref[r] = acc_mask(acc_ref[r] +
                              product(it[ActBits-1:0], cb[{layer, it[IdxBits+ActBits-1:ActBits]}]));
        c_items = c_items + 1;
        if (hist_vld[0] && hist_row[0] == r) begin
          c_d1 = c_d1 + 1;
          if (last_lane != lane) c_d1_switch = c_d1_switch + 1;
        end
        if (hist_vld[1] && hist_row[1] == r) c_d2 = c_d2 + 1;
        if (hist_vld[2] && hist_row[2] == r) c_d3 = c_d3 + 1;
        last_lane = lane;
        last_row  = r;
      end
      hist_row[2] = hist_row[1];
      hist_row[1] = hist_row[0];
      hist_row[0] = r;
      hist_vld    = {hist_vld[1:0], popped};
    end
    cyc = cyc + 1;
  end

  // Drive the queue heads after every edge.
  always @(negedge clk) begin : drive
    reg g0;
    reg g1;
    case (gate_mode)
      0: begin g0 = 1'b1; g1 = 1'b1; end
      1: begin g0 = ({$random(seed)} % 100) < 60; g1 = ({$random(seed)} % 100) < 60; end
      2: begin g0 = (cyc % 2 == 0); g1 = (cyc % 2 == 1); end
      3: begin g0 = ({$random(seed)} % 100) < 30; g1 = 1'b0; end
      default: begin g0 = 1'b1; g1 = 1'b1; end
    endcase
    item0_valid = (h0 < n0) && g0;
    item1_valid = (h1 < n1) && g1;
    item0 = item0_valid ? q0[h0 % QLen] : $random(seed);
    item1 = item1_valid ? q1[h1 % QLen] : $random(seed);
  end

  function [ActBits-1:0] rand_act;
    input integer dummy;
    begin
      case ({$random(seed)} % 6)
        0: rand_act = {1'b1, {(ActBits-1){1'b0}}};
        1: rand_act = {1'b0, {(ActBits-1){1'b1}}};
        2: rand_act = {ActBits{1'b1}};
        default: rand_act = $random(seed);
      endcase
    end
  endfunction

  function [ItemBits-1:0] mk;
    input integer row;
    input integer dummy;
    reg [IdxBits-1:0] k;
    begin
      k  = $random(seed);
      mk = {row[RowBits-1:0], k, rand_act(0)};
    end
  endfunction

  // Queue one item on a lane.
  task push;
    input integer lane;
    input integer row;
    begin
      if (lane == 0) begin
        q0[n0 % QLen] = mk(row, 0);
        n0 = n0 + 1;
      end else begin
        q1[n1 % QLen] = mk(row, 0);
        n1 = n1 + 1;
      end
    end
  endtask

  task run_until_empty;
    begin
      while (h0 < n0 || h1 < n1) @(negedge clk);
    end
  endtask

  // One phase of items (kind selects the pattern), run until the queues are empty.
  task phase;
    input integer kind;
    integer i;
    integer ra;
    integer rb;
    begin
      ra = {$random(seed)} % AccDepth;
      rb = {$random(seed)} % AccDepth;
      if (rb == ra) rb = (ra + 1) % AccDepth;
      case (kind)
        0: begin   // the same row back to back on lane 0
          gate_mode = 0;
          for (i = 0; i < 12; i = i + 1) push(0, ra);
        end
        1: begin   // two apart: A B A B ...
          gate_mode = 0;
          for (i = 0; i < 12; i = i + 1) push(0, (i % 2) ? rb : ra);
        end
        2: begin   // the same row with random bubbles (two and three apart)
          gate_mode = 3;
          for (i = 0; i < 16; i = i + 1) push(0, ra);
        end
        3: begin   // alternating lanes, the same row
          gate_mode = 2;
          for (i = 0; i < 10; i = i + 1) begin
            push(0, ra);
            push(1, ra);
          end
        end
        4: begin   // both lanes valid: lane 0 first, then lane 1; rows A and B
          gate_mode = 0;
          for (i = 0; i < 8; i = i + 1) begin
            push(0, ra);
            push(1, (i % 3 == 0) ? ra : rb);
          end
        end
        5: begin   // random traffic on few rows
          gate_mode = 1;
          for (i = 0; i < 40; i = i + 1) begin
            push({$random(seed)} % 2, (ra + {$random(seed)} % 3) % AccDepth);
          end
        end
        default: begin   // random traffic on all rows
          gate_mode = ({$random(seed)} % 2) ? 0 : 1;
          for (i = 0; i < 40; i = i + 1) push({$random(seed)} % 2, {$random(seed)} % AccDepth);
        end
      endcase
      run_until_empty;
    end
  endtask

  // Read every row from the first clock busy_o is low, the last row written first (its write
  // lands at the end of the last busy clock); data one clock after each read.
  task read_all;
    integer i;
    integer r;
    integer first;
    begin
      while (busy !== 1'b0) @(negedge clk);
      first = last_row;
      for (i = 0; i <= AccDepth; i = i + 1) begin
        if (i > 0) begin
          r = (first + i - 1) % AccDepth;
          if (wb_rd_data !== acc_ref[r][AccBits-1:0]) begin
            fail("accumulator row (see the next line)", wb_rd_data, acc_ref[r]);
            if (errors <= 10) $display("  row %0d", r);
          end
        end
        wb_rd_en  = (i < AccDepth);
        wb_rd_row = (first + i) % AccDepth;
        @(negedge clk);
      end
      wb_rd_en = 1'b0;
    end
  endtask

  task clear_all;
    integer r;
    begin
      for (r = 0; r < AccDepth; r = r + 1) begin
        wb_clr_en  = 1'b1;
        wb_clr_row = r;
        acc_ref[r] = 64'd0;
        @(negedge clk);
      end
      wb_clr_en = 1'b0;
    end
  endtask

  integer round;
  integer p;
  initial begin
    seed        = Seed;
    errors      = 0;
    cyc         = 0;
    h0          = 0;
    n0          = 0;
    h1          = 0;
    n1          = 0;
    gate_mode   = 0;
    hist_vld    = 3'b000;
    hist_row[0] = {RowBits{1'b0}};
    hist_row[1] = {RowBits{1'b0}};
    hist_row[2] = {RowBits{1'b0}};
    last_lane   = 1'b0;
    last_row    = 0;
    c_d1        = 0;
    c_d1_switch = 0;
    c_d2        = 0;
    c_d3        = 0;
    c_items     = 0;
    c_wait1     = 0;
    repeat (3) @(negedge clk);
    rst_n = 1'b1;
    @(negedge clk);
    if (busy !== 1'b0) fail("busy_o after reset", busy, 0);
    for (round = 0; round < Rounds; round = round + 1) begin
      layer = round % Layers;
      clear_all;
      // every row reads zero after the clear
      read_all;
      // the first item after the clear on the row of the last item before it (a stale
      // forwarded sum would bring back the cleared value)
      gate_mode = 0;
      push(0, last_row);
      run_until_empty;
      // every kind once in a fixed order, then random kinds, without draining in between
      for (p = 0; p < 7; p = p + 1) phase(p);
      for (p = 0; p < 6; p = p + 1) phase({$random(seed)} % 7);
      read_all;
      // more items on the same sums: the accumulators keep their values between bursts
      phase(6);
      phase(0);
      read_all;
    end

    if (c_d1 == 0 || c_d1_switch == 0 || c_d2 == 0 || c_d3 == 0 || c_wait1 == 0) begin
      $write("UNIT FAIL bramble_pe_mac A%0d C%0d Acc%0d: coverage ", ActBits, CbBits, AccBits);
      $display("(same row 1 apart %0d, across lanes %0d, 2 apart %0d, 3 apart %0d, %0s %0d)",
               c_d1, c_d1_switch, c_d2, c_d3, "both lanes valid", c_wait1);
      errors = errors + 1;
    end
    if (errors == 0) begin
      $write("UNIT PASS bramble_pe_mac A%0d C%0d Acc%0d CbBlock%0d AccBlock%0d: ",
             ActBits, CbBits, AccBits, CbBlock, AccBlock);
      $display("%0d rounds, %0d items, same row 1 apart %0d (%0d across lanes), %0s %0d, %0s %0d",
               Rounds, c_items, c_d1, c_d1_switch, "2 apart", c_d2, "3 apart", c_d3);
    end else begin
      $display("UNIT FAIL bramble_pe_mac A%0d C%0d Acc%0d: %0d errors", ActBits, CbBits, AccBits,
               errors);
    end
    $finish;
  end

endmodule

`resetall
