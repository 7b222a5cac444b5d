// bramble_stream_ctrl: the bookkeeping of the AXI4-Stream data path (docs/register-map.md
// "Streams").
//
// Vector n of a stream uses IN half n mod 2 and OUT half n mod 2, so three one-bit pointers
// suffice: the half the input fills next (wi), the half the engine computes next (ci) and the
// half the output sends next (oi). Per half: in_busy (a vector is being received or waits in
// IN), in_full (it is complete), out_full (OUT holds a computed vector not yet sent). A vector
// is computed (sreq_o to the sequencer) once it is complete and its OUT half is free; the
// sequencer takes it when the engine is free. Also here: the counters VECTORS, IN_BEATS,
// OUT_BEATS, BUSY and TOTAL, SSTATUS, the TLAST_EVERY count, IRQ_COUNT, and each half's compute
// cycles (saturated to TdataBits) for the cycles beat.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_stream_ctrl #(
  // TDATA bits (32 or 64): the width of the cycles beat.
  parameter integer TdataBits = 32
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,

  // registers (from the AXI4-Lite slave)
  input  wire                 run_i,          // SCTRL.RUN
  input  wire                 clear_i,        // SCTRL.CLEAR written (one clock)
  input  wire                 clr_count_i,    // SSTATUS.COUNT written with 1
  input  wire                 clr_framing_i,  // SSTATUS.FRAMING written with 1
  input  wire [31:0]          tlast_every_i,
  input  wire [31:0]          irq_count_i,

  // a START run is pending or running
  input  wire                 start_busy_i,

  // stream input
  output wire                 open_o,
  output wire                 in_half_o,
  input  wire                 in_beat_i,
  input  wire                 in_first_i,
  input  wire                 in_done_i,
  input  wire                 in_done_half_i,
  input  wire                 in_framing_i,
  input  wire                 in_busy_i,

  // sequencer
  output wire                 sreq_o,
  output wire                 sreq_half_o,
  input  wire                 sgo_i,          // a stream run began (registered pulse)
  input  wire                 sdone_i,        // it finished (one clock)
  input  wire [63:0]          cycles_i,       // its compute cycles, valid with sdone_i
  input  wire                 eng_busy_i,     // the engine computes (any run)

  // stream output
  output wire                 avail_o,
  output wire                 out_half_o,
  output wire [TdataBits-1:0] cycles_o,
  output wire                 tlast_o,
  input  wire                 out_beat_i,
  input  wire                 out_done_i,
  input  wire                 out_busy_i,

  // status and counters
  output wire                 active_o,
  output wire                 count_o,        // SSTATUS.COUNT
  output wire                 framing_o,      // SSTATUS.FRAMING
  output wire                 count_set_o,    // COUNT is being set (one clock): IRQ_PENDING
  output wire [31:0]          vectors_o,
  output wire [31:0]          in_beats_o,
  output wire [31:0]          out_beats_o,
  output wire [63:0]          busy_o,
  output wire [63:0]          total_o
);

  reg                 wi_q;
  reg                 ci_q;
  reg                 oi_q;
  reg [1:0]           in_busy_q;
  reg [1:0]           in_full_q;
  reg [1:0]           out_full_q;
  reg                 srun_q;
  reg                 open_q;
  reg                 active_q;
  reg [TdataBits-1:0] cyc0_q;
  reg [TdataBits-1:0] cyc1_q;
  reg [31:0]          tl_cnt_q;
  reg                 tl_hit_q;
  reg [31:0]          vectors_q;
  reg [31:0]          in_beats_q;
  reg [31:0]          out_beats_q;
  reg [63:0]          busy_q;
  reg                 tot_run_q;
  reg [63:0]          ticks_q;
  reg [63:0]          total_q;
  reg                 count_q;
  reg                 framing_q;
  reg                 vinc_q;      // VECTORS was just incremented
  reg                 vinc_q2;
  reg                 vhit_q;      // VECTORS == IRQ_COUNT != 0

  // The cycles beat: compute cycles saturated to TdataBits.
  wire [TdataBits-1:0] cyc_sat;
  generate
    if (TdataBits >= 64) begin : gen_cyc64
      assign cyc_sat = cycles_i;
    end else begin : gen_cyc32
      assign cyc_sat = (|cycles_i[63:TdataBits]) ? {TdataBits{1'b1}} : cycles_i[TdataBits-1:0];
    end
  endgenerate

  wire [31:0] every_m1 = tlast_every_i - 32'd1;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wi_q        <= 1'b0;
      ci_q        <= 1'b0;
      oi_q        <= 1'b0;
      in_busy_q   <= 2'b00;
      in_full_q   <= 2'b00;
      out_full_q  <= 2'b00;
      srun_q      <= 1'b0;
      open_q      <= 1'b0;
      active_q    <= 1'b0;
      cyc0_q      <= {TdataBits{1'b0}};
      cyc1_q      <= {TdataBits{1'b0}};
      tl_cnt_q    <= 32'd0;
      tl_hit_q    <= 1'b1;
      vectors_q   <= 32'd0;
      in_beats_q  <= 32'd0;
      out_beats_q <= 32'd0;
      busy_q      <= 64'd0;
      tot_run_q   <= 1'b0;
      ticks_q     <= 64'd0;
      total_q     <= 64'd0;
      count_q     <= 1'b0;
      framing_q   <= 1'b0;
      vinc_q      <= 1'b0;
      vinc_q2     <= 1'b0;
      vhit_q      <= 1'b0;
    end else begin
      open_q   <= run_i && !in_busy_q[wi_q] && !start_busy_i;
      active_q <= in_busy_i || (|in_busy_q) || (|out_full_q) || srun_q || out_busy_i;
      tl_hit_q <= (tlast_every_i <= 32'd1) || (tl_cnt_q >= every_m1);
      vinc_q   <= out_done_i;
      vinc_q2  <= vinc_q;
      vhit_q   <= (vectors_q == irq_count_i) && (irq_count_i != 32'd0);

      // Input halves
      if (in_first_i) begin
        in_busy_q[wi_q] <= 1'b1;
        wi_q            <= !wi_q;
      end
      if (in_done_i) begin
        in_full_q[in_done_half_i] <= 1'b1;
      end

      // Compute
      if (sgo_i) begin
        srun_q <= 1'b1;
      end
      if (sdone_i) begin
        srun_q           <= 1'b0;
        in_busy_q[ci_q]  <= 1'b0;
        in_full_q[ci_q]  <= 1'b0;
        out_full_q[ci_q] <= 1'b1;
        ci_q             <= !ci_q;
        if (ci_q) begin
          cyc1_q <= cyc_sat;
        end else begin
          cyc0_q <= cyc_sat;
        end
      end

      // Output
      if (out_done_i) begin
        out_full_q[oi_q] <= 1'b0;
        oi_q             <= !oi_q;
      end

      // Counters (CLEAR zeroes them; data in flight is not touched)
      if (clear_i) begin
        vectors_q   <= 32'd0;
        in_beats_q  <= 32'd0;
        out_beats_q <= 32'd0;
        busy_q      <= 64'd0;
        tot_run_q   <= 1'b0;
        ticks_q     <= 64'd0;
        total_q     <= 64'd0;
        tl_cnt_q    <= 32'd0;
        vinc_q      <= 1'b0;
        vinc_q2     <= 1'b0;
      end else begin
        if (out_done_i) begin
          vectors_q <= vectors_q + 32'd1;
          tl_cnt_q  <= tl_hit_q ? 32'd0 : tl_cnt_q + 32'd1;
        end
        if (in_beat_i) begin
          in_beats_q <= in_beats_q + 32'd1;
        end
        if (out_beat_i) begin
          out_beats_q <= out_beats_q + 32'd1;
        end
        if (eng_busy_i) begin
          busy_q <= busy_q + 64'd1;
        end
        // TOTAL: from the first input beat's clock (ticks = 1 in the next) to the latest
        // output beat's clock, both counted.
        if (tot_run_q) begin
          ticks_q <= ticks_q + 64'd1;
        end else if (in_beat_i) begin
          tot_run_q <= 1'b1;
          ticks_q   <= 64'd1;
        end
        if (out_beat_i && tot_run_q) begin
          total_q <= ticks_q + 64'd1;
        end
      end

      // SSTATUS
      if (clear_i || clr_count_i) begin
        count_q <= 1'b0;
      end else if (vinc_q2 && vhit_q) begin
        count_q <= 1'b1;
      end
      if (clear_i || clr_framing_i) begin
        framing_q <= 1'b0;
      end else if (in_framing_i) begin
        framing_q <= 1'b1;
      end
    end
  end

  assign open_o      = open_q;
  assign in_half_o   = wi_q;
  assign sreq_o      = in_full_q[ci_q] && !out_full_q[ci_q] && !srun_q;
  assign sreq_half_o = ci_q;
  assign avail_o     = out_full_q[oi_q];
  assign out_half_o  = oi_q;
  assign cycles_o    = oi_q ? cyc1_q : cyc0_q;
  assign tlast_o     = tl_hit_q;
  assign active_o    = active_q;
  assign count_o     = count_q;
  assign framing_o   = framing_q;
  assign count_set_o = vinc_q2 && vhit_q && !clear_i && !clr_count_i;
  assign vectors_o   = vectors_q;
  assign in_beats_o  = in_beats_q;
  assign out_beats_o = out_beats_q;
  assign busy_o      = busy_q;
  assign total_o     = total_q;

endmodule

`resetall
