// bramble_pe_mac: a PE's multiply-accumulate stage and its accumulator memory.
//
// Takes one item per clock from the two item FIFOs (lane 0 first; the order does not change
// the sums) and runs it through three stages:
//
//   M0: pop; codebook read at {layer, codebook index};
//   M1: product = activation x codebook entry (the DSP); accumulator read of the item's row;
//   M2: sum = accumulator (or the previous clock's sum, forwarded) + product; written back.
//
// Synthesis puts the product register (M) and the M2 adder into the DSP (its post-adder, with the
// accumulator on the C port): no carry chain and no LUT per accumulator bit but the select of
// the old value. That needs the product register without an asynchronous reset.
//
// An item's read in M1 happens in the clock the item ahead of it writes in M2, so it sees the
// old value when both hit the same row: fwd_q (the rows compared one clock early) selects the
// forwarded sum instead. Two items apart, the write has landed. This is the only hazard.
//
// The write-back stage uses the accumulator through wb_* while the MAC is idle: wb_rd_* reads
// a row (data on wb_rd_data_o one clock later) and wb_clr_* writes a row to zero.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_pe_mac #(
  // Bits of an activation.
  parameter integer ActBits   = 16,
  // Bits of a codebook index.
  parameter integer IdxBits   = 4,
  // Bits of a codebook entry.
  parameter integer CbBits    = 16,
  // Bits of an accumulator (>= ActBits + CbBits, the product).
  parameter integer AccBits   = 40,
  // Bits of the layer number (the codebook holds one table per layer).
  parameter integer LayerBits = 1,
  // Codebook depth (layers * 2^IdxBits) and memory style (1 = block RAM, 0 = LUT logic).
  parameter integer CbDepth   = 32,
  parameter integer CbBlock   = 0,
  parameter         CbFile    = "",
  // Accumulator rows, their address bits and memory style (1 = block RAM, 0 = LUT RAM).
  parameter integer AccDepth  = 16,
  parameter integer RowBits   = 4,
  parameter integer AccBlock  = 1,
  // 1 = weights loaded at run time: the codebook has a write port and no image.
  parameter integer Runtime   = 0
) (
  input  wire                   clk_i,
  input  wire                   rst_ni,

  // codebook writes (Runtime = 1): word layer * 2^IdxBits + index
  input  wire                   cb_wr_en_i,
  input  wire [LayerBits+IdxBits-1:0] cb_wr_addr_i,
  input  wire [CbBits-1:0]      cb_wr_data_i,

  input  wire [LayerBits-1:0]   layer_i,

  // item FIFO heads
  input  wire                   item0_valid_i,
  input  wire [RowBits+IdxBits+ActBits-1:0] item0_i,
  output wire                   item0_pop_o,
  input  wire                   item1_valid_i,
  input  wire [RowBits+IdxBits+ActBits-1:0] item1_i,
  output wire                   item1_pop_o,

  // accumulator access for the write-back (only while busy_o is low)
  input  wire                   wb_rd_en_i,
  input  wire [RowBits-1:0]     wb_rd_row_i,
  output wire [AccBits-1:0]     wb_rd_data_o,
  input  wire                   wb_clr_en_i,
  input  wire [RowBits-1:0]     wb_clr_row_i,

  output wire                   busy_o
);

  localparam integer ProdBits   = ActBits + CbBits;
  localparam integer CbAddrBits = LayerBits + IdxBits;
  localparam integer ItemBits   = RowBits + IdxBits + ActBits;

  initial begin
    if (AccBits < ProdBits || AccBits > 64) begin
      $display("bramble_pe_mac: need ActBits + CbBits <= AccBits <= 64");
      $finish;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // M0
  wire                pop  = item0_valid_i || item1_valid_i;
  wire [ItemBits-1:0] item = item0_valid_i ? item0_i : item1_i;
  wire [RowBits-1:0]  m0_row = item[ItemBits-1:IdxBits+ActBits];
  wire [IdxBits-1:0]  m0_k   = item[IdxBits+ActBits-1:ActBits];
  wire [ActBits-1:0]  m0_val = item[ActBits-1:0];
  wire [CbBits-1:0]   cb_rd;

  bramble_ram_sdp #(
    .Width    (CbBits),
    .Depth    (CbDepth),
    .AddrBits (CbAddrBits),
    .Block    (CbBlock),
    .Rom      ((Runtime != 0) ? 0 : 1),
    .InitFile ((Runtime != 0) ? "" : CbFile)
  ) u_codebook (
    .clk_i     (clk_i),
    .wr_en_i   ((Runtime != 0) && cb_wr_en_i),
    .wr_addr_i ((Runtime != 0) ? cb_wr_addr_i : {CbAddrBits{1'b0}}),
    .wr_data_i ((Runtime != 0) ? cb_wr_data_i : {CbBits{1'b0}}),
    .rd_en_i   (pop),
    .rd_addr_i ({layer_i, m0_k}),
    .rd_data_o (cb_rd)
  );

  reg               m1_vld_q;
  reg [RowBits-1:0] m1_row_q;
  reg [ActBits-1:0] m1_val_q;

  // ---------------------------------------------------------------------------------------------
  // M1
  wire signed [ProdBits-1:0] mul_a = {{CbBits{m1_val_q[ActBits-1]}}, m1_val_q};
  wire signed [ProdBits-1:0] mul_b = {{ActBits{cb_rd[CbBits-1]}}, cb_rd};
  wire signed [ProdBits-1:0] prod  = mul_a * mul_b;

  reg                m2_vld_q;
  reg [RowBits-1:0]  m2_row_q;
  reg [ProdBits-1:0] m2_prod_q;
  reg                m2_fwd_q;   // M2 must use the forwarded sum of the item ahead

  // ---------------------------------------------------------------------------------------------
  // M2
  wire [AccBits-1:0] acc_rd;
  reg  [AccBits-1:0] fw_sum_q;

  wire [AccBits-1:0] prod_ext;
  generate
    if (AccBits > ProdBits) begin : gen_prod_ext
      assign prod_ext = {{(AccBits-ProdBits){m2_prod_q[ProdBits-1]}}, m2_prod_q};
    end else begin : gen_prod_same
      assign prod_ext = m2_prod_q;
    end
  endgenerate

  // Clearing a row for the write-back writes acc_sum too: with M2 empty the product register is
  // zero and acc_old is forced to zero (in the same LUT as the forwarding select), so the sum is
  // zero and the accumulator's write data needs no select of its own.
  wire [AccBits-1:0] acc_old = !m2_vld_q ? {AccBits{1'b0}} : (m2_fwd_q ? fw_sum_q : acc_rd);
  wire [AccBits-1:0] acc_sum = prod_ext + acc_old;

  bramble_ram_sdp #(
    .Width    (AccBits),
    .Depth    (AccDepth),
    .AddrBits (RowBits),
    .Block    (AccBlock),
    .InitFile ("")
  ) u_acc (
    .clk_i     (clk_i),
    .wr_en_i   (m2_vld_q || wb_clr_en_i),
    .wr_addr_i (m2_vld_q ? m2_row_q : wb_clr_row_i),
    .wr_data_i (acc_sum),
    .rd_en_i   (m1_vld_q || wb_rd_en_i),
    .rd_addr_i (m1_vld_q ? m1_row_q : wb_rd_row_i),
    .rd_data_o (acc_rd)
  );

  // The product register is zero while M2 is empty (the clear writes acc_sum). A synchronous
  // clear and no reset, so it becomes the DSP's M register (reset by RSTM), not a LUT per bit:
  // it is zero from the first clock edge with M1 empty, which includes every clock while rst_ni
  // is low (the reset is held for at least one clock edge, docs/engine.md).
  always @(posedge clk_i) begin
    m2_prod_q <= m1_vld_q ? prod : {ProdBits{1'b0}};
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      m1_vld_q  <= 1'b0;
      m1_row_q  <= {RowBits{1'b0}};
      m1_val_q  <= {ActBits{1'b0}};
      m2_vld_q  <= 1'b0;
      m2_row_q  <= {RowBits{1'b0}};
      m2_fwd_q  <= 1'b0;
      fw_sum_q  <= {AccBits{1'b0}};
    end else begin
      m1_vld_q <= pop;
      if (pop) begin
        m1_row_q <= m0_row;
        m1_val_q <= m0_val;
      end
      m2_vld_q <= m1_vld_q;
      if (m1_vld_q) begin
        m2_row_q  <= m1_row_q;
        m2_fwd_q  <= m2_vld_q && (m2_row_q == m1_row_q);
      end
      if (m2_vld_q) begin
        fw_sum_q <= acc_sum;
      end
    end
  end

  assign item0_pop_o  = item0_valid_i;
  assign item1_pop_o  = !item0_valid_i && item1_valid_i;
  assign wb_rd_data_o = acc_rd;
  assign busy_o       = m1_vld_q || m2_vld_q;

endmodule

`resetall
