//! Argument groups shared by several subcommands: the tile configuration
//! (generated from the one parameter list in [`crate::config`]) and the
//! bit-sparse pattern.

use crate::compiler::pattern::{Pattern, PatternKind};
use crate::config::{OuSize, TileConfig, TileParams, tile_params};
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

/// Expands the parameter list into [`ConfigArgs`]: one `--flag` per tile
/// parameter, with the parameter's doc comment as help.
macro_rules! define_config_args {
    ($( $(#[doc = $doc:literal])* $name:ident { default: $def:expr, min: $lo:expr, max: $hi:expr,
        why: $why:expr, flag: $flag:literal, tag: $tag:literal } )*) => {
        /// Tile configuration flags shared by every subcommand. Flags override
        /// the `--config` file, which overrides the defaults.
        #[derive(Args, Debug, Clone, Default)]
        pub struct ConfigArgs {
            /// TOML file with tile parameters (keys: the long flags, `-` or `_`).
            #[arg(long, value_name = "FILE")]
            pub config: Option<PathBuf>,
            /// Crossbar size: sets rows and columns.
            #[arg(long, value_name = "N", allow_hyphen_values = true)]
            pub xbar: Option<u32>,
            /// OU size as ROWSxCOLS (e.g. 16x8): sets ou-rows and ou-cols.
            #[arg(long, value_name = "MxG", allow_hyphen_values = true)]
            pub ou: Option<OuSize>,
            $(
                $(#[doc = $doc])*
                #[arg(long = $flag, allow_hyphen_values = true)]
                pub $name: Option<u32>,
            )*
        }

        impl ConfigArgs {
            /// The flags as raw parameters.
            fn flags(&self) -> TileParams {
                TileParams { xbar: self.xbar, ou: self.ou, $($name: self.$name),* }
            }
        }
    };
}
tile_params!(define_config_args);

impl ConfigArgs {
    /// Resolve file + flags into raw params.
    pub fn params(&self) -> Result<TileParams> {
        let base = match &self.config {
            Some(path) => {
                let text = crate::input::read_text(path, crate::input::InputKind::Config)?;
                TileParams::from_toml(&text).map_err(|e| {
                    anyhow::anyhow!("{}: {}", path.display(), crate::input::excerpt_message(&e))
                })?
            }
            None => TileParams::default(),
        };
        Ok(base.overlay(&self.flags()))
    }

    /// Resolve and validate; prints the lossy-ADC warning to stderr.
    pub fn validated(&self) -> Result<TileConfig> {
        let cfg = self.params()?.validate()?;
        if let Some(w) = cfg.warning() {
            eprintln!("{w}");
        }
        Ok(cfg)
    }
}

/// The bit-sparse pattern flags of `map` and `verify`.
#[derive(Args, Debug, Clone)]
pub struct PatternArgs {
    /// Bit-sparse pattern (group windows = the OU).
    #[arg(long, value_enum, default_value_t = PatternKind::Khot)]
    pub pattern: PatternKind,
    /// Non-zero bits per weight (khot) or per OU window (group).
    #[arg(long, default_value_t = 2, allow_hyphen_values = true)]
    pub k: u32,
}

impl PatternArgs {
    /// The pattern for `cfg`; errors name the flag and the valid range.
    pub(crate) fn resolve(&self, cfg: &TileConfig) -> Result<Pattern> {
        if self.k == 0 || self.k > cfg.derived.mag_bits {
            bail!(
                "--k {} is out of range: valid 1..={} (magnitude bits)",
                self.k,
                cfg.derived.mag_bits
            );
        }
        Ok(crate::compiler::network::pattern_for(
            cfg,
            self.pattern,
            self.k,
        ))
    }

    /// Whether both flags are at their defaults.
    pub(crate) fn is_default(&self) -> bool {
        self.pattern == PatternKind::Khot && self.k == 2
    }
}

/// Parse `AxBxC...` positive dimensions (`what` names the flag in errors).
pub(crate) fn parse_dims(s: &str, what: &str, example: &str) -> Result<Vec<usize>> {
    let dims: Option<Vec<usize>> = s
        .split(['x', 'X'])
        .map(|d| d.trim().parse().ok().filter(|&v: &usize| v > 0))
        .collect();
    match dims {
        Some(d) if !d.is_empty() => Ok(d),
        _ => bail!(
            "{what} `{}`: expected positive dimensions like {example}",
            crate::input::excerpt(s)
        ),
    }
}

/// The network flags of `map` and `chip`: one of a built-in network, an
/// ONNX model or an integer weights file.
#[derive(Args, Debug, Clone)]
pub struct NetArgs {
    /// Built-in network (resnet18, resnet50, mobilenetv2, vgg16).
    #[arg(long, conflicts_with_all = ["onnx", "weights"], required_unless_present_any = ["onnx", "weights"])]
    pub net: Option<String>,
    /// ONNX model file.
    #[arg(long, conflicts_with = "weights")]
    pub onnx: Option<PathBuf>,
    /// Integer weights file (`sme compress --out`): already quantized and
    /// projected, mapped as it is.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// ONNX input shape CxHxW when the model leaves it dynamic (e.g. 3x48x192).
    #[arg(long, value_name = "CxHxW")]
    pub input_shape: Option<String>,
}

impl NetArgs {
    /// The input files the flags name (outputs may not overwrite them).
    pub fn files(&self) -> impl Iterator<Item = &std::path::Path> {
        [&self.onnx, &self.weights]
            .into_iter()
            .filter_map(|p| p.as_deref())
    }

    /// Load what the flags name, for mapping on `cfg`.
    pub fn input(&self, cfg: &TileConfig) -> Result<crate::compiler::network::MapInput> {
        use crate::compiler::network::MapInput;
        Ok(match &self.weights {
            Some(path) => {
                let f = crate::weights::WeightsFile::load(path)?;
                f.check_fits(cfg)?;
                MapInput::Integer(f.network(), f.layers.iter().map(|l| l.matrix()).collect())
            }
            None => {
                let src = super::map::source(
                    self.net.as_deref(),
                    self.onnx.as_deref(),
                    self.input_shape.as_deref(),
                )?;
                let net = src.load()?;
                if src.synthetic() {
                    MapInput::Synthetic(net)
                } else {
                    MapInput::Real(net)
                }
            }
        })
    }
}
