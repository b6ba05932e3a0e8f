//! The tile configuration: raw parameters (serde, TOML, CLI overrides),
//! validated once into a [`TileConfig`] that carries every derived width.
//!
//! Everything downstream (RTL generator, C++ shim, FFI table, golden model,
//! compiler and cost model) reads the same [`TileConfig`], so widths cannot
//! drift between the software and the hardware.

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The tile parameter list: the one declaration that the raw TOML/CLI struct
/// ([`TileParams`]), the resolved struct ([`Params`]), the validator
/// ([`TileConfig::new`]), the config tag and the command-line flags
/// (`cli::args::ConfigArgs`) are all generated from. Adding a parameter means
/// adding one entry here (plus its use in the templates).
///
/// It is an "X-macro": `tile_params!(m)` calls macro `m!` with the whole
/// list, and each consumer expands the entries its own way. A declarative
/// macro rather than a derive crate: no proc-macro dependency, and build.rs
/// (which includes this file by path) needs nothing beyond serde.
///
/// Each entry: doc comment, field name, then `default` (may read parameters
/// declared above it), the valid range `min..=max` (may read parameters
/// above), `why` (the reason for the range, printed in errors), `flag` (the
/// long CLI flag, also accepted as a TOML key) and `tag` (prefix in
/// [`TileConfig::tag`]). Entries are in dependency order.
macro_rules! tile_params {
    ($m:ident) => {
        $m! {
            /// Crossbar rows X_r.
            rows { default: 128, min: 2, max: limits::MAX_DIM, why: "", flag: "rows", tag: "r" }
            /// Crossbar columns X_c.
            cols { default: 128, min: 2, max: limits::MAX_DIM, why: "", flag: "cols", tag: "c" }
            /// Bits per cell C.
            cell_bits { default: 1, min: 1, max: limits::MAX_CELL_BITS, why: "",
                flag: "cell-bits", tag: "_c" }
            /// Weight bits Q including the sign.
            weight_bits { default: 8, min: 2, max: limits::MAX_WEIGHT_BITS,
                why: "sign plus at least one magnitude bit", flag: "weight-bits", tag: "q" }
            /// Activation bits A (unsigned).
            act_bits { default: 8, min: 1, max: limits::MAX_ACT_BITS, why: "",
                flag: "act-bits", tag: "a" }
            /// DAC bits D applied per activation step.
            dac_bits { default: 1, min: 1, max: act_bits.min(limits::MAX_DAC_BITS),
                why: "at most act_bits and 8", flag: "dac-bits", tag: "d" }
            /// Operation-unit rows m.
            ou_rows { default: 16, min: 1, max: rows.min(limits::MAX_OU),
                why: "at most rows and 128", flag: "ou-rows", tag: "_ou" }
            /// Operation-unit columns g.
            ou_cols { default: 8, min: 1, max: cols.min(limits::MAX_OU),
                why: "at most cols and 128", flag: "ou-cols", tag: "x" }
            /// ADC bits R (default: the smallest lossless value).
            adc_bits { default: lossless_adc_bits(ou_rows, cell_bits, dac_bits), min: 1,
                max: limits::MAX_ADC_BITS,
                why: format!("lossless from {}", lossless_adc_bits(ou_rows, cell_bits, dac_bits)),
                flag: "adc-bits", tag: "_adc" }
            /// Crossbars per tile N.
            xbars { default: 8, min: 1, max: limits::MAX_XBARS, why: "", flag: "xbars", tag: "_n" }
            /// Entries of the tile's input buffer I (default 4 x rows).
            inputs { default: 4 * rows, min: 1, max: limits::MAX_IO, why: "",
                flag: "inputs", tag: "_i" }
            /// Output accumulators of the tile O (default 2 x cols).
            outputs { default: 2 * cols, min: 1, max: limits::MAX_IO, why: "",
                flag: "outputs", tag: "o" }
            /// Op-memory depth per crossbar (default: OU windows per crossbar).
            ops { default: rows.div_ceil(ou_rows) * cols.div_ceil(ou_cols), min: 1,
                max: limits::MAX_OPS, why: "", flag: "ops", tag: "k" }
            /// Crossbar + ADC read latency in cycles (the X stage): 1 for the
            /// behavioral crossbar, more for a macro with registered reads.
            xbar_latency { default: 1, min: 1, max: limits::MAX_XBAR_LATENCY, why: "",
                flag: "xbar-latency", tag: "_xl" }
        }
    };
}
#[allow(unused_imports)] // build.rs includes this file and does not use it
pub(crate) use tile_params;

/// The smallest lossless ADC width for an m-row OU of C-bit cells driven by
/// D-bit DAC steps: bits to hold `m (2^C - 1)(2^D - 1)`.
fn lossless_adc_bits(ou_rows: u32, cell_bits: u32, dac_bits: u32) -> u32 {
    bits_for(max_column_sum(ou_rows, cell_bits, dac_bits))
}

/// Largest column sum of one OU activation: m (2^C - 1)(2^D - 1).
fn max_column_sum(ou_rows: u32, cell_bits: u32, dac_bits: u32) -> u64 {
    ou_rows as u64 * ((1u64 << cell_bits) - 1) * ((1u64 << dac_bits) - 1)
}

/// An OU size `MxG` (rows x columns): the `ou` shorthand of the config file
/// and the `--ou` flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OuSize {
    /// OU rows m.
    pub rows: u32,
    /// OU columns g.
    pub cols: u32,
}

impl std::str::FromStr for OuSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parse = |t: &str| t.trim().parse::<u32>().ok();
        match s.split_once(['x', 'X']).map(|(a, b)| (parse(a), parse(b))) {
            Some((Some(rows), Some(cols))) => Ok(OuSize { rows, cols }),
            _ => Err(format!("`{s}`: expected ROWSxCOLS, e.g. 16x8")),
        }
    }
}

impl TryFrom<String> for OuSize {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<OuSize> for String {
    fn from(o: OuSize) -> String {
        format!("{}x{}", o.rows, o.cols)
    }
}

/// Expands [`tile_params`] into [`TileParams`], [`Params`] and the resolver.
macro_rules! define_param_structs {
    ($( $(#[doc = $doc:literal])* $name:ident { default: $def:expr, min: $lo:expr, max: $hi:expr,
        why: $why:expr, flag: $flag:literal, tag: $tag:literal } )*) => {
        /// Raw tile parameters as written in a TOML file or given on the
        /// command line. Keys are the field names or the long flags
        /// (`cell_bits` or `cell-bits`); `xbar` and `ou` are shorthands.
        ///
        /// `None` means "use the default" (some defaults depend on other
        /// parameters).
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
        #[serde(deny_unknown_fields)]
        pub struct TileParams {
            /// Crossbar size: sets rows and cols where they are not given.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub xbar: Option<u32>,
            /// OU size `MxG`: sets ou_rows and ou_cols where they are not given.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ou: Option<OuSize>,
            $(
                $(#[doc = $doc])*
                #[serde(default, alias = $flag, skip_serializing_if = "Option::is_none")]
                pub $name: Option<u32>,
            )*
        }

        impl TileParams {
            /// Overlay `other` on `self`: every parameter set in `other` wins
            /// (shorthands are expanded on each side first).
            pub(crate) fn overlay(&self, other: &TileParams) -> TileParams {
                let (a, b) = (self.expanded(), other.expanded());
                TileParams { xbar: None, ou: None, $($name: b.$name.or(a.$name)),* }
            }

            /// Resolve every default and check every range, in declaration
            /// order.
            fn resolve(&self) -> Result<Params, ConfigError> {
                let raw = self.expanded();
                $(
                    let $name = check(
                        stringify!($name),
                        raw.$name,
                        || $def,
                        $lo,
                        $hi,
                        || -> String { ($why).to_string() },
                    )?;
                )*
                Ok(Params { $($name),* })
            }
        }

        /// Fully resolved parameters (every default filled in). Serialized
        /// into the manifest and the generated file headers.
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
        pub struct Params {
            $( $(#[doc = $doc])* pub $name: u32, )*
        }

        impl Params {
            /// A short, filesystem-safe name (see [`TileConfig::tag`]).
            fn tag(&self) -> String {
                let mut s = String::new();
                $( s.push_str($tag); s.push_str(&self.$name.to_string()); )*
                s
            }
        }
    };
}
tile_params!(define_param_structs);

/// Check one parameter; errors name it, its value (and whether that value is
/// the default) and the valid range.
fn check(
    param: &'static str,
    given: Option<u32>,
    default: impl FnOnce() -> u32,
    lo: u32,
    hi: u32,
    why: impl FnOnce() -> String,
) -> Result<u32, ConfigError> {
    let value = given.unwrap_or_else(default);
    if value >= lo && value <= hi {
        return Ok(value);
    }
    let why = why();
    Err(ConfigError {
        param,
        value: value as u64,
        is_default: given.is_none(),
        valid: if why.is_empty() {
            format!("{lo}..={hi}")
        } else {
            format!("{lo}..={hi} ({why})")
        },
    })
}

impl TileParams {
    /// Parse a TOML document (all keys optional, unknown keys rejected).
    pub(crate) fn from_toml(text: &str) -> Result<Self, String> {
        // A leading UTF-8 byte-order mark is skipped.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        toml::from_str(text).map_err(|e| format!("invalid tile config: {e}"))
    }

    /// The shorthands folded in: `xbar` fills rows and cols, `ou` fills
    /// ou_rows and ou_cols, where those are not given.
    fn expanded(&self) -> TileParams {
        let mut p = self.clone();
        p.rows = p.rows.or(self.xbar);
        p.cols = p.cols.or(self.xbar);
        p.ou_rows = p.ou_rows.or(self.ou.map(|o| o.rows));
        p.ou_cols = p.ou_cols.or(self.ou.map(|o| o.cols));
        p.xbar = None;
        p.ou = None;
        p
    }

    /// Validate into a [`TileConfig`].
    pub fn validate(&self) -> Result<TileConfig, ConfigError> {
        TileConfig::new(self)
    }
}

/// A configuration error: names the parameter, its value and the valid range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Parameter name as used in TOML (CLI flag: same with `-`).
    pub param: &'static str,
    /// The offending value.
    pub value: u64,
    /// Whether the value is a default the user did not set.
    pub is_default: bool,
    /// Human description of the valid range.
    pub valid: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "config parameter `{}` = {}{} is out of range: valid {}",
            self.param,
            self.value,
            if self.is_default {
                " (its default; set it explicitly)"
            } else {
                ""
            },
            self.valid
        )
    }
}

impl std::error::Error for ConfigError {}

/// Widths and counts derived from [`Params`]; computed once, in Rust.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Derived {
    /// Magnitude bits M = Q - 1.
    pub mag_bits: u32,
    /// Magnitude slices (bit-planes) per weight: ceil(M / C).
    pub slices: u32,
    /// Activation steps per input vector: ceil(A / D).
    pub steps: u32,
    /// Largest slice shift (slices - 1) * C.
    pub max_slice_shift: u32,
    /// Largest step shift (steps - 1) * D.
    pub max_step_shift: u32,
    /// Largest column sum of one OU activation: m (2^C - 1)(2^D - 1).
    pub max_column_sum: u64,
    /// Width of the analog column sum (bits to hold `max_column_sum`).
    pub sum_bits: u32,
    /// Smallest lossless ADC width.
    pub lossless_adc_bits: u32,
    /// Whether the configured ADC is lossless.
    pub adc_lossless: bool,
    /// Row windows per crossbar: ceil(X_r / m).
    pub row_windows: u32,
    /// Column windows per crossbar: ceil(X_c / g).
    pub col_windows: u32,
    /// Width of the row-window field.
    pub rw_bits: u32,
    /// Width of the column-window field.
    pub cw_bits: u32,
    /// Width of the slice-shift field.
    pub shift_bits: u32,
    /// Width of an input index.
    pub in_idx_bits: u32,
    /// Width of an output index.
    pub out_idx_bits: u32,
    /// Width of a step counter.
    pub step_bits: u32,
    /// Width of an op index / op count (holds 0..=ops).
    pub cnt_bits: u32,
    /// Width of a crossbar index.
    pub xbar_idx_bits: u32,
    /// Width of a row index inside a crossbar.
    pub row_idx_bits: u32,
    /// Width of an op-memory address.
    pub op_idx_bits: u32,
    /// Width of an input-word address.
    pub in_word_bits: u32,
    /// Width of the signed shift-add (splice) output.
    pub splice_bits: u32,
    /// Width of every signed accumulator and of the output port.
    pub acc_bits: u32,
    /// Bit offsets of the fields in one op word.
    pub op_layout: OpLayout,
    /// Bits of one crossbar row: X_c * C.
    pub row_data_bits: u32,
    /// Inputs packed in one programming write.
    pub inputs_per_word: u32,
    /// Programming writes to load all inputs.
    pub input_words: u32,
    /// Width of the programming data bus.
    pub prog_data_bits: u32,
    /// Width of the programming address (2 region bits + offset).
    pub prog_addr_bits: u32,
    /// Width of the offset inside a region.
    pub prog_offset_bits: u32,
    /// Cycles from the accepted start to done, beyond steps x longest op
    /// list: `PIPELINE_LATENCY + xbar_latency - 1`.
    pub latency: u32,
    /// Read latency of the output port in cycles: `out_data_o` holds the
    /// output named by `out_addr_i` this many rising edges earlier (one
    /// address per cycle). The accumulator memory read plus one cycle per
    /// level of the adder tree over the `xbars x ou_cols` memories:
    /// `1 + max(1, ceil(log4(xbars x ou_cols)))`.
    pub out_latency: u32,
}

/// Bit positions of the fields of one encoded op (LSB first).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OpLayout {
    /// Sign bit (1 = subtract).
    pub sign: u32,
    /// Slice shift field.
    pub shift: u32,
    /// Row-window field.
    pub rw: u32,
    /// Column-window field.
    pub cw: u32,
    /// First input-index entry; entry i at `inputs + i * in_entry_bits`,
    /// valid bit first, then the index.
    pub inputs: u32,
    /// Bits of one input entry (1 + in_idx_bits).
    pub in_entry_bits: u32,
    /// First output-index entry; entry c at `outputs + c * out_entry_bits`.
    pub outputs: u32,
    /// Bits of one output entry (1 + out_idx_bits).
    pub out_entry_bits: u32,
    /// Total op width.
    pub width: u32,
}

/// A validated tile configuration: parameters plus derived widths.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TileConfig {
    /// Resolved parameters.
    pub params: Params,
    /// Derived widths.
    pub derived: Derived,
}

/// Pipeline latency of the generated tile with a one-cycle crossbar read
/// (see `templates/ctrl.sv`): cycles = steps * max_ops + latency, counted
/// from the clock edge that accepts `start_i` to the first edge at which
/// `done_o` is high, where latency = PIPELINE_LATENCY + xbar_latency - 1
/// ([`Derived::latency`]).
pub(crate) const PIPELINE_LATENCY: u32 = 4;

/// Read latency of the accumulator memories (`<prefix>_acc_ram`, one per
/// crossbar and OU column): the first cycle of the output read port.
pub(crate) const ACC_RAM_LATENCY: u32 = 1;

/// Inputs of one node of the output port's adder tree: each registered tree
/// level adds up to this many values (two adder levels between registers).
pub(crate) const OUT_TREE_FAN_IN: u32 = 4;

/// Values out of each registered level of the output port's adder tree over
/// `lanes` accumulator memories (one per crossbar and OU column): at least
/// one level (the output register), the last one a single value.
pub(crate) fn out_tree_levels(lanes: u32) -> Vec<u32> {
    let mut levels = Vec::new();
    let mut n = lanes.max(1);
    loop {
        n = n.div_ceil(OUT_TREE_FAN_IN);
        levels.push(n);
        if n == 1 {
            break;
        }
    }
    levels
}

/// Read latency of the output port ([`Derived::out_latency`]): the
/// accumulator memory read, then one cycle per adder-tree level.
pub(crate) fn out_read_latency(xbars: u32, ou_cols: u32) -> u32 {
    ACC_RAM_LATENCY + out_tree_levels(xbars * ou_cols).len() as u32
}

/// Bits needed to represent values 0..=v (at least 1).
pub(crate) fn bits_for(v: u64) -> u32 {
    (64 - v.leading_zeros()).max(1)
}

fn ceil_div(a: u32, b: u32) -> u32 {
    a.div_ceil(b)
}

/// Hard limits of the generator, with their reasons.
pub mod limits {
    /// Largest crossbar dimension.
    pub(crate) const MAX_DIM: u32 = 1024;
    /// Largest bits per cell.
    pub(crate) const MAX_CELL_BITS: u32 = 4;
    /// Largest weight width (sign included).
    pub(crate) const MAX_WEIGHT_BITS: u32 = 16;
    /// Largest activation width.
    pub(crate) const MAX_ACT_BITS: u32 = 16;
    /// Largest DAC width.
    pub(crate) const MAX_DAC_BITS: u32 = 8;
    /// Largest OU dimension.
    pub(crate) const MAX_OU: u32 = 128;
    /// Largest ADC width.
    pub(crate) const MAX_ADC_BITS: u32 = 32;
    /// Largest crossbar count per tile.
    pub(crate) const MAX_XBARS: u32 = 64;
    /// Largest input buffer / output count.
    pub(crate) const MAX_IO: u32 = 65536;
    /// Largest op-memory depth.
    pub(crate) const MAX_OPS: u32 = 65536;
    /// Largest crossbar + ADC read latency in cycles.
    pub(crate) const MAX_XBAR_LATENCY: u32 = 16;
    /// Largest accumulator width (the golden model computes in i128).
    pub(crate) const MAX_ACC_BITS: u32 = 127;
}

impl TileConfig {
    /// The default configuration (128x128, SLC, Q=8, A=8, D=1, 16x8 OU, N=8).
    pub fn default_config() -> TileConfig {
        TileParams::default()
            .validate()
            .expect("defaults are valid")
    }

    /// Validate raw parameters and derive every width.
    pub fn new(raw: &TileParams) -> Result<TileConfig, ConfigError> {
        use limits::*;
        let params = raw.resolve()?;
        let Params {
            rows,
            cols,
            cell_bits,
            weight_bits,
            act_bits,
            dac_bits,
            ou_rows,
            ou_cols,
            adc_bits,
            xbars,
            inputs,
            outputs,
            ops,
            xbar_latency,
            ..
        } = params.clone();
        let max_column_sum = max_column_sum(ou_rows, cell_bits, dac_bits);
        let lossless_adc_bits = bits_for(max_column_sum);
        let row_windows = ceil_div(rows, ou_rows);
        let col_windows = ceil_div(cols, ou_cols);

        let mag_bits = weight_bits - 1;
        let slices = ceil_div(mag_bits, cell_bits);
        let steps = ceil_div(act_bits, dac_bits);
        let max_slice_shift = (slices - 1) * cell_bits;
        let max_step_shift = (steps - 1) * dac_bits;
        let sum_bits = bits_for(max_column_sum);
        let adc_max: u64 = (1u64 << adc_bits) - 1;
        let adc_lossless = adc_max >= max_column_sum;
        // The ADC output never exceeds min(column sum, 2^R - 1).
        let eff_adc_max = adc_max.min(max_column_sum);
        let splice_mag = BigUint::from(eff_adc_max) << (max_slice_shift + max_step_shift) as usize;
        let splice_bits = splice_mag.bits() as u32 + 1;
        // Accumulator bound: an op names each output at most once, so per
        // step every op of every crossbar adds at most adc << (slice + tD) to
        // one output. Summed over all ops of all crossbars and all steps.
        let mut step_sum = BigUint::from(0u32);
        for t in 0..steps {
            step_sum += BigUint::from(1u32) << (t * dac_bits) as usize;
        }
        let bound = BigUint::from(eff_adc_max)
            * (BigUint::from(1u32) << max_slice_shift as usize)
            * step_sum
            * BigUint::from(ops as u64 * xbars as u64);
        let acc_bits = bound.bits() as u32 + 1;
        if acc_bits > MAX_ACC_BITS {
            return Err(ConfigError {
                param: "ops",
                value: ops as u64,
                is_default: raw.ops.is_none(),
                valid: format!(
                    "a configuration whose accumulator fits {MAX_ACC_BITS} bits (needs {acc_bits}); \
                     reduce ops, xbars, ou_cols, act_bits or weight_bits"
                ),
            });
        }

        let rw_bits = bits_for((row_windows - 1) as u64);
        let cw_bits = bits_for((col_windows - 1) as u64);
        let shift_bits = bits_for(max_slice_shift as u64);
        let in_idx_bits = bits_for((inputs - 1) as u64);
        let out_idx_bits = bits_for((outputs - 1) as u64);
        let step_bits = bits_for((steps - 1) as u64);
        let cnt_bits = bits_for(ops as u64);
        let xbar_idx_bits = bits_for((xbars - 1) as u64);

        let sign = 0;
        let shift = 1;
        let rw = shift + shift_bits;
        let cw = rw + rw_bits;
        let in_entry_bits = 1 + in_idx_bits;
        let out_entry_bits = 1 + out_idx_bits;
        let inputs_off = cw + cw_bits;
        let outputs_off = inputs_off + ou_rows * in_entry_bits;
        let width = outputs_off + ou_cols * out_entry_bits;
        let op_layout = OpLayout {
            sign,
            shift,
            rw,
            cw,
            inputs: inputs_off,
            in_entry_bits,
            outputs: outputs_off,
            out_entry_bits,
            width,
        };
        let row_data_bits = cols * cell_bits;
        let base_bits = row_data_bits.max(width).max(cnt_bits).max(act_bits);
        let inputs_per_word = (base_bits / act_bits).clamp(1, inputs);
        let input_words = ceil_div(inputs, inputs_per_word);
        let prog_data_bits = base_bits.max(inputs_per_word * act_bits);
        let row_idx_bits = bits_for((rows - 1) as u64);
        let op_idx_bits = bits_for((ops - 1) as u64);
        let in_word_bits = bits_for((input_words - 1) as u64);
        // Region offsets are bit fields: {xbar, row}, {xbar, k}, xbar, word.
        let prog_offset_bits = (xbar_idx_bits + row_idx_bits)
            .max(xbar_idx_bits + op_idx_bits)
            .max(in_word_bits);
        let prog_addr_bits = prog_offset_bits + 2;

        Ok(TileConfig {
            params,
            derived: Derived {
                mag_bits,
                slices,
                steps,
                max_slice_shift,
                max_step_shift,
                max_column_sum,
                sum_bits,
                lossless_adc_bits,
                adc_lossless,
                row_windows,
                col_windows,
                rw_bits,
                cw_bits,
                shift_bits,
                in_idx_bits,
                out_idx_bits,
                step_bits,
                cnt_bits,
                xbar_idx_bits,
                row_idx_bits,
                op_idx_bits,
                in_word_bits,
                splice_bits,
                acc_bits,
                op_layout,
                row_data_bits,
                inputs_per_word,
                input_words,
                prog_data_bits,
                prog_addr_bits,
                prog_offset_bits,
                latency: PIPELINE_LATENCY + xbar_latency - 1,
                out_latency: out_read_latency(xbars, ou_cols),
            },
        })
    }

    /// A warning to print for this config, if any (lossy ADC).
    pub(crate) fn warning(&self) -> Option<String> {
        if self.derived.adc_lossless {
            None
        } else {
            Some(format!(
                "warning: adc_bits = {} is lossy: an OU column sum reaches {} but the ADC saturates at {}; \
                 lossless needs adc_bits >= {}",
                self.params.adc_bits,
                self.derived.max_column_sum,
                (1u64 << self.params.adc_bits) - 1,
                self.derived.lossless_adc_bits
            ))
        }
    }

    /// Largest ADC output value 2^R - 1.
    pub(crate) fn adc_max(&self) -> u64 {
        (1u64 << self.params.adc_bits) - 1
    }

    /// Largest weight magnitude 2^M - 1.
    pub fn max_weight(&self) -> i64 {
        (1i64 << self.derived.mag_bits) - 1
    }

    /// Largest activation 2^A - 1.
    pub fn max_act(&self) -> u32 {
        ((1u64 << self.params.act_bits) - 1) as u32
    }

    /// A short, filesystem-safe name of the config (used for top-module
    /// suffixes and cache keys); identical params give identical names.
    pub fn tag(&self) -> String {
        self.params.tag()
    }

    /// The parameters as TOML (round-trips through [`TileParams::from_toml`]).
    pub(crate) fn params_toml(&self) -> String {
        toml::to_string(&self.params).expect("params serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_design() {
        let c = TileConfig::default_config();
        let p = &c.params;
        assert_eq!(
            (p.rows, p.cols, p.cell_bits, p.weight_bits),
            (128, 128, 1, 8)
        );
        assert_eq!(
            (p.act_bits, p.dac_bits, p.ou_rows, p.ou_cols, p.xbars),
            (8, 1, 16, 8, 8)
        );
        // 16 rows x 1 x 1 = 16 -> 5 bits lossless.
        assert_eq!(p.adc_bits, 5);
        assert!(c.derived.adc_lossless);
        assert_eq!(c.derived.slices, 7);
        assert_eq!(c.derived.steps, 8);
    }

    #[test]
    fn output_read_latency_follows_the_adder_tree() {
        assert_eq!(out_tree_levels(1), vec![1]);
        assert_eq!(out_tree_levels(4), vec![1]);
        assert_eq!(out_tree_levels(5), vec![2, 1]);
        assert_eq!(out_tree_levels(64), vec![16, 4, 1]);
        assert_eq!(out_tree_levels(65), vec![17, 5, 2, 1]);
        // Default: 8 crossbars x 8 OU columns = 64 memories, 3 tree levels.
        assert_eq!(TileConfig::default_config().derived.out_latency, 4);
        assert_eq!(out_read_latency(1, 1), 2);
    }

    #[test]
    fn errors_name_param_and_range() {
        let raw = TileParams {
            ou_rows: Some(200),
            ..Default::default()
        };
        let e = raw.validate().unwrap_err();
        assert_eq!(e.param, "ou_rows");
        assert_eq!(e.value, 200);
        assert!(e.to_string().contains("1..=128"), "{e}");
    }
}
