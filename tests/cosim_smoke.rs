#![cfg(feature = "cosim")]
use sme::cosim::{Tile, MODELS};
use sme::program::*;

#[test]
fn smoke_identity() {
    for m in MODELS {
        let mut t = Tile::new(m.name).unwrap();
        let cfg = t.config().clone();
        let p = &cfg.params;
        // one op: window 0, row0 cell(0,0)=1 driven by input 0 -> output 0
        let mut xb = Crossbar::empty(&cfg);
        xb.cells[0] = 1;
        let mut inputs = vec![None; p.ou_rows as usize];
        inputs[0] = Some(0);
        let mut outputs = vec![None; p.ou_cols as usize];
        outputs[0] = Some(0);
        xb.ops.push(Op { row_window: 0, col_window: 0, inputs, outputs, shift: 0, negative: false });
        let prog = TileProgram { xbars: vec![xb] };
        prog.validate(&cfg).unwrap();
        t.load_program(&prog);
        let x = vec![cfg.max_act(); p.inputs as usize];
        let (y, cyc) = t.execute(&x);
        let g = sme::golden::execute(&cfg, &prog, &x);
        println!("{}: y0 {} golden {} cycles {} model {}", m.name, y[0], g[0], cyc, sme::golden::cycles(&cfg, &prog));
        assert_eq!(y, g);
    }
}
