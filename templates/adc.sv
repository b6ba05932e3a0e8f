{{ c.header }}
`default_nettype none

// Saturating ADC, one per OU column: code = min(sum, 2^AdcW - 1).
{%- if !c.derived.adc_lossless %}
// This configuration is lossy: an OU column sum can exceed the ADC range.
{%- else %}
// This configuration is lossless: every OU column sum fits the ADC range.
{%- endif %}
module {{ c.prefix }}_adc #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Lanes  = {{ c.pkg }}::OuCols,
  localparam int SumW   = {{ c.pkg }}::SumW,
{%- if !c.derived.adc_lossless %}
  localparam int AdcMax = {{ c.pkg }}::AdcMax,
{%- endif %}
  localparam int AdcW   = {{ c.pkg }}::AdcW
) (
  input  logic [Lanes*SumW-1:0] sum_i,
  output logic [Lanes*AdcW-1:0] code_o
);

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    logic [SumW-1:0] sum;
    assign sum = sum_i[l*SumW +: SumW];
{%- if !c.derived.adc_lossless %}
    assign code_o[l*AdcW +: AdcW] = (sum > SumW'(AdcMax)) ? AdcW'(AdcMax) : sum[AdcW-1:0];
{%- else %}
    assign code_o[l*AdcW +: AdcW] = AdcW'(sum);
{%- endif %}
  end

endmodule

`default_nettype wire
