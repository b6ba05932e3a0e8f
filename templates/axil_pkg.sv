{{ c.header }}
`default_nettype none

// Register map of {{ c.prefix }}_tile_axil, the AXI4-Lite slave around
// {{ c.prefix }}_tile (32-bit data, byte addresses, word registers). Computed by
// the generator; the manifest (`axil`) and the C header list the same map.
package {{ c.prefix }}_tile_axil_pkg;

  localparam int AddrW        = {{ a.addr_bits }};
  localparam int ProgWords    = {{ a.prog_words }};
  localparam int OutWords     = {{ a.out_words }};
  // prog_data_i and out_data_o padded to whole 32-bit words.
  localparam int ProgPadW     = {{ a.prog_words * 32 }};
  localparam int OutPadW      = {{ a.out_words * 32 }};
  // Output port read latency (Derived::out_latency) and its counter width.
  localparam int OutLatency   = {{ a.out_latency }};
  localparam int OutLatW      = {{ a.out_lat_bits }};
  // Word indices (byte offset / 4) of the registers.
{%- for r in a.regs %}
  localparam int {{ r.sv_name }} = {{ r.offset / 4 }};
{%- endfor %}
  // PROG_DATA word i at byte offset ProgBase + 4 i (the upper half of the
  // address space: address bit AddrW-1 set).
  localparam int ProgBase     = {{ a.prog_base }};

endpackage

`default_nettype wire
