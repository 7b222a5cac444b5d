// bramble_fifo: small synchronous first-word-fall-through FIFO in shift-register LUTs.
//
// Every bit of the storage is a Depth-bit shift register that shifts on a push; the oldest entry
// sits at position head_q = count - 1 and is read through the shift register's address input.
// Yosys maps each bit onto one SRL16E (Depth <= 16) or SRLC32E (Depth <= 32), so a 32-deep,
// 20-bit FIFO costs 20 LUTs instead of 640 flip-flops and their read multiplexer.
//
// rd_data_o shows the oldest entry whenever empty_o is low; rd_en_i pops it (ignored when
// empty). Push and pop in the same clock are allowed. A push into a full FIFO is a caller bug
// (it would lose the oldest entry): producers watch room_o, a registered flag that is high
// while at least Margin more entries fit after every push and pop already seen, so a producer
// whose push decision reaches the FIFO Margin - 1 clocks late never overflows it.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_fifo #(
  // Bits per entry.
  parameter integer Width  = 8,
  // Entries; at most 32 (one SRLC32E per bit).
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

  // head_q holds count - 1: all ones when empty, so one extra bit.
  localparam integer IdxBits  = (Depth <= 2) ? 1 : $clog2(Depth);
  localparam integer HeadBits = IdxBits + 1;
  localparam integer RoomMax  = Depth - Margin;

  initial begin
    if (Depth < 2 || Depth > 32 || Margin < 1 || Margin > Depth) begin
      $display("bramble_fifo: need 2 <= Depth <= 32 and 1 <= Margin <= Depth (%0d, %0d)",
               Depth, Margin);
      $finish;
    end
  end

  reg [HeadBits-1:0] head_q;
  reg                empty_q;
  reg                room_q;

  wire do_rd = rd_en_i && !empty_q;

  genvar gb;
  generate
    for (gb = 0; gb < Width; gb = gb + 1) begin : gen_bit
      reg [Depth-1:0] sr_q;
      always @(posedge clk_i) begin
        if (wr_en_i) begin
          sr_q <= {sr_q[Depth-2:0], wr_data_i[gb]};
        end
      end
      assign rd_data_o[gb] = sr_q[head_q[IdxBits-1:0]];
    end
  endgenerate

  // Next head: +1 on a push alone, -1 on a pop alone.
  reg [HeadBits-1:0] head_d;
  always @* begin
    head_d = head_q;
    if (wr_en_i && !do_rd) begin
      head_d = head_q + 1'b1;
    end else if (do_rd && !wr_en_i) begin
      head_d = head_q - 1'b1;
    end
  end

  // count = head + 1 (head = -1 when empty).
  wire [HeadBits:0] count_d = {head_d[HeadBits-1], head_d} + 1'b1;
  wire              room_d  = (count_d <= RoomMax[HeadBits:0]);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      head_q  <= {HeadBits{1'b1}};
      empty_q <= 1'b1;
      room_q  <= 1'b1;
    end else begin
      head_q  <= head_d;
      empty_q <= head_d[HeadBits-1] && (head_d == {HeadBits{1'b1}});
      room_q  <= room_d;
    end
  end

  assign empty_o = empty_q;
  assign room_o  = room_q;

endmodule

`resetall
