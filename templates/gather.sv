{{ c.header }}
`default_nettype none

// Input buffer, row-index gather and DAC. Holds Inputs activations of ActW
// bits (written InPerWord at a time through the programming port). Slice
// before gather: the DacW-bit slice of the current activation step is taken
// once per input (slice[n] = x[n][step*DacW +: DacW]), then each lane (one
// crossbar row of one OU) picks its input's slice: code = slice[idx], or 0
// for an idle row or an index at or beyond Inputs. Each lane's mux is then
// Inputs:1 over DacW bits rather than over ActW bits. The slices are
// registers (slice_q), loaded at each edge with the slices of the next
// cycle's step (step_next_i) of the buffer as that edge leaves it (writes
// included). So slice_q always holds the slices of in_q at the current
// step (one edge behind step_next_i), as the combinational slice did; the
// lanes' muxes now start at flip-flops, and no tool can duplicate the
// per-input slice muxes into every lane's cone (ABC did, on ECP5).
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
  localparam int ActPadW   = {{ c.pkg }}::ActPadW,
  // The lane loop is split into blocks of at most 1024 iterations
  // (Verilator's default limit for one generate loop).
  localparam int LaneBlocks = {{ c.pkg }}::LaneBlocks,
  localparam int LaneBlk    = {{ c.pkg }}::LaneBlk
) (
  input  logic                    clk_i,
  // Programming: write InPerWord inputs (input w*InPerWord+i at [i*ActW +: ActW]).
  input  logic                    wr_en_i,
  input  logic [InWordW-1:0]      wr_word_i,
  input  logic [InPerWord*ActW-1:0] wr_data_i,
  // Gather: the step of the next cycle's gather.
  input  logic [StepW-1:0]        step_next_i,
  input  logic [Lanes-1:0]        valid_i,
  input  logic [Lanes*InIdxW-1:0] idx_i,
  output logic [Lanes*DacW-1:0]   code_o
);

  // The input buffer, input n at [n*ActW +: ActW], and the slices of every
  // input (input n at [n*DacW +: DacW]). Packed vectors written by procedural
  // loops: every entry is read every cycle, so these are registers by
  // design, and loops (not generate blocks) keep elaboration time flat up to
  // the largest Inputs.
  logic [Inputs*ActW-1:0] in_q;
  logic [Inputs*DacW-1:0] slice_q;

  always_ff @(posedge clk_i) begin
    for (int n = 0; n < Inputs; n++) begin
      if (wr_en_i && (wr_word_i == InWordW'(n / InPerWord))) begin
        in_q[n*ActW +: ActW] <= wr_data_i[(n % InPerWord)*ActW +: ActW];
      end
    end
  end

  // The slices at the next cycle's step of every input as this edge leaves
  // it (act: loop temporary, input n padded to whole steps).
  logic [Inputs*DacW-1:0] slice_d;
  logic [ActPadW-1:0]     act;
  always_comb begin
    act = '0;
    for (int n = 0; n < Inputs; n++) begin
      if (wr_en_i && (wr_word_i == InWordW'(n / InPerWord))) begin
        act = ActPadW'(wr_data_i[(n % InPerWord)*ActW +: ActW]);
      end else begin
        act = ActPadW'(in_q[n*ActW +: ActW]);
      end
      slice_d[n*DacW +: DacW] = act[step_next_i*DacW +: DacW];
    end
  end

  always_ff @(posedge clk_i) begin
    slice_q <= slice_d;
  end

  // Lane lb * LaneBlk + li; the last block may be partial.
  for (genvar lb = 0; lb < LaneBlocks; lb++) begin : gen_lane_blk
    for (genvar li = 0; li < LaneBlk; li++) begin : gen_lane
      if (lb * LaneBlk + li < Lanes) begin : gen_used
        logic               valid;
        logic [InIdxW-1:0]  idx;
        assign valid = valid_i[lb * LaneBlk + li];
        assign idx   = idx_i[(lb * LaneBlk + li)*InIdxW +: InIdxW];
{%- if c.in_guard %}
        // An index at or beyond Inputs reads as zero.
        assign code_o[(lb * LaneBlk + li)*DacW +: DacW] =
          (valid && ({1'b0, idx} < (InIdxW + 1)'(Inputs))) ? slice_q[idx*DacW +: DacW] : '0;
{%- else %}
        assign code_o[(lb * LaneBlk + li)*DacW +: DacW] = valid ? slice_q[idx*DacW +: DacW] : '0;
{%- endif %}
      end
    end
  end

endmodule

`default_nettype wire
