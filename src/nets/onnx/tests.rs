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
