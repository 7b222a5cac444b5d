// bramble_engine: the network-independent front end of a Bramble accelerator, structural.
//
//   bramble_axil_slave  AXI4-Lite registers; window accesses as requests
//   bramble_window      window word -> bank and row (bit fields), constant-latency accesses
//   bramble_actbuf      the IN, A and B activation buffers, NumPes banks each
//   bramble_seq         the layer sequencer, layer descriptors, per-layer write-back constants
//   bramble_scanner     non-zero activations of the layer's input -> broadcast to the PEs
//
// The processing elements (bramble_pe) are instantiated next to it by the generated top level
// and connected through the layer / bc_* / pe_* ports. The PEs' room and done flags reach the
// scanner and the sequencer through one AND register each. See docs/engine.md.
//
// The descriptor layout, the register map and the GEOMETRY limits come from bramble_defs.vh
// (generated from bramble-abi).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_engine #(
  // PEs (banks of every activation buffer), layers, bits of a layer number.
  parameter integer NumPes      = 1,
  parameter integer NumLayers   = 1,
  parameter integer LayerBits   = 1,
  // Bits of an activation and of an accumulator.
  parameter integer ActBits     = 16,
  parameter integer AccBits     = 40,
  // AXI4-Lite address bits (four windows; bramble-abi's window rule).
  parameter integer AddrBits    = 14,
  // Network input and output sizes.
  parameter integer InSize      = 1,
  parameter integer OutSize     = 1,
  // Address bits of a PE's pointer banks (a pointer index has one more).
  parameter integer PtrAddrBits = 4,
  // Bits of a buffer row.
  parameter integer RowBits     = 4,
  // Bank depths and memory styles (1 = block RAM, 0 = LUT RAM / LUT logic).
  parameter integer InBufDepth  = 16,
  parameter integer ActBufDepth = 16,
  parameter integer InBufBlock  = 0,
  parameter integer ActBufBlock = 0,
  parameter integer LayersBlock = 0,
  // Layer descriptor image.
  parameter         LayersFile  = "layers.mem",
  // Network hash (identification registers).
  parameter [31:0]  HashLo      = 32'h00000000,
  parameter [31:0]  HashHi      = 32'h00000000
) (
  input  wire                        clk_i,
  input  wire                        rst_ni,

  input  wire [AddrBits-1:0]         s_axil_awaddr_i,
  input  wire [2:0]                  s_axil_awprot_i,
  input  wire                        s_axil_awvalid_i,
  output wire                        s_axil_awready_o,
  input  wire [31:0]                 s_axil_wdata_i,
  input  wire [3:0]                  s_axil_wstrb_i,
  input  wire                        s_axil_wvalid_i,
  output wire                        s_axil_wready_o,
  output wire [1:0]                  s_axil_bresp_o,
  output wire                        s_axil_bvalid_o,
  input  wire                        s_axil_bready_i,
  input  wire [AddrBits-1:0]         s_axil_araddr_i,
  input  wire [2:0]                  s_axil_arprot_i,
  input  wire                        s_axil_arvalid_i,
  output wire                        s_axil_arready_o,
  output wire [31:0]                 s_axil_rdata_o,
  output wire [1:0]                  s_axil_rresp_o,
  output wire                        s_axil_rvalid_o,
  input  wire                        s_axil_rready_i,
  output wire                        irq_o,

  // current layer, to every PE
  output wire [LayerBits-1:0]        layer_o,
  output wire                        layer_start_o,
  output wire [`BRAMBLE_DESC_FIELD_BITS-1:0] bias_base_o,
  output wire [RowBits-1:0]          wb_last_o,
  output wire [AccBits-1:0]          round_o,
  output wire [AccBits-1:0]          sat_mask_o,
  output wire [`BRAMBLE_SHIFT_HI_BITS-1:0] shift_hi_o,
  output wire [2:0]                  shift_lo_o,
  output wire                        relu_o,

  // broadcast to every PE
  output wire                        bc_valid_o,
  output wire [PtrAddrBits:0]        bc_idx_o,
  output wire [ActBits-1:0]          bc_val_o,
  output wire                        bc_end_o,

  // from the PEs (PE k at bit k / slice k)
  input  wire [NumPes-1:0]           pe_room_i,
  input  wire [NumPes-1:0]           pe_done_i,
  input  wire [NumPes-1:0]           pe_we_i,
  input  wire [NumPes*RowBits-1:0]   pe_addr_i,
  input  wire [NumPes*ActBits-1:0]   pe_data_i
);

  localparam integer WordBits   = AddrBits - 4;
  localparam integer PtrIdxBits = PtrAddrBits + 1;
  // The network's output is in A after an odd number of layers, else in B.
  localparam integer OutIsB     = (NumLayers - 1) % 2;
  localparam integer SizeBits   = `BRAMBLE_DESC_FIELD_BITS;
  // NumPes and NumLayers fit GEOMETRY's fields.
  localparam integer MaxFields  = `BRAMBLE_GEOMETRY_FIELD_MAX;

  initial begin
    if (NumPes < 1 || NumPes > MaxFields || NumLayers < 1 || NumLayers > MaxFields ||
        ActBits > 16 || RowBits > WordBits || RowBits > SizeBits - 2 ||
        WordBits > SizeBits - 1 || PtrIdxBits > SizeBits || (NumLayers > (1 << LayerBits))) begin
      $display("bramble_engine: inconsistent parameters (see docs/engine.md)");
      $finish;
    end
  end

  // =============================================================================================
  // AXI4-Lite slave
  wire                start;
  wire                busy;
  wire                done;
  wire [63:0]         cycles;
  wire                win_req;
  wire                win_we;
  wire                win_sel;
  wire [WordBits-1:0] win_word;
  wire [31:0]         win_wdata;
  wire                win_ack;
  wire [31:0]         win_rdata;

  bramble_axil_slave #(
    .AddrBits  (AddrBits),
    .NumPes    (NumPes),
    .NumLayers (NumLayers),
    .ActBits   (ActBits),
    .InSize    (InSize),
    .OutSize   (OutSize),
    .HashLo    (HashLo),
    .HashHi    (HashHi)
  ) u_axil (
    .clk_i            (clk_i),
    .rst_ni           (rst_ni),
    .s_axil_awaddr_i  (s_axil_awaddr_i),
    .s_axil_awprot_i  (s_axil_awprot_i),
    .s_axil_awvalid_i (s_axil_awvalid_i),
    .s_axil_awready_o (s_axil_awready_o),
    .s_axil_wdata_i   (s_axil_wdata_i),
    .s_axil_wstrb_i   (s_axil_wstrb_i),
    .s_axil_wvalid_i  (s_axil_wvalid_i),
    .s_axil_wready_o  (s_axil_wready_o),
    .s_axil_bresp_o   (s_axil_bresp_o),
    .s_axil_bvalid_o  (s_axil_bvalid_o),
    .s_axil_bready_i  (s_axil_bready_i),
    .s_axil_araddr_i  (s_axil_araddr_i),
    .s_axil_arprot_i  (s_axil_arprot_i),
    .s_axil_arvalid_i (s_axil_arvalid_i),
    .s_axil_arready_o (s_axil_arready_o),
    .s_axil_rdata_o   (s_axil_rdata_o),
    .s_axil_rresp_o   (s_axil_rresp_o),
    .s_axil_rvalid_o  (s_axil_rvalid_o),
    .s_axil_rready_i  (s_axil_rready_i),
    .start_o          (start),
    .busy_i           (busy),
    .done_i           (done),
    .cycles_i         (cycles),
    .irq_o            (irq_o),
    .win_req_o        (win_req),
    .win_we_o         (win_we),
    .win_sel_o        (win_sel),
    .win_word_o       (win_word),
    .win_wdata_o      (win_wdata),
    .win_ack_i        (win_ack),
    .win_rdata_i      (win_rdata)
  );

  // =============================================================================================
  // Sequencer
  wire [SizeBits-1:0] in_size;
  wire [SizeBits-1:0] ptr_base;
  wire                scan_done;
  wire                dst_b;
  reg                 all_done_q;
  reg                 all_room_q;

  bramble_seq #(
    .NumLayers   (NumLayers),
    .LayerBits   (LayerBits),
    .ActBits     (ActBits),
    .AccBits     (AccBits),
    .RowBits     (RowBits),
    .LayersBlock (LayersBlock),
    .LayersFile  (LayersFile)
  ) u_seq (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .start_i       (start),
    .busy_o        (busy),
    .done_o        (done),
    .cycles_o      (cycles),
    .layer_o       (layer_o),
    .layer_start_o (layer_start_o),
    .dst_b_o       (dst_b),
    .in_size_o     (in_size),
    .wb_last_o     (wb_last_o),
    .ptr_base_o    (ptr_base),
    .bias_base_o   (bias_base_o),
    .round_o       (round_o),
    .sat_mask_o    (sat_mask_o),
    .shift_hi_o    (shift_hi_o),
    .shift_lo_o    (shift_lo_o),
    .relu_o        (relu_o),
    .scan_done_i   (scan_done),
    .all_done_i    (all_done_q)
  );

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      all_done_q <= 1'b0;
      all_room_q <= 1'b0;
    end else begin
      all_done_q <= &pe_done_i;
      all_room_q <= &pe_room_i;
    end
  end

  // =============================================================================================
  // Scanner
  wire                      scan_rd;
  wire [RowBits-1:0]        scan_row;
  wire [NumPes*ActBits-1:0] lanes;
  wire [PtrIdxBits-1:0]     bc_idx;

  bramble_scanner #(
    .NumPes     (NumPes),
    .ActBits    (ActBits),
    .RowBits    (RowBits),
    .PtrIdxBits (PtrIdxBits)
  ) u_scanner (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .start_i    (layer_start_o),
    .in_size_i  (in_size),
    .ptr_base_i (ptr_base),
    .done_o     (scan_done),
    .rd_en_o    (scan_rd),
    .rd_row_o   (scan_row),
    .lanes_i    (lanes),
    .room_i     (all_room_q),
    .bc_valid_o (bc_valid_o),
    .bc_idx_o   (bc_idx),
    .bc_val_o   (bc_val_o),
    .bc_end_o   (bc_end_o)
  );

  assign bc_idx_o = bc_idx;

  // =============================================================================================
  // Window
  wire               win_rd;
  wire               win_rd_out;
  wire [RowBits-1:0] win_row;
  wire [NumPes-1:0]  win_in_we;
  wire [ActBits-1:0] win_in_data;

  bramble_window #(
    .NumPes   (NumPes),
    .ActBits  (ActBits),
    .RowBits  (RowBits),
    .WordBits (WordBits),
    .InSize   (InSize),
    .OutSize  (OutSize)
  ) u_window (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .busy_i    (busy),
    .req_i     (win_req),
    .we_i      (win_we),
    .sel_out_i (win_sel),
    .word_i    (win_word),
    .wdata_i   (win_wdata),
    .ack_o     (win_ack),
    .rdata_o   (win_rdata),
    .rd_en_o   (win_rd),
    .rd_out_o  (win_rd_out),
    .row_o     (win_row),
    .in_we_o   (win_in_we),
    .in_data_o (win_in_data),
    .lanes_i   (lanes)
  );

  // =============================================================================================
  // Activation buffers. Layer l reads IN (l = 0), A (l odd) or B (l even > 0) and writes A
  // (l even) or B (l odd); the window reads IN or the last layer's output buffer.
  wire [1:0] scan_src = (layer_o == {LayerBits{1'b0}}) ? 2'd0 : (layer_o[0] ? 2'd1 : 2'd2);
  wire [1:0] win_src  = !win_rd_out ? 2'd0 : ((OutIsB == 1) ? 2'd2 : 2'd1);

  bramble_actbuf #(
    .NumPes      (NumPes),
    .NumLayers   (NumLayers),
    .ActBits     (ActBits),
    .RowBits     (RowBits),
    .InBufDepth  (InBufDepth),
    .ActBufDepth (ActBufDepth),
    .InBufBlock  (InBufBlock),
    .ActBufBlock (ActBufBlock)
  ) u_bufs (
    .clk_i     (clk_i),
    .rd_en_i   (scan_rd || win_rd),
    .rd_row_i  (win_rd ? win_row : scan_row),
    .rd_src_i  (win_rd ? win_src : scan_src),
    .lanes_o   (lanes),
    .in_we_i   (win_in_we),
    .in_row_i  (win_row),
    .in_data_i (win_in_data),
    .dst_b_i   (dst_b),
    .pe_we_i   (pe_we_i),
    .pe_addr_i (pe_addr_i),
    .pe_data_i (pe_data_i)
  );

endmodule

`resetall
