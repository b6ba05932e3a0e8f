//! Built-in ImageNet networks (224x224 input) with exact standard layer
//! shapes and seeded synthetic weights.
//!
//! Shapes follow the torchvision definitions: ResNet v1.5 (stride on the 3x3
//! conv of a bottleneck, 1x1 projection shortcuts where shape changes),
//! MobileNet-v2 (width 1.0) and VGG-16 (without batch norm).

use super::{Layer, LayerKind, Network};
use anyhow::{Result, bail};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::Exp1;

/// Names accepted by [`builtin`] and [`builtin_shapes`].
pub const BUILTIN_NAMES: &[&str] = &["resnet18", "resnet50", "mobilenetv2", "vgg16"];

/// A built-in network with synthetic weights (see [`synthesize`]); layer `i`
/// uses a generator seeded from `seed` mixed with `i`.
///
/// VGG-16 holds 138M weights (553 MB of f32): prefer [`builtin_shapes`] and
/// [`synthesize`] one layer at a time when memory matters.
pub fn builtin(name: &str, seed: u64) -> Result<Network> {
    let mut net = builtin_shapes(name)?;
    for (i, layer) in net.layers.iter_mut().enumerate() {
        synthesize(layer, mix(seed, i as u64));
    }
    Ok(net)
}

/// A built-in network with exact layer shapes and `vectors` but empty weights.
pub fn builtin_shapes(name: &str) -> Result<Network> {
    let mut b = Builder::new(224);
    match name {
        "resnet18" => resnet(&mut b, false, &[2, 2, 2, 2]),
        "resnet50" => resnet(&mut b, true, &[3, 4, 6, 3]),
        "mobilenetv2" => mobilenet_v2(&mut b),
        "vgg16" => vgg16(&mut b),
        _ => bail!(
            "unknown built-in network {name:?}; available: {}",
            BUILTIN_NAMES.join(", ")
        ),
    }
    Ok(Network {
        name: name.to_string(),
        layers: b.layers,
        warnings: Vec::new(),
    })
}

/// Fill `layer.weights` with i.i.d. synthetic weights drawn from a zero-mean
/// Laplace distribution with scale `b = sqrt(2 / fan_in) / sqrt(2)`, i.e.
/// standard deviation `sqrt(2 / fan_in)` (He initialisation), where
/// `fan_in = kh * kw * in_ch / groups`. Laplace, not Gaussian, because
/// trained weights are peaked at zero with heavy tails. Deterministic in `seed`.
pub fn synthesize(layer: &mut Layer, seed: u64) {
    let n = layer.num_weights();
    let b = ((2.0 / layer.fan_in().max(1) as f64).sqrt() / 2f64.sqrt()) as f32;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = Vec::with_capacity(n);
    let mut bits = 0u64;
    for k in 0..n {
        // One u64 supplies the signs of 64 weights.
        if k % 64 == 0 {
            bits = rng.random::<u64>();
        }
        let e: f32 = rng.sample(Exp1);
        let v = b * e;
        w.push(if bits & 1 == 1 { -v } else { v });
        bits >>= 1;
    }
    layer.weights = w;
}

/// SplitMix64-style mixing of the network seed with a layer index.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Tracks the current feature-map size while layers are appended.
struct Builder {
    /// Current spatial size (square feature maps).
    hw: usize,
    layers: Vec<Layer>,
}

impl Builder {
    fn new(hw: usize) -> Self {
        Builder {
            hw,
            layers: Vec::new(),
        }
    }

    /// Output size of a conv/pool with kernel k, stride s, padding p on `hw`.
    fn out(hw: usize, k: usize, s: usize, p: usize) -> usize {
        (hw + 2 * p - k) / s + 1
    }

    /// Append a conv on the current map without moving the map forward
    /// (used for shortcuts); returns the output size.
    #[allow(clippy::too_many_arguments)]
    fn conv_at(
        &mut self,
        name: String,
        hw: usize,
        cin: usize,
        cout: usize,
        k: usize,
        s: usize,
        groups: usize,
    ) -> usize {
        let o = Self::out(hw, k, s, k / 2);
        self.layers.push(Layer {
            name,
            kind: Layer::conv_kind(cin, groups),
            in_ch: cin,
            out_ch: cout,
            kh: k,
            kw: k,
            groups,
            vectors: o * o,
            weights: Vec::new(),
        });
        o
    }

    /// Append a conv (padding k/2) and move the map to its output.
    fn conv(&mut self, name: String, cin: usize, cout: usize, k: usize, s: usize, groups: usize) {
        self.hw = self.conv_at(name, self.hw, cin, cout, k, s, groups);
    }

    fn pool(&mut self, k: usize, s: usize, p: usize) {
        self.hw = Self::out(self.hw, k, s, p);
    }

    fn fc(&mut self, name: String, cin: usize, cout: usize) {
        self.layers.push(Layer {
            name,
            kind: LayerKind::Fc,
            in_ch: cin,
            out_ch: cout,
            kh: 1,
            kw: 1,
            groups: 1,
            vectors: 1,
            weights: Vec::new(),
        });
    }
}

fn resnet(b: &mut Builder, bottleneck: bool, blocks: &[usize]) {
    b.conv("conv1".into(), 3, 64, 7, 2, 1); // 112
    b.pool(3, 2, 1); // 56
    let expansion = if bottleneck { 4 } else { 1 };
    let mut cin = 64;
    for (stage, &n) in blocks.iter().enumerate() {
        let width = 64 << stage;
        let cout = width * expansion;
        for blk in 0..n {
            let s = if stage > 0 && blk == 0 { 2 } else { 1 };
            let p = format!("layer{}.{}", stage + 1, blk);
            let hw_in = b.hw;
            if bottleneck {
                b.conv(format!("{p}.conv1"), cin, width, 1, 1, 1);
                b.conv(format!("{p}.conv2"), width, width, 3, s, 1);
                b.conv(format!("{p}.conv3"), width, cout, 1, 1, 1);
            } else {
                b.conv(format!("{p}.conv1"), cin, width, 3, s, 1);
                b.conv(format!("{p}.conv2"), width, width, 3, 1, 1);
            }
            if s != 1 || cin != cout {
                let o = b.conv_at(format!("{p}.downsample"), hw_in, cin, cout, 1, s, 1);
                debug_assert_eq!(o, b.hw);
            }
            cin = cout;
        }
    }
    b.fc("fc".into(), cin, 1000);
}

fn mobilenet_v2(b: &mut Builder) {
    // (expansion t, output channels c, repeats n, first stride s)
    const TABLE: [(usize, usize, usize, usize); 7] = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ];
    b.conv("features.0".into(), 3, 32, 3, 2, 1); // 112
    let mut cin = 32;
    let mut idx = 1;
    for &(t, c, n, s) in &TABLE {
        for r in 0..n {
            let stride = if r == 0 { s } else { 1 };
            let hidden = cin * t;
            let p = format!("features.{idx}");
            if t != 1 {
                b.conv(format!("{p}.expand"), cin, hidden, 1, 1, 1);
            }
            b.conv(format!("{p}.depthwise"), hidden, hidden, 3, stride, hidden);
            b.conv(format!("{p}.project"), hidden, c, 1, 1, 1);
            cin = c;
            idx += 1;
        }
    }
    b.conv(format!("features.{idx}"), cin, 1280, 1, 1, 1); // 7x7
    b.fc("classifier".into(), 1280, 1000);
}

fn vgg16(b: &mut Builder) {
    const CFG: [usize; 18] = [
        64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
    ];
    let mut cin = 3;
    let mut i = 0;
    for &c in &CFG {
        if c == 0 {
            b.pool(2, 2, 0);
        } else {
            b.conv(format!("conv{i}"), cin, c, 3, 1, 1);
            cin = c;
            i += 1;
        }
    }
    assert_eq!(b.hw, 7);
    b.fc("fc6".into(), 512 * 7 * 7, 4096);
    b.fc("fc7".into(), 4096, 4096);
    b.fc("fc8".into(), 4096, 1000);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_counts() {
        // Conv + FC weights, no biases / batch norm; independently computed
        // from the torchvision parameter counts minus BN and bias parameters.
        let n = |name| builtin_shapes(name).unwrap();
        assert_eq!(n("resnet18").total_weights(), 11_678_912);
        assert_eq!(n("resnet50").total_weights(), 25_502_912);
        assert_eq!(n("mobilenetv2").total_weights(), 3_469_760);
        assert_eq!(n("vgg16").total_weights(), 138_344_128);
    }

    #[test]
    fn layer_shapes_and_vectors() {
        let r50 = builtin_shapes("resnet50").unwrap();
        // 1 stem + 16 blocks * 3 + 4 projections + fc
        assert_eq!(r50.layers.len(), 1 + 48 + 4 + 1);
        let by =
            |net: &Network, name: &str| net.layers.iter().find(|l| l.name == name).unwrap().clone();
        assert_eq!(by(&r50, "conv1").vectors, 112 * 112);
        assert_eq!(by(&r50, "layer1.0.downsample").vectors, 56 * 56);
        let l = by(&r50, "layer2.0.conv1");
        assert_eq!((l.in_ch, l.out_ch, l.vectors), (256, 128, 56 * 56));
        let l = by(&r50, "layer2.0.conv2");
        assert_eq!((l.kh, l.vectors), (3, 28 * 28));
        let l = by(&r50, "layer2.0.downsample");
        assert_eq!((l.in_ch, l.out_ch, l.kh, l.vectors), (256, 512, 1, 28 * 28));
        assert_eq!(by(&r50, "layer4.2.conv3").vectors, 49);
        let fc = by(&r50, "fc");
        assert_eq!(
            (fc.kind, fc.in_ch, fc.out_ch, fc.vectors),
            (LayerKind::Fc, 2048, 1000, 1)
        );

        let r18 = builtin_shapes("resnet18").unwrap();
        assert_eq!(r18.layers.len(), 1 + 16 + 3 + 1);
        assert_eq!(by(&r18, "layer3.0.downsample").vectors, 14 * 14);

        let mb = builtin_shapes("mobilenetv2").unwrap();
        assert_eq!(mb.count_kind(LayerKind::Depthwise), 17);
        assert_eq!(mb.count_kind(LayerKind::Fc), 1);
        assert_eq!(mb.layers.len(), 1 + 17 * 2 + 16 + 1 + 1);
        let dw = by(&mb, "features.2.depthwise");
        assert_eq!(
            (dw.in_ch, dw.groups, dw.kh, dw.vectors),
            (96, 96, 3, 56 * 56)
        );
        assert_eq!(by(&mb, "features.18").vectors, 49);
        assert_eq!(by(&mb, "features.18").out_ch, 1280);
        assert_eq!(dw.matrices_shape(), (96, 9, 1));

        let vgg = builtin_shapes("vgg16").unwrap();
        assert_eq!(vgg.layers.len(), 16);
        assert_eq!(vgg.layers[0].vectors, 224 * 224);
        assert_eq!(vgg.layers[12].vectors, 14 * 14);
        assert_eq!(vgg.layers[13].in_ch, 25088);
        assert!(vgg.layers.iter().all(|l| l.groups == 1));
    }

    impl Layer {
        fn matrices_shape(&self) -> (usize, usize, usize) {
            (self.groups, self.fan_in(), self.out_ch / self.groups)
        }
    }

    #[test]
    fn unknown_name_lists_builtins() {
        let e = builtin("alexnet", 0).unwrap_err().to_string();
        for n in BUILTIN_NAMES {
            assert!(e.contains(n), "{e}");
        }
    }

    #[test]
    fn synthetic_weights_laplace_he() {
        let t = std::time::Instant::now();
        let net = builtin("resnet50", 7).unwrap();
        eprintln!("resnet50 synthesis: {:?}", t.elapsed());
        assert!(
            net.layers
                .iter()
                .all(|l| l.weights.len() == l.num_weights())
        );
        // Deterministic, and layers differ.
        let again = builtin("resnet50", 7).unwrap();
        assert_eq!(net.layers[5].weights, again.layers[5].weights);
        let other = builtin("resnet50", 8).unwrap();
        assert_ne!(net.layers[5].weights, other.layers[5].weights);
        assert_ne!(net.layers[1].weights[..64], net.layers[2].weights[..64]);
        // Statistics of a large layer: mean 0, std sqrt(2/fan_in),
        // Laplace mean |w| = b = std / sqrt(2).
        let l = net
            .layers
            .iter()
            .find(|l| l.name == "layer4.0.conv2")
            .unwrap();
        let n = l.weights.len() as f64;
        let mean = l.weights.iter().map(|&w| w as f64).sum::<f64>() / n;
        let var = l
            .weights
            .iter()
            .map(|&w| (w as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let mad = l.weights.iter().map(|&w| (w as f64).abs()).sum::<f64>() / n;
        let std = (2.0 / l.fan_in() as f64).sqrt();
        assert!(mean.abs() < 0.01 * std, "mean {mean}");
        assert!(
            (var.sqrt() / std - 1.0).abs() < 0.01,
            "std {} vs {std}",
            var.sqrt()
        );
        assert!(
            (mad / (std / 2f64.sqrt()) - 1.0).abs() < 0.01,
            "mean |w| {mad}"
        );
    }
}
