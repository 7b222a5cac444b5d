// bramble_engine: the network-independent front end of a Bramble accelerator, structural.
//
//   bramble_axil_slave  AXI4-Lite registers; window accesses as requests
//   bramble_window      window word -> bank and row (bit fields), constant-latency accesses
//   bramble_actbuf      the IN, A, B and OUT activation buffers, NumPes banks each
//   bramble_seq         the layer sequencer, layer descriptors, per-layer write-back constants
//   bramble_scanner     non-zero activations of the layer's input -> broadcast to the PEs
//   bramble_axis_in     AXI4-Stream input -> IN (one activation per clock)
//   bramble_axis_out    OUT -> AXI4-Stream output (one activation per clock)
//   bramble_stream_ctrl which halves are full, streamed runs, stream counters and status
//   bramble_wload       (Runtime = 1) weight-image words from the stream input -> write bus
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
  // AXI4-Stream TDATA bits (32 or 64) and lane bits (8 or 16).
  parameter integer TdataBits   = 32,
  parameter integer LaneBits    = 16,
  // Bank depths (IN and OUT: both halves) and memory styles (1 = block RAM, 0 = LUT RAM / LUT
  // logic).
  parameter integer InBufDepth  = 16,
  parameter integer ActBufDepth = 16,
  parameter integer OutBufDepth = 16,
  parameter integer InBufBlock  = 0,
  parameter integer ActBufBlock = 0,
  parameter integer OutBufBlock = 0,
  parameter integer LayersBlock = 0,
  // Layer descriptor image.
  parameter         LayersFile  = "layers.mem",
  // Network hash, or geometry hash with run-time weights (identification registers).
  parameter [31:0]  HashLo      = 32'h00000000,
  parameter [31:0]  HashHi      = 32'h00000000,
  // 1 = weights loaded at run time (bramble_wload, the wl_* bus to the PEs), 0 = weights in the
  // bitstream (WHASH reads WeightsCrc, the CRC of the bundle's weight image).
  parameter integer Runtime     = 0,
  parameter [31:0]  WeightsCrc  = 32'h00000000,
  // Loader bus: address bits, data bits towards the PEs, and each memory's word width and depth
  // as the loader checks them (bramble::weight_image::shape).
  parameter integer WlAddrBits  = 4,
  parameter integer WlDataBits  = 16,
  parameter integer EntryWidth  = 16,
  parameter integer EntryWords  = 16,
  parameter integer PtrWidth    = 5,
  parameter integer PtrDepth    = 16,
  parameter integer BiasWidth   = 40,
  parameter integer BiasDepth   = 16,
  parameter integer CbWidth     = 16,
  parameter integer CbDepth     = 32
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

  input  wire [TdataBits-1:0]        s_axis_tdata_i,
  input  wire                        s_axis_tvalid_i,
  output wire                        s_axis_tready_o,
  input  wire                        s_axis_tlast_i,
  output wire [TdataBits-1:0]        m_axis_tdata_o,
  output wire                        m_axis_tvalid_o,
  input  wire                        m_axis_tready_i,
  output wire                        m_axis_tlast_o,

  // current layer, to every PE
  output wire [LayerBits-1:0]        layer_o,
  output wire                        layer_start_o,
  output wire [`BRAMBLE_DESC_FIELD_BITS-1:0] bias_base_o,
  output wire [RowBits-1:0]          wb_last_o,
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
  input  wire [NumPes*ActBits-1:0]   pe_data_i,

  // weight loader bus to the PEs (Runtime = 1; registered): PE select (one-hot), memory code,
  // word address, data
  output wire [NumPes-1:0]           wl_we_o,
  output wire [`BRAMBLE_WMEM_BITS-1:0] wl_mem_o,
  output wire [WlAddrBits-1:0]       wl_addr_o,
  output wire [WlDataBits-1:0]       wl_data_o
);

  localparam integer WordBits   = AddrBits - 4;
  localparam integer PtrIdxBits = PtrAddrBits + 1;
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
  // stream registers, status and counters
  wire                s_run;
  wire                s_cyc_beat;
  wire                s_clear;
  wire                s_clr_count;
  wire                s_clr_framing;
  wire [31:0]         s_tlast_every;
  wire [31:0]         s_irq_count;
  wire                s_active;
  wire                s_count;
  wire                s_framing;
  wire                s_count_set;
  wire [31:0]         s_vectors;
  wire [31:0]         s_in_beats;
  wire [31:0]         s_out_beats;
  wire [63:0]         s_busy;
  wire [63:0]         s_total;
  // stream input events, the stream being busy (no START, no window access)
  wire                in_first;
  wire                in_busy;
  wire                stream_busy = s_active || in_busy;
  // weight loader
  wire                wload;
  wire                wclear;
  wire                wloaded;
  wire                wloaded_set;
  wire                werror;
  wire [31:0]         wwords;
  wire [31:0]         whash;
  wire                wl_layers;
  wire [`BRAMBLE_WIMG_MAX_WIDTH-1:0] wl_data;
  // The stream input belongs to the loader while WCTRL.LOAD is set and the engine is idle.
  reg                 wl_on_q;

  bramble_axil_slave #(
    .AddrBits  (AddrBits),
    .NumPes    (NumPes),
    .NumLayers (NumLayers),
    .ActBits   (ActBits),
    .InSize    (InSize),
    .OutSize   (OutSize),
    .TdataBits (TdataBits),
    .LaneBits  (LaneBits),
    .HashLo    (HashLo),
    .HashHi    (HashHi),
    .Runtime   (Runtime),
    .WeightsCrc (WeightsCrc)
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
    .stream_busy_i    (stream_busy || in_first),
    .run_o            (s_run),
    .cyc_beat_o       (s_cyc_beat),
    .clear_o          (s_clear),
    .clr_count_o      (s_clr_count),
    .clr_framing_o    (s_clr_framing),
    .tlast_every_o    (s_tlast_every),
    .irq_count_o      (s_irq_count),
    .active_i         (s_active),
    .count_i          (s_count),
    .framing_i        (s_framing),
    .count_set_i      (s_count_set),
    .vectors_i        (s_vectors),
    .in_beats_i       (s_in_beats),
    .out_beats_i      (s_out_beats),
    .sbusy_i          (s_busy),
    .total_i          (s_total),
    .wload_o          (wload),
    .wclear_o         (wclear),
    .wloaded_i        (wloaded),
    .werror_i         (werror),
    .wwords_i         (wwords),
    .whash_i          (whash),
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
  wire                dst_out;
  wire                run_half;
  wire                start_busy;
  wire                sreq;
  wire                sreq_half;
  wire                sgo;
  wire                sdone;
  reg                 all_done_q;
  reg                 all_room_q;

  bramble_seq #(
    .NumLayers   (NumLayers),
    .LayerBits   (LayerBits),
    .ActBits     (ActBits),
    .AccBits     (AccBits),
    .RowBits     (RowBits),
    .LayersBlock (LayersBlock),
    .LayersFile  (LayersFile),
    .Runtime     (Runtime)
  ) u_seq (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .wr_en_i       (wl_layers),
    .wr_addr_i     (wl_addr_o[LayerBits-1:0]),
    .wr_data_i     (wl_data),
    .reload_i      (wloaded_set),
    .start_i       (start),
    .busy_o        (busy),
    .start_busy_o  (start_busy),
    .done_o        (done),
    .sreq_i        (sreq),
    .sreq_half_i   (sreq_half),
    .sgo_o         (sgo),
    .sdone_o       (sdone),
    .half_o        (run_half),
    .dst_out_o     (dst_out),
    .cycles_o      (cycles),
    .layer_o       (layer_o),
    .layer_start_o (layer_start_o),
    .dst_b_o       (dst_b),
    .in_size_o     (in_size),
    .wb_last_o     (wb_last_o),
    .ptr_base_o    (ptr_base),
    .bias_base_o   (bias_base_o),
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
    .busy_i    (busy || stream_busy),
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
  // Streams
  wire [NumPes-1:0]         ax_we;
  wire [RowBits-1:0]        ax_row;
  wire                      ax_half;
  wire [ActBits-1:0]        ax_data;
  wire                      in_beat;
  wire                      in_done;
  wire                      in_done_half;
  wire                      in_framing;
  wire                      open;
  wire                      in_half;
  wire                      out_avail;
  wire                      out_half;
  wire [TdataBits-1:0]      out_cycles;
  wire                      out_tlast;
  wire                      out_beat;
  wire                      out_done;
  wire                      out_busy;
  wire                      out_rd;
  wire [RowBits-1:0]        out_row;
  wire                      out_rd_half;
  wire [NumPes*ActBits-1:0] out_lanes;
  wire                      ax_tready;
  wire                      wl_tready;

  assign s_axis_tready_o = wl_on_q ? wl_tready : ax_tready;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wl_on_q <= 1'b0;
    end else begin
      wl_on_q <= wload && !busy && !stream_busy;
    end
  end

  generate
    if (Runtime != 0) begin : gen_wload
      bramble_wload #(
        .NumPes      (NumPes),
        .TdataBits   (TdataBits),
        .AddrBits    (WlAddrBits),
        .EntryWidth  (EntryWidth),
        .EntryDepth  (EntryWords),
        .PtrWidth    (PtrWidth),
        .PtrDepth    (PtrDepth),
        .BiasWidth   (BiasWidth),
        .BiasDepth   (BiasDepth),
        .CbWidth     (CbWidth),
        .CbDepth     (CbDepth),
        .LayersDepth (NumLayers)
      ) u_wload (
        .clk_i           (clk_i),
        .rst_ni          (rst_ni),
        .on_i            (wl_on_q),
        .clear_i         (wclear),
        .s_axis_tdata_i  (s_axis_tdata_i),
        .s_axis_tvalid_i (s_axis_tvalid_i && wl_on_q),
        .s_axis_tready_o (wl_tready),
        .loaded_o        (wloaded),
        .loaded_set_o    (wloaded_set),
        .error_o         (werror),
        .words_o         (wwords),
        .hash_o          (whash),
        .wr_pe_o         (wl_we_o),
        .wr_layers_o     (wl_layers),
        .wr_mem_o        (wl_mem_o),
        .wr_addr_o       (wl_addr_o),
        .wr_data_o       (wl_data)
      );
    end else begin : gen_no_wload
      assign wl_tready   = 1'b0;
      assign wloaded     = 1'b1;
      assign wloaded_set = 1'b0;
      assign werror      = 1'b0;
      assign wwords      = 32'd0;
      assign whash       = WeightsCrc;
      assign wl_we_o     = {NumPes{1'b0}};
      assign wl_layers   = 1'b0;
      assign wl_mem_o    = {`BRAMBLE_WMEM_BITS{1'b0}};
      assign wl_addr_o   = {WlAddrBits{1'b0}};
      assign wl_data     = {`BRAMBLE_WIMG_MAX_WIDTH{1'b0}};
    end
  endgenerate

  assign wl_data_o = wl_data[WlDataBits-1:0];
  // The PEs take the low WlDataBits; the layer table all of them. CLEAR only matters to the
  // loader.
  wire unused_wl = ^{wl_addr_o, wclear};

  bramble_axis_in #(
    .NumPes    (NumPes),
    .ActBits   (ActBits),
    .TdataBits (TdataBits),
    .LaneBits  (LaneBits),
    .InSize    (InSize),
    .RowBits   (RowBits)
  ) u_axis_in (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axis_tdata_i  (s_axis_tdata_i),
    .s_axis_tvalid_i (s_axis_tvalid_i && !wl_on_q),
    .s_axis_tready_o (ax_tready),
    .s_axis_tlast_i  (s_axis_tlast_i),
    .open_i          (open),
    .block_i         (start),
    .half_i          (in_half),
    .beat_o          (in_beat),
    .first_o         (in_first),
    .done_o          (in_done),
    .done_half_o     (in_done_half),
    .framing_o       (in_framing),
    .busy_o          (in_busy),
    .we_o            (ax_we),
    .row_o           (ax_row),
    .half_o          (ax_half),
    .data_o          (ax_data)
  );

  bramble_stream_ctrl #(
    .TdataBits (TdataBits)
  ) u_stream (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .run_i          (s_run),
    .clear_i        (s_clear),
    .clr_count_i    (s_clr_count),
    .clr_framing_i  (s_clr_framing),
    .tlast_every_i  (s_tlast_every),
    .irq_count_i    (s_irq_count),
    .start_busy_i   (start_busy || start),
    .open_o         (open),
    .in_half_o      (in_half),
    .in_beat_i      (in_beat),
    .in_first_i     (in_first),
    .in_done_i      (in_done),
    .in_done_half_i (in_done_half),
    .in_framing_i   (in_framing),
    .in_busy_i      (in_busy),
    .sreq_o         (sreq),
    .sreq_half_o    (sreq_half),
    .sgo_i          (sgo),
    .sdone_i        (sdone),
    .cycles_i       (cycles),
    .eng_busy_i     (busy),
    .avail_o        (out_avail),
    .out_half_o     (out_half),
    .cycles_o       (out_cycles),
    .tlast_o        (out_tlast),
    .out_beat_i     (out_beat),
    .out_done_i     (out_done),
    .out_busy_i     (out_busy),
    .active_o       (s_active),
    .count_o        (s_count),
    .framing_o      (s_framing),
    .count_set_o    (s_count_set),
    .vectors_o      (s_vectors),
    .in_beats_o     (s_in_beats),
    .out_beats_o    (s_out_beats),
    .busy_o         (s_busy),
    .total_o        (s_total)
  );

  bramble_axis_out #(
    .NumPes    (NumPes),
    .ActBits   (ActBits),
    .TdataBits (TdataBits),
    .LaneBits  (LaneBits),
    .OutSize   (OutSize),
    .RowBits   (RowBits)
  ) u_axis_out (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .m_axis_tdata_o  (m_axis_tdata_o),
    .m_axis_tvalid_o (m_axis_tvalid_o),
    .m_axis_tready_i (m_axis_tready_i),
    .m_axis_tlast_o  (m_axis_tlast_o),
    .avail_i         (out_avail),
    .half_i          (out_half),
    .cyc_beat_i      (s_cyc_beat),
    .cycles_i        (out_cycles),
    .tlast_i         (out_tlast),
    .beat_o          (out_beat),
    .done_o          (out_done),
    .busy_o          (out_busy),
    .rd_en_o         (out_rd),
    .rd_row_o        (out_row),
    .rd_half_o       (out_rd_half),
    .lanes_i         (out_lanes)
  );

  // =============================================================================================
  // Activation buffers. Layer l reads IN (l = 0, half run_half), A (l odd) or B (l even > 0)
  // and writes A (l even), B (l odd) or, the last layer, OUT (half run_half); the window reads
  // half 0 of IN or OUT and writes half 0 of IN (the stream input writes IN while the window
  // is shut).
  wire [1:0] scan_src = (layer_o == {LayerBits{1'b0}}) ? 2'd0 : (layer_o[0] ? 2'd1 : 2'd2);
  wire [1:0] win_src  = win_rd_out ? 2'd3 : 2'd0;
  // The stream input owns the IN write port while it receives (the window is shut then).
  wire       ax_wr    = in_busy;

  bramble_actbuf #(
    .NumPes      (NumPes),
    .NumLayers   (NumLayers),
    .ActBits     (ActBits),
    .RowBits     (RowBits),
    .InBufDepth  (InBufDepth),
    .ActBufDepth (ActBufDepth),
    .OutBufDepth (OutBufDepth),
    .InBufBlock  (InBufBlock),
    .ActBufBlock (ActBufBlock),
    .OutBufBlock (OutBufBlock)
  ) u_bufs (
    .clk_i         (clk_i),
    .rd_en_i       (scan_rd || win_rd),
    .rd_row_i      (win_rd ? win_row : scan_row),
    .rd_half_i     (win_rd ? 1'b0 : run_half),
    .rd_src_i      (win_rd ? win_src : scan_src),
    .lanes_o       (lanes),
    .out_rd_en_i   (out_rd),
    .out_rd_row_i  (out_row),
    .out_rd_half_i (out_rd_half),
    .out_lanes_o   (out_lanes),
    .in_we_i       (win_in_we | ax_we),
    .in_row_i      (ax_wr ? ax_row : win_row),
    .in_half_i     (ax_wr ? ax_half : 1'b0),
    .in_data_i     (ax_wr ? ax_data : win_in_data),
    .dst_out_i     (dst_out),
    .dst_b_i       (dst_b),
    .out_half_i    (run_half),
    .pe_we_i       (pe_we_i),
    .pe_addr_i     (pe_addr_i),
    .pe_data_i     (pe_data_i)
  );

endmodule

`resetall
