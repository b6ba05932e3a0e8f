{{ c.header }}
`default_nettype none

// Output accumulator bank of one crossbar: Outputs signed AccW-bit entries.
// Each cycle with en_i adds the signed value of every valid lane into the
// entry the lane names (the program contract makes the lanes of one op name
// distinct entries; lanes naming an entry beyond Outputs write nothing).
// clear_i (one cycle at start, when the pipeline is empty) wins over en_i and
// clears every entry at once through a live bit per entry: an entry whose
// live bit is low reads as zero and is overwritten by its next write. The
// live bits have no reset: entries are undefined until the first start.
// Read combinationally.
module {{ c.prefix }}_accum #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Lanes   = {{ c.pkg }}::OuCols,
  localparam int Outputs = {{ c.pkg }}::Outputs,
  localparam int OutIdxW = {{ c.pkg }}::OutIdxW,
  localparam int SpliceW = {{ c.pkg }}::SpliceW,
  localparam int AccW    = {{ c.pkg }}::AccW
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

  // Per lane: in range, and the entry's new value (old value, or zero when
  // not live, plus the sign-extended lane value).
  logic [Lanes-1:0]      hit;
  logic [Lanes*AccW-1:0] sum;

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    logic [OutIdxW-1:0] idx;
    logic [AccW-1:0]    old;

    assign idx    = idx_i[l*OutIdxW +: OutIdxW];
    assign hit[l] = valid_i[l] && ({1'b0, idx} < (OutIdxW + 1)'(Outputs));
    assign old    = (hit[l] && live_q[idx]) ? acc_q[idx] : '0;
    assign sum[l*AccW +: AccW] = old + AccW'($signed(val_i[l*SpliceW +: SpliceW]));
  end

  // One process writes the entries: one indexed write per lane.
  always_ff @(posedge clk_i) begin
    if (!clear_i && en_i) begin
      for (int l = 0; l < Lanes; l++) begin
        if (hit[l]) begin
          acc_q[idx_i[l*OutIdxW +: OutIdxW]] <= sum[l*AccW +: AccW];
        end
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
