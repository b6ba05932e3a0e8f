{{ c.header }}
`default_nettype none

// Behavioral ReRAM crossbar: Rows x Cols cells of CellW bits, written one row
// at a time through the programming port, read one OU window (OuRows x OuCols)
// per cycle. Each column returns the analog sum of cell x DAC code over the
// window's rows, as an unsigned SumW-bit number: combinational
{%- if c.xbar_delay > 0 %}
// sums delayed by XbarDelay = xbar_latency - 1 registers (read latency
// xbar_latency with the tile's X-stage register).
{%- else %}
// (read latency 1 with the tile's X-stage register).
{%- endif %}
//
// Hard-macro replacement: keep this module's name and ports and replace the
// body by the macro wrapper: `sum_o` must follow `rw_i`, `cw_i` and `code_i`
// after xbar_latency - 1 clock edges (regenerate with `--xbar-latency N` for
// a macro whose read takes N cycles including the ADC register).
module {{ c.prefix }}_xbar #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Rows     = {{ c.pkg }}::Rows,
  localparam int Cols     = {{ c.pkg }}::Cols,
  localparam int CellW    = {{ c.pkg }}::CellW,
  localparam int DacW     = {{ c.pkg }}::DacW,
  localparam int OuRows   = {{ c.pkg }}::OuRows,
  localparam int OuCols   = {{ c.pkg }}::OuCols,
  localparam int RowIdxW  = {{ c.pkg }}::RowIdxW,
  localparam int RwW      = {{ c.pkg }}::RwW,
  localparam int CwW      = {{ c.pkg }}::CwW,
  localparam int SumW     = {{ c.pkg }}::SumW,
{%- if c.xbar_delay > 0 %}
  // Read latency beyond one cycle: registers on the sums.
  localparam int XbarDelay = {{ c.pkg }}::XbarDelay,
{%- endif %}
  // Row index arithmetic width: holds rw * OuRows + OuRows - 1.
  localparam int RowCalcW = {{ c.pkg }}::RowCalcW,
  // Column index arithmetic width: holds cw * OuCols.
  localparam int ColCalcW = {{ c.pkg }}::ColCalcW,
  // Bits of a row padded to whole column windows (pad cells read as zero).
  localparam int RowPadW  = {{ c.pkg }}::RowPadW
) (
  input  logic                   clk_i,
  // Programming: write one row of cells (cell c at bits [c*CellW +: CellW]).
  input  logic                   wr_en_i,
  input  logic [RowIdxW-1:0]     wr_row_i,
  input  logic [Cols*CellW-1:0]  wr_data_i,
  // OU read: row window, column window and the DAC code of each window row.
  input  logic [RwW-1:0]         rw_i,
  input  logic [CwW-1:0]         cw_i,
  input  logic [OuRows*DacW-1:0] code_i,
  output logic [OuCols*SumW-1:0] sum_o
);

  logic [Cols*CellW-1:0] mem_q [Rows];

  always_ff @(posedge clk_i) begin
    if (wr_en_i) begin
      mem_q[wr_row_i] <= wr_data_i;
    end
  end

  logic [RowCalcW-1:0] row_base;
  logic [ColCalcW-1:0] col_base;
  assign row_base = RowCalcW'(rw_i) * RowCalcW'(OuRows);
  assign col_base = ColCalcW'(cw_i) * ColCalcW'(OuCols);

  // The OU window: OuRows rows of OuCols cells.
  logic [OuRows*OuCols*CellW-1:0] win;

  for (genvar i = 0; i < OuRows; i++) begin : gen_row
    logic [RowCalcW-1:0]      row;
    logic [RowPadW-1:0]       data;
    assign row = row_base + RowCalcW'(i);
{%- if c.row_guard %}
    // The last row window is partial: rows beyond Rows read as zero.
    assign data = (row < RowCalcW'(Rows)) ? RowPadW'(mem_q[RowIdxW'(row)]) : '0;
{%- else %}
    assign data = RowPadW'(mem_q[RowIdxW'(row)]);
{%- endif %}
    assign win[i*OuCols*CellW +: OuCols*CellW] = data[col_base*CellW +: OuCols*CellW];
  end

  logic [OuCols*SumW-1:0] sum_c;

  for (genvar c = 0; c < OuCols; c++) begin : gen_col
    logic [SumW-1:0] acc;
    always_comb begin
      acc = '0;
      for (int i = 0; i < OuRows; i++) begin
        acc = acc + SumW'(win[(i*OuCols + c)*CellW +: CellW]) * SumW'(code_i[i*DacW +: DacW]);
      end
    end
    assign sum_c[c*SumW +: SumW] = acc;
  end
{% if c.xbar_delay > 0 %}
  // Read latency: the sums leave through XbarDelay registers.
  logic [XbarDelay*OuCols*SumW-1:0] sum_d_q;
  always_ff @(posedge clk_i) begin
    sum_d_q[0 +: OuCols*SumW] <= sum_c;
    for (int s = 1; s < XbarDelay; s++) begin
      sum_d_q[s*OuCols*SumW +: OuCols*SumW] <= sum_d_q[(s-1)*OuCols*SumW +: OuCols*SumW];
    end
  end
  assign sum_o = sum_d_q[(XbarDelay-1)*OuCols*SumW +: OuCols*SumW];
{%- else %}
  assign sum_o = sum_c;
{%- endif %}

endmodule

`default_nettype wire
