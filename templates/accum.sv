{{ c.header }}
`default_nettype none

// Output accumulators of one crossbar: one memory {{ c.prefix }}_acc_ram per OU
// column (lane), Outputs signed AccW-bit partial sums each; output o is the
// sum of entry o of every lane of every crossbar (the tile's read port adds
// them). Each lane is a read-modify-write pipeline over its memory:
//   S stage (rd_*)  an op is in the splice stage: its lane reads the entry it
//                   will accumulate into (synchronous read, latency 1);
//   A stage (en_i)  the op adds its lane value to that entry and writes the
//                   sum back (lanes naming an entry beyond Outputs write
//                   nothing).
// A read of the entry the op ahead writes at the same edge is served by a
// bypass register holding that write, never by the memory, so back-to-back
// ops of one lane may name the same entry. clear_i (one cycle at start, when
// the pipeline is empty) clears every entry at once through a live bit per
// entry: an entry whose live bit is low reads as zero and is overwritten by
// its next write (no memory reset). The live bits have two levels, so that
// no logic exists per entry: a group bit per LiveSub = 2^LiveSubW entries
// (flip-flops, all cleared at once) and a LiveSub-bit word per group
// (live_word_q, a small memory with two asynchronous reads: distributed RAM
// on an FPGA). Entry e is live iff grp_q[e / LiveSub] and bit e % LiveSub of
// its group's word; a write sets the entry's bit in its group's word, and the
// group's first write after a clear rewrites the whole word (the other
// entries' stale bits become 0), so a write never changes another entry's
// liveness. The live bits have no reset: entries are undefined until the
// first start. While no op is in the S stage the
// memories read out_addr_i instead: out_o holds every lane's entry
// out_addr_i of the previous edge, zero when not written since the start or
// out of range.
module {{ c.prefix }}_accum #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Lanes   = {{ c.pkg }}::OuCols,
  localparam int Outputs = {{ c.pkg }}::Outputs,
  localparam int OutIdxW = {{ c.pkg }}::OutIdxW,
  localparam int SpliceW = {{ c.pkg }}::SpliceW,
  localparam int AccW    = {{ c.pkg }}::AccW,
  localparam int LiveSubW = {{ c.pkg }}::LiveSubW,
  localparam int LiveSub  = {{ c.pkg }}::LiveSub,
  localparam int LiveGrps = {{ c.pkg }}::LiveGrps,
  localparam int LiveGrpW = {{ c.pkg }}::LiveGrpW
) (
  input  logic                     clk_i,
  input  logic                     clear_i,
  // S stage: the entries the next cycle's ops accumulate into.
  input  logic                     rd_en_i,
  input  logic [Lanes*OutIdxW-1:0] rd_idx_i,
  // A stage: accumulate.
  input  logic                     en_i,
  input  logic [Lanes-1:0]         valid_i,
  input  logic [Lanes*OutIdxW-1:0] idx_i,
  input  logic [Lanes*SpliceW-1:0] val_i,
  // Output read.
  input  logic [OutIdxW-1:0]       out_addr_i,
  output logic [Lanes*AccW-1:0]    out_o
);

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    // S stage: read address (the op's entry, else the output port's).
    logic [OutIdxW-1:0] raddr;
    logic               live_rd_q;
    logic [AccW-1:0]    rdata, rd_val;
    // Live bits (see above): group bits and group words.
    logic [LiveGrps-1:0] grp_q;
    logic [LiveSub-1:0]  live_word_q [LiveGrps];
    logic [LiveGrpW-1:0] rd_grp;
    logic [LiveSubW-1:0] rd_sub;

    assign raddr = rd_en_i ? rd_idx_i[l*OutIdxW +: OutIdxW] : out_addr_i;
    assign rd_grp = LiveGrpW'(raddr >> LiveSubW);
    assign rd_sub = raddr[LiveSubW-1:0];
    // A whole word first: a bit-select of a memory word would make Yosys
    // turn the memory into registers.
    logic [LiveSub-1:0]  rd_word;
    assign rd_word = live_word_q[rd_grp];

    // Live bit of the entry read, registered with the memory read.
    always_ff @(posedge clk_i) begin
      live_rd_q <= ({1'b0, raddr} < (OutIdxW + 1)'(Outputs)) && grp_q[rd_grp]
                   && rd_word[rd_sub];
    end

    assign rd_val = live_rd_q ? rdata : '0;
    assign out_o[l*AccW +: AccW] = rd_val;

    // A stage: old value (bypassed from the write at the read's edge when
    // that write hit the same entry) plus the sign-extended lane value.
    logic [OutIdxW-1:0] idx;
    logic               hit, we, byp_we_q;
    logic [OutIdxW-1:0] byp_addr_q;
    logic [AccW-1:0]    old, sum, byp_data_q;

    assign idx = idx_i[l*OutIdxW +: OutIdxW];
    assign hit = en_i && valid_i[l] && ({1'b0, idx} < (OutIdxW + 1)'(Outputs));
    assign we  = hit;
    assign old = (byp_we_q && byp_addr_q == idx) ? byp_data_q : rd_val;
    assign sum = old + AccW'($signed(val_i[l*SpliceW +: SpliceW]));

    always_ff @(posedge clk_i) begin
      byp_we_q   <= we;
      byp_addr_q <= idx;
      byp_data_q <= sum;
    end

    {{ c.prefix }}_acc_ram u_acc_ram (
      .clk_i   (clk_i),
      .we_i    (we),
      .waddr_i (idx),
      .wdata_i (sum),
      .raddr_i (raddr),
      .rdata_o (rdata)
    );

    // Live bits: group bits cleared the cycle after start (clear_i
    // registered per lane, so the start input drives one flip-flop per lane
    // rather than every group bit; the pipeline's first write comes later);
    // a write sets its group's bit and writes the group's word.
    logic clear_q;
    always_ff @(posedge clk_i) begin
      clear_q <= clear_i;
    end
    logic [LiveGrpW-1:0] wr_grp;
    logic [LiveSubW-1:0] wr_sub;
    logic [LiveSub-1:0]  wr_word;
    assign wr_grp  = LiveGrpW'(idx >> LiveSubW);
    assign wr_sub  = idx[LiveSubW-1:0];
    logic [LiveSub-1:0]  wr_old;
    assign wr_old  = live_word_q[wr_grp];
    assign wr_word = (grp_q[wr_grp] ? wr_old : '0) | (LiveSub'(1) << wr_sub);
    always_ff @(posedge clk_i) begin
      if (clear_q) begin
        grp_q <= '0;
      end else if (we) begin
        grp_q[wr_grp] <= 1'b1;
      end
    end
    always_ff @(posedge clk_i) begin
      if (we) begin
        live_word_q[wr_grp] <= wr_word;
      end
    end
  end

endmodule

`default_nettype wire
