{{ c.header }}
`default_nettype none

// Output accumulator bank of one crossbar: Outputs signed AccW-bit entries.
// Each cycle adds the signed value of every valid lane into the entry the
// lane names. Cleared at start; read combinationally.
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

  // Read view of the accumulators.
  logic [AccW-1:0] acc_arr [Outputs];

  for (genvar o = 0; o < Outputs; o++) begin : gen_acc
    logic signed [AccW-1:0] acc_q;
    logic signed [AccW-1:0] add;

    // The lane (if any) that names this output.
    always_comb begin
      add = '0;
      for (int l = 0; l < Lanes; l++) begin
        if (valid_i[l] && (idx_i[l*OutIdxW +: OutIdxW] == OutIdxW'(o))) begin
          add = add + AccW'($signed(val_i[l*SpliceW +: SpliceW]));
        end
      end
    end

    always_ff @(posedge clk_i) begin
      if (clear_i) begin
        acc_q <= '0;
      end else if (en_i) begin
        acc_q <= acc_q + add;
      end
    end

    assign acc_arr[o] = acc_q;
  end

  assign rd_data_o = acc_arr[rd_addr_i];

endmodule

`default_nettype wire
