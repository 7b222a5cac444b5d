// bramble_actbuf: the activation buffers, NumPes banks each (activation j of a vector lives in
// bank j mod NumPes at row j div NumPes).
//
//   IN:  two halves (input vectors alternate between them); written by the stream input or the
//        host window (half 0), read by layer 0 and the input window;
//   A:   output of layers 0, 2, 4, ... except the last (only when NumLayers > 1);
//   B:   output of layers 1, 3, ... except the last (only when NumLayers > 2);
//   OUT: two halves; written by the last layer, read by the stream output or the output window.
//
// A half of IN or OUT is selected by the LSB of the bank address ({row, half}), so a bank of
// 2 * rows words holds both halves exactly, without an adder. One read port per bank of IN, A
// and B serves the scanner (a whole row of the layer's source) or, while the engine and the
// streams are idle, the host window; lanes_o shows the row read last, from the buffer it was
// read from (OUT too, for the window). OUT's read port serves the stream output (out_rd_*) or
// the window; out_lanes_o is its read data. The PEs write their own bank of A, B or OUT.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_actbuf #(
  // Banks (the PE count), layers, activation bits, bits of a row within a half.
  parameter integer NumPes      = 1,
  parameter integer NumLayers   = 1,
  parameter integer ActBits     = 16,
  parameter integer RowBits     = 4,
  // Words per bank: IN (both halves), A/B, OUT (both halves); styles (1 = block RAM, 0 = LUT RAM).
  parameter integer InBufDepth  = 16,
  parameter integer ActBufDepth = 16,
  parameter integer OutBufDepth = 16,
  parameter integer InBufBlock  = 0,
  parameter integer ActBufBlock = 0,
  parameter integer OutBufBlock = 0
) (
  input  wire                      clk_i,

  // Read: src 0 = IN, 1 = A, 2 = B, 3 = OUT; rd_half_i selects the half of IN / OUT.
  input  wire                      rd_en_i,
  input  wire [RowBits-1:0]        rd_row_i,
  input  wire                      rd_half_i,
  input  wire [1:0]                rd_src_i,
  output wire [NumPes*ActBits-1:0] lanes_o,

  // Stream output reads of OUT (take the OUT port over the window's).
  input  wire                      out_rd_en_i,
  input  wire [RowBits-1:0]        out_rd_row_i,
  input  wire                      out_rd_half_i,
  output wire [NumPes*ActBits-1:0] out_lanes_o,

  // Writes into IN (stream input or host window).
  input  wire [NumPes-1:0]         in_we_i,
  input  wire [RowBits-1:0]        in_row_i,
  input  wire                      in_half_i,
  input  wire [ActBits-1:0]        in_data_i,

  // PE write-back into OUT (dst_out_i, half out_half_i), else A (dst_b_i = 0) or B.
  input  wire                      dst_out_i,
  input  wire                      dst_b_i,
  input  wire                      out_half_i,
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

  wire rd_in  = rd_en_i && (rd_src_i == 2'd0);
  wire rd_a   = rd_en_i && (rd_src_i == 2'd1);
  wire rd_b   = rd_en_i && (rd_src_i == 2'd2);
  wire rd_out = out_rd_en_i || (rd_en_i && (rd_src_i == 2'd3));

  wire [RowBits:0] in_rd_addr  = {rd_row_i, rd_half_i};
  wire [RowBits:0] in_wr_addr  = {in_row_i, in_half_i};
  wire [RowBits:0] out_rd_addr = out_rd_en_i ? {out_rd_row_i, out_rd_half_i} :
                                               {rd_row_i, rd_half_i};

  genvar gb;
  generate
    for (gb = 0; gb < NumPes; gb = gb + 1) begin : gen_bank
      wire [ActBits-1:0] in_rd;
      wire [ActBits-1:0] a_rd;
      wire [ActBits-1:0] b_rd;
      wire [ActBits-1:0] out_rd;
      wire [RowBits-1:0] pe_row = pe_addr_i[gb*RowBits +: RowBits];
      wire [ActBits-1:0] pe_val = pe_data_i[gb*ActBits +: ActBits];

      bramble_ram_sdp #(
        .Width    (ActBits),
        .Depth    (InBufDepth),
        .AddrBits (RowBits + 1),
        .Block    (InBufBlock),
        .InitFile ("")
      ) u_in (
        .clk_i     (clk_i),
        .wr_en_i   (in_we_i[gb]),
        .wr_addr_i (in_wr_addr),
        .wr_data_i (in_data_i),
        .rd_en_i   (rd_in),
        .rd_addr_i (in_rd_addr),
        .rd_data_o (in_rd)
      );

      if (NumLayers > 1) begin : gen_a
        bramble_ram_sdp #(
          .Width    (ActBits),
          .Depth    (ActBufDepth),
          .AddrBits (RowBits),
          .Block    (ActBufBlock),
          .InitFile ("")
        ) u_act_a (
          .clk_i     (clk_i),
          .wr_en_i   (pe_we_i[gb] && !dst_out_i && !dst_b_i),
          .wr_addr_i (pe_row),
          .wr_data_i (pe_val),
          .rd_en_i   (rd_a),
          .rd_addr_i (rd_row_i),
          .rd_data_o (a_rd)
        );
      end else begin : gen_no_a
        assign a_rd = {ActBits{1'b0}};
        wire unused_rd_a = rd_a;
      end

      if (NumLayers > 2) begin : gen_b
        bramble_ram_sdp #(
          .Width    (ActBits),
          .Depth    (ActBufDepth),
          .AddrBits (RowBits),
          .Block    (ActBufBlock),
          .InitFile ("")
        ) u_act_b (
          .clk_i     (clk_i),
          .wr_en_i   (pe_we_i[gb] && !dst_out_i && dst_b_i),
          .wr_addr_i (pe_row),
          .wr_data_i (pe_val),
          .rd_en_i   (rd_b),
          .rd_addr_i (rd_row_i),
          .rd_data_o (b_rd)
        );
      end else begin : gen_no_b
        assign b_rd = {ActBits{1'b0}};
        wire unused_rd_b = rd_b;
      end

      bramble_ram_sdp #(
        .Width    (ActBits),
        .Depth    (OutBufDepth),
        .AddrBits (RowBits + 1),
        .Block    (OutBufBlock),
        .InitFile ("")
      ) u_out (
        .clk_i     (clk_i),
        .wr_en_i   (pe_we_i[gb] && dst_out_i),
        .wr_addr_i ({pe_row, out_half_i}),
        .wr_data_i (pe_val),
        .rd_en_i   (rd_out),
        .rd_addr_i (out_rd_addr),
        .rd_data_o (out_rd)
      );

      assign lanes_o[gb*ActBits +: ActBits] = (src_q == 2'd0) ? in_rd :
                                              ((src_q == 2'd1) ? a_rd :
                                              ((src_q == 2'd2) ? b_rd : out_rd));
      assign out_lanes_o[gb*ActBits +: ActBits] = out_rd;
    end
  endgenerate

  generate
    if (NumLayers < 3) begin : gen_unused_dst
      wire unused_dst = dst_b_i;
    end
  endgenerate

endmodule

`resetall
