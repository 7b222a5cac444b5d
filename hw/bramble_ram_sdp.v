// bramble_ram_sdp: Bramble's simple dual-port memory primitive (the entry memory, read two words
// at a time, is bramble_rom_2r).
//
// Simple dual-port RAM: one write port, one synchronous read port with a registered read-data
// output (no reset on the data, so it maps onto RAMB18/RAMB36 or onto LUT RAM plus a register).
// The read register only loads when rd_en_i is high, so the data stays put while the reader
// stalls. A read of the address being written in the same clock returns the OLD data; the
// written data is visible to a read one clock later (callers that need it sooner forward it).
//
// Block = 1 asks for block RAM, Block = 0 for distributed (LUT) RAM, or for LUT logic when Rom = 1
// (the write port tied off); each choice is a generate branch with a literal attribute so that
// synthesis sees a constant. InitFile = "" leaves the contents uninitialised (zero on an FPGA
// after configuration), otherwise `BRAMBLE_READMEMH (bramble_defs.vh) loads it: by that name
// from the tool's working directory, or, in the Verilator simulation library
// (BRAMBLE_MEM_DIR_PLUSARG defined), from <dir>/<InitFile> when the simulation is started with
// +bramble_mem_dir=<dir>, so the host never changes its working directory. <dir>/<InitFile> must
// fit `BRAMBLE_MEM_PATH_BYTES bytes.
//
// Every memory of the design is an instance of this module or of bramble_rom_2r, so the memory
// planner can predict the BRAM count from the list of instances (docs/engine.md).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_ram_sdp #(
  // Bits per word, words, address bits (Depth <= 2^AddrBits).
  parameter integer Width    = 8,
  parameter integer Depth    = 16,
  parameter integer AddrBits = 4,
  // 1 = block RAM, 0 = LUT RAM (or LUT logic for a ROM).
  parameter integer Block    = 1,
  // 1 = the write port is tied off (a ROM): LUT logic when Block = 0.
  parameter integer Rom      = 0,
  // Memory image loaded with `BRAMBLE_READMEMH ("" = none).
  parameter         InitFile = ""
) (
  input  wire                clk_i,
  input  wire                wr_en_i,
  input  wire [AddrBits-1:0] wr_addr_i,
  input  wire [Width-1:0]    wr_data_i,
  input  wire                rd_en_i,
  input  wire [AddrBits-1:0] rd_addr_i,
  output wire [Width-1:0]    rd_data_o
);

  initial begin
    if (Depth < 1 || AddrBits < 1 || Width < 1 || (Depth > (1 << AddrBits))) begin
      $display("bramble_ram_sdp: bad parameters Width=%0d Depth=%0d AddrBits=%0d",
               Width, Depth, AddrBits);
      $finish;
    end
  end

  // Index with exactly the bits the array needs (AddrBits may be wider than Depth requires).
  localparam integer IdxBits = (Depth <= 1) ? 1 : $clog2(Depth);

  wire [IdxBits-1:0] wr_idx = wr_addr_i[IdxBits-1:0];
  wire [IdxBits-1:0] rd_idx = rd_addr_i[IdxBits-1:0];

  generate
    if (AddrBits > IdxBits) begin : gen_unused_addr
      wire unused_addr = ^{wr_addr_i[AddrBits-1:IdxBits], rd_addr_i[AddrBits-1:IdxBits]};
    end
  endgenerate

  generate
    if (Block != 0) begin : gen_block
      (* ram_style = "block" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data_q;

      if (InitFile != "") begin : gen_init
        `BRAMBLE_READMEMH(InitFile, mem)
      end

      always @(posedge clk_i) begin
        if (wr_en_i) begin
          mem[wr_idx] <= wr_data_i;
        end
        if (rd_en_i) begin
          rd_data_q <= mem[rd_idx];
        end
      end

      assign rd_data_o = rd_data_q;
    end else if (Rom != 0) begin : gen_logic
      // A small ROM (write port tied off): LUT logic. Yosys 0.23 finds no LUT-RAM mapping for
      // a memory without a write port, so "distributed" would fail; "logic" builds the same
      // LUTs a distributed ROM is made of.
      (* ram_style = "logic" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data_q;

      if (InitFile != "") begin : gen_init
        `BRAMBLE_READMEMH(InitFile, mem)
      end

      always @(posedge clk_i) begin
        if (wr_en_i) begin
          mem[wr_idx] <= wr_data_i;
        end
        if (rd_en_i) begin
          rd_data_q <= mem[rd_idx];
        end
      end

      assign rd_data_o = rd_data_q;
    end else begin : gen_dist
      (* ram_style = "distributed" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data_q;

      if (InitFile != "") begin : gen_init
        `BRAMBLE_READMEMH(InitFile, mem)
      end

      always @(posedge clk_i) begin
        if (wr_en_i) begin
          mem[wr_idx] <= wr_data_i;
        end
        if (rd_en_i) begin
          rd_data_q <= mem[rd_idx];
        end
      end

      assign rd_data_o = rd_data_q;
    end
  endgenerate

endmodule

`resetall
