// bramble_window: the host's input and output windows onto the activation buffers.
//
// A window word address maps onto the banks without division: with BankStride = NumPes rounded
// up to a power of two, word w is bank w mod BankStride at row w div BankStride (bit fields of
// w), so activation j sits at word (j div NumPes) * BankStride + j mod NumPes
// (docs/register-map.md; the host computes it with bramble_abi::regs::window_word). Words of
// banks >= NumPes and past the vector's end read 0 and ignore writes. Every access takes the
// same few clocks: decode, then the buffer write or read, then (reads) the bank select.
//
// Accesses are served only while the engine is idle; while busy, writes are dropped and reads
// return 0 (the scanner owns the buffers' read ports then).
`resetall
`timescale 1ns/1ps
`default_nettype none

module bramble_window #(
  // Banks, activation bits, buffer row bits, window word-index bits.
  parameter integer NumPes   = 1,
  parameter integer ActBits  = 16,
  parameter integer RowBits  = 4,
  parameter integer WordBits = 10,
  // Input and output vector sizes.
  parameter integer InSize   = 1,
  parameter integer OutSize  = 1
) (
  input  wire                      clk_i,
  input  wire                      rst_ni,

  input  wire                      busy_i,

  // from the AXI slave (held until ack_o)
  input  wire                      req_i,
  input  wire                      we_i,
  input  wire                      sel_out_i,   // 0 = input window, 1 = output window
  input  wire [WordBits-1:0]       word_i,
  input  wire [31:0]               wdata_i,
  output wire                      ack_o,
  output wire [31:0]               rdata_o,

  // to the buffers
  output wire                      rd_en_o,
  output wire                      rd_out_o,    // read the output buffer (else IN)
  output wire [RowBits-1:0]        row_o,
  output wire [NumPes-1:0]         in_we_o,
  output wire [ActBits-1:0]        in_data_o,
  input  wire [NumPes*ActBits-1:0] lanes_i
);

  // Bank field of a word address.
  localparam integer StrideBits = (NumPes <= 1) ? 0 : $clog2(NumPes);
  localparam integer BankBits   = (StrideBits == 0) ? 1 : StrideBits;
  // Row and bank of the last activation of each vector.
  localparam integer InLastRow   = (InSize - 1) / NumPes;
  localparam integer InLastBank  = (InSize - 1) % NumPes;
  localparam integer OutLastRow  = (OutSize - 1) / NumPes;
  localparam integer OutLastBank = (OutSize - 1) % NumPes;

  initial begin
    if (RowBits + StrideBits > WordBits) begin
      $display("bramble_window: the window is too small for the buffers");
      $finish;
    end
  end

  localparam [2:0] StIdle = 3'd0;
  localparam [2:0] StGo   = 3'd1;
  localparam [2:0] StRead = 3'd2;
  localparam [2:0] StData = 3'd3;
  localparam [2:0] StAck  = 3'd4;

  reg [2:0]          st_q;
  reg [2:0]          st_d;
  reg [BankBits-1:0] bank_q;
  reg [RowBits-1:0]  row_q;
  reg                ok_q;
  reg                ack_q;
  reg [31:0]         rdata_q;

  // Decode (StIdle -> StGo)
  wire [BankBits-1:0] bank;
  wire [WordBits-StrideBits-1:0] row_w = word_i[WordBits-1:StrideBits];
  generate
    if (StrideBits == 0) begin : gen_one_bank
      assign bank = 1'b0;
    end else begin : gen_banks
      assign bank = word_i[StrideBits-1:0];
    end
  endgenerate
  wire unused_row = ^row_w;

  wire [31:0] row32  = {{(32-(WordBits-StrideBits)){1'b0}}, row_w};
  wire [31:0] bank32 = {{(32-BankBits){1'b0}}, bank};
  wire in_ok  = (bank32 < NumPes) && (row32 <= InLastRow) &&
                ((row32 != InLastRow) || (bank32 <= InLastBank));
  wire out_ok = (bank32 < NumPes) && (row32 <= OutLastRow) &&
                ((row32 != OutLastRow) || (bank32 <= OutLastBank));

  // The accessed lane of the row just read, sign-extended.
  reg [ActBits-1:0] lane;
  integer           ln;
  always @* begin
    lane = {ActBits{1'b0}};
    for (ln = 0; ln < NumPes; ln = ln + 1) begin
      if (bank_q == ln[BankBits-1:0]) begin
        lane = lanes_i[ln*ActBits +: ActBits];
      end
    end
  end

  always @* begin
    st_d = st_q;
    case (st_q)
      StIdle: if (req_i && !ack_q) st_d = StGo;
      StGo:   st_d = (!ok_q || busy_i || we_i) ? StAck : StRead;
      StRead: st_d = StData;
      StData: st_d = StAck;
      StAck:  st_d = StIdle;
      default: st_d = StIdle;
    endcase
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q    <= StIdle;
      bank_q  <= {BankBits{1'b0}};
      row_q   <= {RowBits{1'b0}};
      ok_q    <= 1'b0;
      ack_q   <= 1'b0;
      rdata_q <= 32'd0;
    end else begin
      st_q  <= st_d;
      ack_q <= (st_d == StAck);
      if (st_q == StIdle) begin
        bank_q  <= bank;
        row_q   <= row_w[RowBits-1:0];
        ok_q    <= sel_out_i ? out_ok : in_ok;
        rdata_q <= 32'd0;
      end
      if (st_q == StData) begin
        rdata_q <= {{(32-ActBits){lane[ActBits-1]}}, lane};
      end
    end
  end

  wire do_write = (st_q == StGo) && ok_q && !busy_i && we_i;

  genvar gb;
  generate
    for (gb = 0; gb < NumPes; gb = gb + 1) begin : gen_we
      assign in_we_o[gb] = do_write && (bank_q == gb);
    end
  endgenerate

  assign rd_en_o   = (st_q == StRead);
  assign rd_out_o  = sel_out_i;
  assign row_o     = row_q;
  assign in_data_o = wdata_i[ActBits-1:0];
  assign ack_o     = ack_q;
  assign rdata_o   = rdata_q;

  wire unused_wdata = ^wdata_i[31:ActBits];

endmodule

`resetall
