// bramble_seq: the engine's sequencer: runs the layers of one inference.
//
// Per layer: read the layer descriptor, derive the layer's write-back constants once (the
// saturation mask and the two shift fields; the rounding constant 2^(shift-1) is already in each
// PE's bias image, docs/numerics.md), pulse layer_start_o (the scanner
// starts, the PEs drop done), wait for the scanner to finish and every PE to finish its
// write-back, then go to the next layer or raise done_o. Layer 0's descriptor and constants are
// loaded while idle (after reset and after every run), so START (from the AXI slave, held
// pending until every PE reports done; after reset the PEs first clear their accumulators)
// starts the first layer at once. cycles_o counts the clocks from START to DONE.
//
// A run is either a START run (input and output half 0; done_o, STATUS.DONE) or a streamed
// vector (sreq_i from bramble_stream_ctrl, halves sreq_half_i; sgo_o when it begins, sdone_o
// when it ends). A pending START goes first. half_o is the run's half from its start until the
// next run starts (layer 0 reads IN half_o, the last layer writes OUT half_o: dst_out_o).
//
// all_done_i comes through a registered AND over the PEs, so it is read only HoldClocks after
// layer_start_o (by then every PE's cleared done flag has reached it).
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_seq #(
  // Layers of the network and the bits of a layer number.
  parameter integer NumLayers   = 1,
  parameter integer LayerBits   = 1,
  // Bits of an activation and of an accumulator.
  parameter integer ActBits     = 16,
  parameter integer AccBits     = 40,
  // Bits of a PE row.
  parameter integer RowBits     = 4,
  // 1 = layer descriptors in block RAM, 0 = LUT logic; their image.
  parameter integer LayersBlock = 0,
  parameter         LayersFile  = "layers.mem",
  // 1 = weights loaded at run time: the descriptors have a write port and no image, and
  // reload_i reads layer 0's descriptor again (after a load).
  parameter integer Runtime     = 0
) (
  input  wire                   clk_i,
  input  wire                   rst_ni,

  // descriptor writes (Runtime = 1)
  input  wire                   wr_en_i,
  input  wire [LayerBits-1:0]   wr_addr_i,
  input  wire [`BRAMBLE_DESC_WIDTH-1:0] wr_data_i,
  input  wire                   reload_i,

  input  wire                   start_i,
  output wire                   busy_o,
  output wire                   start_busy_o,  // a START run is pending or running
  output wire                   done_o,
  input  wire                   sreq_i,
  input  wire                   sreq_half_i,
  output wire                   sgo_o,
  output wire                   sdone_o,
  output wire                   half_o,
  output wire                   dst_out_o,
  output wire [63:0]            cycles_o,

  // current layer
  output wire [LayerBits-1:0]   layer_o,
  output wire                   layer_start_o,
  // the write-back's destination (0 = A, 1 = B): layer_o[0] from layer_start_o on, held until
  // the next layer starts (the last rows land after the sequencer has moved on)
  output wire                   dst_b_o,
  output wire [`BRAMBLE_DESC_FIELD_BITS-1:0] in_size_o,
  output wire [`BRAMBLE_DESC_FIELD_BITS-1:0] ptr_base_o,
  output wire [`BRAMBLE_DESC_FIELD_BITS-1:0] bias_base_o,
  output wire [RowBits-1:0]     wb_last_o,
  output wire [AccBits-1:0]     sat_mask_o,
  output wire [`BRAMBLE_SHIFT_HI_BITS-1:0] shift_hi_o,
  output wire [2:0]             shift_lo_o,
  output wire                   relu_o,

  input  wire                   scan_done_i,
  input  wire                   all_done_i
);

  localparam integer DescBits   = `BRAMBLE_DESC_WIDTH;
  localparam integer SizeBits   = `BRAMBLE_DESC_FIELD_BITS;
  localparam integer ShiftBits  = `BRAMBLE_DESC_SHIFT_BITS;
  // Clocks from layer_start_o until all_done_i reflects every PE's cleared done flag (PE
  // register, AND register) plus margin.
  localparam integer HoldClocks = 4;
  localparam integer ActM1      = ActBits - 1;

  localparam [2:0] StIdle  = 3'd0;
  localparam [2:0] StLoad  = 3'd1;
  localparam [2:0] StDesc  = 3'd2;
  localparam [2:0] StConst = 3'd3;
  localparam [2:0] StRun   = 3'd4;

  reg [2:0]           st_q;
  reg [2:0]           st_d;
  reg                 pending_q;
  reg                 done_q;
  reg [63:0]          cycles_q;
  reg [LayerBits-1:0] layer_q;
  reg [SizeBits-1:0]  in_size_q;
  reg [SizeBits-1:0]  ptr_base_q;
  reg [SizeBits-1:0]  bias_base_q;
  reg [ShiftBits-1:0] shift_q;
  reg                 relu_q;
  reg [RowBits-1:0]   wb_last_q;  // last row every PE writes back (rows per PE - 1)
  reg [AccBits-1:0]   sat_mask_q;
  reg                 start_q;    // layer_start_o
  reg                 dst_b_q;
  reg [2:0]           hold_q;
  reg                 scanned_q;  // the scanner has finished this layer
  reg                 srun_q;     // the run is a streamed vector
  reg                 half_q;
  reg                 dst_out_q;
  reg                 sgo_q;
  reg                 sdone_q;

  wire [DescBits-1:0] desc_rd;
  wire                last_layer = (layer_q == NumLayers[LayerBits-1:0] - 1'b1);
  // The output size is implied by the rows per PE; bits above USED_BITS are zero.
  wire                unused_desc = ^{desc_rd[DescBits-1:`BRAMBLE_DESC_USED_BITS],
                                      desc_rd[`BRAMBLE_DESC_OUT_SIZE_LSB +: SizeBits]};
  wire [`BRAMBLE_DESC_PE_ROWS_BITS-1:0] pe_rows =
    desc_rd[`BRAMBLE_DESC_PE_ROWS_LSB +: `BRAMBLE_DESC_PE_ROWS_BITS];
  wire                unused_rows = ^pe_rows[`BRAMBLE_DESC_PE_ROWS_BITS-1:RowBits];

  bramble_ram_sdp #(
    .Width    (DescBits),
    .Depth    (NumLayers),
    .AddrBits (LayerBits),
    .Block    (LayersBlock),
    .Rom      ((Runtime != 0) ? 0 : 1),
    .InitFile ((Runtime != 0) ? "" : LayersFile)
  ) u_layers (
    .clk_i     (clk_i),
    .wr_en_i   ((Runtime != 0) && wr_en_i),
    .wr_addr_i ((Runtime != 0) ? wr_addr_i : {LayerBits{1'b0}}),
    .wr_data_i ((Runtime != 0) ? wr_data_i : {DescBits{1'b0}}),
    .rd_en_i   (st_q == StLoad),
    .rd_addr_i (layer_q),
    .rd_data_o (desc_rd)
  );

  // Layer constant: bit j of the saturation mask is set when j >= shift + ActBits - 1 (the bits
  // that must all equal the sign after the shift). Written as one shift rather than a per-bit
  // loop: the same logic, and one operation per clock in Verilator instead of AccBits.
  wire [ShiftBits:0]  sat_lsb    = {1'b0, shift_q} + ActM1[ShiftBits:0];
  wire [AccBits-1:0]  sat_mask_d = {AccBits{1'b1}} << sat_lsb;

  wire run_done = scanned_q && (hold_q == 3'd0) && all_done_i;

  // Idle holds layer 0's constants; Load/Desc/Const prepare a layer (layer 0: for the next run).
  always @* begin
    st_d = st_q;
    case (st_q)
      StIdle:  if ((Runtime != 0) && reload_i) st_d = StLoad;
               else if ((pending_q || start_i || sreq_i) && all_done_i) st_d = StRun;
      StLoad:  st_d = StDesc;
      StDesc:  st_d = StConst;
      StConst: st_d = (layer_q == {LayerBits{1'b0}}) ? StIdle : StRun;
      StRun:   if (run_done) st_d = StLoad;
      default: st_d = StLoad;
    endcase
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q        <= StLoad;
      pending_q   <= 1'b0;
      done_q      <= 1'b0;
      cycles_q    <= 64'd0;
      layer_q     <= {LayerBits{1'b0}};
      in_size_q   <= {SizeBits{1'b0}};
      ptr_base_q  <= {SizeBits{1'b0}};
      bias_base_q <= {SizeBits{1'b0}};
      shift_q     <= {ShiftBits{1'b0}};
      relu_q      <= 1'b0;
      wb_last_q   <= {RowBits{1'b0}};
      sat_mask_q  <= {AccBits{1'b0}};
      start_q     <= 1'b0;
      dst_b_q     <= 1'b0;
      hold_q      <= 3'd0;
      scanned_q   <= 1'b0;
      srun_q      <= 1'b0;
      half_q      <= 1'b0;
      dst_out_q   <= 1'b0;
      sgo_q       <= 1'b0;
      sdone_q     <= 1'b0;
    end else begin
      st_q    <= st_d;
      done_q  <= 1'b0;
      sdone_q <= 1'b0;
      sgo_q   <= 1'b0;
      start_q <= (st_d == StRun) && (st_q != StRun);
      if ((st_d == StRun) && (st_q != StRun)) begin
        hold_q    <= HoldClocks[2:0];
        scanned_q <= 1'b0;
        dst_b_q   <= layer_q[0];
        dst_out_q <= last_layer;
      end

      if (start_i) begin
        pending_q <= (st_d != StRun);
        cycles_q  <= 64'd0;
      end else if (busy_o) begin
        cycles_q <= cycles_q + 64'd1;
      end

      case (st_q)
        StIdle: begin
          if (st_d == StRun) begin
            pending_q <= 1'b0;
            // A pending START goes first; a streamed vector uses its halves.
            srun_q    <= !(pending_q || start_i);
            half_q    <= (pending_q || start_i) ? 1'b0 : sreq_half_i;
            sgo_q     <= !(pending_q || start_i);
            if (!(pending_q || start_i)) begin
              cycles_q <= 64'd0;
            end
          end
        end
        StDesc: begin
          in_size_q   <= desc_rd[`BRAMBLE_DESC_IN_SIZE_LSB +: SizeBits];
          ptr_base_q  <= desc_rd[`BRAMBLE_DESC_PTR_BASE_LSB +: SizeBits];
          bias_base_q <= desc_rd[`BRAMBLE_DESC_BIAS_BASE_LSB +: SizeBits];
          shift_q     <= desc_rd[`BRAMBLE_DESC_SHIFT_LSB +: ShiftBits];
          relu_q      <= desc_rd[`BRAMBLE_DESC_RELU_BIT];
          wb_last_q   <= pe_rows[RowBits-1:0] - 1'b1;
        end
        StConst: begin
          sat_mask_q <= sat_mask_d;
        end
        StRun: begin
          if (hold_q != 3'd0) begin
            hold_q <= hold_q - 3'd1;
          end
          if (scan_done_i) begin
            scanned_q <= 1'b1;
          end
          if (run_done) begin
            if (last_layer) begin
              done_q  <= !srun_q;
              sdone_q <= srun_q;
              layer_q <= {LayerBits{1'b0}};
            end else begin
              layer_q <= layer_q + 1'b1;
            end
          end
        end
        default: begin
        end
      endcase
    end
  end

  // Busy from START to DONE (preparing layer 0 for the next run is not).
  assign busy_o        = pending_q || (st_q == StRun) || (layer_q != {LayerBits{1'b0}});
  assign start_busy_o  = pending_q || (busy_o && !srun_q);
  assign done_o        = done_q;
  assign sgo_o         = sgo_q;
  assign sdone_o       = sdone_q;
  assign half_o        = half_q;
  assign dst_out_o     = dst_out_q;
  assign cycles_o      = cycles_q;
  assign layer_o       = layer_q;
  assign layer_start_o = start_q;
  assign dst_b_o       = dst_b_q;
  assign in_size_o     = in_size_q;
  assign ptr_base_o    = ptr_base_q;
  assign bias_base_o   = bias_base_q;
  assign wb_last_o     = wb_last_q;
  assign sat_mask_o    = sat_mask_q;
  assign shift_hi_o    = shift_q[ShiftBits-1:3];
  assign shift_lo_o    = shift_q[2:0];
  assign relu_o        = relu_q;

endmodule

`resetall
