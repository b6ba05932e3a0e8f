{{ c.header }}
`default_nettype none

// Grouping controller: holds every crossbar's op list (one op memory,
// {{ c.prefix }}_op_ram, per crossbar) and op count, and
// sequences them. On start it clears the accumulators and, for every
// activation step t = 0..Steps-1, issues op k = 0..L-1 of every crossbar in
// parallel, one per cycle (L = the longest op list; crossbars with shorter
// lists idle). Issued ops leave through a register (the fetch stage). After
// the last issue it waits Latency cycles for the pipeline to drain and pulses
// done. Cycles from the accepted start to done: Steps * L + Latency.
module {{ c.prefix }}_ctrl #(
  // Constants of {{ c.pkg }} (localparams: not overridable).
  localparam int Xbars   = {{ c.pkg }}::Xbars,
  localparam int OpW     = {{ c.pkg }}::OpW,
  localparam int OpIdxW  = {{ c.pkg }}::OpIdxW,
  localparam int CntW    = {{ c.pkg }}::CntW,
  localparam int XbarW   = {{ c.pkg }}::XbarW,
  localparam int CntLeaves = {{ c.pkg }}::CntLeaves,
  localparam int Steps   = {{ c.pkg }}::Steps,
  localparam int StepW   = {{ c.pkg }}::StepW,
  localparam int Latency = {{ c.pkg }}::Latency,
  localparam int FlushW  = {{ c.pkg }}::FlushW
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // Programming: op words and op counts.
  input  logic                  op_we_i,
  input  logic [XbarW-1:0]      op_xbar_i,
  input  logic [OpIdxW-1:0]     op_addr_i,
  input  logic [OpW-1:0]        op_data_i,
  input  logic                  cnt_we_i,
  input  logic [XbarW-1:0]      cnt_xbar_i,
  input  logic [CntW-1:0]       cnt_data_i,
  // Control.
  input  logic                  start_i,
  output logic                  idle_o,
  output logic                  clear_o,
  output logic                  done_o,
  // Fetch stage: the op issued last cycle, per crossbar.
  output logic [Xbars-1:0]      issue_valid_o,
  output logic [Xbars*OpW-1:0]  issue_op_o,
  output logic [StepW-1:0]      issue_step_o,
  // The step issue_step_o takes at the next edge.
  output logic [StepW-1:0]      issue_step_next_o
);

  typedef enum logic [1:0] {
    StIdle  = 2'd0,
    StRun   = 2'd1,
    StFlush = 2'd2
  } state_e;

  state_e             state_d, state_q;
  logic [StepW-1:0]   step_d, step_q;
  logic [OpIdxW-1:0]  k_d, k_q;
  logic [CntW-1:0]    len_d, len_q;
  logic [FlushW-1:0]  flush_d, flush_q;
  logic               done_d, done_q;
  logic [Xbars*CntW-1:0] cnts_d;
  logic [CntW-1:0]    max_cnt_q;
  logic               issue;
  logic               last_k;

  // Longest op list, a register: loaded at every edge with the maximum of
  // the counts as that edge leaves them (cnts_d: a count write included),
  // so it always equals the maximum of the counts, and the state logic at
  // start reads a flip-flop. The maximum is a balanced tree (node k =
  // max(node 2k+1, node 2k+2), leaves CntLeaves-1 .. 2*CntLeaves-2).
  logic [(2*CntLeaves-1)*CntW-1:0] max_node{% if c.params.xbars > 1 %} /* verilator split_var */{% endif %};
  for (genvar j = 0; j < CntLeaves; j++) begin : gen_max_leaf
    if (j < Xbars) begin : gen_cnt
      assign max_node[(CntLeaves-1+j)*CntW +: CntW] = cnts_d[j*CntW +: CntW];
    end else begin : gen_pad
      assign max_node[(CntLeaves-1+j)*CntW +: CntW] = '0;
    end
  end
  for (genvar k = 0; k < CntLeaves - 1; k++) begin : gen_max_node
    assign max_node[k*CntW +: CntW] =
      (max_node[(2*k+1)*CntW +: CntW] > max_node[(2*k+2)*CntW +: CntW])
        ? max_node[(2*k+1)*CntW +: CntW] : max_node[(2*k+2)*CntW +: CntW];
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      max_cnt_q <= '0;
    end else begin
      max_cnt_q <= max_node[0 +: CntW];
    end
  end

  assign idle_o  = (state_q == StIdle);
  assign clear_o = idle_o && start_i;
  assign issue   = (state_q == StRun);
  assign last_k  = (CntW'(k_q) == len_q - CntW'(1'b1));

  always_comb begin
    state_d = state_q;
    step_d  = step_q;
    k_d     = k_q;
    len_d   = len_q;
    flush_d = flush_q;
    done_d  = 1'b0;
    case (state_q)
      StIdle: begin
        if (start_i) begin
          len_d   = max_cnt_q;
          step_d  = '0;
          k_d     = '0;
          flush_d = '0;
          if (max_cnt_q == '0) begin
            state_d = StFlush;
          end else begin
            state_d = StRun;
          end
        end
      end
      StRun: begin
        if (last_k) begin
          k_d = '0;
          if (step_q == StepW'(Steps - 1)) begin
            state_d = StFlush;
          end else begin
            step_d = step_q + StepW'(1'b1);
          end
        end else begin
          k_d = k_q + OpIdxW'(1'b1);
        end
      end
      StFlush: begin
        if (flush_q == FlushW'(Latency - 1)) begin
          state_d = StIdle;
          done_d  = 1'b1;
        end else begin
          flush_d = flush_q + FlushW'(1'b1);
        end
      end
      default: begin
        state_d = StIdle;
      end
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      step_q  <= '0;
      k_q     <= '0;
      len_q   <= '0;
      flush_q <= '0;
      done_q  <= 1'b0;
    end else begin
      state_q <= state_d;
      step_q  <= step_d;
      k_q     <= k_d;
      len_q   <= len_d;
      flush_q <= flush_d;
      done_q  <= done_d;
    end
  end

  assign done_o = done_q;

  // Fetch stage.
  logic [StepW-1:0] issue_step_q;
  always_ff @(posedge clk_i) begin
    issue_step_q <= step_q;
  end
  assign issue_step_o = issue_step_q;
  assign issue_step_next_o = step_q;

  for (genvar j = 0; j < Xbars; j++) begin : gen_xbar
    logic [OpW-1:0]  op_q;
    logic            valid_q;
    logic [CntW-1:0] cnt_q;

    // Op memory (synchronous read: op_q is op k_q of the previous edge).
    {{ c.prefix }}_op_ram u_op_ram (
      .clk_i   (clk_i),
      .we_i    (op_we_i && op_xbar_i == XbarW'(j)),
      .waddr_i (op_addr_i),
      .wdata_i (op_data_i),
      .raddr_i (k_q),
      .rdata_o (op_q)
    );

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        cnt_q <= '0;
      end else if (cnt_we_i && cnt_xbar_i == XbarW'(j)) begin
        cnt_q <= cnt_data_i;
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        valid_q <= 1'b0;
      end else begin
        valid_q <= issue && (CntW'(k_q) < cnt_q);
      end
    end

    assign cnts_d[j*CntW +: CntW]   = (cnt_we_i && cnt_xbar_i == XbarW'(j)) ? cnt_data_i : cnt_q;
    assign issue_valid_o[j]         = valid_q;
    assign issue_op_o[j*OpW +: OpW] = op_q;
  end

endmodule

`default_nettype wire
