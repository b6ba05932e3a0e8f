{{ c.header }}
`default_nettype none

// SME tile: Xbars crossbars with their DAC/gather, ADCs, shift-add splice and
// accumulator banks, driven by the grouping controller.
//
// Pipeline (one op per crossbar per cycle):
//   F  fetch        controller reads op k of every crossbar (register in ctrl)
//   G  gather       row-index lookup + DAC codes of the current step (register)
//   X  crossbar+ADC OU column sums, saturating ADC (register; xbar_latency
//                  cycles: the crossbar adds xbar_latency - 1 registers and
//                  the op's side band is delayed with it)
//   S  splice       sign, slice shift, step shift (register)
//   A  accumulate   into the crossbar's accumulator memories (one per OU
//                  column; each lane reads its entry in the S stage and
//                  writes the sum back in the A stage)
// Cycles from the accepted start to done: Steps * (longest op list) + Latency.
//
// Programming port (valid/ready; accepted only while idle):
//   prog_addr_i = {region[RegionW-1:0], offset[ProgOffW-1:0]}
{%- for line in c.region_docs %}
//   {{ line }}
{%- endfor %}
// Output read port (pipelined, read latency OutLatency = {{ c.derived.out_latency }}): out_data_o =
// output out_addr_i sampled OutLatency rising edges earlier (the sum of that
// entry over every accumulator memory), one address per cycle; valid from
// one cycle after done_o has pulsed until the next start.
module {{ c.prefix }}_tile #(
  // Constants of {{ c.pkg }} (localparams: not overridable; every submodule
  // takes its constants from the same package, so the design is consistent
  // by construction).
  localparam int Cols      = {{ c.pkg }}::Cols,
  localparam int CellW     = {{ c.pkg }}::CellW,
  localparam int ActW      = {{ c.pkg }}::ActW,
  localparam int DacW      = {{ c.pkg }}::DacW,
  localparam int OuRows    = {{ c.pkg }}::OuRows,
  localparam int OuCols    = {{ c.pkg }}::OuCols,
  localparam int AdcW      = {{ c.pkg }}::AdcW,
  localparam int Xbars     = {{ c.pkg }}::Xbars,
  localparam int ProgAddrW = {{ c.pkg }}::ProgAddrW,
  localparam int ProgDataW = {{ c.pkg }}::ProgDataW,
  localparam int OutIdxW   = {{ c.pkg }}::OutIdxW,
  localparam int AccW      = {{ c.pkg }}::AccW,
  localparam int ProgOffW  = {{ c.pkg }}::ProgOffW,
  localparam int RegionW   = {{ c.pkg }}::RegionW,
  localparam int RowIdxW   = {{ c.pkg }}::RowIdxW,
  localparam int OpIdxW    = {{ c.pkg }}::OpIdxW,
  localparam int XbarW     = {{ c.pkg }}::XbarW,
  localparam int CntW      = {{ c.pkg }}::CntW,
  localparam int InWordW   = {{ c.pkg }}::InWordW,
  localparam int InPerWord = {{ c.pkg }}::InPerWord,
  localparam int InIdxW    = {{ c.pkg }}::InIdxW,
  localparam int StepW     = {{ c.pkg }}::StepW,
  localparam int RwW       = {{ c.pkg }}::RwW,
  localparam int CwW       = {{ c.pkg }}::CwW,
  localparam int ShiftW    = {{ c.pkg }}::ShiftW,
  localparam int SumW      = {{ c.pkg }}::SumW,
  localparam int SpliceW   = {{ c.pkg }}::SpliceW,
  localparam int OutLanes  = {{ c.pkg }}::OutLanes,
  localparam int OutFanIn  = {{ c.pkg }}::OutFanIn,
{%- if c.xbar_delay > 0 %}
  // Crossbar read registers beyond the X stage, and the delayed side band.
  localparam int XbarDelay = {{ c.pkg }}::XbarDelay,
  localparam int RdSideW   = {{ c.pkg }}::RdSideW,
{%- endif %}
  // Op word layout (LSB first).
  localparam int OpW       = {{ c.pkg }}::OpW,
  localparam int OpSign    = {{ c.pkg }}::OpSign,
  localparam int OpShift   = {{ c.pkg }}::OpShift,
  localparam int OpRw      = {{ c.pkg }}::OpRw,
  localparam int OpCw      = {{ c.pkg }}::OpCw,
  localparam int OpIn      = {{ c.pkg }}::OpIn,
  localparam int InEntW    = {{ c.pkg }}::InEntW,
  localparam int OpOut     = {{ c.pkg }}::OpOut,
  localparam int OutEntW   = {{ c.pkg }}::OutEntW
) (
{%- for port in c.ports %}
{%- if let Some(group) = port.group %}
  // {{ group }}
{%- endif %}
  {{ port.decl }}{% if !port.last %},{% endif %}
{%- endfor %}
);

  // ---------------------------------------------------------------------------
  // Programming decode
  // ---------------------------------------------------------------------------
  logic                prog_we;
  logic [RegionW-1:0]  region;
  logic [ProgOffW-1:0] offset;
  logic                idle;

  assign prog_ready_o = idle;
  assign prog_we      = prog_valid_i && idle;
  assign region       = prog_addr_i[ProgAddrW-1 -: RegionW];
  assign offset       = prog_addr_i[ProgOffW-1:0];

  logic               cells_we, ops_we, cnt_we, in_we;
  logic [XbarW-1:0]   cells_xbar, ops_xbar, cnt_xbar;
  logic [RowIdxW-1:0] cells_row;
  logic [OpIdxW-1:0]  ops_addr;

  assign cells_we   = prog_we && (region == {{ c.pkg }}::RegionCells);
  assign ops_we     = prog_we && (region == {{ c.pkg }}::RegionOps);
  assign cnt_we     = prog_we && (region == {{ c.pkg }}::RegionCounts);
  assign in_we      = prog_we && (region == {{ c.pkg }}::RegionInputs);
  assign cells_row  = offset[RowIdxW-1:0];
  assign cells_xbar = offset[RowIdxW +: XbarW];
  assign ops_addr   = offset[OpIdxW-1:0];
  assign ops_xbar   = offset[OpIdxW +: XbarW];
  assign cnt_xbar   = offset[XbarW-1:0];

  // ---------------------------------------------------------------------------
  // Grouping controller (F stage)
  // ---------------------------------------------------------------------------
  logic                 clear;
  logic [Xbars-1:0]     issue_valid;
  logic [Xbars*OpW-1:0] issue_op;
  logic [StepW-1:0]     step_f, step_f_next;

  {{ c.prefix }}_ctrl u_ctrl (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .op_we_i       (ops_we),
    .op_xbar_i     (ops_xbar),
    .op_addr_i     (ops_addr),
    .op_data_i     (prog_data_i[OpW-1:0]),
    .cnt_we_i      (cnt_we),
    .cnt_xbar_i    (cnt_xbar),
    .cnt_data_i    (prog_data_i[CntW-1:0]),
    .start_i       (start_i),
    .idle_o        (idle),
    .clear_o       (clear),
    .done_o        (done_o),
    .issue_valid_o (issue_valid),
    .issue_op_o    (issue_op),
    .issue_step_o  (step_f),
    .issue_step_next_o (step_f_next)
  );

  assign busy_o = !idle;

  // ---------------------------------------------------------------------------
  // Input buffer, gather and DAC (F -> G)
  // ---------------------------------------------------------------------------
  logic [Xbars*OuRows-1:0]        gather_valid;
  logic [Xbars*OuRows*InIdxW-1:0] gather_idx;
  logic [Xbars*OuRows*DacW-1:0]   gather_code;

  {{ c.prefix }}_gather u_gather (
    .clk_i     (clk_i),
    .wr_en_i   (in_we),
    .wr_word_i (offset[InWordW-1:0]),
    .wr_data_i (prog_data_i[InPerWord*ActW-1:0]),
    .step_next_i (step_f_next),
    .valid_i   (gather_valid),
    .idx_i     (gather_idx),
    .code_o    (gather_code)
  );

  // Step of the ops in the G and X stages (all crossbars run in lockstep).
  logic [StepW-1:0] step_g_q, step_r, step_x_q;
  always_ff @(posedge clk_i) begin
    step_g_q <= step_f;
    step_x_q <= step_r;
  end
{% if c.xbar_delay > 0 %}
  // The step follows the crossbar read through XbarDelay registers.
  logic [XbarDelay*StepW-1:0] step_d_q;
  always_ff @(posedge clk_i) begin
    step_d_q[0 +: StepW] <= step_g_q;
    for (int s = 1; s < XbarDelay; s++) begin
      step_d_q[s*StepW +: StepW] <= step_d_q[(s-1)*StepW +: StepW];
    end
  end
  assign step_r = step_d_q[(XbarDelay-1)*StepW +: StepW];
{%- else %}
  assign step_r = step_g_q;
{%- endif %}

  // Every accumulator memory's entry out_addr_i of the previous edge.
  logic [OutLanes*AccW-1:0] out_l0;

  for (genvar j = 0; j < Xbars; j++) begin : gen_xbar
    // F: the op word issued to this crossbar.
    logic [OpW-1:0] op_f;
    assign op_f = issue_op[j*OpW +: OpW];

    for (genvar i = 0; i < OuRows; i++) begin : gen_in
      assign gather_valid[j*OuRows + i]                = op_f[OpIn + i*InEntW];
      assign gather_idx[(j*OuRows + i)*InIdxW +: InIdxW] = op_f[OpIn + i*InEntW + 1 +: InIdxW];
    end

    // G stage registers.
    logic                         valid_g_q, neg_g_q;
    logic [OuRows*DacW-1:0]       code_g_q;
    logic [RwW-1:0]               rw_g_q;
    logic [CwW-1:0]               cw_g_q;
    logic [ShiftW-1:0]            shift_g_q;
    logic [OuCols*OutEntW-1:0]    outs_g_q;

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_g_q <= 1'b0;
      end else begin
        valid_g_q <= issue_valid[j];
      end
    end

    always_ff @(posedge clk_i) begin
      code_g_q  <= gather_code[j*OuRows*DacW +: OuRows*DacW];
      neg_g_q   <= op_f[OpSign];
      shift_g_q <= op_f[OpShift +: ShiftW];
      rw_g_q    <= op_f[OpRw +: RwW];
      cw_g_q    <= op_f[OpCw +: CwW];
      outs_g_q  <= op_f[OpOut +: OuCols*OutEntW];
    end

    // The op's side band as the crossbar read leaves it (after XbarDelay
    // registers when the read takes more than one cycle).
    logic                      valid_r, neg_r;
    logic [ShiftW-1:0]         shift_r;
    logic [OuCols*OutEntW-1:0] outs_r;
{% if c.xbar_delay > 0 %}
    logic [XbarDelay-1:0]         valid_d_q;
    logic [XbarDelay*RdSideW-1:0] side_d_q;

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_d_q <= '0;
      end else begin
        valid_d_q[0] <= valid_g_q;
        for (int s = 1; s < XbarDelay; s++) begin
          valid_d_q[s] <= valid_d_q[s-1];
        end
      end
    end

    always_ff @(posedge clk_i) begin
      side_d_q[0 +: RdSideW] <= {neg_g_q, shift_g_q, outs_g_q};
      for (int s = 1; s < XbarDelay; s++) begin
        side_d_q[s*RdSideW +: RdSideW] <= side_d_q[(s-1)*RdSideW +: RdSideW];
      end
    end

    assign valid_r                   = valid_d_q[XbarDelay-1];
    assign {neg_r, shift_r, outs_r} = side_d_q[(XbarDelay-1)*RdSideW +: RdSideW];
{%- else %}
    assign valid_r = valid_g_q;
    assign neg_r   = neg_g_q;
    assign shift_r = shift_g_q;
    assign outs_r  = outs_g_q;
{%- endif %}

    // X stage: crossbar read and ADC.
    logic [OuCols*SumW-1:0] sum_x;
    logic [OuCols*AdcW-1:0] adc_x;

    {{ c.prefix }}_xbar u_xbar (
      .clk_i     (clk_i),
      .wr_en_i   (cells_we && (cells_xbar == XbarW'(j))),
      .wr_row_i  (cells_row),
      .wr_data_i (prog_data_i[Cols*CellW-1:0]),
      .rw_i      (rw_g_q),
      .cw_i      (cw_g_q),
      .code_i    (code_g_q),
      .sum_o     (sum_x)
    );

    {{ c.prefix }}_adc u_adc (
      .sum_i  (sum_x),
      .code_o (adc_x)
    );

    logic                      valid_x_q, neg_x_q;
    logic [OuCols*AdcW-1:0]    adc_x_q;
    logic [ShiftW-1:0]         shift_x_q;
    logic [OuCols*OutEntW-1:0] outs_x_q;

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_x_q <= 1'b0;
      end else begin
        valid_x_q <= valid_r;
      end
    end

    always_ff @(posedge clk_i) begin
      adc_x_q   <= adc_x;
      neg_x_q   <= neg_r;
      shift_x_q <= shift_r;
      outs_x_q  <= outs_r;
    end

    // S stage: shift-add splice.
    logic [OuCols*SpliceW-1:0] val_s;

    {{ c.prefix }}_splice u_splice (
      .code_i  (adc_x_q),
      .shift_i (shift_x_q),
      .step_i  (step_x_q),
      .neg_i   (neg_x_q),
      .val_o   (val_s)
    );

    logic                      valid_s_q;
    logic [OuCols*SpliceW-1:0] val_s_q;
    logic [OuCols*OutEntW-1:0] outs_s_q;

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_s_q <= 1'b0;
      end else begin
        valid_s_q <= valid_x_q;
      end
    end

    always_ff @(posedge clk_i) begin
      val_s_q  <= val_s;
      outs_s_q <= outs_x_q;
    end

    // A stage: accumulate into this crossbar's memories (their entries are
    // read in the S stage, from the op's output entries in outs_x_q).
    logic [OuCols-1:0]         lane_valid;
    logic [OuCols*OutIdxW-1:0] lane_idx, lane_rd_idx;

    for (genvar c = 0; c < OuCols; c++) begin : gen_out
      assign lane_valid[c]                     = outs_s_q[c*OutEntW];
      assign lane_idx[c*OutIdxW +: OutIdxW]    = outs_s_q[c*OutEntW + 1 +: OutIdxW];
      assign lane_rd_idx[c*OutIdxW +: OutIdxW] = outs_x_q[c*OutEntW + 1 +: OutIdxW];
    end

    {{ c.prefix }}_accum u_accum (
      .clk_i      (clk_i),
      .clear_i    (clear),
      .rd_en_i    (valid_x_q),
      .rd_idx_i   (lane_rd_idx),
      .en_i       (valid_s_q),
      .valid_i    (lane_valid),
      .idx_i      (lane_idx),
      .val_i      (val_s_q),
      .out_addr_i (out_addr_i),
      .out_o      (out_l0[j*OuCols*AccW +: OuCols*AccW])
    );
  end

  // ---------------------------------------------------------------------------
  // Output read port: adder tree over the OutLanes memory outputs, OutFanIn
  // values per node, a register after every level
  // ---------------------------------------------------------------------------
{%- for t in c.out_tree %}
  // Level {{ t.level }}: {{ t.ins }} values in, {{ t.nodes }} registered sums out.
  logic [{{ t.nodes }}*AccW-1:0] out_l{{ t.level }};

  for (genvar n = 0; n < {{ t.nodes }}; n++) begin : gen_out_l{{ t.level }}
    logic [AccW-1:0] sum_d, sum_q;

    // Node n adds OutFanIn values; the last one adds {{ t.last_ins }}.
    always_comb begin
      sum_d = '0;
      for (int i = 0; i < ((n == {{ t.last_node }}) ? {{ t.last_ins }} : OutFanIn); i++) begin
        sum_d = sum_d + out_l{{ t.prev }}[(n*OutFanIn + i)*AccW +: AccW];
      end
    end

    always_ff @(posedge clk_i) begin
      sum_q <= sum_d;
    end

    assign out_l{{ t.level }}[n*AccW +: AccW] = sum_q;
  end
{% endfor %}
  assign out_data_o = out_l{{ c.out_levels }};

endmodule

`default_nettype wire
