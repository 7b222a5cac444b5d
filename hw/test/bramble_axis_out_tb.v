// bramble_axis_out_tb: unit testbench of bramble_axis_out (generator/tests/units.rs runs it).
//
// A model OUT buffer (two halves of random vectors, read data one clock after rd_en_o) and a
// controller model (avail_i while vectors wait, the half toggling with done_o, per-vector
// cycles and TLAST flags) feed the module; m_axis_tready_i is random (high 80%, then about
// half the time). Every beat is checked against the packing rule (bramble_abi::stream: lanes of
// LaneBits, sign-extended, little-endian, unused lanes zero), the cycles beat when cyc_beat_i,
// TLAST exactly on the final beat of a vector whose tlast_i was set, TVALID and TDATA held until
// the handshake, and the rate (TREADY always high: one activation per clock plus a few clocks
// per vector). Prints `UNIT PASS bramble_axis_out ...` or `UNIT FAIL bramble_axis_out ...`.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_axis_out_tb #(
  parameter integer NumPes    = 3,
  parameter integer ActBits   = 12,
  parameter integer TdataBits = 32,
  parameter integer LaneBits  = 16,
  parameter integer OutSize   = 7,
  parameter integer RowBits   = 3,
  parameter integer Seed      = 1
);

  localparam integer Lanes    = TdataBits / LaneBits;
  localparam integer Beats    = (OutSize + Lanes - 1) / Lanes;
  localparam integer Rows     = (OutSize + NumPes - 1) / NumPes;
  localparam integer Vectors  = 40;

  reg                         clk = 1'b0;
  reg                         rst_n;
  wire [TdataBits-1:0]        tdata;
  wire                        tvalid;
  reg                         tready;
  wire                        tlast;
  reg                         avail;
  reg                         half;
  reg                         cyc_beat;
  reg  [TdataBits-1:0]        cycles;
  reg                         tl;
  wire                        beat;
  wire                        done;
  wire                        busy;
  wire                        rd_en;
  wire [RowBits-1:0]          rd_row;
  wire                        rd_half;
  reg  [NumPes*ActBits-1:0]   lanes;

  bramble_axis_out #(
    .NumPes    (NumPes),
    .ActBits   (ActBits),
    .TdataBits (TdataBits),
    .LaneBits  (LaneBits),
    .OutSize   (OutSize),
    .RowBits   (RowBits)
  ) u_dut (
    .clk_i           (clk),
    .rst_ni          (rst_n),
    .m_axis_tdata_o  (tdata),
    .m_axis_tvalid_o (tvalid),
    .m_axis_tready_i (tready),
    .m_axis_tlast_o  (tlast),
    .avail_i         (avail),
    .half_i          (half),
    .cyc_beat_i      (cyc_beat),
    .cycles_i        (cycles),
    .tlast_i         (tl),
    .beat_o          (beat),
    .done_o          (done),
    .busy_o          (busy),
    .rd_en_o         (rd_en),
    .rd_row_o        (rd_row),
    .rd_half_o       (rd_half),
    .lanes_i         (lanes)
  );

  always #5 clk = !clk;

  integer cyc = 0;
  always @(posedge clk) cyc <= cyc + 1;

  initial begin
    #(10 * 100000);
    $display("UNIT FAIL bramble_axis_out: timeout");
    $finish;
  end

  reg [ActBits-1:0] vals [0:Vectors*OutSize-1];
  reg               tls  [0:Vectors-1];
  reg               cbs  [0:Vectors-1];

  // The OUT buffer: vector v sits in half v mod 2 while it is being sent.
  integer sent;       // vectors sent (done_o)
  integer b;
  integer j;
  always @(posedge clk) begin
    if (rd_en) begin
      for (b = 0; b < NumPes; b = b + 1) begin
        j = rd_row * NumPes + b;
        lanes[b*ActBits +: ActBits] <= (rd_half != sent % 2) ? {ActBits{1'bx}} :
                                       ((j < OutSize) ? vals[sent * OutSize + j] : {ActBits{1'b1}});
      end
    end
  end

  integer seed;
  integer errors;
  integer rpct;
  integer bt;         // beat within the vector
  integer k;
  integer o;
  integer t0;
  integer t1;
  integer tk;
  reg                 waiting;
  reg [TdataBits-1:0] prev;
  reg [TdataBits-1:0] want;
  reg                 want_last;
  integer             last_bt;

  always @(negedge clk) begin
    if (rst_n) begin
      if (waiting && (!tvalid || tdata !== prev)) begin
        $display("UNIT FAIL bramble_axis_out: TVALID/TDATA changed without a handshake");
        errors = errors + 1;
      end
      tready  = (rpct >= 100) || ({$random(seed)} % 100 < rpct);
      #1;
      waiting = tvalid && !tready;
      prev    = tdata;
      if (tvalid && tready) begin
        if (sent == Vectors / 2 && bt == 0) t0 = cyc;
        t1        = cyc;
        last_bt   = Beats - (cbs[sent] ? 0 : 1);
        want_last = (bt == last_bt) && tls[sent];
        if (bt < Beats) begin
          want = {TdataBits{1'b0}};
          for (k = 0; k < Lanes; k = k + 1) begin
            o = bt * Lanes + k;
            if (o < OutSize) begin
              want[k*LaneBits +: LaneBits] =
                {{(LaneBits-ActBits+1){vals[sent * OutSize + o][ActBits-1]}},
                 vals[sent * OutSize + o][ActBits-2:0]};
            end
          end
        end else begin
          want = sent * 1000 + 7;
        end
        if (tdata !== want || tlast !== want_last) begin
          $display("UNIT FAIL bramble_axis_out: vector %0d beat %0d: %h last %0d, expected %h last %0d",
                   sent, bt, tdata, tlast, want, want_last);
          errors = errors + 1;
        end
        if (bt == last_bt) begin
          bt = 0;
          if (!done) begin
            $display("UNIT FAIL bramble_axis_out: no done_o with vector %0d's final beat", sent);
            errors = errors + 1;
          end
        end else begin
          bt = bt + 1;
        end
      end
    end
  end

  // Controller model: done_o ends a vector at the next rising edge.
  always @(posedge clk) begin
    if (done) begin
      sent    <= sent + 1;
      half    <= !half;
      cycles  <= (sent + 1) * 1000 + 7;
      tl      <= tls[sent + 1 < Vectors ? sent + 1 : 0];
      cyc_beat <= cbs[sent + 1 < Vectors ? sent + 1 : 0];
      avail   <= (sent + 1 < Vectors);
    end
  end

  initial begin
    rst_n    = 1'b0;
    seed     = Seed;
    errors   = 0;
    rpct     = 80;
    bt       = 0;
    sent     = 0;
    waiting  = 1'b0;
    prev     = {TdataBits{1'b0}};
    tready   = 1'b0;
    t0       = 0;
    t1       = 0;
    lanes    = {(NumPes*ActBits){1'b0}};
    for (k = 0; k < Vectors * OutSize; k = k + 1) begin
      vals[k] = $random(seed);
    end
    for (k = 0; k < Vectors; k = k + 1) begin
      tls[k] = ($random(seed) % 3 == 0);
      // Cycles beats on a stretch in the middle (cyc_beat_i is sampled at a vector's start).
      cbs[k] = (k >= 8 && k < 16) || (k >= 30);
    end
    half     = 1'b0;
    cycles   = 7;
    tl       = tls[0];
    cyc_beat = cbs[0];
    avail    = 1'b1;
    repeat (3) @(negedge clk);
    rst_n = 1'b1;
    wait (sent == 10);
    rpct = 50;
    wait (sent == 20);
    rpct = 100;
    wait (sent == 30);
    tk = t1 - t0;
    if (tk > 10 * (OutSize + 8)) begin  // a few clocks of pipeline per vector
      $display("UNIT FAIL bramble_axis_out: %0d clocks for 10 vectors with TREADY high", tk);
      errors = errors + 1;
    end
    wait (sent == Vectors);
    repeat (5) @(negedge clk);
    if (busy || tvalid) begin
      $display("UNIT FAIL bramble_axis_out: still busy after the last vector");
      errors = errors + 1;
    end
    $display("UNIT INFO bramble_axis_out: %0d clocks for 10 vectors of %0d at full rate", tk,
             OutSize);
    if (errors == 0) begin
      $display("UNIT PASS bramble_axis_out N%0d A%0d T%0d L%0d out%0d: %0d vectors",
               NumPes, ActBits, TdataBits, LaneBits, OutSize, sent);
    end else begin
      $display("UNIT FAIL bramble_axis_out: %0d errors", errors);
    end
    $finish;
  end

endmodule

`resetall
