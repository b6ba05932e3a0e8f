{{ c.header }}
`default_nettype none

// Input buffer, row-index gather and DAC. Holds Inputs activations of ActW
// bits (written InPerWord at a time through the programming port). Each lane
// (one crossbar row of one OU) looks up its input index and applies the
// DacW-bit slice of the current activation step: code = x[idx][step*DacW +:
// DacW], or 0 for an idle row.
module {{ c.prefix }}_gather #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Lanes     = {{ c.pkg }}::GatherLanes,
  localparam int Inputs    = {{ c.pkg }}::Inputs,
  localparam int ActW      = {{ c.pkg }}::ActW,
  localparam int DacW      = {{ c.pkg }}::DacW,
  localparam int InIdxW    = {{ c.pkg }}::InIdxW,
  localparam int StepW     = {{ c.pkg }}::StepW,
  localparam int InPerWord = {{ c.pkg }}::InPerWord,
  localparam int InWordW   = {{ c.pkg }}::InWordW,
  // Activation width padded to whole DAC steps (pad bits read as zero).
  localparam int ActPadW   = {{ c.pkg }}::ActPadW
) (
  input  logic                    clk_i,
  // Programming: write InPerWord inputs (input w*InPerWord+i at [i*ActW +: ActW]).
  input  logic                    wr_en_i,
  input  logic [InWordW-1:0]      wr_word_i,
  input  logic [InPerWord*ActW-1:0] wr_data_i,
  // Gather.
  input  logic [StepW-1:0]        step_i,
  input  logic [Lanes-1:0]        valid_i,
  input  logic [Lanes*InIdxW-1:0] idx_i,
  output logic [Lanes*DacW-1:0]   code_o
);

  // One register per input; `in_arr` is the read view for the gather.
  logic [ActW-1:0] in_arr [Inputs];

  for (genvar n = 0; n < Inputs; n++) begin : gen_in
    logic [ActW-1:0] in_q;
    always_ff @(posedge clk_i) begin
      if (wr_en_i && (wr_word_i == InWordW'(n / InPerWord))) begin
        in_q <= wr_data_i[(n % InPerWord)*ActW +: ActW];
      end
    end
    assign in_arr[n] = in_q;
  end

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    logic [ActPadW-1:0] act;
    assign act = ActPadW'(in_arr[idx_i[l*InIdxW +: InIdxW]]);
    assign code_o[l*DacW +: DacW] = valid_i[l] ? act[step_i*DacW +: DacW] : '0;
  end

endmodule

`default_nettype wire
