// bramble_wload_tb: unit testbench of bramble_wload, the run-time weight loader
// (generator/tests/units.rs runs it).
//
// Weight images (bramble_abi::weights, docs/bundle.md "Weight loading") are built here from the
// format's own definition (memory codes 1..6, NOP 0, END 0xFF, the byte-wise IEEE CRC-32 of
// every word before the END header, self-checked against the standard check value) and driven
// into the AXI4-Stream input one beat at a time with random TVALID gaps (seeded) and junk on
// TDATA while TVALID is low; two words per beat, low first, on a 64-bit TDATA. Every clock the
// write bus is compared with the table of writes the image must cause (one-hot PE or
// wr_layers_o, memory code, address, the word's chunks), in order and each exactly once; no
// write may name an address at or past its memory's depth, and none may follow a visible
// error_o. Also every clock: s_axis_tready_o is on_i on 32 bits and on_i and not the clock after
// a beat on 64 bits; loaded_set_o is exactly the rising edge of loaded_o; error_o and loaded_o
// fall only with clear_i (or, for loaded_o, an error); a clear_i leaves error_o, loaded_o,
// loaded_set_o, hash_o and words_o all 0. Scenarios, one image each, separated by clear_i:
//
//   good images (NOPs, every memory, several PEs, records reaching the depth exactly; with gaps,
//   back to back with a rate check, and the empty image): loaded_o, one loaded_set_o,
//   hash_o = the CRC, words_o = the words sent
//   END with a wrong CRC (a flipped bit, the CRC including the END header, the CRC without the
//   NOPs); a header with bits [31:16] set; an unknown memory code (7, 0x80, 0xFE, code 0 with a
//   PE); a PE >= NumPes, the layer table with PE 1; a count of 0; a record one word past the
//   depth, starting at the depth, with address + count past 2^32: error_o, not loaded, hash_o 0,
//   only the writes of the records before the bad one
//   a word after END (back to back with the CRC, with gaps, a second END, one beat much later):
//   error_o, loaded_o dropped (loaded_o is "an END matched with no error")
//   clear_i in the middle of a record, then a good image
//
// Prints `UNIT PASS bramble_wload ...` or `UNIT FAIL bramble_wload ...`.
`resetall
`timescale 1ns/1ps
`default_nettype none

`include "bramble_defs.vh"

module bramble_wload_tb #(
  parameter integer NumPes      = 3,
  parameter integer TdataBits   = 32,
  parameter integer AddrBits    = 5,
  parameter integer EntryWidth  = 18,
  parameter integer EntryDepth  = 20,
  parameter integer PtrWidth    = 7,
  parameter integer PtrDepth    = 12,
  parameter integer BiasWidth   = 40,
  parameter integer BiasDepth   = 10,
  parameter integer CbWidth     = 16,
  parameter integer CbDepth     = 16,
  parameter integer LayersDepth = 3,
  parameter integer Seed        = 1
);

  localparam integer PerBeat   = TdataBits / 32;
  localparam integer DataBits  = `BRAMBLE_WIMG_MAX_WIDTH;
  localparam integer MemBits   = `BRAMBLE_WMEM_BITS;
  localparam integer MaxWords  = 4096;
  localparam integer MaxWrites = 1024;
  // The image format, from bramble_abi::weights (not from the shared header).
  localparam [31:0] Nop      = 32'h0000_0000;
  localparam [31:0] End      = 32'h0000_00FF;
  localparam integer MEntries = 1;
  localparam integer MPtrEven = 2;
  localparam integer MPtrOdd  = 3;
  localparam integer MBias    = 4;
  localparam integer MCb      = 5;
  localparam integer MLayers  = 6;

  reg                  clk = 1'b0;
  reg                  rst_n = 1'b0;
  reg                  on = 1'b0;
  reg                  clear = 1'b0;
  reg  [TdataBits-1:0] tdata = {TdataBits{1'b0}};
  reg                  tvalid = 1'b0;
  wire                 tready;
  wire                 loaded;
  wire                 loaded_set;
  wire                 error;
  wire [31:0]          words;
  wire [31:0]          hash;
  wire [NumPes-1:0]    wr_pe;
  wire                 wr_layers;
  wire [MemBits-1:0]   wr_mem;
  wire [AddrBits-1:0]  wr_addr;
  wire [DataBits-1:0]  wr_data;

  bramble_wload #(
    .NumPes      (NumPes),
    .TdataBits   (TdataBits),
    .AddrBits    (AddrBits),
    .EntryWidth  (EntryWidth),
    .EntryDepth  (EntryDepth),
    .PtrWidth    (PtrWidth),
    .PtrDepth    (PtrDepth),
    .BiasWidth   (BiasWidth),
    .BiasDepth   (BiasDepth),
    .CbWidth     (CbWidth),
    .CbDepth     (CbDepth),
    .LayersDepth (LayersDepth)
  ) u_dut (
    .clk_i           (clk),
    .rst_ni          (rst_n),
    .on_i            (on),
    .clear_i         (clear),
    .s_axis_tdata_i  (tdata),
    .s_axis_tvalid_i (tvalid),
    .s_axis_tready_o (tready),
    .loaded_o        (loaded),
    .loaded_set_o    (loaded_set),
    .error_o         (error),
    .words_o         (words),
    .hash_o          (hash),
    .wr_pe_o         (wr_pe),
    .wr_layers_o     (wr_layers),
    .wr_mem_o        (wr_mem),
    .wr_addr_o       (wr_addr),
    .wr_data_o       (wr_data)
  );

  always #5 clk = !clk;

  initial begin
    #(10 * 400000);
    $display("UNIT FAIL bramble_wload T%0d N%0d: timeout (400000 clocks)", TdataBits, NumPes);
    $finish;
  end

  // ---------------------------------------------------------------------------------------------
  // The memories (bramble::weight_image::shape as the loader's parameters give it).
  function integer width_of;
    input integer m;
    begin
      case (m)
        MEntries:          width_of = EntryWidth;
        MPtrEven, MPtrOdd: width_of = PtrWidth;
        MBias:             width_of = BiasWidth;
        MCb:               width_of = CbWidth;
        MLayers:           width_of = DataBits;
        default:           width_of = 32;
      endcase
    end
  endfunction

  function integer depth_of;
    input integer m;
    begin
      case (m)
        MEntries:          depth_of = EntryDepth;
        MPtrEven, MPtrOdd: depth_of = PtrDepth;
        MBias:             depth_of = BiasDepth;
        MCb:               depth_of = CbDepth;
        MLayers:           depth_of = LayersDepth;
        default:           depth_of = 0;
      endcase
    end
  endfunction

  function integer chunks_of;
    input integer m;
    begin
      chunks_of = (width_of(m) + 31) / 32;
    end
  endfunction

  // CRC-32 as crc32fast computes it: reflected IEEE polynomial, one byte at a time, LSB first.
  function [31:0] crc_byte;
    input [31:0] crc;
    input [7:0]  b;
    integer i;
    reg [31:0] x;
    begin
      x = crc ^ {24'd0, b};
      for (i = 0; i < 8; i = i + 1) begin
        x = x[0] ? ((x >> 1) ^ 32'hEDB8_8320) : (x >> 1);
      end
      crc_byte = x;
    end
  endfunction

  // ---------------------------------------------------------------------------------------------
  // The image being built and the writes it must cause.
  reg [31:0]  img [0:MaxWords-1];
  integer     img_n;
  integer     exp_pe   [0:MaxWrites-1];  // -1: the layer table
  integer     exp_mem  [0:MaxWrites-1];
  integer     exp_addr [0:MaxWrites-1];
  reg [127:0] exp_data [0:MaxWrites-1];
  integer     exp_last [0:MaxWrites-1];  // image word holding the write's last chunk
  integer     exp_n;
  reg [31:0]  want_crc;

  integer seed;
  integer errors;
  integer scen_n;
  integer tick_n;
  reg [8*48-1:0] scen;

  task fail;
    input [8*64-1:0] what;
    begin
      errors = errors + 1;
      if (errors <= 20) begin
        $display("UNIT FAIL bramble_wload T%0d N%0d: scenario %0d (%0s), clock %0d: %0s",
                 TdataBits, NumPes, scen_n, scen, tick_n, what);
      end
    end
  endtask

  // CRC of img[from..to-1], skipping NOPs if skip_nops (a wrong convention, for a bad image).
  function [31:0] crc_words;
    input integer from;
    input integer to;
    input integer skip_nops;
    integer i;
    integer b;
    reg [31:0] c;
    begin
      c = 32'hFFFF_FFFF;
      for (i = from; i < to; i = i + 1) begin
        if (!(skip_nops != 0 && img[i] == Nop)) begin
          for (b = 0; b < 4; b = b + 1) begin
            c = crc_byte(c, img[i][8*b +: 8]);
          end
        end
      end
      crc_words = ~c;
    end
  endfunction

  task put;
    input [31:0] w;
    begin
      if (img_n >= MaxWords) begin
        fail("image too long (TB bug)");
      end else begin
        img[img_n] = w;
        img_n      = img_n + 1;
      end
    end
  endtask

  task new_image;
    begin
      img_n = 0;
      exp_n = 0;
    end
  endtask

  reg [127:0] rword;
  task rand_word;
    input integer width;
    integer c;
    begin
      for (c = 0; c < 4; c = c + 1) begin
        rword[32*c +: 32] = $random(seed);
      end
      // Sometimes all ones: every bit of the word reaches the bus.
      if ({$random(seed)} % 8 == 0) rword = {128{1'b1}};
      if (width < 128) rword = rword & ((128'd1 << width) - 128'd1);
    end
  endtask

  // A record of `count` random words from `addr` of memory `mem` in PE `pe`; keep = 1: the
  // loader must write them.
  task record;
    input integer mem;
    input integer pe;
    input integer addr;
    input integer count;
    input integer keep;
    integer i;
    integer c;
    begin
      put((mem & 255) | ((pe & 255) << 8));
      put(addr);
      put(count);
      for (i = 0; i < count; i = i + 1) begin
        rand_word(width_of(mem));
        for (c = 0; c < chunks_of(mem); c = c + 1) begin
          put(rword[32*c +: 32]);
        end
        if (keep != 0) begin
          exp_pe[exp_n]   = (mem == MLayers) ? -1 : pe;
          exp_mem[exp_n]  = mem;
          exp_addr[exp_n] = addr + i;
          exp_data[exp_n] = rword;
          exp_last[exp_n] = img_n - 1;
          exp_n           = exp_n + 1;
        end
      end
    end
  endtask

  // A record that fits: a random memory (or `mem` if > 0), PE, address and count.
  task rand_record;
    input integer mem_in;
    input integer keep;
    integer mem;
    integer pe;
    integer cnt;
    integer addr;
    integer maxc;
    begin
      mem  = (mem_in > 0) ? mem_in : 1 + {$random(seed)} % 6;
      pe   = (mem == MLayers) ? 0 : {$random(seed)} % NumPes;
      maxc = (depth_of(mem) < 5) ? depth_of(mem) : 5;
      cnt  = 1 + {$random(seed)} % maxc;
      addr = {$random(seed)} % (depth_of(mem) - cnt + 1);
      record(mem, pe, addr, cnt, keep);
    end
  endtask

  // A header followed by an address, a count and `n` random words (the loader refuses it).
  task raw_record;
    input [31:0] hdr;
    input [31:0] addr;
    input [31:0] count;
    input integer n;
    integer i;
    begin
      put(hdr);
      put(addr);
      put(count);
      for (i = 0; i < n; i = i + 1) put($random(seed));
    end
  endtask

  // NOPs to whole beats, END and the CRC word: how = 0 the right CRC, 1 one bit flipped, 2 the
  // CRC including the END header, 3 the CRC of the words other than NOPs.
  task finish_image;
    input integer how;
    begin
      while ((img_n + 2) % PerBeat != 0) put(Nop);
      want_crc = crc_words(0, img_n, 0);
      put(End);
      case (how)
        0: put(want_crc);
        1: put(want_crc ^ (32'd1 << ({$random(seed)} % 32)));
        2: put(crc_words(0, img_n, 0));
        default: put(crc_words(0, img_n - 1, 1));
      endcase
      if (how == 3 && img[img_n-1] == want_crc) fail("no NOP in the image (TB bug)");
    end
  endtask

  // Zero words to a whole beat.
  task pad_beat;
    begin
      while (img_n % PerBeat != 0) put(Nop);
    end
  endtask

  // The fixed part of a good image: every memory, several PEs, NOPs, records that reach the
  // depth exactly and one that fills a memory.
  task good_records;
    begin
      put(Nop);
      put(Nop);
      record(MEntries, 0, 0, (EntryDepth < 3) ? EntryDepth : 3, 1);
      record(MPtrEven, NumPes - 1, 1, 2, 1);
      record(MPtrOdd, 1 % NumPes, PtrDepth - 2, 2, 1);
      put(Nop);
      record(MBias, {$random(seed)} % NumPes, 0, BiasDepth, 1);
      record(MCb, {$random(seed)} % NumPes, CbDepth - 1, 1, 1);
      record(MLayers, 0, LayersDepth - 1, 1, 1);
      record(MEntries, NumPes - 1, EntryDepth - 1, 1, 1);
      record(MLayers, 0, 0, LayersDepth, 1);
      put(Nop);
      rand_record(0, 1);
      rand_record(0, 1);
      rand_record(0, 1);
      rand_record(0, 1);
    end
  endtask

  // ---------------------------------------------------------------------------------------------
  // Driver and monitor: one call of tick per clock, everything just after the falling edge.
  integer    drv_b;        // beats handed over
  integer    drv_beats;    // beats to send
  integer    vpct;         // chance of TVALID on a clock without a beat pending
  reg        on_want;
  reg        clear_want;
  reg        hs;           // a beat moves at the next rising edge
  reg        hs_prev;
  reg        clear_prev;   // clear_i was high at the last rising edge
  integer    first_hs;
  integer    last_hs;
  integer    wr_n;         // writes seen this scenario
  integer    wr_total;
  integer    set_n;        // loaded_set_o pulses this scenario
  reg        loaded_prev;
  reg        err_seen;     // error_o seen in an earlier clock of this scenario

  integer    k;
  integer    nsel;
  integer    pe_got;
  reg [127:0] mask;

  task monitor;
    begin
      nsel   = 0;
      pe_got = -1;
      for (k = 0; k < NumPes; k = k + 1) begin
        if (wr_pe[k]) begin
          nsel   = nsel + 1;
          pe_got = k;
        end
      end
      if (clear_prev) begin
        if (error !== 1'b0 || loaded !== 1'b0 || loaded_set !== 1'b0 || hash !== 32'd0 ||
            words !== 32'd0 || nsel != 0 || wr_layers !== 1'b0) begin
          fail("clear_i did not reset error/loaded/hash/words/write");
          $display("  error_o %b loaded_o %b loaded_set_o %b hash_o %h words_o %0d wr_pe_o %b wr_layers_o %b",
                   error, loaded, loaded_set, hash, words, wr_pe, wr_layers);
        end
        err_seen = 1'b0;
      end
      if (error === 1'b1 && hash !== 32'd0) begin
        fail("hash_o names weights while error_o is set");
        $display("  hash_o %h", hash);
      end
      if (nsel != 0 || wr_layers) begin
        if (err_seen) fail("a write after error_o");
        if (nsel > 1 || (wr_layers && nsel != 0)) fail("the write select is not one-hot");
        if (wr_mem < MEntries || wr_mem > MLayers) begin
          fail("a write with an unknown memory code");
        end else if (wr_addr >= depth_of(wr_mem)) begin
          fail("a write at or past the memory's depth");
        end
        if (wr_layers) pe_got = -1;
        if (wr_n >= exp_n) begin
          fail("an unexpected write");
          $display("  pe %0d mem %0d addr %0d data %h", pe_got, wr_mem, wr_addr, wr_data);
        end else begin
          mask = (chunks_of(exp_mem[wr_n]) == 4) ? {128{1'b1}} :
                 ((128'd1 << (32 * chunks_of(exp_mem[wr_n]))) - 128'd1);
          if (pe_got != exp_pe[wr_n] || wr_mem != exp_mem[wr_n] || wr_addr != exp_addr[wr_n] ||
              (wr_data & mask) != exp_data[wr_n]) begin
            fail("a write differs from the table");
            $display("  write %0d: pe %0d (wr_pe_o %b, wr_layers_o %b) mem %0d addr %0d data %h",
                     wr_n, pe_got, wr_pe, wr_layers, wr_mem, wr_addr, wr_data & mask);
            $display("  expected:  pe %0d mem %0d addr %0d data %h", exp_pe[wr_n],
                     exp_mem[wr_n], exp_addr[wr_n], exp_data[wr_n]);
          end
        end
        wr_n     = wr_n + 1;
        wr_total = wr_total + 1;
      end
      if (loaded_set !== (loaded && !loaded_prev)) begin
        fail("loaded_set_o is not the rising edge of loaded_o");
        $display("  loaded_set_o %b, loaded_o %b (the clock before %b), error_o %b",
                 loaded_set, loaded, loaded_prev, error);
      end
      if (loaded_set) set_n = set_n + 1;
      if (!clear_prev && err_seen && !error) fail("error_o fell without clear_i");
      if (!clear_prev && loaded_prev && !loaded && !error) fail("loaded_o fell without an error");
      loaded_prev = loaded;
      if (error) err_seen = 1'b1;
    end
  endtask

  task tick;
    begin
      @(negedge clk);
      tick_n     = tick_n + 1;
      clear_prev = clear;
      monitor;
      if (hs) begin
        if (first_hs < 0) first_hs = tick_n;
        last_hs = tick_n;
        drv_b   = drv_b + 1;
        tvalid  = 1'b0;
      end
      // TDATA is junk while TVALID is low.
      if (!tvalid) begin
        for (k = 0; k < PerBeat; k = k + 1) tdata[32*k +: 32] = $random(seed);
      end
      hs_prev    = hs;
      on         = on_want;
      clear      = clear_want;
      #1;
      if (tready !== (on && !(PerBeat == 2 && hs_prev))) begin
        fail("s_axis_tready_o");
        $display("  s_axis_tready_o %b, on_i %b, a beat at the last edge %b", tready, on, hs_prev);
      end
      if (!tvalid && on && drv_b < drv_beats && {$random(seed)} % 100 < vpct) begin
        for (k = 0; k < PerBeat; k = k + 1) tdata[32*k +: 32] = img[drv_b * PerBeat + k];
        tvalid = 1'b1;
      end
      hs = tvalid && tready;
    end
  endtask

  // Send beats [from, to) of the image with TVALID on pct % of the clocks, then let the
  // pipeline drain (on_i stays high, as WCTRL.LOAD does until the host clears it).
  task send;
    input integer from;
    input integer to;
    input integer pct;
    begin
      if (img_n % PerBeat != 0) fail("image not whole beats (TB bug)");
      drv_b     = from;
      drv_beats = to;
      vpct      = pct;
      first_hs  = -1;
      on_want   = 1'b1;
      while (drv_b < drv_beats) tick;
      repeat (12) tick;
    end
  endtask

  task begin_scenario;
    input [8*48-1:0] name;
    begin
      scen_n = scen_n + 1;
      scen   = name;
      new_image;
    end
  endtask

  // The status after an image: every expected write seen, loaded_o, error_o, hash_o, words_o
  // (the words sent), loaded_set_o pulses.
  task expect_status;
    input        want_loaded;
    input        want_error;
    input [31:0] want_hash;
    input integer want_words;
    input integer want_sets;
    begin
      if (wr_n != exp_n) begin
        fail("writes missing");
        $display("  %0d writes, %0d expected", wr_n, exp_n);
      end
      if (loaded !== want_loaded || error !== want_error || hash !== want_hash ||
          words !== want_words || set_n != want_sets) begin
        fail("status");
        $display("  loaded_o %b error_o %b hash_o %h words_o %0d loaded_set_o pulses %0d",
                 loaded, error, hash, words, set_n);
        $display("  expected %b        %b         %h         %0d                      %0d",
                 want_loaded, want_error, want_hash, want_words, want_sets);
      end
    end
  endtask

  task run_good;
    input integer pct;
    begin
      send(0, img_n / PerBeat, pct);
      expect_status(1'b1, 1'b0, want_crc, img_n, 1);
    end
  endtask

  task run_bad;
    input integer pct;
    begin
      send(0, img_n / PerBeat, pct);
      expect_status(1'b0, 1'b1, 32'd0, img_n, 0);
    end
  endtask

  // A clear_i pulse (on_i low, as the host writes WCTRL = CLEAR and then WCTRL = LOAD); the
  // monitor checks its effect.
  task clear_pulse;
    begin
      on_want    = 1'b0;
      clear_want = 1'b1;
      tick;
      clear_want = 1'b0;
      tick;
      tick;
      wr_n  = 0;
      set_n = 0;
    end
  endtask

  // ---------------------------------------------------------------------------------------------
  integer   i;
  integer   part;
  reg [31:0] c;

  initial begin
    seed        = Seed;
    errors      = 0;
    scen_n      = 0;
    scen        = "reset";
    tick_n      = 0;
    drv_b       = 0;
    drv_beats   = 0;
    vpct        = 0;
    on_want     = 1'b0;
    clear_want  = 1'b0;
    hs          = 1'b0;
    hs_prev     = 1'b0;
    clear_prev  = 1'b0;
    first_hs    = -1;
    last_hs     = -1;
    wr_n        = 0;
    wr_total    = 0;
    set_n       = 0;
    loaded_prev = 1'b0;
    err_seen    = 1'b0;
    img_n       = 0;
    exp_n       = 0;

    // The TB's CRC is crc32fast's: "123456789" -> CBF43926, and a word is its LE bytes.
    c = 32'hFFFF_FFFF;
    for (i = 0; i < 9; i = i + 1) c = crc_byte(c, 8'h31 + i[7:0]);
    if (~c != 32'hCBF4_3926) fail("the TB's CRC-32 is not IEEE (TB bug)");
    img[0] = 32'h3433_3231;
    c = crc_byte(crc_byte(crc_byte(crc_byte(32'hFFFF_FFFF, 8'h31), 8'h32), 8'h33), 8'h34);
    if (crc_words(0, 1, 0) != ~c) fail("the TB's word CRC is not little-endian (TB bug)");

    repeat (3) tick;
    rst_n = 1'b1;
    tick;
    if (loaded || error || hash != 0 || words != 0 || wr_pe != 0 || wr_layers) begin
      fail("outputs after reset");
    end

    // 1. Good images.
    begin_scenario("good image, TVALID gaps");
    good_records;
    finish_image(0);
    run_good(60);
    clear_pulse;

    begin_scenario("good image, back to back");
    for (i = 0; i < 12; i = i + 1) rand_record(0, 1);
    finish_image(0);
    run_good(100);
    if (last_hs - first_hs != (img_n / PerBeat - 1) * PerBeat) begin
      fail("rate: not one word per clock");
      $display("  %0d beats in %0d clocks", img_n / PerBeat, last_hs - first_hs + 1);
    end
    clear_pulse;

    begin_scenario("empty image");
    finish_image(0);
    run_good(50);
    clear_pulse;

    // 2. END with a CRC that is not the CRC of every word before the END header.
    begin_scenario("CRC with a flipped bit");
    good_records;
    finish_image(1);
    run_bad(70);
    clear_pulse;

    begin_scenario("CRC including the END header");
    rand_record(0, 1);
    rand_record(0, 1);
    finish_image(2);
    run_bad(70);
    clear_pulse;

    begin_scenario("CRC without the NOPs");
    put(Nop);
    rand_record(0, 1);
    put(Nop);
    rand_record(0, 1);
    finish_image(3);
    run_bad(70);
    clear_pulse;

    // 3. A header with bits [31:16] set: error, nothing written after it.
    begin_scenario("header bit 16");
    rand_record(0, 1);
    raw_record(32'h0001_0000 | MEntries, 0, 1, chunks_of(MEntries));
    rand_record(0, 0);
    finish_image(0);
    run_bad(60);
    clear_pulse;

    begin_scenario("header bit 31, layer table");
    rand_record(MLayers, 1);
    raw_record(32'h8000_0000 | MLayers, 0, 1, 4);
    rand_record(MBias, 0);
    finish_image(0);
    run_bad(60);
    clear_pulse;

    begin_scenario("END with bits [31:16] set");
    rand_record(0, 1);
    pad_beat;
    want_crc = crc_words(0, img_n, 0);
    put(32'h0100_00FF);
    put(want_crc);
    pad_beat;
    run_bad(60);
    clear_pulse;

    // 4. Unknown memory codes (0 with a PE is not a NOP).
    for (i = 0; i < 4; i = i + 1) begin
      begin_scenario("unknown memory code");
      rand_record(0, 1);
      rand_record(0, 1);
      case (i)
        0: c = 32'h0000_0007;
        1: c = 32'h0000_0080 | ((NumPes - 1) << 8);
        2: c = 32'h0000_00FE;
        default: c = 32'h0000_0100;
      endcase
      raw_record(c, 0, 1, 1);
      rand_record(0, 0);
      finish_image(0);
      run_bad(60);
      clear_pulse;
    end

    // 5. A PE the design does not have; the layer table with a PE other than 0.
    for (i = 0; i < 4; i = i + 1) begin
      begin_scenario("PE out of range");
      rand_record(0, 1);
      case (i)
        0: record(MEntries, NumPes, 0, 1, 0);
        1: record(MBias, 255, 0, 1, 0);
        2: record(MPtrOdd, NumPes + 1, 0, 1, 0);
        default: record(MLayers, 1, 0, 1, 0);
      endcase
      rand_record(0, 0);
      finish_image(0);
      run_bad(60);
      clear_pulse;
    end

    // 6. A record of zero words; records past the depth (none of their words is written).
    begin_scenario("a record of zero words");
    rand_record(0, 1);
    raw_record(MCb | ((NumPes - 1) << 8), 0, 0, 0);
    rand_record(0, 0);
    finish_image(0);
    run_bad(60);
    clear_pulse;

    for (i = 1; i <= 6; i = i + 1) begin
      begin_scenario("one word past the depth");
      rand_record(0, 1);
      // The whole memory plus one: its first words would fit.
      record(i, (i == MLayers) ? 0 : NumPes - 1, 0, depth_of(i) + 1, 0);
      rand_record(0, 0);
      finish_image(0);
      run_bad(60);
      clear_pulse;
    end

    for (i = 1; i <= 6; i = i + 1) begin
      begin_scenario("a record at the depth");
      rand_record(0, 1);
      // On a bus of log2(depth) address bits this would alias to address 0.
      record(i, 0, depth_of(i), 1, 0);
      rand_record(0, 0);
      finish_image(0);
      run_bad(60);
      clear_pulse;
    end

    begin_scenario("address + count past 2^32");
    rand_record(0, 1);
    raw_record(MPtrEven, 32'hFFFF_FFFF, 2, 2 * chunks_of(MPtrEven));
    rand_record(0, 0);
    finish_image(0);
    run_bad(60);
    clear_pulse;

    begin_scenario("count 2^32 - 1");
    rand_record(0, 1);
    raw_record(MEntries, 1, 32'hFFFF_FFFF, 8);
    finish_image(0);
    run_bad(60);
    clear_pulse;

    // 7. A word after END: error_o, and loaded_o drops (it is "an END matched with no error").
    begin_scenario("a word after END, back to back");
    rand_record(0, 1);
    rand_record(0, 1);
    finish_image(0);
    put(Nop);
    pad_beat;
    send(0, img_n / PerBeat, 100);
    // The extra word follows the CRC word at once: the error comes in the clock the END
    // matches, so loaded_o never rises, loaded_set_o never pulses and hash_o stays 0.
    expect_status(1'b0, 1'b1, 32'd0, img_n, 0);
    clear_pulse;

    begin_scenario("a second END, TVALID gaps");
    rand_record(0, 1);
    finish_image(0);
    put(End);
    put(want_crc);
    send(0, img_n / PerBeat, 40);
    // loaded_o may have risen (and loaded_set_o pulsed) before the second END arrived.
    expect_status(1'b0, 1'b1, hash, img_n, set_n);
    if (set_n > 1) fail("more than one loaded_set_o pulse");
    clear_pulse;

    begin_scenario("a beat after END, much later");
    rand_record(0, 1);
    rand_record(0, 1);
    finish_image(0);
    part = img_n / PerBeat;
    put(32'hDEAD_BEEF);
    pad_beat;
    send(0, part, 70);
    expect_status(1'b1, 1'b0, want_crc, part * PerBeat, 1);
    repeat (20) tick;
    send(part, img_n / PerBeat, 100);
    expect_status(1'b0, 1'b1, hash, img_n, 1);
    clear_pulse;

    // 8. clear_i in the middle of a record, then a good image from the start.
    begin_scenario("clear_i in a record, then a good image");
    good_records;
    finish_image(0);
    // Stop inside the bias record (its words are many), keep the writes completed before.
    part = (img_n / PerBeat) / 2;
    send(0, part, 60);
    k = 0;
    while (k < exp_n && exp_last[k] < part * PerBeat) k = k + 1;
    exp_n = k;
    expect_status(1'b0, 1'b0, 32'd0, part * PerBeat, 0);
    clear_pulse;
    new_image;
    good_records;
    finish_image(0);
    run_good(60);
    clear_pulse;

    // Once more after all the errors: the loader still takes a good image.
    begin_scenario("good image at the end");
    good_records;
    finish_image(0);
    run_good(80);
    clear_pulse;

    if (errors == 0) begin
      $display("UNIT PASS bramble_wload T%0d N%0d: %0d scenarios, %0d writes checked, %0d clocks",
               TdataBits, NumPes, scen_n, wr_total, tick_n);
    end else begin
      $display("UNIT FAIL bramble_wload T%0d N%0d: %0d errors", TdataBits, NumPes, errors);
    end
    $finish;
  end

endmodule

`resetall
