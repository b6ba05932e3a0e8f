{{ c.header }}
`default_nettype none

// Two crossbar banks in one true dual-port memory (fpga target, fpga/tdp:
// ECP5 DP16KD, Xilinx RAMB18E1): port A serves bank 2p at words {0, row},
// port B bank 2p+1 at words {1, row}. Each port writes its word (we) or
// reads it (latency 1: rdata holds the word addressed at the previous edge).
// A read while either port writes keeps the previous read data: the tile
// never writes cells while an op reads them (prog_ready_o is low while
// busy), and this makes the two ports' collisions don't-care for Yosys, so
// the memory maps to one block RAM.
module {{ c.prefix }}_xbar_ram2 #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Depth = {{ c.pkg }}::XbarPairDepth,
  localparam int Width = {{ c.pkg }}::XbarBankW,
  localparam int AddrW = {{ c.pkg }}::XbarPairAddrW
) (
  input  logic             clk_i,
  // Port A (bank 2p).
  input  logic             a_we_i,
  input  logic [AddrW-1:0] a_addr_i,
  input  logic [Width-1:0] a_wdata_i,
  output logic [Width-1:0] a_rdata_o,
  // Port B (bank 2p+1).
  input  logic             b_we_i,
  input  logic [AddrW-1:0] b_addr_i,
  input  logic [Width-1:0] b_wdata_i,
  output logic [Width-1:0] b_rdata_o
);

  (* ram_style = "block" *)
  logic [Width-1:0] mem_q [Depth];
  logic [Width-1:0] a_rdata_q, b_rdata_q;

  always_ff @(posedge clk_i) begin
    if (a_we_i) begin
      mem_q[a_addr_i] <= a_wdata_i;
    end else if (!b_we_i) begin
      a_rdata_q <= mem_q[a_addr_i];
    end
  end

  always_ff @(posedge clk_i) begin
    if (b_we_i) begin
      mem_q[b_addr_i] <= b_wdata_i;
    end else if (!a_we_i) begin
      b_rdata_q <= mem_q[b_addr_i];
    end
  end

  assign a_rdata_o = a_rdata_q;
  assign b_rdata_o = b_rdata_q;

endmodule

`default_nettype wire
