// bramble_pe: one processing element of the EIE-style engine (docs/engine.md), structural.
//
// A PE owns output rows i with i mod N == k of every layer (PE k of N; the generated top says
// which, and names the memory images after it) and the memories that hold them: stored entries, column pointers (even/odd banks), biases, codebook, accumulators.
// The broadcast from the scanner is registered at the PE's boundary (one fan-out stage), then:
//
//   bramble_pe_ptr    activation FIFO -> pointer read -> column descriptors
//   bramble_pe_stream column descriptors -> entry pairs -> items {row, code, activation}
//   bramble_pe_mac    items -> codebook x activation -> accumulators (with forwarding)
//   bramble_pe_wb     end of layer -> bias (rounding constant included), shift, saturate, ReLU
//                     -> next buffer
//
// room_o is registered in the activation FIFO; done_o in the write-back.
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_pe #(
  // Bits of an activation, a codebook index, a codebook entry and an accumulator.
  parameter integer ActBits       = 16,
  parameter integer IdxBits       = 4,
  parameter integer CbBits        = 16,
  parameter integer AccBits       = 40,
  // Bits of the layer number.
  parameter integer LayerBits     = 1,
  // Entry memory: depth and address bits.
  parameter integer EntryDepth    = 16,
  parameter integer EntryAddrBits = 4,
  // Column pointers: width, depth of each bank and its address bits.
  parameter integer PtrBits       = 5,
  parameter integer PtrDepth      = 16,
  parameter integer PtrAddrBits   = 4,
  // Bias memory: depth and address bits.
  parameter integer BiasDepth     = 16,
  parameter integer BiasAddrBits  = 4,
  // Codebook depth (layers * 2^IdxBits).
  parameter integer CbDepth       = 32,
  // Accumulator rows and local row bits.
  parameter integer AccDepth      = 16,
  parameter integer RowBits       = 4,
  // Memory styles from the plan: 1 = block RAM, 0 = LUT RAM / LUT logic.
  parameter integer EntryBlock    = 1,
  parameter integer PtrBlock      = 0,
  parameter integer BiasBlock     = 0,
  parameter integer CbBlock       = 0,
  parameter integer AccBlock      = 1,
  // Memory images: MemPrefix + "entries.mem", "ptr_even.mem", "ptr_odd.mem", "bias.mem" (a "*"
  // in MemPrefix is this PE's k of u_pe<k> in the simulation library, bramble_defs.vh).
  parameter         MemPrefix     = "pe0_",
  parameter         CbFile        = "codebook.mem",
  // 1 = weights loaded at run time (no images; write ports fed by the loader's bus, and the
  // entries in bramble_entry_ram: EntryDepth / EntryAddrBits then count its pair words),
  // 0 = weights in the bitstream (the bus is ignored, the memories are ROMs).
  parameter integer Runtime       = 0,
  // Run-time weights: pairs per entry word and the entry memory's style.
  parameter integer PairsPerWord  = 1,
  parameter         EntryStyle    = "block",
  // Bits of the loader bus address and data (the widest of this PE's memories).
  parameter integer WlAddrBits    = 4,
  parameter integer WlDataBits    = 16
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,

  // weight loader bus (Runtime = 1): this PE's select, memory code, word address, data
  input  wire                     wl_we_i,
  input  wire [`BRAMBLE_WMEM_BITS-1:0] wl_mem_i,
  input  wire [WlAddrBits-1:0]    wl_addr_i,
  input  wire [WlDataBits-1:0]    wl_data_i,

  // current layer (stable while the layer runs)
  input  wire [LayerBits-1:0]     layer_i,
  input  wire                     layer_start_i,
  input  wire [`BRAMBLE_DESC_FIELD_BITS-1:0] bias_base_i,
  input  wire [RowBits-1:0]       wb_last_i,
  input  wire [AccBits-1:0]       sat_mask_i,
  input  wire [`BRAMBLE_SHIFT_HI_BITS-1:0] shift_hi_i,
  input  wire [2:0]               shift_lo_i,
  input  wire                     relu_i,

  // broadcast from the scanner: pointer index (ptr_base + column) and activation, end marker
  input  wire                     act_valid_i,
  input  wire [PtrAddrBits:0]     act_idx_i,
  input  wire [ActBits-1:0]       act_val_i,
  input  wire                     act_end_i,
  output wire                     room_o,
  output wire                     done_o,

  // write-back into bank PeIndex of the next activation buffer
  output wire                     out_we_o,
  output wire [RowBits-1:0]       out_addr_o,
  output wire [ActBits-1:0]       out_data_o
);
  // Keep the PE a module of its own in Verilator: with the same parameters for every PE (the
  // simulation library's top passes MemPrefix "pe*_" to all), its code is compiled once and
  // shared by all PEs, which keeps the model small enough for the instruction cache
  // (docs/benchmarks.md, "Verilator throughput"). Other tools ignore the comment.
  /*verilator no_inline_module*/

  localparam integer ItemBits = RowBits + IdxBits + ActBits;

  // Broadcast fan-out register
  reg                   bc_valid_q;
  reg [PtrAddrBits:0]   bc_idx_q;
  reg [ActBits-1:0]     bc_val_q;
  reg                   bc_end_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bc_valid_q <= 1'b0;
      bc_idx_q   <= {(PtrAddrBits+1){1'b0}};
      bc_val_q   <= {ActBits{1'b0}};
      bc_end_q   <= 1'b0;
    end else begin
      bc_valid_q <= act_valid_i;
      bc_idx_q   <= act_idx_i;
      bc_val_q   <= act_val_i;
      bc_end_q   <= act_end_i;
    end
  end

  // Loader bus register (Runtime = 1): like the broadcast, one fan-out stage at the boundary;
  // each memory's write enable is one LUT after it.
  localparam integer EntryWordBits = 2 * (`BRAMBLE_ENTRY_GAP_BITS + IdxBits) * PairsPerWord;
  localparam integer CbAddrBits    = LayerBits + IdxBits;
  wire                     ent_we;
  wire                     even_we;
  wire                     odd_we;
  wire                     bias_we;
  wire                     cb_we;
  wire [WlAddrBits-1:0]    wl_addr;
  wire [WlDataBits-1:0]    wl_data;

  // Each memory takes the low bits it needs.
  wire unused_wl_bits = ^{wl_addr, wl_data};

  generate
    if (Runtime != 0) begin : gen_wl
      reg                          wl_we_q;
      reg [`BRAMBLE_WMEM_BITS-1:0] wl_mem_q;
      reg [WlAddrBits-1:0]         wl_addr_q;
      reg [WlDataBits-1:0]         wl_data_q;
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          wl_we_q <= 1'b0;
        end else begin
          wl_we_q <= wl_we_i;
        end
      end
      always @(posedge clk_i) begin
        wl_mem_q  <= wl_mem_i;
        wl_addr_q <= wl_addr_i;
        wl_data_q <= wl_data_i;
      end
      assign ent_we  = wl_we_q && (wl_mem_q == `BRAMBLE_WMEM_ENTRIES);
      assign even_we = wl_we_q && (wl_mem_q == `BRAMBLE_WMEM_PTR_EVEN);
      assign odd_we  = wl_we_q && (wl_mem_q == `BRAMBLE_WMEM_PTR_ODD);
      assign bias_we = wl_we_q && (wl_mem_q == `BRAMBLE_WMEM_BIAS);
      assign cb_we   = wl_we_q && (wl_mem_q == `BRAMBLE_WMEM_CODEBOOK);
      assign wl_addr = wl_addr_q;
      assign wl_data = wl_data_q;
    end else begin : gen_no_wl
      wire unused_wl = ^{wl_we_i, wl_mem_i, wl_addr_i, wl_data_i};
      assign ent_we  = 1'b0;
      assign even_we = 1'b0;
      assign odd_we  = 1'b0;
      assign bias_we = 1'b0;
      assign cb_we   = 1'b0;
      assign wl_addr = {WlAddrBits{1'b0}};
      assign wl_data = {WlDataBits{1'b0}};
    end
  endgenerate

  wire                col_valid;
  wire [PtrBits-2:0]  col_pair;
  wire [PtrBits-2:0]  col_more;
  wire                col_lo_out;
  wire                col_hi_out;
  wire [ActBits-1:0]  col_val;
  wire                col_pop;
  wire                ptr_busy;

  bramble_pe_ptr #(
    .ActBits     (ActBits),
    .PtrBits     (PtrBits),
    .PtrDepth    (PtrDepth),
    .PtrAddrBits (PtrAddrBits),
    .PtrBlock    (PtrBlock),
    .PtrEvenFile ({MemPrefix, "ptr_even.mem"}),
    .PtrOddFile  ({MemPrefix, "ptr_odd.mem"}),
    .Runtime     (Runtime)
  ) u_ptr (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .wr_even_i    (even_we),
    .wr_odd_i     (odd_we),
    .wr_addr_i    (wl_addr[PtrAddrBits-1:0]),
    .wr_data_i    (wl_data[PtrBits-1:0]),
    .act_valid_i  (bc_valid_q),
    .act_idx_i    (bc_idx_q),
    .act_val_i    (bc_val_q),
    .room_o       (room_o),
    .col_valid_o  (col_valid),
    .col_pair_o   (col_pair),
    .col_more_o   (col_more),
    .col_lo_out_o (col_lo_out),
    .col_hi_out_o (col_hi_out),
    .col_val_o    (col_val),
    .col_pop_i    (col_pop),
    .busy_o       (ptr_busy)
  );

  wire                item0_valid;
  wire [ItemBits-1:0] item0;
  wire                item0_pop;
  wire                item1_valid;
  wire [ItemBits-1:0] item1;
  wire                item1_pop;
  wire                stream_busy;

  bramble_pe_stream #(
    .ActBits       (ActBits),
    .IdxBits       (IdxBits),
    .PtrBits       (PtrBits),
    .EntryDepth    (EntryDepth),
    .EntryAddrBits (EntryAddrBits),
    .EntryBlock    (EntryBlock),
    .EntryFile     ({MemPrefix, "entries.mem"}),
    .RowBits       (RowBits),
    .Runtime       (Runtime),
    .PairsPerWord  (PairsPerWord),
    .EntryStyle    (EntryStyle)
  ) u_stream (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .wr_en_i       (ent_we),
    .wr_addr_i     (wl_addr[EntryAddrBits-1:0]),
    .wr_data_i     (wl_data[EntryWordBits-1:0]),
    .col_valid_i   (col_valid),
    .col_pair_i    (col_pair),
    .col_more_i    (col_more),
    .col_lo_out_i  (col_lo_out),
    .col_hi_out_i  (col_hi_out),
    .col_val_i     (col_val),
    .col_pop_o     (col_pop),
    .item0_valid_o (item0_valid),
    .item0_o       (item0),
    .item0_pop_i   (item0_pop),
    .item1_valid_o (item1_valid),
    .item1_o       (item1),
    .item1_pop_i   (item1_pop),
    .busy_o        (stream_busy)
  );

  wire               wb_rd_en;
  wire [RowBits-1:0] wb_rd_row;
  wire [AccBits-1:0] wb_rd_data;
  wire               wb_clr_en;
  wire [RowBits-1:0] wb_clr_row;
  wire               mac_busy;

  bramble_pe_mac #(
    .ActBits   (ActBits),
    .IdxBits   (IdxBits),
    .CbBits    (CbBits),
    .AccBits   (AccBits),
    .LayerBits (LayerBits),
    .CbDepth   (CbDepth),
    .CbBlock   (CbBlock),
    .CbFile    (CbFile),
    .AccDepth  (AccDepth),
    .RowBits   (RowBits),
    .AccBlock  (AccBlock),
    .Runtime   (Runtime)
  ) u_mac (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .cb_wr_en_i    (cb_we),
    .cb_wr_addr_i  (wl_addr[CbAddrBits-1:0]),
    .cb_wr_data_i  (wl_data[CbBits-1:0]),
    .layer_i       (layer_i),
    .item0_valid_i (item0_valid),
    .item0_i       (item0),
    .item0_pop_o   (item0_pop),
    .item1_valid_i (item1_valid),
    .item1_i       (item1),
    .item1_pop_o   (item1_pop),
    .wb_rd_en_i    (wb_rd_en),
    .wb_rd_row_i   (wb_rd_row),
    .wb_rd_data_o  (wb_rd_data),
    .wb_clr_en_i   (wb_clr_en),
    .wb_clr_row_i  (wb_clr_row),
    .busy_o        (mac_busy)
  );

  bramble_pe_wb #(
    .ActBits      (ActBits),
    .AccBits      (AccBits),
    .AccDepth     (AccDepth),
    .RowBits      (RowBits),
    .BiasDepth    (BiasDepth),
    .BiasAddrBits (BiasAddrBits),
    .BiasBlock    (BiasBlock),
    .BiasFile     ({MemPrefix, "bias.mem"}),
    .NumBusy      (4),
    .Runtime      (Runtime)
  ) u_wb (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .bias_wr_en_i   (bias_we),
    .bias_wr_addr_i (wl_addr[BiasAddrBits-1:0]),
    .bias_wr_data_i (wl_data[AccBits-1:0]),
    .layer_start_i (layer_start_i),
    .bias_base_i   (bias_base_i),
    .wb_last_i     (wb_last_i),
    .sat_mask_i    (sat_mask_i),
    .shift_hi_i    (shift_hi_i),
    .shift_lo_i    (shift_lo_i),
    .relu_i        (relu_i),
    .end_i         (bc_end_q),
    .pipe_busy_i   ({bc_valid_q, ptr_busy, stream_busy, mac_busy}),
    .acc_rd_en_o   (wb_rd_en),
    .acc_rd_row_o  (wb_rd_row),
    .acc_rd_data_i (wb_rd_data),
    .acc_clr_en_o  (wb_clr_en),
    .acc_clr_row_o (wb_clr_row),
    .out_we_o      (out_we_o),
    .out_addr_o    (out_addr_o),
    .out_data_o    (out_data_o),
    .done_o        (done_o)
  );

endmodule

`resetall
