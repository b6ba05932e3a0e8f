// Standalone Verilator testbench for a generated SME tile (no Rust needed).
//
// Build: `make -f sme_tb.mk` in a directory written by `sme gen --tb`
// (verilates the tile with --prefix Vtop and compiles this file).
// Run:   obj_tb/sme_tb STIM... > results.txt
//        obj_tb_trace/sme_tb +trace=FILE.vcd STIM...   (built with TRACE=1)
// An argument @LIST reads STIM paths from LIST, one per line (blank lines and
// lines starting with `#` are skipped; a relative path is relative to the
// directory of LIST, so paths may contain spaces). An argument `-` reads one
// STIM stream from standard input (`sme verify` streams its stimulus this
// way); a header line `sme-stim 1` may repeat inside a stream, so STIM files
// can simply be concatenated.
//
// STIM files are plain text, read in order as one command stream (`sme
// verify --emit DIR` writes NNNN.prog.stim / NNNN.vec.stim per program, their
// run order in stims.txt, and expected.txt). First line
// `sme-stim 1`; `#` starts a comment; then one command per line:
//   W <addr> <data>   programming write (hex, no 0x): waits for prog_ready_o
//   I <n>             n idle clock cycles
//   R                 pulse start_i, wait for done_o; prints `cycles <n>`
//   O                 read every output: one address per clock edge, output o
//                     after the SME_OUT_LATENCY-th edge from the one that
//                     sampled its address (the read port is pipelined);
//                     prints `out <y0> <y1> ...`
//   X                 reset (two cycles with rst_ni low)
// Results (stdout): first line `sme-out 1`, then the `cycles` and `out`
// lines in command order. Outputs are signed decimal (sign-extended from
// SME_ACC_BITS). `cycles` counts from the edge that samples start_i high to
// the first edge after which done_o is high: the cycle model's number.
// Exit code 0, or 1 with a message on stderr (bad STIM, a value wider than
// its port, timeout, an $error in the design, a trace or results file that
// cannot be written).
//
// SME_ACC_BITS, SME_OUTPUTS, SME_OUT_LATENCY (the output port's read latency,
// the manifest's output_port.read_latency), SME_OUT_IDX_BITS,
// SME_PROG_ADDR_BITS and SME_PROG_DATA_BITS come from the makefile (the config; the port widths are
// rendered from the generator's port table, src/iface.rs); VM_TRACE is set by
// Verilator when built with TRACE=1.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "Vtop.h"
#include "verilated.h"
#if VM_TRACE
#include <fcntl.h>
#include <unistd.h>

#include "verilated_vcd_c.h"
#endif

#ifndef SME_ACC_BITS
#error "define SME_ACC_BITS (accumulator width) - use the generated sme_tb.mk"
#endif
#ifndef SME_OUTPUTS
#error "define SME_OUTPUTS (number of outputs) - use the generated sme_tb.mk"
#endif
#if !defined(SME_OUT_LATENCY) || SME_OUT_LATENCY < 1
#error "define SME_OUT_LATENCY (output port read latency, >= 1) - use the generated sme_tb.mk"
#endif
#if !defined(SME_PROG_ADDR_BITS) || !defined(SME_PROG_DATA_BITS)
#error "define SME_PROG_ADDR_BITS and SME_PROG_DATA_BITS - use the generated sme_tb.mk"
#endif

namespace {

using Words = std::vector<uint32_t>;

template <typename T>
void put(T& dst, const Words& w) {
  uint64_t v = w.empty() ? 0 : w[0];
  if (w.size() > 1) v |= static_cast<uint64_t>(w[1]) << 32;
  dst = static_cast<T>(v);
}
template <std::size_t N>
void put(VlWide<N>& dst, const Words& w) {
  for (std::size_t i = 0; i < N; ++i) dst[i] = i < w.size() ? w[i] : 0;
}
template <typename T>
Words get(const T& src) {
  uint64_t v = static_cast<uint64_t>(src);
  return Words{static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
}
template <std::size_t N>
Words get(const VlWide<N>& src) {
  Words w(N);
  for (std::size_t i = 0; i < N; ++i) w[i] = src[i];
  return w;
}

// Hex string to little-endian u32 words; false on a bad digit.
bool parse_hex(const std::string& s, Words& out) {
  out.clear();
  if (s.empty()) return false;
  uint32_t word = 0;
  int nib = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    char c = *it;
    uint32_t d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    word |= d << (4 * nib);
    if (++nib == 8) {
      out.push_back(word);
      word = 0;
      nib = 0;
    }
  }
  if (nib) out.push_back(word);
  return true;
}

// True when `w` has no bit set at or above `bits`.
bool fits(const Words& w, int bits) {
  for (std::size_t i = 0; i < w.size(); ++i) {
    int lo = static_cast<int>(32 * i);
    if (lo >= bits) {
      if (w[i]) return false;
    } else if (bits - lo < 32 && (w[i] >> (bits - lo))) {
      return false;
    }
  }
  return true;
}

// Signed decimal of the low `bits` bits of `w` (two's complement).
std::string to_signed_dec(Words w, int bits) {
  std::size_t n = (bits + 31) / 32;
  w.resize(n, 0);
  int top = (bits - 1) % 32 + 1;
  if (top < 32) w[n - 1] &= (1u << top) - 1;
  bool neg = (w[n - 1] >> (top - 1)) & 1;
  if (neg) {  // magnitude = two's complement within `bits`
    uint64_t carry = 1;
    for (std::size_t i = 0; i < n; ++i) {
      uint64_t v = static_cast<uint64_t>(static_cast<uint32_t>(~w[i])) + carry;
      w[i] = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (top < 32) w[n - 1] &= (1u << top) - 1;
  }
  std::string digits;
  bool zero = false;
  while (!zero) {  // repeated division by 10
    uint64_t rem = 0;
    zero = true;
    for (std::size_t i = n; i-- > 0;) {
      uint64_t cur = (rem << 32) | w[i];
      w[i] = static_cast<uint32_t>(cur / 10);
      rem = cur % 10;
      if (w[i]) zero = false;
    }
    digits.push_back(static_cast<char>('0' + rem));
  }
  if (neg) digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

struct Bench {
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<Vtop> top;
#if VM_TRACE
  std::unique_ptr<VerilatedVcdFile> vcd_file;  // outlives vcd
  std::unique_ptr<VerilatedVcdC> vcd;
#endif
  uint64_t time = 0;

  void dump() {
#if VM_TRACE
    if (vcd) vcd->dump(time);
#endif
    ++time;
  }
  void eval() { top->eval(); }
  void tick() {
    top->clk_i = 1;
    top->eval();
    dump();
    top->clk_i = 0;
    top->eval();
    dump();
  }
  void reset() {
    top->clk_i = 0;
    top->prog_valid_i = 0;
    top->start_i = 0;
    put(top->prog_addr_i, Words{0, 0});
    put(top->prog_data_i, Words{});
    put(top->out_addr_i, Words{0, 0});
    top->rst_ni = 0;
    eval();
    tick();
    tick();
    top->rst_ni = 1;
    eval();
    tick();
  }
};

[[noreturn]] void die(const std::string& where, const std::string& msg) {
  std::fprintf(stderr, "sme_tb: %s: %s\n", where.c_str(), msg.c_str());
  std::exit(1);
}

#if VM_TRACE
// The VCD file: a failed write (a full disk, /dev/full) ends the testbench
// at once with a message. Verilator's own writer reports it through its
// fatal-error path, which flushes the same trace again and can hang.
class CheckedVcdFile final : public VerilatedVcdFile {
  int fd_ = -1;
  std::string name_;

 public:
  bool open(const std::string& name) override {
    name_ = name;
    fd_ = ::open(name.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0666);
    return fd_ >= 0;
  }
  void close() override {
    if (fd_ >= 0 && ::close(fd_) != 0) fail();
    fd_ = -1;
  }
  ssize_t write(const char* bufp, ssize_t len) override {
    ssize_t done = 0;
    while (done < len) {
      ssize_t got = ::write(fd_, bufp + done, static_cast<size_t>(len - done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail();
      done += got;
    }
    return len;
  }
  [[noreturn]] void fail() {
    std::fprintf(stderr, "sme_tb: %s: cannot write the trace: %s\n", name_.c_str(),
                 errno ? std::strerror(errno) : "short write");
    std::fflush(stdout);
    ::_exit(1);
  }
};
#endif

// Directory part of `path` with its trailing slash ("" for none).
std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// Runs the STIM commands of `in` (named `name` in messages).
void run_stream(Bench& b, std::istream& in, const std::string& name) {
  std::string line;
  long lineno = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    std::string where = name + ":" + std::to_string(lineno);
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream ss(line);
    std::string cmd;
    if (!(ss >> cmd)) continue;
    if (cmd == "sme-stim") {
      std::string ver, extra;
      if (!(ss >> ver) || ver != "1" || (ss >> extra))
        die(where, "expected the header `sme-stim 1`");
      header = true;
      continue;
    }
    if (!header) die(where, "expected the header `sme-stim 1`");
    std::string extra;
    if (cmd == "W") {
      std::string a, d;
      Words aw, dw;
      if (!(ss >> a >> d) || !parse_hex(a, aw) || !parse_hex(d, dw))
        die(where, "expected `W <addr hex> <data hex>`");
      if (!fits(aw, SME_PROG_ADDR_BITS))
        die(where, "address wider than prog_addr_i (" + std::to_string(SME_PROG_ADDR_BITS) + " bits)");
      if (!fits(dw, SME_PROG_DATA_BITS))
        die(where, "data wider than prog_data_i (" + std::to_string(SME_PROG_DATA_BITS) + " bits)");
      put(b.top->prog_addr_i, aw);
      put(b.top->prog_data_i, dw);
      b.top->prog_valid_i = 1;
      b.eval();
      long guard = 0;
      while (!b.top->prog_ready_o) {
        b.tick();
        if (++guard > 1000000) die(where, "prog_ready_o never rose");
      }
      b.tick();
      b.top->prog_valid_i = 0;
      b.eval();
    } else if (cmd == "I") {
      long n = -1;
      if (!(ss >> n) || n < 0 || n > 1000000000L) die(where, "expected `I <cycles>` with 0..=1000000000 cycles");
      for (long i = 0; i < n; ++i) b.tick();
    } else if (cmd == "R") {
      if (b.top->busy_o) die(where, "start while busy");
      b.top->start_i = 1;
      b.eval();
      b.tick();
      b.top->start_i = 0;
      b.eval();
      uint64_t n = 0;
      do {
        b.tick();
        ++n;
        if (n > 100000000ull) die(where, "done_o never rose");
      } while (!b.top->done_o);
      std::printf("cycles %llu\n", static_cast<unsigned long long>(n));
    } else if (cmd == "O") {
      std::string outl = "out";
      // Pipelined read port: edge e samples address e (held at the last
      // one); after edge e out_data_o holds output e + 1 - SME_OUT_LATENCY.
      const uint32_t lat = SME_OUT_LATENCY;
      for (uint32_t e = 0; e + 1 < SME_OUTPUTS + lat; ++e) {
        uint32_t a = e < SME_OUTPUTS ? e : SME_OUTPUTS - 1;
        put(b.top->out_addr_i, Words{a, 0});
        b.eval();
        b.tick();
        if (e + 1 >= lat) outl += " " + to_signed_dec(get(b.top->out_data_o), SME_ACC_BITS);
      }
      std::printf("%s\n", outl.c_str());
    } else if (cmd == "X") {
      b.reset();
    } else {
      die(where, "unknown command `" + cmd + "` (valid W, I, R, O, X)");
    }
    if (ss >> extra) die(where, "unexpected `" + extra + "` after the command");
    // An $error in the design, or a trace that cannot be written (the VCD
    // writer reports a failed write as an error): stop instead of going on.
    if (b.ctx->gotError()) die(where, "the RTL reported an $error, or the trace file could not be written");
    if (std::ferror(stdout)) die(where, "cannot write the results to standard output");
  }
  if (in.bad()) die(name, "read error");
  if (!header) die(name, "empty file (expected the header `sme-stim 1`)");
}

}  // namespace

int main(int argc, char** argv) {
  std::string trace_file;
  std::vector<std::string> stims;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("+trace=", 0) == 0) {
      trace_file = a.substr(7);
      if (trace_file.empty()) die("+trace", "empty file name");
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: sme_tb [+trace=FILE.vcd] STIM|@LIST|-...\n");
      return 0;
    } else if (a.size() > 1 && a[0] == '@') {
      std::string lp = a.substr(1);
      std::ifstream list(lp);
      if (!list) die(lp, "cannot open the STIM list");
      std::string p;
      while (std::getline(list, p)) {
        if (!p.empty() && p.back() == '\r') p.pop_back();
        if (p.empty() || p[0] == '#') continue;
        stims.push_back(p[0] == '/' ? p : dir_of(lp) + p);
      }
    } else {
      stims.push_back(a);
    }
  }
  if (stims.empty()) die("usage", "sme_tb [+trace=FILE.vcd] STIM|@LIST|-... (no STIM file given)");

  Bench b;
  b.ctx = std::make_unique<VerilatedContext>();
  b.ctx->fatalOnError(false);
  b.top = std::make_unique<Vtop>(b.ctx.get(), "top");
  if (!trace_file.empty()) {
#if VM_TRACE
    {
      // Refuse a trace that cannot be created before simulating anything.
      std::FILE* f = std::fopen(trace_file.c_str(), "w");
      if (!f) die(trace_file, std::string("cannot create the trace: ") + std::strerror(errno));
      std::fclose(f);
    }
    b.ctx->traceEverOn(true);
    b.vcd_file = std::make_unique<CheckedVcdFile>();
    b.vcd = std::make_unique<VerilatedVcdC>(b.vcd_file.get());
    b.top->trace(b.vcd.get(), 99);
    b.vcd->open(trace_file.c_str());
    if (!b.vcd->isOpen()) die(trace_file, "cannot open the trace");
#else
    die("+trace", "this testbench was built without tracing; rebuild with `make -f sme_tb.mk TRACE=1`");
#endif
  }
  b.reset();
  std::printf("sme-out 1\n");
  for (const std::string& path : stims) {
    if (path == "-") {
      run_stream(b, std::cin, "<stdin>");
      continue;
    }
    std::ifstream in(path);
    if (!in) die(path, "cannot open");
    run_stream(b, in, path);
  }
  b.top->final();
  if (b.ctx->gotError()) die("design", "the RTL reported an $error, or the trace file could not be written");
#if VM_TRACE
  if (b.vcd) {
    b.vcd->close();
    if (b.ctx->gotError()) die(trace_file, "cannot write the trace");
  }
#endif
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) die("results", "cannot write the results to standard output");
  return 0;
}
