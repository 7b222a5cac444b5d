// bramble_axis_in_tb: unit testbench of bramble_axis_in (generator/tests/units.rs runs it).
//
// Vectors of random activations are packed into beats (bramble_abi::stream: lanes of LaneBits,
// sign-extended, little-endian, unused lanes of a vector's last beat zero) and driven with
// random TVALID gaps and a random open_i (the controller's "a new vector may start"). Every
// write is checked against the packing rule: activation j of vector v into bank j mod NumPes,
// row j div NumPes, half v mod 2, value sign-extended from ActBits, exactly once and in order.
// Also: done_o once per vector with its half, framing_o exactly for a stray TLAST, TREADY low
// at a vector boundary while open_i is low, and the rate (with TVALID always high and open_i
// high, one activation per clock plus at most one clock per vector). Prints
// `UNIT PASS bramble_axis_in ...` or `UNIT FAIL bramble_axis_in ...`.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_axis_in_tb #(
  parameter integer NumPes    = 3,
  parameter integer ActBits   = 12,
  parameter integer TdataBits = 32,
  parameter integer LaneBits  = 16,
  parameter integer InSize    = 7,
  parameter integer RowBits   = 3,
  parameter integer Seed      = 1
);

  localparam integer Lanes   = TdataBits / LaneBits;
  localparam integer Beats   = (InSize + Lanes - 1) / Lanes;
  localparam integer Vectors = 40;

  reg                  clk = 1'b0;
  reg                  rst_n;
  reg  [TdataBits-1:0] tdata = {TdataBits{1'b0}};
  reg                  tvalid = 1'b0;
  wire                 tready;
  reg                  tlast = 1'b0;
  reg                  open = 1'b0;
  reg                  half = 1'b0;
  wire                 beat;
  wire                 first;
  wire                 done;
  wire                 done_half;
  wire                 framing;
  wire                 busy;
  wire [NumPes-1:0]    we;
  wire [RowBits-1:0]   row;
  wire                 whalf;
  wire [ActBits-1:0]   data;

  bramble_axis_in #(
    .NumPes    (NumPes),
    .ActBits   (ActBits),
    .TdataBits (TdataBits),
    .LaneBits  (LaneBits),
    .InSize    (InSize),
    .RowBits   (RowBits)
  ) u_dut (
    .clk_i           (clk),
    .rst_ni          (rst_n),
    .s_axis_tdata_i  (tdata),
    .s_axis_tvalid_i (tvalid),
    .s_axis_tready_o (tready),
    .s_axis_tlast_i  (tlast),
    .open_i          (open),
    .block_i         (1'b0),
    .half_i          (half),
    .beat_o          (beat),
    .first_o         (first),
    .done_o          (done),
    .done_half_o     (done_half),
    .framing_o       (framing),
    .busy_o          (busy),
    .we_o            (we),
    .row_o           (row),
    .half_o          (whalf),
    .data_o          (data)
  );

  always #5 clk = !clk;

  integer cyc = 0;
  always @(posedge clk) cyc <= cyc + 1;

  initial begin
    #(10 * 100000);
    $display("UNIT FAIL bramble_axis_in: timeout");
    $finish;
  end

  reg [ActBits-1:0] vals [0:Vectors*InSize-1];
  integer seed;
  integer errors;
  integer beat_n;      // beats handed over
  integer wr_n;        // activations written
  integer done_n;
  integer fr_n;
  integer fr_want;
  integer vpct;
  reg     always_on;
  reg     hs;
  integer k;
  integer j;
  integer v;
  integer t0;
  integer t1;
  integer tk;
  reg [ActBits-1:0] want;

  // Driver and checks, all just after the falling edge (the DUT's outputs are stable there).
  always @(negedge clk) begin
    if (rst_n) begin
      // open_i reaches TREADY combinationally: change it, then let it settle.
      open = always_on || ({$random(seed)} % 100 < 70);
      #1;
      if (hs) begin
        // The controller's half pointer toggles with every vector's first beat.
        if (beat_n % Beats == 0) half = !half;
        beat_n = beat_n + 1;
        tvalid = 1'b0;
        tlast  = 1'b0;
      end
      // Writes of the clock that just ended are visible until the next rising edge.
      if (we != {NumPes{1'b0}}) begin
        v    = wr_n / InSize;
        j    = wr_n % InSize;
        want = vals[wr_n];
        if (we != ({{(NumPes-1){1'b0}}, 1'b1} << (j % NumPes)) || row != j / NumPes ||
            whalf != v % 2 || data != want) begin
          $display("UNIT FAIL bramble_axis_in: write %0d (vector %0d, activation %0d): we %b row %0d half %0d data %0h, expected bank %0d row %0d half %0d data %0h",
                   wr_n, v, j, we, row, whalf, data, j % NumPes, j / NumPes, v % 2, want);
          errors = errors + 1;
        end
        if (wr_n == 0) t0 = cyc;
        t1   = cyc;
        wr_n = wr_n + 1;
      end
      if (done) begin
        if (done_half != done_n % 2) begin
          $display("UNIT FAIL bramble_axis_in: done %0d for half %0d", done_n, done_half);
          errors = errors + 1;
        end
        done_n = done_n + 1;
      end
      if (framing) fr_n = fr_n + 1;
      if (!busy && !open && tready) begin
        $display("UNIT FAIL bramble_axis_in: TREADY at a vector boundary without open_i");
        errors = errors + 1;
      end
      if (!tvalid && beat_n < Vectors * Beats && (always_on || {$random(seed)} % 100 < vpct)) begin
        tdata = {TdataBits{1'b0}};
        for (k = 0; k < Lanes; k = k + 1) begin
          j = (beat_n % Beats) * Lanes + k;
          if (j < InSize) begin
            tdata[k*LaneBits +: LaneBits] =
              {{(LaneBits-ActBits+1){vals[(beat_n / Beats) * InSize + j][ActBits-1]}},
               vals[(beat_n / Beats) * InSize + j][ActBits-2:0]};
          end
        end
        // A stray TLAST on beat 0 of vector 3 (when vectors have more beats), and the DMA's
        // TLAST on the very last beat.
        tlast  = (beat_n == Vectors * Beats - 1) || (Beats > 1 && beat_n == 3 * Beats);
        tvalid = 1'b1;
      end
      hs = tvalid && tready;
    end
  end

  initial begin
    rst_n     = 1'b0;
    seed      = Seed;
    errors    = 0;
    beat_n    = 0;
    wr_n      = 0;
    done_n    = 0;
    fr_n      = 0;
    hs        = 1'b0;
    vpct      = 60;
    always_on = 1'b0;
    t0        = 0;
    t1        = 0;
    fr_want   = (Beats > 1) ? 1 : 0;
    for (k = 0; k < Vectors * InSize; k = k + 1) begin
      vals[k] = $random(seed);
    end
    repeat (3) @(negedge clk);
    rst_n = 1'b1;
    // Random gaps for the first half, then TVALID and open_i always high (rate check).
    wait (beat_n >= (Vectors / 2) * Beats);
    always_on = 1'b1;
    wait (wr_n >= (Vectors / 2) * InSize);
    @(negedge clk);
    tk = cyc;
    wait (wr_n == Vectors * InSize);
    repeat (5) @(negedge clk);
    $display("UNIT INFO bramble_axis_in: %0d clocks for the last %0d vectors", t1 - tk, Vectors / 2);
    if (t1 - tk > Vectors / 2 * (InSize + 1) + 4) begin
      $display("UNIT FAIL bramble_axis_in: %0d clocks for %0d vectors at full rate",
               t1 - tk, Vectors / 2);
      errors = errors + 1;
    end
    if (done_n != Vectors || fr_n != fr_want || busy) begin
      $display("UNIT FAIL bramble_axis_in: %0d done, %0d framing (want %0d), busy %0d",
               done_n, fr_n, fr_want, busy);
      errors = errors + 1;
    end
    if (errors == 0) begin
      $display("UNIT PASS bramble_axis_in N%0d A%0d T%0d L%0d in%0d: %0d vectors, %0d writes",
               NumPes, ActBits, TdataBits, LaneBits, InSize, done_n, wr_n);
    end else begin
      $display("UNIT FAIL bramble_axis_in: %0d errors", errors);
    end
    $finish;
  end

endmodule

`resetall
