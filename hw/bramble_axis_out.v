// bramble_axis_out: the AXI4-Stream output: one vector at a time from the OUT buffer, one
// activation per clock, packed into beats (bramble_abi::stream: Lanes = TdataBits / LaneBits
// lanes, activation b * Lanes + k in lane k of beat b, sign-extended, unused lanes of a vector's
// last beat zero), optionally followed by a beat carrying the vector's compute cycles.
//
//   R: read row r of all banks of OUT half half_i (rows 0 .. OutRows - 1), one row ahead;
//   S: the row in a shift register, one activation per clock (bank 0 first);
//   P: the activation into lane k of the beat register (the other lanes cleared with lane 0);
//      a full beat (or the vector's last) is handed to the output stage;
//   O: a two-entry skid buffer whose first entry drives m_axis_*: TVALID and TDATA hold until
//      the handshake; the hand-off waits only on a register (the skid entry is empty).
//
// A vector starts when avail_i (the controller: OUT half half_i holds a computed vector) and
// ends (done_o) when its final beat is accepted. TLAST goes on the final beat when tlast_i
// (the controller's TLAST_EVERY count). cyc_beat_i (SCTRL.CYCLES_BEAT) is sampled at a
// vector's start; cycles_i must hold from then until done_o.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_axis_out #(
  // Banks (the PE count) and bits of an activation.
  parameter integer NumPes    = 1,
  parameter integer ActBits   = 16,
  // TDATA bits (32 or 64) and lane bits (8 or 16, >= ActBits).
  parameter integer TdataBits = 32,
  parameter integer LaneBits  = 16,
  // Activations per output vector.
  parameter integer OutSize   = 1,
  // Bits of a buffer row within a half.
  parameter integer RowBits   = 4
) (
  input  wire                      clk_i,
  input  wire                      rst_ni,

  output wire [TdataBits-1:0]      m_axis_tdata_o,
  output wire                      m_axis_tvalid_o,
  input  wire                      m_axis_tready_i,
  output wire                      m_axis_tlast_o,

  // from the controller
  input  wire                      avail_i,
  input  wire                      half_i,
  input  wire                      cyc_beat_i,
  input  wire [TdataBits-1:0]      cycles_i,
  input  wire                      tlast_i,

  // events
  output wire                      beat_o,    // a beat was accepted (combinational)
  output wire                      done_o,    // the vector's final beat was accepted (comb.)
  output wire                      busy_o,

  // OUT buffer reads (data in lanes_i one clock after rd_en_o)
  output wire                      rd_en_o,
  output wire [RowBits-1:0]        rd_row_o,
  output wire                      rd_half_o,
  input  wire [NumPes*ActBits-1:0] lanes_i
);

  localparam integer Lanes    = TdataBits / LaneBits;
  localparam integer OutRows  = (OutSize + NumPes - 1) / NumPes;
  localparam integer LastRowN = OutSize - (OutRows - 1) * NumPes;
  localparam integer CntBits  = 8;    // bits of a count within a row (NumPes <= 255)
  localparam integer LastRowM1 = (OutRows >= 2) ? OutRows - 2 : 0;

  initial begin
    if ((TdataBits != 32 && TdataBits != 64) || (LaneBits != 8 && LaneBits != 16) ||
        ActBits > LaneBits || OutSize < 1 || NumPes < 1 || NumPes > 255 ||
        OutRows > (1 << RowBits)) begin
      $display("bramble_axis_out: inconsistent parameters");
      $finish;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Vector and R
  reg                act_q;       // a vector is being sent
  reg                half_q;
  reg                cb_en_q;     // this vector has a cycles beat
  reg                rd_more_q;   // rows left to read
  reg [RowBits-1:0]  rd_row_q;
  reg                rd_lrow_q;   // rd_row_q is the last row
  reg                m_vld_q;     // a row waits in the memory's read register
  reg                m_lrow_q;    // ... and it is the last row

  // S
  reg                      s_vld_q;
  reg [NumPes*ActBits-1:0] s_row_q;
  reg [CntBits-1:0]        s_left_q;    // activations left in the row
  reg                      s_last_q;    // the current activation is the row's last
  reg                      s_lrow_q;    // the row is the vector's last

  // P
  reg [TdataBits-1:0] pk_q;
  reg [Lanes-1:0]     pl_q;        // one-hot lane of the next activation
  reg                 pk_full_q;   // pk_q holds a finished beat
  reg                 pk_end_q;    // ... the vector's final beat
  reg                 pk_last_q;   // ... with TLAST
  reg                 cb_pend_q;   // the cycles beat is still to be made

  // O: output entry and skid entry
  reg                 o_vld_q;
  reg [TdataBits-1:0] o_data_q;
  reg                 o_end_q;
  reg                 o_last_q;
  reg                 k_vld_q;
  reg [TdataBits-1:0] k_data_q;
  reg                 k_end_q;
  reg                 k_last_q;

  wire start  = !act_q && avail_i;
  wire s_vend = s_vld_q && s_last_q && s_lrow_q;         // the vector's last activation
  wire hand   = pk_full_q && !k_vld_q;                   // beat -> output stage
  wire adv    = s_vld_q && !cb_pend_q && (!pk_full_q || !k_vld_q);   // one activation -> P
  wire s_load = m_vld_q && (!s_vld_q || (s_last_q && adv));
  wire issue  = act_q && rd_more_q && (!m_vld_q || s_load);
  wire p_done = adv && (pl_q[Lanes-1] || s_vend);        // a data beat is finished now
  wire cb_make = cb_pend_q && (!pk_full_q || hand);      // the cycles beat goes into P now

  wire o_take = !o_vld_q || m_axis_tready_i;
  wire o_hs   = o_vld_q && m_axis_tready_i;

  wire [CntBits-1:0] row_n = m_lrow_q ? LastRowN[CntBits-1:0] : NumPes[CntBits-1:0];
  wire [ActBits-1:0] s_act = s_row_q[ActBits-1:0];
  wire [LaneBits-1:0] s_lane;
  generate
    if (LaneBits > ActBits) begin : gen_sext
      assign s_lane = {{(LaneBits-ActBits){s_act[ActBits-1]}}, s_act};
    end else begin : gen_no_sext
      assign s_lane = s_act;
    end
  endgenerate

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      act_q     <= 1'b0;
      half_q    <= 1'b0;
      cb_en_q   <= 1'b0;
      rd_more_q <= 1'b0;
      rd_row_q  <= {RowBits{1'b0}};
      rd_lrow_q <= 1'b0;
      m_vld_q   <= 1'b0;
      m_lrow_q  <= 1'b0;
      s_vld_q   <= 1'b0;
      s_left_q  <= {CntBits{1'b0}};
      s_last_q  <= 1'b0;
      s_lrow_q  <= 1'b0;
      pl_q      <= {{(Lanes-1){1'b0}}, 1'b1};
      pk_full_q <= 1'b0;
      pk_end_q  <= 1'b0;
      pk_last_q <= 1'b0;
      cb_pend_q <= 1'b0;
      o_vld_q   <= 1'b0;
      o_data_q  <= {TdataBits{1'b0}};
      o_end_q   <= 1'b0;
      o_last_q  <= 1'b0;
      k_vld_q   <= 1'b0;
      k_data_q  <= {TdataBits{1'b0}};
      k_end_q   <= 1'b0;
      k_last_q  <= 1'b0;
    end else begin
      // Vector
      if (start) begin
        act_q     <= 1'b1;
        half_q    <= half_i;
        cb_en_q   <= cyc_beat_i;
        rd_more_q <= 1'b1;
        rd_row_q  <= {RowBits{1'b0}};
        rd_lrow_q <= (OutRows == 1);
      end else if (o_hs && o_end_q) begin
        act_q <= 1'b0;
      end

      // R
      if (issue) begin
        rd_more_q <= !rd_lrow_q;
        rd_row_q  <= rd_row_q + 1'b1;
        rd_lrow_q <= (rd_row_q == LastRowM1[RowBits-1:0]) && (OutRows >= 2);
      end
      if (issue) begin
        m_vld_q  <= 1'b1;
        m_lrow_q <= rd_lrow_q;
      end else if (s_load) begin
        m_vld_q <= 1'b0;
      end

      // S
      if (s_load) begin
        s_vld_q  <= 1'b1;
        s_left_q <= row_n;
        s_last_q <= (row_n == {{(CntBits-1){1'b0}}, 1'b1});
        s_lrow_q <= m_lrow_q;
      end else if (adv) begin
        s_vld_q  <= !s_last_q;
        s_left_q <= s_left_q - 1'b1;
        s_last_q <= (s_left_q == {{(CntBits-2){1'b0}}, 2'd2});
      end

      // P
      if (adv) begin
        pl_q <= p_done ? {{(Lanes-1){1'b0}}, 1'b1} : {pl_q[Lanes-2:0], 1'b0};
      end
      if (p_done) begin
        pk_full_q <= 1'b1;
        pk_end_q  <= s_vend && !cb_en_q;
        pk_last_q <= s_vend && !cb_en_q && tlast_i;
        cb_pend_q <= s_vend && cb_en_q;
      end else if (cb_make) begin
        pk_full_q <= 1'b1;
        pk_end_q  <= 1'b1;
        pk_last_q <= tlast_i;
        cb_pend_q <= 1'b0;
      end else if (hand) begin
        pk_full_q <= 1'b0;
      end

      // O
      if (o_take) begin
        if (k_vld_q) begin
          o_vld_q  <= 1'b1;
          o_data_q <= k_data_q;
          o_end_q  <= k_end_q;
          o_last_q <= k_last_q;
          k_vld_q  <= 1'b0;
        end else begin
          o_vld_q  <= hand;
          o_data_q <= pk_q;
          o_end_q  <= pk_end_q;
          o_last_q <= pk_last_q;
        end
      end else if (hand) begin
        k_vld_q  <= 1'b1;
        k_data_q <= pk_q;
        k_end_q  <= pk_end_q;
        k_last_q <= pk_last_q;
      end
    end
  end

  // Data registers (no reset): the row shift register and the beat's lanes.
  integer ln;
  always @(posedge clk_i) begin
    if (s_load) begin
      s_row_q <= lanes_i;
    end else if (adv) begin
      s_row_q <= s_row_q >> ActBits;
    end
    if (cb_make) begin
      pk_q <= cycles_i;
    end else if (adv) begin
      for (ln = 0; ln < Lanes; ln = ln + 1) begin
        if (pl_q[ln]) begin
          pk_q[ln*LaneBits +: LaneBits] <= s_lane;
        end else if (pl_q[0]) begin
          pk_q[ln*LaneBits +: LaneBits] <= {LaneBits{1'b0}};
        end
      end
    end
  end

  assign m_axis_tdata_o  = o_data_q;
  assign m_axis_tvalid_o = o_vld_q;
  assign m_axis_tlast_o  = o_last_q;
  assign beat_o    = o_hs;
  assign done_o    = o_hs && o_end_q;
  assign busy_o    = act_q;
  assign rd_en_o   = issue;
  assign rd_row_o  = rd_row_q;
  assign rd_half_o = half_q;

endmodule

`resetall
