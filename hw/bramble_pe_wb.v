// bramble_pe_wb: a PE's write-back, its end-of-layer detection and its accumulator clearing.
//
// The PE's end of a layer: the scanner's end marker has arrived (end_i, behind the layer's last
// activation on the same broadcast pipeline) and every stage before this one is empty
// (pipe_busy_i all low). Then rows 0 .. wb_last_i are written back, one per clock (every PE
// writes ceil(out_size / NumPes) rows; a PE with fewer real rows writes zeros past the vector's
// end, which nothing reads, and saves a global-index counter and its compare):
//
//   W0: read accumulator[row] and bias[bias_base + row] (row 0 in the clock the end is seen);
//   W1: sum = accumulator + bias; the accumulator row is cleared for the next layer. The bias
//       image already holds bias + 2^(shift-1), the layer's rounding constant (docs/numerics.md,
//       generate::bias_words), so rounding costs no adder here;
//   W2: the saturation test on the unshifted sum (the shifted value fits act_bits when the bits
//       the engine's sat_mask selects are all equal, i.e. all sign), and the arithmetic shift in
//       two selects: by shift[..:3] * 8, then by shift[2:0], keeping act_bits bits;
//   W3: saturate, ReLU -> output register -> activation buffer.
//
// The shift is fixed per layer, so the engine turns it into sat_mask_i and the two shift fields
// once; a PE only selects ActBits output bits (no full-width barrel shifter).
// done_o is high from the last row's write until the next layer starts (layer_start_i), and
// after reset once every accumulator row has been cleared.
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_pe_wb #(
  // Bits of an activation and of an accumulator.
  parameter integer ActBits      = 16,
  parameter integer AccBits      = 40,
  // Accumulator rows and their address bits.
  parameter integer AccDepth     = 16,
  parameter integer RowBits      = 4,
  // Bias memory: depth, address bits, style (1 = block RAM, 0 = LUT logic) and image.
  parameter integer BiasDepth    = 16,
  parameter integer BiasAddrBits = 4,
  parameter integer BiasBlock    = 0,
  parameter         BiasFile     = "",
  // Number of stage busy flags on pipe_busy_i.
  parameter integer NumBusy      = 1,
  // 1 = weights loaded at run time: the bias memory has a write port and no image.
  parameter integer Runtime      = 0
) (
  input  wire                   clk_i,
  input  wire                   rst_ni,

  // bias writes (Runtime = 1)
  input  wire                   bias_wr_en_i,
  input  wire [BiasAddrBits-1:0] bias_wr_addr_i,
  input  wire [AccBits-1:0]     bias_wr_data_i,

  // current layer (stable while the layer runs)
  input  wire                   layer_start_i,
  input  wire [`BRAMBLE_DESC_FIELD_BITS-1:0] bias_base_i,
  input  wire [RowBits-1:0]     wb_last_i,
  input  wire [AccBits-1:0]     sat_mask_i,
  input  wire [`BRAMBLE_SHIFT_HI_BITS-1:0] shift_hi_i,
  input  wire [2:0]             shift_lo_i,
  input  wire                   relu_i,

  input  wire                   end_i,
  input  wire [NumBusy-1:0]     pipe_busy_i,

  // accumulator access
  output wire                   acc_rd_en_o,
  output wire [RowBits-1:0]     acc_rd_row_o,
  input  wire [AccBits-1:0]     acc_rd_data_i,
  output wire                   acc_clr_en_o,
  output wire [RowBits-1:0]     acc_clr_row_o,

  // write into this PE's bank of the next activation buffer
  output wire                   out_we_o,
  output wire [RowBits-1:0]     out_addr_o,
  output wire [ActBits-1:0]     out_data_o,

  output wire                   done_o
);

  localparam integer SizeBits = `BRAMBLE_DESC_FIELD_BITS;
  // The coarse shift keeps the ActBits + 7 low bits the fine shift can still select.
  localparam integer MidBits  = ActBits + 7;
  localparam integer ExtBits  = (AccBits > MidBits) ? AccBits : MidBits;

  initial begin
    if (RowBits > SizeBits - 2 || BiasAddrBits > SizeBits - 1 || ActBits < 2) begin
      $display("bramble_pe_wb: inconsistent parameters (see docs/engine.md)");
      $finish;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // End of layer and row walk
  reg                end_q;
  reg                act_q;      // walking rows 1 .. wb_last_i (row 0 is read with go)
  reg [RowBits-1:0]  row_q;      // next row to read
  reg                done_q;
  reg                clr_q;      // clearing after reset
  reg [RowBits-1:0]  clr_row_q;

  wire                go       = end_q && !(|pipe_busy_i);
  // W0: the row read this clock (row 0 in the clock of go).
  wire                rd_vld   = go || act_q;
  wire [RowBits-1:0]  rd_row   = act_q ? row_q : {RowBits{1'b0}};
  wire                rd_last  = (rd_row == wb_last_i);

  // Bias address: only the bits the bias memory has.
  localparam integer BiasRowBits = (RowBits < BiasAddrBits) ? RowBits : BiasAddrBits;
  wire [BiasAddrBits-1:0] bias_addr = bias_base_i[BiasAddrBits-1:0] +
                                      {{(BiasAddrBits-BiasRowBits){1'b0}},
                                       rd_row[BiasRowBits-1:0]};
  wire unused_bias_hi = ^bias_base_i[SizeBits-1:BiasAddrBits];
  wire [AccBits-1:0]  bias_rd;

  bramble_ram_sdp #(
    .Width    (AccBits),
    .Depth    (BiasDepth),
    .AddrBits (BiasAddrBits),
    .Block    (BiasBlock),
    .Rom      ((Runtime != 0) ? 0 : 1),
    .InitFile ((Runtime != 0) ? "" : BiasFile)
  ) u_bias (
    .clk_i     (clk_i),
    .wr_en_i   ((Runtime != 0) && bias_wr_en_i),
    .wr_addr_i ((Runtime != 0) ? bias_wr_addr_i : {BiasAddrBits{1'b0}}),
    .wr_data_i ((Runtime != 0) ? bias_wr_data_i : {AccBits{1'b0}}),
    .rd_en_i   (rd_vld),
    .rd_addr_i (bias_addr),
    .rd_data_o (bias_rd)
  );

  // ---------------------------------------------------------------------------------------------
  // W1..W3
  reg               w1_vld_q;
  reg [RowBits-1:0] w1_row_q;
  reg               w1_last_q;
  reg               w2_vld_q;
  reg [RowBits-1:0] w2_row_q;
  reg [AccBits-1:0] w2_sum_q;
  reg               w3_vld_q;
  reg [RowBits-1:0] w3_row_q;
  reg [ActBits-1:0] w3_val_q;
  reg               w3_fits_q;
  reg               w3_neg_q;
  reg               out_we_q;
  reg [RowBits-1:0] out_addr_q;
  reg [ActBits-1:0] out_data_q;

  wire [AccBits-1:0] w1_sum = acc_rd_data_i + bias_rd;

  // Fits when the masked bits are all zero or all one.
  wire w2_zeros = ((w2_sum_q & sat_mask_i) == {AccBits{1'b0}});
  wire w2_ones  = ((w2_sum_q & sat_mask_i) == sat_mask_i);

  // Coarse shift: sign-extend, shift by 8 * shift_hi, keep MidBits; fine shift by shift_lo.
  wire [ExtBits-1:0] w2_ext;
  generate
    if (ExtBits > AccBits) begin : gen_ext
      assign w2_ext = {{(ExtBits-AccBits){w2_sum_q[AccBits-1]}}, w2_sum_q};
    end else begin : gen_no_ext
      assign w2_ext = w2_sum_q;
    end
  endgenerate
  wire [ExtBits-1:0] w2_shr  = $signed(w2_ext) >>> {shift_hi_i, 3'b000};
  wire [MidBits-1:0] w2_mid  = w2_shr[MidBits-1:0];
  wire [MidBits-1:0] w2_fine = w2_mid >> shift_lo_i;
  wire               unused_shr;
  generate
    if (ExtBits > MidBits) begin : gen_unused_shr
      assign unused_shr = ^{w2_shr[ExtBits-1:MidBits], w2_fine[MidBits-1:ActBits]};
    end else begin : gen_no_unused_shr
      assign unused_shr = ^w2_fine[MidBits-1:ActBits];
    end
  endgenerate

  // Saturate, ReLU.
  wire [ActBits-1:0] w3_sat = w3_fits_q ? w3_val_q :
                              (w3_neg_q ? {1'b1, {(ActBits-1){1'b0}}} :
                                          {1'b0, {(ActBits-1){1'b1}}});
  wire [ActBits-1:0] w3_out = (relu_i && w3_sat[ActBits-1]) ? {ActBits{1'b0}} : w3_sat;


  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      end_q      <= 1'b0;
      act_q      <= 1'b0;
      row_q      <= {RowBits{1'b0}};
      done_q     <= 1'b0;
      clr_q      <= 1'b1;
      clr_row_q  <= {RowBits{1'b0}};
      w1_vld_q   <= 1'b0;
      w1_row_q   <= {RowBits{1'b0}};
      w1_last_q  <= 1'b0;
      w2_vld_q   <= 1'b0;
      w2_row_q   <= {RowBits{1'b0}};
      w2_sum_q   <= {AccBits{1'b0}};
      w3_vld_q   <= 1'b0;
      w3_row_q   <= {RowBits{1'b0}};
      w3_val_q   <= {ActBits{1'b0}};
      w3_fits_q  <= 1'b0;
      w3_neg_q   <= 1'b0;
      out_we_q   <= 1'b0;
      out_addr_q <= {RowBits{1'b0}};
      out_data_q <= {ActBits{1'b0}};
    end else begin
      // end of layer
      if (layer_start_i) begin
        done_q <= 1'b0;
      end
      if (end_i) begin
        end_q <= 1'b1;
      end else if (go) begin
        end_q <= 1'b0;
      end

      // row walk
      if (rd_vld) begin
        row_q <= rd_row + 1'b1;
        act_q <= !rd_last;
      end

      w1_vld_q   <= rd_vld;
      w1_row_q   <= rd_row;
      w1_last_q  <= rd_vld && rd_last;
      w2_vld_q   <= w1_vld_q;
      w3_vld_q   <= w2_vld_q;
      out_we_q   <= w3_vld_q;
      // The data registers load only with their stage's valid flag, a register (the flip-flops'
      // clock enable, no LUT): idle between write-backs, which is most of the time, and the
      // simulation skips the adder and shifter (docs/benchmarks.md, "Verilator throughput").
      if (w1_vld_q) begin
        w2_row_q <= w1_row_q;
        w2_sum_q <= w1_sum;
      end
      if (w2_vld_q) begin
        w3_row_q  <= w2_row_q;
        w3_val_q  <= w2_fine[ActBits-1:0];
        w3_fits_q <= w2_zeros || w2_ones;
        w3_neg_q  <= w2_sum_q[AccBits-1];
      end
      if (w3_vld_q) begin
        out_addr_q <= w3_row_q;
        out_data_q <= w3_out;
      end
      // Done once the last row is in W1: its buffer write lands two clocks later, in the clock
      // the sequencer (through the engine's AND register) raises DONE or starts preparing the
      // next layer; the layer constants W2 and W3 still use and the destination buffer
      // (bramble_seq's dst_b_o) change only later, and nothing reads the buffer sooner.
      if (w1_vld_q && w1_last_q) begin
        done_q <= 1'b1;
      end

      // clearing after reset
      if (clr_q) begin
        clr_row_q <= clr_row_q + 1'b1;
        if (clr_row_q == AccDepth[RowBits-1:0] - 1'b1) begin
          clr_q  <= 1'b0;
          done_q <= 1'b1;
        end
      end
    end
  end

  assign acc_rd_en_o   = rd_vld;
  assign acc_rd_row_o  = rd_row;
  assign acc_clr_en_o  = w1_vld_q || clr_q;
  assign acc_clr_row_o = clr_q ? clr_row_q : w1_row_q;
  assign out_we_o      = out_we_q;
  assign out_addr_o    = out_addr_q;
  assign out_data_o    = out_data_q;
  assign done_o        = done_q;

endmodule

`resetall
