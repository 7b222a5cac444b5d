// bramble_engine: the network-independent front end of a Bramble accelerator.
//
// Holds the AXI4-Lite slave, the layer descriptor ROM, the activation buffers and the
// scanner/sequencer. The processing elements (bramble_pe) are instantiated next to it by the
// generated top level and connected through the pe_* / bc_* ports. Per layer the sequencer reads
// the descriptor, scans the layer's input activations one bank-group (NumPes activations, one
// from every bank) at a time, skips zeros and broadcasts (pointer index, activation) to all PEs
// when every PE FIFO has room, waits for the PEs to drain, starts their write-back and waits for
// it to finish. See docs/engine.md.
//
// Activation buffers, each NumPes banks (activation i lives in bank i mod NumPes at address
// i div NumPes): IN (written only over AXI, read by layer 0, so a second START reruns the same
// inputs), A (output of layers 0, 2, 4, ...) and B (output of layers 1, 3, ...; only present
// when NumLayers > 1). AXI window accesses are served only while the engine is idle; while BUSY,
// window writes are dropped and window reads return 0.
//
// The descriptor layout, the register map and the GEOMETRY limits come from bramble_defs.vh
// (generated from bramble-abi).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_engine #(
  parameter integer NumPes      = 1,
  parameter integer NumLayers   = 1,
  parameter integer LayerBits   = 1,
  parameter integer ActBits     = 16,
  parameter integer AddrBits    = 14,
  parameter integer InSize      = 1,
  parameter integer OutSize     = 1,
  parameter integer PtrAddrBits = 4,
  parameter integer RowBits     = 4,
  parameter integer InBufDepth  = 16,
  parameter integer ActBufDepth = 16,
  parameter integer InBufBlock  = 0,
  parameter integer ActBufBlock = 0,
  parameter integer LayersBlock = 0,
  parameter         LayersFile  = "layers.mem",
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
  output wire [`BRAMBLE_DESC_FIELD_BITS-1:0] bias_base_o,
  output wire [`BRAMBLE_DESC_FIELD_BITS-1:0] out_size_o,
  output wire [`BRAMBLE_DESC_SHIFT_BITS-1:0] shift_o,
  output wire                        relu_o,

  // broadcast to every PE
  output wire                        bc_valid_o,
  output wire [PtrAddrBits:0]        bc_idx_o,
  output wire [ActBits-1:0]          bc_val_o,
  output wire                        wb_start_o,

  // from the PEs (PE k at bit k / slice k)
  input  wire [NumPes-1:0]           pe_ready_i,
  input  wire [NumPes-1:0]           pe_idle_i,
  input  wire [NumPes-1:0]           pe_we_i,
  input  wire [NumPes*RowBits-1:0]   pe_addr_i,
  input  wire [NumPes*ActBits-1:0]   pe_data_i
);

  localparam integer WordBits   = AddrBits - 4;
  localparam integer PtrIdxBits = PtrAddrBits + 1;
  localparam integer OutIsB     = (NumLayers - 1) % 2;
  // Layer descriptor: sizes, bases and column indices are SizeBits wide, the shift ShiftBits.
  localparam integer DescBits   = `BRAMBLE_DESC_WIDTH;
  localparam integer SizeBits   = `BRAMBLE_DESC_FIELD_BITS;
  localparam integer ShiftBits  = `BRAMBLE_DESC_SHIFT_BITS;
  // NumPes fits GEOMETRY's PE field; the window divider's remainder (a bank) needs one bit more.
  localparam integer MaxPes     = `BRAMBLE_GEOMETRY_FIELD_MAX;
  localparam integer RemBits    = `BRAMBLE_GEOMETRY_FIELD_BITS + 1;

  initial begin
    if (NumPes < 1 || NumPes > MaxPes || NumLayers < 1 || NumLayers > MaxPes || ActBits > 16 ||
        RowBits > WordBits || RowBits > SizeBits - 2 || WordBits > SizeBits - 1 ||
        PtrIdxBits > SizeBits || (NumLayers > (1 << LayerBits))) begin
      $display("bramble_engine: inconsistent parameters (see docs/engine.md)");
      $finish;
    end
  end

  // =============================================================================================
  // AXI4-Lite slave
  wire                start;
  wire                busy;
  reg                 done_q;
  reg  [63:0]         cycles_q;
  wire                win_req;
  wire                win_we;
  wire                win_sel;
  wire [WordBits-1:0] win_word;
  wire [31:0]         win_wdata;
  reg                 win_ack_q;
  reg  [31:0]         win_rdata_q;

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
    .done_i           (done_q),
    .cycles_i         (cycles_q),
    .irq_o            (irq_o),
    .win_req_o        (win_req),
    .win_we_o         (win_we),
    .win_sel_o        (win_sel),
    .win_word_o       (win_word),
    .win_wdata_o      (win_wdata),
    .win_ack_i        (win_ack_q),
    .win_rdata_i      (win_rdata_q)
  );

  // =============================================================================================
  // Window accesses: word -> (bank = word mod NumPes, address = word div NumPes) by a bit-serial
  // divider (WordBits clocks), then one buffer access.
  localparam [2:0] WinIdle = 3'd0;
  localparam [2:0] WinDiv  = 3'd1;
  localparam [2:0] WinAcc  = 3'd2;
  localparam [2:0] WinData = 3'd3;
  localparam [2:0] WinAck  = 3'd4;

  reg [2:0]          win_state_q;
  reg [WordBits-1:0] div_num_q;
  reg [WordBits-1:0] div_quo_q;
  reg [RemBits-1:0]  div_rem_q;
  reg [4:0]          div_cnt_q;

  wire [RemBits-1:0]  num_pes_r = NumPes[RemBits-1:0];
  wire [RemBits-1:0]  div_shift = {div_rem_q[RemBits-2:0], div_num_q[WordBits-1]};
  wire                div_ge    = (div_shift >= num_pes_r);
  wire [SizeBits-1:0] word_wide = {{(SizeBits-WordBits){1'b0}}, win_word};
  wire [SizeBits-1:0] in_size_w  = InSize[SizeBits-1:0];
  wire [SizeBits-1:0] out_size_w = OutSize[SizeBits-1:0];
  wire                word_ok   = win_sel ? (word_wide < out_size_w) : (word_wide < in_size_w);
  wire [RowBits-1:0] win_row = div_quo_q[RowBits-1:0];

  wire win_wr_go = (win_state_q == WinAcc) && win_we;
  wire win_rd_go = (win_state_q == WinAcc) && !win_we;

  // =============================================================================================
  // Sequencer
  localparam [2:0] SeqIdle   = 3'd0;
  localparam [2:0] SeqLoad   = 3'd1;
  localparam [2:0] SeqDesc   = 3'd2;
  localparam [2:0] SeqScan   = 3'd3;
  localparam [2:0] SeqDrain  = 3'd4;
  localparam [2:0] SeqWb     = 3'd5;
  localparam [2:0] SeqWbWait = 3'd6;

  reg [2:0]           seq_q;
  reg                 pending_q;
  reg [LayerBits-1:0] layer_q;
  reg [SizeBits-1:0]  in_size_q;
  reg [SizeBits-1:0]  out_size_q;
  reg [SizeBits-1:0]  ptr_base_q;
  reg [SizeBits-1:0]  bias_base_q;
  reg [ShiftBits-1:0] shift_q;
  reg                 relu_q;

  wire [DescBits-1:0] desc_rd;
  wire         all_idle  = &pe_idle_i;
  wire         all_ready = &pe_ready_i;
  wire         last_layer = (layer_q == NumLayers[LayerBits-1:0] - 1'b1);

  assign busy = pending_q || (seq_q != SeqIdle);

  bramble_ram_sdp #(
    .Width    (DescBits),
    .Depth    (NumLayers),
    .AddrBits (LayerBits),
    .Block    (LayersBlock),
    .Rom      (1),
    .InitFile (LayersFile)
  ) u_layers (
    .clk_i     (clk_i),
    .wr_en_i   (1'b0),
    .wr_addr_i ({LayerBits{1'b0}}),
    .wr_data_i ({DescBits{1'b0}}),
    .rd_en_i   (seq_q == SeqLoad),
    .rd_addr_i (layer_q),
    .rd_data_o (desc_rd)
  );

  wire unused_desc = ^desc_rd[DescBits-1:`BRAMBLE_DESC_USED_BITS];

  // Source and destination buffers of the current layer.
  wire src_in = (layer_q == {LayerBits{1'b0}});
  wire src_a  = !src_in && layer_q[0];
  wire dst_a  = !layer_q[0];

  // =============================================================================================
  // Scanner. The bank read registers hold the current group (base column grp_jb_q); consumed_q
  // marks lanes already broadcast. The next group is read in the clock that broadcasts the
  // current group's last non-zero, so groups follow each other without a gap.
  reg                grp_vld_q;
  reg [SizeBits-1:0] grp_jb_q;
  reg [NumPes-1:0]   consumed_q;
  reg [RowBits-1:0]  nxt_g_q;
  reg [SizeBits-1:0] nxt_jb_q;
  reg                bc_vld_q;
  reg [PtrIdxBits-1:0] bc_idx_q;
  reg [ActBits-1:0]  bc_val_q;

  wire [NumPes*ActBits-1:0] in_rd;
  wire [NumPes*ActBits-1:0] a_rd;
  wire [NumPes*ActBits-1:0] b_rd;
  wire [NumPes*ActBits-1:0] lanes = src_in ? in_rd : (src_a ? a_rd : b_rd);

  wire        scanning  = (seq_q == SeqScan);
  wire        more      = (nxt_jb_q < in_size_q);
  wire [SizeBits-1:0] grp_left = in_size_q - grp_jb_q;

  reg [NumPes-1:0]  pend;
  reg [NumPes-1:0]  pick_oh;
  reg [SizeBits-1:0] pick_idx;
  reg [ActBits-1:0] pick_val;
  integer           ln;

  always @* begin
    for (ln = 0; ln < NumPes; ln = ln + 1) begin
      pend[ln] = grp_vld_q && (ln < grp_left) && !consumed_q[ln] &&
                 (lanes[ln*ActBits +: ActBits] != {ActBits{1'b0}});
    end
    pick_oh  = {NumPes{1'b0}};
    pick_idx = {SizeBits{1'b0}};
    pick_val = {ActBits{1'b0}};
    for (ln = NumPes - 1; ln >= 0; ln = ln - 1) begin
      if (pend[ln]) begin
        pick_oh  = {NumPes{1'b0}};
        pick_oh[ln] = 1'b1;
        pick_idx = ln[SizeBits-1:0];
        pick_val = lanes[ln*ActBits +: ActBits];
      end
    end
  end

  wire        any_pend  = (pend != {NumPes{1'b0}});
  wire        push      = scanning && any_pend && all_ready;
  wire        grp_last  = ((pend & ~pick_oh) == {NumPes{1'b0}});
  wire        advance   = scanning && (!grp_vld_q || !any_pend || (push && grp_last));
  wire        scan_rd   = advance && more;
  wire        scan_done = scanning && !grp_vld_q && !more && !bc_vld_q;
  wire [SizeBits-1:0] bc_idx_w = ptr_base_q + grp_jb_q + pick_idx;
  wire        unused_idx = ^bc_idx_w[SizeBits-1:PtrIdxBits];

  // =============================================================================================
  // Activation buffers
  reg [RemBits-1:0] win_bank_q;  // bank of the access in flight (the divider remainder)

  genvar gb;
  generate
    for (gb = 0; gb < NumPes; gb = gb + 1) begin : gen_bank
      wire hit = (div_rem_q == gb);

      bramble_ram_sdp #(
        .Width    (ActBits),
        .Depth    (InBufDepth),
        .AddrBits (RowBits),
        .Block    (InBufBlock),
        .InitFile ("")
      ) u_in (
        .clk_i     (clk_i),
        .wr_en_i   (win_wr_go && hit),
        .wr_addr_i (win_row),
        .wr_data_i (win_wdata[ActBits-1:0]),
        .rd_en_i   ((scan_rd && src_in) || (win_rd_go && !win_sel && hit)),
        .rd_addr_i (scanning ? nxt_g_q : win_row),
        .rd_data_o (in_rd[gb*ActBits +: ActBits])
      );

      bramble_ram_sdp #(
        .Width    (ActBits),
        .Depth    (ActBufDepth),
        .AddrBits (RowBits),
        .Block    (ActBufBlock),
        .InitFile ("")
      ) u_act_a (
        .clk_i     (clk_i),
        .wr_en_i   (pe_we_i[gb] && dst_a),
        .wr_addr_i (pe_addr_i[gb*RowBits +: RowBits]),
        .wr_data_i (pe_data_i[gb*ActBits +: ActBits]),
        .rd_en_i   ((scan_rd && src_a) || (win_rd_go && win_sel && (OutIsB == 0) && hit)),
        .rd_addr_i (scanning ? nxt_g_q : win_row),
        .rd_data_o (a_rd[gb*ActBits +: ActBits])
      );

      if (NumLayers > 1) begin : gen_b
        bramble_ram_sdp #(
          .Width    (ActBits),
          .Depth    (ActBufDepth),
          .AddrBits (RowBits),
          .Block    (ActBufBlock),
          .InitFile ("")
        ) u_act_b (
          .clk_i     (clk_i),
          .wr_en_i   (pe_we_i[gb] && !dst_a),
          .wr_addr_i (pe_addr_i[gb*RowBits +: RowBits]),
          .wr_data_i (pe_data_i[gb*ActBits +: ActBits]),
          .rd_en_i   ((scan_rd && !src_in && !src_a) ||
                      (win_rd_go && win_sel && (OutIsB == 1) && hit)),
          .rd_addr_i (scanning ? nxt_g_q : win_row),
          .rd_data_o (b_rd[gb*ActBits +: ActBits])
        );
      end else begin : gen_no_b
        assign b_rd[gb*ActBits +: ActBits] = {ActBits{1'b0}};
      end
    end
  endgenerate

  // Window read data: the bank of the access, sign-extended.
  reg [ActBits-1:0] win_lane;
  integer           wl;

  always @* begin
    win_lane = {ActBits{1'b0}};
    for (wl = 0; wl < NumPes; wl = wl + 1) begin
      if (win_bank_q == wl[RemBits-1:0]) begin
        if (!win_sel) begin
          win_lane = in_rd[wl*ActBits +: ActBits];
        end else if (OutIsB == 1) begin
          win_lane = b_rd[wl*ActBits +: ActBits];
        end else begin
          win_lane = a_rd[wl*ActBits +: ActBits];
        end
      end
    end
  end

  // =============================================================================================
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      win_state_q <= WinIdle;
      div_num_q   <= {WordBits{1'b0}};
      div_quo_q   <= {WordBits{1'b0}};
      div_rem_q   <= {RemBits{1'b0}};
      div_cnt_q   <= 5'd0;
      win_bank_q  <= {RemBits{1'b0}};
      win_ack_q   <= 1'b0;
      win_rdata_q <= 32'd0;
      seq_q       <= SeqIdle;
      pending_q   <= 1'b0;
      layer_q     <= {LayerBits{1'b0}};
      in_size_q   <= {SizeBits{1'b0}};
      out_size_q  <= {SizeBits{1'b0}};
      ptr_base_q  <= {SizeBits{1'b0}};
      bias_base_q <= {SizeBits{1'b0}};
      shift_q     <= {ShiftBits{1'b0}};
      relu_q      <= 1'b0;
      grp_vld_q   <= 1'b0;
      grp_jb_q    <= {SizeBits{1'b0}};
      consumed_q  <= {NumPes{1'b0}};
      nxt_g_q     <= {RowBits{1'b0}};
      nxt_jb_q    <= {SizeBits{1'b0}};
      bc_vld_q    <= 1'b0;
      bc_idx_q    <= {PtrIdxBits{1'b0}};
      bc_val_q    <= {ActBits{1'b0}};
      done_q      <= 1'b0;
      cycles_q    <= 64'd0;
    end else begin
      // ---- window accesses
      win_ack_q <= 1'b0;
      case (win_state_q)
        WinIdle: begin
          if (win_req && !win_ack_q) begin
            if (busy || !word_ok) begin
              win_rdata_q <= 32'd0;
              win_ack_q   <= 1'b1;
              win_state_q <= WinAck;
            end else begin
              div_num_q   <= win_word;
              div_quo_q   <= {WordBits{1'b0}};
              div_rem_q   <= {RemBits{1'b0}};
              div_cnt_q   <= WordBits[4:0];
              win_state_q <= WinDiv;
            end
          end
        end
        WinDiv: begin
          div_num_q <= {div_num_q[WordBits-2:0], 1'b0};
          div_quo_q <= {div_quo_q[WordBits-2:0], div_ge};
          div_rem_q <= div_ge ? (div_shift - num_pes_r) : div_shift;
          div_cnt_q <= div_cnt_q - 5'd1;
          if (div_cnt_q == 5'd1) begin
            win_state_q <= WinAcc;
          end
        end
        WinAcc: begin
          win_bank_q <= div_rem_q;
          if (win_we) begin
            win_ack_q   <= 1'b1;
            win_state_q <= WinAck;
          end else begin
            win_state_q <= WinData;
          end
        end
        WinData: begin
          win_rdata_q <= {{(32-ActBits){win_lane[ActBits-1]}}, win_lane};
          win_ack_q   <= 1'b1;
          win_state_q <= WinAck;
        end
        WinAck: begin
          win_state_q <= WinIdle;
        end
        default: begin
          win_state_q <= WinIdle;
        end
      endcase

      // ---- sequencer
      done_q <= 1'b0;
      if (start) begin
        pending_q <= 1'b1;
        cycles_q  <= 64'd0;
      end else if (busy) begin
        cycles_q <= cycles_q + 64'd1;
      end

      bc_vld_q <= push;
      if (push) begin
        bc_idx_q <= bc_idx_w[PtrIdxBits-1:0];
        bc_val_q <= pick_val;
      end

      case (seq_q)
        SeqIdle: begin
          // Also waits for the PEs to clear their accumulators after reset.
          if (pending_q && all_idle) begin
            pending_q <= 1'b0;
            layer_q   <= {LayerBits{1'b0}};
            seq_q     <= SeqLoad;
          end
        end
        SeqLoad: begin
          seq_q <= SeqDesc;
        end
        SeqDesc: begin
          in_size_q   <= desc_rd[`BRAMBLE_DESC_IN_SIZE_LSB +: SizeBits];
          out_size_q  <= desc_rd[`BRAMBLE_DESC_OUT_SIZE_LSB +: SizeBits];
          ptr_base_q  <= desc_rd[`BRAMBLE_DESC_PTR_BASE_LSB +: SizeBits];
          bias_base_q <= desc_rd[`BRAMBLE_DESC_BIAS_BASE_LSB +: SizeBits];
          shift_q     <= desc_rd[`BRAMBLE_DESC_SHIFT_LSB +: ShiftBits];
          relu_q      <= desc_rd[`BRAMBLE_DESC_RELU_BIT];
          grp_vld_q   <= 1'b0;
          grp_jb_q    <= {SizeBits{1'b0}};
          consumed_q  <= {NumPes{1'b0}};
          nxt_g_q     <= {RowBits{1'b0}};
          nxt_jb_q    <= {SizeBits{1'b0}};
          seq_q       <= SeqScan;
        end
        SeqScan: begin
          if (advance) begin
            grp_vld_q  <= more;
            grp_jb_q   <= nxt_jb_q;
            consumed_q <= {NumPes{1'b0}};
            if (more) begin
              nxt_g_q  <= nxt_g_q + 1'b1;
              nxt_jb_q <= nxt_jb_q + NumPes[SizeBits-1:0];
            end
          end else if (push) begin
            consumed_q <= consumed_q | pick_oh;
          end
          if (scan_done) begin
            seq_q <= SeqDrain;
          end
        end
        SeqDrain: begin
          if (all_idle) begin
            seq_q <= SeqWb;
          end
        end
        SeqWb: begin
          seq_q <= SeqWbWait;
        end
        SeqWbWait: begin
          if (all_idle) begin
            if (last_layer) begin
              seq_q  <= SeqIdle;
              done_q <= 1'b1;
            end else begin
              layer_q <= layer_q + 1'b1;
              seq_q   <= SeqLoad;
            end
          end
        end
        default: begin
          seq_q <= SeqIdle;
        end
      endcase
    end
  end

  assign layer_o     = layer_q;
  assign bias_base_o = bias_base_q;
  assign out_size_o  = out_size_q;
  assign shift_o     = shift_q;
  assign relu_o      = relu_q;
  assign bc_valid_o  = bc_vld_q;
  assign bc_idx_o    = bc_idx_q;
  assign bc_val_o    = bc_val_q;
  assign wb_start_o  = (seq_q == SeqWb);

  wire unused_win = ^{win_wdata[31:ActBits], div_quo_q};

endmodule

`resetall
