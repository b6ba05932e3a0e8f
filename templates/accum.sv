{{ c.header }}
`default_nettype none

// Output accumulator bank of one crossbar: Outputs signed AccW-bit entries.
// Each cycle adds the signed value of every valid lane into the entry the
// lane names (the program contract makes the lanes of one op name distinct
// entries, so each lane is one indexed write port). Cleared at start by a
// live bit per entry (an entry whose live bit is low reads as zero), so the
// clear costs one cycle whatever the size; read combinationally.
module {{ c.p }}_accum #(
  parameter Lanes   = {{ c.ou_cols }},
  parameter Outputs = {{ c.outputs }},
  parameter OutIdxW = {{ c.out_idx_bits }},
  parameter SpliceW = {{ c.splice_bits }},
  parameter AccW    = {{ c.acc_bits }}
) (
  input  logic                     clk_i,
  input  logic                     clear_i,
  input  logic                     en_i,
  input  logic [Lanes-1:0]         valid_i,
  input  logic [Lanes*OutIdxW-1:0] idx_i,
  input  logic [Lanes*SpliceW-1:0] val_i,
  input  logic [OutIdxW-1:0]       rd_addr_i,
  output logic [AccW-1:0]          rd_data_o
);

  logic [AccW-1:0]    acc_q [Outputs];
  logic [Outputs-1:0] live_q;

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    logic [OutIdxW-1:0] idx;
    logic [AccW-1:0]    old;
    logic               hit;

    assign idx = idx_i[l*OutIdxW +: OutIdxW];
    // Lanes naming an entry beyond Outputs write nothing.
    assign hit = valid_i[l] && ({1'b0, idx} < (OutIdxW + 1)'(Outputs));
    assign old = (hit && live_q[idx]) ? acc_q[idx] : '0;

    always_ff @(posedge clk_i) begin
      if (!clear_i && en_i && hit) begin
        acc_q[idx] <= old + AccW'($signed(val_i[l*SpliceW +: SpliceW]));
      end
    end
  end

  // Live bits: cleared at start, set by the first write of an entry.
  logic [Outputs-1:0] live_set;
  always_comb begin
    live_set = '0;
    for (int l = 0; l < Lanes; l++) begin
      if (valid_i[l] && ({1'b0, idx_i[l*OutIdxW +: OutIdxW]} < (OutIdxW + 1)'(Outputs))) begin
        live_set[idx_i[l*OutIdxW +: OutIdxW]] = 1'b1;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (clear_i) begin
      live_q <= '0;
    end else if (en_i) begin
      live_q <= live_q | live_set;
    end
  end

  assign rd_data_o = ({1'b0, rd_addr_i} < (OutIdxW + 1)'(Outputs) && live_q[rd_addr_i])
                     ? acc_q[rd_addr_i] : '0;

endmodule

`default_nettype wire
