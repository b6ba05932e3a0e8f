{{ c.header }}
`default_nettype none

// Shift-add splice, one lane per OU column: the ADC code shifted by the
// weight slice shift plus the activation step shift (step * DacW), negated for
// the "-" crossbar set. Output is signed, SpliceW bits, never overflows.
module {{ c.prefix }}_splice #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Lanes   = {{ c.pkg }}::OuCols,
  localparam int AdcW    = {{ c.pkg }}::AdcW,
  localparam int ShiftW  = {{ c.pkg }}::ShiftW,
  localparam int StepW   = {{ c.pkg }}::StepW,
  localparam int DacW    = {{ c.pkg }}::DacW,
  localparam int SpliceW = {{ c.pkg }}::SpliceW,
  // Shift amount width: holds max slice shift + max step shift.
  localparam int ShAmtW  = {{ c.pkg }}::ShAmtW
) (
  input  logic [Lanes*AdcW-1:0]    code_i,
  input  logic [ShiftW-1:0]        shift_i,
  input  logic [StepW-1:0]         step_i,
  input  logic                     neg_i,
  output logic [Lanes*SpliceW-1:0] val_o
);

  logic [ShAmtW-1:0] shamt;
  assign shamt = ShAmtW'(shift_i) + ShAmtW'(step_i) * ShAmtW'(DacW);

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    logic [SpliceW-1:0] mag;
    assign mag = SpliceW'(code_i[l*AdcW +: AdcW]) << shamt;
    assign val_o[l*SpliceW +: SpliceW] = neg_i ? (~mag + SpliceW'(1'b1)) : mag;
  end

endmodule

`default_nettype wire
