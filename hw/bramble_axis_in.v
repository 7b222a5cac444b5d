// bramble_axis_in: the AXI4-Stream input: beats -> one activation per clock into the IN buffer.
//
// Activations arrive packed as bramble_abi::stream says: Lanes = TdataBits / LaneBits lanes per
// beat, activation b * Lanes + k in lane k of beat b (little-endian), sign-extended (the low
// ActBits of a lane are the activation), each vector starting a new beat. Vectors are framed
// by count: InBeats = ceil(InSize / Lanes) beats each; TLAST is not needed, and a TLAST on a
// beat that does not end a vector is reported on framing_o (and otherwise ignored).
//
// An accepted beat sits in a holding register that shifts one lane per clock; activation j of
// the vector is written into bank j mod NumPes at row j div NumPes of half half_q (a one-hot
// bank and a row counter: no divider). s_axis_tready_o is high while the holder is empty or
// writes its last lane, and, at a vector boundary, while open_i (the controller: RUN, the next
// half free, no START run) and not block_i; the clock after a vector's last beat it is low, so
// open_i (registered) has caught up with the half just taken. The half to fill is half_i,
// latched with a vector's first beat.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_axis_in #(
  // Banks (the PE count) and bits of an activation.
  parameter integer NumPes    = 1,
  parameter integer ActBits   = 16,
  // TDATA bits (32 or 64) and lane bits (8 or 16, >= ActBits).
  parameter integer TdataBits = 32,
  parameter integer LaneBits  = 16,
  // Activations per input vector.
  parameter integer InSize    = 1,
  // Bits of a buffer row within a half.
  parameter integer RowBits   = 4
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,

  input  wire [TdataBits-1:0] s_axis_tdata_i,
  input  wire                 s_axis_tvalid_i,
  output wire                 s_axis_tready_o,
  input  wire                 s_axis_tlast_i,

  // from the controller
  input  wire                 open_i,      // a new vector may start
  input  wire                 block_i,     // a START run is about to begin: no beat this clock
  input  wire                 half_i,      // the IN half the next vector goes to

  // events
  output wire                 beat_o,      // a beat was accepted (combinational)
  output wire                 first_o,     // ... and it is a vector's first (combinational)
  output wire                 done_o,      // a vector's last activation was written (registered)
  output wire                 done_half_o, // ... into this half
  output wire                 framing_o,   // TLAST on a beat that does not end a vector (registered)
  output wire                 busy_o,      // a vector is being received

  // IN buffer writes
  output wire [NumPes-1:0]    we_o,
  output wire [RowBits-1:0]   row_o,
  output wire                 half_o,
  output wire [ActBits-1:0]   data_o
);

  localparam integer Lanes     = TdataBits / LaneBits;
  localparam integer InBeats   = (InSize + Lanes - 1) / Lanes;
  localparam integer LastLanes = InSize - (InBeats - 1) * Lanes;
  localparam integer BeatBits  = (InBeats <= 2) ? 1 : $clog2(InBeats);
  localparam integer LaneCnt   = 4;   // bits of a lane count (Lanes <= 8)

  initial begin
    if ((TdataBits != 32 && TdataBits != 64) || (LaneBits != 8 && LaneBits != 16) ||
        ActBits > LaneBits || InSize < 1 || NumPes < 1) begin
      $display("bramble_axis_in: inconsistent parameters");
      $finish;
    end
  end

  reg                 mid_q;     // beats of the current vector are still to come
  reg [BeatBits-1:0]  bidx_q;    // index of the next beat within its vector
  reg                 blast_q;   // the next beat is its vector's last
  reg                 gap_q;     // the clock after a vector's last beat
  reg                 hold_q;    // the holder has lanes to write
  reg [TdataBits-1:0] data_q;    // the holder, current lane at the bottom
  reg [LaneCnt-1:0]   lleft_q;   // lanes left in the holder
  reg                 hlast_q;   // the holder writes its last lane now
  reg                 hvlast_q;  // the holder carries its vector's last beat
  reg [NumPes-1:0]    bank_q;    // one-hot bank of the next activation
  reg [RowBits-1:0]   row_q;
  reg                 half_q;
  reg                 done_q;
  reg                 done_half_q;
  reg                 framing_q;

  wire ready = !gap_q && !block_i && (mid_q || open_i) && (!hold_q || hlast_q);
  wire hs    = s_axis_tvalid_i && ready;
  wire vend  = hold_q && hlast_q && hvlast_q;   // the vector's last activation is written now

  wire [LaneCnt-1:0]  load_lanes = blast_q ? LastLanes[LaneCnt-1:0] : Lanes[LaneCnt-1:0];
  localparam [NumPes-1:0] Bank0 = 1;
  localparam integer  BeatM2     = (InBeats >= 2) ? InBeats - 2 : 0;

  // The one-hot bank, rotated by one.
  wire [NumPes-1:0] bank_rot;
  generate
    if (NumPes > 1) begin : gen_rot
      assign bank_rot = {bank_q[NumPes-2:0], bank_q[NumPes-1]};
    end else begin : gen_no_rot
      assign bank_rot = bank_q;
    end
  endgenerate

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      mid_q     <= 1'b0;
      bidx_q    <= {BeatBits{1'b0}};
      blast_q   <= (InBeats == 1);
      gap_q     <= 1'b0;
      hold_q    <= 1'b0;
      data_q    <= {TdataBits{1'b0}};
      lleft_q   <= {LaneCnt{1'b0}};
      hlast_q   <= 1'b0;
      hvlast_q  <= 1'b0;
      bank_q    <= Bank0;
      row_q     <= {RowBits{1'b0}};
      half_q    <= 1'b0;
      done_q    <= 1'b0;
      done_half_q <= 1'b0;
      framing_q <= 1'b0;
    end else begin
      done_half_q <= half_q;
      gap_q     <= hs && blast_q;
      done_q    <= vend;
      framing_q <= hs && s_axis_tlast_i && !blast_q;

      // Beats
      if (hs) begin
        mid_q   <= !blast_q;
        bidx_q  <= blast_q ? {BeatBits{1'b0}} : bidx_q + 1'b1;
        blast_q <= blast_q ? (InBeats == 1) : (bidx_q == BeatM2[BeatBits-1:0]);
        if (!mid_q) begin
          half_q <= half_i;
        end
      end

      // Holder: load a beat, or shift one lane out per clock
      if (hs) begin
        hold_q   <= 1'b1;
        data_q   <= s_axis_tdata_i;
        lleft_q  <= load_lanes;
        hlast_q  <= (load_lanes == {{(LaneCnt-1){1'b0}}, 1'b1});
        hvlast_q <= blast_q;
      end else if (hold_q) begin
        hold_q  <= !hlast_q;
        data_q  <= data_q >> LaneBits;
        lleft_q <= lleft_q - 1'b1;
        hlast_q <= (lleft_q == {{(LaneCnt-2){1'b0}}, 2'd2});
      end

      // Destination of the next activation
      if (vend) begin
        bank_q <= Bank0;
        row_q  <= {RowBits{1'b0}};
      end else if (hold_q) begin
        if (bank_q[NumPes-1]) begin
          row_q <= row_q + 1'b1;
        end
        bank_q <= bank_rot;
      end
    end
  end

  assign s_axis_tready_o = ready;
  assign beat_o    = hs;
  assign first_o   = hs && !mid_q;
  assign done_o    = done_q;
  assign done_half_o = done_half_q;
  assign framing_o = framing_q;
  assign busy_o    = mid_q || hold_q;
  assign we_o      = bank_q & {NumPes{hold_q}};
  assign row_o     = row_q;
  assign half_o    = half_q;
  assign data_o    = data_q[ActBits-1:0];

endmodule

`resetall
