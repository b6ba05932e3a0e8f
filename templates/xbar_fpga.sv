{{ c.header }}
`default_nettype none

// Block-RAM crossbar emulation (fpga target): the behavioral {{ c.prefix }}_xbar's
// name, ports and read latency (sum_o follows rw_i, cw_i and code_i after
// XbarDelay = xbar_latency - 1 = {{ c.xbar_delay }} clock edges), with the cells in
// XbarBanks = {{ c.xbar_banks }} memories ({{ c.prefix }}_xbar_ram: Rows words of one column
// window, OuCols x CellW bits, synchronous read), so that one OU window is
// one read of each bank.
//
// Placement (a Latin square, so that a row write and a window read both
// touch each bank at most once): column window w of row r lives in bank
// (r mod OuRows + w) mod XbarBanks at address r. A row write writes one word
// into ColWins banks; the read of window (rw, cw) finds window row i in bank
// (i + cw) mod XbarBanks at address rw * OuRows + i. Instead of rotating the
// bank words back into row order, each bank takes the DAC code of the row it
// holds (bank b serves window row (b - cw) mod XbarBanks; banks serving no
// row of the window, and rows past Rows, get code 0 and a zero word): the
// column sum does not depend on the order of the rows.
//
{%- if c.xbar_tdp %}
// Memories: banks 2p and 2p+1 share one true dual-port memory
// ({{ c.prefix }}_xbar_ram2), one port each (this is the fpga/tdp variant, for
// families with true dual-port block RAM: half the block RAMs).
{%- endif %}
// Pipeline: edge 1 reads the banks and registers the per-bank codes; the
// cell x code products and a balanced adder tree per OU column follow
{%- if c.xbar_delay > 1 %}
// combinationally and are registered at edge 2; the sums then pass
// XbarDelay - 2 = {{ c.xbar_delay - 2 }} further registers.
{%- else %}
// combinationally into sum_o (xbar_latency 2).
{%- endif %}
module {{ c.prefix }}_xbar #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Rows      = {{ c.pkg }}::Rows,
  localparam int Cols      = {{ c.pkg }}::Cols,
  localparam int CellW     = {{ c.pkg }}::CellW,
  localparam int DacW      = {{ c.pkg }}::DacW,
  localparam int OuRows    = {{ c.pkg }}::OuRows,
  localparam int OuCols    = {{ c.pkg }}::OuCols,
  localparam int RowIdxW   = {{ c.pkg }}::RowIdxW,
  localparam int RwW       = {{ c.pkg }}::RwW,
  localparam int CwW       = {{ c.pkg }}::CwW,
  localparam int SumW      = {{ c.pkg }}::SumW,
{%- if c.xbar_delay > 1 %}
  localparam int XbarDelay = {{ c.pkg }}::XbarDelay,
{%- endif %}
  localparam int RowPadW   = {{ c.pkg }}::RowPadW,
  localparam int Banks     = {{ c.pkg }}::XbarBanks,
  localparam int BankW     = {{ c.pkg }}::XbarBankW,
  localparam int ColWins   = {{ c.pkg }}::XbarColWins,
  // Bank index arithmetic: holds 2 * Banks - 1, the largest row address and Rows.
  localparam int BankCW    = {{ c.pkg }}::XbarBankCW,
  // Adder-tree leaves per column: Banks rounded up to a power of two.
  localparam int Leaves    = {{ c.pkg }}::XbarLeaves{% if c.xbar_tdp %},
  // Two-bank memories (Banks is even).
  localparam int Pairs     = {{ c.pkg }}::XbarPairs{% endif %}
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

  // Write side: the row padded to whole column windows (pad cells are
  // zero) and the row's position in its row window.
  logic [RowPadW-1:0] wr_pad;
  assign wr_pad = RowPadW'(wr_data_i);
  logic [BankCW-1:0] wr_pos;
  assign wr_pos = BankCW'(wr_row_i) % BankCW'(OuRows);

  // Edge 1: every bank's word and the code of the row it holds.
  logic [Banks*BankW-1:0] word_q;
  logic [Banks*DacW-1:0]  code_q;
  logic [Banks-1:0]       valid_q;
{%- if c.xbar_tdp %}
  // Per bank: write enable, port address and write word (gen_pair).
  logic [Banks-1:0]         bank_we;
  logic [Banks*RowIdxW-1:0] bank_addr;
  logic [Banks*BankW-1:0]   bank_wdata;
{%- endif %}

  for (genvar b = 0; b < Banks; b++) begin : gen_bank
    // Write: column window (b - wr_pos) mod Banks of row wr_row_i, if any.
    logic [BankCW-1:0] wr_win;
    logic              wr_en;
    logic [BankW-1:0]  wr_word;
    assign wr_win  = (BankCW'(b) >= wr_pos) ? BankCW'(b) - wr_pos
                                            : BankCW'(b + Banks) - wr_pos;
    assign wr_en   = wr_en_i && (wr_win < BankCW'(ColWins));
    assign wr_word = wr_pad[wr_win*BankW +: BankW];

    // Read: window row (b - cw) mod Banks of row window rw.
    logic [BankCW-1:0] rd_pos, rd_row;
    logic              rd_valid;
    assign rd_pos   = (BankCW'(b) >= BankCW'(cw_i)) ? BankCW'(b) - BankCW'(cw_i)
                                                    : BankCW'(b + Banks) - BankCW'(cw_i);
    assign rd_row   = BankCW'(rw_i) * BankCW'(OuRows) + rd_pos;
    // Rows beyond Rows (a partial last row window) read as zero.
    assign rd_valid = (rd_pos < BankCW'(OuRows)) && (rd_row < BankCW'(Rows));
{% if c.xbar_tdp %}
    // One port of a two-bank memory (gen_pair below): the write address
    // while writing, else the read address.
    assign bank_we[b]                      = wr_en;
    assign bank_addr[b*RowIdxW +: RowIdxW] = wr_en ? wr_row_i : RowIdxW'(rd_row);
    assign bank_wdata[b*BankW +: BankW]    = wr_word;
{%- else %}
    {{ c.prefix }}_xbar_ram u_ram (
      .clk_i   (clk_i),
      .we_i    (wr_en),
      .waddr_i (wr_row_i),
      .wdata_i (wr_word),
      .raddr_i (RowIdxW'(rd_row)),
      .rdata_o (word_q[b*BankW +: BankW])
    );
{%- endif %}

    always_ff @(posedge clk_i) begin
      valid_q[b]                <= rd_valid;
      code_q[b*DacW +: DacW]    <= rd_valid ? code_i[rd_pos*DacW +: DacW] : '0;
    end
  end

{%- if c.xbar_tdp %}

  // Banks 2p and 2p+1 share one true dual-port memory, one port each.
  for (genvar p = 0; p < Pairs; p++) begin : gen_pair
    {{ c.prefix }}_xbar_ram2 u_ram (
      .clk_i     (clk_i),
      .a_we_i    (bank_we[2*p]),
      .a_addr_i  ({1'b0, bank_addr[2*p*RowIdxW +: RowIdxW]}),
      .a_wdata_i (bank_wdata[2*p*BankW +: BankW]),
      .a_rdata_o (word_q[2*p*BankW +: BankW]),
      .b_we_i    (bank_we[2*p+1]),
      .b_addr_i  ({1'b1, bank_addr[(2*p+1)*RowIdxW +: RowIdxW]}),
      .b_wdata_i (bank_wdata[(2*p+1)*BankW +: BankW]),
      .b_rdata_o (word_q[(2*p+1)*BankW +: BankW])
    );
  end
{%- endif %}

  // Column sums: per OU column, a balanced tree over the banks' products
  // (node k = node 2k+1 + node 2k+2; leaves Leaves-1 .. 2*Leaves-2).
  logic [OuCols*SumW-1:0] sum_c;

  for (genvar c = 0; c < OuCols; c++) begin : gen_col
    logic [(2*Leaves-1)*SumW-1:0] node /* verilator split_var */;
    for (genvar b = 0; b < Leaves; b++) begin : gen_leaf
      if (b < Banks) begin : gen_prod
        // A bank that serves no row of the window reads as zero.
        logic [CellW-1:0] cell_v;
        assign cell_v = valid_q[b] ? word_q[b*BankW + c*CellW +: CellW] : '0;
        assign node[(Leaves-1+b)*SumW +: SumW] = SumW'(cell_v) * SumW'(code_q[b*DacW +: DacW]);
      end else begin : gen_pad
        assign node[(Leaves-1+b)*SumW +: SumW] = '0;
      end
    end
    for (genvar k = 0; k < Leaves - 1; k++) begin : gen_node
      assign node[k*SumW +: SumW] = node[(2*k+1)*SumW +: SumW] + node[(2*k+2)*SumW +: SumW];
    end
    assign sum_c[c*SumW +: SumW] = node[0 +: SumW];
  end
{% if c.xbar_delay > 1 %}
  // Edge 2 registers the sums; XbarDelay - 2 more registers follow.
  logic [(XbarDelay-1)*OuCols*SumW-1:0] sum_d_q;
  always_ff @(posedge clk_i) begin
    sum_d_q[0 +: OuCols*SumW] <= sum_c;
    for (int s = 1; s < XbarDelay - 1; s++) begin
      sum_d_q[s*OuCols*SumW +: OuCols*SumW] <= sum_d_q[(s-1)*OuCols*SumW +: OuCols*SumW];
    end
  end
  assign sum_o = sum_d_q[(XbarDelay-2)*OuCols*SumW +: OuCols*SumW];
{%- else %}
  assign sum_o = sum_c;
{%- endif %}

endmodule

`default_nettype wire
