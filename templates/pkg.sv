{{ c.header }}
`default_nettype none

// Every constant of {{ c.prefix }}_tile, computed by the generator from the
// config above. The modules bind the constants they use to local names with
// `localparam` in their parameter port lists (`#(localparam int X =
// {{ c.pkg }}::X)`): no module has an overridable parameter, so the design
// cannot be elaborated inconsistently. For another config, regenerate.
// (Qualified names rather than `import {{ c.pkg }}::*`: Yosys 0.23 reads
// packages but not imports.)
package {{ c.pkg }};

  // Tile parameters.
  localparam int Rows        = {{ c.params.rows }};
  localparam int Cols        = {{ c.params.cols }};
  localparam int CellW       = {{ c.params.cell_bits }};
  localparam int ActW        = {{ c.params.act_bits }};
  localparam int DacW        = {{ c.params.dac_bits }};
  localparam int OuRows      = {{ c.params.ou_rows }};
  localparam int OuCols      = {{ c.params.ou_cols }};
  localparam int AdcW        = {{ c.params.adc_bits }};
  localparam int Xbars       = {{ c.params.xbars }};
  localparam int Inputs      = {{ c.params.inputs }};
  localparam int Outputs     = {{ c.params.outputs }};
  localparam int Ops         = {{ c.params.ops }};
  // Crossbar + ADC read latency: {{ c.params.xbar_latency }} cycle(s) (xbar_latency).

  // Derived counts and widths.
  localparam int Steps       = {{ c.derived.steps }};
  localparam int StepW       = {{ c.derived.step_bits }};
  localparam int RowIdxW     = {{ c.derived.row_idx_bits }};
  localparam int RwW         = {{ c.derived.rw_bits }};
  localparam int CwW         = {{ c.derived.cw_bits }};
  localparam int SumW        = {{ c.derived.sum_bits }};
  localparam int ShiftW      = {{ c.derived.shift_bits }};
  localparam int SpliceW     = {{ c.derived.splice_bits }};
  localparam int InIdxW      = {{ c.derived.in_idx_bits }};
  localparam int OutIdxW     = {{ c.derived.out_idx_bits }};
  localparam int AccW        = {{ c.derived.acc_bits }};
  localparam int InPerWord   = {{ c.derived.inputs_per_word }};
  localparam int InWordW     = {{ c.derived.in_word_bits }};
  localparam int OpIdxW      = {{ c.derived.op_idx_bits }};
  localparam int CntW        = {{ c.derived.cnt_bits }};
  localparam int XbarW       = {{ c.derived.xbar_idx_bits }};
{%- if c.fpga %}
  // Block-RAM crossbar (fpga target): bits of a row padded to whole column
  // windows, banks (max(OuRows, column windows)), bank word width (one
  // column window of one row), column windows, bank index arithmetic width
  // (holds 2 * XbarBanks - 1, the largest row address and Rows), adder-tree leaves
  // (XbarBanks rounded up to a power of two).
  localparam int RowPadW     = {{ c.row_pad_bits }};
  localparam int XbarBanks   = {{ c.xbar_banks }};
  localparam int XbarBankW   = {{ c.xbar_bank_bits }};
  localparam int XbarColWins = {{ c.derived.col_windows }};
  localparam int XbarBankCW  = {{ c.xbar_bank_calc_bits }};
  localparam int XbarLeaves  = {{ c.xbar_tree_leaves }};
{%- if c.xbar_tdp %}
  // Two banks per true dual-port memory (fpga/tdp): pairs, words (bank 2p
  // at {0, row}, bank 2p+1 at {1, row}) and address width.
  localparam int XbarPairs   = {{ c.xbar_banks / 2 }};
  localparam int XbarPairDepth = {{ c.xbar_pair_depth }};
  localparam int XbarPairAddrW = {{ c.xbar_pair_addr_bits }};
{%- endif %}
{%- else %}
  // Crossbar: row index arithmetic (holds rw * OuRows + OuRows - 1), column
  // index arithmetic (holds cw * OuCols), bits of a row padded to whole
  // column windows.
  localparam int RowCalcW    = {{ c.row_calc_bits }};
  localparam int ColCalcW    = {{ c.col_calc_bits }};
  localparam int RowPadW     = {{ c.row_pad_bits }};
{%- endif %}
  // Gather: one lane per OU row of every crossbar; activation width padded
  // to whole DAC steps.
  localparam int GatherLanes = {{ c.gather_lanes }};
  localparam int ActPadW     = {{ c.act_pad_width }};
  // The gather's lane loop in blocks of at most 1024 generate iterations
  // (Verilator's default limit): LaneBlocks blocks of LaneBlk lanes.
  localparam int LaneBlocks  = {{ c.lane_loop.0 }};
  localparam int LaneBlk     = {{ c.lane_loop.1 }};
  // Controller: leaves of the tree over the op counts (Xbars rounded up to
  // a power of two).
  localparam int CntLeaves   = {{ c.cnt_tree_leaves }};
  // Accumulator live bits, two levels: LiveSub = 2^LiveSubW entries per
  // group, LiveGrps groups, group index width.
  localparam int LiveSubW    = {{ c.live_sub_bits }};
  localparam int LiveSub     = {{ c.live_sub }};
  localparam int LiveGrps    = {{ c.live_groups }};
  localparam int LiveGrpW    = {{ c.live_grp_bits }};
{%- if !c.derived.adc_lossless %}
  // ADC: largest code (this configuration is lossy: the ADC saturates).
  localparam int AdcMax      = {{ c.adc_max }};
{%- endif %}
  // Splice: shift amount (holds max slice shift + max step shift).
  localparam int ShAmtW      = {{ c.shamt_bits }};
{%- if c.xbar_delay > 0 %}
  // Crossbar read: registers beyond the X-stage register (xbar_latency - 1),
  // and the width of the op side band delayed with it (sign, shift, outputs).
  localparam int XbarDelay   = {{ c.xbar_delay }};
  localparam int RdSideW     = {{ c.rd_side_bits }};
{%- endif %}
  // Controller: cycles from the last issue to done, and the flush counter.
  localparam int Latency     = {{ c.derived.latency }};
  localparam int FlushW      = {{ c.flush_bits }};
  // Output read port: one accumulator memory per crossbar and OU column,
  // summed by an adder tree of OutFanIn-input nodes with a register after
  // every level; read latency OutLatency cycles (the memory read, then one
  // per tree level), one address per cycle.
  localparam int OutLanes    = {{ c.out_lanes }};
  localparam int OutFanIn    = {{ c.out_fan_in }};
  // OutLatency is for the host side (drivers, testbenches); the RTL builds
  // the tree from the levels the generator computed, so no module reads it.
  /* verilator lint_off UNUSEDPARAM */
  localparam int OutLatency  = {{ c.derived.out_latency }};
  /* verilator lint_on UNUSEDPARAM */

  // Programming port: prog_addr_i = {region, offset}.
  localparam int ProgAddrW   = {{ c.derived.prog_addr_bits }};
  localparam int ProgDataW   = {{ c.derived.prog_data_bits }};
  localparam int ProgOffW    = {{ c.derived.prog_offset_bits }};
  localparam int RegionW     = {{ c.region_bits }};
{%- for r in c.regions %}
  // {{ r.name }}: offset = {{ r.offset }}, data = {{ r.data }}
  localparam logic [RegionW-1:0] {{ r.sv_name }} = {{ c.region_bits }}'d{{ r.code }};
{%- endfor %}

  // Op word layout (LSB first): field offsets and entry widths.
  localparam int OpW         = {{ c.derived.op_layout.width }};
  localparam int OpSign      = {{ c.derived.op_layout.sign }};
  localparam int OpShift     = {{ c.derived.op_layout.shift }};
  localparam int OpRw        = {{ c.derived.op_layout.rw }};
  localparam int OpCw        = {{ c.derived.op_layout.cw }};
  localparam int OpIn        = {{ c.derived.op_layout.inputs }};
  localparam int InEntW      = {{ c.derived.op_layout.in_entry_bits }};
  localparam int OpOut       = {{ c.derived.op_layout.outputs }};
  localparam int OutEntW     = {{ c.derived.op_layout.out_entry_bits }};

endpackage

`default_nettype wire
