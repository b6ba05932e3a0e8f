{{ c.header }}
`default_nettype none

// Input buffer, row-index gather and DAC. Holds Inputs activations of ActW
// bits (written InPerWord at a time through the programming port). Slice
// before gather: the DacW-bit slice of the current activation step is taken
// once per input (slice[n] = x[n][step*DacW +: DacW]), then each lane (one
// crossbar row of one OU) picks its input's slice: code = slice[idx], or 0
// for an idle row or an index at or beyond Inputs. Each lane's mux is then
// Inputs:1 over DacW bits rather than over ActW bits.
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

  // One register per input, and the current step's slice of it (input n at
  // [n*DacW +: DacW]; a packed vector, so no tool mistakes it for a memory).
  logic [Inputs*DacW-1:0] slice;

  for (genvar n = 0; n < Inputs; n++) begin : gen_in
    logic [ActW-1:0]    in_q;
    logic [ActPadW-1:0] act;
    always_ff @(posedge clk_i) begin
      if (wr_en_i && (wr_word_i == InWordW'(n / InPerWord))) begin
        in_q <= wr_data_i[(n % InPerWord)*ActW +: ActW];
      end
    end
    assign act      = ActPadW'(in_q);
    assign slice[n*DacW +: DacW] = act[step_i*DacW +: DacW];
  end

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
{%- if c.in_guard %}
    // An index at or beyond Inputs reads as zero.
    logic [InIdxW-1:0] idx;
    assign idx = idx_i[l*InIdxW +: InIdxW];
    assign code_o[l*DacW +: DacW] = (valid_i[l] && ({1'b0, idx} < (InIdxW + 1)'(Inputs)))
                                    ? slice[idx*DacW +: DacW] : '0;
{%- else %}
    assign code_o[l*DacW +: DacW] = valid_i[l] ? slice[idx_i[l*InIdxW +: InIdxW]*DacW +: DacW] : '0;
{%- endif %}
  end

endmodule

`default_nettype wire
