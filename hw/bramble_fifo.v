// bramble_fifo: small synchronous first-word-fall-through FIFO.
//
// rd_data_o shows the oldest entry whenever empty_o is low; rd_en_i pops it. A push into a full
// FIFO or a pop from an empty one is ignored (callers never do either). Push and pop in the same
// clock are allowed, also when full (the pop makes room). count_o (the number of entries) lets a
// producer that is one register away keep a safety margin.
//
// The storage is a flat register vector, not an array, so it never infers a memory: FIFOs are
// small (Depth 2..16) and stay out of the memory plan.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_fifo #(
  parameter integer Width     = 8,
  parameter integer Depth     = 8,
  parameter integer CountBits = 4
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  input  wire                 wr_en_i,
  input  wire [Width-1:0]     wr_data_i,
  input  wire                 rd_en_i,
  output wire [Width-1:0]     rd_data_o,
  output wire                 empty_o,
  output wire [CountBits-1:0] count_o
);

  initial begin
    if (Depth < 2 || (Depth >= (1 << CountBits))) begin
      $display("bramble_fifo: need Depth >= 2 and Depth < 2**CountBits (Depth=%0d)", Depth);
      $finish;
    end
  end

  reg [Width*Depth-1:0] data_q;
  reg [CountBits-1:0]   count_q;
  reg [CountBits-1:0]   wr_ptr_q;
  reg [CountBits-1:0]   rd_ptr_q;

  wire do_wr = wr_en_i && ((count_q != Depth[CountBits-1:0]) || rd_en_i);
  wire do_rd = rd_en_i && (count_q != {CountBits{1'b0}});

  wire [CountBits-1:0] wr_ptr_inc = (wr_ptr_q == Depth[CountBits-1:0] - 1'b1) ?
                                    {CountBits{1'b0}} : wr_ptr_q + 1'b1;
  wire [CountBits-1:0] rd_ptr_inc = (rd_ptr_q == Depth[CountBits-1:0] - 1'b1) ?
                                    {CountBits{1'b0}} : rd_ptr_q + 1'b1;

  // Slots are selected by comparing with constant indices: an indexed part-select such as
  // data_q[wr_ptr_q*Width +: Width] makes Yosys build a multiplier, which it maps onto a DSP.
  reg [Width-1:0] rd_data;
  integer ws;
  integer rs;

  always @(posedge clk_i) begin
    for (ws = 0; ws < Depth; ws = ws + 1) begin
      if (do_wr && (wr_ptr_q == ws[CountBits-1:0])) begin
        data_q[ws*Width +: Width] <= wr_data_i;
      end
    end
  end

  always @* begin
    rd_data = {Width{1'b0}};
    for (rs = 0; rs < Depth; rs = rs + 1) begin
      if (rd_ptr_q == rs[CountBits-1:0]) begin
        rd_data = data_q[rs*Width +: Width];
      end
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      count_q  <= {CountBits{1'b0}};
      wr_ptr_q <= {CountBits{1'b0}};
      rd_ptr_q <= {CountBits{1'b0}};
    end else begin
      if (do_wr) begin
        wr_ptr_q <= wr_ptr_inc;
      end
      if (do_rd) begin
        rd_ptr_q <= rd_ptr_inc;
      end
      if (do_wr && !do_rd) begin
        count_q <= count_q + 1'b1;
      end else if (do_rd && !do_wr) begin
        count_q <= count_q - 1'b1;
      end
    end
  end

  assign rd_data_o = rd_data;
  assign empty_o   = (count_q == {CountBits{1'b0}});
  assign count_o   = count_q;

endmodule

`resetall
