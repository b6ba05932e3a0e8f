//! Importer tests: the vendored ppocr model, malformed input, and small
//! hand-built models covering each weight layer layout.

use super::proto::*;
use super::*;
use crate::nets::LayerKind;
use prost::Message;

fn model_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ppocr_mobile_v2_cls.onnx")
}

#[test]
fn ppocr_cls_model() {
    let net = load_onnx_with_input(&model_path(), &[3, 48, 192]).unwrap();
    assert_eq!(net.name, "ppocr_mobile_v2_cls");
    // Cross-checked with the `onnx` Python package: 53 Conv + 1 MatMul,
    // 124,072 weights in the Conv / MatMul weight tensors.
    assert_eq!(net.layers.len(), 54);
    assert_eq!(net.total_weights(), 124_072);
    let fc: Vec<_> = net
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::Fc)
        .collect();
    assert_eq!(fc.len(), 1);
    assert_eq!((fc[0].in_ch, fc[0].out_ch, fc[0].vectors), (200, 2, 1));
    assert_eq!(net.count_kind(LayerKind::Depthwise), 11);
    assert_eq!(net.count_kind(LayerKind::Grouped), 0);
    assert!(
        net.layers
            .iter()
            .all(|l| l.weights.len() == l.num_weights())
    );
    // The stem: 3x3 stride 2 on 48x192 -> 24x96.
    let l0 = &net.layers[0];
    assert_eq!(
        (l0.in_ch, l0.out_ch, l0.kh, l0.kw, l0.vectors),
        (3, 8, 3, 3, 24 * 96)
    );
    // Depthwise 3x3 stride (2,1) -> 12x96.
    let dw = net
        .layers
        .iter()
        .find(|l| l.kind == LayerKind::Depthwise)
        .unwrap();
    assert_eq!(
        (dw.groups, dw.in_ch, dw.out_ch, dw.vectors),
        (8, 8, 8, 12 * 96)
    );
    assert_eq!(dw.matrices().len(), 8);
    // SE convs run on a 1x1 map.
    assert!(net.layers.iter().filter(|l| l.vectors == 1).count() == 2 * 9 + 1);
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
    // Output pixels per Conv, from onnx.shape_inference with a fixed
    // 1x3x48x192 input (independent cross-check), then the FC.
    let expect: [usize; 54] = [
        2304, 2304, 1152, 1, 1, 1152, 1152, 576, 576, 576, 576, 576, 576, 288, 1, 1, 288, 288, 288,
        1, 1, 288, 288, 288, 1, 1, 288, 288, 288, 1, 1, 288, 288, 288, 1, 1, 288, 288, 192, 1, 1,
        192, 192, 192, 1, 1, 192, 192, 192, 1, 1, 192, 192, 1,
    ];
    let got: Vec<usize> = net.layers.iter().map(|l| l.vectors).collect();
    assert_eq!(got, expect);
    assert_eq!(net.total_vectors(), 17_587);
    // Weight values (numbers from numpy on the same file).
    let abs_sum: f64 = net
        .layers
        .iter()
        .flat_map(|l| &l.weights)
        .map(|&w| (w as f64).abs())
        .sum();
    assert!(
        (abs_sum - 24531.255263465326).abs() < 1e-6 * abs_sum,
        "{abs_sum}"
    );
    assert_eq!(l0.weights[..3], [-0.03783069, -0.16586682, -0.06707426]);
    assert_eq!(l0.weights[((7 * 3 + 2) * 3 + 2) * 3 + 1], 0.612134);
    // MatMul weight [in=200][out=2] -> ours [out][in].
    let fc = net.layers.last().unwrap();
    assert_eq!(fc.weights[200 + 199], -0.16783907);
    assert_eq!(fc.weights[5], 0.27224135);
    assert_eq!(fc.matrices()[0].at(199, 1), -0.16783907);
    eprintln!(
        "ppocr: {} layers, {} weights, conv {} dw {} fc {}, vectors {}",
        net.layers.len(),
        net.total_weights(),
        net.count_kind(LayerKind::Conv),
        net.count_kind(LayerKind::Depthwise),
        net.count_kind(LayerKind::Fc),
        net.total_vectors()
    );
    for l in &net.layers {
        eprintln!(
            "  {:10} {:?} {}->{} k{}x{} g{} v{}",
            l.name, l.kind, l.in_ch, l.out_ch, l.kh, l.kw, l.groups, l.vectors
        );
    }
}

#[test]
fn ppocr_dynamic_input_warns() {
    // Without an input shape the spatial dims are dynamic: weights and
    // kinds are still read, conv vectors fall back to 1 with warnings,
    // and the FC after global pooling is still known.
    let net = load_onnx(&model_path()).unwrap();
    assert_eq!(net.total_weights(), 124_072);
    assert!(!net.warnings.is_empty());
    assert!(
        net.warnings.iter().any(|w| w.contains("Conv@0")),
        "{:?}",
        net.warnings
    );
    assert_eq!(
        net.layers
            .iter()
            .find(|l| l.kind == LayerKind::Fc)
            .unwrap()
            .vectors,
        1
    );
}

#[test]
fn malformed_files() {
    let bytes = std::fs::read(model_path()).unwrap();
    for cut in [1, 10, 1000, bytes.len() / 2, bytes.len() - 1] {
        assert!(parse_onnx(&bytes[..cut], "cut").is_err(), "cut at {cut}");
    }
    assert!(
        parse_onnx(&[], "empty")
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    let mut rng = crate::testgen::Rng::new(0x1234_5678);
    for len in [1usize, 7, 64, 1000, 100_000] {
        for _ in 0..20 {
            let v: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            assert!(parse_onnx(&v, "random").is_err());
        }
    }
    assert!(load_onnx(Path::new("/nonexistent/model.onnx")).is_err());
}

#[test]
fn mutated_model_never_panics() {
    // Corrupt bytes of the real model: the importer may accept or reject
    // the result, but must not panic or hang.
    let bytes = std::fs::read(model_path()).unwrap();
    let mut rng = crate::testgen::Rng::new(1);
    let mut next = || rng.next_u64();
    let (mut ok, mut err) = (0, 0);
    let iters = std::env::var("SME_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    for _ in 0..iters {
        let mut v = bytes.clone();
        for _ in 0..1 + next() % 8 {
            let i = (next() % v.len() as u64) as usize;
            v[i] = next() as u8;
        }
        if next() % 4 == 0 {
            v.truncate((next() % v.len() as u64) as usize);
        }
        match parse_onnx_with_input(&v, "m", &[3, 48, 192]) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    eprintln!("mutated models: {ok} accepted, {err} rejected");
}

fn tensor(name: &str, dims: &[i64], data: Vec<f32>, raw: bool) -> TensorProto {
    let mut t = TensorProto {
        dims: dims.to_vec(),
        data_type: Some(1),
        name: Some(name.into()),
        ..Default::default()
    };
    if raw {
        t.raw_data = Some(data.iter().flat_map(|x| x.to_le_bytes()).collect());
    } else {
        t.float_data = data;
    }
    t
}
fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: Some(name.into()),
        op_type: Some(op.into()),
        attribute: attrs,
        domain: None,
    }
}
fn ai(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(i),
        r#type: Some(2),
        ..Default::default()
    }
}
fn ais(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        ints: v.to_vec(),
        r#type: Some(7),
        ..Default::default()
    }
}
fn input(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            dim_value: *d,
            dim_param: if d.is_none() { Some("N".into()) } else { None },
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeTensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}
fn seq(n: usize) -> Vec<f32> {
    (0..n).map(|x| x as f32).collect()
}

/// x[N,2,8,8] -> Conv(4x2x3x3, stride 2, pad 1, initializer) -> 4x4x4
/// -> Flatten -> Gemm(B [64,5], transB=0) -> MatMul(B [5,3] via Constant).
fn tiny_model() -> ModelProto {
    let conv = node(
        "Conv",
        "",
        &["x", "w_conv"],
        &["c"],
        vec![
            ais("strides", &[2, 2]),
            ais("pads", &[1, 1, 1, 1]),
            ais("kernel_shape", &[3, 3]),
        ],
    );
    let relu = node("Relu", "r", &["c"], &["cr"], vec![]);
    let flat = node("Flatten", "f", &["cr"], &["fl"], vec![ai("axis", 1)]);
    let gemm = node(
        "Gemm",
        "fc1",
        &["fl", "w_gemm", "b_gemm"],
        &["g"],
        vec![ai("transB", 0)],
    );
    let cst = node(
        "Constant",
        "k",
        &[],
        &["w_mm"],
        vec![AttributeProto {
            name: Some("value".into()),
            t: Some(tensor("", &[5, 3], seq(15), true)),
            r#type: Some(4),
            ..Default::default()
        }],
    );
    let mm = node("MatMul", "fc2", &["g", "w_mm"], &["y"], vec![]);
    ModelProto {
        ir_version: Some(8),
        graph: Some(GraphProto {
            node: vec![conv, relu, flat, cst, gemm, mm],
            name: Some("tiny".into()),
            initializer: vec![
                tensor("w_conv", &[4, 2, 3, 3], seq(72), false),
                tensor("w_gemm", &[64, 5], seq(320), true),
                tensor("b_gemm", &[5], vec![0.0; 5], false),
            ],
            input: vec![input("x", &[None, Some(2), Some(8), Some(8)])],
            output: vec![],
            value_info: vec![],
        }),
    }
}

#[test]
fn tiny_model_layouts() {
    let bytes = tiny_model().encode_to_vec();
    let net = parse_onnx(&bytes, "tiny").unwrap();
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
    assert_eq!(net.layers.len(), 3);
    let c = &net.layers[0];
    assert_eq!(c.name, "Conv_0");
    assert_eq!(
        (c.kind, c.in_ch, c.out_ch, c.kh, c.kw, c.groups, c.vectors),
        (LayerKind::Conv, 2, 4, 3, 3, 1, 16)
    );
    assert_eq!(c.weights, seq(72));
    let g = &net.layers[1];
    assert_eq!(
        (g.name.as_str(), g.kind, g.in_ch, g.out_ch, g.vectors),
        ("fc1", LayerKind::Fc, 64, 5, 1)
    );
    // B [in=64][out=5] stored value i*5+o -> ours [out][in]
    assert_eq!(g.weights[3 * 64 + 10], (10 * 5 + 3) as f32);
    let m = &g.matrices()[0];
    assert_eq!((m.rows, m.cols), (64, 5));
    assert_eq!(m.at(10, 3), (10 * 5 + 3) as f32);
    let mm = &net.layers[2];
    assert_eq!(
        (mm.name.as_str(), mm.in_ch, mm.out_ch, mm.vectors),
        ("fc2", 5, 3, 1)
    );
    assert_eq!(mm.weights[2 * 5 + 4], (4 * 3 + 2) as f32);
    assert_eq!(net.total_weights(), 72 + 320 + 15);
}

#[test]
fn tiny_model_variants() {
    // transB = 1: weight used as stored ([out][in]).
    let mut m = tiny_model();
    let g = m.graph.as_mut().unwrap();
    g.node[4].attribute = vec![ai("transB", 1)];
    g.initializer[1] = tensor("w_gemm", &[5, 64], seq(320), false);
    let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
    assert_eq!(net.layers[1].weights, seq(320));
    assert_eq!((net.layers[1].in_ch, net.layers[1].out_ch), (64, 5));

    // Depthwise / grouped detection.
    let mut m = tiny_model();
    let g = m.graph.as_mut().unwrap();
    g.node[0].attribute.push(ai("group", 2));
    g.initializer[0] = tensor("w_conv", &[4, 1, 3, 3], seq(36), false);
    let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
    assert_eq!(
        (
            net.layers[0].kind,
            net.layers[0].groups,
            net.layers[0].in_ch
        ),
        (LayerKind::Depthwise, 2, 2)
    );
    assert_eq!(net.layers[0].matrices().len(), 2);

    // Unknown spatial size: vectors fall back to 1 with a warning.
    let mut m = tiny_model();
    m.graph.as_mut().unwrap().input = vec![input("x", &[None, Some(2), None, None])];
    let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
    assert_eq!(net.layers[0].vectors, 1);
    assert!(net.warnings.iter().any(|w| w.contains("Conv_0")));
    // ... unless the caller gives the input shape.
    let net = parse_onnx_with_input(&m.encode_to_vec(), "t", &[2, 16, 16]).unwrap();
    assert_eq!(net.layers[0].vectors, 64);

    // Unsupported weighted op -> error naming the node.
    let mut m = tiny_model();
    m.graph.as_mut().unwrap().node[0].op_type = Some("ConvTranspose".into());
    let e = format!("{:#}", parse_onnx(&m.encode_to_vec(), "t").unwrap_err());
    assert!(
        e.contains("ConvTranspose_0") && e.contains("supported"),
        "{e}"
    );

    // Unsupported data type -> error naming node and type.
    let mut m = tiny_model();
    let t = &mut m.graph.as_mut().unwrap().initializer[0];
    t.data_type = Some(3);
    t.float_data.clear();
    t.raw_data = Some(vec![0; 72]);
    let e = format!("{:#}", parse_onnx(&m.encode_to_vec(), "t").unwrap_err());
    assert!(e.contains("Conv_0") && e.contains("INT8"), "{e}");

    // Weight data that does not match its dims -> error, no panic.
    let mut m = tiny_model();
    m.graph.as_mut().unwrap().initializer[1].raw_data = Some(vec![0; 12]);
    assert!(parse_onnx(&m.encode_to_vec(), "t").is_err());

    // Constant on the left of a MatMul: y = A X, A [out=3][in=4].
    let mut m = tiny_model();
    let g = m.graph.as_mut().unwrap();
    g.initializer
        .push(tensor("a_left", &[3, 4], seq(12), false));
    g.input.push(input("z", &[Some(1), Some(4), Some(7)]));
    g.node
        .push(node("MatMul", "left", &["a_left", "z"], &["zl"], vec![]));
    let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
    let l = net.layers.last().unwrap();
    assert_eq!((l.in_ch, l.out_ch, l.vectors), (4, 3, 7));
    assert_eq!(l.weights, seq(12));

    // A model without weight layers is rejected.
    let mut m = tiny_model();
    m.graph
        .as_mut()
        .unwrap()
        .node
        .retain(|n| n.op_type.as_deref() == Some("Relu"));
    assert!(parse_onnx(&m.encode_to_vec(), "t").is_err());
}

/// The error of importing `m` (with `input_shape` if given), `{:#}`-formatted.
fn import_err(m: &ModelProto, input_shape: Option<&[usize]>) -> String {
    let bytes = m.encode_to_vec();
    let r = match input_shape {
        Some(s) => parse_onnx_with_input(&bytes, "t", s),
        None => parse_onnx(&bytes, "t"),
    };
    format!("{:#}", r.expect_err("the model must be refused"))
}

#[test]
fn non_finite_weights_are_refused_by_name_layer_and_index() {
    // NaN in float_data of the conv weight.
    let mut m = tiny_model();
    m.graph.as_mut().unwrap().initializer[0].float_data[5] = f32::NAN;
    let e = import_err(&m, None);
    assert!(
        e.contains("Conv_0") && e.contains("w_conv") && e.contains("NaN at index 5"),
        "{e}"
    );
    // +inf in the raw data of the Gemm weight.
    let mut m = tiny_model();
    let mut data = seq(320);
    data[317] = f32::INFINITY;
    m.graph.as_mut().unwrap().initializer[1] = tensor("w_gemm", &[64, 5], data, true);
    let e = import_err(&m, None);
    assert!(
        e.contains("fc1") && e.contains("w_gemm") && e.contains("inf at index 317"),
        "{e}"
    );
    // -inf in a Constant node's FLOAT16 weight (0xfc00).
    let mut m = tiny_model();
    let t = m.graph.as_mut().unwrap().node[3].attribute[0]
        .t
        .as_mut()
        .unwrap();
    t.data_type = Some(10);
    let mut raw: Vec<u8> = (0..15u16).flat_map(|_| 0x3c00u16.to_le_bytes()).collect();
    raw[2 * 7..2 * 8].copy_from_slice(&0xfc00u16.to_le_bytes());
    t.raw_data = Some(raw);
    let e = import_err(&m, None);
    assert!(e.contains("fc2") && e.contains("-inf at index 7"), "{e}");
    // DOUBLE that overflows f32.
    let mut m = tiny_model();
    let t = &mut m.graph.as_mut().unwrap().initializer[0];
    t.data_type = Some(11);
    t.float_data.clear();
    t.double_data = (0..72).map(|i| if i == 70 { 1e300 } else { 0.5 }).collect();
    assert!(import_err(&m, None).contains("inf at index 70"));
    // Gemm alpha: not finite, or scaling a weight past f32.
    for (alpha, want) in [(f32::NAN, "alpha is NaN"), (1e38, "after scaling by alpha")] {
        let mut m = tiny_model();
        m.graph.as_mut().unwrap().node[4]
            .attribute
            .push(AttributeProto {
                name: Some("alpha".into()),
                f: Some(alpha),
                r#type: Some(1),
                ..Default::default()
            });
        let e = import_err(&m, None);
        assert!(e.contains("fc1") && e.contains(want), "{e}");
    }
}

#[test]
fn conv_and_pool_attributes_are_validated() {
    // (attribute edits of the Conv node, expected error fragment)
    let cases: Vec<(Vec<AttributeProto>, &str)> = vec![
        (vec![ais("strides", &[0, 2])], "strides[0] is 0: valid 1..="),
        (
            vec![ais("strides", &[2, -1])],
            "strides[1] is -1: valid 1..=",
        ),
        (
            vec![ais("strides", &[2])],
            "strides has 1 values [2]: need 2",
        ),
        (
            vec![ais("strides", &[1 << 40, 1])],
            "strides[0] is 1099511627776",
        ),
        (vec![ais("dilations", &[1, 0])], "dilations[1] is 0"),
        (vec![ais("dilations", &[1, 1, 1])], "dilations has 3 values"),
        (
            vec![ais("pads", &[1, 1])],
            "pads has 2 values [1, 1]: need 4",
        ),
        (
            vec![ais("pads", &[1, 1, -1, 1])],
            "pads[2] is -1: valid 0..=",
        ),
        (
            vec![ais("kernel_shape", &[5, 5])],
            "kernel_shape [5, 5] disagrees with the weight's kernel [3, 3]",
        ),
        (
            vec![ais("kernel_shape", &[3])],
            "kernel_shape [3] disagrees",
        ),
        (vec![ai("group", 3)], "not divisible by group 3"),
        (vec![ai("group", 0)], "group is 0: valid 1..=4"),
        (vec![ai("group", -2)], "group is -2"),
        (vec![ai("group", 1 << 40)], "group is 1099511627776"),
        // group 2 makes the weight [4, 2, 3, 3] expect 4 input channels; x has 2.
        (vec![ai("group", 2)], "input has 2 channels but the weight"),
        (
            vec![AttributeProto {
                name: Some("auto_pad".into()),
                s: Some(b"SAME_MIDDLE".to_vec()),
                r#type: Some(3),
                ..Default::default()
            }],
            "auto_pad `SAME_MIDDLE`: valid NOTSET",
        ),
        (vec![ai("ceil_mode", 7)], "ceil_mode is 7"),
        (
            vec![ais("pads", &[0, 0, 0, 0]), ais("dilations", &[8, 8])],
            "too small for kernel 3 with dilation 8",
        ),
    ];
    for (attrs, want) in &cases {
        for known_input in [true, false] {
            // These two need the input's size.
            if !known_input && (want.contains("input has") || want.contains("too small")) {
                continue;
            }
            let mut m = tiny_model();
            let g = m.graph.as_mut().unwrap();
            for a in attrs {
                g.node[0].attribute.retain(|b| b.name != a.name);
                g.node[0].attribute.push(a.clone());
            }
            if !known_input {
                g.input = vec![input("x", &[None, None, None, None])];
            }
            let e = import_err(&m, None);
            assert!(
                e.contains("Conv_0") && e.contains(want),
                "{want} (input known: {known_input}): {e}"
            );
        }
    }
    // Pools: kernel_shape required, strides checked.
    let pool = |attrs: Vec<AttributeProto>| {
        let mut m = tiny_model();
        let g = m.graph.as_mut().unwrap();
        g.node[1] = node("MaxPool", "mp", &["c"], &["cr"], attrs);
        m
    };
    assert!(import_err(&pool(vec![]), None).contains("MaxPool has no kernel_shape"));
    let e = import_err(
        &pool(vec![ais("kernel_shape", &[2, 2]), ais("strides", &[0, 0])]),
        None,
    );
    assert!(e.contains("mp") && e.contains("strides[0] is 0"), "{e}");
    let e = import_err(&pool(vec![ais("kernel_shape", &[0, 2])]), None);
    assert!(e.contains("kernel size 0"), "{e}");
    // A valid pool still imports: 4x4 -> 2x2 before the Flatten (Gemm then mismatches
    // only in the warning-free shape sense; the layer count is unchanged).
    let mut m = pool(vec![ais("kernel_shape", &[1, 1])]);
    m.graph.as_mut().unwrap().node[1]
        .attribute
        .push(ais("strides", &[1, 1]));
    assert_eq!(parse_onnx(&m.encode_to_vec(), "t").unwrap().layers.len(), 3);
}

#[test]
fn huge_and_control_node_names_are_cut() {
    let mut m = tiny_model();
    let g = m.graph.as_mut().unwrap();
    g.node[4].name = Some("g".repeat(100_000));
    g.node[5].name = Some("a\u{1b}[2Jb".into());
    let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
    assert!(net.layers[1].name.len() < 60 && net.layers[1].name.ends_with("..._4"));
    assert_eq!(net.layers[2].name, "a\\u{1b}[2Jb_5");
}

#[test]
fn absurd_shapes_are_refused() {
    let m = tiny_model();
    // The issue's example: 3 x 3e9 x 3e9 would give 2.25e18 vectors a layer.
    let e = import_err(&m, Some(&[3, 3_000_000_000, 3_000_000_000]));
    assert!(e.contains("dimension 2 is 3000000000: valid 1..="), "{e}");
    // Each dimension fits, the element count does not.
    let e = import_err(&m, Some(&[2, 1 << 24, 1 << 24]));
    assert!(e.contains("elements in all, more than the limit"), "{e}");
    // Elements fit, a layer's vectors do not (stride 2: 70000^2 > 2^32).
    let e = import_err(&m, Some(&[2, 140_000, 140_000]));
    assert!(
        e.contains("Conv_0") && e.contains("input vectors per inference, more than the limit"),
        "{e}"
    );
    // usize dims beyond i64 do not wrap into valid ones.
    let e = import_err(&m, Some(&[2, usize::MAX, 8]));
    assert!(e.contains("valid 1..="), "{e}");
    // A declared graph input of absurd size.
    let mut m = tiny_model();
    m.graph.as_mut().unwrap().input = vec![input("x", &[None, Some(2), Some(1 << 40), Some(8)])];
    assert!(import_err(&m, None).contains("dimension 2 is 1099511627776"));
    // A lowered matrix too large: depthwise-like grouping of a huge channel count
    // (block-diagonal lowering would need 9 x 65536^2 cells).
    let mut m = tiny_model();
    let g = m.graph.as_mut().unwrap();
    g.node[0].attribute.push(ai("group", 65536));
    g.initializer[0] = tensor("w_conv", &[65536, 1, 3, 3], vec![0.5; 9 * 65536], true);
    g.input = vec![input("x", &[None, Some(65536), Some(8), Some(8)])];
    let e = import_err(&m, None);
    assert!(e.contains("exceeds the limit of 1073741824 cells"), "{e}");
}

mod fuzz {
    //! Mutated valid models (byte flips, truncation, chunk swaps and
    //! structural field swaps) never panic and fail with a named error.
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Mutation {
        Flip(usize, u8),
        Set(usize, u8),
        Truncate(usize),
        SwapChunks(usize, usize, usize),
        /// A varint length or value of 2^60-ish at a position.
        BigVarint(usize),
        Duplicate(usize, usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::Flip(p, b)),
            (any::<usize>(), any::<u8>()).prop_map(|(p, v)| Mutation::Set(p, v)),
            any::<usize>().prop_map(Mutation::Truncate),
            (any::<usize>(), any::<usize>(), 1usize..64)
                .prop_map(|(a, b, n)| Mutation::SwapChunks(a, b, n)),
            any::<usize>().prop_map(Mutation::BigVarint),
            (any::<usize>(), 1usize..256).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        ]
    }

    fn apply(v: &mut Vec<u8>, m: &Mutation) {
        if v.is_empty() {
            return;
        }
        let n = v.len();
        match *m {
            Mutation::Flip(p, b) => v[p % n] ^= 1 << b,
            Mutation::Set(p, x) => v[p % n] = x,
            Mutation::Truncate(p) => v.truncate(p % n),
            Mutation::SwapChunks(a, b, len) => {
                let len = len.min(n / 2);
                let (a, b) = (a % (n - len + 1), b % (n - len + 1));
                if a + len <= b || b + len <= a {
                    for i in 0..len {
                        v.swap(a + i, b + i);
                    }
                }
            }
            Mutation::BigVarint(p) => {
                let p = p % n;
                v.splice(p..p, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
            }
            Mutation::Duplicate(a, len) => {
                let a = a % n;
                let chunk: Vec<u8> = v[a..(a + len).min(n)].to_vec();
                v.splice(a..a, chunk);
            }
        }
    }

    /// Structural swaps on the decoded model: dims, data types, attributes
    /// and inputs moved between nodes and tensors.
    #[derive(Clone, Debug)]
    enum Field {
        Dims(usize, Vec<i64>),
        DataType(usize, i32),
        SwapAttrs(usize, usize),
        SwapInputs(usize, usize),
        AttrInts(usize, usize, Vec<i64>),
        AttrInt(usize, usize, i64),
    }

    fn field() -> impl Strategy<Value = Field> {
        let dim = prop_oneof![
            -2i64..10,
            Just(i64::MAX),
            Just(i64::MIN),
            Just(1 << 40),
            Just(1 << 31)
        ];
        prop_oneof![
            (any::<usize>(), proptest::collection::vec(dim.clone(), 0..6))
                .prop_map(|(i, d)| Field::Dims(i, d)),
            (any::<usize>(), -1i32..25).prop_map(|(i, t)| Field::DataType(i, t)),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Field::SwapAttrs(a, b)),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Field::SwapInputs(a, b)),
            (
                any::<usize>(),
                any::<usize>(),
                proptest::collection::vec(dim.clone(), 0..6)
            )
                .prop_map(|(n, a, v)| Field::AttrInts(n, a, v)),
            (any::<usize>(), any::<usize>(), dim).prop_map(|(n, a, v)| Field::AttrInt(n, a, v)),
        ]
    }

    fn apply_field(m: &mut ModelProto, f: &Field) {
        let g = m.graph.as_mut().unwrap();
        let (nn, ni) = (g.node.len(), g.initializer.len());
        match f {
            Field::Dims(i, d) if ni > 0 => g.initializer[i % ni].dims = d.clone(),
            Field::DataType(i, t) if ni > 0 => g.initializer[i % ni].data_type = Some(*t),
            Field::SwapAttrs(a, b) if nn > 0 => {
                let t = g.node[a % nn].attribute.clone();
                g.node[a % nn].attribute = std::mem::replace(&mut g.node[b % nn].attribute, t);
            }
            Field::SwapInputs(a, b) if nn > 0 => {
                let t = g.node[a % nn].input.clone();
                g.node[a % nn].input = std::mem::replace(&mut g.node[b % nn].input, t);
            }
            Field::AttrInts(n, a, v) if nn > 0 => {
                let node = &mut g.node[n % nn];
                if !node.attribute.is_empty() {
                    let k = a % node.attribute.len();
                    node.attribute[k].ints = v.clone();
                }
            }
            Field::AttrInt(n, a, v) if nn > 0 => {
                let node = &mut g.node[n % nn];
                if !node.attribute.is_empty() {
                    let k = a % node.attribute.len();
                    node.attribute[k].i = Some(*v);
                }
            }
            _ => {}
        }
    }

    /// An import either succeeds with a network inside the limits or fails
    /// with a non-empty message naming the model.
    fn check(bytes: &[u8], shape: Option<&[usize]>) {
        let r = match shape {
            Some(s) => parse_onnx_with_input(bytes, "fuzzed", s),
            None => parse_onnx(bytes, "fuzzed"),
        };
        match r {
            Ok(net) => {
                net.check_limits().unwrap();
                for l in &net.layers {
                    assert!(l.weights.iter().all(|w| w.is_finite()));
                    assert_eq!(l.weights.len(), l.num_weights());
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                assert!(msg.contains("fuzzed"), "{msg}");
                assert!(msg.len() < 4096, "message too long: {} bytes", msg.len());
            }
        }
    }

    fn vendored() -> &'static [u8] {
        static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        BYTES.get_or_init(|| std::fs::read(model_path()).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn mutated_tiny_models(muts in proptest::collection::vec(mutation(), 1..6),
                               fields in proptest::collection::vec(field(), 0..4),
                               shape in proptest::option::of(proptest::collection::vec(1usize..64, 1..5))) {
            let mut m = tiny_model();
            for f in &fields {
                apply_field(&mut m, f);
            }
            let mut bytes = m.encode_to_vec();
            check(&bytes, shape.as_deref());
            for mu in &muts {
                apply(&mut bytes, mu);
            }
            check(&bytes, shape.as_deref());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn mutated_vendored_model(muts in proptest::collection::vec(mutation(), 1..4)) {
            let mut bytes = vendored().to_vec();
            for mu in &muts {
                apply(&mut bytes, mu);
            }
            check(&bytes, Some(&[3, 48, 192]));
        }
    }
}
/// A bit flip found by `fuzz::mutated_tiny_models` turned fc1's weight into
/// a tensor of a few thousand dims; the error listed all of them (4263
/// bytes). Messages now show at most 8 dims.
#[test]
fn thousands_of_dims_give_a_short_message() {
    let mut bytes = tiny_model().encode_to_vec();
    let n = bytes.len();
    bytes[12979337553478561178usize % n] ^= 1 << 6;
    let e = parse_onnx(&bytes, "fuzzed").unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("fuzzed") && msg.contains("dims)]"), "{msg}");
    assert!(msg.len() < 512, "{} bytes: {msg}", msg.len());
    assert_eq!(tensor::dims_str(&[1, 2]), "[1, 2]");
    assert_eq!(
        tensor::dims_str(&[0; 9]),
        "[0, 0, 0, 0, 0, 0, 0, 0, ... (9 dims)]"
    );
}
