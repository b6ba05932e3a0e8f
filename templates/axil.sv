{{ c.header }}
`default_nettype none

// AXI4-Lite slave around {{ c.prefix }}_tile: 32-bit data, byte addresses,
// one outstanding transaction per channel, every response OKAY (unmapped
// addresses read 0 and ignore writes). AWPROT/ARPROT are not used.
//
// Register map (byte offsets; {{ c.prefix }}_tile_axil_pkg, the manifest's `axil`
// and the C header list the same):
{%- for r in a.regs %}
//   0x{{ "{:03x}"|format(r.offset) }} {{ "{:<10}"|format(r.name) }} {{ r.access }}  {{ r.doc }}
{%- endfor %}
//   0x{{ "{:03x}"|format(a.prog_base) }} PROG_DATA  RW  word i at 0x{{ "{:03x}"|format(a.prog_base) }} + 4 i: bits [32 i, 32 i + 32) of prog_data_i ({{ a.prog_words }} words)
//
// Programming: write PROG_DATA words and PROG_ADDR, then any value to
// PROG_CMD: the wrapper holds prog_valid_i until the tile takes the write
// (STATUS.prog_pending); bus writes are stalled (AWREADY/WREADY low) while a
// programming write is pending, so PROG_ADDR/PROG_DATA cannot change under it.
// Run: write CTRL.start (ignored by the tile while busy), poll STATUS.done
// (set by done_o, cleared by the next CTRL.start) or wait for irq_o. Outputs:
// write OUT_ADDR, poll STATUS.out_valid (set OutLatency + 1 cycles later, when
// out_data_o has been captured), read OUT_DATA (sign-extended).
module {{ c.prefix }}_tile_axil #(
  // Constants of the packages (localparams: not overridable).
  localparam int AddrW      = {{ c.prefix }}_tile_axil_pkg::AddrW,
  localparam int ProgWords  = {{ c.prefix }}_tile_axil_pkg::ProgWords,
  localparam int OutWords   = {{ c.prefix }}_tile_axil_pkg::OutWords,
  localparam int ProgPadW   = {{ c.prefix }}_tile_axil_pkg::ProgPadW,
  localparam int OutPadW    = {{ c.prefix }}_tile_axil_pkg::OutPadW,
  localparam int OutLatency = {{ c.prefix }}_tile_axil_pkg::OutLatency,
  localparam int OutLatW    = {{ c.prefix }}_tile_axil_pkg::OutLatW,
{%- for r in a.regs %}
  localparam int {{ "{:<10}"|format(r.sv_name) }} = {{ c.prefix }}_tile_axil_pkg::{{ r.sv_name }},
{%- endfor %}
  localparam int ProgAddrW  = {{ c.pkg }}::ProgAddrW,
  localparam int ProgDataW  = {{ c.pkg }}::ProgDataW,
  localparam int OutIdxW    = {{ c.pkg }}::OutIdxW,
  localparam int AccW       = {{ c.pkg }}::AccW
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  // AXI4-Lite write address, write data, write response.
  input  logic [AddrW-1:0] s_axi_awaddr_i,
  input  logic             s_axi_awvalid_i,
  output logic             s_axi_awready_o,
  input  logic [31:0]      s_axi_wdata_i,
  input  logic [3:0]       s_axi_wstrb_i,
  input  logic             s_axi_wvalid_i,
  output logic             s_axi_wready_o,
  output logic [1:0]       s_axi_bresp_o,
  output logic             s_axi_bvalid_o,
  input  logic             s_axi_bready_i,
  // AXI4-Lite read address, read data.
  input  logic [AddrW-1:0] s_axi_araddr_i,
  input  logic             s_axi_arvalid_i,
  output logic             s_axi_arready_o,
  output logic [31:0]      s_axi_rdata_o,
  output logic [1:0]       s_axi_rresp_o,
  output logic             s_axi_rvalid_o,
  input  logic             s_axi_rready_i,
  // STATUS.done (level).
  output logic             irq_o
);

  // ---------------------------------------------------------------------------
  // The tile
  // ---------------------------------------------------------------------------
  logic                 prog_valid_q, prog_ready;
  logic [ProgAddrW-1:0] prog_addr_q;
  logic [ProgDataW-1:0] prog_data_q;
  logic                 start_q, busy, done;
  logic [OutIdxW-1:0]   out_addr_q;
  logic [AccW-1:0]      out_data;

  {{ c.prefix }}_tile u_tile (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .prog_valid_i (prog_valid_q),
    .prog_ready_o (prog_ready),
    .prog_addr_i  (prog_addr_q),
    .prog_data_i  (prog_data_q),
    .start_i      (start_q),
    .busy_o       (busy),
    .done_o       (done),
    .out_addr_i   (out_addr_q),
    .out_data_o   (out_data)
  );

  // ---------------------------------------------------------------------------
  // Write channel: address and data taken together, one response at a time
  // ---------------------------------------------------------------------------
  logic             wr_hs, bvalid_q;
  logic             wr_prog;
  logic [AddrW-3:0] wr_word;

  assign wr_hs           = s_axi_awvalid_i && s_axi_wvalid_i && !bvalid_q && !prog_valid_q;
  assign s_axi_awready_o = wr_hs;
  assign s_axi_wready_o  = wr_hs;
  assign s_axi_bvalid_o  = bvalid_q;
  assign s_axi_bresp_o   = 2'b00;
  assign wr_prog         = s_axi_awaddr_i[AddrW-1];
  assign wr_word         = s_axi_awaddr_i[AddrW-1:2];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bvalid_q <= 1'b0;
    end else if (wr_hs) begin
      bvalid_q <= 1'b1;
    end else if (s_axi_bready_i) begin
      bvalid_q <= 1'b0;
    end
  end

  // A register write: the bytes of wdata selected by wstrb over the old value.
  function automatic logic [31:0] merge(logic [31:0] old, logic [31:0] wdata, logic [3:0] wstrb);
    for (int b = 0; b < 4; b++) begin
      merge[b*8 +: 8] = wstrb[b] ? wdata[b*8 +: 8] : old[b*8 +: 8];
    end
  endfunction

  // PROG_DATA: word w holds prog_data_i bits [32 w, 32 w + 32) (bits at or
  // beyond ProgDataW do not exist and read 0).
  always_ff @(posedge clk_i) begin
    if (wr_hs && wr_prog) begin
      for (int w = 0; w < ProgWords; w++) begin
        if (32'(wr_word[AddrW-4:0]) == w) begin
          for (int b = 0; b < 32; b++) begin
            if (w*32 + b < ProgDataW && s_axi_wstrb_i[b/8]) begin
              prog_data_q[w*32 + b] <= s_axi_wdata_i[b];
            end
          end
        end
      end
    end
  end

  logic [ProgPadW-1:0] prog_pad;
  assign prog_pad = ProgPadW'(prog_data_q);

  // Control registers.
  logic                done_q, rd_pend_q, out_valid_q;
  logic [OutLatW-1:0]  wait_q;
  logic [OutPadW-1:0]  out_data_q;
  logic                wr_ctrl;

  assign wr_ctrl = wr_hs && !wr_prog;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      prog_valid_q <= 1'b0;
      prog_addr_q  <= '0;
      start_q      <= 1'b0;
      done_q       <= 1'b0;
      out_addr_q   <= '0;
      rd_pend_q    <= 1'b0;
      wait_q       <= '0;
      out_valid_q  <= 1'b0;
    end else begin
      start_q <= 1'b0;
      if (prog_valid_q && prog_ready) begin
        prog_valid_q <= 1'b0;
      end
      if (done) begin
        done_q <= 1'b1;
      end
      // Output read: out_data_o follows out_addr_i after OutLatency edges;
      // capture it one edge later.
      if (rd_pend_q) begin
        if (wait_q == '0) begin
          rd_pend_q   <= 1'b0;
          out_valid_q <= 1'b1;
        end else begin
          wait_q <= wait_q - OutLatW'(1'b1);
        end
      end
      if (wr_ctrl) begin
        if (32'(wr_word) == RegCtrl && s_axi_wdata_i[0]) begin
          start_q <= 1'b1;
          done_q  <= 1'b0;
        end
        if (32'(wr_word) == RegProgAddr) begin
          prog_addr_q <= ProgAddrW'(merge(32'(prog_addr_q), s_axi_wdata_i, s_axi_wstrb_i));
        end
        if (32'(wr_word) == RegProgCmd) begin
          prog_valid_q <= 1'b1;
        end
        if (32'(wr_word) == RegOutAddr) begin
          out_addr_q  <= OutIdxW'(merge(32'(out_addr_q), s_axi_wdata_i, s_axi_wstrb_i));
          rd_pend_q   <= 1'b1;
          wait_q      <= OutLatW'(OutLatency);
          out_valid_q <= 1'b0;
        end
      end
    end
  end

  // OUT_DATA: out_data_o sign-extended to whole words, captured at the end
  // of an output read.
  always_ff @(posedge clk_i) begin
    if (rd_pend_q && wait_q == '0) begin
      out_data_q <= OutPadW'($signed(out_data));
    end
  end

  assign irq_o = done_q;

  // ---------------------------------------------------------------------------
  // Read channel: one read at a time
  // ---------------------------------------------------------------------------
  logic             rvalid_q;
  logic [31:0]      rdata_q, rdata;
  logic [AddrW-3:0] rd_word;

  assign s_axi_arready_o = !rvalid_q;
  assign s_axi_rvalid_o  = rvalid_q;
  assign s_axi_rdata_o   = rdata_q;
  assign s_axi_rresp_o   = 2'b00;
  assign rd_word         = s_axi_araddr_i[AddrW-1:2];

  // The read mux sees whole words and plain indices (no part-selects inside
  // the process).
  logic        rd_prog;
  logic [31:0] rd_idx, rd_pidx, status;
  logic [31:0] prog_word [ProgWords];
  logic [31:0] out_word [OutWords];

  assign rd_prog = s_axi_araddr_i[AddrW-1];
  assign rd_idx  = 32'(rd_word);
  assign rd_pidx = 32'(rd_word[AddrW-4:0]);
  assign status  = {28'd0, out_valid_q, prog_valid_q, done_q, busy};
  for (genvar w = 0; w < ProgWords; w++) begin : gen_prog_word
    assign prog_word[w] = prog_pad[w*32 +: 32];
  end
  for (genvar w = 0; w < OutWords; w++) begin : gen_out_word
    assign out_word[w] = out_data_q[w*32 +: 32];
  end

  always_comb begin
    rdata = '0;
    if (rd_prog) begin
      for (int w = 0; w < ProgWords; w++) begin
        if (rd_pidx == w) begin
          rdata = prog_word[w];
        end
      end
    end else begin
      if (rd_idx == RegStatus) begin
        rdata = status;
      end
      if (rd_idx == RegProgAddr) begin
        rdata = 32'(prog_addr_q);
      end
      if (rd_idx == RegOutAddr) begin
        rdata = 32'(out_addr_q);
      end
      for (int w = 0; w < OutWords; w++) begin
        if (rd_idx == RegOutData + w) begin
          rdata = out_word[w];
        end
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rvalid_q <= 1'b0;
    end else if (s_axi_arvalid_i && !rvalid_q) begin
      rvalid_q <= 1'b1;
    end else if (s_axi_rready_i) begin
      rvalid_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (s_axi_arvalid_i && !rvalid_q) begin
      rdata_q <= rdata;
    end
  end

  // The byte-offset bits of the addresses are not decoded.
  logic unused_addr;
  assign unused_addr = ^{s_axi_awaddr_i[1:0], s_axi_araddr_i[1:0]};

endmodule

`default_nettype wire
