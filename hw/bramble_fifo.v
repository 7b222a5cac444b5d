// bramble_fifo: small synchronous first-word-fall-through FIFO in LUT RAM.
//
// A circular buffer: one write port (wr_ptr_q) and one asynchronous read port (rd_ptr_q) on a
// memory of 2^ceil(log2(Depth)) entries, which Yosys maps onto distributed RAM (RAM32M: six bits
// of a 32-deep FIFO per four LUTs; RAM64M beyond 32). A 32-deep, 17-bit FIFO costs 12 LUTs, and
// a clock updates two pointers and one entry, which also keeps it cheap in Verilator (the shift-
// register version this replaces moved every bit of every entry on each push).
//
// rd_data_o shows the oldest entry whenever empty_o is low; rd_en_i pops it (ignored when
// empty). Push and pop in the same clock are allowed. A push into a full FIFO is a caller bug
// (it would overwrite the oldest entry): producers watch room_o, a registered flag that is high
// while at least Margin more entries fit after every push and pop already seen, so a producer
// whose push decision reaches the FIFO Margin - 1 clocks late never overflows it.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_fifo #(
  // Bits per entry.
  parameter integer Width  = 8,
  // Entries; 2 to 64 (one RAM64M row of LUT RAM at most).
  parameter integer Depth  = 16,
  // room_o is high while count <= Depth - Margin (Margin >= 1).
  parameter integer Margin = 1
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  input  wire             wr_en_i,
  input  wire [Width-1:0] wr_data_i,
  input  wire             rd_en_i,
  output wire [Width-1:0] rd_data_o,
  output wire             empty_o,
  output wire             room_o
);

  // Pointers wrap at the memory's power-of-two size; the count needs one more bit.
  localparam integer IdxBits = (Depth <= 2) ? 1 : $clog2(Depth);
  localparam integer Size    = 1 << IdxBits;
  localparam integer CntBits = IdxBits + 1;
  localparam integer RoomMax = Depth - Margin;

  initial begin
    if (Depth < 2 || Depth > 64 || Margin < 1 || Margin > Depth) begin
      $display("bramble_fifo: need 2 <= Depth <= 64 and 1 <= Margin <= Depth (%0d, %0d)",
               Depth, Margin);
      $finish;
    end
  end

  reg [Width-1:0]   mem_q [0:Size-1];
  reg [IdxBits-1:0] wr_ptr_q;
  reg [IdxBits-1:0] rd_ptr_q;
  reg [CntBits-1:0] count_q;
  reg               empty_q;
  reg               room_q;

  wire do_rd = rd_en_i && !empty_q;

  // The storage: written at the tail, read at the head without a clock.
  always @(posedge clk_i) begin
    if (wr_en_i) begin
      mem_q[wr_ptr_q] <= wr_data_i;
    end
  end
  assign rd_data_o = mem_q[rd_ptr_q];

  // Next count: +1 on a push alone, -1 on a pop alone.
  reg [CntBits-1:0] count_d;
  always @* begin
    count_d = count_q;
    if (wr_en_i && !do_rd) begin
      count_d = count_q + 1'b1;
    end else if (do_rd && !wr_en_i) begin
      count_d = count_q - 1'b1;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_ptr_q <= {IdxBits{1'b0}};
      rd_ptr_q <= {IdxBits{1'b0}};
      count_q  <= {CntBits{1'b0}};
      empty_q  <= 1'b1;
      room_q   <= 1'b1;
    end else begin
      if (wr_en_i) begin
        wr_ptr_q <= wr_ptr_q + 1'b1;
      end
      if (do_rd) begin
        rd_ptr_q <= rd_ptr_q + 1'b1;
      end
      count_q <= count_d;
      empty_q <= (count_d == {CntBits{1'b0}});
      room_q  <= (count_d <= RoomMax[CntBits-1:0]);
    end
  end

  assign empty_o = empty_q;
  assign room_o  = room_q;

endmodule

`resetall
