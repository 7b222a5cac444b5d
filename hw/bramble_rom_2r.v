// bramble_rom_2r: read-only memory with two synchronous read ports.
//
// Used for the stored entries of a PE, which are read two at a time (an even and the following
// odd address) so that padding entries cost no clock. Both ports register their data (loaded
// when rd_en_i is high, held otherwise). Block = 1 maps onto block RAM in true-dual-port mode
// (both ports reading): Yosys 0.23 uses the same number of RAMB18/RAMB36 as bramble_ram_sdp for
// widths up to 18 bits (docs/engine.md). Block = 0 builds the ROM from LUT logic
// (ram_style = "logic": Yosys 0.23 has no LUT-RAM mapping for a memory without a write port).
// InitFile is loaded with $readmemh ("" = all zeros, only useful in lint runs), found as
// described in bramble_ram_sdp (+bramble_mem_dir=<dir> in the Verilator simulation library).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_rom_2r #(
  // Bits per word, words, address bits (Depth <= 2^AddrBits).
  parameter integer Width    = 8,
  parameter integer Depth    = 16,
  parameter integer AddrBits = 4,
  // 1 = block RAM, 0 = LUT RAM (or LUT logic for a ROM).
  parameter integer Block    = 1,
  // Memory image loaded with `BRAMBLE_READMEMH ("" = all zeros).
  parameter         InitFile = ""
) (
  input  wire                clk_i,
  input  wire                rd_en_i,
  input  wire [AddrBits-1:0] rd_addr0_i,
  input  wire [AddrBits-1:0] rd_addr1_i,
  output wire [Width-1:0]    rd_data0_o,
  output wire [Width-1:0]    rd_data1_o
);

  initial begin
    if (Depth < 1 || AddrBits < 1 || Width < 1 || (Depth > (1 << AddrBits))) begin
      $display("bramble_rom_2r: bad parameters Width=%0d Depth=%0d AddrBits=%0d",
               Width, Depth, AddrBits);
      $finish;
    end
  end

  // Index with exactly the bits the array needs (AddrBits may be wider than Depth requires).
  localparam integer IdxBits = (Depth <= 1) ? 1 : $clog2(Depth);

  wire [IdxBits-1:0] rd_idx0 = rd_addr0_i[IdxBits-1:0];
  wire [IdxBits-1:0] rd_idx1 = rd_addr1_i[IdxBits-1:0];

  generate
    if (AddrBits > IdxBits) begin : gen_unused_addr
      wire unused_addr = ^{rd_addr0_i[AddrBits-1:IdxBits], rd_addr1_i[AddrBits-1:IdxBits]};
    end
  endgenerate

  generate
    if (Block != 0) begin : gen_block
      (* ram_style = "block" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data0_q;
      reg [Width-1:0] rd_data1_q;

      if (InitFile != "") begin : gen_init
        `BRAMBLE_READMEMH(InitFile, mem)
      end else begin : gen_zero
        integer i;
        initial begin
          for (i = 0; i < Depth; i = i + 1) begin
            mem[i] = {Width{1'b0}};
          end
        end
      end

      always @(posedge clk_i) begin
        if (rd_en_i) begin
          rd_data0_q <= mem[rd_idx0];
          rd_data1_q <= mem[rd_idx1];
        end
      end

      assign rd_data0_o = rd_data0_q;
      assign rd_data1_o = rd_data1_q;
    end else begin : gen_logic
      (* ram_style = "logic" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data0_q;
      reg [Width-1:0] rd_data1_q;

      if (InitFile != "") begin : gen_init
        `BRAMBLE_READMEMH(InitFile, mem)
      end else begin : gen_zero
        integer i;
        initial begin
          for (i = 0; i < Depth; i = i + 1) begin
            mem[i] = {Width{1'b0}};
          end
        end
      end

      always @(posedge clk_i) begin
        if (rd_en_i) begin
          rd_data0_q <= mem[rd_idx0];
          rd_data1_q <= mem[rd_idx1];
        end
      end

      assign rd_data0_o = rd_data0_q;
      assign rd_data1_o = rd_data1_q;
    end
  endgenerate

endmodule

`resetall
