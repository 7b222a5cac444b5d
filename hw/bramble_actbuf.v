// bramble_actbuf: the activation buffers, NumPes banks each (activation j of a buffer lives in
// bank j mod NumPes at row j div NumPes).
//
//   IN: written by the host window, read by layer 0 (so a second START reruns the same inputs);
//   A:  output of layers 0, 2, 4, ...;
//   B:  output of layers 1, 3, ... (only when NumLayers > 1).
//
// One read port per bank serves the scanner (a whole row of the layer's source buffer) or,
// while the engine is idle, the host window (a row of IN or of the network's output buffer);
// lanes_o shows the row read last, from the buffer it was read from. The PEs write their own
// bank of A or B.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_actbuf #(
  // Banks (the PE count), layers, activation bits, row bits.
  parameter integer NumPes      = 1,
  parameter integer NumLayers   = 1,
  parameter integer ActBits     = 16,
  parameter integer RowBits     = 4,
  // Depth of an IN bank and of an A/B bank, and their styles (1 = block RAM, 0 = LUT RAM).
  parameter integer InBufDepth  = 16,
  parameter integer ActBufDepth = 16,
  parameter integer InBufBlock  = 0,
  parameter integer ActBufBlock = 0
) (
  input  wire                      clk_i,

  // Read: src 0 = IN, 1 = A, 2 = B.
  input  wire                      rd_en_i,
  input  wire [RowBits-1:0]        rd_row_i,
  input  wire [1:0]                rd_src_i,
  output wire [NumPes*ActBits-1:0] lanes_o,

  // Host window write into IN.
  input  wire [NumPes-1:0]         in_we_i,
  input  wire [RowBits-1:0]        in_row_i,
  input  wire [ActBits-1:0]        in_data_i,

  // PE write-back into A (dst_b_i = 0) or B.
  input  wire                      dst_b_i,
  input  wire [NumPes-1:0]         pe_we_i,
  input  wire [NumPes*RowBits-1:0] pe_addr_i,
  input  wire [NumPes*ActBits-1:0] pe_data_i
);

  reg [1:0] src_q;

  always @(posedge clk_i) begin
    if (rd_en_i) begin
      src_q <= rd_src_i;
    end
  end

  wire rd_in = rd_en_i && (rd_src_i == 2'd0);
  wire rd_a  = rd_en_i && (rd_src_i == 2'd1);
  wire rd_b  = rd_en_i && (rd_src_i == 2'd2);

  genvar gb;
  generate
    for (gb = 0; gb < NumPes; gb = gb + 1) begin : gen_bank
      wire [ActBits-1:0] in_rd;
      wire [ActBits-1:0] a_rd;
      wire [ActBits-1:0] b_rd;

      bramble_ram_sdp #(
        .Width    (ActBits),
        .Depth    (InBufDepth),
        .AddrBits (RowBits),
        .Block    (InBufBlock),
        .InitFile ("")
      ) u_in (
        .clk_i     (clk_i),
        .wr_en_i   (in_we_i[gb]),
        .wr_addr_i (in_row_i),
        .wr_data_i (in_data_i),
        .rd_en_i   (rd_in),
        .rd_addr_i (rd_row_i),
        .rd_data_o (in_rd)
      );

      bramble_ram_sdp #(
        .Width    (ActBits),
        .Depth    (ActBufDepth),
        .AddrBits (RowBits),
        .Block    (ActBufBlock),
        .InitFile ("")
      ) u_act_a (
        .clk_i     (clk_i),
        .wr_en_i   (pe_we_i[gb] && !dst_b_i),
        .wr_addr_i (pe_addr_i[gb*RowBits +: RowBits]),
        .wr_data_i (pe_data_i[gb*ActBits +: ActBits]),
        .rd_en_i   (rd_a),
        .rd_addr_i (rd_row_i),
        .rd_data_o (a_rd)
      );

      if (NumLayers > 1) begin : gen_b
        bramble_ram_sdp #(
          .Width    (ActBits),
          .Depth    (ActBufDepth),
          .AddrBits (RowBits),
          .Block    (ActBufBlock),
          .InitFile ("")
        ) u_act_b (
          .clk_i     (clk_i),
          .wr_en_i   (pe_we_i[gb] && dst_b_i),
          .wr_addr_i (pe_addr_i[gb*RowBits +: RowBits]),
          .wr_data_i (pe_data_i[gb*ActBits +: ActBits]),
          .rd_en_i   (rd_b),
          .rd_addr_i (rd_row_i),
          .rd_data_o (b_rd)
        );
      end else begin : gen_no_b
        assign b_rd = {ActBits{1'b0}};
        wire unused_rd_b = rd_b;
      end

      assign lanes_o[gb*ActBits +: ActBits] = (src_q == 2'd0) ? in_rd :
                                              ((src_q == 2'd1) ? a_rd : b_rd);
    end
  endgenerate

endmodule

`resetall
