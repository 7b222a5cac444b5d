// bramble_entry_ram: a PE's entry memory when the weights are loaded at run time.
//
// Entries are read as pairs (pair m = entries 2m and 2m+1, entry 2m in the low EntryBits), so the
// memory stores pair words: one read port, one write port (simple dual port), which maps onto
// block RAM and UltraRAM (bramble_rom_2r's two read ports leave no port for writing). PairsPerWord
// (1, 2 or 4) packs that many pairs into one word, lane j (bits [j*2*EntryBits +: 2*EntryBits])
// holding pair word * PairsPerWord + j: the read address is pair >> log2(PairsPerWord), and the
// lane is selected after the read register (its index is registered with the read), so
// 4 pairs of 9-bit entries fill one 72-bit URAM288 word (4K x 72).
//
// Style: "block" (ram_style = "block"), "distributed" (LUT RAM) or "ultra" (ram_style = "ultra";
// UltraScale+ only, never initialised). The read register loads only when rd_en_i is high. A
// read of the address being written in the same clock returns the old word (the loader writes
// only while the engine is idle). The memory starts uninitialised: the loader fills it.
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_entry_ram #(
  // Bits of one entry; pairs per memory word (1, 2 or 4).
  parameter integer EntryBits    = 8,
  parameter integer PairsPerWord = 1,
  // Memory words, bits of a write (word) address, and bits of a pair index (the read address:
  // at least the word address bits + log2(PairsPerWord)).
  parameter integer Depth        = 16,
  parameter integer AddrBits     = 4,
  parameter integer PairBits     = 4,
  // "block", "distributed" or "ultra" (a string of up to 11 characters).
  parameter [8*11-1:0] Style     = "block"
) (
  input  wire                                  clk_i,
  input  wire                                  wr_en_i,
  input  wire [AddrBits-1:0]                   wr_addr_i,  // word address
  input  wire [2*EntryBits*PairsPerWord-1:0]   wr_data_i,
  input  wire                                  rd_en_i,
  input  wire [PairBits-1:0]                   rd_pair_i,  // pair index
  output wire [2*EntryBits-1:0]                rd_data_o   // the pair: {entry 2m+1, entry 2m}
);

  localparam integer PairW    = 2 * EntryBits;
  localparam integer Width    = PairW * PairsPerWord;
  localparam integer LaneBits = (PairsPerWord == 4) ? 2 : ((PairsPerWord == 2) ? 1 : 0);
  localparam integer IdxBits  = (Depth <= 1) ? 1 : $clog2(Depth);
  // The styles at Style's width (string literals compare by value, zero-extended).
  localparam [8*11-1:0] SBlock = "block";
  localparam [8*11-1:0] SDist  = "distributed";
  localparam [8*11-1:0] SUltra = "ultra";

  initial begin
    if (Depth < 1 || EntryBits < 1 || PairBits < IdxBits + LaneBits || AddrBits < IdxBits ||
        (PairsPerWord != 1 && PairsPerWord != 2 && PairsPerWord != 4) ||
        (Style != SBlock && Style != SDist && Style != SUltra)) begin
      $display("bramble_entry_ram: bad parameters EntryBits=%0d PairsPerWord=%0d Depth=%0d",
               EntryBits, PairsPerWord, Depth);
      $finish;
    end
  end

  wire [IdxBits-1:0] wr_idx = wr_addr_i[IdxBits-1:0];
  wire [IdxBits-1:0] rd_idx = rd_pair_i[LaneBits +: IdxBits];
  wire [Width-1:0]   word;

  generate
    if (AddrBits > IdxBits) begin : gen_unused_wr
      wire unused_wr = ^wr_addr_i[AddrBits-1:IdxBits];
    end
    if (PairBits > IdxBits + LaneBits) begin : gen_unused_rd
      wire unused_rd = ^rd_pair_i[PairBits-1:IdxBits+LaneBits];
    end
  endgenerate

  generate
    if (Style == SUltra) begin : gen_ultra
      (* ram_style = "ultra" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data_q;
      always @(posedge clk_i) begin
        if (wr_en_i) begin
          mem[wr_idx] <= wr_data_i;
        end
        if (rd_en_i) begin
          rd_data_q <= mem[rd_idx];
        end
      end
      assign word = rd_data_q;
    end else if (Style == SDist) begin : gen_dist
      (* ram_style = "distributed" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data_q;
      always @(posedge clk_i) begin
        if (wr_en_i) begin
          mem[wr_idx] <= wr_data_i;
        end
        if (rd_en_i) begin
          rd_data_q <= mem[rd_idx];
        end
      end
      assign word = rd_data_q;
    end else begin : gen_block
      (* ram_style = "block" *) reg [Width-1:0] mem [0:Depth-1];
      reg [Width-1:0] rd_data_q;
      always @(posedge clk_i) begin
        if (wr_en_i) begin
          mem[wr_idx] <= wr_data_i;
        end
        if (rd_en_i) begin
          rd_data_q <= mem[rd_idx];
        end
      end
      assign word = rd_data_q;
    end
  endgenerate

  generate
    if (PairsPerWord > 1) begin : gen_lanes
      reg [LaneBits-1:0] lane_q;
      always @(posedge clk_i) begin
        if (rd_en_i) begin
          lane_q <= rd_pair_i[LaneBits-1:0];
        end
      end
      assign rd_data_o = word[lane_q*PairW +: PairW];
    end else begin : gen_one
      assign rd_data_o = word;
    end
  endgenerate

endmodule

`resetall
