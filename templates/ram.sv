{{ c.header }}
`default_nettype none

// {{ r.doc }}
//
// Memory primitive: Depth words of Width bits, one write port and one
// synchronous read port (read latency 1 cycle: rdata_o holds word raddr_i of
// the previous clock edge). A read of the word written at the same edge may
// return the old or the new word: no user relies on it (see above). Yosys
// infers a RAM from it (block RAM with synth_ice40 / synth_ecp5 when it
// fits). For an ASIC, replace this module's body by a wrapper around a
// compiled SRAM macro with the same name, ports and read latency; nothing
// else changes.
module {{ r.module }} #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Depth = {{ c.pkg }}::{{ r.depth }},
  localparam int Width = {{ c.pkg }}::{{ r.width }},
  localparam int AddrW = {{ c.pkg }}::{{ r.addr_w }}
) (
  input  logic             clk_i,
  // Write port.
  input  logic             we_i,
  input  logic [AddrW-1:0] waddr_i,
  input  logic [Width-1:0] wdata_i,
  // Synchronous read port.
  input  logic [AddrW-1:0] raddr_i,
  output logic [Width-1:0] rdata_o
);
{%- if r.block %}

  // Block RAM even where LUT RAM would be cheaper (Yosys memory_libmap).
  (* ram_style = "block" *)
  logic [Width-1:0] mem_q [Depth];
{%- else %}

  logic [Width-1:0] mem_q [Depth];
{%- endif %}
  logic [Width-1:0] rdata_q;

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
  end

  always_ff @(posedge clk_i) begin
    rdata_q <= mem_q[raddr_i];
  end

  assign rdata_o = rdata_q;

endmodule

`default_nettype wire
